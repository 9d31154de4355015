# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A machine's Vagrantfile-named variables turned into its up sequence: defaults as
vagrant-libvirt's, names and MACs that the next run finds again, every problem named."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import machine, machine_options, machine_storage
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def settings(host='web', **variables):
    base = dict(inventory_dir='/srv/labs/shop', vm_box='vagrantless/tiny')
    base.update(variables)
    return machine.Machine(host, base).config()


def test_vagrant_libvirt_defaults():
    config = settings()
    assert config['name'] == 'shop_web' and config['lab'] == 'shop'
    assert config['hypervisor'] == 'localhost' and config['connection']['driver'] == 'kvm'
    management = config['networks'][0]
    assert management['name'] == 'vagrant-libvirt' and management['address'] == '192.168.121.0/24'
    assert management['forward_mode'] == 'nat' and management['owned']
    assert config['domain']['interfaces'][0]['network'] == 'vagrant-libvirt'
    assert config['synced_folders'][0]['src'] == '/srv/labs/shop'
    assert config['synced_folders'][0]['dest'] == '/vagrant' and config['synced_folders'][0]['type'] == 'rsync'
    assert config['ssh']['user'] == 'vagrant' and config['ssh']['port'] == 22
    assert config['suspend_mode'] == 'pause' and config['graceful_halt_timeout'] == 60
    assert config['state_dir'] == os.path.expanduser('~/.vagrantless/machines/shop_web')
    assert config['tunnel_dir'] == os.path.expanduser('~/.vagrantless/tunnels')


def test_macs_are_derived_and_stable():
    first = settings(vm_networks=[{'private_network': {'ip': '10.1.2.3'}}])
    again = settings(vm_networks=[{'private_network': {'ip': '10.1.2.3'}}])
    other = settings(host='db', vm_networks=[{'private_network': {'ip': '10.1.2.4'}}])
    macs = [i['mac'] for i in first['domain']['interfaces']]
    assert macs == [i['mac'] for i in again['domain']['interfaces']]
    assert len(set(macs)) == 2 and all(mac.startswith('52:54:00:') for mac in macs)
    assert not set(macs) & set(i['mac'] for i in other['domain']['interfaces'])


def test_static_ip_is_a_reservation_on_a_lab_network():
    network_options = {'ip': '10.20.30.40', 'libvirt__netmask': '255.255.0.0'}
    config = settings(vm_hostname='web1', vm_networks=[{'private_network': network_options}])
    network = config['networks'][1]
    assert network['name'] == 'shop-10.20.0.0-16' and network['reuse'] and network['owned']
    assert network['dhcp_hosts'] == [dict(mac=config['domain']['interfaces'][1]['mac'], ip='10.20.30.40',
                                          name='web1')]
    management = config['networks'][0]['dhcp_hosts'][0]
    assert management == dict(mac=config['domain']['interfaces'][0]['mac'], ip='auto')
    assert config['reservations'] == ['vagrant-libvirt %s' % management['mac'],
                                      'shop-10.20.0.0-16 %s' % network['dhcp_hosts'][0]['mac']]


def test_static_ip_without_dhcp_is_set_in_the_guest():
    config = settings(vm_networks=[{'private_network': {'ip': '10.9.0.5', 'dhcp_enabled': False}}])
    assert config['guest_addresses'] == [dict(mac=config['domain']['interfaces'][1]['mac'], method='static',
                                              ip='10.9.0.5', prefix=24)]
    assert config['reservations'] == ['vagrant-libvirt %s' % config['domain']['interfaces'][0]['mac']]


def test_private_networks_are_configured_in_the_guest_as_vagrant_does_unless_auto_config_is_false():
    config = settings(vm_networks=[{'private_network': {'ip': '10.9.0.5', 'netmask': '255.255.0.0'}},
                                   {'private_network': {'type': 'dhcp'}},
                                   {'private_network': {'ip': '10.8.0.5', 'auto_config': False}},
                                   {'private_network': {'type': 'dhcp', 'auto_config': 'no'}}])
    macs = [interface['mac'] for interface in config['domain']['interfaces']]
    assert config['guest_addresses'] == [dict(mac=macs[1], method='static', ip='10.9.0.5', prefix=16),
                                         dict(mac=macs[2], method='dhcp')]


def test_existing_network_by_name_is_not_owned():
    config = settings(vm_networks=[{'private_network': {'network_name': 'default'}}])
    assert config['networks'][1]['name'] == 'default' and not config['networks'][1]['owned']
    assert config['owned_networks'] == ['vagrant-libvirt']


def test_dhcp_network_public_network_tunnel_and_forwarded_port():
    config = settings(libvirt_mgmt_attach=False, vm_networks=[
        {'private_network': {'type': 'dhcp'}},
        {'public_network': {'dev': 'eno1', 'mode': 'bridge'}},
        {'private_network': {'libvirt__tunnel_type': 'udp', 'libvirt__tunnel_port': 4000}},
        {'forwarded_port': {'guest': 80, 'host': 8080}},
        {'forwarded_port': {'guest': 443, 'host': 8443, 'gateway_ports': True}}])
    interfaces = config['domain']['interfaces']
    assert config['networks'][0]['address'] == '172.28.128.0/24' and config['management_network'] is None
    assert interfaces[1]['type'] == 'direct' and interfaces[1]['dev'] == 'eno1'
    assert interfaces[2]['type'] == 'udp' and interfaces[2]['tunnel_port'] == 4000
    assert config['forwarded_ports'][0]['host_ip'] == '127.0.0.1'
    assert config['forwarded_ports'][1]['host_ip'] == '*'


def test_disks_cdroms_and_their_devices():
    config = settings(libvirt_storage=[{'size': '20G'}, {'device': 'cdrom', 'path': '/srv/x.iso'},
                                       {'size': '1G', 'type': 'raw', 'device': 'vdd', 'cache': 'none'}])
    assert [d['volume'] for d in config['disks']] == ['shop_web-vdb.qcow2', 'shop_web-vdd.raw']
    assert config['domain']['cdroms'] == [{'path': '/srv/x.iso'}]
    disks = machine_storage.domain_disks(['shop_web.img', 'shop_web_1.img'], config)
    assert [(d['device'], d['volume']) for d in disks] == [
        ('vda', 'shop_web.img'), ('vdc', 'shop_web_1.img'), ('vdb', 'shop_web-vdb.qcow2'), ('vdd', 'shop_web-vdd.raw')]
    assert disks[3]['cache'] == 'none' and disks[3]['format'] == 'raw'


def test_9p_folder_becomes_a_filesystem_and_project_folder_can_be_disabled():
    config = settings(vm_synced_folders=[{'src': 'code', 'dest': '/code', 'type': '9p', 'accessmode': 'mapped'},
                                         {'dest': '/vagrant', 'disabled': True}])
    assert [f['dest'] for f in config['synced_folders']] == ['/code']
    filesystem = config['domain']['filesystems'][0]
    assert filesystem['source'] == '/srv/labs/shop/code' and filesystem['accessmode'] == 'mapped'
    assert filesystem['target'] == config['synced_folders'][0]['tag'] and len(filesystem['target']) <= 31


def test_provisioners():
    config = settings(vm_provision=[{'type': 'shell', 'inline': 'echo hi'},
                                    {'type': 'shell', 'path': 'setup.sh', 'args': ['-x'], 'run': 'always'},
                                    {'type': 'file', 'source': 'app.conf', 'destination': '/etc/app.conf'}])
    steps = config['provisioners']
    assert steps[0]['run'] == 'once' and steps[1]['path'] == '/srv/labs/shop/setup.sh'
    assert steps[2]['source'] == '/srv/labs/shop/app.conf'


def test_secrets_never_reach_the_fact():
    config = settings(libvirt_password='s3cret-pw', libvirt_graphics_passwd='vnc-pw-9')
    assert 's3cret-pw' not in repr(config) and 'vnc-pw-9' not in repr(config)


def test_random_hostname_is_stable_per_project():
    one = settings(libvirt_random_hostname=True)['name']
    assert one.startswith('shop_web_') and one == settings(libvirt_random_hostname=True)['name']
    assert one != settings(libvirt_random_hostname=True, inventory_dir='/srv/labs/other/shop')['name']


def test_remote_hypervisor_by_ssh_runs_on_the_controller():
    config = settings(libvirt_host='hv1', libvirt_connect_via_ssh=True, libvirt_username='admin')
    assert config['hypervisor'] == 'localhost' and config['connection']['host'] == 'hv1'
    assert settings(libvirt_host='hv1')['hypervisor'] == 'hv1'


@pytest.mark.parametrize('variables, expected', [
    (dict(libvirt_memroy=512), 'libvirt_memroy is not a setting of vagrantless.libvirt; did you mean libvirt_memory?'),
    (dict(vm_netwroks=[]), 'vm_netwroks is not a setting of vagrantless.libvirt; did you mean vm_networks?'),
    (dict(libvirt_memory='lots'), "libvirt_memory"),
    (dict(libvirt_suspend_mode='hibernate'), 'libvirt_suspend_mode'),
    (dict(libvirt_cpu_mode='fastest'), 'libvirt_cpu_mode'),
])
def test_every_problem_names_host_variable_and_value(variables, expected):
    with pytest.raises(machine_options.SettingsError) as error:
        settings(**variables)
    assert 'host web: ' in str(error.value) and expected in str(error.value)


def test_own_variables_of_users_are_left_alone():
    settings(vm_owner='me', ssh_jump='bastion', my_memory=1)  # no near miss, not our prefix


@pytest.mark.parametrize('variables, option', [
    (dict(vm_networks=[{'privat_network': {'ip': '10.0.0.2'}}]), 'vm_networks[0]'),
    (dict(vm_networks=[{'private_network': {'ip': '10.0.0.300'}}]), 'vm_networks[0].ip'),
    (dict(vm_networks=[{'private_network': {'mac': 'zz:54:00:00:00:01', 'ip': '10.0.0.2'}}]), 'vm_networks[0].mac'),
    (dict(vm_networks=[{'forwarded_port': {'guest': 80, 'host': 70000}}]), 'vm_networks[0].host'),
    (dict(vm_networks=[{'forwarded_port': {'guest': 80, 'host': 8080, 'protocol': 'udp'}}]),
     'vm_networks[0].protocol'),
    (dict(vm_synced_folders=[{'src': '.', 'dest': 'relative'}]), 'vm_synced_folders[0].dest'),
    (dict(vm_synced_folders=[{'src': '.', 'dest': '/x', 'type': 'nfs'}]), 'vm_synced_folders[0].type'),
    (dict(vm_provision=[{'type': 'ansible'}]), 'vm_provision[0].type'),
    (dict(vm_provision=[{'type': 'shell'}]), 'vm_provision[0]'),
    (dict(libvirt_storage=[{'type': 'vmdk'}]), 'libvirt_storage[0].type'),
    (dict(vagrantless_lab='my lab'), 'vagrantless_lab'),
])
def test_bad_structures_name_the_option(variables, option):
    with pytest.raises(ValidationError) as error:
        settings(**variables)
    assert option in error.value.option


def test_role_argument_specs_are_current():
    """roles/*/meta/argument_specs.yml are generated from these settings: never stale."""
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, '.collections'))
    proc = subprocess.run([sys.executable, os.path.join(ROOT, 'tests', 'argument_specs.py'), '--check'], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert proc.returncode == 0, proc.stdout


def test_tunnels_are_closed_only_where_records_say_they_may_run(tmp_path):
    local = settings(vagrantless_state_dir=str(tmp_path))
    assert local['tunnels_open'] is False
    records = tmp_path / 'tunnels' / local['name']
    records.mkdir(parents=True)
    (records / '8080.json').write_text('{}')
    again = settings(vagrantless_state_dir=str(tmp_path))
    assert again['tunnels_open'] is True and again['digest'] == local['digest']  # up's fast path unaffected
    assert settings(vagrantless_state_dir=str(tmp_path / 'other'), libvirt_host='hv1')['tunnels_open'] is True


def test_without_a_key_path_the_key_is_vagrants_insecure_key_as_vagrant_uses_it(tmp_path, monkeypatch):
    home, installed = tmp_path / 'vagrant.d', tmp_path / 'gems' / 'vagrant-2.3.4' / 'keys'
    installed.mkdir(parents=True)
    (installed / 'vagrant').write_text(u'key')
    monkeypatch.setattr(machine, 'VAGRANT_INSTALLED_KEYS', (str(tmp_path / 'gems' / 'vagrant-*' / 'keys' / 'vagrant'),))
    state = str(tmp_path / 'state')
    # an installed Vagrant's key: copied into the state directory (private) before use
    assert machine.vagrant_insecure_key(state, dict(VAGRANT_HOME=str(home))) == (
        os.path.join(state, 'insecure_private_key'), str(installed / 'vagrant'))
    # the copy Vagrant keeps in its home wins, used where it is
    home.mkdir()
    (home / 'insecure_private_key').write_text(u'key')
    assert machine.vagrant_insecure_key(state, dict(VAGRANT_HOME=str(home))) == (
        str(home / 'insecure_private_key'), None)
    # no Vagrant at all: ssh's own keys
    monkeypatch.setattr(machine, 'VAGRANT_INSTALLED_KEYS', ())
    assert machine.vagrant_insecure_key(state, dict(VAGRANT_HOME=str(tmp_path / 'none'))) == (None, None)
    monkeypatch.setenv('VAGRANT_HOME', str(home))
    config = settings()
    assert config['ssh']['box_key'] == str(home / 'insecure_private_key') and config['ssh']['insert_key']
    assert config['ssh']['box_key_source'] is None
