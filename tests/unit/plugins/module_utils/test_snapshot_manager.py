# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt_snapshot's logic on libvirt's test driver: check mode predicts the list, the
real run makes it, the second run changes nothing; delete, delete all, revert, refusals."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import libvirt
import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import snapshot as snapshots
from ansible_collections.vagrantless.libvirt.plugins.module_utils import xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import LibvirtOperationError
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

DOMAIN = 'vlt-snap-unit'
CDROM = ('<disk type="file" device="cdrom"><driver name="qemu" type="raw"/><source file="/tmp/seed.iso"/>'
         '<target dev="hdc" bus="ide"/><readonly/></disk>')


@pytest.fixture
def conn(conn, test_domain):
    """The test driver with a running domain of our own (a copy of its domain 'test' plus a CD-ROM)."""
    test_domain(DOMAIN, devices=[CDROM])
    return conn


def run(conn, check_mode=False, **overrides):
    params = dict(domain=DOMAIN, name=None, description=None, state='present', start=False)
    params.update(overrides)
    return snapshots.SnapshotManager(params, check_mode).ensure(conn)


def names(result):
    return [entry['name'] for entry in result['snapshots']]


def domain_of(conn):
    return conn.lookupByName(DOMAIN)


def test_save_check_then_real_then_idempotent(conn):
    predicted = run(conn, check_mode=True, name='s1', description='before <upgrade> & "more"')
    assert predicted['changed'] and names(predicted) == ['s1']
    assert predicted['snapshot']['creation_time'] is None and predicted['snapshot']['state'] == 'running'
    assert domain_of(conn).snapshotNum(0) == 0
    real = run(conn, name='s1', description='before <upgrade> & "more"')
    assert real['changed']
    assert real['diff'] == predicted['diff']
    assert real['diff'][0]['before'] == '' and real['diff'][0]['after'] == 's1  state=running  parent=-  current\n'
    entry = real['snapshot']
    assert entry['description'] == 'before <upgrade> & "more"' and entry['current']
    assert entry['creation_time'].endswith('Z') and entry['parent'] is None
    assert real['snapshots'] == [dict(predicted['snapshot'], creation_time=entry['creation_time'])]
    again = run(conn, name='s1', description='another text')
    assert not again['changed'] and again['snapshots'] == real['snapshots']
    assert again['diff'][0]['before'] == again['diff'][0]['after']


def test_full_system_while_running_disk_only_while_stopped(conn):
    run(conn, name='up')
    xml = domain_of(conn).snapshotLookupByName('up').getXMLDesc(0)
    assert "<memory snapshot='internal'/>" in xml
    assert "<disk name='vda' snapshot='internal'/>" in xml and "<disk name='hdc' snapshot='no'/>" in xml
    domain_of(conn).destroy()
    predicted = run(conn, check_mode=True, name='down')
    down = run(conn, name='down')
    assert down['diff'] == predicted['diff']
    assert down['snapshot']['state'] == 'shutoff' and down['snapshot']['parent'] == 'up'
    assert "<memory snapshot='no'/>" in domain_of(conn).snapshotLookupByName('down').getXMLDesc(0)
    assert [entry['current'] for entry in down['snapshots']] == [False, True]


def test_list_only_changes_nothing(conn):
    run(conn, name='s1')
    listed = run(conn)
    assert not listed['changed'] and names(listed) == ['s1'] and listed['snapshot'] == {}
    assert listed['domain_state'] == 'running' and listed['removed'] == []


def test_revert_restores_the_snapshot_state_every_time(conn):
    run(conn, name='up')
    domain_of(conn).destroy()
    run(conn, name='down')
    predicted = run(conn, check_mode=True, name='up', state='reverted')
    assert predicted['changed'] and predicted['domain_state'] == 'running'
    assert domain_of(conn).snapshotCurrent(0).getName() == 'down' and not domain_of(conn).isActive()
    reverted = run(conn, name='up', state='reverted')
    assert reverted['changed'] and reverted['domain_state'] == 'running' and domain_of(conn).isActive()
    assert reverted['diff'] == predicted['diff']
    assert reverted['diff'][1]['after'] == 'reverted_to: up\nstate: running\n'
    assert reverted['snapshot']['current'] and not snapshots.find(domain_of(conn), 'down').isCurrent(0)
    assert run(conn, name='up', state='reverted')['changed']  # a restore always restores
    stopped = run(conn, name='down', state='reverted')
    assert stopped['domain_state'] == 'stopped' and not domain_of(conn).isActive()


def test_revert_with_start_runs_a_stopped_snapshot(conn):
    domain_of(conn).destroy()
    run(conn, name='down')
    domain_of(conn).create()
    predicted = run(conn, check_mode=True, name='down', state='reverted', start=True)
    started = run(conn, name='down', state='reverted', start=True)
    assert predicted['domain_state'] == started['domain_state'] == 'running'
    assert domain_of(conn).isActive()


def test_delete_one_moves_children_and_current(conn):
    for name in ('a', 'b', 'c'):
        run(conn, name=name)
    predicted = run(conn, check_mode=True, name='c', state='absent')
    deleted = run(conn, name='c', state='absent')
    assert deleted['changed'] and deleted['removed'] == ['c'] and deleted['diff'] == predicted['diff']
    assert domain_of(conn).snapshotCurrent(0).getName() == 'b'
    run(conn, name='a', state='reverted')
    run(conn, name='d')
    predicted = run(conn, check_mode=True, name='a', state='absent')
    deleted = run(conn, name='a', state='absent')
    assert deleted['diff'] == predicted['diff']
    assert dict((entry['name'], entry['parent']) for entry in deleted['snapshots']) == dict(b=None, d=None)
    again = run(conn, name='a', state='absent')
    assert not again['changed'] and again['removed'] == []


def test_absent_without_name_removes_all(conn):
    for name in ('a', 'b', 'c'):
        run(conn, name=name)
    run(conn, name='a', state='reverted')
    run(conn, name='side')
    predicted = run(conn, check_mode=True, state='absent')
    assert predicted['changed'] and predicted['snapshots'] == [] and domain_of(conn).snapshotNum(0) == 4
    removed = run(conn, state='absent')
    assert removed['removed'] == predicted['removed'] and removed['diff'] == predicted['diff']
    assert removed['removed'].index('c') < removed['removed'].index('b') < removed['removed'].index('a')
    assert domain_of(conn).snapshotNum(0) == 0
    assert not run(conn, state='absent')['changed']


def test_absent_on_a_missing_domain_is_no_change(conn):
    gone = run(conn, domain='vlt-snap-none', state='absent')
    assert not gone['changed'] and gone['snapshots'] == [] and gone['domain_state'] is None


@pytest.mark.parametrize('overrides, option', [
    (dict(name='a/b'), 'name'), (dict(name='x<y'), 'name'), (dict(name='a&b'), 'name'),
    (dict(name='say "hi"'), 'name'), (dict(name="it's"), 'name'), (dict(name='s' * 300), 'name'),
    (dict(name=''), 'name'), (dict(name='2'), 'name'), (dict(name='', state='absent'), 'name'),
    (dict(state='reverted'), 'name'), (dict(name='s1', start=True), 'start'),
    (dict(name='s1', description='bell\x07'), 'description'), (dict(domain='a/b'), 'domain'),
    (dict(state='gone'), 'state'),
])
def test_bad_input_fails_before_connecting(overrides, option):
    params = dict(domain=DOMAIN, name=None, description=None, state='present', start=False)
    params.update(overrides)
    with pytest.raises(ValidationError) as caught:
        snapshots.SnapshotManager(params, False)
    assert caught.value.option == option
    assert '%s=' % option in str(caught.value)


def test_missing_domain_and_missing_snapshot_fail_before_any_change(conn):
    run(conn, name='s1')
    with pytest.raises(ValidationError, match="domain='vlt-snap-none'"):
        run(conn, domain='vlt-snap-none', name='s1')
    with pytest.raises(ValidationError, match=r"name='nope' is not valid: .*\(s1\)"):
        run(conn, name='nope', state='reverted')
    assert domain_of(conn).snapshotCurrent(0).getName() == 's1' and domain_of(conn).snapshotNum(0) == 1


def test_raw_writable_disk_is_refused(conn):
    domain = domain_of(conn)
    tree = xmltree.parse(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    tree.find('devices/disk').insert(0, xmltree.element('driver', {'name': 'qemu', 'type': 'raw'}))
    domain.destroy()
    conn.defineXML(xmltree.to_xml(tree))
    with pytest.raises(LibvirtOperationError, match='disk vda is raw'):
        run(conn, name='s1')
    assert domain_of(conn).snapshotNum(0) == 0


def test_saved_domain_is_refused(conn):
    domain_of(conn).managedSave(0)
    with pytest.raises(LibvirtOperationError, match='saved state'):
        run(conn, name='s1')
    assert domain_of(conn).snapshotNum(0) == 0


def test_failure_halfway_deletes_the_half_made_snapshot(conn, monkeypatch):
    def broken(snapshot):
        raise libvirt.libvirtError('reading it back failed')
    monkeypatch.setattr(snapshots, 'describe', broken)
    with pytest.raises(libvirt.libvirtError, match='reading it back'):
        run(conn, name='s1')
    assert domain_of(conn).snapshotNum(0) == 0


def test_concurrent_creation_converges(conn, monkeypatch):
    """Another run made the same snapshot between our look and our create: no failure."""
    real_listing = snapshots.listing
    calls = []

    def first_look_misses(domain):
        calls.append(1)
        return [] if len(calls) == 1 else real_listing(domain)
    run(conn, name='s1')
    monkeypatch.setattr(snapshots, 'listing', first_look_misses)
    raced = run(conn, name='s1')
    assert not raced['changed'] and names(raced) == ['s1'] and domain_of(conn).snapshotNum(0) == 1
    assert raced['snapshot']['creation_time'] is not None  # what libvirt has, not the prediction


def test_deletion_order_children_first():
    entries = [dict(name='root', parent=None), dict(name='leaf', parent='mid'), dict(name='mid', parent='root'),
               dict(name='other', parent='root')]
    order = snapshots.deletion_order(entries)
    assert order.index('leaf') < order.index('mid') < order.index('root')
    assert order.index('other') < order.index('root')
