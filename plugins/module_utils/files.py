# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private state files (a machine's marks, the tunnels' records): directories of mode 0700,
files of mode 0600 written atomically, so a reader sees the old content or the new, never
half of one."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile


def read(path):
    """The file's text, or None when it cannot be read."""
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def write_private(path, text):
    """Write ``text`` to ``path`` atomically, mode 0600."""
    descriptor, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix='.' + os.path.basename(path))
    try:
        with os.fdopen(descriptor, 'w') as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def make_private_dir(path):
    """``path`` and its missing parents, the last of mode 0700 when this call makes it."""
    if not os.path.isdir(path):
        os.makedirs(path, 0o700, exist_ok=True)
        os.chmod(path, 0o700)
