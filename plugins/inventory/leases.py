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
  - A metadata value that is not what it should be (a port that is no number, a user or lab
    name with odd characters, a key file that is no absolute path) is ignored with a warning
    naming the domain and the key; the machine is listed without it.
  - A lease file entry of the wrong shape, a lease host name that is no valid host name and a
    network of any shape (no netmask, a prefix, no address) never fail the inventory.
  - A machine of a per-user libvirt (C(qemu:///session)) whose user-mode interface forwards its SSH port
    gets that forward as C(ansible_host) and C(ansible_port) (C(127.0.0.1:2200)), and no lease is looked up.
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
        name is the fallback, and C(libvirt-<domain UUID>) the last one.
      - Host names from leases and metadata come from the guest or from other tools, so a
        name is used only when it is a valid host name (labels of letters, digits, C(_) and
        C(-) separated by dots, not only digits), is not C(localhost) or another name of the
        controller (C(localhost.*), C(127.0.0.1), C(::1)), and is not already an inventory
        host or group (from another source, or another machine listed before it). Otherwise
        the next name in that order is used, with a warning; a guest that calls itself
        C(localhost) or C(web) can never take over the controller's or another host's name.
    type: str
    choices: [domain, lease, machine]
    default: domain
  ssh_jump:
    description:
      - Reach the machines of a C(qemu+ssh://) URI's remote host through that host, as the C(up) role
        does - C(ansible_ssh_common_args) gets an ssh C(ProxyCommand) over the URI's user, host, port and
        C(keyfile) - so that a controller without a route to the guests' networks reaches them.
      - Turn off on a controller that routes to the guests itself.
    type: bool
    default: true
'''

EXAMPLES = r'''
# lab.leases.yml
plugin: vagrantless.libvirt.leases
uris:
  - qemu:///system
  - qemu+ssh://admin@hv2/system?keyfile=/home/admin/.ssh/id_ed25519
  - qemu:///session
hostname: machine
keyed_groups:
  - key: vagrantless_lab
    prefix: lab
compose:
  web_url: "'http://' ~ ansible_host"
'''

import re
import shlex

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.vagrantless.libvirt.plugins.module_utils import (
    connection, jump, leases, metadata, usernet, validate, xmltree)
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import (
    LibvirtConnectionError, libvirt, open_connection)
from ansible_collections.vagrantless.libvirt.plugins.module_utils.domain import run_state

# metadata key -> host variable
METADATA_VARS = dict(ssh_user='ansible_user', ssh_private_key_file='ansible_ssh_private_key_file',
                     ssh_port='ansible_port', lab='vagrantless_lab', machine='vagrantless_machine_name')


# names of the controller a guest must never take
CONTROLLER_NAMES = frozenset(name.lower() for name in tuple(C.LOCALHOST) + ('localhost.localdomain', 'ip6-localhost',
                                                                            'ip6-loopback'))


def _port(value, option):
    if connection.is_port_text(value):
        return int(value)
    raise validate.ValidationError(option, value, 'a port number from 1 to 65535')


# metadata key -> the check its value must pass (raising ValidationError) and its host var value
METADATA_CHECKS = dict(ssh_user=connection.user_name,
                       ssh_private_key_file=lambda value, key: connection.local_path(value, key, absolute=True),
                       ssh_port=_port, lab=validate.name, machine=validate.name)


def checked_record(record, domain, warn):
    """The values of a domain's machine record that pass their checks; each other one is a warning."""
    found = {}
    for key, check in METADATA_CHECKS.items():
        if key not in record:
            continue
        try:
            found[key] = check(record[key], key)
        except validate.ValidationError as error:
            warn('leases inventory: domain %s: ignored its metadata value %s' % (domain, error))
    return found


def controller_name(name):
    """Whether ``name`` is one of the controller's own (``localhost``, ``localhost.x``, loopback)."""
    lowered = name.lower().rstrip('.')
    return lowered in CONTROLLER_NAMES or lowered.startswith('localhost.')


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
        found = []
        # by name: which of two guests claiming one name gets it must not depend on libvirt's order
        for domain in sorted(conn.listAllDomains(0), key=lambda dom: dom.name()):
            try:
                machine = self._machine(book, domain, uri)
            except libvirt.libvirtError as error:
                if error.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                    raise
                continue  # removed since it was listed
            if machine is not None:
                found.append(machine)
        return found

    def _machine(self, book, domain, uri):
        wanted_networks = self.get_option('networks')
        if self.get_option('running_only') and not domain.isActive():
            return None
        state = run_state(domain)
        tree = xmltree.parse(domain.XMLDesc(0))
        interfaces = [i for i in leases.domain_interfaces(tree) if i['mac']
                      and (not wanted_networks or i['network'] in wanted_networks)]
        record = checked_record(metadata.from_domain_xml(tree), domain.name(), self.display.warning)
        forward = usernet.ssh_forward(tree, record.get('ssh_port', 22))
        if forward is not None:  # a session machine: SSH at its host forward, no lease to look up
            ip, port, records = forward[0], forward[1], []
        else:
            records = book.lookup(interfaces, domain) if interfaces else []
            ip, port = leases.management_ip(records, interfaces, self.get_option('management_network')), None
        return dict(name=domain.name(), uuid=domain.UUIDString(), state=state, uri=uri, interfaces=interfaces,
                    addresses=records, ip=ip, port=port, record=record)

    def _candidates(self, machine):
        """(name, where it comes from) in the order of preference of the ``hostname`` option."""
        choice = self.get_option('hostname')
        names = []
        if choice == 'machine' and machine['record'].get('machine'):
            names.append((machine['record']['machine'], 'its metadata machine name'))
        if choice == 'lease':
            names += [(record['hostname'], 'the host name of its %s' % record['source'])
                      for record in machine['addresses'] if record['hostname']]
        names.append((machine['name'], 'its domain name'))
        return names

    def _unusable(self, name):
        """Why ``name`` cannot be this machine's inventory name ('' when it can)."""
        if not connection.is_hostname(name):
            return 'not a valid host name'
        if controller_name(name):
            return "one of the controller's own names"
        if name in self.inventory.hosts:
            return 'already an inventory host'
        if name in self.inventory.groups:
            return 'already an inventory group'
        return ''

    def _inventory_name(self, machine):
        """The first usable candidate, else ``libvirt-<uuid>``; each refused one is a warning."""
        for name, where in self._candidates(machine):
            why = self._unusable(name)
            if not why:
                return name
            self.display.warning('leases inventory: domain %s: %s %r is not used as its inventory name: %s'
                                 % (machine['name'], where, name, why))
        return 'libvirt-%s' % machine['uuid']

    @staticmethod
    def _jump(uri):
        """The host variables that reach a guest of ``uri``'s host through that host (none for a
        local URI)."""
        try:
            through = jump.guest_jump(jump.from_uri(uri))
        except validate.ValidationError as error:
            raise AnsibleError('leases inventory: the hypervisor of %s cannot be an SSH hop: %s' % (uri, error))
        if through is None:
            return {}
        return dict(ansible_ssh_common_args=' '.join(shlex.quote(part) for part in through['ssh_options']))

    def _add(self, machine):
        host = self._inventory_name(machine)
        self.inventory.add_host(host)
        variables = dict(libvirt_domain=machine['name'], libvirt_uuid=machine['uuid'], libvirt_state=machine['state'],
                         libvirt_uri=machine['uri'], libvirt_macs=[i['mac'] for i in machine['interfaces']],
                         libvirt_addresses=machine['addresses'])
        if machine['ip']:
            variables['ansible_host'] = machine['ip']
        if self.get_option('ssh_jump'):
            variables.update(self._jump(machine['uri']))
        for key, name in METADATA_VARS.items():
            if machine['record'].get(key):
                variables[name] = machine['record'][key]
        if machine.get('port'):
            variables['ansible_port'] = machine['port']
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
