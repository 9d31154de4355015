# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""wait_for_ssh: poll the host's own connection with a shell command until the guest answers,
as `vagrant up` waits for SSH - no Python in the guest, no module sent."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import subprocess
import time

from ansible.errors import AnsibleConnectionFailure
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

ARGUMENT_SPEC = dict(
    timeout=dict(type='int', default=300),
    sleep=dict(type='float', default=0.5),
    follow=dict(type='dict', options=dict(
        domain=dict(type='str', required=True),
        management_network=dict(type='str'),
        every=dict(type='float', default=3),
        connection=dict(type='dict', default={}, no_log=True),
    )),
    jump=dict(type='dict', options=dict(
        hypervisor=dict(type='str', required=True),
        target=dict(type='str', required=True),
        check=dict(type='list', elements='str', required=True),
        proxy_command=dict(type='str'),
        ssh_options=dict(type='list', elements='str'),
    )),
)
# How long the check of the hypervisor's own SSH may take (its ssh gives up after 10 s).
JUMP_CHECK_TIMEOUT = 30
# Between two tries through the connection, the guest's SSH port is looked at every BANNER_EVERY
# seconds (a TCP connect and the server's first bytes, no ssh process), and the next try starts as
# soon as an SSH server answers there. Where the port is not reached directly (a proxy in the SSH
# options Ansible knows of, or one in an ssh_config it does not) tries come every FALLBACK_EVERY s.
# A look gives up on a connect after CONNECT_TIMEOUT s (a guest whose address does not answer ARP
# yet), on the banner of an accepted connection after BANNER_TIMEOUT s (a busy guest's sshd is slow).
BANNER_EVERY = 0.1
CONNECT_TIMEOUT = 0.5
BANNER_TIMEOUT = 3.0
FALLBACK_EVERY = 5.0


def hop_failure(jump):
    """Why the hypervisor the guest is reached through does not answer SSH, or None when it does."""
    try:
        answer = subprocess.run(jump['check'], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, timeout=JUMP_CHECK_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return to_text(error)
    if answer.returncode == 0:
        return None
    return to_text(answer.stderr or answer.stdout or 'exit code %d' % answer.returncode).strip()


def ssh_banner(host, port):
    """Whether an SSH server answers at ``host``:``port`` now: its first bytes are ``SSH-``."""
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT) as sock:
            sock.settimeout(BANNER_TIMEOUT)
            return sock.recv(64).startswith(b'SSH-')
    except OSError:  # refused, unreachable, timed out, reset
        return False


def current_address(follow):
    """The domain's management address as libvirt reports it now (None when it has none)."""
    # imported here: only a task that follows an address needs libvirt on the controller
    from ansible_collections.vagrantless.libvirt.plugins.module_utils import (  # pylint: disable=import-outside-toplevel
        connection, leases, xmltree)
    conn = connection.open_connection(follow['connection'])
    try:
        domain = leases.find_domain(conn, follow['domain'])
        if domain is None:
            return None
        interfaces = [i for i in leases.domain_interfaces(xmltree.parse(domain.XMLDesc(0))) if i['mac']]
        records = leases.AddressBook(conn).lookup(interfaces, domain)
        return leases.management_ip(records, interfaces, follow.get('management_network'))
    finally:
        conn.close()


class ActionModule(ActionBase):
    """Runs `true` through the task's connection (its user, port, key and SSH options) until
    it succeeds or ``timeout`` seconds pass."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        unused, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        started = time.monotonic()
        deadline = started + args['timeout']
        follow = args.get('follow')
        ip = self._play_context.remote_addr
        looked = started
        attempts = 0
        while True:
            attempts += 1
            try:
                answer = self._low_level_execute_command('true', sudoable=False)
                if answer['rc'] == 0:
                    break
                error = to_text(answer.get('stderr') or answer.get('stdout') or 'exit code %s' % answer['rc']).strip()
            except AnsibleConnectionFailure as failure:
                error = to_text(failure)
            if attempts == 1 and args.get('jump'):
                # the guest is reached through its hypervisor: a hypervisor that does not answer
                # is said at once, not after the boot timeout
                why = hop_failure(args['jump'])
                if why:
                    result.update(failed=True, attempts=attempts, elapsed=round(time.monotonic() - started, 2),
                                  msg='the guest is reached through its hypervisor %s (%s), which does not answer '
                                      'SSH: %s' % (args['jump']['hypervisor'], args['jump']['target'], why))
                    return result
            if time.monotonic() + args['sleep'] >= deadline:
                result.update(failed=True, attempts=attempts, elapsed=round(time.monotonic() - started, 2),
                              msg='timed out after %d s waiting for SSH: %s' % (args['timeout'], error))
                return result
            port = self._banner_port()
            if port is None or ssh_banner(ip, port):
                time.sleep(args['sleep'])  # nothing to watch, or the server answers and the try failed all the same
            else:
                watched = time.monotonic()
                while time.monotonic() - watched < FALLBACK_EVERY and time.monotonic() + BANNER_EVERY < deadline:
                    time.sleep(BANNER_EVERY)
                    if follow and time.monotonic() - looked >= follow['every']:
                        looked = time.monotonic()
                        ip = self._follow(follow, ip)
                    if ssh_banner(ip, port):
                        break
                # no banner by then: the port may not be reached directly, the next try tells
            if follow and time.monotonic() - looked >= follow['every']:
                looked = time.monotonic()
                ip = self._follow(follow, ip)
            try:
                self._connection.reset()  # a fresh connection (and SSH control master) for the next try
            except AnsibleConnectionFailure:
                pass
        result.update(changed=False, attempts=attempts, elapsed=round(time.monotonic() - started, 2), ip=ip)
        return result

    def _banner_port(self):
        """The guest's SSH port when the connection reaches it directly (ssh, no proxy in its
        options), else None: then only tries through the connection tell that the guest answers."""
        connection = self._connection
        if getattr(connection, 'transport', None) != 'ssh':
            return None
        options = ' '.join(str(connection.get_option(name) or '')
                           for name in ('ssh_args', 'ssh_common_args', 'ssh_extra_args'))
        if 'proxy' in options.lower():
            return None
        return int(connection.get_option('port') or 22)

    def _follow(self, follow, ip):
        """Move the connection to the domain's address when libvirt now reports another."""
        try:
            now = current_address(follow)
        except Exception as error:  # pylint: disable=broad-except
            # reading the address is a help, not a condition: keep waiting at the old one
            self._display.vvv('wait_for_ssh: cannot read the address of %s: %s' % (follow['domain'], error))
            return ip
        if now and now != ip:
            self._display.display('wait_for_ssh: %s answers DHCP at %s, no longer %s: waiting there'
                                  % (follow['domain'], now, ip))
            self._play_context.remote_addr = now
            self._connection.set_option('host', now)
            return now
        return ip
