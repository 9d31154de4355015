# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the controller reaches the guests of a remote hypervisor: through the hypervisor, as
vagrant-libvirt does with ``connect_via_ssh`` - an ssh ``ProxyCommand`` (``ssh -W %h:%p``)
over the hypervisor's own SSH connection, or the user's ``proxy_command``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shlex

from ansible.module_utils.six.moves.urllib.parse import parse_qs, unquote, urlsplit

from ansible_collections.vagrantless.libvirt.plugins.module_utils import connection, validate
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

# Names that are this host: no jump to reach its guests.
LOCAL_HOSTS = frozenset(['', 'localhost', '127.0.0.1', '::1', 'localhost.localdomain'])
# How long the hop may take to answer before ssh gives up (a down hypervisor fails fast).
CONNECT_TIMEOUT = 10
# vagrant-libvirt's proxy_command placeholders.
PLACEHOLDERS = ('host', 'port', 'username', 'id_ssh_key_file')


class Hop(object):
    """The hypervisor as an SSH hop: where (host, port), as whom (user, key) and how (more
    ssh options); ``label`` names it in messages (the inventory host, or the URI's host)."""

    def __init__(self, label, host, port=None, user=None, key=None, options=()):
        self.label = label
        self.host = connection.hostname(host, 'the SSH host of hypervisor %s' % label)
        self.port = validate.port(port, 'the SSH port of hypervisor %s' % label)
        self.user = connection.user_name(user, 'the SSH user of hypervisor %s' % label) if user else None
        self.key = connection.local_path(key, 'the SSH key of hypervisor %s' % label) if key else None
        self.options = list(options)
        for option in self.options:
            connection.local_path(option, 'the SSH options of hypervisor %s' % label)

    @property
    def target(self):
        """``user@host:port`` as a person writes it."""
        return '%s%s%s' % (self.user + '@' if self.user else '', self.host,
                           ':%d' % self.port if self.port else '')

    def ssh_argv(self, *tail):
        """ssh to the hop, never asking anything, ``tail`` after the host (a command, or nothing)."""
        argv = ['ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=%d' % CONNECT_TIMEOUT]
        if self.port:
            argv += ['-p', str(self.port)]
        if self.user:
            argv += ['-l', self.user]
        if self.key:
            argv += ['-i', self.key, '-o', 'IdentitiesOnly=yes']
        return argv + self.options + ['--', self.host] + list(tail)

    def proxy_command(self):
        """The ``ProxyCommand`` that reaches ``%h:%p`` through the hop: each argument shell-quoted
        (ssh runs it with the shell) and each ``%`` of ours doubled (ssh expands ``%`` tokens)."""
        argv = [part.replace('%', '%%') for part in self.ssh_argv()]
        argv[1:1] = ['-W', '%h:%p']
        return ' '.join(shlex.quote(part) for part in argv)


def from_uri(uri):
    """The hop of an ``ssh`` transport URI to a remote host (``qemu+ssh://user@host:port/system
    ?keyfile=...``), or None for a local or non-ssh one."""
    parts = urlsplit(uri)
    if '+ssh' not in parts.scheme or (parts.hostname or '') in LOCAL_HOSTS:
        return None
    query = parse_qs(parts.query)
    options = []
    if query.get('no_verify') == ['1']:
        options += ['-o', 'StrictHostKeyChecking=no']
    if query.get('known_hosts'):
        options += ['-o', 'UserKnownHostsFile=' + query['known_hosts'][0]]
    key = query['keyfile'][0] if query.get('keyfile') else None
    return Hop(parts.hostname, parts.hostname, port=parts.port,
               user=unquote(parts.username) if parts.username else None, key=key, options=options)


def from_inventory(name, variables):
    """The hop of the inventory host ``name`` from its connection variables (``ansible_host``,
    ``ansible_port``, ``ansible_user``, ``ansible_ssh_private_key_file``,
    ``ansible_ssh_common_args``); None when it is this host (a local connection, or localhost)."""
    if name in LOCAL_HOSTS or variables.get('ansible_connection') == 'local':
        return None
    host = variables.get('ansible_host') or name
    if host in LOCAL_HOSTS:
        return None
    port = variables.get('ansible_port') or variables.get('ansible_ssh_port')
    if isinstance(port, str) and connection.is_port_text(port):
        port = int(port)
    key = variables.get('ansible_ssh_private_key_file') or variables.get('ansible_private_key_file')
    common = variables.get('ansible_ssh_common_args') or ''
    if not isinstance(common, str):
        raise ValidationError('ansible_ssh_common_args of hypervisor %s' % name, common, 'a string of ssh options')
    options = shlex.split(common)  # first: ssh takes the first value given for an option
    if variables.get('ansible_host_key_checking') is False:  # as Ansible's own connection to it
        options += ['-o', 'StrictHostKeyChecking=no']
    return Hop(name, host, port=port, user=variables.get('ansible_user') or variables.get('ansible_ssh_user'),
               key=key, options=options)


def custom_command(template, hop):
    """vagrant-libvirt's ``proxy_command``: ``{host}``, ``{port}``, ``{username}`` and
    ``{id_ssh_key_file}`` replaced by the hop's (shell-quoted), ssh's own ``%h``/``%p`` kept."""
    if not isinstance(template, str) or not template.strip() or connection.CONTROL_CHARACTERS.search(template):
        raise ValidationError('libvirt_proxy_command', template, 'an ssh ProxyCommand on one line, e.g. '
                              '"ssh {host} -l {username} -i {id_ssh_key_file} -W %h:%p"')
    values = dict(host=hop.host if hop else None, port=hop.port if hop else None,
                  username=hop.user if hop else None, id_ssh_key_file=hop.key if hop else None)
    text = template
    for name in PLACEHOLDERS:
        token = '{%s}' % name
        if token in text:
            if values[name] is None:
                raise ValidationError('libvirt_proxy_command', template, 'placeholders the hypervisor\'s '
                                      'connection gives: {%s} is unknown here' % name)
            text = text.replace(token, shlex.quote(str(values[name])))
    return text


def guest_jump(hop, proxy_command=None):
    """What reaching a guest through ``hop`` takes: the hypervisor's name and ``user@host:port``,
    the ``ProxyCommand``, the ssh options that set it, and the command that checks the hop
    itself (None when there is no hop and no ``proxy_command``)."""
    if hop is None and not proxy_command:
        return None
    command = custom_command(proxy_command, hop) if proxy_command else hop.proxy_command()
    return dict(hypervisor=hop.label if hop else None, target=hop.target if hop else None,
                proxy_command=command, ssh_options=['-o', 'ProxyCommand=' + command],
                check=hop.ssh_argv('true') if hop else None)
