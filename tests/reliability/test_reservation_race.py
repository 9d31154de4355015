# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reservation race, provoked: several machines' `up` make their DHCP reservations at once
on a network none of them has seen yet (each defines it, one of them starts it while the others
update it). Round after round, on a fresh network each round, the running network must serve
exactly the reservations its persistent definition holds - else a guest gets another address
than the one `up` waits at. No guest boots: the reservations are the point."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

import harness  # pylint: disable=import-error

ROUNDS = 8
MACHINES = 4
NETWORK = 'vlt-rel-race-%d'


def _mac(machine):
    return '52:54:00:91:%02x:%02x' % (0x40 + machine, 0x10)


def _hosts(xml):
    from lxml import etree  # pylint: disable=import-outside-toplevel
    tree = etree.fromstring(xml.encode('utf-8'))
    return sorted((host.get('mac'), host.get('ip')) for host in tree.findall('ip/dhcp/host'))


@pytest.fixture(scope='module')
def raced():
    """ROUNDS networks, each made at once by MACHINES lanes that each add their reservation
    (`ip: auto`, as `up` asks); return {network: (live hosts, persistent hosts)} and results."""
    steps = []
    for round_ in range(ROUNDS):
        name = NETWORK % round_
        for machine in range(MACHINES):
            steps.append(harness.Step(
                'race_%d_%d' % (round_, machine), 'libvirt_network',
                dict(name=name, address='10.91.%d.0/24' % (100 + round_), forward_mode='none',
                     dhcp_hosts=[dict(mac=_mac(machine), ip='auto', name='m%d' % machine)]),
                diff=False, lane=machine))
    results, unused, seconds = harness.run_batch(steps)
    harness.RECORD['seconds']['reservation race (%d rounds x %d machines)' % (ROUNDS, MACHINES)] = seconds
    import libvirt  # pylint: disable=import-outside-toplevel
    conn = libvirt.open(harness.URI)
    found = {}
    try:
        for round_ in range(ROUNDS):
            net = conn.networkLookupByName(NETWORK % round_)
            found[NETWORK % round_] = (_hosts(net.XMLDesc(0)) if net.isActive() else None,
                                       _hosts(net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)))
    finally:
        conn.close()
    return results, found


def test_every_run_succeeded(raced):
    results, unused = raced
    failed = dict((key, str(result.get('msg'))[:300]) for key, result in results.items() if result.get('failed'))
    assert not failed, failed


@pytest.mark.parametrize('round_', range(ROUNDS))
def test_live_and_persistent_reservations_agree(raced, round_):
    unused, found = raced
    live, config = found[NETWORK % round_]
    assert live is not None, 'network %s is not running' % (NETWORK % round_)
    assert sorted(mac for mac, unused in config) == sorted(_mac(m) for m in range(MACHINES)), config
    assert len(set(ip for unused, ip in config)) == MACHINES, 'two machines share an address: %s' % config
    assert live == config, 'live %s, persistent %s' % (live, config)
