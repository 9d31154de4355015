# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The libvirt modules' action (plugin_utils/in_process.py, ModuleAction): on a local connection
the module runs in the worker process, and its task result is the one the module sent as usual
gives - proven by running each task both ways in one real ansible-playbook run (a task
``environment`` makes Ansible send the module) on libvirt's test driver."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import subprocess
import sys
import types

import pytest

from ansible.module_utils import basic
from ansible_collections.vagrantless.libvirt.plugins.plugin_utils import in_process

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
BIN = os.path.dirname(sys.executable)
TEST = 'test:///default'
# (name, module, arguments, check mode): changes with a diff, refusals, a secret, check mode
CASES = [
    ('pool_made', 'libvirt_pool', dict(name='vlt-u-p', path='/tmp/vlt-u-p'), False),
    ('pool_checked', 'libvirt_pool', dict(name='vlt-u-p', path='/tmp/vlt-u-p'), True),
    ('network_reservation', 'libvirt_network', dict(name='vlt-u-n', address='10.62.0.0/24', dhcp_hosts=[
        dict(mac='52:54:00:62:00:01', ip='10.62.0.10', name='m1')]), False),
    ('bad_choice', 'libvirt_pool', dict(name='vlt-u-p', type='nfs'), False),
    ('unknown_option', 'libvirt_volume', dict(name='v', pool='default', capacity='1G', sparse=True), False),
    ('bad_value', 'libvirt_network', dict(name='vlt-u-n\nx', address='10.62.0.0/24'), False),
    ('secret', 'libvirt_pool', dict(name='vlt-u-p', path='/tmp/vlt-u-p', password='s3cr3t-pw'), False),
    ('domain_absent', 'libvirt_domain', dict(name='vlt-u-none', state='absent'), False),
    ('lease_of_nothing', 'libvirt_lease_facts', dict(domain='vlt-u-none'), False),
]
UUID = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')


def _task(name, module, args, check_mode, shipped):
    task = {'name': '%s %s' % (name, 'shipped' if shipped else 'here'),
            'vagrantless.libvirt.' + module: dict(args, uri=TEST), 'register': 'r', 'ignore_errors': True,
            'check_mode': check_mode, 'diff': True}
    if shipped:
        task['environment'] = dict(VLT_SHIPPED='1')  # an environment: the module is sent as usual
    keep = {'ansible.builtin.set_fact': {'results': "{{ results | combine({%r: r}) }}" % (
        '%s_%s' % (name, 'shipped' if shipped else 'here'))}}
    return [task, keep]


def run_playbook(where, tasks, saved, play_vars=None):
    """(the value of the expression ``saved`` after ``tasks`` ran on localhost, the -vvv output)."""
    out = where / 'saved.json'
    tasks = tasks + [{'ansible.builtin.copy': dict(content='{{ %s | to_json }}' % saved, dest=str(out))}]
    playbook = where / 'play.yml'
    playbook.write_text(json.dumps([dict(hosts='localhost', gather_facts=False, vars=play_vars or {}, tasks=tasks)]))
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'),
               ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_INVENTORY_UNPARSED_WARNING='false')
    run = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-vvv', str(playbook)], env=env,
                         capture_output=True, text=True, check=False, timeout=300)
    assert out.exists(), run.stdout[-4000:] + run.stderr[-2000:]
    (where / 'output.txt').write_text(run.stdout)
    return json.loads(out.read_text()), run.stdout


@pytest.fixture(scope='module')
def both_ways(tmp_path_factory):
    """(results by case and way, the -vvv output) of one ansible-playbook run of every case both ways."""
    tasks = []
    for name, module, args, check_mode in CASES:
        for shipped in (False, True):
            tasks += _task(name, module, args, check_mode, shipped)
    return run_playbook(tmp_path_factory.mktemp('in_process'), tasks, 'results', dict(results={}))


def _same_apart_from_uuids(value):
    return json.loads(UUID.sub('UUID', json.dumps(value, sort_keys=True)))


@pytest.mark.parametrize('case', [case[0] for case in CASES])
def test_the_result_here_is_the_result_sent(both_ways, case):
    results, unused = both_ways
    here, shipped = results[case + '_here'], results[case + '_shipped']
    assert _same_apart_from_uuids(here) == _same_apart_from_uuids(shipped)


def test_each_case_says_what_it_is_about(both_ways):
    results, unused = both_ways
    assert results['pool_made_here']['changed'] and results['pool_made_here']['diff']
    assert results['pool_checked_here']['changed'] and results['pool_checked_here']['diff']
    assert results['network_reservation_here']['network']['name'] == 'vlt-u-n'
    assert 'value of type must be one of' in results['bad_choice_here']['msg']
    assert 'Unsupported parameters' in results['unknown_option_here']['msg']
    assert results['bad_value_here']['failed'] and 'name' in results['bad_value_here']['msg']
    assert not results['domain_absent_here']['changed']


def test_only_the_shipped_ones_are_sent(both_ways):
    unused, output = both_ways
    sent = dict((section.split(']')[0], section.count('Using module file')) for section in output.split('TASK [')[1:])
    for case in CASES:
        assert (sent[case[0] + ' here'], sent[case[0] + ' shipped']) == (0, 1), case[0]


def test_no_secret_either_way(both_ways):
    results, output = both_ways
    assert 's3cr3t-pw' not in output and 's3cr3t-pw' not in json.dumps(results)


def test_a_loop_runs_each_item_afresh_in_one_worker(tmp_path):
    """The items of a loop run one after the other in the same worker process: nothing of one run
    (arguments, warnings) reaches the next."""
    results, output = run_playbook(tmp_path, [
        {'vagrantless.libvirt.libvirt_pool': dict(uri=TEST, name='{{ item }}', path='/tmp/{{ item }}'),
         'loop': ['vlt-u-a', 'vlt-u-b'], 'register': 'r'}], 'r.results')
    assert output.count('Using module file') == 2  # the copy's stat and copy, no pool run sent
    assert [(item['pool']['name'], item['pool']['path'], item['changed']) for item in results] == [
        ('vlt-u-a', '/tmp/vlt-u-a', True), ('vlt-u-b', '/tmp/vlt-u-b', True)]


# -- in_process.execute on its own: how a module's process ends -------------------------------------
MODULES = dict(
    ends_well='from ansible.module_utils.basic import AnsibleModule\n'
              'def main():\n'
              '    module = AnsibleModule(argument_spec=dict(word=dict(type="str")))\n'
              '    module.warn("careful")\n'
              '    module.exit_json(changed=True, said=module.params["word"])\n',
    dies='def main():\n    raise RuntimeError("the module broke")\n',
    prints='import sys\ndef main():\n    print("not json")\n    sys.exit(3)\n',
    says='import sys\ndef main():\n    sys.exit("cannot go on")\n',
)


@pytest.fixture
def action(tmp_path, monkeypatch):
    """An action whose module is one of MODULES (a Python module on sys.path)."""
    for name, text in MODULES.items():
        (tmp_path / ('vlt_in_process_%s.py' % name)).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(in_process, 'module_file', lambda resolved: 'vlt_in_process_' + resolved.split('.')[-1])
    made = in_process.ModuleAction.__new__(in_process.ModuleAction)
    made._used_interpreter = None
    made._task = types.SimpleNamespace(resolved_action='x.y.ends_well')
    made._update_module_args = lambda name, args, task_vars: args.update(_ansible_module_name=name)
    return made


def test_a_module_that_exits_gives_its_result_and_warnings(action):
    result = in_process.execute(action, dict(word='hello'), {})
    assert result['changed'] and result['said'] == 'hello'
    assert result['invocation']['module_args'] == dict(word='hello')
    assert [warning.event.msg for warning in result['warnings']] == ['careful']  # in the result, as sent
    assert basic._ANSIBLE_ARGS is None and basic._ANSIBLE_PROFILE is None  # nothing left for the next run


def test_a_module_that_dies_fails_with_its_traceback(action):
    action._task.resolved_action = 'x.y.dies'
    result = in_process.execute(action, {}, {})
    assert result['failed'] and 'RuntimeError: the module broke' in result['module_stderr']
    assert result['rc'] == 1


def test_a_module_that_prints_no_result_fails_with_what_it_printed(action):
    action._task.resolved_action = 'x.y.prints'
    result = in_process.execute(action, {}, {})
    assert result['failed'] and result['module_stdout'].strip() == 'not json' and result['rc'] == 3


def test_a_module_that_exits_with_a_text_fails_with_it(action):
    action._task.resolved_action = 'x.y.says'
    result = in_process.execute(action, {}, {})
    assert result['failed'] and result['module_stderr'] == 'cannot go on\n' and result['rc'] == 1
