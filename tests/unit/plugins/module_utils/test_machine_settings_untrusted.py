# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Everything a later step of ``up`` refuses is refused by the machine's settings first (so
``up`` never fails halfway after the pool and the box were touched), naming the variable and
the item, never crashing on a value of the wrong type."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import machine, machine_options
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

PRIVATE = {'private_network': {'ip': '10.20.30.40'}}


def config(**variables):
    base = dict(inventory_dir='/srv/labs/shop', vm_box='vagrantless/tiny')
    base.update(variables)
    return machine.Machine('web', base).config()


def private(**options):
    return [{'private_network': dict({'ip': '10.20.30.40'}, **options)}]


def port(**options):
    return [{'forwarded_port': dict({'guest': 80, 'host': 8080}, **options)}]


BAD = [
    # disks and sizes
    (dict(libvirt_storage=[{'size': 'lots'}]), 'libvirt_storage[0].size'),
    (dict(libvirt_storage=[{'size': '-1G'}]), 'libvirt_storage[0].size'),
    (dict(libvirt_storage=[{'size': 0}]), 'libvirt_storage[0].size'),
    (dict(libvirt_storage=[{'device': 'vdb;x'}]), 'libvirt_storage[0].device'),
    (dict(libvirt_storage=[{'device': 'vda'}]), 'libvirt_storage[0].device'),
    (dict(libvirt_storage=[{'device': 'vdb'}, {'device': 'vdb'}]), 'libvirt_storage[1].device'),
    (dict(libvirt_storage=[{'path': 'a b.qcow2'}]), 'libvirt_storage[0].path'),
    (dict(libvirt_storage=[{'path': 7}]), 'libvirt_storage[0].path'),
    (dict(libvirt_storage=[{'device': 'cdrom', 'path': 'relative.iso'}]), 'libvirt_storage[0].path'),
    (dict(libvirt_storage=[{'shareable': 'maybe'}]), 'libvirt_storage[0].shareable'),
    (dict(libvirt_machine_virtual_size=0), 'libvirt_machine_virtual_size'),
    (dict(libvirt_machine_virtual_size=-5), 'libvirt_machine_virtual_size'),
    (dict(libvirt_memory=0), 'libvirt_memory'),
    (dict(libvirt_cpus=-1), 'libvirt_cpus'),
    (dict(libvirt_cpus=2, libvirt_cputopology={'sockets': 1, 'cores': 1, 'threads': 1}), 'libvirt_cputopology'),
    (dict(libvirt_kernel='vmlinuz'), 'libvirt_kernel'),
    (dict(libvirt_graphics_passwd='far-too-long'), 'libvirt_graphics_passwd'),
    # forwarded ports
    (dict(vm_networks=port(host_ip='10.0.0.300')), 'vm_networks[0].host_ip'),
    (dict(vm_networks=port(host_ip='eth0')), 'vm_networks[0].host_ip'),
    (dict(vm_networks=port(guest_ip='-oProxyCommand=x')), 'vm_networks[0].guest_ip'),
    (dict(vm_networks=port(guest_ip='10.0.0.1\n')), 'vm_networks[0].guest_ip'),
    (dict(vm_networks=port(gateway_ports=True, host_ip='127.0.0.1')), 'vm_networks[0].host_ip'),
    (dict(vm_networks=port(gateway_ports='yes please')), 'vm_networks[0].gateway_ports'),
    (dict(vm_networks=port(host=0)), 'vm_networks[0].host'),
    (dict(vm_networks=port(guest='80')), 'vm_networks[0].guest'),
    # networks
    (dict(vm_networks=['private_network']), 'vm_networks[0]'),
    (dict(vm_networks=[{'private_network': 'ip=10.1.1.1'}]), 'vm_networks[0]'),
    (dict(vm_networks=[{'private_network': ['10.1.1.1']}]), 'vm_networks[0]'),
    (dict(vm_networks=[{'private_network': {'ip': '10.20.30.40'}, 'public_network': {}}]), 'vm_networks[0]'),
    (dict(vm_networks=private(ip='10.20.30.400')), 'vm_networks[0].ip'),
    (dict(vm_networks=private(ip=['10.20.30.40'])), 'vm_networks[0].ip'),
    (dict(vm_networks=private(netmask='255.0.255.0')), 'vm_networks[0]'),
    (dict(vm_networks=private(mtu='big')), 'vm_networks[0].mtu'),
    (dict(vm_networks=private(mtu=10)), 'vm_networks[0].mtu'),
    (dict(vm_networks=private(dhcp_start='10.99.0.1')), 'vm_networks[0].dhcp_start'),
    (dict(vm_networks=private(dhcp_start='10.20.30.200', dhcp_stop='10.20.30.100')), 'vm_networks[0].dhcp_start'),
    (dict(vm_networks=private(host_ip='10.21.0.1')), 'vm_networks[0].host_ip'),
    (dict(vm_networks=private(ip='10.20.30.1')), 'vm_networks[0].ip'),
    (dict(vm_networks=private(mac='52:54:00:zz:00:01')), 'vm_networks[0].mac'),
    (dict(vm_networks=private(network_name='a b')), 'vm_networks[0].network_name'),
    (dict(vm_networks=private(dhcp_enabled='perhaps')), 'vm_networks[0].dhcp_enabled'),
    (dict(vm_networks=private(auto_config={'x': 1})), 'vm_networks[0].auto_config'),
    (dict(vm_networks=private(ipv6_address='fd00::zz')), 'vm_networks[0].ipv6_address'),
    (dict(vm_networks=private(forward_device='eth0;x')), 'vm_networks[0].forward_device'),
    (dict(libvirt_management_network_address='192.168.121.0/31'), 'libvirt_management_network_address'),
    (dict(libvirt_management_network_address='garbage'), 'libvirt_management_network_address'),
    (dict(libvirt_management_network_mtu=9), 'libvirt_management_network_mtu'),
    (dict(libvirt_management_network_name='a/b'), 'libvirt_management_network_name'),
    (dict(libvirt_management_network_mac='01:00:5e:00:00:01'), 'libvirt_management_network_mac'),
    # the hostname
    (dict(vm_hostname='web server'), 'vm_hostname'),
    (dict(vm_hostname='web\n'), 'vm_hostname'),
    (dict(vm_hostname='-web'), 'vm_hostname'),
    (dict(vm_hostname='w' * 64), 'vm_hostname'),
    (dict(vm_hostname='_web', vm_networks=PRIVATE and [PRIVATE]), 'vm_hostname'),
    # synced folders
    (dict(vm_synced_folders=['/vagrant']), 'vm_synced_folders[0]'),
    (dict(vm_synced_folders=[{'dest': 'relative'}]), 'vm_synced_folders[0].dest'),
    (dict(vm_synced_folders=[{'dest': '/srv/../etc'}]), 'vm_synced_folders[0].dest'),
    (dict(vm_synced_folders=[{'dest': '/srv/x\n'}]), 'vm_synced_folders[0].dest'),
    (dict(vm_synced_folders=[{'dest': '/srv', 'src': 5}]), 'vm_synced_folders[0].src'),
    (dict(vm_synced_folders=[{'dest': '/srv', 'owner': 'root;x'}]), 'vm_synced_folders[0].owner'),
    (dict(vm_synced_folders=[{'dest': '/srv', 'rsync__exclude': '.git'}]), 'vm_synced_folders[0].rsync__exclude'),
    (dict(vm_synced_folders=[{'dest': '/srv', 'rsync__args': [5]}]), 'vm_synced_folders[0].rsync__args[0]'),
    (dict(vm_synced_folders=[{'dest': '/srv', 'type': '9p', 'accessmode': 'open'}]),
     'vm_synced_folders[0].accessmode'),
    (dict(vm_synced_folders=[{'dest': '/srv', 'type': 'nfs'}]), 'vm_synced_folders[0].type'),
    # provisioners
    (dict(vm_provision=['echo hi']), 'vm_provision[0]'),
    (dict(vm_provision=[{'path': 5}]), 'vm_provision[0].path'),
    (dict(vm_provision=[{'inline': ['echo']}]), 'vm_provision[0].inline'),
    (dict(vm_provision=[{'inline': 'x', 'args': [{'a': 1}]}]), 'vm_provision[0].args[0]'),
    (dict(vm_provision=[{'type': 'file', 'source': 5, 'destination': '/x'}]), 'vm_provision[0].source'),
    (dict(vm_provision=[{'inline': 'x', 'privileged': 'sure'}]), 'vm_provision[0].privileged'),
    (dict(vm_provision=[{'type': 'ansible'}]), 'vm_provision[0].type'),
    # box, pool, SSH, connection
    (dict(vm_box='bad box'), 'vm_box'),
    (dict(vm_box_version='latest!'), 'vm_box_version'),
    (dict(vm_box_url='http://x/\n'), 'vm_box_url'),
    (dict(vm_box_server_url='file:///etc'), 'vm_box_server_url'),
    (dict(vm_box_server_url='http://boxes.example/a b'), 'vm_box_server_url'),
    (dict(vm_box_check_update='sometimes'), 'vm_box_check_update'),
    (dict(libvirt_storage_pool_name='a/b'), 'libvirt_storage_pool_name'),
    (dict(libvirt_storage_pool_path='relative'), 'libvirt_storage_pool_path'),
    (dict(ssh_username='root -oProxyCommand=x'), 'ssh_username'),
    (dict(ssh_port=0), 'ssh_port'),
    (dict(ssh_port=70000), 'ssh_port'),
    (dict(ssh_private_key_path='/keys/"x'), 'ssh_private_key_path'),
    (dict(ssh_private_key_path='/keys/x\nProxyCommand y'), 'ssh_private_key_path'),
    (dict(libvirt_connect_via_ssh=True, libvirt_host='hv1/system?socket=/x#'), 'libvirt_host'),
    (dict(libvirt_connect_via_ssh=True, libvirt_username='root@evil'), 'libvirt_username'),
    (dict(libvirt_connect_via_ssh=True, libvirt_id_ssh_key_file='/k\n'), 'libvirt_id_ssh_key_file'),
    (dict(libvirt_socket='relative'), 'libvirt_socket'),
    (dict(libvirt_uri='qemu:///system\n'), 'libvirt_uri'),
    (dict(libvirt_qemu_use_session=True, libvirt_system_uri='x y'), 'libvirt_system_uri'),
    # timeouts, names
    (dict(vm_boot_timeout=0), 'vm_boot_timeout'),
    (dict(libvirt_ip_address_timeout=-1), 'libvirt_ip_address_timeout'),
    (dict(vm_graceful_halt_timeout=-1), 'vm_graceful_halt_timeout'),
    (dict(libvirt_default_prefix='x' * 95), 'libvirt_default_prefix + inventory_hostname'),
    (dict(vagrantless_lab='a b'), 'vagrantless_lab'),
]


@pytest.mark.parametrize('variables, option', BAD, ids=['%s-%d' % (case[1], n) for n, case in enumerate(BAD)])
def test_refused_naming_the_variable_and_item(variables, option):
    with pytest.raises((ValidationError, machine_options.SettingsError)) as caught:
        config(**variables)
    error = caught.value
    named = error.option if isinstance(error, ValidationError) else str(error)
    assert option in named, str(error)
    if isinstance(error, ValidationError):
        assert error.option.startswith('host web: ')


@pytest.mark.parametrize('variables', [
    dict(vm_networks=private(mtu='1500', dhcp_enabled='yes')),
    dict(vm_networks=port(host_ip='0.0.0.0', gateway_ports=True)),
    dict(vm_networks=port(guest_ip='10.0.0.5')),
    dict(libvirt_storage=[{'size': '20G', 'device': 'vdc'}, {'device': 'cdrom', 'path': '/isos/x.iso'}]),
    dict(vm_hostname='web-1.shop.example'),
    dict(vm_synced_folders=[{'dest': '/srv', 'owner': 'www-data', 'rsync__exclude': ['.git/']}]),
    dict(vm_provision=[{'path': 'setup.sh', 'args': ['a b', '--x']}, {'inline': 'echo', 'args': 'one'}]),
    dict(libvirt_connect_via_ssh=True, libvirt_host='hv1.example:2222', libvirt_username='admin'),
    dict(ssh_private_key_path='/keys/my key'),
])
def test_good_settings_still_pass(variables):
    assert config(**variables)['name'] == 'shop_web'


def test_typed_network_options_are_converted():
    network = config(vm_networks=private(mtu='1500', dhcp_enabled='no'))['networks'][1]
    assert network['mtu'] == 1500 and network['dhcp_enabled'] is False


def test_vagrant_server_url_on_the_controller_wins_over_the_setting(monkeypatch):
    """Vagrant's order; read where the settings are made (the controller), passed to the
    module wherever the box is added (a remote hypervisor has no such variable)."""
    monkeypatch.delenv('VAGRANT_SERVER_URL', raising=False)
    assert config()['box']['server_url'] is None and config()['box']['check_update'] is True
    assert config(vm_box_server_url='https://boxes.example')['box']['server_url'] == 'https://boxes.example'
    monkeypatch.setenv('VAGRANT_SERVER_URL', 'http://127.0.0.1:8099')
    box = config(vm_box_server_url='https://boxes.example', vm_box_check_update=False)['box']
    assert box['server_url'] == 'http://127.0.0.1:8099' and box['check_update'] is False
    monkeypatch.setenv('VAGRANT_SERVER_URL', 'ftp://x')
    with pytest.raises(ValidationError) as caught:
        config()
    assert caught.value.option == 'host web: VAGRANT_SERVER_URL'
