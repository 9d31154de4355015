# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt_pool's logic on libvirt's own test driver: check mode predicts, the real
run does it, the second run changes nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import pool as pool_utils
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import LibvirtOperationError
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError


def params(**overrides):
    base = dict(name='vlt-unit-pool', type='dir', path='/tmp/vlt-unit-pool', state='present',
                autostart=None, delete_volumes=False, qemu_use_session=False)
    base.update(overrides)
    return base


def run(conn, check_mode=False, **overrides):
    return pool_utils.PoolManager(params(**overrides), check_mode).ensure(conn)


def test_check_then_real_then_idempotent(conn):
    predicted = run(conn, check_mode=True)
    assert predicted['changed']
    assert pool_utils.find(conn, 'vlt-unit-pool') is None
    assert '<path>/tmp/vlt-unit-pool</path>' in predicted['diff'][0]['after']
    real = run(conn)
    assert real['changed'] and real['pool']['active'] and real['pool']['autostart']
    assert real['diff'][0]['after'] == predicted['diff'][0]['after']
    again = run(conn)
    assert not again['changed']
    assert len(again['diff']) == 1  # no state change to show


def test_inactive_and_autostart(conn):
    run(conn)
    stopped = run(conn, state='inactive', autostart=False)
    assert stopped['changed'] and not stopped['pool']['active'] and not stopped['pool']['autostart']
    assert 'active: False' in stopped['diff'][1]['after']
    assert not run(conn, state='inactive', autostart=False)['changed']
    assert run(conn, state='present')['pool']['active']


def test_path_change_is_applied(conn):
    run(conn)
    moved = run(conn, path='/tmp/vlt-unit-pool-2')
    assert moved['changed'] and moved['pool']['path'] == '/tmp/vlt-unit-pool-2'
    assert moved['pool']['active']


def test_absent_refuses_while_volumes_exist(conn):
    created = run(conn)
    pool = conn.storagePoolLookupByName('vlt-unit-pool')
    pool.createXML('<volume><name>v1.img</name><capacity>1024</capacity></volume>', 0)
    with pytest.raises(LibvirtOperationError, match='v1.img'):
        run(conn, state='absent')
    assert created['pool']['uuid'] == pool.UUIDString()
    gone = run(conn, state='absent', delete_volumes=True)
    assert gone['changed'] and gone['pool'] == {}
    assert pool_utils.find(conn, 'vlt-unit-pool') is None
    assert not run(conn, state='absent')['changed']


@pytest.mark.parametrize('overrides, option', [
    (dict(path='relative/dir'), 'path'), (dict(name='a/b'), 'name'), (dict(name='x<y'), 'name'),
])
def test_bad_input_fails_before_connecting(overrides, option):
    with pytest.raises(ValidationError) as caught:
        pool_utils.PoolManager(params(**overrides), False)
    assert caught.value.option == option


def test_type_cannot_change(conn):
    conn.storagePoolDefineXML('<pool type="fs"><name>vlt-unit-fs</name><source><device path="/dev/x"/>'
                              '</source><target><path>/mnt/x</path></target></pool>', 0)
    with pytest.raises(ValidationError, match='cannot change type'):
        run(conn, name='vlt-unit-fs')


def test_session_default_path():
    assert pool_utils.default_path(True).endswith('/.local/share/libvirt/images')
    assert pool_utils.default_path(False) == '/var/lib/libvirt/images'


def test_an_existing_pool_named_without_a_path_stays_where_it_is(conn):
    run(conn, path='/tmp/vlt-unit-elsewhere')
    named = run(conn, path=None)
    assert not named['changed'] and named['pool']['path'] == '/tmp/vlt-unit-elsewhere'
    fresh = run(conn, name='vlt-unit-new', path=None, check_mode=True)
    assert '<path>/var/lib/libvirt/images</path>' in fresh['diff'][0]['after']
