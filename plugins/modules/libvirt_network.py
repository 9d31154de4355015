#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: libvirt_network
short_description: Manage a libvirt network the way vagrant-libvirt creates them
version_added: 0.1.0
description:
  - Owns one libvirt network, whichever vagrant-libvirt would make, the management network,
    a private network made from a guest address, an isolated, very isolated, routed, open or
    bridged network, and the DHCP reservations that give machines a known address before
    they boot.
  - Options carry vagrant-libvirt's names without the C(libvirt__) prefix.
  - When only an address is given and a network already serves exactly that subnet,
    that network is reused and its name returned, as vagrant-libvirt does. A subnet that
    overlaps another network, or a route of the hypervisor, fails before anything
    changes, naming the other network or interface.
  - DHCP reservations are added, changed and removed live and in the persistent
    definition through libvirt's network update API; the network is not restarted and
    running guests are not touched.
  - Other changes (subnet, forward mode, bridge, MTU...) go into the persistent
    definition; while the network runs they take effect only after a restart, reported
    as RV(restart_required). With O(restart=true) the network is restarted at once.
    Restarting a network drops the guests' links to it; their interfaces stay defined
    but are disconnected from the bridge until the guests are restarted or the
    interfaces re-attached, so prefer doing it with the machines stopped.
options:
  name:
    description:
      - The network name (vagrant-libvirt's C(network_name) or C(management_network_name)).
      - May be left out with O(address) or O(ip) to reuse the network that serves that subnet.
      - Given without O(address) or O(ip), an existing network keeps its definition; only its
        reservations (O(dhcp_hosts)), state and autostart are managed.
    type: str
  state:
    description:
      - C(present) defines and starts the network; C(inactive) defines it and stops it;
        C(absent) stops and undefines it.
      - C(absent) is refused while a defined domain has an interface on the network, unless
        O(force=true); the message names the domains.
    type: str
    default: present
    choices: [present, inactive, absent]
  autostart:
    description:
      - Whether libvirtd starts the network at its start. Unset keeps the current setting;
        a new network gets C(false), vagrant-libvirt's default.
    type: bool
  forward_mode:
    description:
      - C(nat) (default) reaches outside networks through NAT; C(route) routes without NAT;
        C(none) is an isolated network with a host address; C(veryisolated) has no host
        address at all (no DHCP, guests talk only to each other); C(open) adds no firewall
        rules; C(bridge) uses the existing host bridge O(bridge).
    type: str
    default: nat
    choices: [nat, route, none, veryisolated, open, bridge]
  forward_device:
    description:
      - The host interface that NAT or routed traffic leaves through. Default all.
    type: str
  bridge:
    description:
      - The bridge libvirt creates for the network (at most 15 characters; libvirt
        picks C(virbrN) when unset), or with O(forward_mode=bridge) the existing host bridge.
    type: str
  address:
    description:
      - The network in CIDR notation, such as C(10.20.30.0/24) (vagrant-libvirt's
        C(network_address) or C(management_network_address)). A bare address takes O(netmask).
      - Mutually exclusive with O(ip).
    type: str
  ip:
    description:
      - Any address inside the network, the way a Vagrantfile gives a guest's C(ip); the
        network is derived with O(netmask).
    type: str
  netmask:
    description:
      - The netmask for O(ip) (or a bare O(address)).
    type: str
    default: 255.255.255.0
  host_ip:
    description:
      - The host's address on the network. Default the first usable address.
    type: str
  dhcp_enabled:
    description:
      - Whether dnsmasq offers addresses on the network.
    type: bool
    default: true
  dhcp_start:
    description:
      - The first address DHCP offers. Default the first usable address, as in vagrant-libvirt's code
        (dnsmasq never offers the host's own address).
    type: str
  dhcp_stop:
    description:
      - The last address DHCP offers. Default the last address before the broadcast address.
    type: str
  dhcp_bootp_file:
    description:
      - The boot file DHCP hands out for PXE.
      - Printable ASCII without spaces, commas or control characters (libvirt copies it into dnsmasq's
        configuration).
    type: str
  dhcp_bootp_server:
    description:
      - The IPv4 address of the server holding O(dhcp_bootp_file). Default the DHCP server itself.
    type: str
  dhcp_hosts:
    description:
      - DHCP reservations, matched by MAC. Listed hosts are added or changed; hosts with
        C(state=absent) are removed; hosts not listed are kept unless O(purge_dhcp_hosts=true).
      - An address reserved for another MAC fails, naming that MAC.
    type: list
    elements: dict
    suboptions:
      mac:
        description: The machine's MAC address.
        type: str
        required: true
      ip:
        description:
          - The address to give it (required unless C(state=absent)).
          - C(auto) keeps the address the MAC has reserved or leased, else takes a free one of the DHCP range,
            so a machine's address is known before it boots without choosing it (what the C(up) role
            does on the management network).
          - RV(network.xml) shows the address chosen.
        type: str
      name:
        description: The host name dnsmasq gives it, a DNS name (letters, digits, C(-) and C(_), dot-separated).
        type: str
      state:
        description: Whether the reservation should exist.
        type: str
        default: present
        choices: [present, absent]
  purge_dhcp_hosts:
    description:
      - Remove reservations that O(dhcp_hosts) does not list.
    type: bool
    default: false
  domain_name:
    description:
      - The DNS domain of the network's DHCP/DNS server (answered locally only).
      - "A DNS name such as C(lab.example): labels of letters, digits, C(-) and C(_) separated by dots."
    type: str
  guest_ipv6:
    description:
      - Allow IPv6 between guests even without an IPv6 address on the network.
    type: bool
    default: false
  ipv6_address:
    description:
      - The host's IPv6 address on the network.
    type: str
  ipv6_prefix:
    description:
      - The prefix length for O(ipv6_address). Default 64.
    type: int
  mtu:
    description:
      - The MTU of the network's bridge. Default libvirt's (1500).
    type: int
  restart:
    description:
      - Restart a running network when a change can only take effect that way.
    type: bool
    default: false
  force:
    description:
      - With O(state=absent), remove the network even though domains use it.
    type: bool
    default: false
  only_unused:
    description:
      - With O(state=absent), leave a network that domains still use as it is (no change, RV(kept_for)
        names them) instead of failing. The C(destroy) role removes the networks a lab created this way,
        once their last machine is gone.
    type: bool
    default: false
  reuse:
    description:
      - When no network has O(name) but one serves exactly the subnet of O(address) or O(ip), use that
        network (as vagrant-libvirt reuses a network by its address) instead of failing on the overlap.
        RV(reused) tells.
    type: bool
    default: false
extends_documentation_fragment:
  - vagrantless.libvirt.connection
  - vagrantless.libvirt.attributes
attributes:
  diff_mode:
    description: Shows the network XML and its runtime state before and after.
    support: full
author:
  - vagrantless developers (@vagrantless)
'''

EXAMPLES = r'''
- name: vagrant-libvirt's management network
  vagrantless.libvirt.libvirt_network:
    name: vagrant-libvirt
    address: 192.168.121.0/24
    guest_ipv6: true

- name: A private network from a guest address, with the guest's address reserved
  vagrantless.libvirt.libvirt_network:
    name: lab0
    ip: 10.20.30.40
    dhcp_hosts:
      - mac: "52:54:00:12:34:56"
        ip: 10.20.30.40
        name: web

- name: Reuse whatever network serves 10.20.30.0/24
  vagrantless.libvirt.libvirt_network:
    address: 10.20.30.0/24
  register: found

- name: An isolated network for a switch lab, no DHCP
  vagrantless.libvirt.libvirt_network:
    name: fabric
    address: 10.99.0.0/24
    forward_mode: none
    dhcp_enabled: false
    mtu: 9000

- name: Remove a reservation without touching the others
  vagrantless.libvirt.libvirt_network:
    name: lab0
    ip: 10.20.30.40
    dhcp_hosts:
      - mac: "52:54:00:12:34:56"
        state: absent
'''

RETURN = r'''
network:
  description: The network after the run (empty when absent).
  returned: always
  type: dict
  contains:
    name:
      description: The network's name (the reused network's name when found by subnet).
      type: str
      sample: vagrant-libvirt
    uuid:
      description: Its UUID.
      type: str
      sample: 9f1d2c5e-3a8b-4d0e-8f6a-1b2c3d4e5f60
    bridge:
      description: Its bridge device.
      type: str
      sample: virbr1
    active:
      description: Whether it runs.
      type: bool
      sample: true
    autostart:
      description: Whether libvirtd starts it.
      type: bool
      sample: false
    xml:
      description: Its live XML.
      type: str
      sample: <network>...</network>
restart_required:
  description: The network runs with an older definition; restart it (O(restart=true)) to apply the change.
  returned: always
  type: bool
  sample: false
reused:
  description: The network was found by its subnet rather than by name.
  returned: always
  type: bool
  sample: false
kept_for:
  description: With O(only_unused), the domains that still use the network, which was therefore kept.
  returned: when the network was kept
  type: list
  elements: str
  sample: [demo_web]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import run_module
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import connection_argument_spec
from ansible_collections.vagrantless.libvirt.plugins.module_utils.network import NetworkManager
from ansible_collections.vagrantless.libvirt.plugins.module_utils.network_xml import FORWARD_MODES


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(
            name=dict(type='str'),
            state=dict(type='str', default='present', choices=['present', 'inactive', 'absent']),
            autostart=dict(type='bool'),
            forward_mode=dict(type='str', default='nat', choices=list(FORWARD_MODES)),
            forward_device=dict(type='str'),
            bridge=dict(type='str'),
            address=dict(type='str'),
            ip=dict(type='str'),
            netmask=dict(type='str', default='255.255.255.0'),
            host_ip=dict(type='str'),
            dhcp_enabled=dict(type='bool', default=True),
            dhcp_start=dict(type='str'),
            dhcp_stop=dict(type='str'),
            dhcp_bootp_file=dict(type='str'),
            dhcp_bootp_server=dict(type='str'),
            dhcp_hosts=dict(type='list', elements='dict', options=dict(
                mac=dict(type='str', required=True),
                ip=dict(type='str'),
                name=dict(type='str'),
                state=dict(type='str', default='present', choices=['present', 'absent']),
            )),
            purge_dhcp_hosts=dict(type='bool', default=False),
            domain_name=dict(type='str'),
            guest_ipv6=dict(type='bool', default=False),
            ipv6_address=dict(type='str'),
            ipv6_prefix=dict(type='int'),
            mtu=dict(type='int'),
            restart=dict(type='bool', default=False),
            force=dict(type='bool', default=False),
            only_unused=dict(type='bool', default=False),
            reuse=dict(type='bool', default=False),
        ),
        mutually_exclusive=[('address', 'ip')],
        supports_check_mode=True,
    )
    label = module.params['name'] or module.params['address'] or module.params['ip']
    run_module(module, NetworkManager, 'network %s' % label)


if __name__ == '__main__':
    main()
