# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Networks without root (usernet): a session machine's user-mode interface with its forwards and
its multicast links, as QEMU arguments; the forwards read back from a definition (only where the
command line is exactly ours); host ports chosen free and refused when taken; and a session
machine's settings turned into them, with what a session cannot do refused before anything runs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket

import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import (
    domain_xml, locks, machine, machine_networks, usernet, xmltree)
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

MAC = '52:54:00:aa:bb:cc'


def user(*forwards, **extra):
    return dict(dict(type='user', mac=MAC, forwards=list(forwards)), **extra)


def definition(*args):
    """A domain definition whose command line has ``args``."""
    tree = xmltree.parse('<domain xmlns:qemu="%s"><name>x</name><qemu:commandline/></domain>' % usernet.QEMU_NS)
    for arg in args:
        xmltree.etree.SubElement(tree.find('{%s}commandline' % usernet.QEMU_NS),
                                 '{%s}arg' % usernet.QEMU_NS).set('value', arg)
    return tree


def test_arguments_give_each_nic_its_netdev_and_slot():
    args = usernet.arguments([
        dict(type='network', network='default', mac='52:54:00:00:00:01'),
        user(dict(guest=22, host=2200, host_ip='127.0.0.1'),
             dict(guest=80, host=8080, host_ip='0.0.0.0', guest_ip='10.0.2.15')),
        dict(type='mcast', mac='52:54:00:00:00:02', tunnel_ip='239.255.1.2', tunnel_port=21000,
             tunnel_local_ip='127.0.0.1', model='e1000')])
    assert args == [
        '-netdev', 'user,id=vlnet0,hostfwd=tcp:127.0.0.1:2200-:22,hostfwd=tcp:0.0.0.0:8080-10.0.2.15:80',
        '-device', 'virtio-net-pci,netdev=vlnet0,mac=52:54:00:aa:bb:cc,addr=0x10',
        '-netdev', 'socket,id=vlnet1,mcast=239.255.1.2:21000,localaddr=127.0.0.1',
        '-device', 'e1000,netdev=vlnet1,mac=52:54:00:00:00:02,addr=0x11']


def test_what_would_reach_the_command_line_is_checked_naming_the_item():
    cases = [
        ([user(dict(guest=22, host_ip='127.0.0.1,hostfwd=tcp::1-:2'))], 'interfaces[0].forwards[0].host_ip'),
        ([user(dict(guest=22, guest_ip='x'))], 'interfaces[0].forwards[0].guest_ip'),
        # a number netaddr would read as 127.0.0.1: no address here (QEMU would read it, a comparison not)
        ([user(dict(guest=22, host_ip=2130706433))], 'interfaces[0].forwards[0].host_ip'),
        ([user(dict(guest=70000))], 'interfaces[0].forwards[0].guest'),
        ([user(dict(guest=22, host=True))], 'interfaces[0].forwards[0].host'),
        ([user('22')], 'interfaces[0].forwards[0]'),
        ([user(dict(guest=22, host=2201), dict(guest=80, host=2201))], 'interfaces[0].forwards[1].host'),
        ([user(model='ne2k_pci')], 'interfaces[0].model'),
        ([dict(type='user')], 'interfaces[0].mac'),
        ([dict(type='mcast', mac=MAC, tunnel_ip='10.0.0.1', tunnel_port=1, tunnel_local_ip='127.0.0.1')],
         'interfaces[0].tunnel_ip'),
        ([dict(type='mcast', mac=MAC, tunnel_ip='239.1.1.1', tunnel_local_ip='127.0.0.1')],
         'interfaces[0].tunnel_port'),
        ([dict(type='network', network='default', forwards=[dict(guest=22)])], 'interfaces[0].forwards'),
    ]
    for interfaces, option in cases:
        with pytest.raises(ValidationError) as error:
            usernet.check(interfaces)
        assert error.value.option == option, interfaces


def test_forwards_are_read_back_only_from_a_command_line_that_is_ours():
    tree = definition('-netdev', 'user,id=vlnet0,hostfwd=tcp:127.0.0.1:2200-:22,hostfwd=tcp:0.0.0.0:8080-:80',
                      '-device', 'virtio-net-pci,netdev=vlnet0,mac=52:54:00:aa:bb:cc,addr=0x10')
    assert usernet.defined_forwards(tree) == [dict(host_ip='127.0.0.1', host=2200, guest_ip=None, guest=22),
                                              dict(host_ip='0.0.0.0', host=8080, guest_ip=None, guest=80)]
    assert usernet.ssh_forward(tree) == ('127.0.0.1', 2200) and usernet.ssh_forward(tree, 2222) is None
    # a forward from every address is reached at the loopback one
    assert usernet.ssh_forward(tree, 80) == ('127.0.0.1', 8080)
    # another tool's, or a value out of range: no forward (never a crash)
    for value in ('user,id=mine,hostfwd=tcp:127.0.0.1:2200-:22', 'user,id=vlnet0,hostfwd=tcp:127.0.0.1:99999-:22',
                  'user,id=vlnet0,hostfwd=tcp:999.0.0.1:2200-:22', 'user,id=vlnet0,hostfwd=tcp:127.0.0.1:2200-:22\n',
                  'user,id=vlnet0,hostfwd=tcp:127.0.0.1:2200-:22,smb=/'):
        assert usernet.defined_forwards(definition('-netdev', value)) == [], value
    assert usernet.defined_forwards(None) == []


def test_a_port_is_kept_chosen_free_or_refused():
    mine = definition('-netdev', 'user,id=vlnet0,hostfwd=tcp:127.0.0.1:2203-:22')
    other = definition('-netdev', 'user,id=vlnet0,hostfwd=tcp:127.0.0.1:2200-:22,hostfwd=tcp:127.0.0.1:2201-:80')
    busy = set([2202])

    def bindable(host_ip, port):
        return port not in busy

    def ports(interfaces, current=None, running=False):
        resolved = usernet.resolve(interfaces, current, [other], running, bindable)
        return [forward['host'] for forward in resolved[0]['forwards']]

    # the first of 2200-2250 no other domain forwards from and nothing listens on; two forwards, two ports
    assert ports([user(dict(guest=22), dict(guest=80))]) == [2203, 2204]
    # a domain keeps the port it has for that guest port, whatever is free now
    assert ports([user(dict(guest=22))], current=mine) == [2203]
    # a port given: refused when another domain forwards from it, or something listens on it ...
    for given, why in ((2200, 'no other domain'), (2202, 'already listens')):
        with pytest.raises(ValidationError) as error:
            ports([user(dict(guest=22, host=given))])
        assert error.value.option == 'interfaces[0].forwards[0].host' and why in error.value.allowed
    # ... but not when the one listening is the running domain itself
    busy.add(2203)
    assert ports([user(dict(guest=22, host=2203))], current=mine, running=True) == [2203]
    busy.update(range(2200, 2251))
    with pytest.raises(ValidationError) as error:
        ports([user(dict(guest=22))])
    assert 'every one of 2200-2250 is taken' in error.value.allowed


def test_a_listening_port_is_seen_as_taken():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    try:
        port = listener.getsockname()[1]
        assert not usernet._bindable('127.0.0.1', port)
    finally:
        listener.close()
    assert usernet._bindable('127.0.0.1', port)


def test_the_definition_carries_the_command_line_and_drops_it_when_it_goes():
    spec = domain_xml.DomainSpec(dict(name='web', interfaces=[user(dict(guest=22, host=2200))],
                                      qemuargs=['-device', 'intel-iommu']))
    values = [arg.get('value') for arg in spec.desired({}).iter('{%s}arg' % usernet.QEMU_NS)]
    assert values[:2] == ['-netdev', 'user,id=vlnet0,hostfwd=tcp:127.0.0.1:2200-:22'] and values[-2:] == [
        '-device', 'intel-iommu']
    current = spec.desired({})
    assert current.find('devices/interface') is None  # on the command line only
    later = domain_xml.DomainSpec(dict(name='web', interfaces=[]))
    merged, changed, unused = xmltree.merge_and_compare(current, later.desired({}, new=False), later.rules())
    assert changed and merged.find('{%s}commandline' % usernet.QEMU_NS) is None
    same = domain_xml.DomainSpec(dict(name='web', interfaces=[user(dict(guest=22, host=2200))],
                                      qemuargs=['-device', 'intel-iommu']))
    assert not xmltree.merge_and_compare(current, same.desired({}, new=False), same.rules())[1]


def session(host='web', **variables):
    base = dict(inventory_dir='/srv/labs/shop', vm_box='vagrantless/tiny', libvirt_qemu_use_session=True)
    base.update(variables)
    return machine.Machine(host, base).config()


def test_a_session_machine_has_no_libvirt_network():
    config = session(vm_networks=[{'private_network': {'ip': '10.5.0.11'}},
                                  {'forwarded_port': {'guest': 80, 'host': 8080}},
                                  {'forwarded_port': {'guest': 22, 'host': 2222, 'id': 'ssh'}}])
    assert config['session'] and config['networks'] == [] and config['reservations'] == []
    assert config['management_network'] is None and config['forwarded_ports'] == []  # no SSH tunnels
    management, link = config['domain']['interfaces']
    assert management['type'] == 'user' and management['forwards'] == [
        dict(guest=22, host=2222, host_ip='127.0.0.1', guest_ip=None),
        dict(guest=80, host=8080, host_ip='127.0.0.1', guest_ip=None)]
    group, port = usernet.multicast_link('shop', '10.5.0.0/24')
    assert link == dict(type='mcast', mac=link['mac'], model=None, tunnel_ip=group, tunnel_port=port,
                        tunnel_local_ip='127.0.0.1')
    # the lab's other machine on that subnet joins the same link; the address is set in the guest
    other = session(host='db', vm_networks=[{'private_network': {'ip': '10.5.0.12'}}])
    assert other['domain']['interfaces'][1]['tunnel_ip'] == group
    assert config['guest_addresses'] == [dict(mac=link['mac'], method='static', ip='10.5.0.11', prefix=24)]
    # a qemu:///session URI is a session too; the SSH port is chosen at define time
    assert session(libvirt_qemu_use_session=None, libvirt_uri='qemu:///session')['domain']['interfaces'][0][
        'forwards'] == [dict(guest=22, host=0, host_ip='127.0.0.1')]


def test_what_a_session_cannot_do_is_refused_naming_the_setting():
    cases = [
        (dict(vm_networks=[{'public_network': {'dev': 'br0', 'type': 'bridge'}}]), 'vm_networks[0]'),
        (dict(vm_networks=[{'private_network': {'type': 'dhcp'}}]), 'vm_networks[0]'),
        (dict(vm_networks=[{'private_network': {'network_name': 'default'}}]), 'vm_networks[0]'),
        (dict(vm_networks=[{'private_network': {'ip': '10.5.0.11', 'auto_config': False}}]), 'vm_networks[0]'),
        (dict(libvirt_mgmt_attach=False, vm_networks=[{'forwarded_port': {'guest': 80, 'host': 8080}}]),
         'vm_networks[0]'),
        (dict(vm_networks=[{'forwarded_port': {'guest': 80, 'host': 8080, 'guest_ip': 'db.local'}}]),
         'vm_networks (libvirt_domain interfaces[0].forwards[1].guest_ip)'),
    ]
    for variables, option in cases:
        with pytest.raises(ValidationError) as error:
            session(**variables)
        assert error.value.option == 'host web: ' + option, variables


def test_an_ordinary_user_locks_in_its_own_runtime_directory():
    assert locks.lock_dir(0, {}) == locks.LOCK_DIR
    assert locks.lock_dir(1000, {'XDG_RUNTIME_DIR': '/run/user/1000'}) == '/run/user/1000/vagrantless/locks'
    assert locks.lock_dir(1000, {'XDG_RUNTIME_DIR': 'relative'}) == '/tmp/vagrantless-locks-1000'
    assert locks.lock_dir(1000, {}) == '/tmp/vagrantless-locks-1000'


def test_session_machines_on_two_hypervisors_never_share_a_private_network():
    web = session(vm_networks=[{'private_network': {'ip': '10.5.0.11'}}])
    db = session(host='db', libvirt_host='hv2', vm_networks=[{'private_network': {'ip': '10.5.0.12'}}])
    assert web['links'] == [dict(name='shop-10.5.0.0-24')]
    assert machine_networks.spanning_networks([web, db]) == [
        'private network shop-10.5.0.0-24 would span hypervisors hv2 (db), localhost (web): a libvirt network lives '
        'on one host, so put these machines on one hypervisor (libvirt_host) or give each hypervisor a network of its own']
    assert machine_networks.spanning_networks([web, session(host='db', vm_networks=[
        {'private_network': {'ip': '10.5.0.12'}}])]) == []
