# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every checker of the suites, shown failing on a planted defect and passing on the real
thing: "refused cleanly", "check predicts exactly", "nothing left behind", the summary's count,
the machine lock. A checker that cannot fail proves nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

import libvirt
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for folder in ('tests', os.path.join('tests', 'reliability'), os.path.join('tests', 'e2e')):
    sys.path.insert(0, os.path.join(ROOT, folder))

import summary  # noqa: E402 pylint: disable=import-error,wrong-import-position
import verdicts  # noqa: E402 pylint: disable=import-error,wrong-import-position

from ansible_collections.vagrantless.libvirt.plugins.module_utils import files, locks  # noqa: E402


# -- refused cleanly ------------------------------------------------------------------------
OURS = dict(failed=True, changed=False, msg="name='x\\n' is not valid: use 1 to 100 letters", option='name',
            exception='(traceback unavailable)')
ARGSPEC = dict(failed=True, changed=False, msg='value of state must be one of: present, absent, got: gone',
               exception='(traceback unavailable)')


@pytest.mark.parametrize('planted, why', [
    (dict(failed=True, changed=False, msg="Task failed: Module failed: 'bus'",
          exception='(traceback unavailable)'), 'a crash'),  # ansible-core 2.19's words for a KeyError
    (dict(failed=True, msg='MODULE FAILURE\nSee stdout/stderr for the exact error',
          module_stderr='Traceback (most recent call last):\n  ...\nKeyError: bus'), 'a crash'),
    (dict(failed=True, changed=False, msg='All strings must be XML compatible'), 'not a refusal of ours'),
    (dict(failed=True, changed=False, msg='cannot define: libvirt said no'), 'not a refusal of ours'),
    (dict(OURS, changed=True), 'reports changed'),
    (dict(changed=True), 'accepted'),
])
def test_a_crash_or_a_stray_failure_is_not_a_clean_refusal(planted, why):
    assert why in verdicts.refusal_problem(planted)


@pytest.mark.parametrize('result', [OURS, ARGSPEC, dict(ARGSPEC, msg="argument 'autostart' is of type str and we "
                                                                     "were unable to convert to bool")])
def test_our_refusal_and_the_argument_spec_are_clean(result):
    assert verdicts.refusal_problem(result) == ''


# -- check mode predicts exactly --------------------------------------------------------------
def _result(before, after, label='domain d (definition)'):
    return dict(diff=[dict(before=before, after=after, before_header=label, after_header=label),
                      dict(before='state: stopped\n', after='state: running\n', before_header='domain d (state)')])


DEFINED = ('<domain type="qemu">\n  <name>d</name>\n  <uuid>u-1</uuid>\n  <memory unit="KiB">262144</memory>\n'
           '  <devices>\n    <disk type="file"><target dev="vda"/></disk>\n  </devices>\n</domain>\n')


def test_a_prediction_libvirt_holds_passes_with_what_libvirt_generates():
    predicted = DEFINED.replace('<uuid>u-1</uuid>\n', '')
    held = DEFINED.replace('<target dev="vda"/>', '<target dev="vda"/><address type="pci" slot="0x04"/>')
    assert verdicts.prediction_problem(_result('', predicted), _result(held, held)) == ''


def test_a_wrong_prediction_fails():
    predicted = DEFINED.replace('262144', '327680')
    problem = verdicts.prediction_problem(_result(DEFINED, predicted), _result(DEFINED, DEFINED))
    assert 'predicted but not held' in problem and 'memory' in problem


def test_a_change_check_mode_did_not_predict_fails():
    held = DEFINED.replace('</devices>', '  <disk type="file"><target dev="vdb"/></disk>\n  </devices>')
    problem = verdicts.prediction_problem(_result(DEFINED, DEFINED), _result(held, held))
    assert 'held but not predicted' in problem and 'disk' in problem


def test_a_predicted_object_libvirt_does_not_hold_fails():
    assert 'predicted one, libvirt holds none' in verdicts.prediction_problem(_result('', DEFINED), _result('', ''))


def test_a_listing_is_compared_to_the_letter():
    check = dict(diff=[dict(before='', after='s1 (disk-only)\n')])
    assert verdicts.prediction_problem(check, dict(diff=[dict(before='s1 (disk-only)\n', after='')])) == ''
    assert 'predicted' in verdicts.prediction_problem(check, dict(diff=[dict(before='', after='')]))


# -- the summary's count -------------------------------------------------------------------
def _report(path, cases):
    with open(str(path), 'w') as handle:
        handle.write('<testsuite>%s</testsuite>' % ''.join(cases))
    return str(path)


def test_the_summary_fails_a_layer_without_report_or_tests(tmp_path, capsys):
    good = _report(tmp_path / 'units.xml', ['<testcase name="a"/>'])
    empty = _report(tmp_path / 'sanity.xml', [])
    broken = tmp_path / 'lint.xml'
    broken.write_text('<testsuite><testcase')
    assert summary.summarize(['units=' + good]) == 0
    assert summary.summarize(['units=' + good, 'e2e=' + str(tmp_path / 'e2e.xml')]) == 1
    assert summary.summarize(['units=' + good, 'sanity=' + empty]) == 1
    assert summary.summarize(['units=' + good, 'lint=' + str(broken)]) == 1
    out = capsys.readouterr().out
    assert 'e2e: FAILED: no report' in out and 'sanity: FAILED: the report holds no test' in out
    assert 'lint: FAILED: unreadable' in out and 'total: 1 passed, 1 failed, 0 skipped' in out


def test_integration_counts_checks_not_tasks(tmp_path, capsys):
    cases = ['<testcase name="[h] setup: create a pool"><system-out>{"changed": true}</system-out></testcase>',
             '<testcase name="[h] it worked"><system-out>{"changed": false, "msg": "All assertions passed"}'
             '</system-out></testcase>',
             '<testcase name="[h] skipped cleanup"><skipped/></testcase>',
             '<testcase name="[h] a failing step"><failure message="boom"/></testcase>']
    report = _report(tmp_path / 'target.xml', cases)
    assert summary.summarize(['integration=' + report], checks_only_layers=['integration']) == 1
    assert 'integration: 1 passed, 1 failed, 0 skipped' in capsys.readouterr().out


# -- nothing left behind --------------------------------------------------------------------
@pytest.fixture
def test_lab(tmp_path, monkeypatch):
    """The e2e Lab against libvirt's test driver, with what a careless destroy would leave."""
    import conftest as e2e  # pylint: disable=import-error
    monkeypatch.setattr(e2e, 'URI', 'test:///default')
    lab = e2e.Lab(str(tmp_path), name='vlt-unit-left')
    lab.machines.update(['m1'])
    return lab, e2e


def test_leftovers_finds_reservations_and_half_uploads(test_lab):
    lab, e2e = test_lab
    assert lab.leftovers() == []
    conn = lab.conn
    net = conn.networkLookupByName('default')
    host = "<host mac='%s' ip='192.168.122.77'/>" % e2e.derived_mac('vlt-unit-left_m1/0')
    net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST, libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, host,
               libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE | libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG)
    pool = conn.storagePoolLookupByName('default-pool')
    part = pool.createXML("<volume><name>vlt-unit-left-VAGRANTSLASH-x_vagrant_box_image_1_box.img.part</name>"
                          "<capacity>1024</capacity></volume>", 0)
    try:
        found = lab.leftovers()
        assert any(line.startswith('reservation ') and 'live' in line for line in found), found
        assert any(line.startswith('reservation ') and 'persistent' in line for line in found), found
        assert any(line.endswith('.part') for line in found), found
    finally:
        net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE, libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, host,
                   libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE | libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG)
        part.delete(0)
    assert lab.leftovers() == []


# -- one verb at a time on a machine ---------------------------------------------------------
def test_the_machine_lock_waits_for_a_live_holder_and_takes_over_a_dead_one(tmp_path):
    lock = str(tmp_path / 'lock')
    me = locks.process_identity(os.getpid())
    other = subprocess.Popen(['sleep', '30'])
    try:
        holder = locks.process_identity(other.pid)
        assert locks.acquire_lock(lock, holder, 1) < 1
        clock = iter(range(100)).__next__
        with pytest.raises(TimeoutError, match='held by process %d' % other.pid):
            locks.acquire_lock(lock, me, 5, clock=clock, sleep=lambda seconds: None)
    finally:
        other.kill()
        other.wait()
    assert locks.acquire_lock(lock, me, 1) >= 0  # its holder is gone: taken over
    assert files.read(lock) == me
    assert not locks.release_lock(lock, holder) and locks.release_lock(lock, me)
    assert not os.path.exists(lock)
