# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The machine_connection lookup: the machine's connection options with libvirt_password read at
task time (templated, never in a fact), through a real play on localhost and libvirt's test
driver, as the verb roles' module_defaults use it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.vagrantless.libvirt.plugins.lookup import machine_connection

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))

INVENTORY = """machines:
  vars:
    ansible_connection: local
    ansible_python_interpreter: {python}
    libvirt_uri: test:///default
    vagrantless_state_dir: {tmp}/state
    vagrantless_lab: unit
  hosts:
    web:
      libvirt_password: "{{{{ vault_like_secret }}}}"
      vault_like_secret: s3cret-pw
    db: {{}}
"""

PLAY = """- name: The lookup as the roles use it
  hosts: machines
  gather_facts: false
  tasks:
    - name: Settings
      vagrantless.libvirt.machine_settings:

    - name: What the lookup gives
      ansible.builtin.copy:
        content: "{{ {'lookup': lookup('vagrantless.libvirt.machine_connection'), 'fact': vagrantless_machine} | to_json }}"
        dest: "{{ out }}/{{ inventory_hostname }}.json"
        mode: "0600"

    - name: A module of the action group, through module_defaults
      module_defaults:
        group/vagrantless.libvirt.libvirt: "{{ lookup('vagrantless.libvirt.machine_connection') }}"
      vagrantless.libvirt.libvirt_domain:
        name: test
        only_existing: true
      check_mode: true
      register: seen

    - name: It reached the test driver
      ansible.builtin.assert:
        that: seen.domain.state == 'running'
"""


def test_with_password_adds_it_only_when_set():
    base = dict(uri='qemu:///system')
    assert machine_connection.with_password(base, False) == base
    assert machine_connection.with_password(base, True, 'pw') == dict(uri='qemu:///system', password='pw')
    assert machine_connection.with_password(base, True, None) == dict(uri='qemu:///system', password=None)
    assert base == dict(uri='qemu:///system')  # the fact's own dict is never changed


def test_terms_and_a_missing_machine_are_refused():
    lookup = machine_connection.LookupModule()
    with pytest.raises(Exception, match='takes no terms'):
        lookup.run(['x'], variables={})
    with pytest.raises(Exception, match='run vagrantless.libvirt.machine_settings first'):
        lookup.run([], variables={})


def test_the_roles_connection_through_a_real_play(tmp_path):
    (tmp_path / 'inventory.yml').write_text(INVENTORY.format(python=sys.executable, tmp=tmp_path))
    (tmp_path / 'play.yml').write_text(PLAY)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'))
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', str(tmp_path / 'inventory.yml'),
               str(tmp_path / 'play.yml'), '-e', 'out=%s' % tmp_path]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 's3cret-pw' not in proc.stdout + proc.stderr
    web = json.loads((tmp_path / 'web.json').read_text())
    assert web['lookup']['password'] == 's3cret-pw' and web['lookup']['uri'] == 'test:///default'
    assert 'password' not in web['fact']['connection']
    db = json.loads((tmp_path / 'db.json').read_text())
    assert 'password' not in db['lookup'] and db['lookup'] == db['fact']['connection']
