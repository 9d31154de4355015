# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Idempotence and check mode, module by module, scenario by scenario, against the lab's real
libvirtd. Each cell runs the module three times: in check mode, for real, and for real again;
the lab is snapshotted after each. A cell is ok when check mode reports the same ``changed``
as the real run and changed nothing, the real run did what the scenario says, the definition
check mode predicted is the one libvirt holds after the real run (read back by the second run),
and the second real run reports ``changed=false`` and changed nothing.

All cells run in ONE ansible-playbook: a lane per resource kind (pool, volume, network, box,
domain), the lanes side by side. The domain lane boots one small domain (128 MiB) with a
blank disk, nothing to boot (it runs under TCG all the same), so states need no guest OS."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest

import harness  # pylint: disable=import-error
from verdicts import prediction_problem  # pylint: disable=import-error

DOM = 'vlt-rel-mx-dom'
DOM_MAC = '52:54:00:91:00:21'
DOM_IP = '192.168.122.221'
NET_MAC = '52:54:00:91:01:10'
BOX = 'vlt-rel-mx-box/tiny'
BOX_VOLUME = 'vlt-rel-mx-box-VAGRANTSLASH-tiny_vagrant_box_image_1.0.0_box.img'
HAVE_SNAPSHOT = os.path.exists(os.path.join(harness.ROOT, 'plugins', 'modules', 'libvirt_snapshot.py'))
RUNNING, PAUSED, SHUTOFF = 1, 3, 5


class Cell(object):
    """One scenario of one module: its arguments, what the real run must leave (``verify``,
    returning what is wrong or ''), whether it is a change at all."""

    def __init__(self, module, scenario, lane, only, args, verify, changes=True):
        self.module = module
        self.scenario = scenario
        self.lane = lane
        self.only = only
        self.args = args
        self.verify = verify
        self.changes = changes
        self.key = 'c_%s_%s' % (module.split('_')[-1], re.sub(r'\W+', '_', scenario).strip('_'))

    def __repr__(self):
        return '%s:%s' % (self.module, self.scenario)


def _capacity(xml):
    found = re.search(r'<capacity unit=.bytes.>(\d+)</capacity>', xml or '')
    return int(found.group(1)) if found else None


def _expect(condition, why):
    return '' if condition else why


# -- what each scenario must leave --------------------------------------------------------------
def pool_is(active, autostart=None):
    def verify(lab, unused):
        pool = lab['pools'].get('vlt-rel-mx-pool')
        if pool is None:
            return 'pool vlt-rel-mx-pool does not exist'
        if autostart is not None and pool['autostart'] != autostart:
            return 'autostart is %s' % pool['autostart']
        return _expect(pool['active'] == active, 'active is %s' % pool['active'])
    return verify


def gone(kind, name):
    def verify(lab, unused):
        return _expect(name not in lab[kind], '%s %s still exists' % (kind[:-1], name))
    return verify


def volume_is(name, capacity=None, fmt=None, backing=None):
    def verify(lab, unused):
        xml = lab['volumes'].get('default/' + name)
        if xml is None:
            return 'volume %s does not exist' % name
        if capacity is not None and _capacity(xml) != capacity:
            return 'capacity %s, not %s' % (_capacity(xml), capacity)
        if fmt and "<format type='%s'/>" % fmt not in xml:
            return 'not %s' % fmt
        store = re.search(r'<backingStore>.*?</backingStore>', xml, re.S)
        return _expect(not backing or (store and backing in store.group(0)), 'no backing store %s' % backing)
    return verify


def network_is(name, active=True, has=(), lacks=()):
    def verify(lab, unused):
        net = lab['networks'].get(name)
        if net is None:
            return 'network %s does not exist' % name
        missing = [text for text in has if text not in net['xml']]
        present = [text for text in lacks if text in net['xml']]
        if missing or present:
            return 'network %s XML lacks %s / has %s' % (name, missing, present)
        return _expect(net['active'] == active, 'active is %s' % net['active'])
    return verify


def box_added(lab, unused):
    if 'default/' + BOX_VOLUME not in lab['volumes']:
        return 'no volume %s' % BOX_VOLUME
    return _expect(any(line.startswith('boxes/vlt-rel-mx-box-VAGRANTSLASH-tiny/1.0.0/libvirt/box.img')
                       for line in lab['box_store']), 'not in the box store: %s' % lab['box_store'])


def box_removed(lab, unused):
    if 'default/' + BOX_VOLUME in lab['volumes']:
        return 'volume %s remains' % BOX_VOLUME
    return _expect(not any('vlt-rel-mx-box' in line for line in lab['box_store']),
                   'still in the box store: %s' % lab['box_store'])


def domain_is(state, managed_save=False, snapshots=None):
    def verify(lab, unused):
        dom = lab['domains'].get(DOM)
        if dom is None:
            return 'domain %s does not exist' % DOM
        if snapshots is not None and dom['snapshots'] != snapshots:
            return 'snapshots %s, not %s' % (dom['snapshots'], snapshots)
        return _expect((dom['state'], dom['managed_save']) == (state, managed_save),
                       'state %s managed save %s, not %s %s' % (dom['state'], dom['managed_save'], state, managed_save))
    return verify


def lease_found(unused, result):
    return _expect(result.get('ip') == DOM_IP, 'ip %r, not %s' % (result.get('ip'), DOM_IP))


# -- the matrix ---------------------------------------------------------------------------------
def matrix():
    cells = []
    pool = dict(name='vlt-rel-mx-pool', path=harness.MATRIX_POOL_DIR)
    only = 'vlt-rel-mx-pool'
    cells += [
        Cell('libvirt_pool', 'present (define, build, start)', 0, only, pool, pool_is(True, True)),
        Cell('libvirt_pool', 'autostart off', 0, only, dict(pool, autostart=False), pool_is(True, False)),
        Cell('libvirt_pool', 'inactive', 0, only, dict(pool, state='inactive'), pool_is(False)),
        Cell('libvirt_pool', 'absent', 0, only, dict(pool, state='absent'), gone('pools', 'vlt-rel-mx-pool')),
    ]
    only = 'vlt-rel-mx-vol'
    disk = dict(name='vlt-rel-mx-vol-disk.qcow2', pool='default')
    seed = dict(name='vlt-rel-mx-vol-seed.iso',
                cloud_init=dict(user_data='#cloud-config\nhostname: rel\n', meta_data='instance-id: vlt-rel-mx'))
    cells += [
        Cell('libvirt_volume', 'create (empty qcow2)', 1, only, dict(disk, capacity='16M'),
             volume_is(disk['name'], 16 * 2 ** 20, 'qcow2')),
        Cell('libvirt_volume', 'grow', 1, only, dict(disk, capacity='32MiB'), volume_is(disk['name'], 32 * 2 ** 20)),
        Cell('libvirt_volume', 'upload (sparse, atomic)', 1, only,
             dict(name='vlt-rel-mx-vol-base.img', upload=harness.LAB_BOX_IMG), volume_is('vlt-rel-mx-vol-base.img',
                                                                                         fmt='qcow2')),
        Cell('libvirt_volume', 'overlay (COW on the upload, grown)', 1, only,
             dict(name='vlt-rel-mx-vol-overlay.qcow2', backing_volume='vlt-rel-mx-vol-base.img', capacity='64M'),
             volume_is('vlt-rel-mx-vol-overlay.qcow2', 64 * 2 ** 20, 'qcow2', 'vlt-rel-mx-vol-base.img')),
        Cell('libvirt_volume', 'clone', 1, only, dict(name='vlt-rel-mx-vol-clone.qcow2', clone_from=disk['name']),
             volume_is('vlt-rel-mx-vol-clone.qcow2', 32 * 2 ** 20)),
        Cell('libvirt_volume', 'cloud-init ISO', 1, only, seed, volume_is(seed['name'], fmt='iso')),
        Cell('libvirt_volume', 'cloud-init ISO rebuilt', 1, only,
             dict(seed, cloud_init=dict(seed['cloud_init'], user_data='#cloud-config\nhostname: rel2\n')),
             volume_is(seed['name'], fmt='iso')),
        Cell('libvirt_volume', 'absent', 1, only, dict(name='vlt-rel-mx-vol-clone.qcow2', state='absent'),
             gone('volumes', 'default/vlt-rel-mx-vol-clone.qcow2')),
    ]
    only = 'vlt-rel-mx-net' + harness.WITH_DEFAULT
    reservation = dict(name='default', dhcp_hosts=[dict(mac=DOM_MAC, ip=DOM_IP, name=DOM)])
    nat = dict(name='vlt-rel-mx-net-nat', address='10.91.1.0/24')
    iso = dict(name='vlt-rel-mx-net-iso', address='10.91.2.0/24', forward_mode='none')
    host = dict(mac=NET_MAC, ip='10.91.1.10', name='rel-web')
    cells += [
        Cell('libvirt_network', 'reservation on default add', 2, only, reservation,
             network_is('default', has=["mac='%s'" % DOM_MAC, "ip='%s'" % DOM_IP])),
        Cell('libvirt_lease_facts', 'address from the reservation', 2, only,
             dict(macs=[DOM_MAC], networks=['default'], sources=['reservation']), lease_found, changes=False),
        Cell('libvirt_network', 'reservation on default remove', 2, only,
             dict(name='default', dhcp_hosts=[dict(mac=DOM_MAC, state='absent')]),
             network_is('default', lacks=["mac='%s'" % DOM_MAC])),
        Cell('libvirt_network', 'nat', 2, only, nat,
             network_is(nat['name'], has=["<forward mode='nat'", "address='10.91.1.1'"])),
        Cell('libvirt_network', 'isolated', 2, only, iso,
             network_is(iso['name'], has=["address='10.91.2.1'"], lacks=['<forward'])),
        Cell('libvirt_network', 'reservation add', 2, only, dict(nat, dhcp_hosts=[host]),
             network_is(nat['name'], has=["mac='%s'" % NET_MAC, "ip='10.91.1.10'"])),
        Cell('libvirt_network', 'reservation change', 2, only, dict(nat, dhcp_hosts=[dict(host, ip='10.91.1.11')]),
             network_is(nat['name'], has=["ip='10.91.1.11'"], lacks=["ip='10.91.1.10'"])),
        Cell('libvirt_network', 'reservation remove', 2, only,
             dict(nat, dhcp_hosts=[dict(mac=NET_MAC, state='absent')]), network_is(nat['name'], lacks=[NET_MAC])),
        Cell('libvirt_network', 'inactive', 2, only, dict(iso, state='inactive'), network_is(iso['name'], False)),
        Cell('libvirt_network', 'absent', 2, only, dict(name=iso['name'], state='absent'),
             gone('networks', iso['name'])),
    ]
    only = 'vlt-rel-mx-box'
    box = dict(name=BOX, version='1.0.0', src=harness.LAB_BOX, box_store=harness.BOX_STORE, pool='default')
    cells += [
        Cell('libvirt_box', 'add from file', 3, only, box, box_added),
        Cell('libvirt_box', 'absent (volume and store)', 3, only,
             dict(name=BOX, box_store=harness.BOX_STORE, state='absent', remove_from_store=True), box_removed),
    ]
    only = DOM
    machine = dict(name=DOM, memory=128, cpus=1, graphics_type='none', video_type='none',
                   disks=[dict(device='vda', volume=DOM + '.qcow2', pool='default')],
                   interfaces=[dict(network='default', mac=DOM_MAC)], graceful_timeout=2)
    cells += [
        Cell('libvirt_domain', 'define (present)', 4, only, machine, domain_is(SHUTOFF)),
        Cell('libvirt_domain', 'running', 4, only, dict(machine, state='running'), domain_is(RUNNING)),
        Cell('libvirt_domain', 'paused', 4, only, dict(machine, state='paused'), domain_is(PAUSED)),
        Cell('libvirt_domain', 'saved (managed save)', 4, only, dict(machine, state='saved'),
             domain_is(SHUTOFF, managed_save=True)),
        Cell('libvirt_domain', 'running (restored)', 4, only, dict(machine, state='running'), domain_is(RUNNING)),
        Cell('libvirt_domain', 'stopped', 4, only, dict(machine, state='stopped'), domain_is(SHUTOFF)),
    ]
    if HAVE_SNAPSHOT:
        cells += [
            Cell('libvirt_snapshot', 'present (disk-only, stopped)', 4, only, dict(domain=DOM, name='vlt-rel-snap'),
                 domain_is(SHUTOFF, snapshots=['vlt-rel-snap'])),
            Cell('libvirt_snapshot', 'absent', 4, only, dict(domain=DOM, name='vlt-rel-snap', state='absent'),
                 domain_is(SHUTOFF, snapshots=[])),
        ]
    cells += [
        Cell('libvirt_domain', 'absent', 4, only, dict(name=DOM, state='absent'), gone('domains', DOM)),
    ]
    return cells


CELLS = matrix()
SETUP = [harness.Step('setup_dom_disk', 'libvirt_volume', dict(name=DOM + '.qcow2', pool='default', capacity='16M'),
                      lane=4)]


@pytest.fixture(scope='module')
def ran():
    """All cells in one playbook; results by step key."""
    only = dict((cell.lane, cell.only) for cell in CELLS)
    steps = list(SETUP) + [harness.Step('s_lane%d' % lane, None, lane=lane, snapshot=only[lane])
                           for lane in sorted(only)]
    for cell in CELLS:
        for suffix, check in (('check', True), ('real', False), ('again', False)):
            steps.append(harness.Step('%s_%s' % (cell.key, suffix), cell.module, cell.args, check=check,
                                      lane=cell.lane, snapshot=cell.only))
    results, labs, seconds = harness.run_batch(steps)
    harness.RECORD['seconds']['idempotence matrix (%d cells, one playbook)' % len(CELLS)] = seconds
    return results, labs


def _before(cell):
    """The snapshot the cell starts from: the last one of the cell before it in its lane."""
    previous = [other for other in CELLS[:CELLS.index(cell)] if other.lane == cell.lane]
    return '%s_again' % previous[-1].key if previous else 's_lane%d' % cell.lane


def _judge(cell, ran):
    results, labs = ran
    check, real, again = [results['%s_%s' % (cell.key, run)] for run in ('check', 'real', 'again')]
    for name, result in (('check', check), ('real', real), ('again', again)):
        if result.get('failed'):
            return '%s run failed: %s' % (name, str(result.get('msg'))[:400])
    if bool(check.get('changed')) != bool(real.get('changed')):
        return 'check mode said changed=%s, the real run changed=%s' % (check.get('changed'), real.get('changed'))
    if bool(real.get('changed')) != cell.changes:
        return 'the real run reported changed=%s' % real.get('changed')
    before, after_check, after_real, after_again = [labs[key] for key in (
        _before(cell), cell.key + '_check', cell.key + '_real', cell.key + '_again')]
    touched = harness.differences(before, after_check)[0]
    if touched:
        return 'check mode changed the lab: %s' % '; '.join(touched)
    wrong = cell.verify(after_real, real)
    if wrong:
        return 'the real run did not do it: %s' % wrong
    wrong = prediction_problem(check, again)
    if wrong:
        return 'check mode predicted another definition than libvirt holds after the real run: %s' % wrong
    if again.get('changed'):
        return 'the second real run reported changed=true'
    touched = harness.differences(after_real, after_again)[0]
    return 'the second real run changed the lab: %s' % '; '.join(touched) if touched else ''


def test_setup_steps_succeed(ran):
    for step in SETUP:
        assert not ran[0][step.key].get('failed'), ran[0][step.key].get('msg')


@pytest.mark.parametrize('cell', CELLS, ids=[cell.key for cell in CELLS])
def test_cell(ran, cell):
    why = _judge(cell, ran)
    harness.RECORD['matrix'][(cell.module, cell.scenario)] = dict(ok=not why, why=why)
    assert not why, why
