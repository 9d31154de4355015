# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A pool busy with another run's volume job, provoked: libvirt refuses to refresh a pool while
one of its volumes is being built or copied ("pool has asynchronous jobs running"), which is
what one `up` met while another made a volume in the same pool. The modules' refresh waits
for the job to end instead of failing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys
import threading
import time

import libvirt
import pytest

import harness  # pylint: disable=import-error

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                '.collections'))
from ansible_collections.vagrantless.libvirt.plugins.module_utils import pool as pools  # noqa: E402 pylint: disable=wrong-import-position

SOURCE = 'vlt-rel-busy-source.raw'
COPY = 'vlt-rel-busy-copy.raw'
SIZE = 2 * 1024 * 1024 * 1024  # sparse: a copy reads it all, long enough to be seen busy


def _remove(pool, *names):
    for volume in pool.listAllVolumes(0):
        if volume.name() in names:
            volume.delete(0)


@pytest.fixture
def busy():
    """``busy()`` starts copying a large volume of the lab's default pool into a new one (a
    job of the pool) and returns once libvirt refuses to refresh the pool, with the copy's
    thread; None when every copy ended before a refusal was seen."""
    conn = libvirt.open(harness.URI)
    pool = conn.storagePoolLookupByName('default')
    _remove(pool, SOURCE, COPY)
    source = pool.createXML("<volume><name>%s</name><capacity>%d</capacity><allocation>0</allocation>"
                            "<target><format type='raw'/></target></volume>" % (SOURCE, SIZE), 0)
    threads = []

    def start():
        for unused in range(5):
            _remove(pool, COPY)
            copying = threading.Thread(target=pool.createXMLFrom, args=(
                "<volume><name>%s</name><capacity>%d</capacity><target><format type='raw'/></target></volume>"
                % (COPY, SIZE), source, 0))
            copying.start()
            threads.append(copying)
            while copying.is_alive():
                try:
                    pool.refresh(0)
                except libvirt.libvirtError as error:
                    assert 'asynchronous jobs running' in str(error), error
                    return copying
                time.sleep(0.01)
        return None
    try:
        yield pool, start
    finally:
        for thread in threads:
            thread.join()
        _remove(pool, SOURCE, COPY)
        conn.close()


def test_a_refresh_waits_for_another_runs_volume_job(busy):
    pool, start = busy
    copying = start()
    assert copying is not None, 'libvirt never refused a refresh while a volume was copied'
    pools.refresh(pool, patience=120)
    assert not copying.is_alive()  # it returned once the copy was over


def test_a_refresh_gives_up_after_its_patience(busy):
    """The copy may end between libvirt's refusal seen by ``start`` and the refresh tried here
    (a refresh then succeeds, rightly): each such round is tried again with a new copy."""
    pool, start = busy
    for unused in range(5):
        copying = start()
        assert copying is not None, 'libvirt never refused a refresh while a volume was copied'
        try:
            pools.refresh(pool, patience=0)
        except libvirt.libvirtError as refused:
            assert 'asynchronous jobs running' in str(refused)
            return
        copying.join()
    pytest.fail('a refresh with no patience never gave up while a volume was copied')
