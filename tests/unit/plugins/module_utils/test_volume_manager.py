# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt_volume's logic on libvirt's test driver: create, grow only, clone, refuse."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import volume as volumes
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import LibvirtOperationError
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

DEFAULTS = dict(name='vlt-unit.qcow2', pool='default-pool', state='present', capacity=None, format=None,
                backing_volume=None, backing_pool=None, backing_format=None, clone_from=None, upload=None,
                allow_existing=False, image=None)


@pytest.fixture
def conn(conn):
    """The test driver's default pool without the volumes of earlier tests."""
    pool = conn.storagePoolLookupByName('default-pool')
    for name in pool.listVolumes():
        if name.startswith('vlt-unit'):
            pool.storageVolLookupByName(name).delete(0)
    return conn


def run(conn, check_mode=False, **overrides):
    params = dict(DEFAULTS)
    params.update(overrides)
    return volumes.VolumeManager(params, check_mode).ensure(conn)


def test_create_check_real_idempotent(conn):
    predicted = run(conn, check_mode=True, capacity='64M')
    assert predicted['changed'] and '<capacity unit="bytes">67108864</capacity>' in predicted['diff'][0]['after']
    created = run(conn, capacity='64M')
    assert created['changed'] and created['volume']['capacity'] == 67108864
    assert created['diff'][0]['after'] == predicted['diff'][0]['after']
    assert not run(conn, capacity='64M')['changed']


def test_grow_only(conn):
    run(conn, capacity='64M')
    # the test driver cannot resize: the prediction here, the resize in the lab's target
    grown = run(conn, check_mode=True, capacity='128M')
    assert grown['changed']
    assert '134217728' in grown['diff'][0]['after'] and '67108864' in grown['diff'][0]['before']
    with pytest.raises(ValidationError, match='only grow'):
        run(conn, capacity='32M')
    assert not run(conn, capacity='1M', allow_existing=True)['changed']


def test_clone_and_format_refusal(conn):
    run(conn, capacity='1M', format='raw', name='vlt-unit-src.img')
    clone = run(conn, name='vlt-unit-copy.img', clone_from='vlt-unit-src.img')
    assert clone['changed'] and clone['volume']['capacity'] == 1048576
    with pytest.raises(ValidationError, match='never converted'):
        run(conn, name='vlt-unit-src.img', format='qcow2', capacity='1M')


def test_absent(conn):
    run(conn, capacity='1M')
    assert run(conn, state='absent', check_mode=True)['changed']
    assert run(conn, state='absent')['changed']
    assert not run(conn, state='absent')['changed']


@pytest.mark.parametrize('overrides, option', [
    (dict(capacity='0'), 'capacity'), (dict(capacity='-1G'), 'capacity'), (dict(capacity='lots'), 'capacity'),
    (dict(), 'capacity'), (dict(name='a/b', capacity='1M'), 'name'), (dict(pool='p q', capacity='1M'), 'pool'),
    (dict(upload='relative.img'), 'upload'), (dict(upload='/nonexistent/x.img'), 'upload'),
    (dict(clone_from='x', backing_volume='y'), 'clone_from'),
])
def test_bad_input(overrides, option):
    params = dict(DEFAULTS)
    params.update(overrides)
    with pytest.raises(ValidationError) as caught:
        volumes.VolumeManager(params, False)
    assert caught.value.option == option


def test_conflicting_sources_name_every_one_with_its_value():
    params = dict(DEFAULTS, upload='/tmp/box.img', clone_from='vlt-unit-src.img', backing_volume='vlt-unit-base.img')
    with pytest.raises(ValidationError) as caught:
        volumes.VolumeManager(params, False)
    message = str(caught.value)
    assert caught.value.option == 'upload' and "upload='/tmp/box.img'" in message
    assert "backing_volume='vlt-unit-base.img'" in message and "clone_from='vlt-unit-src.img'" in message
    assert 'only one of backing_volume, clone_from, upload, cloud_init, files' in message
    with pytest.raises(ValidationError) as caught:
        volumes.check_sources(dict(cloud_init=dict(user_data='#cloud-config'), files=dict(label='x')))
    assert caught.value.option == 'files' and 'cloud_init=' in str(caught.value)
    assert volumes.check_sources(dict(cloud_init=None, upload='/tmp/box.img')) == ['upload']


def test_missing_pool_and_backing_volume(conn):
    with pytest.raises(ValidationError, match='default-pool'):
        run(conn, pool='vlt-no-pool', capacity='1M')
    with pytest.raises(ValidationError, match='backing_volume'):
        run(conn, backing_volume='vlt-unit-missing.img')


def test_image_info(tmp_path):
    qcow = tmp_path / 'a.qcow2'
    qcow.write_bytes(b'QFI\xfb' + b'\0' * 20 + (20 * 1024 ** 3).to_bytes(8, 'big'))
    assert volumes.image_info(str(qcow)) == ('qcow2', 20 * 1024 ** 3)
    raw = tmp_path / 'b.img'
    raw.write_bytes(b'x' * 4096)
    assert volumes.image_info(str(raw)) == ('raw', 4096)


def _sparse_file(path, chunks):
    """A file of 8 MiB with ``chunks`` (offset, bytes) of data and holes elsewhere."""
    with open(path, 'wb') as handle:
        handle.truncate(8 * 1024 * 1024)
        for offset, data in chunks:
            handle.seek(offset)
            handle.write(data)


def test_a_local_copy_keeps_holes_and_the_targets_mode_and_counts_the_data(tmp_path):
    """copy_into, the way a box image goes into a directory pool on this host."""
    source, target = str(tmp_path / 'box.img'), str(tmp_path / 'volume.part')
    _sparse_file(source, [(1024 * 1024, b'a' * 65536), (5 * 1024 * 1024, b'b' * 4096)])
    with open(target, 'w') as handle:
        handle.write('what libvirt made')
    os.chmod(target, 0o600)
    assert volumes.data_bytes(source) == 65536 + 4096
    assert volumes.copy_into(source, target) == 65536 + 4096
    with open(source, 'rb') as one, open(target, 'rb') as two:
        assert one.read() == two.read()
    assert os.stat(target).st_mode & 0o777 == 0o600  # the file libvirt made, not a new one
    assert os.stat(target).st_blocks * 512 < 1024 * 1024  # holes stay holes
    _sparse_file(source, [])
    assert volumes.data_bytes(source) == 0


def test_a_failed_local_copy_says_what_and_why(tmp_path):
    with pytest.raises(LibvirtOperationError, match='cannot copy .*missing.img into .*: .*No such file'):
        volumes.copy_into(str(tmp_path / 'missing.img'), str(tmp_path / 'volume.part'))
