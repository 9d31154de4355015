# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A machine's settings, from the inventory variables named after a Vagrantfile's
(``config.vm.X`` -> ``vm_X``, ``libvirt.X`` -> ``libvirt_X``, ``config.ssh.X`` ->
``ssh_X``), checked and turned into what each module of the ``up`` sequence takes:
volumes, networks with the machine's DHCP reservations, the domain, synced folders,
forwarded ports and provisioners. Pure computation: nothing here talks to libvirt.

Names and addresses that a later run must find again are derived, never random:
a machine's MACs come from its domain name, so its reservations exist before it boots
and a second run finds the same ones."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import glob
import hashlib
import json
import os
import posixpath
import re

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.vagrantless.libvirt.plugins.module_utils import (
    boxes, connection, domain_options, domain_xml, forwarded_port, network_xml, validate)
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import CONNECTION_ARGUMENT_SPEC
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

# The modules' connection options as libvirt_<option>, but host: libvirt_host is the hypervisor (the
# URI's host with connect_via_ssh, else where libvirt work runs).
CONNECTION_OPTIONS = dict((name, option) for name, option in CONNECTION_ARGUMENT_SPEC.items() if name != 'host')
NETWORK_KINDS = ('private_network', 'public_network', 'forwarded_port')
SYNCED_FOLDER_TYPES = ('rsync', '9p', 'virtiofs')
ACCESS_MODES = ('passthrough', 'mapped', 'squash')
DISK_DEVICE = r'(vd|sd|hd|xvd)[a-z]{1,2}'
PROVISIONER_TYPES = ('shell', 'file')
PROVISIONER_RUNS = ('once', 'always', 'never')
DHCP_NETWORK = '172.28.128.0/24'  # Vagrant's default for `private_network, type: dhcp`

# The options of a vm_networks item that the modules take typed (others are left as given).
NETWORK_ITEM_OPTIONS = dict(
    (name, dict(type=kind)) for kind, names in (
        ('str', ('ip', 'netmask', 'type', 'mac', 'network_name', 'network_address', 'forward_mode', 'forward_device',
                 'host_ip', 'domain_name', 'dhcp_start', 'dhcp_stop', 'dhcp_bootp_file', 'dhcp_bootp_server',
                 'ipv6_address', 'model_type', 'driver_name', 'iface_name', 'bus', 'slot', 'dev', 'mode',
                 'portgroup', 'tunnel_type', 'tunnel_ip', 'tunnel_local_ip', 'guest_ip')),
        ('int', ('mtu', 'ipv6_prefix', 'driver_queues', 'tunnel_port', 'tunnel_local_port')),
        ('bool', ('dhcp_enabled', 'guest_ipv6', 'autostart', 'ovs', 'trust_guest_rx_filters')))
    for name in names)
# What the settings of the management network are called, by libvirt_network's option names.
MANAGEMENT_OPTIONS = dict(name='libvirt_management_network_name', address='libvirt_management_network_address',
                          netmask='libvirt_management_network_address', mtu='libvirt_management_network_mtu',
                          domain_name='libvirt_management_network_domain',
                          forward_mode='libvirt_management_network_mode')
# ... and those of a private network, after its vm_networks[N].
PRIVATE_OPTIONS = {'name': 'network_name', 'address': 'network_address', 'dhcp_hosts[0].ip': 'ip',
                   'dhcp_hosts[0].mac': 'mac'}
# libvirt_domain options the role derives, and the settings they come from.
DERIVED_FROM = dict(interfaces='vm_networks', disks='libvirt_storage', cdroms='libvirt_storage',
                    name='libvirt_default_prefix + inventory_hostname',
                    filesystems='libvirt_filesystems or vm_synced_folders')

# Everything else a machine or lab sets: variable -> argument spec entry.
LAB_OPTIONS = dict(
    vagrantless_lab=dict(type='str'),
    vagrantless_project_dir=dict(type='path'),
    vagrantless_state_dir=dict(type='path', default='~/.vagrantless'),
    libvirt_host=dict(type='str', default='localhost'),
    libvirt_storage_pool_name=dict(type='str', default='default'),
    libvirt_storage_pool_path=dict(type='path'),
    libvirt_management_network_name=dict(type='str', default='vagrant-libvirt'),
    libvirt_management_network_address=dict(type='str', default='192.168.121.0/24'),
    libvirt_management_network_mode=dict(type='str', default='nat',
                                         choices=['nat', 'route', 'none', 'veryisolated', 'open']),
    libvirt_management_network_guest_ipv6=dict(type='bool', default=True),
    libvirt_management_network_autostart=dict(type='bool', default=False),
    libvirt_management_network_mac=dict(type='str'),
    libvirt_management_network_pci_bus=dict(type='str'),
    libvirt_management_network_pci_slot=dict(type='str'),
    libvirt_management_network_domain=dict(type='str'),
    libvirt_management_network_mtu=dict(type='int'),
    libvirt_management_network_keep=dict(type='bool', default=False),
    libvirt_mgmt_attach=dict(type='bool', default=True),
    libvirt_default_prefix=dict(type='str'),
    libvirt_random_hostname=dict(type='bool', default=False),
    libvirt_suspend_mode=dict(type='str', default='pause', choices=['pause', 'managedsave']),
    libvirt_ip_address_timeout=dict(type='int', default=300),
    libvirt_machine_virtual_size=dict(type='int'),
    libvirt_storage=dict(type='list', elements='raw', default=[]),  # items checked one by one, named
    libvirt_shutdown_mode=dict(type='str', default='acpi', choices=['acpi', 'agent']),
    vm_box=dict(type='str'),
    vm_box_version=dict(type='str'),
    vm_box_url=dict(type='str'),
    vm_box_download_checksum=dict(type='str'),
    vm_box_download_checksum_type=dict(type='str', choices=['sha256', 'sha512', 'sha384', 'sha1', 'md5']),
    vm_hostname=dict(type='str'),
    vm_boot_timeout=dict(type='int', default=300),
    vm_graceful_halt_timeout=dict(type='int', default=60),
    vm_networks=dict(type='list', elements='raw', default=[]),  # items checked one by one, named
    vm_synced_folders=dict(type='list', elements='raw', default=[]),  # items checked one by one, named
    vm_provision=dict(type='list', elements='raw', default=[]),  # items checked one by one, named
    ssh_username=dict(type='str', default='vagrant'),
    ssh_private_key_path=dict(type='path'),
    ssh_insert_key=dict(type='bool', default=True),
    ssh_port=dict(type='int', default=22),
)
# Prefixes that are ours: a variable with one of them that is not an option is a typo.
OWN_PREFIXES = ('libvirt_', 'vagrantless_')
# Prefixes users also use for their own variables: only near misses are reported.
SHARED_PREFIXES = ('vm_', 'ssh_')
# Variables with our prefixes that are no settings: the fact of machine_settings and the host
# variables the leases inventory plugin sets.
NOT_SETTINGS = frozenset(['vagrantless_machine', 'vagrantless_lab', 'vagrantless_machine_name', 'libvirt_domain',
                          'libvirt_uuid', 'libvirt_state', 'libvirt_macs', 'libvirt_addresses'])


def domain_settings():
    """libvirt_domain's options a machine sets, by variable (``libvirt_<option>``); the
    declarations in domain_options say which (the role derives the others)."""
    return domain_options.OPTIONS.settings()


def argument_spec():
    """Every machine setting, as the variable users write."""
    spec = dict(LAB_OPTIONS)
    for name, entry in CONNECTION_OPTIONS.items():
        spec['libvirt_' + name] = dict(entry)
    for variable, option in domain_settings().items():
        # vagrant-libvirt's defaults apply in libvirt_domain, for new domains
        spec[variable] = option.argument_spec(with_default=False)
    return spec


class SettingsError(ValueError):
    """Machine settings that are wrong: every problem found, each naming host, variable and value."""

    def __init__(self, problems):
        self.problems = problems
        super(SettingsError, self).__init__('; '.join(problems))


def unknown_settings(host, names, known):
    """Errors for variables that look like settings but are none (typos)."""
    errors = []
    for name in sorted(names):
        if name in known or name in NOT_SETTINGS or name.startswith('_'):
            continue
        near = difflib.get_close_matches(name, list(known), n=1, cutoff=0.8)
        if name.startswith(OWN_PREFIXES) or (name.startswith(SHARED_PREFIXES) and near):
            hint = ('; did you mean %s?' % near[0]) if near else ''
            errors.append('host %s: %s is not a setting of vagrantless.libvirt%s' % (host, name, hint))
    return errors


def derived_mac(seed):
    """A stable locally administered MAC in qemu's 52:54:00 range for ``seed``."""
    digest = hashlib.sha256(seed.encode('utf-8')).hexdigest()
    return '52:54:00:%s:%s:%s' % (digest[0:2], digest[2:4], digest[4:6])


def _strip_libvirt_prefix(options):
    """A Vagrantfile's ``libvirt__network_name`` is ``network_name`` here too."""
    return dict((key[len('libvirt__'):] if key.startswith('libvirt__') else key, value)
                for key, value in (options or {}).items())


class Machine(object):
    """One machine's settings, checked, and the module arguments of its up sequence."""

    def __init__(self, host, variables):
        self.host = host
        validate.name(host, 'inventory_hostname')
        spec = argument_spec()
        errors = unknown_settings(host, variables.keys(), spec)
        given = dict((name, variables[name]) for name in spec if name in variables
                     and variables[name] is not None)
        result = ArgumentSpecValidator(spec).validate(given)
        for message in result.error_messages:
            named = [name for name in given if "'%s'" % name in message or message.startswith(name + ' ')]
            value = (' (given: %r)' % (given[named[0]],)) if named and 'passw' not in named[0] else ''
            errors.append('host %s: %s%s' % (host, message, value))
        if errors:
            raise SettingsError(errors)
        self.settings = result.validated_parameters
        self.variables = variables
        self.lab = self.settings['vagrantless_lab'] or os.path.basename(
            (self.settings['vagrantless_project_dir'] or variables.get('inventory_dir') or 'default').rstrip('/'))
        self.project_dir = self.settings['vagrantless_project_dir'] or variables.get('inventory_dir') or os.getcwd()
        self.name = self._domain_name()

    # -- helpers -------------------------------------------------------------------------
    def _get(self, name):
        return self.settings.get(name)

    def _fail(self, option, value, allowed):
        raise ValidationError('host %s: %s' % (self.host, option), value, allowed)

    def _mapping(self, option, item):
        """A mapping (a list item of the settings), or a refusal naming it."""
        if not isinstance(item, dict):
            self._fail(option, item, 'a mapping of option names to values')
        return item

    def _text(self, option, value, required=False):
        """A string without control characters (None when absent and not required)."""
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value or connection.CONTROL_CHARACTERS.search(value):
            self._fail(option, value, 'a non-empty string without control characters')
        return value

    def _texts(self, option, value):
        """A list of such strings."""
        if value is None:
            return []
        if not isinstance(value, list):
            self._fail(option, value, 'a list of strings')
        return [self._text('%s[%d]' % (option, index), item, True) for index, item in enumerate(value)]

    def _flag(self, option, value, default=False):
        if value is None:
            return default
        if not isinstance(value, bool):
            self._fail(option, value, 'true or false')
        return value

    def _checked(self, option, check, *args):
        """``check(*args)``, its refusal renamed to the setting: ``option``, or ``option(name)`` of
        the name the check gave (a function, for checks that name items: ``dhcp_start`` ->
        ``vm_networks[1].dhcp_start``)."""
        try:
            return check(*args)
        except ValidationError as error:
            inner = error.option
            raise ValidationError('host %s: %s' % (self.host, option(inner) if callable(option) else option),
                                  error.value, error.allowed)

    def _ip(self, value, option):
        try:
            return str(validate.netaddr.IPAddress(value, version=4))
        except (validate.netaddr.AddrFormatError, ValueError, TypeError):
            self._fail(option, value, 'an IPv4 address such as 10.20.30.40')

    def _domain_name(self):
        prefix = self._get('libvirt_default_prefix')
        if prefix is None:
            prefix = self._checked('vagrantless_lab', validate.name, self.lab) + '_'
        name = prefix + self.host
        if self._get('libvirt_random_hostname'):
            # vagrant-libvirt appends a random suffix so two projects never clash; a digest of
            # the project's path does that and is found again by the next run
            name += '_' + hashlib.sha256(os.path.abspath(self.project_dir).encode('utf-8')).hexdigest()[:8]
        return self._checked('libvirt_default_prefix + inventory_hostname', validate.name, name)

    # -- pieces ----------------------------------------------------------------------------
    def connection(self):
        """The modules' connection options (the password stays a variable of its own: never in a fact)."""
        options = dict((name, self._get('libvirt_' + name)) for name in CONNECTION_OPTIONS
                       if self._get('libvirt_' + name) is not None and name != 'password')
        if self._get('libvirt_connect_via_ssh'):
            options['host'] = self._get('libvirt_host')
        return options

    def delegate(self):
        """Where libvirt work runs: the controller when it reaches libvirt through a URI of its own,
        else the hypervisor host (``localhost`` by default)."""
        if self._get('libvirt_uri') or self._get('libvirt_connect_via_ssh'):
            return 'localhost'
        return self._get('libvirt_host')

    def box(self):
        if not self._get('vm_box'):
            return None
        return dict(name=self._get('vm_box'), version=self._get('vm_box_version'), src=self._get('vm_box_url'),
                    checksum=self._get('vm_box_download_checksum'),
                    checksum_type=self._get('vm_box_download_checksum_type'))

    def _networks_and_interfaces(self):
        networks, interfaces, ports = [], [], []
        self._network_origins = []  # the setting each network comes from, to name it in a refusal
        if self._get('libvirt_mgmt_attach'):
            self._network_origins.append(None)
            mac = self._get('libvirt_management_network_mac')
            mac = self._checked('libvirt_management_network_mac', validate.mac, mac) if mac \
                else derived_mac(self.name + '/0')
            name = self._get('libvirt_management_network_name')
            networks.append(dict(
                name=name, address=self._get('libvirt_management_network_address'),
                forward_mode=self._get('libvirt_management_network_mode'),
                guest_ipv6=self._get('libvirt_management_network_guest_ipv6'),
                autostart=self._get('libvirt_management_network_autostart'),
                domain_name=self._get('libvirt_management_network_domain'),
                mtu=self._get('libvirt_management_network_mtu'), reuse=True,
                # a reservation (the address known before boot, no probe by dnsmasq), address chosen by libvirt_network
                dhcp_hosts=[dict(mac=mac, ip='auto')],
                owned=not self._get('libvirt_management_network_keep')))
            interfaces.append(dict(network=name, mac=mac, pci_bus=self._get('libvirt_management_network_pci_bus'),
                                   pci_slot=self._get('libvirt_management_network_pci_slot')))
        for index, item in enumerate(self._get('vm_networks')):
            option = 'vm_networks[%d]' % index
            if not isinstance(item, dict) or len(item) != 1 or list(item)[0] not in NETWORK_KINDS:
                self._fail(option, item, 'a mapping with one key, the network kind (%s), to its options'
                           % ', '.join(NETWORK_KINDS))
            kind, options = list(item.items())[0]
            options = self._network_options(option, _strip_libvirt_prefix(self._mapping(option, options or {})))
            if kind == 'forwarded_port':
                ports.append(self._forwarded_port(option, options))
                continue
            mac = options.get('mac')
            mac = self._checked(option + '.mac', validate.mac, mac) if mac \
                else derived_mac('%s/%d' % (self.name, len(interfaces)))
            if kind == 'public_network':
                interfaces.append(self._public_interface(options, mac))
            elif options.get('tunnel_type'):
                interfaces.append(self._tunnel_interface(option, options, mac))
            else:
                network = self._private_network(option, options, mac)
                networks.append(network)
                self._network_origins.append(option)
                interfaces.append(self._interface(options, network['name'], mac))
        return networks, interfaces, ports

    def _network_options(self, option, options):
        """The typed options of a vm_networks item checked and converted (``"1500"`` -> 1500)."""
        given = dict((key, value) for key, value in options.items() if key in NETWORK_ITEM_OPTIONS
                     and value is not None)
        result = ArgumentSpecValidator(dict((key, NETWORK_ITEM_OPTIONS[key]) for key in given)).validate(given)
        if result.error_messages:
            key = next((key for key in given if "'%s'" % key in result.error_messages[0]), '')
            self._fail('%s.%s' % (option, key) if key else option, given.get(key, options),
                       result.error_messages[0])
        return dict(options, **result.validated_parameters)

    def _interface(self, options, network, mac):
        return dict(network=network, mac=mac, model=options.get('model_type'),
                    driver_name=options.get('driver_name'), driver_queues=options.get('driver_queues'),
                    iface_name=options.get('iface_name'), mtu=options.get('mtu'),
                    pci_bus=options.get('bus'), pci_slot=options.get('slot'))

    def _public_interface(self, options, mac):
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

    def _tunnel_interface(self, option, options, mac):
        kinds = dict(udp='udp', server='server', client='client', mcast='mcast')
        kind = options['tunnel_type']
        if kind not in kinds:
            self._fail(option + '.tunnel_type', kind, 'one of %s' % ', '.join(sorted(kinds)))
        return dict(type=kind, mac=mac, model=options.get('model_type'), tunnel_ip=options.get('tunnel_ip'),
                    tunnel_port=options.get('tunnel_port'), tunnel_local_ip=options.get('tunnel_local_ip'),
                    tunnel_local_port=options.get('tunnel_local_port'))

    def _private_network(self, option, options, mac):
        dhcp = options.get('type') == 'dhcp'
        ip = options.get('ip')
        if not dhcp and not ip and not options.get('network_name'):
            self._fail(option, options, 'an ip, type: dhcp, or the network_name of an existing network')
        network = dict(name=options.get('network_name'), dhcp_enabled=options.get('dhcp_enabled', True),
                       forward_mode=options.get('forward_mode', 'nat'),
                       forward_device=options.get('forward_device'), host_ip=options.get('host_ip'),
                       domain_name=options.get('domain_name'), dhcp_start=options.get('dhcp_start'),
                       dhcp_stop=options.get('dhcp_stop'), dhcp_bootp_file=options.get('dhcp_bootp_file'),
                       dhcp_bootp_server=options.get('dhcp_bootp_server'),
                       guest_ipv6=options.get('guest_ipv6'), ipv6_address=options.get('ipv6_address'),
                       ipv6_prefix=options.get('ipv6_prefix'), mtu=options.get('mtu'),
                       autostart=options.get('autostart'), dhcp_hosts=[], owned=True, reuse=True,
                       static=None, netmask=options.get('netmask', '255.255.255.0'))
        if ip:
            address = self._ip(ip, option + '.ip')
            network.update(ip=address)
            if network['dhcp_enabled']:
                network['dhcp_hosts'] = [dict((key, value) for key, value in (
                    ('mac', mac), ('ip', address), ('name', self._get('vm_hostname'))) if value)]
            else:
                prefix = validate.netaddr.IPNetwork('%s/%s' % (address, network['netmask'])).prefixlen
                network['static'] = dict(mac=mac, ip=address, prefix=prefix)
        elif dhcp:
            network.update(address=options.get('network_address', DHCP_NETWORK))
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
            self._fail(option + '.ip', subnet, 'an IPv4 address with a valid netmask')
        return self._checked(option + '.network_name', validate.name,
                             '%s-%s-%d' % (self.lab, cidr.network, cidr.prefixlen))

    def _forwarded_port(self, option, options):
        for key in ('guest', 'host'):
            value = options.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 65536:
                self._fail('%s.%s' % (option, key), value, 'a port number from 1 to 65535')
        protocol = options.get('protocol', 'tcp')
        if protocol != 'tcp':
            self._fail(option + '.protocol', protocol, 'tcp (forwarded ports are SSH tunnels)')
        gateway_ports = self._flag(option + '.gateway_ports', options.get('gateway_ports'))
        host_ip = self._checked(option + '.host_ip', forwarded_port.host_address,
                                options.get('host_ip', '*' if gateway_ports else '127.0.0.1'))
        if gateway_ports and forwarded_port.is_loopback(host_ip):
            self._fail(option + '.host_ip', host_ip, 'with gateway_ports, an address other hosts reach ("*" or an '
                       'address of the hypervisor), not a loopback one')
        guest_ip = options.get('guest_ip')
        if guest_ip is not None:
            self._checked(option + '.guest_ip', forwarded_port.remote_host, guest_ip, 'guest_ip')
        return dict(guest=options['guest'], host=options['host'], host_ip=host_ip, guest_ip=guest_ip,
                    gateway_ports=gateway_ports)

    def _volumes(self):
        """The extra disks and CD-ROMs of ``libvirt_storage`` (the box disks come from the box)."""
        disks, cdroms = [], []
        used = set([self._get('libvirt_disk_device') or 'vda'])
        for index, item in enumerate(self._get('libvirt_storage')):
            option = 'libvirt_storage[%d]' % index
            item = self._mapping(option, item)
            for key in ('path', 'dev', 'bus', 'cache', 'serial'):
                self._text('%s.%s' % (option, key), item.get(key))
            if item.get('device') == 'cdrom':
                if item.get('path'):
                    self._checked(option + '.path', validate.absolute_path, item['path'])
                cdroms.append(dict((k, item[k]) for k in ('path', 'dev', 'bus') if item.get(k)))
                continue
            device = item.get('device') or self._next_device(used)
            if not isinstance(device, str) or not re.fullmatch(DISK_DEVICE, device) or device in used:
                self._fail(option + '.device', device, 'a free disk device name such as vdb or sdc')
            used.add(device)
            fmt = item.get('type', 'qcow2')
            if fmt not in ('qcow2', 'raw'):
                self._fail(option + '.type', fmt, 'qcow2 or raw')
            name = os.path.basename(item['path']) if item.get('path') else '%s-%s.%s' % (self.name, device, fmt)
            capacity = item.get('size', '10G')
            self._checked(option + '.size', validate.size, capacity)
            disks.append(dict(volume=self._checked(option + '.path', validate.name, name), device=device,
                              capacity=capacity, format=fmt, bus=item.get('bus'),
                              cache=item.get('cache'), serial=item.get('serial'),
                              shareable=self._flag(option + '.shareable', item.get('shareable')),
                              allow_existing=self._flag(option + '.allow_existing', item.get('allow_existing'))))
        return disks, cdroms

    def _next_device(self, used):
        prefix = {'virtio': 'vd', 'scsi': 'sd', 'sata': 'sd', 'usb': 'sd', 'ide': 'hd'}.get(
            self._get('libvirt_disk_bus') or 'virtio', 'vd')
        for letter in 'bcdefghijklmnopqrstuvwxyz':
            if prefix + letter not in used:
                return prefix + letter
        self._fail('libvirt_storage', None, 'at most 25 disks')

    def _synced_folders(self):
        folders, project_listed = [], False
        for index, item in enumerate(self._get('vm_synced_folders')):
            option = 'vm_synced_folders[%d]' % index
            item = _strip_libvirt_prefix(self._mapping(option, item))
            dest = item.get('dest')
            if (not isinstance(dest, str) or not posixpath.isabs(dest) or connection.CONTROL_CHARACTERS.search(dest)
                    or '..' in dest.split('/')):
                self._fail(option + '.dest', dest, 'an absolute path in the guest, without ".." or control '
                           'characters')
            self._text(option + '.src', item.get('src'))
            for key in ('owner', 'group'):
                if item.get(key) is not None:
                    self._checked('%s.%s' % (option, key), connection.user_name, item[key], key)
            for key in ('rsync__exclude', 'rsync__args', 'mount_options'):
                self._texts('%s.%s' % (option, key), item.get(key))
            if item.get('accessmode', 'passthrough') not in ACCESS_MODES:
                self._fail(option + '.accessmode', item.get('accessmode'), 'one of %s' % ', '.join(ACCESS_MODES))
            self._flag(option + '.disabled', item.get('disabled'))
            self._flag(option + '.readonly', item.get('readonly'))
            project_listed = project_listed or dest == '/vagrant'
            if item.get('disabled'):
                continue
            kind = item.get('type', 'rsync')
            if kind not in SYNCED_FOLDER_TYPES:
                self._fail(option + '.type', kind, 'one of %s (NFS is not supported: use rsync, 9p or virtiofs)'
                           % ', '.join(SYNCED_FOLDER_TYPES))
            src = os.path.normpath(os.path.join(self.project_dir, os.path.expanduser(item.get('src', '.'))))
            folders.append(dict(src=src, dest=dest, type=kind, exclude=list(item.get('rsync__exclude', ['.vagrant/'])),
                                args=list(item.get('rsync__args', [])), owner=item.get('owner'),
                                group=item.get('group'), accessmode=item.get('accessmode', 'passthrough'),
                                readonly=bool(item.get('readonly', False)),
                                mount_options=list(item.get('mount_options', [])),
                                tag=self._mount_tag(dest)))
        if not project_listed:
            folders.insert(0, dict(src=os.path.normpath(self.project_dir), dest='/vagrant', type='rsync',
                                   exclude=['.vagrant/'], args=[], owner=None, group=None, accessmode=None,
                                   readonly=False, mount_options=[], tag=self._mount_tag('/vagrant')))
        return folders

    def _check_later_steps(self, config):
        """What every step of ``up`` will check, checked now with the same code, so that a bad
        setting fails here, before the pool, the box or anything else is touched."""
        self._checked(lambda inner: 'libvirt_' + inner, connection.system_uri, dict(config['connection']))
        self._checked('libvirt_storage_pool_name', validate.name, config['pool']['name'])
        if config['pool']['path'] is not None:
            self._checked('libvirt_storage_pool_path', validate.absolute_path, config['pool']['path'])
        if config['box']:
            self._checked('vm_box', validate.box_name, config['box']['name'])
            if config['box']['version']:
                self._checked('vm_box_version', boxes.parse_constraint, config['box']['version'])
            self._text('vm_box_url', config['box']['src'])
            self._text('vm_box_download_checksum', config['box']['checksum'])
        # the machine's disks on the box's volumes: <domain>.img, then <domain>_<N>.img
        self._checked('libvirt_default_prefix + inventory_hostname', validate.name, self.name + '_9.img')
        if self._get('libvirt_machine_virtual_size') is not None and self._get('libvirt_machine_virtual_size') < 1:
            self._fail('libvirt_machine_virtual_size', self._get('libvirt_machine_virtual_size'),
                       'a number of GiB greater than 0')
        for origin, net in zip(self._network_origins, config['networks']):
            params = dict(net, purge_dhcp_hosts=False)
            if origin is None:
                self._checked(_management_option, network_xml.NetworkSpec, params)
            else:
                self._checked(lambda inner, at=origin: 'vm_hostname' if inner == 'dhcp_hosts[0].name' else
                              '%s.%s' % (at, PRIVATE_OPTIONS.get(inner, inner)), network_xml.NetworkSpec, params)
        self._check_domain(config['domain'])
        self._checked('ssh_username', connection.user_name, config['ssh']['user'])
        if not 0 < config['ssh']['port'] < 65536:
            self._fail('ssh_port', config['ssh']['port'], 'a port number from 1 to 65535')
        key = self._get('ssh_private_key_path')
        if key is not None and ('"' in key or connection.CONTROL_CHARACTERS.search(key)):
            self._fail('ssh_private_key_path', key, 'a path without double quotes or control characters')
        hostname = self._get('vm_hostname')
        if hostname is not None and not connection.is_hostname(hostname):
            self._fail('vm_hostname', hostname, connection.HOSTNAME_ALLOWED.replace(' or an IP address', ''))
        for name, least in (('vm_boot_timeout', 1), ('libvirt_ip_address_timeout', 0),
                            ('vm_graceful_halt_timeout', 0)):
            if self._get(name) < least:
                self._fail(name, self._get(name), '%d or more seconds' % least)

    def _check_domain(self, args):
        """libvirt_domain's own checks on the options the role will give it."""
        given = dict(args, name=self.name, state='running')
        if self._get('libvirt_graphics_passwd') is not None:  # kept out of the fact, checked all the same
            given['graphics_passwd'] = self._get('libvirt_graphics_passwd')
        result = ArgumentSpecValidator(domain_options.argument_spec()).validate(given)
        if result.error_messages:
            message = result.error_messages[0]
            key = next((key for key in sorted(given, key=len, reverse=True) if "'%s'" % key in message
                        or message.startswith(key)), None)
            value = '********' if key and 'passw' in key else given.get(key)
            self._fail(_domain_option(key) if key else 'libvirt_<domain options>', value, message)
        spec = self._checked(_domain_option, domain_xml.DomainSpec, result.validated_parameters)
        paths = dict((index, disk.get('path') or '/var/lib/libvirt/images/%s' % disk.get('volume'))
                     for index, disk in enumerate(spec.params.get('disks') or []))
        self._checked(_domain_option, spec.desired, paths)

    @staticmethod
    def _mount_tag(dest):
        """A 9p/virtiofs mount tag for ``dest`` (at most 31 characters)."""
        return 'vl' + hashlib.sha256(dest.encode('utf-8')).hexdigest()[:16]

    def _provisioners(self):
        steps = []
        for index, item in enumerate(self._get('vm_provision')):
            option = 'vm_provision[%d]' % index
            item = self._mapping(option, item)
            for key in ('name', 'inline', 'path', 'source', 'destination'):
                self._text('%s.%s' % (option, key), item.get(key))
            if isinstance(item.get('args'), list):
                self._texts(option + '.args', item['args'])
            elif item.get('args') is not None:
                self._text(option + '.args', item['args'])
            self._flag(option + '.privileged', item.get('privileged'), True)
            kind = item.get('type', 'shell')
            if kind not in PROVISIONER_TYPES:
                self._fail(option + '.type', kind, 'one of %s (Ansible provisioning: use a later play of your '
                           'playbook on the machines group)' % ', '.join(PROVISIONER_TYPES))
            run = item.get('run', 'once')
            if run not in PROVISIONER_RUNS:
                self._fail(option + '.run', run, 'one of %s' % ', '.join(PROVISIONER_RUNS))
            step = dict(type=kind, run=run, name=item.get('name') or '%s %d' % (kind, index + 1),
                        privileged=bool(item.get('privileged', True)))
            if kind == 'shell':
                if bool(item.get('inline')) == bool(item.get('path')):
                    self._fail(option, item, 'exactly one of inline and path')
                args = item.get('args', [])
                step.update(inline=item.get('inline'), args=args if isinstance(args, list) else [args],
                            path=os.path.join(self.project_dir, item['path']) if item.get('path') else None)
            else:
                if not item.get('source') or not item.get('destination'):
                    self._fail(option, item, 'source and destination')
                step.update(source=os.path.join(self.project_dir, item['source']),
                            destination=item['destination'])
            steps.append(step)
        return steps

    def _domain(self, interfaces, cdroms, folders):
        # a secret (graphics_passwd) stays out: the role passes its variable, never a fact
        args = dict((option.name, self._get(variable)) for variable, option in domain_settings().items()
                    if self._get(variable) is not None and not option.no_log)
        filesystems = [dict(source=f['src'], target=f['tag'], driver=f['type'], accessmode=f['accessmode'],
                            readonly=f['readonly']) for f in folders if f['type'] in ('9p', 'virtiofs')]
        if filesystems:
            args['filesystems'] = list(args.get('filesystems') or []) + filesystems
        if cdroms:
            args['cdroms'] = cdroms
        args['interfaces'] = interfaces
        if not self.box():
            args.setdefault('boot', ['network', 'hd'])
        return args

    def config(self):
        """Everything the verb roles need, as one dict (the ``vagrantless_machine`` fact)."""
        networks, interfaces, ports = self._networks_and_interfaces()
        disks, cdroms = self._volumes()
        folders = self._synced_folders()
        box = self.box()
        ssh_key = self._get('ssh_private_key_path')
        state_root = os.path.expanduser(self._get('vagrantless_state_dir'))
        state_dir = os.path.join(state_root, 'machines', self.name)
        if ssh_key and self._get('ssh_insert_key'):
            inserted_key = os.path.join(state_dir, 'private_key')
        else:
            inserted_key = None
        reservations = ['%s %s' % (net['name'], host['mac']) for net in networks for host in net['dhcp_hosts']]
        config = dict(
            name=self.name, machine=self.host, lab=self.lab, hypervisor=self.delegate(),
            connection=self.connection(), pool=dict(name=self._get('libvirt_storage_pool_name'),
                                                    path=self._get('libvirt_storage_pool_path')),
            box=box, disk_device=self._get('libvirt_disk_device') or 'vda',
            machine_virtual_size=('%dG' % self._get('libvirt_machine_virtual_size')
                                  if self._get('libvirt_machine_virtual_size') else None),
            disks=disks, networks=networks, domain=self._domain(interfaces, cdroms, folders),
            reservations=reservations, static_addresses=[n['static'] for n in networks if n.get('static')],
            owned_networks=[n['name'] for n in networks if n['owned']],
            synced_folders=folders, forwarded_ports=ports, provisioners=self._provisioners(),
            hostname=self._get('vm_hostname'), boot_timeout=self._get('vm_boot_timeout'),
            ip_address_timeout=self._get('libvirt_ip_address_timeout'),
            graceful_halt_timeout=self._get('vm_graceful_halt_timeout'),
            shutdown_mode=self._get('libvirt_shutdown_mode'),
            suspend_mode=self._get('libvirt_suspend_mode'), management_network=(
                self._get('libvirt_management_network_name') if self._get('libvirt_mgmt_attach') else None),
            ssh=dict(user=self._get('ssh_username'), port=self._get('ssh_port'), box_key=ssh_key,
                     key=inserted_key or ssh_key, insert_key=bool(inserted_key)),
            state_dir=state_dir, tunnel_dir=os.path.join(state_root, 'tunnels'), project_dir=self.project_dir,
            wait_for_ssh=bool(box),
        )
        self._check_later_steps(config)
        # what `up` last brought this machine up with: an unchanged digest on the same boot is a machine up
        # (a graphics password is never in it: a machine with one always takes the full sequence)
        config['digest'] = None if self._get('libvirt_graphics_passwd') else hashlib.sha256(
            json.dumps(config, sort_keys=True).encode('utf-8')).hexdigest()[:16]
        # whether the machine may have forwarded ports' tunnels to close (the verbs skip that call
        # when not): seen in the tunnels' records when they run on this controller, else assumed
        records = os.path.join(glob.escape(config['tunnel_dir']), glob.escape(self.name), '*.json')
        config['tunnels_open'] = config['hypervisor'] != 'localhost' or bool(glob.glob(records))
        return config


def _management_option(inner):
    return MANAGEMENT_OPTIONS.get(inner, 'libvirt_management_network_mac' if inner.startswith('dhcp_hosts')
                                  else 'libvirt_management_network_' + inner)


def _domain_option(inner):
    head = re.split(r'[.\[]', inner, maxsplit=1)[0]
    if head in DERIVED_FROM:
        return '%s (libvirt_domain %s)' % (DERIVED_FROM[head], inner)
    return 'libvirt_' + inner


def domain_disks(box_volumes, settings):
    """libvirt_domain's ``disks``: the overlays on the box's volumes (the first on ``disk_device``,
    the rest on the next free devices) and then the additional disks of ``libvirt_storage``."""
    pool = settings['pool']['name']
    extra = settings['disks']
    used = set(disk['device'] for disk in extra)
    first = settings['disk_device']
    prefix = first.rstrip('abcdefghijklmnopqrstuvwxyz') or 'vd'
    free = [first] + [prefix + letter for letter in 'bcdefghijklmnopqrstuvwxyz'
                      if prefix + letter not in used and prefix + letter != first]
    disks = [dict(device=device, volume=volume, pool=pool) for device, volume in zip(free, box_volumes)]
    for disk in extra:
        entry = dict(device=disk['device'], volume=disk['volume'], pool=pool, format=disk['format'],
                     shareable=disk['shareable'])
        entry.update((key, disk[key]) for key in ('bus', 'cache', 'serial') if disk.get(key))
        disks.append(entry)
    return disks
