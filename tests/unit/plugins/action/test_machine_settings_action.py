# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""machine_settings in process: the host's variables become the vagrantless_machine fact, the
password never does, every problem is reported at once, a bad value names its variable."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.vagrantless.libvirt.plugins.action import machine_settings

HOST = dict(inventory_hostname='web', inventory_dir='/srv/labs/shop', vm_box='vagrantless/tiny',
            ansible_connection='local', some_other_variable=1)


def test_the_fact_of_a_machine(run_action):
    result = run_action(machine_settings, {}, task_vars=dict(HOST, libvirt_uri='qemu:///session'))
    assert not result.get('failed') and result['changed'] is False
    machine = result['ansible_facts']['vagrantless_machine']
    assert machine['name'] == 'shop_web' and machine['lab'] == 'shop' and machine['machine'] == 'web'
    assert machine['connection'] == dict(uri='qemu:///session', driver='kvm', qemu_use_session=False,
                                         system_uri='qemu:///system')
    assert len(machine['digest']) == 16


def test_the_password_is_never_in_the_result(run_action):
    result = run_action(machine_settings, {}, task_vars=dict(HOST, libvirt_password='s3cret-pw',
                                                             libvirt_username='admin'))
    machine = result['ansible_facts']['vagrantless_machine']
    assert machine['connection']['username'] == 'admin' and 'password' not in machine['connection']
    assert 's3cret-pw' not in json.dumps(result)


def test_every_problem_at_once_before_anything(run_action):
    result = run_action(machine_settings, {}, task_vars=dict(HOST, libvirt_memroy=1024, libvirt_cpus='many',
                                                             vagrantless_lba='x'))
    assert result['failed'] and 'ansible_facts' not in result
    assert len(result['problems']) == 3
    assert 'host web: libvirt_memroy is not a setting of vagrantless.libvirt; did you mean libvirt_memory?' \
        in result['problems']
    assert any('vagrantless_lba is not a setting' in problem for problem in result['problems'])
    assert any('libvirt_cpus' in problem and "'many'" in problem for problem in result['problems'])
    assert result['msg'] == '; '.join(result['problems'])


def test_a_bad_value_names_its_variable(run_action):
    result = run_action(machine_settings, {}, task_vars=dict(HOST, vm_networks=[{'private_network': {'ip': '10.1.2'}}]))
    assert result['failed'] and result['option'].startswith('host web: vm_networks[0]')
    assert '10.1.2' in result['msg']


def test_a_variable_set_to_null_counts_as_unset(run_action):
    result = run_action(machine_settings, {}, task_vars=dict(HOST, libvirt_memory=None, vm_hostname='web1'))
    assert result['ansible_facts']['vagrantless_machine']['hostname'] == 'web1'


def test_guests_of_a_local_hypervisor_are_reached_directly(run_action):
    machine = run_action(machine_settings, {}, task_vars=dict(HOST))['ansible_facts']['vagrantless_machine']
    assert machine['ssh']['jump'] is None


def test_guests_of_an_inventory_hypervisor_are_reached_through_it(run_action):
    hostvars = dict(hv1=dict(ansible_host='10.77.0.1', ansible_user='root', ansible_port=2200,
                             ansible_ssh_private_key_file='/keys/hv1'))
    result = run_action(machine_settings, {}, task_vars=dict(HOST, libvirt_host='hv1', hostvars=hostvars))
    found = result['ansible_facts']['vagrantless_machine']['ssh']['jump']
    assert found['hypervisor'] == 'hv1' and found['target'] == 'root@10.77.0.1:2200'
    assert found['check'][-2:] == ['10.77.0.1', 'true'] and '-i' in found['check']
    assert found['ssh_options'][1].startswith('ProxyCommand=ssh -W %h:%p ')
    off = run_action(machine_settings, {}, task_vars=dict(HOST, libvirt_host='hv1', hostvars=hostvars,
                                                          vagrantless_ssh_jump=False))
    assert off['ansible_facts']['vagrantless_machine']['ssh']['jump'] is None


def test_guests_of_a_qemu_ssh_uri_are_reached_through_its_host(run_action):
    result = run_action(machine_settings, {}, task_vars=dict(
        HOST, libvirt_uri='qemu+ssh://admin@hv2:2201/system?keyfile=/keys/hv2'))
    found = result['ansible_facts']['vagrantless_machine']['ssh']['jump']
    assert found['hypervisor'] == 'hv2' and found['target'] == 'admin@hv2:2201'
    via = run_action(machine_settings, {}, task_vars=dict(HOST, libvirt_connect_via_ssh=True, libvirt_host='hv3',
                                                          libvirt_username='me', libvirt_id_ssh_key_file='k'))
    assert via['ansible_facts']['vagrantless_machine']['ssh']['jump']['target'] == 'me@hv3'


def test_a_hostile_hypervisor_variable_names_the_hypervisor(run_action):
    result = run_action(machine_settings, {}, task_vars=dict(
        HOST, libvirt_host='hv1', hostvars=dict(hv1=dict(ansible_host='hv1 -oProxyCommand=id'))))
    assert result['failed'] and result['option'] == 'the SSH host of hypervisor hv1', result
    custom = run_action(machine_settings, {}, task_vars=dict(
        HOST, libvirt_host='hv1', hostvars=dict(hv1={}), libvirt_proxy_command='ssh {host} -W %h:%p\nid'))
    assert custom['failed'] and custom['option'] == 'libvirt_proxy_command', custom
