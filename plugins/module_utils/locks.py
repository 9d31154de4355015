# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The locks of this host: a named lock held while one run publishes a thing others share (a
box's upload into a pool, a packaged box), and a machine's lock (one verb at a time on a
machine, as Vagrant's machine lock) that belongs to an ``ansible-playbook`` run and is taken
over once that run is gone."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import fcntl
import os
import time

from ansible_collections.vagrantless.libvirt.plugins.module_utils import files

LOCK_DIR = '/run/lock/vagrantless'


def lock_dir(uid=None, environ=None):
    """Where this user's named locks live: root's (the system libvirt's pools) in LOCK_DIR; an
    ordinary user's (its session's pools, its box store) in its own runtime directory, which
    no other user can write to, else in a directory of its own under /tmp."""
    uid = os.geteuid() if uid is None else uid
    environ = os.environ if environ is None else environ
    if uid == 0:
        return LOCK_DIR
    runtime = environ.get('XDG_RUNTIME_DIR')
    if runtime and os.path.isabs(runtime):
        return os.path.join(runtime, 'vagrantless', 'locks')
    return '/tmp/vagrantless-locks-%d' % uid


@contextlib.contextmanager
def named_lock(*parts):
    """An exclusive lock on this host for the thing ``parts`` name (a pool's volume, a box)."""
    directory = lock_dir()
    if not os.path.isdir(directory):
        try:
            os.makedirs(directory, 0o700 if directory != LOCK_DIR else 0o755)
        except OSError as error:
            if error.errno != errno.EEXIST:
                raise
    if directory != LOCK_DIR and os.lstat(directory).st_uid != os.geteuid():
        raise PermissionError(errno.EPERM, 'the lock directory is not this user\'s own', directory)
    path = os.path.join(directory, '--'.join(parts).replace('/', '_') + '.lock')
    with open(path, 'a') as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- a machine's lock ------------------------------------------------------------------------
def process_identity(pid):
    """``"PID STARTTIME"`` of a running process (its start time tells a reused PID apart), or
    None when there is no such process."""
    text = files.read('/proc/%d/stat' % pid)
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
    clock, sleep = clock or time.monotonic, sleep or time.sleep
    started = clock()
    while True:
        try:
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            holder = files.read(path)
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
    if files.read(aside) == holder:
        os.unlink(aside)
    else:  # taken by another waiter between our read and our rename: give it back
        os.rename(aside, path)


def release_lock(path, owner):
    """Remove the lock file when ``owner`` holds it; True when it did."""
    holder = files.read(path)
    if holder is None or holder.strip() != owner:
        return False
    os.unlink(path)
    return True
