# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Vagrant box server on 127.0.0.1, as the unit and e2e tests use it for ``VAGRANT_SERVER_URL``:
GET /<owner>/<box> answers the catalog of the box files it serves by version (libvirt builds
for amd64), each file at /<owner>/<box>/<version>.box, at ``rate`` bytes a second when one is
given (a slow server, for download progress); every request is kept (path, Accept)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class CatalogServer(object):
    """``boxes``: {name: {version: box file path}}; more may be added to it while it serves."""

    def __init__(self, boxes, rate=None):
        self.boxes = boxes
        self.rate = rate
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                server.requests.append((self.path, self.headers.get('Accept')))
                name, version = self.path[1:], None
                if name not in server.boxes and name.endswith('.box'):
                    name, version = name[:-len('.box')].rsplit('/', 1)
                files = server.boxes.get(name)
                if files is None or version is not None and version not in files:
                    self.send_error(404)
                    return
                if version is None:
                    self.reply(json.dumps(server.catalog(name)).encode())
                    return
                with open(files[version], 'rb') as handle:
                    handle.seek(0, 2)
                    self.send_response(200)
                    self.send_header('Content-Length', str(handle.tell()))
                    self.end_headers()
                    handle.seek(0)
                    if server.rate is None:
                        shutil.copyfileobj(handle, self.wfile)
                        return
                    for block in iter(lambda: handle.read(max(server.rate // 10, 1)), b''):
                        self.wfile.write(block)
                        time.sleep(0.1)

            def reply(self, body):
                self.send_response(200)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d' % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def catalog(self, name):
        return dict(name=name, versions=[dict(version=version, providers=[dict(
            name='libvirt', url='%s/%s/%s.box' % (self.url, name, version), architecture='amd64')])
            for version in sorted(self.boxes[name])])

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
