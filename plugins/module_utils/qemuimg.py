# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an image file really is, from its own header as ``qemu-img info`` reads it, and
whether it is self-contained: an image that names another file (a qcow2 backing file or an
external data file) would let a guest read that file of the host through its disk."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess

QEMU_IMG = 'qemu-img'
TIMEOUT = 120


class ImageError(Exception):
    """An image that cannot be used as it is: the message says why."""


def info(path, qemu_img=QEMU_IMG, timeout=TIMEOUT):
    """``qemu-img info --output=json`` of one local file, its format probed from its header.
    ``-U`` reads it even while another process holds it; without ``--backing-chain`` qemu-img
    neither opens nor follows a backing file, it only reports the name the header holds."""
    if not os.path.isabs(path):
        raise ImageError('%s is not an absolute path' % path)  # "proto:..." would be a qemu protocol
    argv = [qemu_img, 'info', '-U', '--output=json', path]
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError) as error:
        raise ImageError('qemu-img could not read %s: %s' % (os.path.basename(path), error))
    if proc.returncode != 0:
        raise ImageError('qemu-img could not read %s: %s' % (os.path.basename(path),
                                                             (proc.stderr or proc.stdout).strip()[-300:]))
    try:
        found = json.loads(proc.stdout)
    except ValueError:
        found = None
    if not isinstance(found, dict) or not isinstance(found.get('format'), str):
        raise ImageError('qemu-img info gave no image format for %s' % os.path.basename(path))
    return found


def external_files(found):
    """The other files an image's header names, as phrases ("a backing file '/etc/x'")."""
    named = []
    backing = found.get('backing-filename') or found.get('full-backing-filename')
    if backing:
        named.append('a backing file %r' % backing)
    specific = found.get('format-specific')
    data = specific.get('data') if isinstance(specific, dict) else None
    if isinstance(data, dict) and data.get('data-file'):
        named.append('an external data file %r' % data['data-file'])
    return named


def check_self_contained(path, claimed=None, qemu_img=QEMU_IMG):
    """Refuse an image that names another file, or (with ``claimed``) whose real format is not
    the one claimed. Returns qemu-img's info."""
    found = info(path, qemu_img)
    if claimed is not None and found['format'] != claimed:
        raise ImageError('it is said to be %s but its header is %s' % (claimed, found['format']))
    named = external_files(found)
    if named:
        raise ImageError('its %s header names %s: %s' % (
            found['format'], ' and '.join(named),
            'an image must be self-contained (a guest could read that file of this host)'))
    return found
