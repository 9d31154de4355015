# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""forwarded_port's tunnels, for real: a throwaway dropbear SSH server on 127.0.0.1 plays
the guest, a tiny TCP echo server plays its service, and the real OpenSSH client carries
the data. Check mode predicts, the real run does it, the second run changes nothing, a
dead or changed tunnel is restarted, and no ssh or dropbear process outlives the tests.

dropbear reads ``~/.ssh/authorized_keys`` of the user from the password database and has
no option to look elsewhere, so it runs in a private mount namespace (``unshare``) where
a copy of ``/etc/passwd`` with root's home in a temporary directory is bind-mounted over
the real one: the real ``/root/.ssh`` is never touched."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time

import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import forwarded_port as tunnel
from ansible_collections.vagrantless.libvirt.plugins.module_utils import procfs
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

SSH = shutil.which('ssh')
DROPBEAR = '/usr/sbin/dropbear'
NEEDED = [SSH, shutil.which('ssh-keygen'), shutil.which('dropbearkey'), shutil.which('unshare'),
          os.path.exists(DROPBEAR) and DROPBEAR]
CAN_RUN_SSHD = all(NEEDED) and os.geteuid() == 0


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def wait_for_port(port, process=None, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


@pytest.fixture(scope='module')
def sshd(tmp_path_factory):
    """dropbear on 127.0.0.1:<free port>, logging in root with a throwaway key."""
    if not CAN_RUN_SSHD:
        pytest.skip('needs root, ssh, ssh-keygen, dropbear, dropbearkey and unshare')
    base = tmp_path_factory.mktemp('dropbear')
    os.chmod(str(base), 0o700)
    home = base / 'home'
    (home / '.ssh').mkdir(parents=True, mode=0o700)
    os.chmod(str(home), 0o700)
    subprocess.run(['dropbearkey', '-t', 'ed25519', '-f', str(base / 'hostkey')], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(base / 'client')], check=True)
    shutil.copy(str(base / 'client.pub'), str(home / '.ssh' / 'authorized_keys'))
    os.chmod(str(home / '.ssh' / 'authorized_keys'), 0o600)
    with open('/etc/passwd') as handle:
        lines = [line.split(':') for line in handle.read().splitlines()]
    for fields in lines:
        if fields[0] == 'root':
            fields[5] = str(home)
    (base / 'passwd').write_text(''.join(':'.join(fields) + '\n' for fields in lines))
    port = free_port()
    log = open(str(base / 'dropbear.log'), 'w')
    process = subprocess.Popen(
        ['unshare', '--mount', '--propagation', 'private', 'sh', '-c',
         'mount --bind "$1" /etc/passwd && exec "$2" -F -E -s -p "127.0.0.1:$3" -r "$4"', 'sh',
         str(base / 'passwd'), DROPBEAR, str(port), str(base / 'hostkey')],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    try:
        if not wait_for_port(port, process):
            pytest.skip('dropbear did not start: %s' % (base / 'dropbear.log').read_text())
        yield dict(port=port, key=str(base / 'client'), log=str(base / 'dropbear.log'))
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
        assert not processes_with(DROPBEAR, str(base / 'hostkey')), 'a dropbear process survived'


class Echo(object):
    """A TCP server on 127.0.0.1 answering each message with ``prefix`` + the message."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                connection, unused = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection):
        with connection:
            while True:
                data = connection.recv(4096)
                if not data:
                    return
                connection.sendall(self.prefix + data)

    def close(self):
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()


@pytest.fixture(scope='module')
def echo():
    servers = (Echo(b'one:'), Echo(b'two:'))
    yield servers
    for server in servers:
        server.close()


def processes_with(*needles):
    """Pids whose command line contains every one of ``needles`` (this test's processes only)."""
    found = []
    for entry in os.listdir('/proc'):
        if entry.isdigit() and int(entry) != os.getpid():
            argv = procfs.cmdline(int(entry)) or []
            if all(needle in argv for needle in needles):
                found.append(int(entry))
    return found


def tunnels_through(sshd_port):
    return processes_with(SSH, str(sshd_port))


@pytest.fixture
def state_dir(tmp_path, sshd):
    """A fresh state directory; afterwards every tunnel it recorded is stopped through the
    module, and no ssh to the test server may remain."""
    directory = tmp_path / 'tunnels'
    yield str(directory)
    if directory.is_dir():
        for machine in os.listdir(str(directory)):
            if not machine.startswith('.'):
                tunnel.TunnelManager(dict(machine=machine, state='absent', state_dir=str(directory)),
                                     False).converge()
    leftovers = tunnels_through(sshd['port'])
    for pid in leftovers:
        os.kill(pid, signal.SIGKILL)
    assert not leftovers, 'ssh processes survived the test: %s' % leftovers


def params(server, directory, guest_port, **overrides):
    base = dict(machine='vlt-web', guest=guest_port, host=None, host_ip='127.0.0.1', guest_ip=None,
                protocol='tcp', gateway_ports=False, ssh_host='127.0.0.1', ssh_port=server['port'],
                ssh_user='root', ssh_private_key_file=server['key'], ssh_extra_args=None,
                state_dir=directory, timeout=10, state='present')
    base.update(overrides)
    return base


@pytest.fixture
def run(sshd, state_dir, echo):
    def runner(check_mode=False, **overrides):
        return tunnel.TunnelManager(params(sshd, state_dir, echo[0].port, **overrides), check_mode).converge(SSH)
    return runner


def exchange(port, message=b'ping'):
    with socket.create_connection(('127.0.0.1', port), timeout=5) as connection:
        connection.sendall(message)
        answer = b''
        while len(answer) < len(message) + 4:
            data = connection.recv(4096)
            if not data:
                break
            answer += data
        return answer


def gone(pid, seconds=5):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        tunnel._reap(pid)
        if procfs.exited(pid):
            return True
        time.sleep(0.05)
    return False


def test_check_then_real_then_idempotent(run, state_dir):
    host = free_port()
    predicted = run(check_mode=True, host=host)
    assert predicted['changed'] and predicted['pid'] is None
    assert not os.path.exists(state_dir)
    assert predicted['diff'][0]['before'] == ''
    assert '127.0.0.1:%d -> 127.0.0.1:' % host in predicted['diff'][0]['after']

    real = run(host=host)
    assert real['changed'] and real['pid']
    assert real['diff'] == predicted['diff']
    assert real['tunnels'] == [dict(predicted['tunnels'][0], pid=real['pid'])]
    assert exchange(host) == b'one:ping'

    again = run(host=host)
    assert not again['changed'] and again['pid'] == real['pid']
    assert again['diff'][0]['before'] == again['diff'][0]['after']
    assert not run(check_mode=True, host=host)['changed']
    assert exchange(host, b'still') == b'one:still'

    machine_dir = os.path.join(state_dir, 'vlt-web')
    assert stat.S_IMODE(os.stat(state_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(machine_dir).st_mode) == 0o700
    assert sorted(os.listdir(machine_dir)) == ['%d.json' % host, '%d.log' % host, '%d.pid' % host]
    for name in os.listdir(machine_dir):
        assert stat.S_IMODE(os.stat(os.path.join(machine_dir, name)).st_mode) == 0o600
    with open(os.path.join(machine_dir, '%d.json' % host)) as handle:
        spec = json.load(handle)
    assert procfs.cmdline(real['pid']) == spec['argv']
    assert os.getsid(real['pid']) == real['pid']  # detached: a session of its own


def test_changed_spec_restarts(run, echo):
    host = free_port()
    first = run(host=host)
    assert exchange(host) == b'one:ping'
    predicted = run(check_mode=True, host=host, guest=echo[1].port)
    assert predicted['changed'] and procfs.cmdline(first['pid'])
    moved = run(host=host, guest=echo[1].port)
    assert moved['changed'] and moved['pid'] != first['pid']
    assert moved['diff'] == predicted['diff']
    assert gone(first['pid'])
    assert exchange(host) == b'two:ping'
    assert not run(host=host, guest=echo[1].port)['changed']


def test_dead_tunnel_is_detected_and_restarted(run):
    host = free_port()
    first = run(host=host)
    os.kill(first['pid'], signal.SIGKILL)
    assert gone(first['pid'])
    predicted = run(check_mode=True, host=host)
    assert predicted['changed']
    assert '(not running)' in predicted['diff'][0]['before']
    assert '(not running)' not in predicted['diff'][0]['after']
    again = run(host=host)
    assert again['changed'] and again['pid'] != first['pid']
    assert again['tunnels'][0]['running']
    assert exchange(host) == b'one:ping'


def test_absent_stops_every_tunnel_of_the_machine(run, state_dir, sshd):
    ports = [free_port() for unused in range(3)]
    web = [run(host=ports[0])['pid'], run(host=ports[1])['pid']]
    listed = run(host=ports[1])['tunnels']
    assert [item['host'] for item in listed] == sorted(ports[:2])
    db = run(machine='vlt-db', host=ports[2])['pid']

    predicted = run(check_mode=True, machine='vlt-web', state='absent', guest=None, host=None)
    assert predicted['changed'] and predicted['tunnels'] == []
    assert all(procfs.cmdline(pid) for pid in web)

    removed = run(machine='vlt-web', state='absent', guest=None, host=None)
    assert removed['changed'] and removed['tunnels'] == [] and removed['pid'] is None
    assert removed['diff'] == predicted['diff']
    assert all(gone(pid) for pid in web)
    assert not os.path.exists(os.path.join(state_dir, 'vlt-web'))
    assert tunnels_through(sshd['port']) == [db]
    assert exchange(ports[2]) == b'one:ping'
    assert not run(machine='vlt-web', state='absent', guest=None, host=None)['changed']

    only_one = run(machine='vlt-db', state='absent', host=ports[2], guest=None)
    assert only_one['changed'] and gone(db)


def test_absent_by_guest_port(run, echo):
    ports = [free_port(), free_port()]
    run(host=ports[0])
    kept = run(host=ports[1], guest=echo[1].port)
    result = run(state='absent', host=None, guest=echo[0].port)
    assert result['changed'] and [item['host'] for item in result['tunnels']] == [ports[1]]
    assert exchange(ports[1]) == b'two:ping'
    assert result['tunnels'][0]['pid'] == kept['pid']


def test_port_in_use_is_a_clear_error(run, state_dir, sshd):
    with socket.socket() as holder:
        holder.bind(('127.0.0.1', 0))
        holder.listen(1)
        host = holder.getsockname()[1]
        for check_mode in (True, False):
            with pytest.raises(tunnel.TunnelError) as caught:
                run(check_mode=check_mode, host=host)
            assert 'host port %d on 127.0.0.1 is already in use' % host in str(caught.value)
            assert 'pid %d' % os.getpid() in str(caught.value)
    assert not os.path.exists(os.path.join(state_dir, 'vlt-web'))
    assert tunnels_through(sshd['port']) == []

    other = free_port()
    run(machine='vlt-db', host=other)
    with pytest.raises(tunnel.TunnelError, match='the forwarded port %d of machine vlt-db' % other):
        run(host=other)


def test_login_failure_leaves_nothing_behind(run, state_dir, sshd):
    with pytest.raises(tunnel.TunnelError) as caught:
        run(host=free_port(), ssh_user='nosuchuser')
    assert 'Permission denied' in str(caught.value) and 'exited' in str(caught.value)
    assert not os.path.exists(os.path.join(state_dir, 'vlt-web'))
    assert tunnels_through(sshd['port']) == []


def test_failed_change_starts_the_previous_tunnel_again(run, state_dir):
    host = free_port()
    first = run(host=host)
    with pytest.raises(tunnel.TunnelError, match='Permission denied.*runs again'):
        run(host=host, ssh_user='nosuchuser')
    assert gone(first['pid'])
    record = tunnel.TunnelManager.records(os.path.join(state_dir, 'vlt-web'))[host]
    assert record['running'] and record['spec']['ssh_user'] == 'root'
    assert exchange(host) == b'one:ping'
    assert not run(host=host)['changed']


def test_unreachable_guest_fails_with_ssh_message(run, state_dir):
    closed = free_port()
    with pytest.raises(tunnel.TunnelError, match='Connection refused'):
        run(host=free_port(), ssh_port=closed)
    assert not os.path.exists(os.path.join(state_dir, 'vlt-web'))


def test_silent_guest_times_out_leaving_nothing_behind(run, state_dir, sshd):
    """A TCP port that never answers SSH: ssh is stopped after ``timeout`` seconds."""
    with socket.socket() as silent:
        silent.bind(('127.0.0.1', 0))
        silent.listen(4)
        silent_port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(tunnel.TunnelError, match='did not listen within 1 s'):
            run(host=free_port(), ssh_port=silent_port, timeout=1)
        assert time.monotonic() - started < 5
    assert not os.path.exists(os.path.join(state_dir, 'vlt-web'))
    assert processes_with(SSH, str(silent_port)) == []


def test_timeout_is_not_part_of_the_tunnel(run):
    host = free_port()
    first = run(host=host)
    assert not run(host=host, timeout=30)['changed']
    assert run(host=host, timeout=30)['pid'] == first['pid']


def test_reused_pid_is_not_taken_for_a_tunnel(run, state_dir):
    """A pid file naming a process that runs something else is a dead tunnel: it is never
    signalled, and the tunnel is started again."""
    host = free_port()
    first = run(host=host)
    os.kill(first['pid'], signal.SIGKILL)
    assert gone(first['pid'])
    sleeper = subprocess.Popen(['sleep', '30'])
    try:
        with open(os.path.join(state_dir, 'vlt-web', '%d.pid' % host), 'w') as handle:
            handle.write('%d\n' % sleeper.pid)
        record = tunnel.TunnelManager.records(os.path.join(state_dir, 'vlt-web'))[host]
        assert not record['running']
        assert run(state='absent', host=None, guest=None)['changed']
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


def test_extra_args_override_the_defaults_only(run, state_dir):
    host = free_port()
    result = run(host=host, ssh_extra_args=['-o', 'ServerAliveInterval=5', '-4'])
    with open(os.path.join(state_dir, 'vlt-web', '%d.json' % host)) as handle:
        argv = json.load(handle)['argv']
    assert argv.index('ServerAliveInterval=5') < argv.index('ServerAliveInterval=30')
    assert argv.index('ExitOnForwardFailure=yes') < argv.index('ServerAliveInterval=5')
    assert argv[-2:] == ['--', '127.0.0.1']
    assert exchange(host) == b'one:ping'
    assert result['changed'] and not run(host=host, ssh_extra_args=['-o', 'ServerAliveInterval=5', '-4'])['changed']


@pytest.mark.parametrize('overrides, option', [
    (dict(machine='../etc'), 'machine'),
    (dict(machine=''), 'machine'),
    (dict(guest=0), 'guest'),
    (dict(host=70000), 'host'),
    (dict(ssh_port=0), 'ssh_port'),
    (dict(protocol='udp'), 'protocol'),
    (dict(protocol='sctp'), 'protocol'),
    (dict(host_ip='127.0.0.1', gateway_ports=True), 'host_ip'),
    (dict(host_ip='localhost', gateway_ports=True), 'host_ip'),
    (dict(host_ip='::1', gateway_ports=True), 'host_ip'),
    (dict(host_ip='example.com'), 'host_ip'),
    (dict(ssh_host='-oProxyCommand=touch /tmp/x'), 'ssh_host'),
    (dict(ssh_host='a b'), 'ssh_host'),
    (dict(guest_ip='-x'), 'guest_ip'),
    (dict(ssh_user='-oProxyCommand=x'), 'ssh_user'),
    (dict(ssh_user='a@b'), 'ssh_user'),
    (dict(ssh_private_key_file='/nonexistent/key'), 'ssh_private_key_file'),
    (dict(ssh_extra_args=['-f']), 'ssh_extra_args'),
    (dict(ssh_extra_args=['-fN']), 'ssh_extra_args'),
    (dict(ssh_extra_args=['-o', 'ForkAfterAuthentication=yes']), 'ssh_extra_args'),
    (dict(ssh_extra_args=['somehost']), 'ssh_extra_args'),
    (dict(ssh_extra_args=['-o']), 'ssh_extra_args'),
    (dict(ssh_extra_args=['-Z']), 'ssh_extra_args'),
    (dict(state_dir='relative/dir'), 'state_dir'),
    (dict(state_dir='/tmp'), 'state_dir'),
    (dict(timeout=0), 'timeout'),
    (dict(state='running'), 'state'),
    (dict(host=None), 'host'),
    (dict(ssh_host=None), 'ssh_host'),
])
def test_bad_input_fails_before_anything(tmp_path, overrides, option):
    """No SSH server needed: nothing is started, no directory is made."""
    key = tmp_path / 'key'
    key.write_text('not used')
    state_dir = str(tmp_path / 'tunnels')
    merged = params(dict(port=2222, key=str(key)), state_dir, 8080, **dict(dict(host=18080), **overrides))
    with pytest.raises(ValidationError) as caught:
        tunnel.TunnelManager(merged, False).converge(SSH or '/usr/bin/ssh')
    assert caught.value.option == option
    assert repr(caught.value.value) in str(caught.value)
    assert not os.path.exists(state_dir)


def test_udp_message_says_why(tmp_path):
    with pytest.raises(ValidationError, match='tcp only: .*SSH, which carries TCP only'):
        tunnel.TunnelManager(dict(machine='m', protocol='udp', state='absent', state_dir=str(tmp_path)), False)


def test_gateway_ports_adds_g_and_listens_everywhere(run, state_dir):
    host = free_port()
    result = run(host=host, host_ip='*', gateway_ports=True)
    argv = procfs.cmdline(result['pid'])
    assert '-g' in argv and '*:%d:127.0.0.1:%d' % (host, result['tunnels'][0]['guest']) in argv
    assert any(address in ('0.0.0.0', '::') for address in procfs.listeners(host).values())
    assert exchange(host) == b'one:ping'


def test_an_explicit_address_listens_as_given_like_vagrant_libvirt(run, state_dir):
    """vagrant-libvirt's own example: host_ip 0.0.0.0 without gateway_ports."""
    host = free_port()
    result = run(host=host, host_ip='0.0.0.0')
    assert '-g' not in procfs.cmdline(result['pid'])
    assert list(procfs.listeners(host).values()) == ['0.0.0.0']
    assert exchange(host) == b'one:ping'


def test_forwarded_port_module_detaches_its_tunnel(sshd, state_dir, echo, tmp_path):
    """Through ansible itself: the module returns at once and its ssh outlives it."""
    ansible = os.path.join(os.path.dirname(sys.executable), 'ansible')
    if not os.path.exists(ansible):
        pytest.skip('ansible is not installed beside %s' % sys.executable)
    host = free_port()
    args = dict(machine='vlt-module', guest=echo[0].port, host=host, ssh_host='127.0.0.1',
                ssh_port=sshd['port'], ssh_user='root', ssh_private_key_file=sshd['key'], state_dir=state_dir)
    env = dict(os.environ, ANSIBLE_LOCAL_TEMP=str(tmp_path / 'ansible-tmp'), ANSIBLE_NOCOLOR='1')

    def module(**extra):
        """The module's result, its status word (SUCCESS, CHANGED, FAILED!) and its duration."""
        started = time.monotonic()
        completed = subprocess.run(
            [ansible, 'localhost', '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable,
             '-m', 'vagrantless.libvirt.forwarded_port', '-a', json.dumps(dict(args, **extra))],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False)
        output = completed.stdout.decode()
        assert '=>' in output, output + completed.stderr.decode()
        head, body = output.split('=>', 1)
        return json.loads(body), head.split('|')[-1].strip(), time.monotonic() - started

    first, status, seconds = module()
    assert status == 'CHANGED' and first['pid'], first
    assert seconds < 30
    assert procfs.cmdline(first['pid']) is not None  # it outlived the module
    assert exchange(host) == b'one:ping'
    second, status, unused = module()
    assert status == 'SUCCESS' and not second['changed'] and second['pid'] == first['pid']
    refused, status, unused = module(protocol='udp')
    assert status == 'FAILED!' and refused['option'] == 'protocol' and 'TCP only' in refused['msg']
    stopped, status, unused = module(state='absent')
    assert status == 'CHANGED' and stopped['tunnels'] == [] and gone(first['pid'])
