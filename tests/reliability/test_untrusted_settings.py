# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Machine settings a later step of `up` would refuse (issue 15, class 9), given as host
variables to the real `up` role by ansible-playbook against the lab: each machine must fail
cleanly in its first step (the settings, or the role's argument validation), with a message
naming the variable and the item, and nothing in the lab may change - no pool, box, volume,
network or domain touched."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess

import pytest

import harness  # pylint: disable=import-error
from verdicts import CRASH  # pylint: disable=import-error

SETTINGS_TASKS = ("Check the machine's settings and derive its up sequence", 'Validating arguments against arg spec')
COMMON = dict(vagrantless_lab='vlt-rel-set', libvirt_driver=harness.DRIVER, libvirt_uri=harness.URI,
              libvirt_management_network_name='vlt-rel-set-mgmt', libvirt_management_network_address='10.91.77.0/24',
              vm_box='vlt-rel/tiny', vm_box_url=harness.LAB_BOX, vagrantless_state_dir=harness.WORK + '/state',
              vm_synced_folders=[dict(dest='/vagrant', disabled=True)])


def _port(**options):
    return [{'forwarded_port': dict(dict(guest=80, host=18080), **options)}]


def _private(**options):
    return [{'private_network': dict(dict(ip='10.91.78.10'), **options)}]


# (variables, what the message must name)
CASES = [
    (dict(libvirt_storage=[{'size': 'lots'}]), 'libvirt_storage[0].size'),
    (dict(libvirt_storage=[{'device': 'vdb'}, {'device': 'vdb'}]), 'libvirt_storage[1].device'),
    (dict(libvirt_storage=['10G']), 'libvirt_storage[0]'),
    (dict(libvirt_machine_virtual_size=0), 'libvirt_machine_virtual_size'),
    (dict(libvirt_memory=0), 'libvirt_memory'),
    (dict(vm_networks=_port(host_ip='10.0.0.300')), 'vm_networks[0].host_ip'),
    (dict(vm_networks=_port(guest_ip='-oProxyCommand=x')), 'vm_networks[0].guest_ip'),
    (dict(vm_networks=_port(host=0)), 'vm_networks[0].host'),
    (dict(vm_networks=['private_network']), 'vm_networks[0]'),
    (dict(vm_networks=_private(ip='10.91.78.400')), 'vm_networks[0].ip'),
    (dict(vm_networks=_private(mtu='big')), 'vm_networks[0].mtu'),
    (dict(vm_networks=_private(auto_config='perhaps')), 'vm_networks[0].auto_config'),
    (dict(vm_networks=_private(dhcp_start='10.91.99.1')), 'vm_networks[0].dhcp_start'),
    (dict(vm_networks=_private(network_name='vlt-rel a b')), 'vm_networks[0].network_name'),
    (dict(libvirt_management_network_address='10.91.77.0/31'), 'libvirt_management_network_address'),
    (dict(vm_hostname='web server'), 'vm_hostname'),
    (dict(vm_hostname='localhost\n'), 'vm_hostname'),
    (dict(vm_provision=[{'path': 5}]), 'vm_provision[0].path'),
    (dict(vm_provision=['echo hi']), 'vm_provision[0]'),
    (dict(vm_synced_folders=[{'dest': 'relative'}]), 'vm_synced_folders[0].dest'),
    (dict(vm_synced_folders=[{'dest': '/srv', 'owner': 'root;x'}]), 'vm_synced_folders[0].owner'),
    (dict(ssh_username='root -oProxyCommand=x'), 'ssh_username'),
    (dict(ssh_private_key_path='/tmp/vlt-rel-"key'), 'ssh_private_key_path'),
    (dict(vm_box='vlt-rel bad box'), 'vm_box'),
    (dict(vm_box_version='latest!'), 'vm_box_version'),
    (dict(libvirt_uri='', libvirt_connect_via_ssh=True, libvirt_host='hv1/system?socket=/tmp/x#'), 'libvirt_host'),
    (dict(libvirt_uri='qemu:///system\n'), 'libvirt_uri'),
    (dict(libvirt_default_prefix='vlt-rel-' + 'x' * 90), 'libvirt_default_prefix'),
]
HOSTS = ['m%02d' % index for index in range(len(CASES))]


@pytest.fixture(scope='module')
def refused():
    """Every case's machine through `up` in one ansible-playbook; (failures by host, lab changes)."""
    out = os.path.join(harness.WORK, 'settings')
    os.makedirs(out)
    inventory = os.path.join(out, 'hosts.yml')
    with open(inventory, 'w') as handle:  # JSON is YAML
        json.dump({'all': {'vars': COMMON, 'hosts': dict((host, variables) for host, (variables, unused)
                                                         in zip(HOSTS, CASES))}}, handle)
    playbook = os.path.join(out, 'play.yml')
    with open(playbook, 'w') as handle:
        json.dump([{'hosts': 'all', 'gather_facts': False, 'vars': {
            'ansible_connection': 'local', 'ansible_python_interpreter': harness.PYTHON},
            'tasks': [{'block': [{'ansible.builtin.include_role': {'name': 'vagrantless.libvirt.up'}}],
                       'rescue': [{'ansible.builtin.copy': {
                           'content': "{{ {'task': ansible_failed_task.name, 'result': ansible_failed_result}"
                                      " | to_json }}",
                           'dest': out + '/{{ inventory_hostname }}.json', 'mode': '0600'},
                           'delegate_to': 'localhost'}]}]}], handle)
    before = harness.snapshot()
    proc = subprocess.run([os.path.join(harness.VENV_BIN, 'ansible-playbook'), '-i', inventory, '-f', '5', playbook],
                          env=harness.ansible_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=600, check=False)
    mine, unused = harness.differences(before, harness.snapshot())
    failures = {}
    for host in HOSTS:
        path = os.path.join(out, host + '.json')
        if os.path.exists(path):
            with open(path) as handle:
                failures[host] = json.load(handle)
    return failures, mine, proc.stdout


@pytest.mark.parametrize('host, case', list(zip(HOSTS, CASES)), ids=['%s-%s' % (h, c[1]) for h, c in zip(HOSTS, CASES)])
def test_bad_setting_fails_first_naming_it(refused, host, case):
    failures, unused, output = refused
    failure = failures.get(host)
    message = str((failure or {}).get('result', {}).get('msg'))
    if failure is None:
        why = 'not refused: %s' % output[-2000:]
    elif not failure['task'].startswith(SETTINGS_TASKS):
        why = 'refused late, in %r: %s' % (failure['task'], message)
    elif CRASH.search(message) or 'Traceback' in json.dumps(failure):
        why = 'a crash: %s' % message
    elif case[1] not in message:
        why = 'the message does not name %s: %s' % (case[1], message)
    else:
        why = ''
    harness.RECORD['bad']['settings_' + host] = dict(ok=not why, why=why, module='up (machine_settings)',
                                                     msg=message[:500])
    assert not why, why


def test_the_lab_is_unchanged(refused):
    mine = refused[1]
    assert mine == [], 'bad settings changed the lab: %s' % '; '.join(mine)
