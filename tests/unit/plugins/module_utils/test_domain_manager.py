# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt_domain's DomainManager on libvirt's test driver: check mode predicts, the real run
does it, the second run changes nothing; the life cycle between its states, a definition a
running domain takes only at its next start, removal with what the domain's record lists."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import libvirt
import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.vagrantless.libvirt.plugins.module_utils import domain as domains
from ansible_collections.vagrantless.libvirt.plugins.module_utils import domain_options
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import LibvirtOperationError

NAME = 'vlt-dom-unit'


@pytest.fixture(autouse=True)
def fresh(no_domain):
    no_domain(NAME)


def params(**options):
    """The module's parameters, defaults filled in as AnsibleModule does."""
    options.setdefault('name', NAME)
    result = ArgumentSpecValidator(domain_options.argument_spec()).validate(options)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def run(conn, check_mode=False, **options):
    return domains.DomainManager(params(**options), check_mode).ensure(conn)


def test_check_mode_predicts_the_real_run_and_the_second_changes_nothing(conn):
    options = dict(state='running', memory=256, cpus=2, metadata=dict(lab='unit', machine='web'))
    predicted = run(conn, check_mode=True, **options)
    assert predicted['changed'] and predicted['domain'] == dict(name=NAME)
    assert domains.find(conn, NAME) is None
    made = run(conn, **options)
    assert made['changed'] and made['domain']['state'] == 'running' and made['domain']['id'] > 0
    assert [entry['after'] for entry in made['diff']] == [entry['after'] for entry in predicted['diff']]
    again = run(conn, **options)
    assert not again['changed'] and again['domain']['uuid'] == made['domain']['uuid']
    assert not run(conn, check_mode=True, **options)['changed']


def test_present_defines_a_new_domain_stopped_and_leaves_a_running_one_running(conn):
    assert run(conn, state='present')['domain']['state'] == 'stopped'
    run(conn, state='running')
    result = run(conn, state='present')
    assert not result['changed'] and result['domain']['state'] == 'running'


@pytest.mark.parametrize('path', [
    ['running', 'paused', 'running'],
    ['running', 'saved', 'running'],
    ['running', 'paused', 'saved', 'stopped'],
    ['stopped', 'paused', 'stopped'],
])
def test_the_life_cycle(conn, path):
    run(conn, state='present')
    for state in path:
        predicted = run(conn, check_mode=True, state=state)
        result = run(conn, state=state)
        assert result['domain']['state'] == state and predicted['changed'] == result['changed']
        assert not run(conn, state=state)['changed']


def test_stopping_reports_how(conn):
    run(conn, state='running')
    stopped = run(conn, state='stopped', graceful_timeout=5)
    assert stopped['changed'] and stopped['shutdown'] in ('graceful', 'forced')
    assert stopped['shutdown_seconds'] >= 0 and stopped['domain']['state'] == 'stopped'
    assert run(conn, state='stopped')['shutdown'] is None


def test_a_stopped_domain_cannot_be_saved(conn):
    run(conn, state='present')
    with pytest.raises(LibvirtOperationError, match='is stopped: only a running or paused domain can be saved'):
        run(conn, state='saved')


def test_a_change_a_running_domain_takes_at_its_next_start(conn):
    run(conn, state='running', memory=256)
    lagging = run(conn, state='running', memory=384)
    assert lagging['changed'] and lagging['restart_required'] and lagging['pending_restart']
    assert run(conn, state='running', memory=384)['restart_required']  # said again while it lags
    restarted = run(conn, state='running', memory=384, restart=True)
    assert restarted['changed'] and not restarted['restart_required'] and restarted['shutdown']
    assert not run(conn, state='running', memory=384)['restart_required']


def test_autostart(conn):
    made = run(conn, state='present', autostart=True)
    assert made['changed'] and made['domain']['autostart'] is True
    assert not run(conn, state='present', autostart=True)['changed']
    assert run(conn, state='present', autostart=False)['domain']['autostart'] is False


def test_only_existing_leaves_a_missing_domain_alone(conn):
    result = run(conn, state='stopped', only_existing=True)
    assert not result['changed'] and result['domain'] == {}
    assert domains.find(conn, NAME) is None


def test_absent_removes_it_and_returns_its_record(conn, monkeypatch):
    # the test driver takes none of the NVRAM and checkpoint flags a real undefine passes
    monkeypatch.setattr(domains.DomainManager, '_remove', staticmethod(lambda domain: undefine_test(conn, domain)))
    run(conn, state='running', metadata=dict(lab='unit', machine='web'))
    predicted = run(conn, check_mode=True, state='absent')
    assert predicted['changed'] and domains.find(conn, NAME) is not None
    removed = run(conn, state='absent', remove_volumes=True)
    assert removed['changed'] and removed['removed_metadata'] == dict(lab='unit', machine='web')
    assert removed['removed_volumes'] == [] and domains.find(conn, NAME) is None
    assert not run(conn, state='absent')['changed']


def undefine_test(conn, domain):
    if domain.isActive():
        domain.destroy()
    domain.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)


class LibvirtSays(libvirt.libvirtError):
    """A libvirt error with the code given."""

    def __init__(self, code):
        libvirt.libvirtError.__init__(self, 'libvirt error %d' % code)
        self.code = code

    def get_error_code(self):
        return self.code


def test_a_race_with_another_run_is_converged_once_more(conn, monkeypatch):
    manager = domains.DomainManager(params(state='running'), False)
    real = manager._ensure
    calls = []

    def racing(connection):
        calls.append(1)
        if len(calls) == 1:
            run(conn, state='running')  # the other run wins
            raise LibvirtSays(libvirt.VIR_ERR_DOM_EXIST)  # "already exists"
        return real(connection)

    monkeypatch.setattr(manager, '_ensure', racing)
    result = manager.ensure(conn)
    assert len(calls) == 2 and result['domain']['state'] == 'running' and not result['changed']


def test_other_libvirt_errors_are_not_retried(conn, monkeypatch):
    manager = domains.DomainManager(params(state='running'), False)

    calls = []

    def failing(connection):
        calls.append(1)
        raise LibvirtSays(libvirt.VIR_ERR_INTERNAL_ERROR)

    monkeypatch.setattr(manager, '_ensure', failing)
    with pytest.raises(LibvirtSays):
        manager.ensure(conn)
    assert len(calls) == 1
