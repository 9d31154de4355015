# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How far a box download has got, passed from the module to its action plugin on the
controller through a small file: the module writes (``Writer``), the action plugin reads and
says it (``report``). A module cannot print while it runs; this is how a long download is
seen while it goes on."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

# The module rewrites the file at most this often (seconds).
WRITE_EVERY = 1.0
# A report reads at most this much of the file (it holds one small JSON object).
READ_LIMIT = 4096
MIB = 1024.0 * 1024


class Writer(object):
    """Writes ``{"done", "size"}`` (bytes so far, and the Content-Length if known) to ``path`` (a file the action plugin made), at most
    once every WRITE_EVERY seconds. Progress is a courtesy: a file that cannot be written
    (a module run as another user) is left alone, and the download goes on."""

    def __init__(self, path, clock=time.monotonic):
        self.path = path
        self.clock = clock
        self.written = None

    def __call__(self, url, done, size):  # pylint: disable=unused-argument
        # the URL is never written: it may hold a token
        now = self.clock()
        if self.written is not None and now - self.written < WRITE_EVERY and done != size:
            return
        self.written = now
        try:
            with open(self.path, 'w') as handle:  # the action plugin's file, kept as it made it
                handle.write(json.dumps(dict(done=done, size=size)))
        except (IOError, OSError):
            pass  # the next write may succeed


def report(path):
    """What ``path`` says of the download, as a line for the user (None when nothing is
    downloading, or the file cannot be read or is half written)."""
    try:
        with open(path) as handle:
            state = json.loads(handle.read(READ_LIMIT))
    except (IOError, OSError, ValueError):
        return None
    if not isinstance(state, dict):
        return None
    done, size = state.get('done'), state.get('size')
    if not _count(done):
        return None
    if _count(size) and size > 0:
        return 'downloaded %.1f of %.1f MiB (%d%%)' % (done / MIB, size / MIB, done * 100 // size)
    return 'downloaded %.1f MiB' % (done / MIB)


def _count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
