# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt_box's BoxManager on libvirt's test driver: a box file added to the store once and
its image published in the pool (the test driver takes no uploads: the upload is stood in for
by a volume made in the pool), check mode predicting it, a second run changing nothing;
removal refused while a domain uses the box; input refused naming the option; a bare name
looked up as Vagrant does, in a catalog served on 127.0.0.1, with version constraints and
box_check_update."""

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
from ansible_collections.vagrantless.libvirt.tests.box_catalog import CatalogServer

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
    """A name Vagrant cannot look up (no owner/): nothing to fetch it from."""
    with pytest.raises(ValidationError) as caught:
        run(conn, tmp_path / 'store', name='vlt-unit-box')
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


@pytest.fixture
def catalog(box_file):
    served = CatalogServer({NAME: {'1.0.0': box_file, '1.1.0': box_file}})
    yield served
    served.close()


def looked_up(conn, store, check_mode=False, **overrides):
    """A run that really downloads (Ansible's open_url), as the module's."""
    downloads = box_utils.Downloads(10)
    try:
        return box_utils.BoxManager(params(store, **overrides), check_mode, downloads.fetch, downloads).ensure(conn)
    finally:
        downloads.remove()


def test_a_bare_name_is_looked_up_on_the_server_as_vagrant_does(conn, tmp_path, catalog, monkeypatch):
    monkeypatch.delenv('VAGRANT_SERVER_URL', raising=False)
    store = tmp_path / 'store'
    made = looked_up(conn, store, server_url=catalog.url)
    assert made['changed'] and made['box']['version'] == '1.1.0'  # the newest
    assert catalog.requests == [('/' + NAME, 'application/json'), ('/%s/1.1.0.box' % NAME, None)]
    # where Vagrant keeps the catalog of a box, for `vagrant box outdated` and our update check
    assert vagrant_box.stored_metadata_url(str(store), NAME) == catalog.url + '/' + NAME
    assert os.path.isfile(str(store / 'boxes' / vagrant_box.escaped(NAME) / 'metadata_url'))
    again = looked_up(conn, store, server_url=catalog.url)
    assert not again['changed'] and again['update'] is None and len(catalog.requests) == 2  # nothing asked


def test_vagrant_server_url_is_the_default_and_constraints_choose_the_version(conn, tmp_path, catalog, monkeypatch):
    monkeypatch.setenv('VAGRANT_SERVER_URL', catalog.url)
    made = looked_up(conn, tmp_path / 'store', version='< 1.1')
    assert made['box']['version'] == '1.0.0'


def test_a_given_server_url_wins_over_the_modules_own_environment(conn, tmp_path, catalog, monkeypatch):
    # the up role resolves Vagrant's order on the controller: a hypervisor's environment must not undo it
    monkeypatch.setenv('VAGRANT_SERVER_URL', 'http://127.0.0.1:9/nobody')
    made = looked_up(conn, tmp_path / 'store', server_url=catalog.url, version='< 1.1')
    assert made['box']['version'] == '1.0.0'


def test_a_newer_version_in_the_catalog_is_a_warning_with_check_update(conn, tmp_path, catalog, monkeypatch):
    monkeypatch.setenv('VAGRANT_SERVER_URL', catalog.url)
    store = tmp_path / 'store'
    looked_up(conn, store, version='1.0.0')
    quiet = looked_up(conn, store, version='>= 1.0')
    assert not quiet['changed'] and quiet['update'] is None and 'warnings' not in quiet
    checked = looked_up(conn, store, version='>= 1.0', check_update=True)
    assert not checked['changed'] and checked['box']['version'] == '1.0.0'
    assert checked['update'] == dict(current='1.0.0', latest='1.1.0', catalog=catalog.url + '/' + NAME)
    assert 'version 1.1.0 is available' in checked['warnings'][0]
    pinned = looked_up(conn, store, version='1.0.0', check_update=True)  # nothing newer within the constraint
    assert pinned['update'] is None and 'warnings' not in pinned
    catalog.close()  # the server gone: the box that is here is used, with a warning
    offline = looked_up(conn, store, version='>= 1.0', check_update=True)
    assert not offline['changed'] and offline['box']['version'] == '1.0.0'
    assert 'could not check for a newer version' in offline['warnings'][0]


def test_an_unknown_name_fails_naming_the_url_and_stores_nothing(conn, tmp_path, catalog, monkeypatch):
    monkeypatch.setenv('VAGRANT_SERVER_URL', catalog.url)
    store = tmp_path / 'store'
    with pytest.raises(vagrant_box.BoxError) as caught:
        looked_up(conn, store, name='vlt-unit/unknown')
    assert 'is not in the store' in str(caught.value) and catalog.url + '/vlt-unit/unknown' in str(caught.value)
    assert 'HTTP 404' in str(caught.value)
    assert not os.path.exists(str(store / 'boxes'))


def test_removing_the_last_version_removes_the_catalog_url(conn, tmp_path, catalog, monkeypatch):
    monkeypatch.setenv('VAGRANT_SERVER_URL', catalog.url)
    store = tmp_path / 'store'
    looked_up(conn, store, version='1.0.0')
    looked_up(conn, store, version='1.1.0')
    run(conn, store, state='absent', version='1.0.0', remove_from_store=True)
    assert vagrant_box.stored_metadata_url(str(store), NAME) is not None  # 1.1.0 still came from it
    run(conn, store, state='absent', remove_from_store=True)
    assert not os.path.exists(str(store / 'boxes' / vagrant_box.escaped(NAME)))


@pytest.mark.parametrize('server_url', ['ftp://127.0.0.1/x', 'file:///etc', 'http://127.0.0.1/a b', 'boxes.example'])
def test_a_server_url_that_is_no_http_url_is_refused(conn, tmp_path, server_url, monkeypatch):
    monkeypatch.delenv('VAGRANT_SERVER_URL', raising=False)
    with pytest.raises(ValidationError) as caught:
        looked_up(conn, tmp_path / 'store', server_url=server_url)
    assert caught.value.option == 'server_url'
