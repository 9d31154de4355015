# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The up role's rsync task, run for real by ansible-playbook: rsync splits its ``-e`` string
itself, so the proof is what ssh receives. A stand-in ``ssh`` first on PATH records its
arguments (and fails, so nothing is sent anywhere): a key path with a space, or one holding
`` -o ProxyCommand=...``, must reach ssh as ONE argument after ``-i``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
BIN = os.path.dirname(sys.executable)
RECORDER = """#!%s
import json, sys
with open(%r, 'a') as handle:
    handle.write(json.dumps(sys.argv[1:]) + '\\n')
sys.exit(255)
"""


def ssh_arguments(tmp_path, key, user='vagrant', dest='/vagrant', jump=None):
    record = tmp_path / 'ssh-argv.jsonl'
    fake_bin = tmp_path / 'bin'
    fake_bin.mkdir()
    (fake_bin / 'ssh').write_text(RECORDER % (sys.executable, str(record)))
    (fake_bin / 'ssh').chmod(0o755)
    src = tmp_path / 'project'
    src.mkdir()
    (src / 'file').write_text('x')
    machine = dict(synced_folders=[dict(src=str(src), dest=dest, type='rsync', exclude=['.vagrant/'], args=[],
                                        owner=None, group=None)], ssh=dict(jump=jump))
    play = [dict(hosts='localhost', gather_facts=False, vars=dict(
        ansible_connection='local', ansible_python_interpreter=sys.executable, ansible_host='127.0.0.1',
        ansible_port=2222, ansible_user=user, ansible_ssh_private_key_file=key, vagrantless_machine=machine),
        vars_files=[os.path.join(ROOT, 'roles', 'up', 'vars', 'main.yml')],  # the role's own (up_become)
        tasks=[{'ansible.builtin.include_tasks': os.path.join(ROOT, 'roles', 'up', 'tasks', 'synced_folders.yml')}])]
    playbook = tmp_path / 'play.yml'
    playbook.write_text(json.dumps(play))
    env = dict(os.environ, PATH='%s:%s:%s' % (fake_bin, BIN, os.environ.get('PATH', '')), ANSIBLE_NOCOLOR='1',
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'), ANSIBLE_LOCALHOST_WARNING='false',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='false')
    result = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', str(playbook)], env=env,
                            capture_output=True, text=True, check=False, timeout=120)
    assert record.exists(), 'ssh was never run:\n%s\n%s' % (result.stdout[-3000:], result.stderr[-2000:])
    return json.loads(record.read_text().splitlines()[0])


@pytest.mark.skipif(shutil.which('rsync') is None, reason='rsync is not installed')
@pytest.mark.parametrize('key', ['/tmp/keys dir/id ed25519', '/tmp/k -o ProxyCommand=touch${IFS}/tmp/vlt-pwned',
                                 "/tmp/it's \"quoted\" key", '-oProxyCommand=x'])
def test_key_path_is_one_ssh_argument(tmp_path, key):
    argv = ssh_arguments(tmp_path, key)
    assert argv[argv.index('-i') + 1] == key
    assert not any(arg.startswith('ProxyCommand') for arg in argv)
    assert argv[:3] == ['-p', '2222', '-o']
    assert not os.path.exists('/tmp/vlt-pwned')


@pytest.mark.skipif(shutil.which('rsync') is None, reason='rsync is not installed')
def test_no_key_no_identity_option(tmp_path):
    argv = ssh_arguments(tmp_path, '')
    assert '-i' not in argv


@pytest.mark.skipif(shutil.which('rsync') is None, reason='rsync is not installed')
def test_the_jump_through_the_hypervisor_is_one_ssh_option(tmp_path):
    from ansible_collections.vagrantless.libvirt.plugins.module_utils import jump  # pylint: disable=import-outside-toplevel
    through = jump.guest_jump(jump.Hop('hv1', '10.77.0.1', user='root', key="/keys/it's mine"))
    argv = ssh_arguments(tmp_path, '/tmp/key', jump=through)
    assert argv[argv.index('ProxyCommand=' + through['proxy_command']) - 1] == '-o'
