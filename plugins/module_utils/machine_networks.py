# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A machine's networks, from its ``libvirt_management_network_*`` settings and ``vm_networks``:
the networks libvirt_network ensures (each with the machine's DHCP reservation), the domain's
interfaces and the forwarded ports, and libvirt_network's own checks of those networks made
before anything is touched.

A machine's MACs are derived from its domain name, never random, so that its reservations
exist before it boots and a second run finds the same ones.

A machine of a session (``qemu:///session``, no root) gets no libvirt network: its management
interface is QEMU's user mode with the SSH port (and every forwarded port) forwarded from the
hypervisor's loopback, and each private network is a multicast link on the loopback shared by the
lab's machines on that subnet, with the machine's address set in the guest."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.vagrantless.libvirt.plugins.module_utils import (
    forwarded_port, machine_options, network_xml, usernet, validate)

NETWORK_KINDS = ('private_network', 'public_network', 'forwarded_port')
DHCP_NETWORK = '172.28.128.0/24'  # Vagrant's default for `private_network, type: dhcp`

# The options of a vm_networks item that the modules take typed (others are left as given).
NETWORK_ITEM_OPTIONS = dict(
    (name, dict(type=kind)) for kind, names in (
        ('str', ('ip', 'netmask', 'type', 'mac', 'network_name', 'network_address', 'forward_mode', 'forward_device',
                 'host_ip', 'domain_name', 'dhcp_start', 'dhcp_stop', 'dhcp_bootp_file', 'dhcp_bootp_server',
                 'ipv6_address', 'model_type', 'driver_name', 'iface_name', 'bus', 'slot', 'dev', 'mode',
                 'portgroup', 'tunnel_type', 'tunnel_ip', 'tunnel_local_ip', 'guest_ip', 'id')),
        ('int', ('mtu', 'ipv6_prefix', 'driver_queues', 'tunnel_port', 'tunnel_local_port')),
        ('bool', ('dhcp_enabled', 'guest_ipv6', 'autostart', 'ovs', 'trust_guest_rx_filters', 'auto_config')))
    for name in names)
# What the settings of the management network are called, by libvirt_network's option names.
MANAGEMENT_OPTIONS = dict(name='libvirt_management_network_name', address='libvirt_management_network_address',
                          netmask='libvirt_management_network_address', mtu='libvirt_management_network_mtu',
                          domain_name='libvirt_management_network_domain',
                          forward_mode='libvirt_management_network_mode')
# ... and those of a private network, after its vm_networks[N].
PRIVATE_OPTIONS = {'name': 'network_name', 'address': 'network_address', 'dhcp_hosts[0].ip': 'ip',
                   'dhcp_hosts[0].mac': 'mac'}


def derived_mac(seed):
    """A stable locally administered MAC in qemu's 52:54:00 range for ``seed``."""
    digest = hashlib.sha256(seed.encode('utf-8')).hexdigest()
    return '52:54:00:%s:%s:%s' % (digest[0:2], digest[2:4], digest[4:6])


class MachineNetworks(object):
    """The networks, interfaces and forwarded ports of one machine (``settings``, a
    ``machine_options.MachineSettings``; ``name``, its domain; ``lab``, its lab)."""

    def __init__(self, settings, name, lab, session=False):
        self.settings = settings
        self.name = name
        self.lab = lab
        self.session = session
        self._origins = []
        self.guest_addresses = []  # the addresses set in the guest, as build() found them
        self.links = []  # a session machine's private networks (multicast links), by network name

    def build(self):
        """The networks libvirt_network ensures, the domain's interfaces and the forwarded ports
        (SSH tunnels; a session machine's are forwards of its management interface instead)."""
        settings, get = self.settings, self.settings.get
        networks, interfaces, ports = [], [], []
        self._origins = []  # the setting each network comes from, to name it in a refusal
        self.guest_addresses = []
        self.links = []
        management = None
        if get('libvirt_mgmt_attach'):
            mac = get('libvirt_management_network_mac')
            mac = settings.checked('libvirt_management_network_mac', validate.mac, mac) if mac \
                else derived_mac(self.name + '/0')
            if self.session:
                # the SSH port forwarded from the hypervisor's loopback, its host port chosen free
                management = dict(type='user', mac=mac, forwards=[dict(guest=get('ssh_port'), host=0,
                                                                       host_ip='127.0.0.1')])
                interfaces.append(management)
        if get('libvirt_mgmt_attach') and not self.session:
            self._origins.append(None)
            name = get('libvirt_management_network_name')
            networks.append(dict(
                name=name, address=get('libvirt_management_network_address'),
                forward_mode=get('libvirt_management_network_mode'),
                guest_ipv6=get('libvirt_management_network_guest_ipv6'),
                autostart=get('libvirt_management_network_autostart'),
                domain_name=get('libvirt_management_network_domain'),
                mtu=get('libvirt_management_network_mtu'), reuse=True,
                # a reservation (the address known before boot, no probe by dnsmasq), address chosen by libvirt_network
                dhcp_hosts=[dict(mac=mac, ip='auto')],
                owned=not get('libvirt_management_network_keep')))
            interfaces.append(dict(network=name, mac=mac, pci_bus=get('libvirt_management_network_pci_bus'),
                                   pci_slot=get('libvirt_management_network_pci_slot')))
        for index, item in enumerate(get('vm_networks')):
            option = 'vm_networks[%d]' % index
            if not isinstance(item, dict) or len(item) != 1 or list(item)[0] not in NETWORK_KINDS:
                settings.fail(option, item, 'a mapping with one key, the network kind (%s), to its options'
                              % ', '.join(NETWORK_KINDS))
            kind, options = list(item.items())[0]
            options = self._network_options(
                option, machine_options.strip_libvirt_prefix(settings.mapping(option, options or {})))
            if kind == 'forwarded_port':
                port = self._forwarded_port(option, options)
                if self.session:
                    self._session_forward(option, port, management)
                else:
                    ports.append(port)
                continue
            mac = options.get('mac')
            mac = settings.checked(option + '.mac', validate.mac, mac) if mac \
                else derived_mac('%s/%d' % (self.name, len(interfaces)))
            if kind == 'public_network':
                if self.session:
                    settings.fail(option, options, 'a private network or a forwarded port: a public network is a '
                                  "host bridge or device, which a session (qemu:///session) cannot attach without root")
                interfaces.append(_public_interface(options, mac))
            elif options.get('tunnel_type'):
                interfaces.append(self._tunnel_interface(option, options, mac))
            else:
                network = self._private_network(option, options, mac)
                if network['guest']:
                    self.guest_addresses.append(network['guest'])
                if self.session:
                    interfaces.append(self._multicast_link(option, options, network, mac))
                    self.links.append(dict(name=network['name']))
                    continue
                networks.append(network)
                self._origins.append(option)
                interfaces.append(_interface(options, network['name'], mac))
        return networks, interfaces, ports

    def _session_forward(self, option, port, management):
        """A forwarded port of a session machine: a host forward of its management interface
        (``id: ssh`` gives the SSH forward its host port, as in Vagrant)."""
        if management is None:
            self.settings.fail(option, port, 'libvirt_mgmt_attach: true (a session machine forwards ports through '
                               'its user-mode management interface)')
        forward = dict(guest=port['guest'], host=port['host'], guest_ip=port['guest_ip'],
                       host_ip='0.0.0.0' if port['host_ip'] == '*' else port['host_ip'])
        if port['id'] == 'ssh':
            management['forwards'][0] = dict(forward, guest=self.settings.get('ssh_port'))
        else:
            management['forwards'].append(forward)

    def _multicast_link(self, option, options, network, mac):
        """A session machine's private network: the lab's multicast link on the loopback for the
        network's subnet (no DHCP server there: the address is set in the guest)."""
        if not network.get('ip') or network['guest'] is None:
            self.settings.fail(option, options, 'an ip, configured in the guest (auto_config true): a session '
                               "machine's private network is a link between the lab's machines on this host, "
                               'with no DHCP server and no network of its own')
        group, port = usernet.multicast_link(self.lab, validate.netaddr.IPNetwork(
            '%s/%s' % (network['ip'], network['netmask'])).cidr)
        return dict(type='mcast', mac=mac, model=options.get('model_type'), tunnel_ip=group, tunnel_port=port,
                    tunnel_local_ip='127.0.0.1')

    def _network_options(self, option, options):
        """The typed options of a vm_networks item checked and converted (``"1500"`` -> 1500)."""
        given = dict((key, value) for key, value in options.items() if key in NETWORK_ITEM_OPTIONS
                     and value is not None)
        result = ArgumentSpecValidator(dict((key, NETWORK_ITEM_OPTIONS[key]) for key in given)).validate(given)
        if result.error_messages:
            key = next((key for key in given if "'%s'" % key in result.error_messages[0]), '')
            self.settings.fail('%s.%s' % (option, key) if key else option, given.get(key, options),
                               result.error_messages[0])
        return dict(options, **result.validated_parameters)

    def _tunnel_interface(self, option, options, mac):
        kinds = dict(udp='udp', server='server', client='client', mcast='mcast')
        kind = options['tunnel_type']
        if kind not in kinds:
            self.settings.fail(option + '.tunnel_type', kind, 'one of %s' % ', '.join(sorted(kinds)))
        return dict(type=kind, mac=mac, model=options.get('model_type'), tunnel_ip=options.get('tunnel_ip'),
                    tunnel_port=options.get('tunnel_port'), tunnel_local_ip=options.get('tunnel_local_ip'),
                    tunnel_local_port=options.get('tunnel_local_port'))

    def _private_network(self, option, options, mac):
        dhcp = options.get('type') == 'dhcp'
        ip = options.get('ip')
        if not dhcp and not ip and not options.get('network_name'):
            self.settings.fail(option, options, 'an ip, type: dhcp, or the network_name of an existing network')
        network = dict(name=options.get('network_name'), dhcp_enabled=options.get('dhcp_enabled', True),
                       forward_mode=options.get('forward_mode', 'nat'),
                       forward_device=options.get('forward_device'), host_ip=options.get('host_ip'),
                       domain_name=options.get('domain_name'), dhcp_start=options.get('dhcp_start'),
                       dhcp_stop=options.get('dhcp_stop'), dhcp_bootp_file=options.get('dhcp_bootp_file'),
                       dhcp_bootp_server=options.get('dhcp_bootp_server'),
                       guest_ipv6=options.get('guest_ipv6', True), ipv6_address=options.get('ipv6_address'),
                       ipv6_prefix=options.get('ipv6_prefix'), mtu=options.get('mtu'),
                       autostart=options.get('autostart'), dhcp_hosts=[], owned=True, reuse=True,
                       guest=None, netmask=options.get('netmask', '255.255.255.0'))
        # as Vagrant does it, the guest is configured for the network (unless auto_config: false):
        # its fixed address set statically (the DHCP reservation gives the same one), else DHCP
        configure = options.get('auto_config', True)
        if ip:
            address = self.settings.ip(ip, option + '.ip')
            network.update(ip=address)
            if network['dhcp_enabled']:
                network['dhcp_hosts'] = [dict((key, value) for key, value in (
                    ('mac', mac), ('ip', address), ('name', self.settings.get('vm_hostname'))) if value)]
            try:
                prefix = validate.netaddr.IPNetwork('%s/%s' % (address, network['netmask'])).prefixlen
            except (validate.netaddr.AddrFormatError, ValueError, TypeError):
                self.settings.fail(option + '.netmask', network['netmask'], 'a netmask (255.255.255.0) or a prefix length')
            network['guest'] = dict(mac=mac, method='static', ip=address, prefix=prefix) if configure else None
        elif dhcp:
            network.update(address=options.get('network_address', DHCP_NETWORK))
            network['guest'] = dict(mac=mac, method='dhcp') if configure else None
        if not network['name']:
            subnet = network.get('address') or '%s/%s' % (ip, network['netmask'])
            network['name'] = self._network_name(option, subnet)
        elif not ip and not dhcp:
            network.update(owned=False, reuse=False)  # an existing network, given by name
        return network

    def _network_name(self, option, subnet):
        """``<lab>-<network>-<prefix>``: the same name for every machine of the lab on that subnet."""
        try:
            cidr = validate.netaddr.IPNetwork(subnet).cidr
        except (validate.netaddr.AddrFormatError, ValueError, TypeError):
            self.settings.fail(option + '.ip', subnet, 'an IPv4 address with a valid netmask')
        return self.settings.checked(option + '.network_name', validate.name,
                                     '%s-%s-%d' % (self.lab, cidr.network, cidr.prefixlen))

    def _forwarded_port(self, option, options):
        settings = self.settings
        for key in ('guest', 'host'):
            value = options.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 65536:
                settings.fail('%s.%s' % (option, key), value, 'a port number from 1 to 65535')
        protocol = options.get('protocol', 'tcp')
        if protocol != 'tcp':
            settings.fail(option + '.protocol', protocol, 'tcp (forwarded ports are SSH tunnels)')
        gateway_ports = settings.flag(option + '.gateway_ports', options.get('gateway_ports'))
        host_ip = settings.checked(option + '.host_ip', forwarded_port.host_address,
                                   options.get('host_ip', '*' if gateway_ports else '127.0.0.1'))
        if gateway_ports and forwarded_port.is_loopback(host_ip):
            settings.fail(option + '.host_ip', host_ip, 'with gateway_ports, an address other hosts reach ("*" or an '
                          'address of the hypervisor), not a loopback one')
        guest_ip = options.get('guest_ip')
        if guest_ip is not None:
            settings.checked(option + '.guest_ip', forwarded_port.remote_host, guest_ip, 'guest_ip')
        return dict(guest=options['guest'], host=options['host'], host_ip=host_ip, guest_ip=guest_ip,
                    gateway_ports=gateway_ports, id=settings.text(option + '.id', options.get('id')))

    def check(self, networks):
        """libvirt_network's own checks of each network ``build`` gave, made now, each refusal named
        by the setting the network comes from."""
        for origin, net in zip(self._origins, networks):
            params = dict(net, purge_dhcp_hosts=False)
            if origin is None:
                self.settings.checked(_management_option, network_xml.NetworkSpec, params)
            else:
                self.settings.checked(lambda inner, at=origin: 'vm_hostname' if inner == 'dhcp_hosts[0].name' else
                                      '%s.%s' % (at, PRIVATE_OPTIONS.get(inner, inner)), network_xml.NetworkSpec,
                                      params)


def _interface(options, network, mac):
    return dict(network=network, mac=mac, model=options.get('model_type'),
                driver_name=options.get('driver_name'), driver_queues=options.get('driver_queues'),
                iface_name=options.get('iface_name'), mtu=options.get('mtu'),
                pci_bus=options.get('bus'), pci_slot=options.get('slot'))


def _public_interface(options, mac):
    kind = options.get('type') or ('network' if options.get('network_name') else 'direct')
    iface = dict(type=kind, mac=mac, model=options.get('model_type'), portgroup=options.get('portgroup'),
                 ovs=bool(options.get('ovs', False)),
                 trust_guest_rx_filters=bool(options.get('trust_guest_rx_filters', False)))
    if kind == 'direct':
        iface.update(dev=options.get('dev', 'eth0'), mode=options.get('mode', 'bridge'))
    elif kind == 'bridge':
        iface.update(bridge=options.get('dev'))
    else:
        iface.update(network=options.get('network_name'))
    return iface


def _management_option(inner):
    return MANAGEMENT_OPTIONS.get(inner, 'libvirt_management_network_mac' if inner.startswith('dhcp_hosts')
                                  else 'libvirt_management_network_' + inner)


def spanning_networks(machines):
    """The private networks that machines on different hypervisors share, each as a sentence
    naming the network, the hypervisors and their machines (empty when there is none): a libvirt
    network lives on one host, so two hypervisors' guests on "one" network would never meet.
    ``machines`` are ``vagrantless_machine`` facts; the management network, which each
    hypervisor has its own of, is no such network."""
    hosts = {}
    for machine in machines:
        # a session machine's private networks are links on its hypervisor's loopback: they stay on one host too
        for network in (machine.get('networks') or []) + (machine.get('links') or []):
            if network.get('name') and network['name'] != machine.get('management_network'):
                hosts.setdefault(network['name'], {}).setdefault(machine['hypervisor_name'], []).append(
                    machine['machine'])
    return ['private network %s would span hypervisors %s: a libvirt network lives on one host, so put '
            'these machines on one hypervisor (libvirt_host) or give each hypervisor a network of its own'
            % (name, ', '.join('%s (%s)' % (where, ', '.join(sorted(names))) for where, names in sorted(by.items())))
            for name, by in sorted(hosts.items()) if len(by) > 1]
