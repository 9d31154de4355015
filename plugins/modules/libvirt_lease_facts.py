#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: libvirt_lease_facts
short_description: Find a machine's addresses from DHCP reservations, leases, the guest agent or ARP
version_added: 0.1.0
description:
  - Returns the addresses of a domain's interfaces (or of given MACs), the way
    vagrant-libvirt learns a machine's address, optionally waiting until every
    interface on the wanted networks has one.
  - Sources are tried in the order given; the first that knows a MAC's address wins.
  - On timeout the failure lists the MACs, the networks, the lease table seen and the
    last lines of the guest's serial console log when the domain logs one to a file.
  - A domain whose user-mode interface forwards its SSH port (a machine of C(qemu:///session), see
    M(vagrantless.libvirt.libvirt_domain)'s O(vagrantless.libvirt.libvirt_domain#module:interfaces[].forwards))
    is reached through that forward - RV(ip) is its host address and RV(port) its host port - and has no
    lease to look up or wait for.
  - Never reports a change.
options:
  domain:
    description:
      - The domain, by name or UUID. Its interfaces give the MACs and networks.
      - One of O(domain) and O(macs) is required.
    type: str
  macs:
    description:
      - MAC addresses to look up instead of a domain's.
    type: list
    elements: str
  networks:
    description:
      - Only interfaces on these networks (default all of the domain's; with O(macs), all
        networks).
    type: list
    elements: str
  wait_timeout:
    description:
      - Seconds to wait for every interface to have an address; C(0) does not wait.
      - Polls four times a second.
    type: int
    default: 0
  ssh_port:
    description:
      - The guest's SSH port, whose host forward (with O(domain)) is the way to reach the machine.
    type: int
    default: 22
extends_documentation_fragment:
  - vagrantless.libvirt.connection
  - vagrantless.libvirt.lease_sources
  - vagrantless.libvirt.attributes.read_only
author:
  - vagrantless developers (@vagrantless)
'''

EXAMPLES = r'''
- name: Wait for a machine's address, as vagrant up does
  vagrantless.libvirt.libvirt_lease_facts:
    domain: lab_web
    wait_timeout: 120
  register: found

- name: Reach it
  ansible.builtin.debug:
    msg: "web is at {{ found.ip }}"

- name: The address reserved for a MAC, before the machine boots
  vagrantless.libvirt.libvirt_lease_facts:
    macs: ["52:54:00:12:34:56"]
    networks: [vagrant-libvirt]
    sources: [reservation]
'''

RETURN = r'''
domain:
  description:
    - The domain looked up (with O(domain)) - C(name), C(uuid), C(id) (new at every start) and C(state)
      (C(running), C(paused), C(saved), C(stopped)) - so a caller can tell whether it is still the boot
      it knows.
  returned: with O(domain)
  type: dict
  sample: {name: lab_web, uuid: 4f1e8c2a-7d1b-4c4e-9a7e-2b9f5c0d1e23, id: 7, state: running}
ip:
  description: The machine's management address (empty when none was found).
  returned: always
  type: str
  sample: 192.168.121.17
port:
  description:
    - The host port forwarded to the guest's SSH port (O(ssh_port)), for a domain reached through a
      user-mode forward; else null (SSH is at RV(ip), on the guest's own port).
  returned: always
  type: int
  sample: 2200
ansible_facts:
  description: Facts added to the host.
  returned: always
  type: dict
  contains:
    libvirt_leases:
      description: One entry per address found.
      type: list
      elements: dict
      contains:
        mac:
          description: The interface's MAC.
          type: str
        ip:
          description: The address.
          type: str
        prefix:
          description: Its prefix length, when known.
          type: int
        hostname:
          description: The host name the lease or reservation carries.
          type: str
        network:
          description: The libvirt network.
          type: str
        expiry:
          description: When the lease expires (seconds since the epoch), for leases.
          type: int
        source:
          description: Which source gave it.
          type: str
      sample:
        - {mac: "52:54:00:12:34:56", ip: 192.168.121.17, prefix: 24, hostname: web,
           network: vagrant-libvirt, expiry: 1795535000, source: lease}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vagrantless.libvirt.plugins.module_utils import leases, usernet, validate, xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import (
    LibvirtOperationError, failing_cleanly)
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import (
    connect, connection_argument_spec)
from ansible_collections.vagrantless.libvirt.plugins.module_utils.domain import run_state


def wanted_interfaces(module, conn):
    """(interfaces, domain, console log, SSH forward) the options point at."""
    params = module.params
    if params['domain']:
        domain = leases.find_domain(conn, params['domain'])
        if domain is None:
            raise validate.ValidationError('domain', params['domain'], 'the name or UUID of a defined domain')
        tree = xmltree.parse(domain.XMLDesc(0))
        interfaces = [i for i in leases.domain_interfaces(tree) if i['mac']]
        if params['networks']:
            interfaces = [i for i in interfaces if i['network'] in params['networks']]
        return interfaces, domain, leases.console_log(tree), usernet.ssh_forward(tree, params['ssh_port'])
    networks = params['networks'] or [None]
    interfaces = [dict(mac=validate.mac(mac, 'macs[%d]' % index), network=network, type='network')
                  for index, mac in enumerate(params['macs']) for network in networks]
    return interfaces, None, None, None


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(
            domain=dict(type='str'),
            macs=dict(type='list', elements='str'),
            networks=dict(type='list', elements='str'),
            sources=dict(type='list', elements='str', choices=list(leases.SOURCES),
                         default=list(leases.DEFAULT_SOURCES)),
            wait_timeout=dict(type='int', default=0),
            lease_files=dict(type='list', elements='path', default=[leases.DEFAULT_LEASE_DIR]),
            management_network=dict(type='str', default='vagrant-libvirt'),
            ssh_port=dict(type='int', default=22),
        ),
        required_one_of=[('domain', 'macs')],
        mutually_exclusive=[('domain', 'macs')],
        supports_check_mode=True,
    )
    with failing_cleanly(module, 'addresses of %s' % (module.params['domain'] or module.params['macs'])):
        if module.params['wait_timeout'] < 0:
            raise validate.ValidationError('wait_timeout', module.params['wait_timeout'], '0 or more seconds')
        validate.port(module.params['ssh_port'], 'ssh_port')
        conn = connect(module)
        interfaces, domain, console, forward = wanted_interfaces(module, conn)
        found = {}
        if domain is not None:
            found = dict(name=domain.name(), uuid=domain.UUIDString(), id=domain.ID(), state=run_state(domain))
        if forward is not None:
            module.exit_json(changed=False, ip=forward[0], port=forward[1], domain=found,
                             ansible_facts=dict(libvirt_leases=[]))
        if not interfaces:
            where = ' on ' + ', '.join(module.params['networks']) if module.params['networks'] else ''
            raise LibvirtOperationError('domain %s has no interface%s' % (module.params['domain'], where))
        book = leases.AddressBook(conn, module.params['sources'], module.params['lease_files'], module.warn)
        try:
            records = leases.wait_for_addresses(book, interfaces, module.params['wait_timeout'], domain, console)
        except leases.LeaseTimeout as error:
            module.fail_json(msg=str(error), macs=[i['mac'] for i in interfaces])
        ip = leases.management_ip(records, interfaces, module.params['management_network'])
        module.exit_json(changed=False, ip=ip or '', port=None, domain=found, ansible_facts=dict(libvirt_leases=records))


if __name__ == '__main__':
    main()
