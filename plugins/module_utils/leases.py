# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a machine's addresses come from, in order of preference:

- ``reservation``: the DHCP host entry for the MAC that the network serves (known before boot;
  on a running network its live definition, so a reservation that reached only the persistent
  definition is never taken for the guest's address);
- ``lease``: libvirt's DHCP lease API;
- ``dnsmasq``: dnsmasq's files read directly (libvirt's JSON ``*.status`` files and the
  classic ``dnsmasq.leases`` lines), for hosts where only the files are readable;
- ``agent``: the qemu guest agent;
- ``arp``: the hypervisor's ARP table.

Shared by ``libvirt_lease_facts`` and the ``leases`` inventory plugin.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import time

from ansible_collections.vagrantless.libvirt.plugins.module_utils import xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import inactive_xml, lookup
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import is_hostname, libvirt
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import netaddr

SOURCES = ('reservation', 'lease', 'dnsmasq', 'agent', 'arp')
DEFAULT_SOURCES = ['reservation', 'lease', 'dnsmasq']
DEFAULT_LEASE_DIR = '/var/lib/libvirt/dnsmasq'
POLL_SECONDS = 0.25
CONSOLE_TAIL_LINES = 20
MAC_PATTERN = re.compile(r'[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}')
ANSI_ESCAPE = re.compile(r'\x1b(\[[0-9;?]*[A-Za-z]|[A-Za-z])')


class LeaseTimeout(Exception):
    """No address within the time allowed; the message carries the diagnostics."""


def _record(mac, ip, prefix, hostname, network, expiry, source):
    return dict(mac=(mac or '').lower(), ip=ip, prefix=int(prefix) if prefix not in (None, '') else None,
                hostname=hostname or None, network=network, expiry=int(expiry) if expiry else None, source=source)


def _valid_ip(text):
    if not isinstance(text, str):
        return None  # netaddr would take the number 5 for 0.0.0.5
    try:
        return str(netaddr.IPAddress(text))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None


def _valid_mac(text):
    return text if isinstance(text, str) and MAC_PATTERN.fullmatch(text) else None


def _valid_expiry(value):
    """Seconds since the epoch, from a number or a string of digits (None when absent)."""
    if value in (None, ''):
        return 0
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit() and value.isascii():
        return int(value)
    return None


def guest_hostname(value, warn=None, where='a lease'):
    """A host name a guest gave (DHCP), kept only when it is a valid host name: anything else
    is dropped with a warning (a guest chooses it, and it may end up a name on the controller)."""
    if value in (None, '', '*'):
        return None
    if is_hostname(value):
        return value
    if warn:
        warn('ignored the host name %r of %s: not a valid host name' % (value, where))
    return None


# -- dnsmasq's files ----------------------------------------------------------------------
def parse_status_file(text, network=None, warn=None):
    """Records from libvirt's ``<bridge>.status`` JSON (a list of lease objects). An entry
    with a field of the wrong type or shape is skipped with a warning; the others are kept."""
    try:
        entries = json.loads(text) if text.strip() else []
    except ValueError as error:
        if warn:
            warn('skipped an unreadable dnsmasq status file: %s' % error)
        return []
    if not isinstance(entries, list):
        if warn:
            warn('skipped a dnsmasq status file that is not a list of leases')
        return []
    records = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            entry = {'': entry}
        ip, mac = _valid_ip(entry.get('ip-address')), _valid_mac(entry.get('mac-address'))
        expiry = _valid_expiry(entry.get('expiry-time'))
        hostname = entry.get('hostname')
        if not ip or not mac or expiry is None or not isinstance(hostname, (str, type(None))):
            if warn:
                warn('skipped lease %d of a dnsmasq status file: %r' % (index, entry))
            continue
        records.append(_record(mac, ip, None, guest_hostname(hostname, warn, 'lease %d of a dnsmasq status file'
                                                             % index), network, expiry, 'dnsmasq'))
    return records


def parse_leases_file(text, network=None, warn=None):
    """Records from the classic ``dnsmasq.leases`` format:
    ``expiry mac ip hostname clientid`` (IPv6 lines and ``duid`` lines are skipped)."""
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields or fields[0] == 'duid':
            continue
        ip = _valid_ip(fields[2]) if len(fields) >= 4 else None
        if ip is None or _valid_expiry(fields[0]) is None or not _valid_mac(fields[1]):
            if warn:
                warn('skipped line %d of a dnsmasq leases file: %r' % (number, line))
            continue
        hostname = guest_hostname(fields[3], warn, 'line %d of a dnsmasq leases file' % number)
        records.append(_record(fields[1], ip, None, hostname, network, fields[0], 'dnsmasq'))
    return records


def read_lease_files(paths, bridges, warn=None):
    """dnsmasq records from files and directories; ``bridges`` maps bridge -> network name
    (libvirt names its files ``<bridge>.status``)."""
    records = []
    for path in paths:
        try:
            files = [os.path.join(path, name) for name in sorted(os.listdir(path))] if os.path.isdir(path) else [path]
        except (IOError, OSError) as error:  # removed or closed to us since we looked
            if warn:
                warn('cannot list %s: %s' % (path, error))
            continue
        for name in files:
            base = os.path.basename(name)
            if not (base.endswith('.status') or base.endswith('.leases')) or not os.path.isfile(name):
                continue
            network = bridges.get(base.rsplit('.', 1)[0])
            try:
                with open(name, 'rb') as handle:
                    text = handle.read().decode('utf-8', 'replace')
            except (IOError, OSError) as error:
                if warn:
                    warn('cannot read %s: %s' % (name, error))
                continue
            parse = parse_status_file if base.endswith('.status') else parse_leases_file
            records.extend(parse(text, network, warn))
    return records


# -- libvirt ------------------------------------------------------------------------------
def lease_record(lease, network):
    """A record from one entry of libvirt's ``virNetworkGetDHCPLeases``."""
    return _record(lease.get('mac'), lease.get('ipaddr'), lease.get('prefix'),
                   guest_hostname(lease.get('hostname'), None), network, lease.get('expirytime'), 'lease')


def domain_interfaces(tree):
    """(mac, network name or None, type) for each interface of a parsed domain XML."""
    found = []
    for iface in tree.findall('devices/interface'):
        mac = iface.find('mac')
        source = iface.find('source')
        network = source.get('network') if source is not None else None
        found.append(dict(mac=mac.get('address').lower() if mac is not None else None,
                          network=network, type=iface.get('type')))
    return found


def console_log(tree):
    """The file a domain's serial console is logged to, if any."""
    for serial in tree.findall('devices/serial') + tree.findall('devices/console'):
        source = serial.find('source')
        if serial.get('type') == 'file' and source is not None and source.get('path'):
            return source.get('path')
        log = serial.find('log')
        if log is not None and log.get('file'):
            return log.get('file')
    return None


def tail(path, lines=CONSOLE_TAIL_LINES):
    try:
        with open(path, 'rb') as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 16384))
            text = handle.read().decode('utf-8', 'replace')
    except (IOError, OSError):
        return None
    text = ANSI_ESCAPE.sub('', text)  # firmware clears and colours the screen
    return '\n'.join(text.splitlines()[-lines:])


def find_domain(conn, ident):
    """A domain by name or UUID, or None."""
    domain = lookup(conn.lookupByName, ident, libvirt.VIR_ERR_NO_DOMAIN)
    if domain is None and len(ident) == 36:
        domain = lookup(conn.lookupByUUIDString, ident, libvirt.VIR_ERR_NO_DOMAIN)
    return domain


class AddressBook(object):
    """Reads addresses for MACs from the sources, caching what one pass reads."""

    def __init__(self, conn, sources=None, lease_files=None, warn=None):
        self.conn = conn
        self.sources = list(sources or DEFAULT_SOURCES)
        self.lease_files = lease_files or [DEFAULT_LEASE_DIR]
        self.warn = warn
        self._networks = None

    def networks(self):
        """name -> (network object, parsed XML), read once per pass."""
        if self._networks is None:
            self._networks = {}
            for net in self.conn.listAllNetworks(0):
                try:
                    self._networks[net.name()] = (net, xmltree.parse(inactive_xml(net,
                                                                                  libvirt.VIR_NETWORK_XML_INACTIVE)))
                except libvirt.libvirtError as error:
                    if error.get_error_code() != libvirt.VIR_ERR_NO_NETWORK:
                        raise  # else removed by someone else since it was listed
        return self._networks

    def refresh(self):
        self._networks = None

    def _prefix(self, network, ip):
        """The prefix length of the network's subnet that holds ``ip`` (None when no ``<ip>`` of
        the network, with a netmask, a prefix or neither, holds it)."""
        entry = self.networks().get(network)
        if entry is None or not _valid_ip(ip):
            return None
        for node in entry[1].findall('ip'):
            mask = node.get('netmask') or node.get('prefix')
            if not _valid_ip(node.get('address')) or not mask:
                continue
            try:
                served = netaddr.IPNetwork('%s/%s' % (node.get('address'), mask))
            except (netaddr.AddrFormatError, ValueError, TypeError):
                continue
            if netaddr.IPAddress(ip) in served:
                return served.prefixlen
        return None

    def _served(self, name):
        """The DHCP hosts dnsmasq serves on a running network: its live definition (a
        reservation that reached only the persistent definition is handed to nobody); on a
        stopped network, the persistent definition's (what it will serve)."""
        net, tree = self.networks()[name]
        try:
            if net.isActive():
                return xmltree.parse(net.XMLDesc(0)).findall('ip/dhcp/host')
        except libvirt.libvirtError as error:
            if error.get_error_code() != libvirt.VIR_ERR_NO_NETWORK:
                raise
            return []  # removed since it was listed
        return tree.findall('ip/dhcp/host')

    def from_reservations(self, networks):
        records = []
        for name in networks:
            if name not in self.networks():
                continue
            for host in self._served(name):
                if _valid_mac(host.get('mac')) and _valid_ip(host.get('ip')):
                    records.append(_record(host.get('mac'), host.get('ip'), self._prefix(name, host.get('ip')),
                                           guest_hostname(host.get('name'), self.warn, 'a reservation of network %s'
                                                          % name), name, None, 'reservation'))
        return records

    def from_leases(self, networks):
        records = []
        for name in networks:
            entry = self.networks().get(name)
            if entry is None:
                continue
            try:
                found = entry[0].DHCPLeases() if entry[0].isActive() else []
            except libvirt.libvirtError as error:
                if error.get_error_code() not in (libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_NO_NETWORK):
                    raise
                found = []  # drivers without a lease API (the test driver), or a network just removed
            records.extend(lease_record(lease, name) for lease in found
                           if lease.get('type') == libvirt.VIR_IP_ADDR_TYPE_IPV4)
        return records

    def from_files(self, networks):
        bridges = {}
        for name, (unused, tree) in self.networks().items():
            bridge = tree.find('bridge')
            if bridge is not None and bridge.get('name'):
                bridges[bridge.get('name')] = name
        records = read_lease_files(self.lease_files, bridges, self.warn)
        return [r for r in records if r['network'] in networks or r['network'] is None]

    def from_domain(self, domain, source, interfaces):
        mode = {'agent': libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT,
                'arp': libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP}[source]
        if domain is None or not domain.isActive():
            return []
        try:
            found = domain.interfaceAddresses(mode, 0)
        except libvirt.libvirtError:
            return []  # no agent, or no ARP entry yet
        networks = dict((i['mac'], i['network']) for i in interfaces)
        records = []
        for unused, info in (found or {}).items():
            mac = (_valid_mac(info.get('hwaddr')) or '').lower()
            for addr in info.get('addrs') or []:
                ip = _valid_ip(addr.get('addr'))  # the guest agent reports what the guest says
                prefix = addr.get('prefix')
                if (addr.get('type') == libvirt.VIR_IP_ADDR_TYPE_IPV4 and ip and not ip.startswith('127.')
                        and mac and isinstance(prefix, (int, type(None)))):
                    records.append(_record(mac, ip, prefix, None, networks.get(mac), None, source))
        return records

    def lookup(self, interfaces, domain=None):
        """Every address of ``interfaces`` (dicts with mac, network), best source first."""
        networks = sorted(set(i['network'] for i in interfaces if i['network'])) or sorted(self.networks())
        macs = set(i['mac'] for i in interfaces)
        found = []
        for source in self.sources:
            if source == 'reservation':
                records = self.from_reservations(networks)
            elif source == 'lease':
                records = self.from_leases(networks)
            elif source == 'dnsmasq':
                records = self.from_files(networks)
            else:
                records = self.from_domain(domain, source, interfaces)
            for record in records:
                if record['mac'] in macs and not any(r['mac'] == record['mac'] and r['ip'] == record['ip']
                                                     for r in found):
                    if record['network'] is None:
                        record['network'] = dict((i['mac'], i['network']) for i in interfaces).get(record['mac'])
                    if record['prefix'] is None and record['network']:
                        record['prefix'] = self._prefix(record['network'], record['ip'])
                    found.append(record)
        return found

    def table(self, networks):
        """What the lease sources hold for ``networks`` (for a timeout's diagnostics)."""
        rows = []
        for source in ('lease', 'dnsmasq', 'reservation'):
            try:
                records = {'lease': self.from_leases, 'dnsmasq': self.from_files,
                           'reservation': self.from_reservations}[source](networks)
            except libvirt.libvirtError:
                continue
            rows.extend('%s %s %s %s' % (r['source'], r['mac'], r['ip'], r['network']) for r in records)
        return rows


def management_ip(records, interfaces, management_network):
    """The address to reach the machine at: on the management network if it has one,
    else the first interface's."""
    for network in ([management_network] if management_network else []) + [i['network'] for i in interfaces]:
        for interface in interfaces:
            if interface['network'] != network:
                continue
            for record in records:
                if record['mac'] == interface['mac']:
                    return record['ip']
    return records[0]['ip'] if records else None


def wait_for_addresses(book, interfaces, timeout, domain=None, console=None, clock=time.monotonic,
                       sleep=time.sleep):
    """Poll until each interface has an address or ``timeout`` seconds pass."""
    deadline = clock() + timeout
    while True:
        records = book.lookup(interfaces, domain)
        missing = [i for i in interfaces if not any(r['mac'] == i['mac'] for r in records)]
        if not missing or timeout <= 0:
            return records
        if clock() >= deadline:
            networks = sorted(set(i['network'] for i in interfaces if i['network']))
            message = ['no address within %s s for MAC(s) %s on network(s) %s (sources: %s)'
                       % (timeout, ', '.join(i['mac'] for i in missing), ', '.join(networks) or '?',
                          ', '.join(book.sources))]
            rows = book.table(networks)
            message.append('lease table seen: ' + ('; '.join(rows) if rows else 'empty'))
            if console:
                text = tail(console)
                message.append('console (%s), last lines:\n%s' % (console, text) if text is not None
                               else 'console log %s is not readable' % console)
            raise LeaseTimeout('\n'.join(message))
        sleep(POLL_SECONDS)
        book.refresh()
