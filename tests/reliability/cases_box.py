# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Boxes are untrusted input (issue 15, classes 4, 5 and 11): crafted box files whose
metadata.json names odd disks or whose images name a host file (the backing-file attack),
catalogs of the wrong shape or with paths for versions, HTTP sources that stall or fail, and
a box volume that an overlay chain in the pool still uses. Each must be refused naming the
option, leaving the pool and the box store as they were.

The crafted files are made by ``prepare()`` under WORK (after the suite's cleanup); the
HTTP sources come from a small server on 127.0.0.1 in the test process (the lab's network
namespace), started when the cases are listed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import json
import os
import subprocess
import tarfile
import threading
import time

from harness import BOX_STORE, URI, WORK  # pylint: disable=import-error

CRAFT = WORK + '/crafted-boxes'
HOST_FILE = '/etc/hostname'
TIMEOUT = 2      # the module's download timeout in the stalling cases
STALL = 30       # how long the server stalls (longer than TIMEOUT: the module must give up first)
IN_USE_BOX = 'vlt-rel/inuse'
DEEP_BOX = 'vlt-rel/deep'

# the images prepare() makes: name -> qemu-img create arguments (before the file and size)
IMAGES = {
    'plain.qcow2': ['-f', 'qcow2'],
    'plain.raw': ['-f', 'raw'],
    'backed-raw.qcow2': ['-f', 'qcow2', '-b', HOST_FILE, '-F', 'raw'],
    'backed-qcow2.qcow2': ['-f', 'qcow2', '-b', CRAFT + '/plain.qcow2', '-F', 'qcow2'],
    'backed-json.qcow2': ['-u', '-f', 'qcow2', '-b', 'json:{"file.filename": "%s"}' % HOST_FILE, '-F', 'raw'],
    'backed-relative.qcow2': ['-u', '-f', 'qcow2', '-b', 'box.img', '-F', 'raw'],
    'backed-nbd.qcow2': ['-u', '-f', 'qcow2', '-b', 'nbd://127.0.0.1:10809/x', '-F', 'raw'],
    'data-file.qcow2': ['-f', 'qcow2', '-o', 'data_file=%s/data-file.raw' % CRAFT],
}

# crafted boxes: stem -> (metadata.json content, {member: image of IMAGES})
V1_BACKED = {'box.img': 'backed-raw.qcow2'}
PLAIN = {'box.img': 'plain.qcow2'}
ROOT_DISK = {'root.img': 'plain.qcow2'}
BOXES = {
    # the backing-file attack (class 5)
    'backed-says-raw': ({'format': 'raw'}, V1_BACKED),
    'backed-says-qcow2': ({'format': 'qcow2'}, V1_BACKED),
    'backed-no-format': ({}, V1_BACKED),
    'backed-by-qcow2': ({'format': 'qcow2'}, {'box.img': 'backed-qcow2.qcow2'}),
    'backed-json': ({'format': 'qcow2'}, {'box.img': 'backed-json.qcow2'}),
    'backed-relative': ({'format': 'qcow2'}, {'box.img': 'backed-relative.qcow2'}),
    'backed-nbd': ({'format': 'qcow2'}, {'box.img': 'backed-nbd.qcow2'}),
    'data-file': ({'format': 'qcow2'}, {'box.img': 'data-file.qcow2'}),
    'qcow2-says-raw': ({'format': 'raw'}, PLAIN),
    'raw-says-qcow2': ({'format': 'qcow2'}, {'box.img': 'plain.raw'}),
    'v2-backed': ({'disks': [{'name': 'root', 'path': 'root.img', 'format': 'qcow2'}]},
                  {'root.img': 'backed-raw.qcow2'}),
    'v2-second-backed': ({'disks': [{'path': 'root.img'}, {'name': 'data', 'path': 'data.img', 'format': 'raw'}]},
                         {'root.img': 'plain.qcow2', 'data.img': 'backed-raw.qcow2'}),
    # metadata.json naming odd disks (class 4)
    'disk-path-dotdot': ({'disks': [{'path': '../../../../etc/hostname'}]}, ROOT_DISK),
    'disk-path-absolute': ({'disks': [{'path': HOST_FILE}]}, ROOT_DISK),
    'disk-path-number': ({'disks': [{'path': 5}]}, ROOT_DISK),
    'disk-path-list': ({'disks': [{'path': ['root.img']}]}, ROOT_DISK),
    'disk-path-missing': ({'disks': [{'name': 'root'}]}, ROOT_DISK),
    'disk-path-newline': ({'disks': [{'path': 'root.img\n'}]}, ROOT_DISK),
    'disk-path-hidden': ({'disks': [{'path': '.root.img'}]}, ROOT_DISK),
    'disk-entry-string': ({'disks': ['root.img']}, ROOT_DISK),
    'disks-mapping': ({'disks': {'path': 'root.img'}}, ROOT_DISK),
    'disks-string': ({'disks': 'root.img'}, ROOT_DISK),
    'disk-name-dotdot': ({'disks': [{'path': 'root.img', 'name': '../../x'}]}, ROOT_DISK),
    'disk-name-newline': ({'disks': [{'path': 'root.img', 'name': 'root\n'}]}, ROOT_DISK),
    'disk-name-number': ({'disks': [{'path': 'root.img', 'name': 3}]}, ROOT_DISK),
    'disk-names-twice': ({'disks': [{'path': 'root.img'}, {'path': 'root.img', 'name': 'root'}]}, ROOT_DISK),
    'disk-format-vmdk': ({'disks': [{'path': 'root.img', 'format': 'vmdk'}]}, ROOT_DISK),
    'disk-format-number': ({'disks': [{'path': 'root.img', 'format': 2}]}, ROOT_DISK),
    'format-vmdk': ({'format': 'vmdk'}, PLAIN),
    'metadata-list': ([], PLAIN),
    'metadata-nested': ('[' * 100000, PLAIN),
}

GOOD_URL = 'file://%s/plain.box' % CRAFT  # a sound box: a catalog wrongly accepted would add it


def catalog(version='1.0', **provider):
    return {'name': 'vlt-rel/catalog', 'versions': [
        {'version': version, 'providers': [dict({'name': 'libvirt', 'url': GOOD_URL}, **provider)]}]}


# crafted catalogs (local files): stem -> (JSON document, what the refusal says)
CATALOGS = {
    'version-traversal': (catalog('1/../../x'), r"versions[0].version is '1/../../x'"),
    'version-absolute': (catalog('/tmp/vlt-rel-abs'), 'versions[0].version is'),
    'version-dotdot': (catalog('..'), "versions[0].version is '..'"),
    'version-newline': (catalog('1.0\n'), 'versions[0].version is'),
    'version-number': (catalog(1), 'versions[0].version is 1'),
    'version-missing': ({'versions': [{'providers': [{'name': 'libvirt', 'url': GOOD_URL}]}]},
                        'versions[0].version is None'),
    'catalog-list': ([catalog()], 'the catalog is list, not a mapping'),
    'versions-mapping': ({'versions': {'1.0': {}}}, 'versions is dict, not a list'),
    'version-entry-string': ({'versions': ['1.0']}, 'versions[0] is str, not a mapping'),
    'providers-string': ({'versions': [{'version': '1.0', 'providers': 'libvirt'}]},
                         'versions[0].providers is str, not a list'),
    'provider-list': ({'versions': [{'version': '1.0', 'providers': [['libvirt']]}]},
                      'versions[0].providers[0] is list, not a mapping'),
    'provider-name-number': (catalog(name=7), 'versions[0].providers[0].name is 7'),
    'provider-name-missing': ({'versions': [{'version': '1.0', 'providers': [{'url': GOOD_URL}]}]},
                              'versions[0].providers[0].name is None'),
    'url-missing': ({'versions': [{'version': '1.0', 'providers': [{'name': 'libvirt'}]}]},
                    'versions[0].providers[0].url is None'),
    'url-number': (catalog(url=42), 'versions[0].providers[0].url is 42'),
    'url-space': (catalog(url='http://127.0.0.1/a b.box'), 'without spaces or control characters'),
    'url-relative': (catalog(url='plain.box'), 'an http or https URL'),
    'checksum-type-unknown': (catalog(checksum_type='crc32', checksum='0' * 8), 'checksum_type is'),
    'checksum-number': (catalog(checksum_type='sha256', checksum=12345), 'checksum is 12345'),
    'checksum-not-hex': (catalog(checksum_type='sha256', checksum='g' * 64), '64 hex digits'),
    'architecture-traversal': (catalog(architecture='../../x'), 'architecture is'),
    'architecture-number': (catalog(architecture=64), 'architecture is 64'),
    'catalog-name-traversal': (dict(catalog(), name='../../etc'), 'catalog name'),
}

# what the HTTP server answers: path -> (bytes before stalling or closing, stall)
REMOTE = {
    '/stall.box': (b'HTTP/1.0 200 OK\r\nContent-Length: 1000000\r\n\r\n', True),
    '/stall-catalog.json': (b'HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{"versions": [', True),
    '/silent.box': (b'', True),
    '/missing.box': (b'HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n', False),
    '/short.box': (b'HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\nonly this', False),
    '/file-catalog.json': (b'HTTP/1.0 200 OK\r\n\r\n' + json.dumps(catalog(url='file:///etc/hostname')).encode(),
                           False),
    '/path-catalog.json': (b'HTTP/1.0 200 OK\r\n\r\n' + json.dumps(catalog(url=HOST_FILE)).encode(), False),
    '/traversal-catalog.json': (b'HTTP/1.0 200 OK\r\n\r\n' + json.dumps(catalog('1/../../x')).encode(), False),
    '/garbage-catalog.json': (b'HTTP/1.0 200 OK\r\n\r\n{"versions": [{', False),
}
_SERVER = []


def server_url():
    """The base URL of the suite's HTTP server on 127.0.0.1 (started once, a daemon thread)."""
    if not _SERVER:
        import socket  # pylint: disable=import-outside-toplevel
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(('127.0.0.1', 0))
        sock.listen(16)
        thread = threading.Thread(target=_serve, args=(sock,))
        thread.daemon = True
        thread.start()
        _SERVER.append('http://127.0.0.1:%d' % sock.getsockname()[1])
    return _SERVER[0]


def _serve(sock):
    while True:
        client, unused = sock.accept()
        worker = threading.Thread(target=_answer, args=(client,))
        worker.daemon = True
        worker.start()


def _answer(client):
    try:
        request = client.recv(65536).decode('latin-1')
        path = request.split(' ')[1] if request.count(' ') >= 2 else '/'
        data, stall = REMOTE.get(path, (b'HTTP/1.0 404 Not Found\r\n\r\n', False))
        client.sendall(data)
        if stall:
            time.sleep(STALL)
    except OSError:
        pass
    finally:
        client.close()


# -- made after the suite's cleanup ----------------------------------------------------------
def _tar(path, members):
    with tarfile.open(path, 'w') as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def prepare():
    """The crafted images, boxes and catalogs under CRAFT, and a box volume in the lab's
    `default` pool that an overlay chain uses (for state=absent)."""
    os.makedirs(CRAFT)
    for name in sorted(IMAGES, key=lambda n: n != 'plain.qcow2'):  # the backing of another first
        subprocess.run(['qemu-img', 'create', '-q'] + IMAGES[name] + [os.path.join(CRAFT, name), '1M'], check=True)
    for stem, (metadata, files) in dict(BOXES, plain=({'format': 'qcow2'}, PLAIN)).items():
        members = [('metadata.json', (metadata if isinstance(metadata, str) else
                                      json.dumps(dict(metadata, provider='libvirt') if isinstance(metadata, dict)
                                                 else metadata)).encode())]
        for member, image in sorted(files.items()):
            with open(os.path.join(CRAFT, image), 'rb') as handle:
                members.append((member, handle.read()))
        _tar(os.path.join(CRAFT, stem + '.box'), members + [('Vagrantfile', b'')])
    for stem, (document, unused) in CATALOGS.items():
        with open(os.path.join(CRAFT, stem + '.json'), 'w') as handle:
            json.dump(document, handle)
    _box_volumes_in_use()


def _box_volumes_in_use():
    """vlt-rel/inuse's box volume with an overlay and an overlay on that; vlt-rel/deep's with
    the same chain, reached only through the first overlay for the second."""
    import libvirt  # pylint: disable=import-outside-toplevel
    conn = libvirt.open(URI)
    try:
        pool = conn.storagePoolLookupByName('default')
        for box, overlays in ((IN_USE_BOX, ['vlt-rel-inuse-machine.qcow2']),
                              (DEEP_BOX, ['vlt-rel-deep-1.qcow2', 'vlt-rel-deep-2.qcow2'])):
            below = pool.createXML(_volume(box.replace('/', '-VAGRANTSLASH-') + '_vagrant_box_image_1.0_box.img'), 0)
            for name in overlays:
                below = pool.createXML(_volume(name, below.path()), 0)
    finally:
        conn.close()


def _volume(name, backing=None):
    return ("<volume><name>%s</name><capacity unit='MiB'>1</capacity><target><format type='qcow2'/></target>%s"
            "</volume>" % (name, "<backingStore><path>%s</path><format type='qcow2'/></backingStore>" % backing
                           if backing else ''))


# -- the cases -----------------------------------------------------------------------------
def cases():
    from cases import Case  # pylint: disable=import-error,import-outside-toplevel
    found = []
    base = dict(box_store=BOX_STORE, pool='default')
    for stem in sorted(BOXES):
        src = '%s/%s.box' % (CRAFT, stem)
        expect = _box_expectation(stem)
        found.append(Case('box_crafted_%s' % stem.replace('-', '_'), 'libvirt_box',
                          dict(base, name='vlt-rel/%s' % stem, src=src), 'src', src, *expect))
    # the same attack with an exact version, and through a local catalog
    src = '%s/backed-says-raw.box' % CRAFT
    found.append(Case('box_crafted_backed_versioned', 'libvirt_box',
                      dict(base, name='vlt-rel/backed-v', src=src, version='1.2.3'), 'src', "header is qcow2"))
    for stem in sorted(CATALOGS):
        path = '%s/%s.json' % (CRAFT, stem)
        found.append(Case('box_catalog_%s' % stem.replace('-', '_'), 'libvirt_box',
                          dict(base, name='vlt-rel/catalog', catalog=path), 'catalog', path, CATALOGS[stem][1]))
    web = server_url()
    remote = dict(base, name='vlt-rel/remote', timeout=TIMEOUT)
    found += [
        Case('box_http_stall_after_headers', 'libvirt_box', dict(remote, src=web + '/stall.box'), 'src',
             'cannot download %s/stall.box: no data for %d seconds' % (web, TIMEOUT)),
        Case('box_http_stall_catalog', 'libvirt_box', dict(remote, catalog=web + '/stall-catalog.json'), 'catalog',
             'cannot download %s/stall-catalog.json: no data for %d seconds' % (web, TIMEOUT)),
        Case('box_http_silent', 'libvirt_box', dict(remote, src=web + '/silent.box'), 'src',
             'cannot download %s/silent.box' % web),
        Case('box_http_404', 'libvirt_box', dict(remote, src=web + '/missing.box'), 'src',
             'cannot download %s/missing.box: HTTP 404' % web),
        Case('box_http_short', 'libvirt_box', dict(remote, src=web + '/short.box'), 'src',
             'ended after 9 of its 1000 bytes'),
        Case('box_http_refused', 'libvirt_box', dict(remote, src='http://127.0.0.1:9/vlt-rel.box'), 'src',
             'cannot download http://127.0.0.1:9/vlt-rel.box'),
        Case('box_http_catalog_file_url', 'libvirt_box', dict(remote, catalog=web + '/file-catalog.json'), 'catalog',
             'remote catalog may not name local files'),
        Case('box_http_catalog_host_path', 'libvirt_box', dict(remote, catalog=web + '/path-catalog.json'), 'catalog',
             'remote catalog may not name local files'),
        Case('box_http_catalog_traversal', 'libvirt_box', dict(remote, catalog=web + '/traversal-catalog.json'),
             'catalog', 'versions[0].version is'),
        Case('box_http_catalog_garbage', 'libvirt_box', dict(remote, catalog=web + '/garbage-catalog.json'),
             'catalog', 'not readable JSON'),
        Case('box_timeout_zero', 'libvirt_box', dict(remote, src=web + '/stall.box', timeout=0), 'timeout', '0',
             'greater than 0'),
    ]
    # class 11: a box volume that volumes in the pool still have in their backing chain
    found += [
        Case('box_absent_overlay_user', 'libvirt_box', dict(base, name=IN_USE_BOX, state='absent'), 'state',
             'box %s is in use' % IN_USE_BOX, 'default/vlt-rel-inuse-machine.qcow2', 'backing chain', 'force=true'),
        Case('box_absent_overlay_user_version', 'libvirt_box',
             dict(base, name=IN_USE_BOX, state='absent', version='1.0', remove_from_store=True), 'state',
             'vlt-rel-inuse-machine.qcow2'),
        Case('box_absent_overlay_chain', 'libvirt_box', dict(base, name=DEEP_BOX, state='absent'), 'state',
             'default/vlt-rel-deep-1.qcow2, default/vlt-rel-deep-2.qcow2'),
    ]
    return found


def _box_expectation(stem):
    """What the refusal of a crafted box says beyond the option and the file."""
    if stem in ('qcow2-says-raw', 'backed-says-raw'):
        return ('disk box (box.img)', 'said to be raw but its header is qcow2')
    if stem == 'raw-says-qcow2':
        return ('disk box (box.img)', 'said to be qcow2 but its header is raw')
    if stem == 'data-file':
        return ('disk box (box.img)', 'an external data file', 'self-contained')
    if stem == 'v2-backed':
        return ('disk root (root.img)', 'a backing file %r' % HOST_FILE)
    if stem == 'v2-second-backed':
        return ('disk data (data.img)', 'said to be raw but its header is qcow2')
    if stem.startswith('backed-'):
        return ('disk box (box.img)', 'a backing file', 'self-contained')
    return {'metadata-list': ('not for the libvirt provider',),
            'metadata-nested': ('no readable metadata.json',),
            'format-vmdk': ('metadata.json format is',),
            'disks-mapping': ('metadata.json disks is dict',),
            'disks-string': ('metadata.json disks is str',),
            'disk-entry-string': ('disks[0] is str',),
            'disk-names-twice': ('disks[1].name',),
            }.get(stem, ('metadata.json disks[0].%s is' % stem.split('-')[1],))
