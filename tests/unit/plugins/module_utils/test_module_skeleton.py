# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module skeleton every module shares: run_module (build, converge, exit or fail
cleanly), the Manager base class (a fresh result, the retry after a race), one diff shape
(DiffRecorder), and the life-cycle steps of lifecycle.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import libvirt
import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import common, lifecycle, xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils import volume as volumes
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError


def libvirt_error(code, message='it failed'):
    error = libvirt.libvirtError(message)
    error.err = (code, 0, message, 2, None, None, None, 0, 0)
    return error


class Exited(Exception):
    """What exit_json and fail_json end in (SystemExit in a real module)."""


class FakeModule(object):
    def __init__(self, params=None, check_mode=False):
        self.params = params or {}
        self.check_mode = check_mode
        self.warnings = []
        self.exited = self.failed = None

    def warn(self, text):
        self.warnings.append(text)

    def exit_json(self, **result):
        self.exited = result
        raise Exited()

    def fail_json(self, **result):
        self.failed = result
        raise Exited()


class Recorder(common.Manager):
    """A manager that records what run_module does with it."""

    RESULT = dict(changed=False, items=[])
    closed = []

    def __init__(self, params, check_mode):
        super(Recorder, self).__init__(params, check_mode)
        if params.get('bad'):
            raise ValidationError('bad', params['bad'], 'nothing bad')

    def target(self, module):
        return 'the target'

    def ensure(self, conn):
        if self.params.get('fail_with'):
            raise self.params['fail_with']
        self.result['items'].append(conn)
        self.diff.text('thing t', 'listing', '', 'a\n')
        return self.finish(changed=True, warnings=self.params.get('warnings', []))

    def close(self):
        Recorder.closed.append(self)


def run(params, check_mode=False):
    module = FakeModule(params, check_mode)
    Recorder.closed = []
    with pytest.raises(Exited):
        common.run_module(module, Recorder, 'thing t')
    return module


# -- run_module ----------------------------------------------------------------------------------
def test_run_module_exits_with_the_managers_result_and_its_diff():
    module = run(dict())
    assert module.exited == dict(changed=True, items=['the target'], diff=[
        dict(before='', after='a\n', before_header='thing t (listing)', after_header='thing t (listing)')])
    assert len(Recorder.closed) == 1


def test_run_module_turns_result_warnings_into_module_warnings():
    module = run(dict(warnings=['look out']))
    assert module.warnings == ['look out'] and 'warnings' not in module.exited


def test_run_module_refuses_bad_input_naming_the_option():
    module = run(dict(bad='x'))
    assert module.failed['option'] == 'bad' and module.exited is None
    assert Recorder.closed == []  # no manager was made: nothing to close


def test_run_module_reports_libvirt_errors_and_closes_the_manager():
    module = run(dict(fail_with=libvirt_error(libvirt.VIR_ERR_OPERATION_FAILED, 'no way')))
    assert module.failed == dict(msg='thing t: no way', libvirt_error_code=libvirt.VIR_ERR_OPERATION_FAILED)
    assert len(Recorder.closed) == 1


def test_run_module_lets_a_crash_through_but_still_closes():
    module = FakeModule(dict(fail_with=KeyError('bug')))
    Recorder.closed = []
    with pytest.raises(KeyError):
        common.run_module(module, Recorder, 'thing t')
    assert len(Recorder.closed) == 1


def test_the_default_manager_is_built_from_params_and_check_mode():
    module = FakeModule(dict(name='n'), check_mode=True)
    manager = Recorder.from_module(module)
    assert manager.params == dict(name='n') and manager.check_mode is True


# -- Manager -------------------------------------------------------------------------------------
def test_a_manager_must_say_how_it_converges():
    with pytest.raises(NotImplementedError):
        common.Manager({}, False).ensure(None)


def test_each_manager_starts_from_its_own_copy_of_the_result():
    first, second = Recorder({}, False), Recorder({}, False)
    first.result['items'].append('x')
    assert second.result['items'] == [] and Recorder.RESULT['items'] == []


def race(codes, check_mode=False):
    """A manager whose first converge fails with each code of ``codes`` in turn."""
    manager = Recorder({}, check_mode)
    calls = []

    def converge(value):
        calls.append(value)
        manager.result['changed'] = True
        manager.diff.text('thing t', 'listing', '', 'try %d\n' % len(calls))
        if len(calls) <= len(codes):
            raise libvirt_error(codes[len(calls) - 1])
        return manager.finish()
    return manager, converge, calls


def test_a_race_is_retried_once_from_a_fresh_result():
    manager, converge, calls = race([libvirt.VIR_ERR_OPERATION_INVALID])
    result = manager.retrying_race((libvirt.VIR_ERR_OPERATION_INVALID,), converge, 'v')
    assert calls == ['v', 'v']
    assert [entry['after'] for entry in result['diff']] == ['try 2\n']  # the first try's diff is gone


def test_races_are_retried_until_one_try_is_left():
    manager, converge, calls = race([libvirt.VIR_ERR_OPERATION_INVALID] * (manager_tries() - 1))
    result = manager.retrying_race((libvirt.VIR_ERR_OPERATION_INVALID,), converge, 'v')
    assert len(calls) == manager_tries()
    assert [entry['after'] for entry in result['diff']] == ['try %d\n' % manager_tries()]


def test_the_last_try_lost_to_a_race_fails():
    manager, converge, calls = race([libvirt.VIR_ERR_OPERATION_INVALID] * manager_tries())
    with pytest.raises(libvirt.libvirtError):
        manager.retrying_race((libvirt.VIR_ERR_OPERATION_INVALID,), converge, 'v')
    assert len(calls) == manager_tries()


def manager_tries():
    return common.Manager.RACE_TRIES


@pytest.mark.parametrize('code, check_mode', [(libvirt.VIR_ERR_NO_DOMAIN, False),
                                              (libvirt.VIR_ERR_OPERATION_INVALID, True)])
def test_other_errors_and_check_mode_are_not_retried(code, check_mode):
    manager, converge, calls = race([code], check_mode)
    with pytest.raises(libvirt.libvirtError):
        manager.retrying_race((libvirt.VIR_ERR_OPERATION_INVALID,), converge, 'v')
    assert len(calls) == 1


# -- DiffRecorder --------------------------------------------------------------------------------
def test_every_entry_is_headed_what_and_part():
    recorder = common.DiffRecorder()
    recorder.resource('pool p', xmltree.diff(None, xmltree.element('pool')), None, dict(active=True))
    assert recorder.entries == [
        dict(before='', after='<pool/>\n', before_header='pool p (definition)', after_header='pool p (definition)'),
        dict(before='', after='active: True\n', before_header='pool p (state)', after_header='pool p (state)')]


def test_an_unchanged_state_is_not_shown():
    recorder = common.DiffRecorder()
    recorder.state('domain d', dict(state='running'), dict(state='running'))
    recorder.resource('domain d', xmltree.diff(None, None), dict(state='x'), dict(state='x'))
    assert [entry['before_header'] for entry in recorder.entries] == ['domain d (definition)']


def test_a_volume_diff_is_a_list_like_every_other(conn):
    params = dict(name='vlt-unit-skeleton.img', pool='default-pool', state='present', capacity='1M', format=None,
                  backing_volume=None, backing_pool=None, backing_format=None, clone_from=None, upload=None,
                  allow_existing=False, image=None)
    predicted = volumes.VolumeManager(params, True).ensure(conn)
    assert [entry['before_header'] for entry in predicted['diff']] == ['volume vlt-unit-skeleton.img (definition)']
    absent = volumes.VolumeManager(dict(params, state='absent'), True).ensure(conn)
    assert absent['diff'] == [dict(before='', after='', before_header='volume vlt-unit-skeleton.img (definition)',
                                   after_header='volume vlt-unit-skeleton.img (definition)')]


# -- lifecycle -----------------------------------------------------------------------------------
def test_run_state_and_start_or_resume(test_domain):
    domain = test_domain('vlt-unit-lifecycle', running=False)
    assert lifecycle.run_state(None) is None
    assert lifecycle.run_state(domain) == 'stopped'
    lifecycle.start_or_resume(domain, 'stopped')
    assert lifecycle.run_state(domain) == 'running'
    domain.suspend()
    assert lifecycle.run_state(domain) == 'paused'
    lifecycle.start_or_resume(domain, 'paused')
    assert lifecycle.run_state(domain) == 'running'


class FakeObject(object):
    """A libvirt object whose calls fail as told; counts what was done to it."""

    def __init__(self, active=True, fail_create=None, fail_undefine=0):
        self.active = active
        self.fail_create = fail_create
        self.fail_undefine = fail_undefine
        self.calls = []

    def isActive(self):  # noqa: N802 (libvirt's name)
        return self.active

    def create(self):
        self.calls.append('create')
        if self.fail_create is not None:
            raise libvirt_error(self.fail_create)

    def destroy(self):
        self.calls.append('destroy')
        self.active = False

    def undefine(self):
        self.calls.append('undefine')
        if self.fail_undefine:
            self.fail_undefine -= 1
            raise libvirt_error(libvirt.VIR_ERR_OPERATION_FAILED)

    def undefineFlags(self, flags):  # noqa: N802 (libvirt's name)
        self.calls.append('undefineFlags %d' % flags)
        if self.fail_undefine:
            self.fail_undefine -= 1
            raise libvirt_error(libvirt.VIR_ERR_OPERATION_FAILED)


def test_a_start_another_run_made_first_is_no_error():
    lifecycle.start(FakeObject(active=True, fail_create=libvirt.VIR_ERR_OPERATION_INVALID))
    with pytest.raises(libvirt.libvirtError):  # not running after all: that failure is real
        lifecycle.start(FakeObject(active=False, fail_create=libvirt.VIR_ERR_OPERATION_INVALID))
    with pytest.raises(libvirt.libvirtError):
        lifecycle.start(FakeObject(active=True, fail_create=libvirt.VIR_ERR_INTERNAL_ERROR))


def test_destroy_and_undefine_stops_first_and_takes_an_undefine_with_flags():
    running, stopped = FakeObject(active=True), FakeObject(active=False)
    lifecycle.destroy_and_undefine(running)
    lifecycle.destroy_and_undefine(stopped, lambda: stopped.calls.append('undefineFlags'))
    assert running.calls == ['destroy', 'undefine'] and stopped.calls == ['undefineFlags']


def test_remove_racing_tolerates_another_run_and_retries_while_it_exists():
    gone = FakeObject(fail_undefine=1)
    lifecycle.remove_racing(gone, lambda: None)  # removed meanwhile by another run
    flaky = FakeObject(fail_undefine=2)
    lifecycle.remove_racing(flaky, lambda: flaky)
    assert flaky.calls.count('undefine') == 3
    stuck = FakeObject(fail_undefine=99)
    with pytest.raises(libvirt.libvirtError):
        lifecycle.remove_racing(stuck, lambda: stuck)
    assert stuck.calls.count('undefine') == lifecycle.REMOVE_TRIES


def test_remove_racing_undefines_with_the_flags_given_the_object_found_again():
    first, again = FakeObject(fail_undefine=1), FakeObject(active=False)
    lifecycle.remove_racing(first, lambda: again, undefine_flags=6)
    assert first.calls == ['destroy', 'undefineFlags 6'] and again.calls == ['undefineFlags 6']


def test_undo_never_hides_the_failure_that_called_it():
    stuck = FakeObject(fail_undefine=1)
    lifecycle.undo(stuck)
    assert stuck.calls == ['destroy', 'undefine']
