# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Where a machine's addresses come from: the options libvirt_lease_facts and the leases
    inventory plugin share (both read them through module_utils/leases.py's AddressBook)."""

    DOCUMENTATION = r'''
options:
  sources:
    description:
      - Where addresses come from, in order of preference; the first source that knows a MAC's
        address wins. C(reservation) is the network's DHCP host entry (known before boot); C(lease)
        is libvirt's lease API; C(dnsmasq) reads dnsmasq's lease and status files; C(agent) asks the
        qemu guest agent; C(arp) reads the hypervisor's ARP table.
    type: list
    elements: str
    choices: [reservation, lease, dnsmasq, agent, arp]
    default: [reservation, lease, dnsmasq]
  lease_files:
    description:
      - Files or directories read by the C(dnsmasq) source.
    type: list
    elements: path
    default: [/var/lib/libvirt/dnsmasq]
  management_network:
    description:
      - The network whose address is the machine's address (vagrant-libvirt's
        C(management_network_name)) when it has several - the module's C(ip), the inventory's
        C(ansible_host); on no such network, the first interface's address.
    type: str
    default: vagrant-libvirt
'''
