# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt_box's manager on libvirt's test driver: a box volume that an overlay still
backs is not removed, a failed upload takes back the store entry the run extracted, and a
box image naming a host file never reaches a pool (nor does a volume upload of one)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import libvirt
import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import vagrant_box
from ansible_collections.vagrantless.libvirt.plugins.module_utils import volume as volumes
from ansible_collections.vagrantless.libvirt.plugins.module_utils.box import BoxManager, users_of
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

POOL = 'default-pool'
BOX = 'vlt-unit/box'
BOX_VOLUME = vagrant_box.volume_name(BOX, '1.0')


@pytest.fixture
def conn():
    connection = libvirt.open('test:///default')
    pool = connection.storagePoolLookupByName(POOL)
    for name in pool.listVolumes():
        if name.startswith('vlt-unit'):
            pool.storageVolLookupByName(name).delete(0)
    for domain in connection.listAllDomains(0):
        if domain.name().startswith('vlt-unit'):
            if domain.isActive():
                domain.destroy()
            domain.undefine()
    return connection


def params(tmp_path, **overrides):
    found = dict(name=BOX, version=None, src=None, catalog=None, checksum=None, checksum_type=None, pool=POOL,
                 state='present', force=False, remove_from_store=False, box_store=str(tmp_path / 'home'))
    found.update(overrides)
    return found


def manager(tmp_path, check_mode=False, **overrides):
    return BoxManager(params(tmp_path, **overrides), check_mode, fetch=None)


def volume(pool, name, backing=None):
    xml = volumes.volume_xml(name, 1048576, 'qcow2', (backing.path(), 'qcow2') if backing is not None else None)
    return pool.createXML(volumes.xmltree.to_xml(xml), 0)


def test_a_box_volume_an_overlay_chain_still_uses_is_not_removed(conn, tmp_path):
    pool = conn.storagePoolLookupByName(POOL)
    base = volume(pool, BOX_VOLUME)
    overlay = volume(pool, 'vlt-unit-machine.img', base)
    volume(pool, 'vlt-unit-snapshot.img', overlay)  # an overlay on the overlay: its chain reaches the box
    volume(pool, 'vlt-unit-other.img')
    assert users_of(conn, {base.path()}) == ([], ['%s/vlt-unit-machine.img' % POOL, '%s/vlt-unit-snapshot.img' % POOL])
    for check_mode in (True, False):
        with pytest.raises(ValidationError) as caught:
            manager(tmp_path, check_mode, state='absent').ensure(conn)
        assert caught.value.option == 'state'
        assert ('box %s is in use: volume(s) %s/vlt-unit-machine.img, %s/vlt-unit-snapshot.img have it in their '
                'backing chain; remove them first or set force=true' % (BOX, POOL, POOL)) in str(caught.value)
    assert volumes.find(pool, BOX_VOLUME) is not None
    removed = manager(tmp_path, state='absent', force=True).ensure(conn)
    assert removed['changed'] and [v['name'] for v in removed['volumes']] == [BOX_VOLUME]
    assert volumes.find(pool, BOX_VOLUME) is None


def test_domains_and_volumes_are_named_together(conn, tmp_path):
    pool = conn.storagePoolLookupByName(POOL)
    base = volume(pool, BOX_VOLUME)
    overlay = volume(pool, 'vlt-unit-machine.img', base)
    conn.defineXML("<domain type='test'><name>vlt-unit-dom</name><memory>65536</memory><os><type>hvm</type></os>"
                   "<devices><disk type='file' device='disk'><source file='%s'/><target dev='vda'/></disk>"
                   "</devices></domain>" % overlay.path())
    with pytest.raises(ValidationError, match='domain\\(s\\) vlt-unit-dom have disks on its volumes; volume\\(s\\) '
                       '%s/vlt-unit-machine.img have it' % POOL):
        manager(tmp_path, state='absent').ensure(conn)


def test_a_cycle_of_backing_files_ends(conn, tmp_path):
    pool = conn.storagePoolLookupByName(POOL)
    volume(pool, BOX_VOLUME)
    first = volume(pool, 'vlt-unit-a.img')
    second = volume(pool, 'vlt-unit-b.img', first)
    pool.storageVolLookupByName('vlt-unit-a.img').delete(0)
    volume(pool, 'vlt-unit-a.img', second)  # a -> b -> a
    predicted = manager(tmp_path, state='absent', check_mode=True).ensure(conn)  # ends, and a/b are no users
    assert [v['name'] for v in predicted['volumes']] == [BOX_VOLUME]


def box_file(tmp_path, make_box, box_members, image, fmt='qcow2'):
    return make_box(tmp_path / 'vlt.box', box_members({'provider': 'libvirt', 'format': fmt}, {'box.img': image}))


def test_a_failed_upload_takes_back_the_store_entry_this_run_extracted(conn, tmp_path, images, make_box, box_members):
    src = box_file(tmp_path, make_box, box_members, images['qcow2'])
    # the test driver cannot upload: the upload fails after the box was extracted
    with pytest.raises(libvirt.libvirtError, match='not supported'):
        manager(tmp_path, src=src, version='1.0').ensure(conn)
    assert vagrant_box.stored_versions(str(tmp_path / 'home'), BOX) == []
    assert os.listdir(str(tmp_path / 'home' / 'boxes')) == []
    assert volumes.find(conn.storagePoolLookupByName(POOL), BOX_VOLUME) is None


def test_a_failed_upload_keeps_a_store_entry_that_was_there_before(conn, tmp_path, images, make_box, box_members):
    src = box_file(tmp_path, make_box, box_members, images['qcow2'])
    vagrant_box.install(src, str(tmp_path / 'home'), BOX, '1.0')
    with pytest.raises(libvirt.libvirtError):
        manager(tmp_path, src=src, version='1.0').ensure(conn)
    assert vagrant_box.stored_versions(str(tmp_path / 'home'), BOX) == ['1.0']


@pytest.mark.parametrize('kind, claimed', [('backed_raw', 'raw'), ('backed_raw', 'qcow2'), ('data_file', 'qcow2')])
def test_a_stored_box_naming_a_host_file_never_reaches_the_pool(conn, tmp_path, images, kind, claimed):
    """A box another tool put into the store (vagrant box add) is checked before its upload."""
    directory = tmp_path / 'home' / 'boxes' / 'vlt-unit-VAGRANTSLASH-box' / '1.0' / 'libvirt'
    directory.mkdir(parents=True)
    (directory / 'metadata.json').write_text('{"provider": "libvirt", "format": "%s"}' % claimed)
    (directory / 'box.img').write_bytes(images[kind])
    for check_mode in (True, False):
        with pytest.raises(vagrant_box.BoxError, match='disk box \\(box.img\\): '):
            manager(tmp_path, check_mode).ensure(conn)
    assert vagrant_box.stored_versions(str(tmp_path / 'home'), BOX) == ['1.0']  # not ours to remove
    assert volumes.find(conn.storagePoolLookupByName(POOL), BOX_VOLUME) is None


@pytest.mark.parametrize('kind, why', [('backed_raw', "backing file '/etc/hostname'"),
                                       ('backed_qcow2', 'backing file'), ('data_file', 'external data file')])
def test_a_volume_upload_naming_a_host_file_is_refused(conn, tmp_path, images, kind, why):
    path = tmp_path / 'upload.img'
    path.write_bytes(images[kind])
    settings = dict(name='vlt-unit-up.qcow2', pool=POOL, state='present', capacity=None, format=None,
                    backing_volume=None, backing_pool=None, backing_format=None, clone_from=None,
                    upload=str(path), allow_existing=False, image=None)
    with pytest.raises(ValidationError, match=why) as caught:
        volumes.VolumeManager(settings, False)
    assert caught.value.option == 'upload'
    path.write_bytes(images['qcow2'])
    volumes.VolumeManager(settings, False)  # a self-contained image passes


@pytest.mark.parametrize('timeout', [0, -5, 'soon'])
def test_the_download_timeout_is_checked_first(tmp_path, timeout):
    with pytest.raises(ValidationError) as caught:
        manager(tmp_path, src='http://127.0.0.1/x.box', timeout=timeout)
    assert caught.value.option == 'timeout'
