# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lab over several hypervisors: which host each machine lives on, and the private networks
that would have to span two of them, refused by name before anything is made."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import machine, machine_networks

BASE = dict(inventory_dir='/srv/labs/shop', vm_box='vagrantless/tiny')


def fact(host, **variables):
    return machine.Machine(host, dict(BASE, **variables)).config()


@pytest.mark.parametrize('variables, name', [
    ({}, 'localhost'), (dict(libvirt_host='hv1'), 'hv1'), (dict(libvirt_uri='qemu:///system'), 'localhost'),
    (dict(libvirt_uri='qemu+ssh://root@hv2.example.com:2222/system'), 'hv2.example.com'),
    (dict(libvirt_connect_via_ssh=True, libvirt_host='hv3'), 'hv3'),
])
def test_the_hypervisor_a_machine_lives_on(variables, name):
    assert fact('web', **variables)['hypervisor_name'] == name


def test_a_private_network_across_two_hypervisors_is_named_with_its_machines():
    private = dict(vm_networks=[{'private_network': {'ip': '10.60.0.11'}}])
    other = dict(vm_networks=[{'private_network': {'ip': '10.60.0.12'}}])
    machines = [fact('web', libvirt_host='hv1', **private), fact('db', libvirt_host='hv2', **other),
                fact('cache', libvirt_host='hv2', vm_networks=[{'private_network': {'ip': '10.60.0.13'}}])]
    problems = machine_networks.spanning_networks(machines)
    assert len(problems) == 1
    assert problems[0].startswith('private network shop-10.60.0.0-24 would span hypervisors hv1 (web), '
                                  'hv2 (cache, db): ')


def test_one_hypervisor_or_only_the_management_network_is_fine():
    private = dict(vm_networks=[{'private_network': {'ip': '10.60.0.11'}}])
    assert machine_networks.spanning_networks([fact('web', **private), fact('db', **private)]) == []
    assert machine_networks.spanning_networks([fact('web', libvirt_host='hv1'), fact('db', libvirt_host='hv2')]) == []
    assert machine_networks.spanning_networks([fact('web', libvirt_host='hv1', **private),
                                               fact('db', libvirt_host='hv2')]) == []
