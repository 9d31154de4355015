# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""wait_for_ssh in process, on a connection that answers when the test says: tries until the
guest answers, fails on time with the last error, follows the address DHCP hands out."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleConnectionFailure

from ansible_collections.vagrantless.libvirt.plugins.action import wait_for_ssh


@pytest.fixture
def waiter(make_action):
    """``waiter(args, answers)``: the action for one task whose connection gives ``answers`` in
    turn (a result dict, or an exception to raise), then success; and the commands it ran."""
    def make(args, answers):
        return _answering(make_action(wait_for_ssh, args), answers)
    return make


def _answering(action, answers):
    answers = list(answers)
    commands = []

    def execute(command, sudoable=True):
        commands.append((command, sudoable, action._play_context.remote_addr))
        if answers:
            answer = answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        return dict(rc=0, stdout='', stderr='')

    action._low_level_execute_command = execute
    return action, commands


def test_tries_until_the_guest_answers(waiter):
    action, commands = waiter(dict(sleep=0.01), [
        AnsibleConnectionFailure('Connection refused'), dict(rc=255, stdout='', stderr='Permission denied')])
    result = action.run(task_vars={})
    assert not result.get('failed') and result['changed'] is False
    assert result['attempts'] == 3 and result['ip'] == '192.0.2.1'
    assert [command[:2] for command in commands] == [('true', False)] * 3
    assert action._connection.resets == 2  # a fresh connection for every new try


def test_fails_on_time_with_the_last_error(waiter):
    action, unused = waiter(dict(timeout=0, sleep=0.01), [dict(rc=255, stdout='', stderr='Permission denied\n')] * 5)
    result = action.run(task_vars={})
    assert result['failed'] and result['attempts'] == 1
    assert result['msg'] == 'timed out after 0 s waiting for SSH: Permission denied'


def test_follows_the_address_libvirt_reports(waiter, monkeypatch):
    looked = []

    def current_address(follow):
        looked.append(follow)
        return '192.0.2.9'

    monkeypatch.setattr(wait_for_ssh, 'current_address', current_address)
    action, commands = waiter(dict(sleep=0.01, follow=dict(domain='lab_web', every=0)),
                              [AnsibleConnectionFailure('No route to host')])
    result = action.run(task_vars={})
    assert result['ip'] == '192.0.2.9' and action._connection.options == dict(host='192.0.2.9')
    assert [command[2] for command in commands] == ['192.0.2.1', '192.0.2.9']
    assert looked[0]['domain'] == 'lab_web' and looked[0]['connection'] == {}


def test_an_address_that_cannot_be_read_keeps_the_old_one(waiter, monkeypatch):
    def current_address(follow):
        raise RuntimeError('libvirt is gone')

    monkeypatch.setattr(wait_for_ssh, 'current_address', current_address)
    action, unused = waiter(dict(sleep=0.01, follow=dict(domain='lab_web', every=0)),
                            [AnsibleConnectionFailure('No route to host')])
    result = action.run(task_vars={})
    assert not result.get('failed') and result['ip'] == '192.0.2.1' and action._connection.options == {}


def test_no_address_yet_keeps_the_old_one(waiter, monkeypatch):
    monkeypatch.setattr(wait_for_ssh, 'current_address', lambda follow: None)
    action, unused = waiter(dict(sleep=0.01, follow=dict(domain='lab_web', every=0)),
                            [AnsibleConnectionFailure('No route to host')])
    assert action.run(task_vars={})['ip'] == '192.0.2.1'


def test_the_address_of_a_domain_on_the_test_driver(conn, test_domain):
    test_domain('vlt-wait-unit', running=False)
    assert wait_for_ssh.current_address(dict(domain='vlt-wait-unit', connection=dict(uri='test:///default'),
                                             management_network=None)) is None
    assert wait_for_ssh.current_address(dict(domain='vlt-wait-none', connection=dict(uri='test:///default'),
                                             management_network=None)) is None


def jump_through(check):
    return dict(hypervisor='hv1', target='root@10.77.0.1:22', check=check)


def test_a_hypervisor_that_does_not_answer_fails_at_once_naming_it(waiter, tmp_path):
    refusing = tmp_path / 'ssh'
    refusing.write_text('#!/bin/sh\necho "root@10.77.0.1: Permission denied (publickey)." >&2\nexit 255\n')
    refusing.chmod(0o755)
    action, commands = waiter(dict(sleep=0.01, timeout=300, jump=jump_through([str(refusing), 'hv1', 'true'])),
                              [AnsibleConnectionFailure('Connection timed out during banner exchange')] * 1000)
    result = action.run(task_vars={})
    assert result['failed'] and result['attempts'] == 1 and len(commands) == 1
    assert result['msg'] == ('the guest is reached through its hypervisor hv1 (root@10.77.0.1:22), which does not '
                             'answer SSH: root@10.77.0.1: Permission denied (publickey).')


def test_a_hypervisor_that_answers_is_checked_once_and_the_wait_goes_on(waiter):
    action, commands = waiter(dict(sleep=0.01, jump=jump_through(['true'])),
                              [AnsibleConnectionFailure('Connection refused')] * 3)
    result = action.run(task_vars={})
    assert not result.get('failed') and result['attempts'] == 4


def test_a_guest_that_answers_at_once_costs_no_check(waiter):
    action, unused = waiter(dict(jump=jump_through(['false'])), [])
    assert not action.run(task_vars={}).get('failed')


# -- the guest's SSH port watched between tries ---------------------------------------------------
@pytest.fixture
def watching(waiter, monkeypatch):
    """``watching(answers, banners, options)``: a waiter on an ssh connection to port 2222 whose
    banner looks give ``banners`` in turn (then True); sleeps are recorded, not slept."""
    slept = []
    monkeypatch.setattr(wait_for_ssh.time, 'sleep', slept.append)

    def make(answers, banners, options=None):
        looks = list(banners)
        looked_at = []

        def banner(host, port):
            looked_at.append((host, port))
            return looks.pop(0) if looks else True
        monkeypatch.setattr(wait_for_ssh, 'ssh_banner', banner)
        action, commands = waiter(dict(sleep=0.5), answers)
        action._connection.transport = 'ssh'
        action._connection.options.update(dict(port=2222), **(options or {}))
        action._connection.get_option = action._connection.options.get
        return action, commands, looked_at, slept
    return make


def test_the_next_try_comes_as_soon_as_the_port_answers_ssh(watching):
    action, commands, looked_at, slept = watching([AnsibleConnectionFailure('No route to host')],
                                                  [False, False, False, True])
    result = action.run(task_vars={})
    assert not result.get('failed') and result['attempts'] == 2
    assert looked_at == [('192.0.2.1', 2222)] * 4
    assert slept == [wait_for_ssh.BANNER_EVERY] * 3  # never the try's own 0.5 s


def test_a_server_that_answers_while_the_try_fails_is_tried_again_after_the_pause(watching):
    action, commands, looked_at, slept = watching([dict(rc=255, stdout='', stderr='Permission denied')], [True])
    assert action.run(task_vars={})['attempts'] == 2
    assert slept == [0.5] and len(looked_at) == 1


@pytest.mark.parametrize('option', ['ssh_common_args', 'ssh_extra_args', 'ssh_args'])
def test_a_port_reached_through_a_proxy_is_not_watched(watching, option):
    action, commands, looked_at, slept = watching([AnsibleConnectionFailure('refused')], [],
                                                  {option: '-o ProxyCommand="ssh -W %h:%p hv1"'})
    assert action.run(task_vars={})['attempts'] == 2
    assert looked_at == [] and slept == [0.5]


def test_a_port_never_answering_is_tried_through_the_connection_all_the_same(watching, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(wait_for_ssh.time, 'monotonic', lambda: clock[0])
    monkeypatch.setattr(wait_for_ssh.time, 'sleep', lambda seconds: clock.__setitem__(0, clock[0] + seconds))
    action, commands, looked_at, unused = watching([AnsibleConnectionFailure('refused')], [False] * 1000)
    assert action.run(task_vars={})['attempts'] == 2  # the second try got through: an ssh_config's proxy
    assert wait_for_ssh.FALLBACK_EVERY <= clock[0] < wait_for_ssh.FALLBACK_EVERY + 1


def test_ssh_banner_on_real_sockets():
    import socket  # pylint: disable=import-outside-toplevel
    import threading  # pylint: disable=import-outside-toplevel

    def serve(first_bytes, after=None):
        server = socket.socket()
        server.bind(('127.0.0.1', 0))
        server.listen(1)

        def answer():
            peer, unused = server.accept()
            if after is not None:
                after.wait(10)
            peer.sendall(first_bytes)
            peer.close()
            server.close()
        threading.Thread(target=answer, daemon=True).start()
        return server.getsockname()[1]
    assert wait_for_ssh.ssh_banner('127.0.0.1', serve(b'SSH-2.0-dropbear\r\n'))
    # a busy guest's sshd sends its banner later than a connect may take: it is waited for
    late = threading.Event()
    threading.Timer(wait_for_ssh.CONNECT_TIMEOUT * 2, late.set).start()
    assert wait_for_ssh.ssh_banner('127.0.0.1', serve(b'SSH-2.0-OpenSSH_9.2\r\n', after=late))
    assert not wait_for_ssh.ssh_banner('127.0.0.1', serve(b'HTTP/1.1 400 Bad Request\r\n'))
    closed = socket.socket()
    closed.bind(('127.0.0.1', 0))
    port = closed.getsockname()[1]
    closed.close()
    assert not wait_for_ssh.ssh_banner('127.0.0.1', port)
