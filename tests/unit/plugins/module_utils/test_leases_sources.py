# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address sources: dnsmasq's two file formats (with the garbage real files hold),
reservations, the waiter and its diagnostics."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import leases, xmltree

STATUS = json.dumps([
    {"ip-address": "192.168.121.17", "mac-address": "52:54:00:aa:00:01", "hostname": "web",
     "client-id": "ff:00:aa", "expiry-time": 1795535000},
    {"ip-address": "192.168.121.18", "mac-address": "52:54:00:AA:00:02", "expiry-time": 1795535001},
    {"ip-address": "not-an-ip", "mac-address": "52:54:00:aa:00:03"},
    {"mac-address": "52:54:00:aa:00:04"},
    "garbage",
])

LEASES = """1795535000 52:54:00:aa:00:01 192.168.121.17 web 01:52:54:00:aa:00:01
1795535001 52:54:00:aa:00:02 192.168.121.18 * *

this is not a lease
1795535002 52:54:00:aa:00:05 192.168.121
duid 00:01:00:01:2c:aa:bb:cc:52:54:00:00:00:01
1795535003 52:54:00:aa:00:06 fd00::6 six *
1795535004 52:54:00:aa:00:07"""


def collect():
    warnings = []
    return warnings, warnings.append


def test_status_file():
    warnings, warn = collect()
    records = leases.parse_status_file(STATUS, 'vagrant-libvirt', warn)
    assert [(r['mac'], r['ip'], r['hostname'], r['expiry']) for r in records] == [
        ('52:54:00:aa:00:01', '192.168.121.17', 'web', 1795535000),
        ('52:54:00:aa:00:02', '192.168.121.18', None, 1795535001)]
    assert all(r['source'] == 'dnsmasq' and r['network'] == 'vagrant-libvirt' for r in records)
    assert len(warnings) == 3


@pytest.mark.parametrize('text', ['', '   ', '[', '{"a": 1}', '[{"ip-address": "1.2.3.4"'])
def test_empty_truncated_and_garbage_status_files(text):
    warnings, warn = collect()
    assert leases.parse_status_file(text, None, warn) == []
    assert len(warnings) == (0 if not text.strip() else 1)


def test_classic_leases_file():
    warnings, warn = collect()
    records = leases.parse_leases_file(LEASES, None, warn)
    assert [(r['mac'], r['ip'], r['hostname']) for r in records] == [
        ('52:54:00:aa:00:01', '192.168.121.17', 'web'), ('52:54:00:aa:00:02', '192.168.121.18', None),
        ('52:54:00:aa:00:06', 'fd00::6', 'six')]
    assert len(warnings) == 3  # the prose, the truncated address, the short line


def test_lease_files_in_a_directory_map_bridges_to_networks(tmp_path):
    (tmp_path / 'virbr7.status').write_text(STATUS)
    (tmp_path / 'other.leases').write_text(LEASES)
    (tmp_path / 'virbr7.conf').write_text('not a lease file')
    records = leases.read_lease_files([str(tmp_path)], {'virbr7': 'lab'})
    assert {r['network'] for r in records} == {'lab', None}
    assert len(records) == 5


def test_unreadable_paths_warn(tmp_path):
    """A lease file that cannot be read is passed over with a warning naming it (reading
    /proc/self/mem from its start fails with an I/O error, even for root); a missing one and a
    directory named like one are passed over quietly."""
    warnings, warn = collect()
    (tmp_path / 'dir.leases').mkdir()
    unreadable = tmp_path / 'virbr9.leases'
    unreadable.symlink_to('/proc/self/mem')
    assert leases.read_lease_files([str(tmp_path), str(tmp_path / 'missing.leases')], {}, warn) == []
    assert len(warnings) == 1 and 'cannot read %s' % unreadable in warnings[0], warnings


@pytest.fixture
def conn(conn):
    """The test driver with a running network of reservations."""
    if 'vlt-lease-unit' not in conn.listNetworks():
        conn.networkCreateXML(
            '<network><name>vlt-lease-unit</name><bridge name="vltlu0"/><ip address="10.204.9.1" '
            'netmask="255.255.255.0"><dhcp><range start="10.204.9.2" end="10.204.9.254"/>'
            '<host mac="52:54:00:cc:00:01" name="one" ip="10.204.9.11"/></dhcp></ip></network>')
    return conn


def test_reservation_before_boot(conn):
    book = leases.AddressBook(conn, ['reservation'])
    records = book.lookup([dict(mac='52:54:00:cc:00:01', network='vlt-lease-unit')])
    assert records == [dict(mac='52:54:00:cc:00:01', ip='10.204.9.11', prefix=24, hostname='one',
                            network='vlt-lease-unit', expiry=None, source='reservation')]


def test_sources_in_order_of_preference(conn, tmp_path):
    (tmp_path / 'vltlu0.status').write_text(json.dumps(
        [{"ip-address": "10.204.9.99", "mac-address": "52:54:00:cc:00:01", "expiry-time": 1}]))
    interfaces = [dict(mac='52:54:00:cc:00:01', network='vlt-lease-unit')]
    first = leases.AddressBook(conn, ['dnsmasq', 'reservation'], [str(tmp_path)]).lookup(interfaces)
    assert [(r['ip'], r['source']) for r in first] == [('10.204.9.99', 'dnsmasq'), ('10.204.9.11', 'reservation')]
    assert leases.management_ip(first, interfaces, 'vagrant-libvirt') == '10.204.9.99'


def test_waiter_times_out_with_diagnostics(conn, tmp_path):
    console = tmp_path / 'console.log'
    console.write_text('\n'.join('line %d' % n for n in range(40)))
    ticks = iter(range(100))
    book = leases.AddressBook(conn, ['lease', 'reservation'])
    with pytest.raises(leases.LeaseTimeout) as caught:
        leases.wait_for_addresses(book, [dict(mac='52:54:00:cc:00:99', network='vlt-lease-unit')], 2,
                                  console=str(console), clock=lambda: next(ticks), sleep=lambda s: None)
    text = str(caught.value)
    assert '52:54:00:cc:00:99' in text and 'vlt-lease-unit' in text
    assert 'reservation 52:54:00:cc:00:01 10.204.9.11' in text
    assert 'line 39' in text and 'line 19' not in text


def test_waiter_returns_at_once_without_timeout(conn):
    book = leases.AddressBook(conn, ['lease'])
    assert leases.wait_for_addresses(book, [dict(mac='52:54:00:cc:00:99', network='vlt-lease-unit')], 0) == []


def test_domain_interfaces_and_console():
    tree = xmltree.parse(
        '<domain><devices><interface type="network"><mac address="52:54:00:AB:00:01"/>'
        '<source network="n1"/></interface><interface type="bridge"><source bridge="br0"/></interface>'
        '<serial type="file"><source path="/var/log/c.log"/></serial></devices></domain>')
    assert leases.domain_interfaces(tree) == [dict(mac='52:54:00:ab:00:01', network='n1', type='network'),
                                              dict(mac=None, network=None, type='bridge')]
    assert leases.console_log(tree) == '/var/log/c.log'


def test_libvirt_lease_api_record():
    # the shape virNetworkGetDHCPLeases returns for one lease
    lease = {'iface': 'virbr1', 'expirytime': 1795535000, 'type': 0, 'mac': '52:54:00:AB:CD:01',
             'iaid': None, 'ipaddr': '192.168.121.17', 'prefix': 24, 'hostname': 'web',
             'clientid': '01:52:54:00:ab:cd:01'}
    assert leases.lease_record(lease, 'vagrant-libvirt') == dict(
        mac='52:54:00:ab:cd:01', ip='192.168.121.17', prefix=24, hostname='web', network='vagrant-libvirt',
        expiry=1795535000, source='lease')
    assert leases.lease_record(dict(lease, hostname=None, prefix=None), 'n')['hostname'] is None
