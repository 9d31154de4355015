# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dnsmasq's files and what guests say are untrusted: a lease entry of the wrong type or
shape is skipped with a warning (the others are kept), a host name a guest chose is kept
only when it is a valid host name, and networks of any shape (no netmask, a prefix, no
address at all) never crash the address book."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import libvirt
import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import leases

GOOD = {"ip-address": "10.204.10.5", "mac-address": "52:54:00:ee:00:01", "hostname": "web", "expiry-time": 17}


def parse(entries):
    warnings = []
    records = leases.parse_status_file(json.dumps([GOOD] + entries), 'net', warnings.append)
    return records, warnings


@pytest.mark.parametrize('bad', [
    dict(GOOD, **{'ip-address': 5}),
    dict(GOOD, **{'ip-address': ['10.204.10.5']}),
    dict(GOOD, **{'ip-address': {'v': 1}}),
    dict(GOOD, **{'ip-address': None}),
    dict(GOOD, **{'ip-address': True}),
    dict(GOOD, **{'ip-address': '10.204.10.5\n'}),
    dict(GOOD, **{'ip-address': '10.204.10.5; reboot'}),
    dict(GOOD, **{'mac-address': 52}),
    dict(GOOD, **{'mac-address': ['52:54:00:ee:00:02']}),
    dict(GOOD, **{'mac-address': {'a': 1}}),
    dict(GOOD, **{'mac-address': True}),
    dict(GOOD, **{'mac-address': '52:54:00:ee:00:02\n'}),
    dict(GOOD, **{'mac-address': 'not a mac'}),
    dict(GOOD, **{'expiry-time': 'soon'}),
    dict(GOOD, **{'expiry-time': [1]}),
    dict(GOOD, **{'expiry-time': -1}),
    dict(GOOD, **{'expiry-time': 1.5}),
    dict(GOOD, **{'expiry-time': True}),
    dict(GOOD, **{'expiry-time': '\u0661\u0662'}),   # Arabic-Indic digits: isdigit() but not ours
    dict(GOOD, hostname=5),
    dict(GOOD, hostname=['web']),
    dict(GOOD, hostname={'x': 1}),
    42, None, [], [GOOD], 'garbage', True,
])
def test_a_wrong_entry_is_skipped_with_a_warning_and_the_others_kept(bad):
    records, warnings = parse([bad])
    assert [(r['mac'], r['ip'], r['hostname'], r['expiry']) for r in records] == [
        ('52:54:00:ee:00:01', '10.204.10.5', 'web', 17)]
    assert len(warnings) == 1 and 'skipped lease 1' in warnings[0]


@pytest.mark.parametrize('name', ['localhost\n', 'web;reboot', '-oProxyCommand=x', 'a b', '../etc', 'x' * 300,
                                  'web\x00', '10.0.0.1', '', '\u0435vil'])
def test_an_odd_host_name_is_dropped_but_the_lease_kept(name):
    records, warnings = parse([dict(GOOD, **{'mac-address': '52:54:00:ee:00:02', 'hostname': name})])
    assert [(r['mac'], r['hostname']) for r in records] == [
        ('52:54:00:ee:00:01', 'web'), ('52:54:00:ee:00:02', None)]
    assert len(warnings) == (1 if name else 0)


def test_expiry_may_be_a_string_of_digits_or_absent():
    entry = dict(GOOD, **{'expiry-time': '18'})
    records, unused = parse([entry, {"ip-address": "10.204.10.6", "mac-address": "52:54:00:ee:00:03"}])
    assert [r['expiry'] for r in records] == [17, 18, None]


@pytest.mark.parametrize('line', [
    'soon 52:54:00:ee:00:02 10.204.10.6 web *',
    '-5 52:54:00:ee:00:02 10.204.10.6 web *',
    '17 52:54:00:ee:00:0 10.204.10.6 web *',
    '17 52:54:00:ee:00:02:03 10.204.10.6 web *',
    '17 52-54-00-ee-00-02 10.204.10.6;x web *',
])
def test_a_wrong_leases_line_is_skipped(line):
    warnings = []
    records = leases.parse_leases_file('17 52:54:00:ee:00:01 10.204.10.5 web *\n' + line, None, warnings.append)
    assert [r['mac'] for r in records] == ['52:54:00:ee:00:01'] and len(warnings) == 1


def test_a_leases_line_with_an_odd_host_name_keeps_its_address():
    warnings = []
    records = leases.parse_leases_file('17 52:54:00:ee:00:01 10.204.10.5 web;reboot *', None, warnings.append)
    assert [(r['ip'], r['hostname']) for r in records] == [('10.204.10.5', None)] and len(warnings) == 1


def test_undecodable_bytes_in_a_file_do_not_crash(tmp_path):
    (tmp_path / 'virbr9.status').write_bytes(b'\xff\xfe[' + json.dumps(GOOD).encode() + b']')
    (tmp_path / 'x.leases').write_bytes(b'17 52:54:00:ee:00:04 10.204.10.7 w\xffb *\n')
    warnings = []
    records = leases.read_lease_files([str(tmp_path)], {}, warnings.append)
    assert [(r['ip'], r['hostname']) for r in records] == [('10.204.10.7', None)]
    assert len(warnings) == 2


NETWORKS = {
    'vlt-shape-mask': '<ip address="10.204.11.1" netmask="255.255.255.0"><dhcp>'
                      '<host mac="52:54:00:ee:01:01" ip="10.204.11.5" name="one"/></dhcp></ip>',
    'vlt-shape-prefix': '<ip address="10.204.12.1" prefix="24"><dhcp>'
                        '<host mac="52:54:00:ee:01:02" ip="10.204.12.5"/></dhcp></ip>',
    'vlt-shape-nomask': '<ip address="10.204.13.1"><dhcp><host mac="52:54:00:ee:01:03" ip="10.204.13.5"/>'
                        '</dhcp></ip>',
    'vlt-shape-noip': '',
    'vlt-shape-six': '<ip family="ipv6" address="fd00:204::1" prefix="64"/>'
                     '<ip address="10.204.14.1" netmask="255.255.255.0"><dhcp>'
                     '<host mac="52:54:00:ee:01:04" ip="10.204.14.5"/></dhcp></ip>',
}


@pytest.fixture
def conn():
    connection = libvirt.open('test:///default')
    for number, (name, ip) in enumerate(sorted(NETWORKS.items())):
        if name not in connection.listNetworks():
            connection.networkCreateXML('<network><name>%s</name><bridge name="vltsh%d"/>%s</network>'
                                        % (name, number, ip))
    return connection


@pytest.mark.parametrize('network, mac, ip, prefix', [
    ('vlt-shape-mask', '52:54:00:ee:01:01', '10.204.11.5', 24),
    ('vlt-shape-prefix', '52:54:00:ee:01:02', '10.204.12.5', 24),
    ('vlt-shape-nomask', '52:54:00:ee:01:03', '10.204.13.5', None),
    ('vlt-shape-six', '52:54:00:ee:01:04', '10.204.14.5', 24),
])
def test_networks_of_every_shape(conn, network, mac, ip, prefix):
    found = leases.AddressBook(conn, ['reservation']).lookup([dict(mac=mac, network=network)])
    assert [(r['ip'], r['prefix']) for r in found] == [(ip, prefix)]


def test_a_lease_file_for_a_network_without_addresses(conn, tmp_path):
    bridges = dict((n, name) for n, name in enumerate(sorted(NETWORKS)))
    bridge = 'vltsh%d' % [n for n, name in bridges.items() if name == 'vlt-shape-noip'][0]
    (tmp_path / (bridge + '.status')).write_text(json.dumps([dict(GOOD, **{'mac-address': '52:54:00:ee:01:09'})]))
    found = leases.AddressBook(conn, ['reservation', 'dnsmasq'], [str(tmp_path)]).lookup(
        [dict(mac='52:54:00:ee:01:09', network='vlt-shape-noip')])
    assert [(r['ip'], r['prefix'], r['source']) for r in found] == [('10.204.10.5', None, 'dnsmasq')]


class _Agent(object):
    """A domain whose guest agent reports what a hostile guest would."""

    def isActive(self):
        return True

    def interfaceAddresses(self, unused_source, unused_flags):
        four = libvirt.VIR_IP_ADDR_TYPE_IPV4
        return {'eth0': {'hwaddr': '52:54:00:ee:02:01', 'addrs': [
            {'type': four, 'addr': '10.204.15.5; reboot', 'prefix': 24},
            {'type': four, 'addr': '10.204.15.6', 'prefix': 'x'},
            {'type': four, 'addr': '10.204.15.7', 'prefix': 24}]},
            'eth1': {'hwaddr': '-oProxyCommand', 'addrs': [{'type': four, 'addr': '10.204.15.8', 'prefix': 24}]}}


def test_guest_agent_addresses_are_checked(conn):
    book = leases.AddressBook(conn, ['agent'])
    found = book.from_domain(_Agent(), 'agent', [dict(mac='52:54:00:ee:02:01', network=None)])
    assert [r['ip'] for r in found] == ['10.204.15.7']
