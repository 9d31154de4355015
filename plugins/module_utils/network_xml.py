# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A libvirt network's desired XML from vagrant-libvirt's network options: NAT, routed,
isolated, very isolated, open and bridged networks, their addresses, DHCP ranges and
reservations, checked (subnet math with netaddr, what dnsmasq can take) - no libvirt call."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.vagrantless.libvirt.plugins.module_utils import validate, xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import check_xml_options
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
