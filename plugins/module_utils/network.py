# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One libvirt network brought to the state its options ask for (its XML comes from
network_xml.py).

Reservations change live through libvirt's network update API, so a running network
and its guests are never restarted for them; everything else is written to the
persistent definition and reported as ``restart_required`` while the network runs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible.module_utils.six.moves.urllib.parse import urlparse

from ansible_collections.vagrantless.libvirt.plugins.module_utils import lifecycle, validate, xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import (
    LibvirtOperationError, Manager, inactive_xml, lookup)
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import connect, libvirt, system_uri
from ansible_collections.vagrantless.libvirt.plugins.module_utils.network_xml import (
    ADDRESSLESS_MODES, NETWORK_RULES, NetworkSpec, _host_xml, _without_hosts, ipv4_networks, needs_restart)
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError, netaddr


def _all_networks(conn):
    return conn.listAllNetworks(0)


def find_by_subnet(conn, network):
    """(name of a network serving exactly ``network``, names of networks overlapping it)."""
    exact, overlapping = None, []
    for other in _all_networks(conn):
        tree = xmltree.parse(inactive_xml(other, libvirt.VIR_NETWORK_XML_INACTIVE))
        for served in ipv4_networks(tree):
            if served == network:
                exact = other.name()
            elif served in network or network in served:
                overlapping.append('%s (%s)' % (other.name(), served))
    return exact, overlapping


def host_routes(path='/proc/net/route'):
    """(interface, network) for each IPv4 route of this host, read from the kernel."""
    routes = []
    try:
        with open(path) as handle:
            lines = handle.read().splitlines()[1:]
    except (IOError, OSError):
        return routes
    for line in lines:
        fields = line.split()
        if len(fields) < 8 or fields[7] == '00000000':
            continue  # the default route overlaps everything and means nothing here
        # the kernel writes addresses as little-endian hex words
        destination = netaddr.IPAddress(int.from_bytes(bytes.fromhex(fields[1]), 'little'))
        mask = netaddr.IPAddress(int.from_bytes(bytes.fromhex(fields[7]), 'little'))
        routes.append((fields[0], netaddr.IPNetwork('%s/%s' % (destination, mask)).cidr))
    return routes


def find(conn, name):
    return lookup(conn.networkLookupByName, name, libvirt.VIR_ERR_NO_NETWORK)


def domain_definitions(conn):
    """(domain, its persistent definition parsed) for each defined domain; one removed since it was
    listed is left out."""
    for domain in conn.listAllDomains(0):
        try:
            tree = xmltree.parse(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        except libvirt.libvirtError as error:
            if error.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                raise
            continue
        yield domain, tree


def domains_using(conn, name):
    """Names of defined domains with an interface on network ``name``."""
    return sorted(domain.name() for domain, tree in domain_definitions(conn)
                  if any(source.get('network') == name for source in tree.findall('devices/interface/source')))


def remove(conn, name, net):
    """Stop and undefine a network; one another run stopped or removed meanwhile is removed
    all the same."""
    lifecycle.remove_racing(net, lambda: find(conn, name))


def hosts_by_mac(tree, macs=None):
    """The DHCP hosts of a parsed network definition by lower-case MAC (only ``macs``, when given)."""
    found = {}
    for host in tree.findall('ip/dhcp/host') if tree is not None else []:
        mac = (host.get('mac') or '').lower()
        if mac and (macs is None or mac in macs):
            found[mac] = host
    return found


def live_lag(net, config, macs):
    """The DHCP hosts of ``macs`` in which the running network differs from ``config`` (its
    persistent definition): [(command, host element)] that make the live network hold what
    the definition holds. A network started by another run between our read and our update
    runs the definition it was started with, so a reservation can reach the definition only;
    empty when the network is not running."""
    if net is None or not net.isActive():
        return []
    macs = set(mac.lower() for mac in macs)
    live = hosts_by_mac(xmltree.parse(net.XMLDesc(0)), macs)
    wanted = hosts_by_mac(config, macs)
    commands = [(libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE, host) for mac, host in sorted(live.items())
                if mac not in wanted]
    for mac, host in sorted(wanted.items()):
        if mac not in live:
            commands.append((libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST, host))
        elif dict(live[mac].attrib) != dict(host.attrib):
            commands.append((libvirt.VIR_NETWORK_UPDATE_COMMAND_MODIFY, host))
    return commands


def sync_live(net, macs, tries=5):
    """Bring the running network's DHCP hosts of ``macs`` to its persistent definition's, read
    back after each round until they agree (another run may start or restart the network
    meanwhile). Returns whether anything was applied."""
    applied = False
    for unused in range(tries):
        config = xmltree.parse(inactive_xml(net, libvirt.VIR_NETWORK_XML_INACTIVE))
        commands = live_lag(net, config, macs)
        if not commands:
            return applied
        for command, host in commands:
            try:
                net.update(command, libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, _host_xml(host),
                           libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE)
                applied = True
            except libvirt.libvirtError as error:
                # stopped meanwhile (nothing live to fix), or changed by another run: read again
                if error.get_error_code() not in (libvirt.VIR_ERR_OPERATION_INVALID,
                                                  libvirt.VIR_ERR_OPERATION_FAILED):
                    raise
    if live_lag(net, xmltree.parse(inactive_xml(net, libvirt.VIR_NETWORK_XML_INACTIVE)), macs):
        raise LibvirtOperationError('network %s: its running DHCP reservations for %s still differ from its '
                                    'definition after %d tries' % (net.name(), ', '.join(sorted(macs)), tries))
    return applied


def describe(net):
    if net is None:
        return {}
    tree = xmltree.parse(net.XMLDesc(0))
    return dict(name=net.name(), uuid=net.UUIDString(), bridge=tree.find('bridge').get('name')
                if tree.find('bridge') is not None else None, active=bool(net.isActive()),
                autostart=bool(net.autostart()), xml=xmltree.pretty(tree))


class NetworkManager(Manager):
    """Brings one network to the state the options ask for."""

    RESULT = dict(changed=False, restart_required=False, reused=False)
    # what libvirt says when another run changed the network between our read and our write
    # (a reservation of the same MAC, the same network started)
    RACE_ERRORS = (libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_ERR_OPERATION_FAILED) if libvirt else ()

    def __init__(self, params, check_mode, local_host=True, uri=None):
        super(NetworkManager, self).__init__(params, check_mode)
        self.uri = uri
        self.local_host = local_host
        self.spec = NetworkSpec(params) if params['state'] != 'absent' else None
        if params['state'] == 'absent' and not params.get('name'):
            raise ValidationError('name', None, 'the name of the network to remove')
        if self.spec is not None and not params.get('name') and self.spec.network is None:
            raise ValidationError('name', None, 'a network name, or an address/ip to find the network by')
        self.conn = None
        self._macs = []

    @classmethod
    def from_module(cls, module):
        """Networks are system-wide: on the system URI when machines run in a session."""
        uri = system_uri(module.params)
        return cls(module.params, module.check_mode, local_host=urlparse(uri).netloc == '', uri=uri)

    def target(self, module):
        return connect(module, self.uri)

    def ensure(self, conn):
        """Converge; return the module result."""
        self.conn = conn
        if self.params['state'] == 'absent':
            return self._absent()
        return self.retrying_race(self.RACE_ERRORS, self._present)

    # -- present / inactive -------------------------------------------------------
    def _resolve_name(self):
        """The network to manage: by name, or an existing one serving the subnet."""
        name, network = self.params.get('name'), self.spec.network
        net = find(self.conn, name) if name else None
        if net is not None or network is None:
            return name, net
        exact, overlapping = find_by_subnet(self.conn, network)
        if exact and exact == name:
            # another run defined this very network between our two reads: it is the one we want
            return name, find(self.conn, name)
        if exact and (not name or self.params.get('reuse')):
            self.result['reused'] = True
            return exact, find(self.conn, exact)
        clashes = ([exact + ' (%s)' % network] if exact else []) + overlapping
        if clashes:
            raise LibvirtOperationError('network %s for %s overlaps existing libvirt network(s) %s: use that '
                                        'network (give its name, or only the address to reuse it) or choose '
                                        'another subnet' % (name, network, ', '.join(clashes)))
        if self.local_host:
            routed = ['%s (%s)' % (dev, net_) for dev, net_ in host_routes()
                      if net_ == network or net_ in network or network in net_]
            if routed:
                net = find(self.conn, name) if name else None
                if net is not None:
                    return name, net  # defined and started by another run between our reads
                raise LibvirtOperationError('network %s for %s overlaps a route on the hypervisor: interface %s; '
                                            'choose another subnet' % (name, network, ', '.join(routed)))
        if not name:
            raise ValidationError('name', None, 'a name for the new network: no libvirt network serves %s'
                                  % network)
        return name, None

    def _check_reservations(self, current):
        if current is None:
            return
        wanted = dict((h['mac'], h) for h in self.spec.hosts)
        for host in current.findall('ip/dhcp/host'):
            mac = (host.get('mac') or '').lower()
            if mac in wanted:
                continue
            for index, entry in enumerate(self.spec.hosts):
                if entry['state'] == 'present' and entry['ip'] == host.get('ip') and not self.spec.purge_hosts:
                    raise ValidationError('dhcp_hosts[%d].ip' % index, entry['ip'],
                                          'an address not already reserved on this network (MAC %s has it)' % mac)

    def _present(self):
        active_wanted = self.params['state'] == 'present'
        name, net = self._resolve_name()
        hosts = self.params.get('dhcp_hosts') or []
        if net is None and self.spec.network is None and hosts \
                and all(host.get('state') == 'absent' for host in hosts):
            # only reservations to remove, and no network to hold them: nothing to do
            self.diff.definition('network ' + name, xmltree.diff(None, None))
            return self.finish(network={})
        current = xmltree.parse(inactive_xml(net, libvirt.VIR_NETWORK_XML_INACTIVE)) if net else None
        self._check_reservations(current)
        rules = xmltree.Rules(keys=NETWORK_RULES.keys, owned=['ip/dhcp/host'] if self.spec.purge_hosts else ())
        addressed = self.spec.mode not in ADDRESSLESS_MODES
        if self.spec.network is None and addressed and current is not None:
            self.spec.adopt(current)  # named without an address: only its reservations are ours
            self._check_reservations(current)
            self._choose_addresses(current, net)
            desired = self._reservations_only(self.spec.desired(name), name)
        elif self.spec.network is None and addressed:
            raise ValidationError('address', None, 'the network\'s address (address, or ip with netmask) to '
                                  'create network %s' % name)
        else:
            self._choose_addresses(current, net)
            desired = self.spec.desired(name)
        if self.result['reused']:
            # reused by subnet: only reservations are ours to add
            desired = self._reservations_only(desired, name)
        merged, xml_changed, xml_diff = xmltree.merge_and_compare(current, desired, rules)
        autostart = self.params.get('autostart')
        if autostart is None:
            autostart = bool(net.autostart()) if net else False
        before_state = dict(active=bool(net.isActive()), autostart=bool(net.autostart())) if net else None
        after_state = dict(active=active_wanted or bool(net and net.isActive() and self.result['reused']),
                           autostart=autostart)
        hosts_only = current is not None and not xmltree.differs(_without_hosts(current), _without_hosts(merged))
        running = net is not None and bool(net.isActive())
        macs = [host['mac'] for host in self.spec.hosts]
        stale = [host.get('mac') for unused, host in live_lag(net, current, macs)] if running and macs else []
        if stale:  # the running network lags reservations its definition holds (another run started it)
            before_state['live reservations behind the definition'] = ', '.join(stale)
        lagging = running and (needs_restart(xmltree.parse(net.XMLDesc(0)), current)
                               or (xml_changed and not hosts_only))
        restart_now = lagging and after_state['active'] and bool(self.params.get('restart'))
        self.result['changed'] = xml_changed or before_state != after_state or restart_now
        self.diff.resource('network ' + name, xml_diff, before_state, after_state)
        self._macs = macs
        self.result['restart_required'] = lagging and after_state['active'] and not restart_now

        if not self.check_mode and self.result['changed']:
            net = self._apply(net, current, merged, xml_changed, hosts_only, after_state, restart_now)
        return self.finish(network=describe(net) if net is not None else dict(name=name))

    def _choose_addresses(self, current, net):
        """The address of each ``ip: auto`` reservation: the one its MAC has reserved already, else the
        one it leases now, else a free one of the DHCP range (reserved by no one, leased by no one),
        searched from a place derived from the MAC so that concurrent runs rarely pick the same."""
        auto = [entry for entry in self.spec.hosts if entry.get('auto')]
        if not auto:
            return
        reserved = dict(((host.get('mac') or '').lower(), host.get('ip'))
                        for host in (current.findall('ip/dhcp/host') if current is not None else []))
        leased = {}
        if net is not None and net.isActive():
            try:
                leased = dict((lease['mac'].lower(), lease['ipaddr']) for lease in net.DHCPLeases()
                              if lease.get('type') == libvirt.VIR_IP_ADDR_TYPE_IPV4)
            except libvirt.libvirtError as error:
                if error.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
                    raise
        taken = set(reserved.values()) | set(leased.values()) | set([str(self.spec.host_ip)])
        taken |= set(entry['ip'] for entry in self.spec.hosts if entry.get('ip'))
        first = self.spec.dhcp_start or self.spec.network[1]
        last = self.spec.dhcp_stop or self.spec.network[-2]
        pool = [str(address) for address in netaddr.iter_iprange(first, last)]
        for entry in auto:
            if reserved.get(entry['mac']):
                entry['ip'] = reserved[entry['mac']]
                continue
            if leased.get(entry['mac']) and leased[entry['mac']] not in set(reserved.values()):
                entry['ip'] = leased[entry['mac']]
                continue
            start = int(entry['mac'].replace(':', ''), 16) % len(pool)
            free = [address for address in pool[start:] + pool[:start] if address not in taken]
            if not free:
                raise LibvirtOperationError('network %s has no free address left in %s-%s for %s'
                                            % (self.params.get('name'), first, last, entry['mac']))
            entry['ip'] = free[0]
            taken.add(free[0])

    def _reservations_only(self, desired, name):
        trimmed = xmltree.element('network', children=[xmltree.element('name', text=name)])
        ip = desired.find('ip')
        if ip is not None and ip.find('dhcp/host') is not None:
            keep_ip = xmltree.sub(trimmed, 'ip')
            dhcp = xmltree.sub(keep_ip, 'dhcp')
            for host in ip.findall('dhcp/host'):
                dhcp.append(copy.deepcopy(host))
        return trimmed

    def _apply(self, net, current, merged, xml_changed, hosts_only, after_state, restart_now):
        created = False
        try:
            if net is None:
                net = self._define(merged)
                created = True
            elif xml_changed:
                self._update_reservations(net, current, merged)
                if not hosts_only:
                    net = self._define(merged)
            if restart_now:
                net.destroy()
            if after_state['active'] and not net.isActive():
                self._start(net)
            elif not after_state['active'] and net.isActive():
                net.destroy()
            if bool(net.autostart()) != after_state['autostart']:
                net.setAutostart(1 if after_state['autostart'] else 0)
            if self._macs and net.isActive():
                sync_live(net, self._macs)
        except libvirt.libvirtError:
            if created:
                lifecycle.undo(net)
            raise
        return net

    def _define(self, tree):
        """Define ``tree``. When another run defined the network first, libvirt refuses ours ('already
        exists', a race error): the run starts over and finds that network, and adds its reservations
        to it one by one (``net.update``, atomic). Laying our definition over the one read here could
        drop a reservation a third run adds between that read and this define."""
        return self.conn.networkDefineXML(xmltree.to_xml(tree))

    @staticmethod
    def _start(net):
        try:
            net.create()
        except libvirt.libvirtError as error:
            if error.get_error_code() != libvirt.VIR_ERR_OPERATION_INVALID:  # already active
                raise

    def _update_reservations(self, net, current, merged):
        """Add, change and remove DHCP hosts live (when active) and in the config."""
        flags = libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG
        if net.isActive():
            flags |= libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE
        before = dict((h.get('mac', '').lower(), h) for h in current.findall('ip/dhcp/host'))
        after = dict((h.get('mac', '').lower(), h) for h in merged.findall('ip/dhcp/host'))
        section = libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST
        for mac, host in before.items():
            if mac not in after:
                net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE, section, -1, _host_xml(host), flags)
        for mac, host in after.items():
            if mac not in before:
                net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST, section, -1, _host_xml(host), flags)
            elif xmltree.differs(before[mac], host):
                net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_MODIFY, section, -1, _host_xml(host), flags)

    # -- absent ---------------------------------------------------------------------
    def _absent(self):
        name = self.params['name']
        validate.name(name)
        net = find(self.conn, name)
        try:
            if net is not None:
                return self._remove(name, net)
        except libvirt.libvirtError as error:
            if error.get_error_code() != libvirt.VIR_ERR_NO_NETWORK:
                raise  # else another run removed it meanwhile: absent all the same
            self.reset()  # what the removal recorded before it met that
        self.diff.definition('network ' + name, xmltree.diff(None, None))
        return self.finish(changed=False, network={})

    def _remove(self, name, net):
        current = xmltree.parse(inactive_xml(net, libvirt.VIR_NETWORK_XML_INACTIVE))
        users = domains_using(self.conn, name)
        if users and self.params.get('only_unused') and not self.params.get('force'):
            self.diff.definition('network ' + name, xmltree.diff(None, None))
            return self.finish(kept_for=users, network=describe(net))
        if users and not self.params.get('force'):
            raise LibvirtOperationError('network %s is used by domain(s) %s: remove them first or set force=true'
                                        % (name, ', '.join(users)))
        before_state = dict(active=bool(net.isActive()), autostart=bool(net.autostart()))
        self.diff.resource('network ' + name, xmltree.diff(current, None), before_state, None)
        if not self.check_mode:
            remove(self.conn, name, net)
        return self.finish(changed=True, network={})
