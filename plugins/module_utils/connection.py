# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The libvirt connection: vagrant-libvirt's provider options turned into a URI,
opened with messages that say what to do instead of a traceback."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import re
import traceback

from ansible.module_utils.six.moves.urllib.parse import quote, urlencode, urlsplit

LIBVIRT_IMPORT_ERROR = None
try:
    import libvirt
except ImportError:
    libvirt = None
    LIBVIRT_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

# vagrant-libvirt's `driver` values and the URI path each one connects to.
# kvm is a domain type, its URI scheme is qemu.
DRIVERS = {
    'kvm': ('qemu', None),
    'qemu': ('qemu', None),
    'openvz': ('openvz', '/system'),
    'uml': ('uml', '/system'),
    'phyp': ('phyp', '/system'),
    'parallels': ('parallels', '/system'),
    'esx': ('esx', '/'),
    'vbox': ('vbox', '/session'),
    'vmwarews': ('vmwarews', '/session'),
    'hyperv': ('hyperv', '/session'),
}

# The parts a URI or an ssh command line is built from, each checked whole (re.fullmatch): a
# host or user name that could carry "/", "?", "#", "@" or a leading "-" would add a path,
# query parameters, a fragment, user info or an ssh option.
HOST_LABEL = r'[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?'
HOSTNAME_PATTERN = re.compile(r'%s(?:\.%s)*' % (HOST_LABEL, HOST_LABEL))
HOSTNAME_MAX = 253
HOSTNAME_ALLOWED = ('a host name (labels of letters, digits, "_" and "-" separated by dots, up to %d characters, '
                    'not starting with "-") or an IP address' % HOSTNAME_MAX)
USER_PATTERN = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}\$?')
USER_ALLOWED = 'a user name: 1 to 64 letters, digits and "_ . -", not starting with "-" or "."'
PORT_PATTERN = re.compile(r'[0-9]{1,5}')
URI_PATTERN = re.compile(r'[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1f\x7f]*')
CONTROL_CHARACTERS = re.compile(r'[\x00-\x1f\x7f]')

CONNECTION_ARGUMENT_SPEC = dict(
    uri=dict(type='str'),
    driver=dict(type='str', default='kvm', choices=sorted(DRIVERS)),
    host=dict(type='str'),
    connect_via_ssh=dict(type='bool'),
    username=dict(type='str'),
    password=dict(type='str', no_log=True),
    id_ssh_key_file=dict(type='str'),
    socket=dict(type='str'),
    qemu_use_session=dict(type='bool', default=False),
    system_uri=dict(type='str', default='qemu:///system'),
)


class LibvirtConnectionError(Exception):
    """Opening a connection failed; the message names the URI and what to do."""


def connection_argument_spec(**extra):
    """The shared connection options, plus a module's own ``extra`` options."""
    spec = dict((name, dict(option)) for name, option in CONNECTION_ARGUMENT_SPEC.items())
    spec.update(extra)
    return spec


def ip_address(value):
    """``value`` as a canonical IP address string, or None when it is no IP literal (scope ids
    such as ``%eth0`` are refused: they are free text)."""
    if not isinstance(value, str) or '%' in value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def is_port_text(value):
    """Whether ``value`` is a port number written as text (1 to 65535, digits only)."""
    return isinstance(value, str) and PORT_PATTERN.fullmatch(value) is not None and 0 < int(value) < 65536


def is_hostname(value):
    """Whether ``value`` is a host name (not an IP address) safe in a URI, a file name and as an
    ssh argument."""
    return (isinstance(value, str) and len(value) <= HOSTNAME_MAX and HOSTNAME_PATTERN.fullmatch(value) is not None
            and not value.replace('.', '').isdigit())


def hostname(value, option='host'):
    """A host name or an IP address (IPv6 with or without brackets)."""
    bare = value[1:-1] if isinstance(value, str) and value.startswith('[') and value.endswith(']') else value
    if is_hostname(value) or ip_address(bare):
        return value
    raise ValidationError(option, value, HOSTNAME_ALLOWED)


def user_name(value, option='username'):
    if isinstance(value, str) and USER_PATTERN.fullmatch(value):
        return value
    raise ValidationError(option, value, USER_ALLOWED)


def local_path(value, option, absolute=False):
    """A path with no control character (``~`` allowed unless ``absolute``)."""
    if (not isinstance(value, str) or not value or CONTROL_CHARACTERS.search(value)
            or (absolute and not value.startswith('/'))):
        raise ValidationError(option, value, '%s without control characters'
                              % ('an absolute path' if absolute else 'a path'))
    return value


def uri_text(value, option='uri'):
    """A whole URI given by the user: a scheme, and no space or control character."""
    if not isinstance(value, str) or not URI_PATTERN.fullmatch(value):
        raise ValidationError(option, value, 'a libvirt URI such as qemu:///system or '
                              'qemu+ssh://user@host/system (no spaces or control characters)')
    return value


def _authority(params):
    """``host`` (with an optional ``:port``), checked; IPv6 in brackets."""
    host = params.get('host')
    if not host:
        return ''
    port = None
    if host.count(':') == 1 or (host.startswith('[') and ']:' in host):
        host, port = host.rsplit(':', 1)
        if not is_port_text(port):
            raise ValidationError('host', params['host'], HOSTNAME_ALLOWED + ', with an optional ":port" '
                                  '(1 to 65535)')
    hostname(host, 'host')
    bare = host.strip('[]')
    if ip_address(bare) and ':' in bare:
        host = '[%s]' % bare
    return host + (':' + port if port else '')


def ssh_key_file(value, home=None):
    """vagrant-libvirt's ``id_ssh_key_file``: ``~/.ssh/`` is prepended to a bare name."""
    home = home or os.path.expanduser('~')
    value = value or 'id_rsa'
    if os.path.dirname(value) == '':
        return os.path.join(home, '.ssh', value)
    return os.path.expanduser(value)


def build_uri(params, home=None):
    """The libvirt URI vagrant-libvirt builds from its provider options.

    ``uri`` overrides everything. Otherwise the scheme comes from ``driver``, ``+ssh``
    is added when ``connect_via_ssh`` is true (or unset with an explicit
    ``id_ssh_key_file``), and ``socket`` / ``keyfile`` / ``no_verify`` become query
    parameters.
    """
    if params.get('uri'):
        return uri_text(params['uri'])
    driver = params.get('driver') or 'kvm'
    if driver not in DRIVERS:
        raise ValidationError('driver', driver, 'one of %s' % ', '.join(sorted(DRIVERS)))
    scheme, path = DRIVERS[driver]
    if path is None:
        path = '/session' if params.get('qemu_use_session') else '/system'

    via_ssh = params.get('connect_via_ssh')
    if via_ssh is None:
        via_ssh = bool(params.get('id_ssh_key_file'))

    # every part checked whole, then quoted into its place: none can add a query or a fragment
    authority = _authority(params)
    query = []
    if via_ssh:
        user = user_name(params['username']) if params.get('username') else None
        key = local_path(params['id_ssh_key_file'], 'id_ssh_key_file') if params.get('id_ssh_key_file') else None
        authority = (quote(user, safe='') + '@' if user else '') + (authority or 'localhost')
        uri = '%s+ssh://%s%s' % (scheme, authority, path)
        query.append(('no_verify', '1'))
        query.append(('keyfile', ssh_key_file(key, home)))
    else:
        uri = '%s://%s%s' % (scheme, authority, path)
    if params.get('socket'):
        query.append(('socket', local_path(params['socket'], 'socket', absolute=True)))
    if query:
        uri += '?' + urlencode(query, safe='/')
    return uri


def is_session(params):
    """Whether the connection options reach a per-user (session) libvirt: ``qemu_use_session``,
    or a URI whose path is ``/session``."""
    if params.get('uri'):
        return urlsplit(params['uri']).path.rstrip('/') == '/session'
    return bool(params.get('qemu_use_session'))


def system_uri(params):
    """The URI for system-wide objects (networks) when machines run in a session."""
    if params.get('qemu_use_session') and not params.get('uri'):
        return uri_text(params['system_uri'], 'system_uri') if params.get('system_uri') else 'qemu:///system'
    return build_uri(params)


def explain_libvirt_error(error):
    """A one-line hint for a libvirt error message: what a user should check."""
    lowered = str(error).lower()
    if 'not recognised' in lowered or 'no connection driver' in lowered or 'unsupported' in lowered:
        return 'this libvirt does not understand the URI: check its scheme and transport'
    if 'no such file or directory' in lowered and 'sock' in lowered:
        return 'libvirtd is not running (or listens on another socket): start it, or set socket/uri'
    if 'permission denied' in lowered or 'authentication' in lowered or 'not authorized' in lowered:
        return ('permission denied: run as a user in the libvirt group, give username/password, '
                'or use qemu_use_session for qemu:///session')
    if 'ssh:' in lowered or 'cannot recv data' in lowered or 'host key' in lowered:
        return ('the SSH transport failed: check host, username, id_ssh_key_file and that the '
                'remote user can reach libvirtd')
    if 'connection refused' in lowered:
        return 'nothing listens there: is libvirtd running with that transport enabled?'
    return 'check that libvirtd runs and that the URI is right'


def _auth_callback(username, password):
    def callback(credentials, user_data):
        for credential in credentials:
            if credential[0] == libvirt.VIR_CRED_AUTHNAME:
                credential[4] = username or credential[3]
            elif credential[0] == libvirt.VIR_CRED_PASSPHRASE:
                credential[4] = password
            else:
                return -1
        return 0
    return callback


def _quiet(unused_context, unused_error):
    """libvirt prints every error to stderr by default; ours are raised and explained."""


def open_connection(params, uri=None):
    """Open a read-write connection; raise LibvirtConnectionError with a clear message."""
    if libvirt is None:
        raise LibvirtConnectionError('the libvirt-python library is not installed on this host')
    libvirt.registerErrorHandler(_quiet, None)
    uri = uri or build_uri(params)
    try:
        if params.get('password'):
            auth = [[libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_PASSPHRASE],
                    _auth_callback(params.get('username'), params['password']), None]
            return libvirt.openAuth(uri, auth, 0)
        return libvirt.open(uri)
    except libvirt.libvirtError as error:
        raise LibvirtConnectionError('cannot connect to libvirt at %s: %s (%s)'
                                     % (uri, error.get_error_message(), explain_libvirt_error(error)))


def connect(module, uri=None):
    """Open the connection a module's parameters describe, or fail the module."""
    if libvirt is None:
        from ansible.module_utils.basic import missing_required_lib
        module.fail_json(msg=missing_required_lib('libvirt-python'), exception=LIBVIRT_IMPORT_ERROR)
    try:
        return open_connection(module.params, uri)
    except (LibvirtConnectionError, ValueError) as error:
        module.fail_json(msg=str(error), **({'option': error.option} if hasattr(error, 'option') else {}))
