# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: leases
short_description: Every libvirt machine an inventory host, found from its DHCP leases
version_added: 0.1.0
description:
  - Lists the domains of one or more libvirt hypervisors as hosts, with C(ansible_host)
    taken from DHCP reservations, libvirt's leases, dnsmasq's files, the guest agent or
    ARP, in the order of O(sources).
  - The machine record that the C(up) role keeps in each domain's metadata gives
    C(ansible_user), C(ansible_ssh_private_key_file), C(ansible_port) and the lab and
    machine names (C(vagrantless_lab), C(vagrantless_machine_name)).
  - Every host also gets C(libvirt_domain), C(libvirt_uuid), C(libvirt_state), C(libvirt_uri),
    C(libvirt_macs) and C(libvirt_addresses).
  - Groups are made per network (C(libvirt_network_<name>)), per lab (C(lab_<name>)) and
    per state (C(libvirt_state_<state>)).
  - A state is one of M(vagrantless.libvirt.libvirt_domain)'s - C(running), C(paused), C(saved) (a
    managed save) or C(stopped). Compatibility - earlier builds used libvirt's own names, C(shutoff)
    (now C(stopped)), C(blocked) (C(running)), C(pmsuspended) (C(paused)), C(shutdown), C(crashed) and
    C(nostate) (C(stopped)); docs/migration.md lists them.
  - An unreachable hypervisor is a warning naming its URI, unless O(strict) is set.
  - The configuration file's name must end in C(.libvirt_leases.yml) or C(.leases.yml)
    (or C(.yaml)).
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
  - vagrantless.libvirt.lease_sources
options:
  plugin:
    description: The name of this plugin.
    type: str
    required: true
    choices: [vagrantless.libvirt.leases]
  uris:
    description:
      - The hypervisors to list, as libvirt URIs (local or C(qemu+ssh://)).
    type: list
    elements: str
    default: [qemu:///system]
  networks:
    description:
      - Only addresses on these networks; default all.
    type: list
    elements: str
    default: []
  running_only:
    description:
      - List only running domains.
    type: bool
    default: true
  hostname:
    description:
      - The inventory name of a machine. C(domain) is the domain name, C(lease) the host
        name its lease carries, C(machine) the machine name in its metadata; the domain
        name is the fallback.
    type: str
    choices: [domain, lease, machine]
    default: domain
'''

EXAMPLES = r'''
# lab.leases.yml
plugin: vagrantless.libvirt.leases
uris:
  - qemu:///system
  - qemu+ssh://admin@hv2/system?keyfile=/home/admin/.ssh/id_ed25519
hostname: machine
keyed_groups:
  - key: vagrantless_lab
    prefix: lab
compose:
  web_url: "'http://' ~ ansible_host"
'''

import re

from ansible.errors import AnsibleError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.vagrantless.libvirt.plugins.module_utils import leases, metadata, xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import (
    LibvirtConnectionError, libvirt, open_connection)
from ansible_collections.vagrantless.libvirt.plugins.module_utils.domain import run_state

# metadata key -> host variable
METADATA_VARS = dict(ssh_user='ansible_user', ssh_private_key_file='ansible_ssh_private_key_file',
                     ssh_port='ansible_port', lab='vagrantless_lab', machine='vagrantless_machine_name')


def group_name(prefix, value):
    return '%s_%s' % (prefix, re.sub(r'[^A-Za-z0-9_]', '_', value))


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """Hosts from the domains of libvirt hypervisors, addresses from their leases."""

    NAME = 'vagrantless.libvirt.leases'

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(
            ('.libvirt_leases.yml', '.libvirt_leases.yaml', '.leases.yml', '.leases.yaml'))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        if libvirt is None:
            raise AnsibleError('the vagrantless.libvirt.leases inventory needs libvirt-python on the controller')
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option('cache') and cache
        machines = None
        if use_cache:
            try:
                machines = self._cache[cache_key]
            except KeyError:
                machines = None
        if machines is None:
            machines = self._discover()
            if self.get_option('cache'):
                self._cache[cache_key] = machines
        for machine in machines:
            self._add(machine)

    def _discover(self):
        machines = []
        for uri in self.get_option('uris'):
            try:
                conn = open_connection({}, uri)
            except LibvirtConnectionError as error:
                if self.get_option('strict'):
                    raise AnsibleError('leases inventory: %s' % error)
                self.display.warning('leases inventory: skipping hypervisor %s: %s' % (uri, error))
                continue
            try:
                machines.extend(self._machines(conn, uri))
            finally:
                conn.close()
        return machines

    def _machines(self, conn, uri):
        book = leases.AddressBook(conn, self.get_option('sources'), self.get_option('lease_files'),
                                  self.display.warning)
        wanted_networks = self.get_option('networks')
        found = []
        for domain in conn.listAllDomains(0):
            if self.get_option('running_only') and not domain.isActive():
                continue
            state = run_state(domain)
            tree = xmltree.parse(domain.XMLDesc(0))
            interfaces = [i for i in leases.domain_interfaces(tree) if i['mac']
                          and (not wanted_networks or i['network'] in wanted_networks)]
            records = book.lookup(interfaces, domain) if interfaces else []
            ip = leases.management_ip(records, interfaces, self.get_option('management_network'))
            found.append(dict(name=domain.name(), uuid=domain.UUIDString(), state=state, uri=uri,
                              interfaces=interfaces, addresses=records, ip=ip,
                              record=metadata.from_domain_xml(tree)))
        return found

    def _inventory_name(self, machine):
        choice = self.get_option('hostname')
        if choice == 'machine' and machine['record'].get('machine'):
            return machine['record']['machine']
        if choice == 'lease':
            for record in machine['addresses']:
                if record['hostname']:
                    return record['hostname']
        return machine['name']

    def _add(self, machine):
        host = self._inventory_name(machine)
        self.inventory.add_host(host)
        variables = dict(libvirt_domain=machine['name'], libvirt_uuid=machine['uuid'], libvirt_state=machine['state'],
                         libvirt_uri=machine['uri'], libvirt_macs=[i['mac'] for i in machine['interfaces']],
                         libvirt_addresses=machine['addresses'])
        if machine['ip']:
            variables['ansible_host'] = machine['ip']
        for key, name in METADATA_VARS.items():
            if machine['record'].get(key):
                variables[name] = int(machine['record'][key]) if name == 'ansible_port' else machine['record'][key]
        for name, value in variables.items():
            self.inventory.set_variable(host, name, value)
        groups = [group_name('libvirt_state', machine['state'])]
        groups += [group_name('libvirt_network', i['network']) for i in machine['interfaces'] if i['network']]
        if machine['record'].get('lab'):
            groups.append(group_name('lab', machine['record']['lab']))
        for group in groups:
            self.inventory.add_group(group)
            self.inventory.add_child(group, host)
        strict = self.get_option('strict')
        self._set_composite_vars(self.get_option('compose'), variables, host, strict=strict)
        self._add_host_to_composed_groups(self.get_option('groups'), variables, host, strict=strict)
        self._add_host_to_keyed_groups(self.get_option('keyed_groups'), variables, host, strict=strict)
