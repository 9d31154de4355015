# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Forwarded ports the way vagrant-libvirt makes them: one ``ssh -N -L`` process per
port through the guest's SSH, detached in its own session, recorded in a state
directory (a JSON spec and a pid file per tunnel) and found again on the next run by
its exact command line in ``/proc``, so a pid reused by another program is never taken
for a tunnel, and never signalled."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import fcntl
import ipaddress
import json
import os
import re
import signal
import socket
import stat
import subprocess
import time

from ansible_collections.vagrantless.libvirt.plugins.module_utils import connection, files, procfs, validate
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import LibvirtOperationError, Manager
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

DEFAULT_STATE_DIR = '~/.vagrantless/tunnels'
DEFAULT_HOST_IP = '127.0.0.1'
DEFAULT_TIMEOUT = 10
SERVER_ALIVE_INTERVAL = 30
SERVER_ALIVE_COUNT_MAX = 3
STOP_WAIT = 5.0
LOG_TAIL = 2000
PROTOCOLS = ('tcp',)
RECORD_PATTERN = re.compile(r'\A([0-9]{1,5})\.(json|pid|log)\Z')
# ssh(1)'s flags: those that take a value and those that do not.
SSH_FLAGS_WITH_VALUE = 'BbcDEeFIiJLlmOoPpQRSWw'
SSH_FLAGS_WITHOUT_VALUE = '46AaCfGgKkMNnqsTtVvXxYy'

# ssh processes this Python process started and has not reaped yet (pid -> Popen).
_CHILDREN = {}


class TunnelError(LibvirtOperationError):
    """A tunnel could not be started or stopped; the message says why (ssh's own words)."""


# ---------------------------------------------------------------- input checks


def ip_literal(value):
    """``value`` as an ``ipaddress`` address, or None when it is no IP literal (IPv6 scope ids,
    free text after "%", are refused)."""
    if not isinstance(value, str) or '%' in value:
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def host_address(value):
    """``host_ip``: where the tunnel listens on this host."""
    if value in ('*', 'localhost') or (isinstance(value, str) and ip_literal(value) is not None):
        return value
    raise ValidationError('host_ip', value, 'an IP address of this host, "localhost", or "*" (every address)')


def is_loopback(host_ip):
    return host_ip == 'localhost' or (host_ip != '*' and ip_literal(host_ip).is_loopback)


def remote_host(value, option):
    """An IP address or a host name that is safe as one ssh argument (no leading "-")."""
    if isinstance(value, str) and (ip_literal(value) is not None or connection.is_hostname(value)):
        return value
    raise ValidationError(option, value, connection.HOSTNAME_ALLOWED)


def ssh_user(value):
    return None if value is None else connection.user_name(value, 'ssh_user')


def extra_args(value):
    """``ssh_extra_args``: ssh options only, never ``-f`` (ssh would fork away from the pid
    this module records) and never a destination or command."""
    option = 'ssh_extra_args'
    if value is None:
        return []
    if not isinstance(value, (list, tuple)) or not all(isinstance(arg, str) for arg in value):
        raise ValidationError(option, value, 'a list of ssh options, e.g. ["-o", "ProxyJump=jump"]')
    expecting = None
    for arg in value:
        if '\0' in arg:
            raise ValidationError(option, value, 'arguments without NUL bytes')
        if expecting:
            _check_option_value(expecting, arg, value)
            expecting = None
            continue
        if not arg.startswith('-') or arg in ('-', '--'):
            raise ValidationError(option, value, 'ssh options only, each starting with "-" (the module adds '
                                  'the destination itself); %r is not an option' % arg)
        for position, flag in enumerate(arg[1:], 1):
            if flag == 'f':
                raise ValidationError(option, value, 'no -f: ssh would fork away from the pid the module '
                                      'records; the module detaches ssh itself')
            if flag in SSH_FLAGS_WITH_VALUE:
                rest = arg[position + 1:]
                if rest:
                    _check_option_value(flag, rest, value)
                else:
                    expecting = flag
                break
            if flag not in SSH_FLAGS_WITHOUT_VALUE:
                raise ValidationError(option, value, '%r: -%s is not an ssh option' % (arg, flag))
    if expecting:
        raise ValidationError(option, value, 'a value after the last option -%s' % expecting)
    return list(value)


def _check_option_value(flag, text, value):
    if flag == 'o' and re.match(r'^\s*forkafterauthentication\s*[= ]\s*(yes|true)', text, re.IGNORECASE):
        raise ValidationError('ssh_extra_args', value, 'no ForkAfterAuthentication: ssh would fork away '
                              'from the pid the module records')


def key_file(value):
    if value is None:
        return None
    path = os.path.expanduser(value)
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        raise ValidationError('ssh_private_key_file', value, 'a readable private key file on the host '
                              'that runs the module')
    return os.path.abspath(path)


def private_directory(value, option='state_dir'):
    """``state_dir``: absolute, and if it exists a directory no one else can write to
    (pid files there decide which processes get signalled)."""
    path = validate.absolute_path(os.path.expanduser(value) if isinstance(value, str) else value, option)
    if os.path.lexists(path):
        info = os.stat(path)
        if not stat.S_ISDIR(info.st_mode):
            raise ValidationError(option, value, 'a directory (this is not one)')
        if info.st_mode & 0o022 or info.st_uid not in (os.getuid(), 0):
            raise ValidationError(option, value, 'a directory only its owner can write to (its mode is %o, '
                                  'owner uid %d)' % (stat.S_IMODE(info.st_mode), info.st_uid))
    return path


def _bracketed(address):
    return '[%s]' % address if ':' in address else address


def ssh_argv(ssh_bin, spec):
    """The ssh command line of one tunnel. The options that make the module's guarantees
    come first (ssh keeps the first value of an option); ``ssh_extra_args`` come before
    the defaults they may override (host key checking, keep-alives, log level)."""
    argv = [ssh_bin, '-N', '-n', '-T',
            '-o', 'ExitOnForwardFailure=yes', '-o', 'BatchMode=yes',
            '-o', 'ControlMaster=no', '-o', 'ControlPath=none',
            '-p', str(spec['ssh_port'])]
    if spec['ssh_user']:
        argv += ['-l', spec['ssh_user']]
    if spec['ssh_private_key_file']:
        argv += ['-i', spec['ssh_private_key_file'], '-o', 'IdentitiesOnly=yes']
    if spec['gateway_ports']:
        argv.append('-g')
    forward = '%s:%d:%s:%d' % (_bracketed(spec['host_ip']), spec['host'],
                               _bracketed(spec['guest_ip']), spec['guest'])
    argv += ['-L', forward]
    argv += spec['ssh_extra_args']
    argv += ['-o', 'ServerAliveInterval=%d' % SERVER_ALIVE_INTERVAL,
             '-o', 'ServerAliveCountMax=%d' % SERVER_ALIVE_COUNT_MAX,
             '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
             '-o', 'LogLevel=ERROR',
             '--', spec['ssh_host']]
    return argv


def _bind_addresses(host_ip):
    if host_ip == '*':
        return ['0.0.0.0', '::']
    if host_ip == 'localhost':
        return ['127.0.0.1', '::1']
    return [host_ip]


def _overlaps(listening, wanted):
    """Whether a socket listening on ``listening`` takes the port from ``wanted``."""
    a, b = ip_literal(listening), ip_literal(wanted)
    return a.is_unspecified or b.is_unspecified or a == b


# ---------------------------------------------------------------- files

def _remove(path):
    try:
        os.unlink(path)
    except OSError as error:
        if error.errno != errno.ENOENT:
            raise


def _reap(pid):
    """Collect ``pid`` if this process started it and it has exited (a process started by
    an earlier run is not a child of this one: init collects it)."""
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        del _CHILDREN[pid]


def alive(pid, argv):
    """Whether ``pid`` runs exactly ``argv`` (not merely whether the pid exists)."""
    if not pid:
        return False
    _reap(pid)
    return procfs.cmdline(pid) == argv


def _finished(pid, argv):
    """Whether the process ``pid`` that ran ``argv`` is gone, sockets included."""
    _reap(pid)
    if procfs.exited(pid):
        return True
    now = procfs.cmdline(pid)
    return now is not None and now != argv  # the pid runs something else already


def stop_process(pid, argv, wait=STOP_WAIT):
    """TERM, then KILL, the process ``pid`` if it still runs ``argv``; anything else is
    left alone. Returns once it has exited and its port is closed."""
    if not alive(pid, argv):
        return
    for sig, seconds in ((signal.SIGTERM, wait), (signal.SIGKILL, 2.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError:
            raise TunnelError('cannot stop ssh process %d: it belongs to another user' % pid)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if _finished(pid, argv):
                return
            time.sleep(0.05)
    raise TunnelError('ssh process %d did not stop after SIGKILL' % pid)


def describe(record):
    """One entry of the ``tunnels`` return value."""
    spec = record.get('spec') or {}
    return dict(host=record['host'], host_ip=spec.get('host_ip'), guest=spec.get('guest'),
                guest_ip=spec.get('guest_ip'), protocol='tcp', gateway_ports=spec.get('gateway_ports'),
                ssh_host=spec.get('ssh_host'), ssh_port=spec.get('ssh_port'), ssh_user=spec.get('ssh_user'),
                pid=record['pid'] if record['running'] else None, running=record['running'])


def diff_line(record):
    spec = record.get('spec')
    if not spec:
        return 'port %d: unreadable record (not running)\n' % record['host']
    line = '%s:%d -> %s:%d via %s%s:%d' % (
        _bracketed(spec['host_ip']), spec['host'], _bracketed(spec['guest_ip']), spec['guest'],
        spec['ssh_user'] + '@' if spec['ssh_user'] else '', _bracketed(spec['ssh_host']), spec['ssh_port'])
    if spec['ssh_private_key_file']:
        line += ' key=%s' % spec['ssh_private_key_file']
    if spec['ssh_extra_args']:
        line += ' args=%s' % json.dumps(spec['ssh_extra_args'])
    if spec['gateway_ports']:
        line += ' gateway_ports'
    if not record['running']:
        line += ' (not running)'
    return line + '\n'


def diff_text(records):
    return ''.join(diff_line(records[host]) for host in sorted(records))


class TunnelManager(Manager):
    """Brings the forwarded ports of one machine to the state the options ask for."""

    def __init__(self, params, check_mode):
        super(TunnelManager, self).__init__(params, check_mode)
        self.machine = validate.name(params['machine'], 'machine')
        self.state = validate.choice(params.get('state') or 'present', 'state', ('present', 'absent'))
        self.state_dir = private_directory(params.get('state_dir') or DEFAULT_STATE_DIR)
        self.machine_dir = os.path.join(self.state_dir, self.machine)
        protocol = params.get('protocol') or 'tcp'
        if protocol == 'udp':
            raise ValidationError('protocol', protocol, 'tcp only: vagrant-libvirt forwards ports through '
                                  'SSH, which carries TCP only')
        validate.choice(protocol, 'protocol', PROTOCOLS)
        self.guest = validate.port(params.get('guest'), 'guest')
        self.host = validate.port(params.get('host'), 'host')
        self.timeout = DEFAULT_TIMEOUT if params.get('timeout') is None else params['timeout']
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, int) or not 1 <= self.timeout <= 600:
            raise ValidationError('timeout', params.get('timeout'), 'a whole number of seconds from 1 to 600')
        host_ip = host_address(params.get('host_ip') or DEFAULT_HOST_IP)
        gateway_ports = bool(params.get('gateway_ports'))
        if gateway_ports and is_loopback(host_ip):
            raise ValidationError('host_ip', host_ip, 'with gateway_ports=true, an address other hosts reach: '
                                  '"*" or "0.0.0.0" (every address) or one of this host\'s addresses; a '
                                  'loopback host_ip would keep the port closed to them')
        ssh_host = params.get('ssh_host')
        if ssh_host is not None:
            remote_host(ssh_host, 'ssh_host')
        guest_ip = params.get('guest_ip')
        if guest_ip is not None:
            remote_host(guest_ip, 'guest_ip')
        self.spec = dict(
            machine=self.machine, protocol='tcp', host_ip=host_ip, host=self.host,
            guest_ip=guest_ip or ssh_host, guest=self.guest, gateway_ports=gateway_ports,
            ssh_host=ssh_host, ssh_port=validate.port(22 if params.get('ssh_port') is None else params['ssh_port'], 'ssh_port'),
            ssh_user=ssh_user(params.get('ssh_user')),
            ssh_private_key_file=key_file(params.get('ssh_private_key_file')),
            ssh_extra_args=extra_args(params.get('ssh_extra_args')))
        if self.state == 'present':
            for option in ('guest', 'host', 'ssh_host'):
                if params.get(option) is None:
                    raise ValidationError(option, None, 'required with state=present')

    def run(self, module):
        """Converge with the ssh client of this host (none needed to stop the tunnels)."""
        return self.converge(module.get_bin_path('ssh') if self.state == 'present' else None)

    @property
    def label(self):
        return 'forwarded port %s:%s -> guest port %s of machine %s' % (
            _bracketed(self.spec['host_ip']), self.host, self.guest, self.machine)

    def converge(self, ssh_bin=None):
        """Converge; return the module result (changed, tunnels, pid, diff)."""
        with self._locked():
            before = self.records(self.machine_dir)
            if self.state == 'present':
                if not ssh_bin:
                    raise TunnelError('ssh (the OpenSSH client) was not found: install it on the host that '
                                      'runs this module')
                after, pid = self._present(before, ssh_argv(ssh_bin, self.spec))
            else:
                after, pid = self._absent(before), None
        self.diff.text('machine %s' % self.machine, 'forwarded ports', diff_text(before), diff_text(after))
        return self.finish(pid=pid, tunnels=[describe(after[host]) for host in sorted(after)])

    @contextlib.contextmanager
    def _locked(self):
        """One run at a time per state directory (check mode takes the lock only if it exists)."""
        lock_path = os.path.join(self.state_dir, '.lock')
        if self.check_mode and not os.path.exists(lock_path):
            yield
            return
        if not self.check_mode:
            files.make_private_dir(self.state_dir)
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)

    @staticmethod
    def records(machine_dir):
        """``{host port: record}`` of one machine's recorded tunnels; a record says whether
        its process still runs its exact command line."""
        try:
            names = os.listdir(machine_dir)
        except OSError:
            return {}
        found = {}
        for name in names:
            match = RECORD_PATTERN.fullmatch(name)
            if match:
                found.setdefault(int(match.group(1)), set()).add(match.group(2))
        records = {}
        for host in found:
            base = os.path.join(machine_dir, str(host))
            spec = None
            text = files.read(base + '.json')
            if text:
                try:
                    spec = json.loads(text)
                except ValueError:
                    spec = None
            if not isinstance(spec, dict) or spec.get('host') != host or not isinstance(spec.get('argv'), list):
                spec = None
            pid_text = (files.read(base + '.pid') or '').strip()
            pid = int(pid_text) if pid_text.isdigit() else None
            running = bool(spec and alive(pid, spec['argv']))
            records[host] = dict(host=host, spec=spec, pid=pid, running=running, path=base)
        return records

    def _present(self, before, argv):
        desired = dict(self.spec, argv=argv)
        current = before.get(self.host)
        after = dict(before)
        if current and current['running'] and current['spec'] == desired:
            return after, current['pid']
        self.result['changed'] = True
        keep_pid = current['pid'] if current and current['running'] else None
        self._check_port_free(keep_pid)
        after[self.host] = dict(host=self.host, spec=desired, pid=None, running=True,
                                path=os.path.join(self.machine_dir, str(self.host)))
        if self.check_mode:
            return after, None
        if current:
            self._stop(current)
        try:
            pid = self._start(desired)
        except TunnelError as error:
            if not keep_pid:
                raise
            try:
                self._start(current['spec'])
                note = 'the previous tunnel (%s) runs again' % diff_line(current).strip()
            except TunnelError as again:
                note = 'the previous tunnel could not be started again: %s' % again
            raise TunnelError('%s; %s' % (error, note))
        after[self.host]['pid'] = pid
        return after, pid

    def _absent(self, before):
        selected = [record for record in before.values()
                    if (self.host is None or record['host'] == self.host)
                    and (self.guest is None or (record['spec'] or {}).get('guest') == self.guest)]
        after = dict(before)
        for record in selected:
            del after[record['host']]
        self.result['changed'] = bool(selected)
        if not self.check_mode:
            for record in sorted(selected, key=lambda item: item['host']):
                self._stop(record)
            if not after:
                try:
                    os.rmdir(self.machine_dir)
                except OSError:
                    pass
        return after

    def _stop(self, record):
        if record['running']:
            stop_process(record['pid'], record['spec']['argv'])
        self._remove_files(record['host'])

    def _remove_files(self, host):
        base = os.path.join(self.machine_dir, str(host))
        for suffix in ('.pid', '.json', '.log'):
            _remove(base + suffix)

    def _forget(self, host):
        """A tunnel that failed to start leaves no file, and no empty machine directory."""
        self._remove_files(host)
        try:
            os.rmdir(self.machine_dir)
        except OSError:
            pass  # other tunnels of the machine are recorded there

    def _tunnel_of(self, pid):
        """``machine N`` when ``pid`` is a tunnel this state directory records."""
        try:
            machines = os.listdir(self.state_dir)
        except OSError:
            return None
        for machine in sorted(machines):
            if machine.startswith('.'):
                continue
            for record in self.records(os.path.join(self.state_dir, machine)).values():
                if record['running'] and record['pid'] == pid:
                    return 'the forwarded port %d of machine %s' % (record['host'], machine)
        return None

    def _check_port_free(self, keep_pid):
        """Fail clearly when something else listens on the host port; the tunnel being
        replaced (``keep_pid``) does not count."""
        host_ip = self.spec['host_ip']
        wanted = _bind_addresses(host_ip)
        deadline = time.monotonic() + 2
        while True:
            taken = [inode for inode, address in procfs.listeners(self.host).items()
                     if any(_overlaps(address, ip) for ip in wanted)]
            owners = procfs.socket_owners(taken)
            # A socket without an owner may belong to a process that is exiting right now.
            if not taken or owners or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        others = dict((pid, text) for pid, text in owners.items() if pid != keep_pid)
        if others:
            held = ', '.join('%s (pid %d: %s)' % (self._tunnel_of(pid) or 'a process', pid, text[:200])
                             for pid, text in sorted(others.items()))
            raise TunnelError('host port %d on %s is already in use by %s: choose another host port or stop it'
                              % (self.host, host_ip, held))
        if taken and not owners:
            raise TunnelError('host port %d on %s is already in use by a process this user cannot see: '
                              'choose another host port' % (self.host, host_ip))
        if keep_pid and owners:
            return
        for address in wanted:
            self._try_bind(address, host_ip)

    def _try_bind(self, address, host_ip):
        family = socket.AF_INET6 if ':' in address else socket.AF_INET
        try:
            probe = socket.socket(family, socket.SOCK_STREAM)
        except (IOError, OSError):
            return  # no IPv6 here: ssh will skip it too
        try:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            probe.bind((address, self.host))
        except (IOError, OSError) as error:
            optional = host_ip in ('*', 'localhost') and family == socket.AF_INET6
            if error.errno == errno.EADDRINUSE:
                raise TunnelError('host port %d on %s is already in use: choose another host port'
                                  % (self.host, host_ip))
            if error.errno == errno.EACCES:
                raise TunnelError('host port %d on %s needs privileges to listen on (ports below 1024 need '
                                  'root): choose a port from 1024 up or run the module as root (become)'
                                  % (self.host, host_ip))
            if error.errno == errno.EADDRNOTAVAIL and not optional:
                raise ValidationError('host_ip', host_ip, 'an address of this host (cannot listen on it)')
        finally:
            probe.close()

    def _start(self, spec):
        """Run one tunnel's ssh, detached; return its pid once it listens on the host port.
        If ssh exits or does not listen within the timeout, nothing is left behind and the
        error carries what ssh wrote."""
        files.make_private_dir(self.machine_dir)
        base = os.path.join(self.machine_dir, str(spec['host']))
        files.write_private(base + '.json', json.dumps(spec, indent=2, sort_keys=True) + '\n')
        log = os.open(base + '.log', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            process = subprocess.Popen(spec['argv'], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=log, cwd='/', close_fds=True, start_new_session=True)
        except (IOError, OSError) as error:
            self._forget(spec['host'])
            raise TunnelError('%s: cannot run %s: %s' % (self.label, spec['argv'][0], error))
        finally:
            os.close(log)
        _CHILDREN[process.pid] = process
        files.write_private(base + '.pid', '%d\n' % process.pid)
        deadline = time.monotonic() + self.timeout
        delay = 0.02
        while True:
            status = process.poll()
            if status is not None:
                _CHILDREN.pop(process.pid, None)
                said = self._log_tail(base + '.log')
                self._forget(spec['host'])
                raise TunnelError('%s: ssh to %s:%d exited (status %d) before listening: %s'
                                  % (self.label, spec['ssh_host'], spec['ssh_port'], status,
                                     said or 'it wrote nothing'))
            if procfs.socket_inodes(process.pid) & set(procfs.listeners(spec['host'])):
                return process.pid
            if time.monotonic() >= deadline:
                process.kill()
                process.wait()
                _CHILDREN.pop(process.pid, None)
                said = self._log_tail(base + '.log')
                self._forget(spec['host'])
                raise TunnelError('%s: ssh to %s:%d did not listen within %d s (timeout), so it was stopped; '
                                  'is the guest up and its SSH server reachable from here?%s'
                                  % (self.label, spec['ssh_host'], spec['ssh_port'], self.timeout,
                                     ' ssh said: ' + said if said else ''))
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    @staticmethod
    def _log_tail(path):
        text = (files.read(path) or '').strip()
        return text[-LOG_TAIL:]
