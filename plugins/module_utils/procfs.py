# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What this host's ``/proc`` says about processes and sockets: a process's command line and
whether it exited, the TCP listeners on a port, a process's sockets and their owners."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket


def cmdline(pid):
    """A process's argument list, or None when it is gone (a zombie has none)."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            raw = handle.read()
    except (IOError, OSError):
        return None
    if not raw:
        return None
    return [part.decode('utf-8', 'surrogateescape') for part in raw.rstrip(b'\0').split(b'\0')]


def exited(pid):
    """Whether ``pid`` has finished exiting: no such process, or a zombie (its files, and so
    its sockets, are closed by then; its command line is gone a little earlier)."""
    try:
        with open('/proc/%d/stat' % pid) as handle:
            text = handle.read()
    except (IOError, OSError):
        return True
    return text[text.rfind(')') + 2:][:1] in ('Z', 'X', '')


def _decode_address(text):
    raw = bytes.fromhex(text)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    words = b''.join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words)


def listeners(port_number):
    """``{inode: address}`` of the TCP sockets listening on ``port_number`` here."""
    found = {}
    for path in ('/proc/net/tcp', '/proc/net/tcp6'):
        try:
            with open(path) as handle:
                lines = handle.read().splitlines()[1:]
        except (IOError, OSError):
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != '0A':  # 0A: LISTEN
                continue
            address, port_hex = fields[1].rsplit(':', 1)
            if int(port_hex, 16) == port_number:
                found[fields[9]] = _decode_address(address)
    return found


def socket_inodes(pid):
    inodes = set()
    try:
        names = os.listdir('/proc/%d/fd' % pid)
    except (IOError, OSError):
        return inodes
    for name in names:
        try:
            target = os.readlink('/proc/%d/fd/%s' % (pid, name))
        except (IOError, OSError):
            continue
        if target.startswith('socket:['):
            inodes.add(target[8:-1])
    return inodes


def socket_owners(inodes):
    """``{pid: command line}`` of the processes holding one of ``inodes``."""
    owners = {}
    if not inodes:
        return owners
    for entry in os.listdir('/proc'):
        if entry.isdigit() and socket_inodes(int(entry)) & set(inodes):
            owners[int(entry)] = ' '.join(cmdline(int(entry)) or ['?'])
    return owners
