# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The parts a Machine composes, each on its own: the checked settings (machine_options), the
networks (machine_networks), the disks (machine_storage) and the guest's folders and
provisioners (machine_guest)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import (
    machine, machine_guest, machine_networks, machine_options, machine_storage, validate)
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError


def settings(host='web', **variables):
    return machine_options.MachineSettings(host, variables)


def test_settings_are_checked_against_the_spec_with_every_problem_named():
    with pytest.raises(machine_options.SettingsError) as error:
        settings(ssh_port='many', libvirt_tpyo=1)
    assert len(error.value.problems) == 2
    assert any('libvirt_tpyo is not a setting' in problem for problem in error.value.problems)
    assert any('ssh_port' in problem and "(given: 'many')" in problem for problem in error.value.problems)
    with pytest.raises(ValidationError) as error:
        settings(host='bad host!')
    assert error.value.option == 'inventory_hostname'


def test_settings_checks_name_the_host_and_the_setting():
    given = settings(ssh_port='2222')
    assert given.get('ssh_port') == 2222 and given.get('vm_networks') == []
    with pytest.raises(ValidationError) as error:
        given.text('vm_provision[0].inline', 'a\x00b')
    assert error.value.option == 'host web: vm_provision[0].inline'
    with pytest.raises(ValidationError) as error:
        given.checked(lambda inner: 'vm_networks[1].' + inner, validate.name, 'bad name', 'network_name')
    assert error.value.option == 'host web: vm_networks[1].network_name'
    assert given.texts('x', None) == [] and given.flag('x', None, True) is True
    assert given.ip('10.1.2.3', 'x') == '10.1.2.3'


def test_strip_libvirt_prefix():
    assert machine_options.strip_libvirt_prefix({'libvirt__mtu': 1, 'ip': 'x'}) == {'mtu': 1, 'ip': 'x'}
    assert machine_options.strip_libvirt_prefix(None) == {}


def test_networks_build_then_check_names_the_setting():
    parts = machine_networks.MachineNetworks(settings(vm_networks=[
        {'private_network': {'ip': '10.20.30.40', 'libvirt__dhcp_start': '10.99.0.1'}},
        {'forwarded_port': {'guest': 80, 'host': 8080}}]), 'shop_web', 'shop')
    networks, interfaces, ports = parts.build()
    assert [net['name'] for net in networks] == ['vagrant-libvirt', 'shop-10.20.30.0-24']
    assert [net['guest_ipv6'] for net in networks] == [True, True]  # vagrant-libvirt's default, both
    assert [iface['mac'] for iface in interfaces] == [machine_networks.derived_mac('shop_web/0'),
                                                      machine_networks.derived_mac('shop_web/1')]
    assert ports == [dict(guest=80, host=8080, host_ip='127.0.0.1', guest_ip=None, gateway_ports=False, id=None)]
    with pytest.raises(ValidationError) as error:
        parts.check(networks)
    assert error.value.option == 'host web: vm_networks[0].dhcp_start'


def test_extra_disks_are_named_after_the_domain_each_on_the_next_device():
    given = settings(libvirt_storage=[{}, {'size': '2G', 'cache': 'unsafe'}, {'path': '/srv/data.qcow2'},
                                      {'device': 'cdrom'}], libvirt_volume_cache='none')
    disks, cdroms = machine_storage.volumes(given, 'shop_web')
    # libvirt_volume_cache is the box disk's: an extra disk has its own, `default` unless given
    assert [disk['cache'] for disk in disks] == ['default', 'unsafe', 'default']
    assert [(disk['volume'], disk['device']) for disk in disks] == [
        ('shop_web-vdb.qcow2', 'vdb'), ('shop_web-vdc.qcow2', 'vdc'), ('data.qcow2', 'vdd')]
    assert cdroms == [{}]
    with pytest.raises(ValidationError) as error:
        machine_storage.volumes(settings(libvirt_storage=[{'device': 'vda'}]), 'shop_web')
    assert error.value.option == 'host web: libvirt_storage[0].device'


def test_project_directory_is_synced_unless_listed():
    folders = machine_guest.synced_folders(settings(vm_synced_folders=[{'src': 'data', 'dest': '/srv'}]), '/p')
    assert [(f['src'], f['dest']) for f in folders] == [('/p', '/vagrant'), ('/p/data', '/srv')]
    assert all(len(f['tag']) <= 31 and f['tag'] == machine_guest.mount_tag(f['dest']) for f in folders)
    assert machine_guest.synced_folders(settings(vm_synced_folders=[{'dest': '/vagrant', 'disabled': True}]),
                                        '/p') == []


def test_provisioners_are_completed_from_the_project_directory():
    steps = machine_guest.provisioners(settings(vm_provision=[{'path': 'setup.sh', 'args': 'x'},
                                                              {'type': 'file', 'source': 'a', 'destination': '/b'}]),
                                       '/p')
    assert steps[0] == dict(type='shell', run='once', name='shell 1', privileged=True, inline=None, args=['x'],
                            path='/p/setup.sh')
    assert steps[1] == dict(type='file', run='once', name='file 2', privileged=True, source='/p/a', destination='/b')


def test_machine_composes_the_parts():
    config = machine.Machine('web', dict(inventory_dir='/srv/labs/shop', vm_box='tiny',
                                         libvirt_storage=[{}])).config()
    assert config['disks'][0]['volume'] == 'shop_web-vdb.qcow2'
    assert config['domain']['interfaces'][0]['mac'] == machine_networks.derived_mac('shop_web/0')
    assert config['synced_folders'][0]['dest'] == '/vagrant'
