# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""machine_state in process: marks written once and private, records read back parsed (what
up's fast path compares), the lock, forgetting the machine, refusals."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.vagrantless.libvirt.plugins.action import machine_state

UUID = '4f1e8c2a-7d1b-4c4e-9a7e-2b9f5c0d1e23'


@pytest.fixture
def state_dir(tmp_path):
    return str(tmp_path / 'machines' / 'lab_web')


def test_a_record_is_written_as_one_line_and_read_back_parsed(run_action, state_dir):
    up = dict(uuid=UUID, id=7, digest='9c1d0e2f3a4b5c6d')
    written = run_action(machine_state, dict(path=state_dir, marks=dict(up=up), read=True))
    assert written['changed'] and written['written'] == ['up']
    with open(os.path.join(state_dir, 'up')) as handle:
        assert handle.read() == UUID + ' 7 9c1d0e2f3a4b5c6d'  # the format up has always kept
    assert written['marks'] == dict(up=dict(uuid=UUID, id=7, digest='9c1d0e2f3a4b5c6d'), provisioned=None)
    again = run_action(machine_state, dict(path=state_dir, marks=dict(up=up)))
    assert not again['changed'] and again['written'] == []
    assert stat.S_IMODE(os.stat(state_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(state_dir, 'up')).st_mode) == 0o600


def test_text_marks_are_kept_as_given(run_action, state_dir):
    result = run_action(machine_state, dict(path=state_dir, marks=dict(up=UUID + ' 8 abc', note='any text'),
                                            read=True))
    assert result['written'] == ['note', 'up']
    assert result['marks']['up'] == dict(uuid=UUID, id=8, digest='abc')


def test_a_null_mark_is_removed_once(run_action, state_dir):
    run_action(machine_state, dict(path=state_dir, marks=dict(provisioned=dict(uuid=UUID), note='kept')))
    predicted = run_action(machine_state, dict(path=state_dir, marks=dict(provisioned=None)), check_mode=True)
    assert predicted['changed'] and predicted['removed'] == ['provisioned'] and predicted['written'] == []
    assert os.path.exists(os.path.join(state_dir, 'provisioned'))
    removed = run_action(machine_state, dict(path=state_dir, marks=dict(provisioned=None), read=True))
    assert removed['changed'] and removed['removed'] == ['provisioned'] and removed['marks']['provisioned'] is None
    assert sorted(os.listdir(state_dir)) == ['note']
    again = run_action(machine_state, dict(path=state_dir, marks=dict(provisioned=None)))
    assert not again['changed'] and again['removed'] == []


def test_check_mode_writes_nothing(run_action, state_dir):
    predicted = run_action(machine_state, dict(path=state_dir, marks=dict(provisioned=dict(uuid=UUID))),
                           check_mode=True)
    assert predicted['changed'] and predicted['written'] == ['provisioned']
    assert not os.path.exists(state_dir)


@pytest.mark.parametrize('text', [
    '', '\n', 'x 7 abc', UUID + ' 7', UUID + ' seven abc', UUID + ' 7 ABC!', UUID + '  7 abc',
    UUID + ' 7 abc extra', UUID + ' 7\nabc',
])
def test_a_mark_that_is_not_a_record_reads_as_none(run_action, state_dir, text):
    os.makedirs(state_dir)
    with open(os.path.join(state_dir, 'up'), 'w') as handle:
        handle.write(text)
    assert run_action(machine_state, dict(path=state_dir, read=True))['marks']['up'] is None


def test_no_directory_reads_as_no_records(run_action, state_dir):
    assert machine_state.read_records(state_dir) == dict(up=None, provisioned=None)


@pytest.mark.parametrize('marks, message', [
    (dict(up=dict(uuid=UUID, id=7)), 'marks.up: the fields are uuid, id, digest'),
    (dict(up=dict(uuid=UUID, id=7, digest='d', extra=1)), 'marks.up: the fields are'),
    (dict(up=dict(uuid='not-a-uuid', id=7, digest='d')), "marks.up.uuid: 'not-a-uuid' is not a valid uuid"),
    (dict(up=dict(uuid=UUID, id='7 8', digest='d')), 'marks.up.id'),
    (dict(up=dict(uuid=UUID, id=7, digest='d\n')), 'marks.up.digest'),
    (dict(note=dict(a=1)), 'marks.note: only the records provisioned, up are mappings'),
    ({'../escape': 'x'}, "'../escape' is not a plain file name"),
    ({'.hidden': 'x'}, 'not a plain file name'),
])
def test_bad_marks_are_refused_before_anything_is_written(run_action, state_dir, marks, message):
    result = run_action(machine_state, dict(path=state_dir, marks=marks))
    assert result['failed'] and message in result['msg']
    assert not os.path.exists(state_dir)


def test_the_lock_is_taken_and_given_back_and_the_records_read_under_it(run_action, state_dir):
    run_action(machine_state, dict(path=state_dir, marks=dict(provisioned=dict(uuid=UUID))))
    taken = run_action(machine_state, dict(path=state_dir, lock='acquired', read=True))
    assert not taken['changed'] and taken['waited'] < 1
    assert taken['marks'] == dict(up=None, provisioned=dict(uuid=UUID))
    assert os.path.exists(os.path.join(state_dir, machine_state.LOCK))
    released = run_action(machine_state, dict(path=state_dir, lock='released'))
    assert released['released'] and not released['changed'] and 'marks' not in released
    assert not os.path.exists(os.path.join(state_dir, machine_state.LOCK))


def test_check_mode_takes_no_lock_but_reads(run_action, state_dir):
    run_action(machine_state, dict(path=state_dir, marks=dict(provisioned=UUID)))
    taken = run_action(machine_state, dict(path=state_dir, lock='acquired', read=True), check_mode=True)
    assert taken['marks']['provisioned'] == dict(uuid=UUID)
    assert not os.path.exists(os.path.join(state_dir, machine_state.LOCK))


def test_forget_the_machine(run_action, state_dir):
    run_action(machine_state, dict(path=state_dir, marks=dict(up='x')))
    assert run_action(machine_state, dict(path=state_dir, state='absent'), check_mode=True)['changed']
    assert os.path.isdir(state_dir)
    assert run_action(machine_state, dict(path=state_dir, state='absent'))['changed']
    assert not os.path.exists(state_dir)
    assert not run_action(machine_state, dict(path=state_dir, state='absent'))['changed']


def test_unknown_options_are_refused(run_action, state_dir):
    result = run_action(machine_state, dict(path=state_dir, mark=dict(up='x')))
    assert result['failed'] and 'mark' in result['msg']
