# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt networks as vagrant-libvirt makes them: NAT, routed, isolated, very
isolated, open and bridged networks, their DHCP ranges and reservations.

Reservations change live through libvirt's network update API, so a running network
and its guests are never restarted for them; everything else is written to the
persistent definition and reported as ``restart_required`` while the network runs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.vagrantless.libvirt.plugins.module_utils import validate, xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import (
    LibvirtOperationError, check_xml_options, diff_entries, inactive_xml, lookup)
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import libvirt
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError, netaddr

FORWARD_MODES = ('nat', 'route', 'none', 'veryisolated', 'open', 'bridge')
# Modes whose network has no address of the host: no <ip>, no DHCP.
ADDRESSLESS_MODES = ('veryisolated', 'bridge')
DEFAULT_NETMASK = '255.255.255.0'


def _ip_key(node):
    return (node.get('family') or 'ipv4',)


NETWORK_RULES = xmltree.Rules(keys={
    'network/ip': _ip_key,
    'dhcp/host': xmltree.attribute_key('@mac'),
})


AUTO = 'auto'  # a reservation's ip chosen by the module


def _check_netmask(value):
    """``netmask``: a dotted IPv4 netmask or a prefix length."""
    text = str(value).strip()
    if text.isdigit() and int(text) <= 32:
        return
    try:
        mask = netaddr.IPAddress(text, flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        mask = None
    if mask is None or mask.version != 4 or not mask.is_netmask():
        raise ValidationError('netmask', value, 'an IPv4 netmask such as 255.255.255.0 (contiguous ones, then '
                                                'zeros) or a prefix length from 0 to 32')


def subnet(params):
    """The IPv4 network the options describe (``address`` as CIDR, or ``ip`` + ``netmask``),
    or None when they give none."""
    if params.get('address') and params.get('ip'):
        raise ValidationError('address', params['address'], 'either address or ip (+ netmask), not both')
    if params.get('ip') or (params.get('address') and '/' not in params['address']):
        _check_netmask(params.get('netmask') or DEFAULT_NETMASK)
    try:
        if params.get('address'):
            text = params['address']
            if '/' not in text:  # vagrant-libvirt's network_address: a /24 by default
                text = '%s/%s' % (text, params.get('netmask') or DEFAULT_NETMASK)
            network = netaddr.IPNetwork(text)
            option, value = 'address', params['address']
        elif params.get('ip'):
            network = netaddr.IPNetwork('%s/%s' % (params['ip'], params.get('netmask') or DEFAULT_NETMASK))
            option, value = 'ip', params['ip']
        else:
            return None
    except (netaddr.AddrFormatError, ValueError, TypeError):
        bad = 'address' if params.get('address') else 'ip'
        raise ValidationError(bad, params.get(bad), 'an IPv4 address (ip, with netmask) or a network in CIDR '
                                                    'notation such as 10.20.30.0/24 (address)')
    if network.version != 4:
        raise ValidationError(option, value, 'an IPv4 network (use ipv6_address/ipv6_prefix for IPv6)')
    if network.prefixlen > 30:
        raise ValidationError('netmask' if params.get('netmask') else option, params.get('netmask') or value,
                              'a network of at least 4 addresses (a prefix of /30 or shorter)')
    return network.cidr


def _address_in(network, value, option, usable=True):
    try:
        address = netaddr.IPAddress(value)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise ValidationError(option, value, 'an IPv4 address inside %s' % network)
    if address not in network or (usable and address in (network.network, network.broadcast)):
        raise ValidationError(option, value, 'an address inside %s other than its network and broadcast '
                              'addresses (%s .. %s)' % (network, network[1], network[-2]))
    return address


def check_dnsmasq_text(params):
    """What libvirt writes into dnsmasq's configuration: a new line or a space there breaks
    (or adds to) dnsmasq's options, and the network then fails to start."""
    if params.get('domain_name') is not None:
        validate.hostname(params['domain_name'], 'domain_name')
    if params.get('dhcp_bootp_file') is not None:
        validate.spaceless(params['dhcp_bootp_file'], 'dhcp_bootp_file')
    if params.get('dhcp_bootp_server') is not None:
        try:
            server = netaddr.IPAddress(params['dhcp_bootp_server'], version=4, flags=netaddr.INET_PTON)
        except (netaddr.AddrFormatError, ValueError, TypeError):
            server = None
        if server is None or str(server) != params['dhcp_bootp_server']:
            raise ValidationError('dhcp_bootp_server', params['dhcp_bootp_server'],
                                  'the IPv4 address of the TFTP server, such as 10.20.30.1')
    for index, host in enumerate(params.get('dhcp_hosts') or []):
        if isinstance(host, dict) and host.get('name') is not None:
            validate.hostname(host['name'], 'dhcp_hosts[%d].name' % index)


class NetworkSpec(object):
    """The options, checked and with vagrant-libvirt's defaults filled in."""

    def __init__(self, params):
        check_xml_options(params)
        check_dnsmasq_text(params)
        self.params = params
        self.name = validate.name(params['name']) if params.get('name') else None
        self.mode = params.get('forward_mode') or 'nat'
        self.network = subnet(params)
        self.purge_hosts = params.get('purge_dhcp_hosts')
        if params.get('forward_device') is not None:
            validate.name(params['forward_device'], 'forward_device')
        if params.get('bridge') is not None:
            if len(params['bridge']) > 15:
                raise ValidationError('bridge', params['bridge'], 'a Linux interface name of at most 15 characters')
            validate.name(params['bridge'], 'bridge')
        if self.mode == 'bridge' and not params.get('bridge'):
            raise ValidationError('bridge', None, 'the existing host bridge to use with forward_mode=bridge')
        if params.get('mtu') is not None and not 68 <= params['mtu'] <= 65535:
            raise ValidationError('mtu', params['mtu'], 'an MTU from 68 to 65535')
        self.host_ip = self.dhcp_start = self.dhcp_stop = None
        self.hosts = []
        if self.network is not None and self.mode not in ADDRESSLESS_MODES:
            self._addresses()
        elif params.get('dhcp_hosts') and self.network is not None:
            raise ValidationError('dhcp_hosts', params['dhcp_hosts'],
                                  'reservations need a forward_mode that gives the host an address (not %s)'
                                  % self.mode)
        self.ipv6 = self._ipv6()

    def adopt(self, tree):
        """Take the subnet of an existing network whose address the options leave out
        (only its reservations are then managed)."""
        served = ipv4_networks(tree)
        if not served:
            if self.params.get('dhcp_hosts'):
                raise ValidationError('dhcp_hosts', self.params['dhcp_hosts'], 'a network with an IPv4 address '
                                      '(%s has none)' % tree.findtext('name'))
            return
        self.network = served[0]
        host = next(ip for ip in tree.findall('ip') if ip.get('address') and (ip.get('family') or 'ipv4') == 'ipv4')
        self.params = dict(self.params, host_ip=host.get('address'))
        self._addresses()

    def _addresses(self):
        params, network = self.params, self.network
        self.host_ip = _address_in(network, params['host_ip'], 'host_ip') if params.get('host_ip') \
            else network[1]
        if params.get('dhcp_enabled', True):
            # vagrant-libvirt's code: the range starts right after the network address
            # and ends before the broadcast address.
            self.dhcp_start = _address_in(network, params['dhcp_start'], 'dhcp_start') \
                if params.get('dhcp_start') else network[1]
            self.dhcp_stop = _address_in(network, params['dhcp_stop'], 'dhcp_stop') \
                if params.get('dhcp_stop') else network[-2]
            if self.dhcp_start > self.dhcp_stop:
                raise ValidationError('dhcp_start', str(self.dhcp_start),
                                      'an address not after dhcp_stop (%s)' % self.dhcp_stop)
        seen = {}
        for index, host in enumerate(params.get('dhcp_hosts') or []):
            option = 'dhcp_hosts[%d]' % index
            mac = validate.mac(host.get('mac'), option + '.mac')
            entry = dict(mac=mac, state=host.get('state') or 'present', name=host.get('name'), ip=None)
            if entry['state'] == 'present' and host.get('ip') == AUTO:
                entry['auto'] = True  # chosen against the network's reservations and leases
            elif entry['state'] == 'present':
                if not host.get('ip'):
                    raise ValidationError(option + '.ip', host.get('ip'), 'the address to reserve for %s' % mac)
                entry['ip'] = str(_address_in(network, host['ip'], option + '.ip'))
                if entry['ip'] == str(self.host_ip):
                    raise ValidationError(option + '.ip', host['ip'], 'an address other than the host\'s (%s)'
                                          % self.host_ip)
                if entry['ip'] in seen and seen[entry['ip']] != mac:
                    raise ValidationError(option + '.ip', host['ip'], 'an address not reserved for another MAC '
                                          '(%s has it)' % seen[entry['ip']])
                seen[entry['ip']] = mac
            self.hosts.append(entry)

    def _ipv6(self):
        params = self.params
        if not params.get('ipv6_address'):
            if params.get('ipv6_prefix') is not None:
                raise ValidationError('ipv6_prefix', params['ipv6_prefix'], 'used only with ipv6_address')
            return None
        try:
            address = netaddr.IPAddress(params['ipv6_address'])
        except (netaddr.AddrFormatError, ValueError):
            address = None
        if address is None or address.version != 6:
            raise ValidationError('ipv6_address', params['ipv6_address'], 'an IPv6 address such as fd00:203::1')
        prefix = params.get('ipv6_prefix') if params.get('ipv6_prefix') is not None else 64
        if not 1 <= prefix <= 128:
            raise ValidationError('ipv6_prefix', prefix, 'a prefix length from 1 to 128')
        return str(address), prefix

    def desired(self, name):
        """The definition the options ask for, in libvirt's normalized form."""
        params = self.params
        root = xmltree.element('network', {'ipv6': 'yes' if params.get('guest_ipv6') else None})
        xmltree.sub(root, 'name', text=name)
        if self.mode not in ('none', 'veryisolated'):
            forward = xmltree.sub(root, 'forward', {'mode': self.mode, 'dev': params.get('forward_device')})
            if params.get('forward_device'):
                xmltree.sub(forward, 'interface', {'dev': params['forward_device']})
        if params.get('bridge'):
            xmltree.sub(root, 'bridge', {'name': params['bridge']})
        if params.get('mtu'):
            xmltree.sub(root, 'mtu', {'size': params['mtu']})
        if params.get('domain_name'):
            xmltree.sub(root, 'domain', {'name': params['domain_name'], 'localOnly': 'yes'})
        if self.host_ip is not None:
            ip = xmltree.sub(root, 'ip', {'address': str(self.host_ip), 'netmask': str(self.network.netmask)})
            if self.dhcp_start is not None:
                dhcp = xmltree.sub(ip, 'dhcp')
                xmltree.sub(dhcp, 'range', {'start': str(self.dhcp_start), 'end': str(self.dhcp_stop)})
                for host in self.hosts:
                    node = xmltree.sub(dhcp, 'host', {'mac': host['mac'], 'name': host['name'], 'ip': host['ip']})
                    if host['state'] == 'absent':
                        xmltree.mark_absent(node)
                if params.get('dhcp_bootp_file'):
                    xmltree.sub(dhcp, 'bootp', {'file': params['dhcp_bootp_file'],
                                                'server': params.get('dhcp_bootp_server')})
            elif params.get('dhcp_enabled') is False:
                xmltree.mark_absent(xmltree.sub(ip, 'dhcp'))
        if self.ipv6:
            xmltree.sub(root, 'ip', {'family': 'ipv6', 'address': self.ipv6[0], 'prefix': self.ipv6[1]})
        return root


def ipv4_networks(tree):
    """The IPv4 networks a libvirt network definition serves."""
    found = []
    for ip in tree.findall('ip'):
        if (ip.get('family') or 'ipv4') != 'ipv4' or not ip.get('address'):
            continue
        mask = ip.get('netmask') or ip.get('prefix') or '24'
        found.append(netaddr.IPNetwork('%s/%s' % (ip.get('address'), mask)).cidr)
    return found


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


def domains_using(conn, name):
    """Names of defined domains with an interface on network ``name``."""
    users = []
    for domain in conn.listAllDomains(0):
        try:
            tree = xmltree.parse(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        except libvirt.libvirtError as error:
            if error.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                raise
            continue  # removed since it was listed
        if any(source.get('network') == name for source in tree.findall('devices/interface/source')):
            users.append(domain.name())
    return sorted(users)


def release_reservations(conn, reservations, check_mode):
    """Delete the DHCP hosts ``reservations`` name (each "NETWORK MAC", as a machine's record
    keeps them); a network or a host gone already, or removed meanwhile by another run, is no
    change. Returns those released."""
    released = []
    for item in reservations:
        name, mac = item.split(' ', 1)
        try:
            if _release(conn, name, mac, check_mode):
                released.append(item)
        except libvirt.libvirtError:
            if find(conn, name) is not None:
                raise
    return released


def _release(conn, name, mac, check_mode):
    net = find(conn, name)
    if net is None:
        return False
    hosts = [h for h in xmltree.parse(inactive_xml(net, libvirt.VIR_NETWORK_XML_INACTIVE)).findall('ip/dhcp/host')
             if h.get('mac', '').lower() == mac.lower()]
    if check_mode or not hosts:
        return bool(hosts)
    flags = libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG
    if net.isActive():
        flags |= libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE
    for host in hosts:
        net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE, libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1,
                   _host_xml(host), flags)
    sync_live(net, [mac])
    return True


def remove_unused(conn, names, check_mode, leaving=()):
    """Remove each network of ``names`` that no defined domain uses, ``leaving`` (domains being
    removed) aside; one in use stays, one gone already (or removed meanwhile by another run) is
    no change. Returns those removed."""
    removed = []
    for name in names:
        net = find(conn, name)
        if net is None or [user for user in domains_using(conn, name) if user not in leaving]:
            continue
        if not check_mode:
            _destroy_and_undefine(conn, name, net)
        removed.append(name)
    return removed


def _destroy_and_undefine(conn, name, net):
    """Stop and undefine a network; one another run stopped or removed meanwhile (libvirt then
    says so in several ways, down to a config file gone) is removed all the same."""
    for attempt in range(3):
        try:
            if net.isActive():
                net.destroy()
            net.undefine()
            return
        except libvirt.libvirtError:
            net = find(conn, name)
            if net is None:
                return
            if attempt == 2:
                raise


def _without_hosts(tree):
    stripped = copy.deepcopy(tree)
    for host in stripped.findall('ip/dhcp/host'):
        host.getparent().remove(host)
    return stripped


def needs_restart(live, config):
    """Whether a running network's live XML lags its persistent definition (reservations
    aside, which change live). The live XML carries runtime additions (NAT port ranges,
    connection counts), so the question is whether the config laid over the live XML
    changes it, or the config dropped an element the live network still has."""
    live, config = _without_hosts(live), _without_hosts(config)
    if xmltree.differs(xmltree.merge(live, config, NETWORK_RULES), live):
        return True
    top_level = ('forward', 'bridge', 'mtu', 'domain', 'ip', 'dns')
    return sorted(c.tag for c in live if c.tag in top_level) != sorted(c.tag for c in config if c.tag in top_level)


def _host_xml(node):
    return xmltree.to_xml(xmltree.element('host', dict(node.attrib)))


def _hosts_by_mac(tree, macs=None):
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
    live = _hosts_by_mac(xmltree.parse(net.XMLDesc(0)), macs)
    wanted = _hosts_by_mac(config, macs)
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


class NetworkManager(object):
    """Brings one network to the state the options ask for."""

    def __init__(self, params, check_mode, local_host=True):
        self.params = params
        self.check_mode = check_mode
        self.local_host = local_host
        self.spec = NetworkSpec(params) if params['state'] != 'absent' else None
        if params['state'] == 'absent' and not params.get('name'):
            raise ValidationError('name', None, 'the name of the network to remove')
        if self.spec is not None and not params.get('name') and self.spec.network is None:
            raise ValidationError('name', None, 'a network name, or an address/ip to find the network by')
        self.conn = None
        self._macs = []
        self.result = dict(changed=False, restart_required=False, reused=False)

    def ensure(self, conn):
        """Converge; return the module result."""
        self.conn = conn
        if self.params['state'] == 'absent':
            return self._absent()
        try:
            return self._present()
        except libvirt.libvirtError as error:
            if self.check_mode or error.get_error_code() not in (libvirt.VIR_ERR_OPERATION_INVALID,
                                                                 libvirt.VIR_ERR_OPERATION_FAILED):
                raise
            # another run changed the network between our read and our write (a reservation of
            # the same MAC, the same network started): read again and converge once more
            self.result = dict(changed=False, restart_required=False, reused=False)
            return self._present()

    # -- present / inactive -------------------------------------------------------
    def _resolve_name(self):
        """The network to manage: by name, or an existing one serving the subnet."""
        name, network = self.params.get('name'), self.spec.network
        net = find(self.conn, name) if name else None
        if net is not None or network is None:
            return name, net
        exact, overlapping = find_by_subnet(self.conn, network)
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
            self.result.update(network={}, diff=diff_entries(xmltree.diff(None, None), 'network ' + name, None, None))
            return self.result
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
        self.result['diff'] = diff_entries(xml_diff, 'network ' + name, before_state, after_state)
        self._macs = macs
        self.result['restart_required'] = lagging and after_state['active'] and not restart_now

        if not self.check_mode and self.result['changed']:
            net = self._apply(net, current, merged, xml_changed, hosts_only, after_state, restart_now)
        self.result['network'] = describe(net) if net is not None else dict(name=name)
        return self.result

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
                self._undo(net)
            raise
        return net

    def _define(self, tree):
        try:
            return self.conn.networkDefineXML(xmltree.to_xml(tree))
        except libvirt.libvirtError as error:
            if 'already exists' not in (error.get_error_message() or ''):
                raise
            # another run defined it first: lay our definition over theirs
            other = find(self.conn, tree.findtext('name'))
            current = xmltree.parse(inactive_xml(other, libvirt.VIR_NETWORK_XML_INACTIVE))
            return self.conn.networkDefineXML(xmltree.to_xml(xmltree.merge(current, tree, NETWORK_RULES)))

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

    @staticmethod
    def _undo(net):
        try:
            if net.isActive():
                net.destroy()
            net.undefine()
        except libvirt.libvirtError:
            pass

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
        self.result.update(changed=False, network={},
                           diff=diff_entries(xmltree.diff(None, None), 'network ' + name, None, None))
        return self.result

    def _remove(self, name, net):
        current = xmltree.parse(inactive_xml(net, libvirt.VIR_NETWORK_XML_INACTIVE))
        users = domains_using(self.conn, name)
        if users and self.params.get('only_unused') and not self.params.get('force'):
            self.result.update(kept_for=users, network=describe(net),
                               diff=diff_entries(xmltree.diff(None, None), 'network ' + name, None, None))
            return self.result
        if users and not self.params.get('force'):
            raise LibvirtOperationError('network %s is used by domain(s) %s: remove them first or set force=true'
                                        % (name, ', '.join(users)))
        before_state = dict(active=bool(net.isActive()), autostart=bool(net.autostart()))
        diff = diff_entries(xmltree.diff(current, None), 'network ' + name, before_state, None)
        if not self.check_mode:
            _destroy_and_undefine(self.conn, name, net)
        self.result.update(changed=True, network={}, diff=diff)
        return self.result
