# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input fails before anything changes, with a message naming the option, the value and
what is allowed: every case of cases.py in ONE ansible-playbook run (lanes side by side),
the lab's domains, volumes, networks (with their DHCP hosts) and pools snapshotted before
and after and compared exactly."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

import cases  # pylint: disable=import-error
import harness  # pylint: disable=import-error
from verdicts import refusal_problem  # pylint: disable=import-error

CASES = cases.all_cases()
LANES = 3


def _strings(value):
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [text for item in value for text in _strings(item)]
    return [] if value is None else [str(value)]


@pytest.fixture(scope='module')
def refused():
    """Run every bad input once; return (results by case key, changes blamed on each case,
    changes no case explains)."""
    import libvirt  # pylint: disable=import-outside-toplevel
    conn = libvirt.open(harness.URI)
    try:  # what some cases need to exist: a volume to overlay or clone, a box file
        pool = conn.storagePoolLookupByName('default')
        pool.createXML("<volume><name>%s</name><capacity unit='MiB'>64</capacity>"
                       "<target><format type='qcow2'/></target></volume>" % cases.BASE_VOLUME, 0)
        conn.defineXML("<domain type='%s'><name>%s</name><memory unit='MiB'>64</memory><os><type>hvm</type></os>"
                       "</domain>" % (harness.DRIVER, cases.HOST_DOMAIN))
    finally:
        conn.close()
    with open(harness.LAB_BOX, 'rb') as source, open(cases.BOX_FILE, 'wb') as target:
        target.write(source.read())
    cases.prepare()
    steps = [harness.Step(case.key, case.module, dict((k, v) for k, v in case.args.items() if v is not None),
                          diff=False, lane=index % LANES) for index, case in enumerate(CASES)]
    before = harness.snapshot()
    results, unused, seconds = harness.run_batch(steps)
    after = harness.snapshot()
    harness.RECORD['seconds']['bad inputs (%d cases, one playbook)' % len(CASES)] = seconds
    mine, foreign = harness.differences(before, after)
    for line in foreign:
        print('reliability: not ours, changed meanwhile by someone else: %s' % line)
    blamed, unexplained = dict((case.key, []) for case in CASES), []
    for line in mine:
        name = line.split(' ', 1)[1].rsplit(':', 1)[0].split('/', 1)[-1]
        culprits = [case.key for case in CASES if any(name in text or text in name
                                                      for text in _strings(case.args) if len(text) > 3)]
        for key in culprits:
            blamed[key].append(line)
        if not culprits:
            unexplained.append(line)
    return results, blamed, unexplained


def _verdict(case, result, blamed, unexplained):
    """Why the case was not refused cleanly ('' when it was)."""
    why = refusal_problem(result)
    if why:
        return why
    message = str(result.get('msg') or '')
    missing = [piece for piece in case.expect if piece.lower() not in message.lower()]
    if missing:
        return 'the message lacks %s: %s' % (missing, message[:300])
    if blamed or unexplained:
        return 'the lab changed: %s' % '; '.join(blamed + unexplained)
    return ''


@pytest.mark.parametrize('case', CASES, ids=[case.key for case in CASES])
def test_bad_input_is_refused_cleanly(refused, case):
    results, blamed, unexplained = refused
    why = _verdict(case, results[case.key], blamed[case.key], unexplained)
    harness.RECORD['bad'][case.key] = dict(ok=not why, why=why, module=case.module,
                                           msg=str(results[case.key].get('msg'))[:500])
    assert not why, why


def test_the_lab_is_exactly_as_before(refused):
    unused, blamed, unexplained = refused
    changes = unexplained + [line for lines in blamed.values() for line in lines]
    assert not changes, 'bad inputs changed the lab: %s' % '; '.join(sorted(set(changes)))


def test_at_least_40_cases_over_every_module():
    assert len(CASES) >= 40
    modules = set(case.module for case in CASES)
    assert {'libvirt_pool', 'libvirt_volume', 'libvirt_network', 'libvirt_box', 'libvirt_domain',
            'libvirt_lease_facts'} <= modules
    assert not os.path.exists(cases.TUNNELS), 'forwarded_port made its state directory on bad input'
