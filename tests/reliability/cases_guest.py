# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad inputs of the guest family (issue 15, classes 7 to 10): connection URI parts that would
add a path, query parameters, a fragment or user info; ssh arguments of forwarded ports that
would add ssh options; cloud-init seeds of the wrong shape. Lease files and guests' host names
are not refusals (they are skipped with a warning): test_untrusted_sources.py has them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from cases import Case, TUNNELS  # pylint: disable=import-error

MAC = '52:54:00:91:00:40'
HOST_HINT = 'a host name'
USER_HINT = 'a user name'

# option -> bad values; each is tried with uri='' (so the parts build the URI) on a read-only module
URI_PARTS = [
    ('host', 'hv1/system?socket=/tmp/vlt-rel-x#', HOST_HINT, dict()),
    ('host', 'hv1?keyfile=/tmp/vlt-rel-k', HOST_HINT, dict()),
    ('host', 'hv1#fragment', HOST_HINT, dict()),
    ('host', 'evil@hv1', HOST_HINT, dict(connect_via_ssh=True)),
    ('host', 'hv1\n', HOST_HINT, dict()),
    ('host', '-oProxyCommand=touch /tmp/vlt-rel-pwned', HOST_HINT, dict(connect_via_ssh=True)),
    ('host', 'hv1:0', ':port', dict()),
    ('host', 'hv1:http', ':port', dict()),
    ('host', 'fe80::1%eth0', HOST_HINT, dict()),
    ('host', 'hv1 hv2', HOST_HINT, dict()),
    ('username', 'root@evil', USER_HINT, dict(host='hv1', connect_via_ssh=True)),
    ('username', 'admin:secret', USER_HINT, dict(host='hv1', connect_via_ssh=True)),
    ('username', 'a b', USER_HINT, dict(host='hv1', connect_via_ssh=True)),
    ('username', '-oProxyCommand=x', USER_HINT, dict(host='hv1', connect_via_ssh=True)),
    ('username', 'admin\n', USER_HINT, dict(host='hv1', connect_via_ssh=True)),
    ('id_ssh_key_file', '/tmp/vlt-rel-key\n', 'without control characters', dict(host='hv1', connect_via_ssh=True)),
    ('socket', 'run/libvirt/libvirt-sock', 'an absolute path', dict()),
    ('socket', '/run/vlt-rel-sock\r', 'an absolute path', dict()),
    ('uri', 'qemu:///system\n', 'a libvirt URI', dict()),
    ('uri', 'qemu:///system?socket=/a b', 'a libvirt URI', dict()),
    ('uri', '/var/run/libvirt/libvirt-sock', 'a libvirt URI', dict()),
]


def _uri_cases():
    cases = []
    for index, (option, value, hint, extra) in enumerate(URI_PARTS):
        args = dict(dict(macs=[MAC], uri=''), **extra)
        args[option] = value
        shown = repr(value)[1:-1]
        cases.append(Case('guest_uri_%s_%d' % (option, index), 'libvirt_lease_facts', args, option, shown, hint))
    cases.append(Case('guest_system_uri_newline', 'libvirt_network',
                      dict(name='vlt-rel-guest-net', uri='', qemu_use_session=True, system_uri='qemu:///system\n'),
                      'system_uri', 'a libvirt URI'))
    return cases


TUNNEL = dict(machine='vlt-rel-guest-tunnel', guest=22, host=42223, ssh_host='192.168.122.228', state_dir=TUNNELS)
# option -> bad values: each would otherwise add an ssh option or a second argument
TUNNEL_BAD = [
    ('ssh_host', '-oProxyCommand=touch /tmp/vlt-rel-pwned', HOST_HINT),
    ('ssh_host', '192.168.122.228\n', HOST_HINT),
    ('ssh_host', 'guest -p 2222', HOST_HINT),
    ('ssh_host', 'fe80::1%-oProxyCommand=x', HOST_HINT),
    ('guest_ip', '-L', HOST_HINT),
    ('guest_ip', '10.0.0.1 -R 9999:localhost:22', HOST_HINT),
    ('ssh_user', 'root\n', USER_HINT),
    ('ssh_user', 'root -oProxyCommand=x', USER_HINT),
    ('ssh_user', '-lroot', USER_HINT),
    ('host_ip', '127.0.0.1 -g', 'an IP address of this host'),
    ('ssh_private_key_file', '/tmp/vlt-rel no such key -o ProxyCommand=x', 'a readable private key file'),
]


def _tunnel_cases():
    cases = []
    for index, (option, value, hint) in enumerate(TUNNEL_BAD):
        cases.append(Case('guest_tunnel_%s_%d' % (option, index), 'forwarded_port', dict(TUNNEL, **{option: value}),
                          option, repr(value)[1:-1], hint))
    return cases


SEED = dict(name='vlt-rel-guest-seed.iso', pool='default')


def _seed_cases():
    return [
        Case('guest_seed_unknown_key', 'libvirt_volume', dict(SEED, cloud_init=dict(user_data='x', vendor_data='y')),
             'vendor_data'),
        Case('guest_seed_and_upload', 'libvirt_volume',
             dict(SEED, cloud_init=dict(user_data='#cloud-config'), upload='/tmp/vlt-rel-none.img'),
             'cloud_init', 'upload', 'only one of'),
    ]


def cases():
    return _uri_cases() + _tunnel_cases() + _seed_cases()
