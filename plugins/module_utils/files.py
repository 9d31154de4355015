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


# -- a machine's lock: one verb at a time on a machine, as Vagrant's machine lock -----------
def process_identity(pid):
    """``"PID STARTTIME"`` of a running process (its start time tells a reused PID apart), or
    None when there is no such process."""
    text = read('/proc/%d/stat' % pid)
    if not text or ')' not in text:
        return None
    fields = text.rsplit(')', 1)[1].split()
    return '%d %s' % (pid, fields[19]) if len(fields) > 19 else None


def _holder_alive(holder):
    try:
        pid = int((holder or '').split(' ', 1)[0])
    except ValueError:
        return False
    return process_identity(pid) == holder.strip()


def acquire_lock(path, owner, timeout, clock=None, sleep=None):
    """Take the lock file ``path`` for ``owner`` (a process identity): wait while another live
    process holds it, take over one whose holder is gone (a run that was killed). Returns the
    seconds waited, or raises TimeoutError naming the holder."""
    import time  # pylint: disable=import-outside-toplevel
    clock, sleep = clock or time.monotonic, sleep or time.sleep
    started = clock()
    while True:
        try:
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            holder = read(path)
            if holder is not None and holder.strip() == owner:
                return clock() - started  # ours already
            if holder is not None and not _holder_alive(holder):
                _remove_stale(path, holder)
                continue
            if clock() - started >= timeout:
                raise TimeoutError('held by process %s for more than %d s' % ((holder or '?').split(' ')[0], timeout))
            sleep(0.2)
            continue
        with os.fdopen(descriptor, 'w') as handle:
            handle.write(owner)
        return clock() - started


def _remove_stale(path, holder):
    """Remove a lock whose holder is gone; a lock another waiter took meanwhile stays."""
    aside = '%s.stale.%d' % (path, os.getpid())
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return
    if read(aside) == holder:
        os.unlink(aside)
    else:  # taken by another waiter between our read and our rename: give it back
        os.rename(aside, path)


def release_lock(path, owner):
    """Remove the lock file when ``owner`` holds it; True when it did."""
    holder = read(path)
    if holder is None or holder.strip() != owner:
        return False
    os.unlink(path)
    return True
