# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt_network: each option's XML, address derivation, reuse and overlap, and the
check/real/idempotent cycle on libvirt's test driver."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import libvirt
import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import network as net_utils
from ansible_collections.vagrantless.libvirt.plugins.module_utils import network_xml
from ansible_collections.vagrantless.libvirt.plugins.module_utils import xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import LibvirtOperationError
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

DEFAULTS = dict(name=None, state='present', autostart=None, forward_mode='nat', forward_device=None, bridge=None,
                address=None, ip=None, netmask='255.255.255.0', host_ip=None, dhcp_enabled=True, dhcp_start=None,
                dhcp_stop=None, dhcp_bootp_file=None, dhcp_bootp_server=None, dhcp_hosts=None,
                purge_dhcp_hosts=False, domain_name=None, guest_ipv6=False, ipv6_address=None, ipv6_prefix=None,
                mtu=None, restart=False, force=False)


def params(**overrides):
    result = dict(DEFAULTS)
    result.update(overrides)
    return result


def xml(**overrides):
    spec = network_xml.NetworkSpec(params(**overrides))
    return xmltree.to_xml(spec.desired(overrides.get('name', 'n1')))


def run(conn, check_mode=False, **overrides):
    return net_utils.NetworkManager(params(**overrides), check_mode, local_host=False).ensure(conn)


def test_nat_network_from_a_guest_ip():
    assert xml(name='n1', ip='10.20.30.40') == (
        '<network><name>n1</name><forward mode="nat"/>'
        '<ip address="10.20.30.1" netmask="255.255.255.0"><dhcp><range start="10.20.30.1" end="10.20.30.254"/>'
        '</dhcp></ip></network>')


def test_address_and_netmask_variants():
    assert 'netmask="255.255.0.0"' in xml(name='n1', ip='10.20.30.40', netmask='255.255.0.0')
    assert 'end="10.20.255.254"' in xml(name='n1', ip='10.20.30.40', netmask='255.255.0.0')
    assert xml(name='n1', address='10.20.30.0/24') == xml(name='n1', ip='10.20.30.99')
    assert xml(name='n1', address='10.20.30.0') == xml(name='n1', ip='10.20.30.99')


def test_every_option():
    text = xml(name='n1', address='10.20.30.0/24', forward_mode='route', forward_device='eth1', bridge='vltbr0',
               host_ip='10.20.30.254', dhcp_start='10.20.30.100', dhcp_stop='10.20.30.200',
               dhcp_bootp_file='pxelinux.0', dhcp_bootp_server='10.20.30.5', domain_name='lab.test',
               guest_ipv6=True, ipv6_address='fd00:203::1', ipv6_prefix=64, mtu=9000,
               dhcp_hosts=[dict(mac='52:54:00:AA:00:01', ip='10.20.30.10', name='web')])
    assert text == (
        '<network ipv6="yes"><name>n1</name><forward mode="route" dev="eth1"><interface dev="eth1"/></forward>'
        '<bridge name="vltbr0"/><mtu size="9000"/><domain name="lab.test" localOnly="yes"/>'
        '<ip address="10.20.30.254" netmask="255.255.255.0"><dhcp><range start="10.20.30.100" end="10.20.30.200"/>'
        '<host mac="52:54:00:aa:00:01" name="web" ip="10.20.30.10"/><bootp file="pxelinux.0" server="10.20.30.5"/>'
        '</dhcp></ip><ip family="ipv6" address="fd00:203::1" prefix="64"/></network>')


@pytest.mark.parametrize('mode, has_forward, has_ip', [
    ('nat', True, True), ('route', True, True), ('open', True, True), ('none', False, True),
    ('veryisolated', False, False)])
def test_forward_modes(mode, has_forward, has_ip):
    tree = xmltree.parse(xml(name='n1', address='10.20.30.0/24', forward_mode=mode))
    assert (tree.find('forward') is not None) is has_forward
    assert (tree.find('ip') is not None) is has_ip


def test_bridge_mode_uses_the_host_bridge_without_addresses():
    tree = xmltree.parse(xml(name='n1', forward_mode='bridge', bridge='br0'))
    assert tree.find('forward').get('mode') == 'bridge' and tree.find('bridge').get('name') == 'br0'
    assert tree.find('ip') is None


def test_dhcp_disabled_removes_dhcp():
    tree = xmltree.parse(xml(name='n1', address='10.20.30.0/24', dhcp_enabled=False))
    assert tree.find('ip/dhcp') is not None and tree.find('ip/dhcp').get(xmltree.ABSENT_ATTR) == 'yes'
    current = xmltree.parse(xml(name='n1', address='10.20.30.0/24'))
    merged = xmltree.merge(current, tree, network_xml.NETWORK_RULES)
    assert merged.find('ip/dhcp') is None


@pytest.mark.parametrize('overrides, option', [
    (dict(ip='10.20.30.400'), 'ip'), (dict(address='10.20.30.0/33'), 'address'),
    (dict(address='fd00::/64'), 'address'), (dict(ip='10.0.0.1', netmask='255.255.255.254'), 'netmask'),
    (dict(ip='10.20.30.40', dhcp_start='10.20.31.1'), 'dhcp_start'),
    (dict(ip='10.20.30.40', dhcp_stop='10.20.30.255'), 'dhcp_stop'),
    (dict(ip='10.20.30.40', dhcp_start='10.20.30.200', dhcp_stop='10.20.30.100'), 'dhcp_start'),
    (dict(ip='10.20.30.40', host_ip='10.20.30.0'), 'host_ip'),
    (dict(ip='10.20.30.40', dhcp_hosts=[dict(mac='52:54:00:00:00:01', ip='10.9.9.9')]), 'dhcp_hosts[0].ip'),
    (dict(ip='10.20.30.40', dhcp_hosts=[dict(mac='nope', ip='10.20.30.9')]), 'dhcp_hosts[0].mac'),
    (dict(ip='10.20.30.40', dhcp_hosts=[dict(mac='52:54:00:00:00:01')]), 'dhcp_hosts[0].ip'),
    (dict(ip='10.20.30.40', dhcp_hosts=[dict(mac='52:54:00:00:00:01', ip='10.20.30.9'),
                                        dict(mac='52:54:00:00:00:02', ip='10.20.30.9')]), 'dhcp_hosts[1].ip'),
    (dict(ip='10.20.30.40', dhcp_hosts=[dict(mac='52:54:00:00:00:01', ip='10.20.30.1')]), 'dhcp_hosts[0].ip'),
    (dict(forward_mode='bridge'), 'bridge'), (dict(bridge='a-very-long-bridge-name'), 'bridge'),
    (dict(name='bad/name'), 'name'), (dict(name='x<y'), 'name'), (dict(mtu=10), 'mtu'),
    (dict(ipv6_address='10.0.0.1'), 'ipv6_address'), (dict(ipv6_address='fd00::1', ipv6_prefix=200), 'ipv6_prefix'),
    (dict(address='10.1.0.0/24', ip='10.1.0.5'), 'address'),
    (dict(ip='10.1.0.5', netmask='255.0.255.0'), 'netmask'), (dict(ip='10.1.0.5', netmask='mask'), 'netmask'),
    (dict(address='10.1.0.0', netmask='33'), 'netmask'),
])
def test_bad_input_names_the_option(overrides, option):
    values = dict(name='n1')
    values.update(overrides)
    with pytest.raises(ValidationError) as caught:
        net_utils.NetworkManager(params(**values), False)
    assert caught.value.option == option


def test_check_real_idempotent_and_normalized_noop(conn):
    predicted = run(conn, check_mode=True, name='vlt-u1', ip='10.203.1.5')
    assert predicted['changed'] and net_utils.find(conn, 'vlt-u1') is None
    real = run(conn, name='vlt-u1', ip='10.203.1.5')
    assert real['changed'] and real['network']['uuid'] and real['network']['active']
    assert real['diff'][0]['after'] == predicted['diff'][0]['after']
    again = run(conn, name='vlt-u1', ip='10.203.1.5')
    assert not again['changed'] and not again['restart_required']


def test_reuse_by_subnet_and_overlap(conn):
    run(conn, name='vlt-u2', address='10.203.2.0/24')
    reused = run(conn, address='10.203.2.0/24')
    assert reused['reused'] and reused['network']['name'] == 'vlt-u2' and not reused['changed']
    with pytest.raises(LibvirtOperationError, match='vlt-u2'):
        run(conn, name='vlt-u3', address='10.203.2.0/25')
    with pytest.raises(LibvirtOperationError, match='vlt-u2'):
        run(conn, name='vlt-u3', address='10.203.0.0/16')
    with pytest.raises(ValidationError, match='no libvirt network serves'):
        run(conn, address='10.203.9.0/24')


def test_definition_change_is_written(conn):
    # the test driver keeps one XML per network, so this runs on a stopped network;
    # restart_required on a running one is proven against the lab's libvirtd
    run(conn, name='vlt-u4', address='10.203.4.0/24', state='inactive')
    changed = run(conn, name='vlt-u4', address='10.203.4.0/24', mtu=9000, state='inactive')
    assert changed['changed'] and not changed['restart_required']
    assert '<mtu size="9000"/>' in changed['diff'][0]['after']
    assert '<mtu' not in changed['diff'][0]['before']
    assert not run(conn, name='vlt-u4', address='10.203.4.0/24', mtu=9000, state='inactive')['changed']


def test_absent_refused_while_a_domain_uses_it(conn):
    run(conn, name='vlt-u5', address='10.203.5.0/24')
    conn.defineXML('<domain type="test"><name>vlt-u5-dom</name><memory>131072</memory><os><type>hvm</type></os>'
                   '<devices><interface type="network"><source network="vlt-u5"/></interface></devices></domain>')
    with pytest.raises(LibvirtOperationError, match='vlt-u5-dom'):
        run(conn, name='vlt-u5', state='absent')
    assert run(conn, name='vlt-u5', state='absent', force=True)['changed']
    assert not run(conn, name='vlt-u5', state='absent')['changed']


def test_inactive_and_autostart(conn):
    run(conn, name='vlt-u6', address='10.203.6.0/24')
    stopped = run(conn, name='vlt-u6', address='10.203.6.0/24', state='inactive', autostart=True)
    assert stopped['changed'] and not stopped['network']['active'] and stopped['network']['autostart']


def test_host_routes_parse_kernel_format(tmp_path):
    table = tmp_path / 'route'
    table.write_text('Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n'
                     'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n'
                     'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n'
                     'br9\t0000A8C0\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n')
    assert [(dev, str(net)) for dev, net in net_utils.host_routes(str(table))] == [
        ('eth0', '192.0.2.0/24'), ('br9', '192.168.0.0/16')]


def test_named_network_without_address_only_gets_reservations(conn):
    run(conn, name='vlt-u7', address='10.203.7.0/24', forward_mode='route', mtu=1400, state='inactive')
    added = run(conn, name='vlt-u7', state='inactive',
                dhcp_hosts=[dict(mac='52:54:00:07:00:01', ip='10.203.7.9')])
    assert added['changed']
    after = added['diff'][0]['after']
    assert '<host mac="52:54:00:07:00:01" ip="10.203.7.9"/>' in after
    assert '<forward mode="route"/>' in after and '<mtu size="1400"/>' in after  # untouched
    with pytest.raises(ValidationError, match='dhcp_hosts\\[0\\].ip'):
        run(conn, name='vlt-u7', state='inactive', dhcp_hosts=[dict(mac='52:54:00:07:00:02', ip='10.9.9.9')])
    with pytest.raises(ValidationError, match='address'):
        run(conn, name='vlt-u8-missing')


@pytest.mark.parametrize('netmask, expected', [('255.255.0.0', '10.1.0.0/16'), ('16', '10.1.0.0/16'),
                                               ('255.255.255.252', '10.1.0.4/30')])
def test_good_netmasks(netmask, expected):
    assert str(network_xml.subnet(params(ip='10.1.0.5', netmask=netmask))) == expected


def test_auto_reservations_take_free_addresses_and_keep_them():
    conn = libvirt.open('test:///default')
    params = dict(name='vlt-unit-auto', state='present', address='10.93.0.0/24', forward_mode='nat',
                  dhcp_hosts=[dict(mac='52:54:00:aa:00:01', ip='auto'), dict(mac='52:54:00:aa:00:02', ip='auto')])
    full = dict((key, None) for key in ('ip', 'netmask', 'host_ip', 'dhcp_start', 'dhcp_stop', 'bridge', 'mtu',
                                        'forward_device', 'domain_name', 'ipv6_address', 'ipv6_prefix', 'autostart',
                                        'dhcp_bootp_file', 'dhcp_bootp_server', 'guest_ipv6'))
    full.update(params, dhcp_enabled=True, purge_dhcp_hosts=False, restart=False, force=False, reuse=False,
                only_unused=False)

    def run(check_mode=False, **changes):
        return net_utils.NetworkManager(dict(full, **changes), check_mode).ensure(conn)

    predicted = run(check_mode=True)
    made = run()
    assert predicted['changed'] and made['changed'] and predicted['diff'][0]['after'] == made['diff'][0]['after']
    hosts = xmltree.parse(made['network']['xml']).findall('ip/dhcp/host')
    addresses = [host.get('ip') for host in hosts]
    assert len(set(addresses)) == 2 and '10.93.0.1' not in addresses
    assert not run()['changed']
    later = run(dhcp_hosts=[dict(mac='52:54:00:aa:00:02', ip='auto')])
    assert not later['changed']  # the same address again, the other reservation kept
    run(state='absent')


class _RacingConnection(object):
    """``conn`` where another run defines network ``name`` (with its own reservation) just before our
    define, and a third run adds its reservation just after we read that network."""

    def __init__(self, conn, name, other_xml, third_host):
        self._conn, self._name, self._other_xml, self._third_host = conn, name, other_xml, third_host
        self.defined_first = False
        self.third_added = False

    def __getattr__(self, attribute):
        return getattr(self._conn, attribute)

    def networkDefineXML(self, xml_text):  # pylint: disable=invalid-name
        if not self.defined_first:
            self.defined_first = True
            self._conn.networkDefineXML(self._other_xml).create()
        return self._conn.networkDefineXML(xml_text)

    def networkLookupByName(self, name):  # pylint: disable=invalid-name
        return _ReadThenThird(self._conn.networkLookupByName(name), self) if name == self._name else \
            self._conn.networkLookupByName(name)


class _ReadThenThird(object):
    def __init__(self, net, racing):
        self._net, self._racing = net, racing

    def __getattr__(self, attribute):
        return getattr(self._net, attribute)

    def XMLDesc(self, flags=0):  # pylint: disable=invalid-name
        text = self._net.XMLDesc(flags)
        if self._racing.defined_first and not self._racing.third_added:
            self._racing.third_added = True
            self._net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST, libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST,
                             -1, self._racing._third_host,
                             libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG | libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE)
        return text


def test_a_network_another_run_defines_first_keeps_every_runs_reservation(conn):
    """Four runs adding reservations to a network none has seen: ours loses the define to another
    run's, a third adds its reservation after we read the network; all three stay (the CI failure of
    test_reservation_race: merging over the network read and defining it again dropped the third)."""
    name = 'vlt-unit-race'
    other = xml(name=name, address='10.61.0.0/24', dhcp_hosts=[dict(mac='52:54:00:61:00:01', ip='10.61.0.11')])
    racing = _RacingConnection(conn, name, other, "<host mac='52:54:00:61:00:03' ip='10.61.0.13'/>")
    try:
        result = run(racing, name=name, address='10.61.0.0/24',
                     dhcp_hosts=[dict(mac='52:54:00:61:00:02', ip='10.61.0.12')])
        assert racing.defined_first and racing.third_added
        assert result['changed']
        hosts = xmltree.parse(net_utils.inactive_xml(conn.networkLookupByName(name), libvirt.VIR_NETWORK_XML_INACTIVE))
        assert sorted(host.get('mac') for host in hosts.findall('ip/dhcp/host')) == [
            '52:54:00:61:00:01', '52:54:00:61:00:02', '52:54:00:61:00:03']
    finally:
        net = net_utils.find(conn, name)
        if net is not None:
            if net.isActive():
                net.destroy()
            net.undefine()
