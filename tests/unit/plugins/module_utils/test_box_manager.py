# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt_box's BoxManager on libvirt's test driver: a box file added to the store once and
its image published in the pool (the test driver takes no uploads: the upload is stood in for
by a volume made in the pool), check mode predicting it, a second run changing nothing;
removal refused while a domain uses the box; input refused naming the option."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import shutil
import subprocess
import tarfile

import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import box as box_utils
from ansible_collections.vagrantless.libvirt.plugins.module_utils import vagrant_box
from ansible_collections.vagrantless.libvirt.plugins.module_utils import volume as volumes
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

QEMU_IMG = shutil.which('qemu-img')
pytestmark = pytest.mark.skipif(QEMU_IMG is None, reason='qemu-img (qemu-utils) is not installed')
NAME = 'vlt-unit/box'
POOL = 'default-pool'
PREFIX = vagrant_box.escaped(NAME) + '_vagrant_box_image_'


@pytest.fixture
def conn(conn, monkeypatch):
    """The test driver's pool without this box's volumes; publishing a volume makes it there."""
    pool = conn.storagePoolLookupByName(POOL)

    def clean():
        for name in pool.listVolumes():
            if name.startswith(PREFIX):
                pool.storageVolLookupByName(name).delete(0)

    def publish(connection, target, name, fmt, capacity, source, data=None):
        made = target.createXML('<volume><name>%s</name><capacity>%d</capacity><target><format type="%s"/>'
                                '</target></volume>' % (name, capacity, fmt), 0)
        return made, os.path.getsize(source)

    clean()
    monkeypatch.setattr(volumes, 'publish_upload', publish)
    yield conn
    clean()


@pytest.fixture
def box_file(tmp_path):
    """A libvirt box of a 64 MiB qcow2 image."""
    image = tmp_path / 'box.img'
    subprocess.run([QEMU_IMG, 'create', '-q', '-f', 'qcow2', str(image), '64M'], check=True)
    path = tmp_path / 'tiny.box'
    with tarfile.open(str(path), 'w:gz') as archive:
        meta = tmp_path / 'metadata.json'
        meta.write_text(json.dumps(dict(provider='libvirt', format='qcow2', virtual_size=1)))
        archive.add(str(meta), 'metadata.json')
        archive.add(str(image), 'box.img')
    return str(path)


def params(store, **overrides):
    result = dict(name=NAME, version=None, src=None, checksum=None, checksum_type=None, catalog=None, pool=POOL,
                  state='present', force=False, remove_from_store=False, box_store=str(store))
    result.update(overrides)
    return result


def fetch(url):
    raise AssertionError('nothing is downloaded here: %s' % url)


def run(conn, store, check_mode=False, **overrides):
    return box_utils.BoxManager(params(store, **overrides), check_mode, fetch).ensure(conn)


def test_check_mode_predicts_the_real_run_and_the_second_changes_nothing(conn, tmp_path, box_file):
    store = tmp_path / 'store'
    predicted = run(conn, store, check_mode=True, src=box_file, version='1.0.0')
    assert predicted['changed'] and predicted['box'] == dict(name=NAME, version='1.0.0')
    assert not os.path.exists(str(store))
    made = run(conn, store, src=box_file, version='1.0.0')
    assert made['changed'] and made['box']['version'] == '1.0.0' and made['box']['metadata']['provider'] == 'libvirt'
    assert [v['name'] for v in made['volumes']] == [PREFIX + '1.0.0_box.img']
    assert made['volumes'][0]['capacity'] == 64 * 1024 * 1024
    for check_mode in (True, False):
        again = run(conn, store, check_mode=check_mode, src=box_file, version='1.0.0')
        assert not again['changed'] and again['volumes'][0]['name'] == PREFIX + '1.0.0_box.img'


def test_an_unversioned_box_gets_vagrant_libvirts_timestamped_volume(conn, tmp_path, box_file):
    made = run(conn, tmp_path / 'store', src=box_file)
    assert made['box']['version'] == '0' and made['volumes'][0]['name'].startswith(PREFIX + '0_')


def test_a_stored_box_is_published_again_without_its_file(conn, tmp_path, box_file):
    store = tmp_path / 'store'
    run(conn, store, src=box_file, version='1.2.0')
    conn.storagePoolLookupByName(POOL).storageVolLookupByName(PREFIX + '1.2.0_box.img').delete(0)
    predicted = run(conn, store, check_mode=True)
    assert predicted['changed'] and predicted['volumes'] == [dict(name=PREFIX + '1.2.0_box.img')]
    again = run(conn, store)
    assert again['changed'] and again['box']['version'] == '1.2.0'


def test_a_box_neither_stored_nor_given_is_refused(conn, tmp_path):
    with pytest.raises(ValidationError) as caught:
        run(conn, tmp_path / 'store')
    assert caught.value.option == 'src' and 'is not in the store' in str(caught.value)


def test_a_wrong_checksum_is_refused_and_nothing_is_stored(conn, tmp_path, box_file):
    store = tmp_path / 'store'
    with pytest.raises(Exception, match='checksum'):
        run(conn, store, src=box_file, checksum='0' * 64, checksum_type='sha256')
    assert vagrant_box.stored_versions(str(store), NAME) == []
    with open(box_file, 'rb') as handle:
        good = hashlib.sha256(handle.read()).hexdigest()
    assert run(conn, store, src=box_file, checksum=good, checksum_type='sha256')['changed']


@pytest.mark.parametrize('overrides, option', [
    (dict(src='/x.box', catalog='/c.json'), 'src'),
    (dict(src='/x.box', version='>= 1.0'), 'version'),
    (dict(checksum='abc'), 'checksum_type'),
    (dict(name='no slash'), 'name'),
    (dict(pool='bad/pool'), 'pool'),
    (dict(version='one'), 'version'),
])
def test_bad_input_names_the_option(tmp_path, overrides, option):
    with pytest.raises(ValidationError) as caught:
        box_utils.BoxManager(params(tmp_path, **overrides), False, fetch)
    assert caught.value.option == option


def test_removal_is_refused_while_a_domain_uses_the_box(conn, tmp_path, box_file, test_domain):
    store = tmp_path / 'store'
    made = run(conn, store, src=box_file, version='1.0.0')
    path = made['volumes'][0]['path']
    test_domain('vlt-unit-box-user', running=False, devices=[
        '<disk type="file" device="disk"><source file="%s"/><target dev="vdz" bus="virtio"/></disk>' % path])
    assert box_utils.users_of(conn, {path}) == (['vlt-unit-box-user'], [])
    with pytest.raises(ValidationError, match='vlt-unit-box-user'):
        run(conn, store, state='absent')
    predicted = run(conn, store, check_mode=True, state='absent', force=True, remove_from_store=True)
    assert predicted['changed'] and vagrant_box.stored_versions(str(store), NAME) == ['1.0.0']
    removed = run(conn, store, state='absent', force=True, remove_from_store=True)
    assert removed['changed'] and removed['volumes'] == [dict(name=PREFIX + '1.0.0_box.img', path=path)]
    assert vagrant_box.stored_versions(str(store), NAME) == []
    assert not run(conn, store, state='absent', remove_from_store=True)['changed']
