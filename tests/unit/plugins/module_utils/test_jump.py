# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The jump to a remote hypervisor's guests: the hop read from a URI or from the inventory,
the ProxyCommand built from it (run through a shell by a stand-in ssh that prints the
arguments it got), vagrant-libvirt's proxy_command, and hostile values refused by name."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import jump
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError


@pytest.fixture
def stand_in_ssh(tmp_path):
    """A directory whose ``ssh`` prints each argument it got on a line of its own."""
    ssh = tmp_path / 'ssh'
    ssh.write_text('#!/bin/sh\nfor arg in "$@"; do printf "%s\\n" "$arg"; done\n')
    ssh.chmod(0o755)
    return str(tmp_path)


def run_proxy_command(command, path, host='10.0.0.5', port='22'):
    """What ssh would run for ``command``: %h and %p replaced, %% made %, through the shell."""
    expanded = command.replace('%h', host).replace('%p', port).replace('%%', '%')
    answer = subprocess.run(['sh', '-c', expanded], env=dict(os.environ, PATH=path + ':' + os.environ['PATH']),
                            stdout=subprocess.PIPE, universal_newlines=True, check=True)
    return answer.stdout.splitlines()


def test_a_local_or_non_ssh_uri_needs_no_jump():
    for uri in ('qemu:///system', 'qemu+ssh://localhost/system', 'qemu+tcp://hv1/system',
                'qemu+ssh://root@127.0.0.1/system?keyfile=/k'):
        assert jump.from_uri(uri) is None, uri


def test_the_hop_of_an_ssh_uri():
    hop = jump.from_uri('qemu+ssh://admin@hv1.example.com:2222/system?no_verify=1&keyfile=/keys/hv%20key')
    assert (hop.label, hop.host, hop.port, hop.user, hop.key) == (
        'hv1.example.com', 'hv1.example.com', 2222, 'admin', '/keys/hv key')
    assert hop.target == 'admin@hv1.example.com:2222'
    assert hop.ssh_argv('true') == ['ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-p', '2222',
                                    '-l', 'admin', '-i', '/keys/hv key', '-o', 'IdentitiesOnly=yes',
                                    '-o', 'StrictHostKeyChecking=no', '--', 'hv1.example.com', 'true']


def test_the_hop_of_an_inventory_host():
    hop = jump.from_inventory('hv1', dict(ansible_host='10.77.0.1', ansible_port='2200', ansible_user='root',
                                          ansible_ssh_private_key_file='/k/id', ansible_host_key_checking=False,
                                          ansible_ssh_common_args='-o "UserKnownHostsFile=/k/known hosts"'))
    assert hop.label == 'hv1' and hop.target == 'root@10.77.0.1:2200'
    assert hop.ssh_argv()[-6:] == ['-o', 'UserKnownHostsFile=/k/known hosts', '-o', 'StrictHostKeyChecking=no',
                                   '--', '10.77.0.1']
    assert jump.from_inventory('hv2', {}).host == 'hv2'


@pytest.mark.parametrize('name, variables', [
    ('localhost', {}), ('hv1', dict(ansible_connection='local')), ('hv1', dict(ansible_host='127.0.0.1')),
])
def test_the_controller_itself_needs_no_jump(name, variables):
    assert jump.from_inventory(name, variables) is None


def test_the_proxy_command_reaches_the_guest_through_the_hop_with_each_argument_whole(stand_in_ssh):
    hop = jump.Hop('hv1', 'hv1', port=22, user='root', key="/keys/it's 100% mine",
                   options=['-o', 'UserKnownHostsFile=/k/known hosts'])
    command = jump.guest_jump(hop)['proxy_command']
    assert run_proxy_command(command, stand_in_ssh) == [
        '-W', '10.0.0.5:22', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-p', '22', '-l', 'root',
        '-i', "/keys/it's 100% mine", '-o', 'IdentitiesOnly=yes', '-o', 'UserKnownHostsFile=/k/known hosts',
        '--', 'hv1']


def test_the_fact_holds_the_options_the_check_and_the_names():
    found = jump.guest_jump(jump.Hop('hv1', '10.77.0.1', user='root'))
    assert found['hypervisor'] == 'hv1' and found['target'] == 'root@10.77.0.1'
    assert found['ssh_options'] == ['-o', 'ProxyCommand=' + found['proxy_command']]
    assert found['check'][-2:] == ['10.77.0.1', 'true']
    assert jump.guest_jump(None) is None


def test_vagrant_libvirts_proxy_command_with_its_placeholders(stand_in_ssh):
    hop = jump.Hop('hv1', 'hv1.example.com', user='admin', key='/k/my key')
    found = jump.guest_jump(hop, 'ssh {host} -l {username} -i {id_ssh_key_file} -W %h:%p')
    assert found['proxy_command'] == "ssh hv1.example.com -l admin -i '/k/my key' -W %h:%p"
    assert run_proxy_command(found['proxy_command'], stand_in_ssh) == [
        'hv1.example.com', '-l', 'admin', '-i', '/k/my key', '-W', '10.0.0.5:22']
    assert jump.guest_jump(None, 'nc -X connect -x proxy:3128 %h %p')['check'] is None


@pytest.mark.parametrize('template, message', [
    ('   ', 'one line'), ('ssh hv1 -W %h:%p\nrm -rf /', 'one line'), (['ssh'], 'one line'),
    ('ssh {host} -p {port} -W %h:%p', '{port} is unknown'),
])
def test_a_bad_proxy_command_is_refused_by_name(template, message):
    hop = jump.Hop('hv1', 'hv1.example.com')
    with pytest.raises(ValidationError) as refused:
        jump.guest_jump(hop, template)
    assert refused.value.option == 'libvirt_proxy_command' and message in str(refused.value)


@pytest.mark.parametrize('variables, option', [
    (dict(ansible_host='-oProxyCommand=touch /tmp/x'), 'the SSH host of hypervisor hv1'),
    (dict(ansible_host='hv1; reboot'), 'the SSH host of hypervisor hv1'),
    (dict(ansible_user='-F/tmp/config'), 'the SSH user of hypervisor hv1'),
    (dict(ansible_port='22; id'), 'the SSH port of hypervisor hv1'),
    (dict(ansible_port=70000), 'the SSH port of hypervisor hv1'),
    (dict(ansible_port=True), 'the SSH port of hypervisor hv1'),
    (dict(ansible_ssh_private_key_file='/k/id\nProxyCommand x'), 'the SSH key of hypervisor hv1'),
    (dict(ansible_ssh_common_args=['-o', 'x']), 'ansible_ssh_common_args of hypervisor hv1'),
    (dict(ansible_ssh_common_args='-o "Ciphers=x\ny"'), 'the SSH options of hypervisor hv1'),
])
def test_hostile_hypervisor_variables_are_refused_by_name(variables, option):
    with pytest.raises(ValidationError) as refused:
        jump.from_inventory('hv1', variables)
    assert refused.value.option == option
