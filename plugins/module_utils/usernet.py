# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The networks a domain has without root, from QEMU's own back ends on its command line:

- ``type: user`` interfaces: QEMU's user-mode network, with host forwards (a rootless machine's
  management interface: SSH and the forwarded ports at ``127.0.0.1:PORT`` of the hypervisor);
- ``type: mcast`` interfaces with a ``tunnel_local_ip``: a multicast socket link bound to that
  (loopback) address, the private network of the machines of one host, which never leaves it.

libvirt 9.0 gives neither (user-mode forwards need its passt back end, which it does not take yet,
and its multicast interfaces have no local address), so they are ``<qemu:commandline>`` arguments,
each NIC on a PCI slot of its own from ``FIRST_SLOT`` (libvirt's devices take the low ones).

The command line is also what is read back: the forwards of a defined domain, so that a second
run keeps its ports and the inventory, ``ssh_config`` and ``status`` find the SSH one. A command
line another tool wrote is only read where it is exactly ours."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import hashlib
import re
import socket

from ansible_collections.vagrantless.libvirt.plugins.module_utils import validate
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

QEMU_NS = 'http://libvirt.org/schemas/domain/qemu/1.0'
FIRST_SLOT = 0x10
# Vagrant's config.vm.usable_port_range: where a forward without a host port gets one
USABLE_PORTS = tuple(range(2200, 2251))
# the NIC models QEMU takes on its command line, by libvirt's model name
DEVICES = {'virtio': 'virtio-net-pci', 'e1000': 'e1000', 'e1000e': 'e1000e', 'rtl8139': 'rtl8139'}
NETDEV_ID = 'vlnet%d'
_IPV4 = r'(?:\d{1,3}\.){3}\d{1,3}'
FORWARD = re.compile(r'hostfwd=tcp:(?P<host_ip>%s):(?P<host_port>\d{1,5})-(?P<guest_ip>(?:%s)?):(?P<guest_port>\d{1,5})'
                     % (_IPV4, _IPV4))
USER_NETDEV = re.compile(r'user,id=vlnet\d{1,2}((?:,hostfwd=tcp:%s:\d{1,5}-(?:%s)?:\d{1,5})*)' % (_IPV4, _IPV4))


def is_user(iface):
    """Whether an interface (a libvirt_domain ``interfaces`` item) is a user-mode one (with forwards)."""
    return (iface.get('type') or 'network') == 'user'


def on_commandline(iface):
    """Whether an interface (a libvirt_domain ``interfaces`` item) is one of QEMU's command line."""
    return is_user(iface) or (iface.get('type') == 'mcast' and bool(iface.get('tunnel_local_ip')))


def check(interfaces, nic_model=None):
    """Refuse what cannot go on QEMU's command line (each value reaches it: no commas, no
    options of its own), naming the option."""
    for index, iface in enumerate(interfaces or []):
        if not on_commandline(iface):
            if iface.get('forwards'):
                raise ValidationError('interfaces[%d].forwards' % index, iface['forwards'],
                                      'only on a user-mode interface (type: user)')
            continue
        at = 'interfaces[%d]' % index
        model = iface.get('model') or nic_model or 'virtio'
        if model not in DEVICES:
            raise ValidationError(at + '.model', model, 'one of %s (a NIC on QEMU\'s command line)'
                                  % ', '.join(sorted(DEVICES)))
        if not iface.get('mac'):
            raise ValidationError(at + '.mac', None, 'a MAC address (a NIC on QEMU\'s command line gets none from '
                                  'libvirt)')
        validate.mac(iface['mac'], at + '.mac')
        if iface['type'] == 'mcast':
            group = validate.ipv4(iface.get('tunnel_ip'), at + '.tunnel_ip')
            if not validate.netaddr.IPAddress(group).is_multicast():
                raise ValidationError(at + '.tunnel_ip', group, 'a multicast group such as 239.255.1.1')
            validate.ipv4(iface['tunnel_local_ip'], at + '.tunnel_local_ip')
            validate.port(iface.get('tunnel_port'), at + '.tunnel_port')
            if iface.get('tunnel_port') is None:
                raise ValidationError(at + '.tunnel_port', None, validate.PORT_ALLOWED)
            continue
        seen = {}
        for number, forward in enumerate(iface.get('forwards') or []):
            where = '%s.forwards[%d]' % (at, number)
            if not isinstance(forward, dict):
                raise ValidationError(where, forward, 'a mapping of guest, host, host_ip and guest_ip')
            validate.port(forward.get('guest'), where + '.guest')
            if forward.get('guest') is None:
                raise ValidationError(where + '.guest', None, validate.PORT_ALLOWED)
            if forward.get('host'):  # 0 or none: chosen from USABLE_PORTS
                validate.port(forward['host'], where + '.host')
            host_ip = validate.ipv4(forward.get('host_ip') or '127.0.0.1', where + '.host_ip')
            if forward.get('guest_ip'):
                validate.ipv4(forward['guest_ip'], where + '.guest_ip')
            key = (host_ip, forward.get('host'))
            if forward.get('host') and key in seen:
                raise ValidationError(where + '.host', forward['host'], 'a port no other forward of this interface '
                                      'takes (forwards[%d] has it)' % seen[key])
            seen[key] = number


def forward_spec(forward):
    """A forward (checked) as comparable values: (host_ip, host port or 0, guest_ip or '', guest port),
    the addresses in their canonical form."""
    guest_ip = forward.get('guest_ip')
    return (validate.ipv4(forward.get('host_ip') or '127.0.0.1', 'host_ip'), int(forward.get('host') or 0),
            validate.ipv4(guest_ip, 'guest_ip') if guest_ip else '', int(forward['guest']))


def arguments(interfaces, nic_model=None):
    """The ``-netdev``/``-device`` arguments of the command-line interfaces (checked, every host
    port resolved), in order."""
    args = []
    lines = [iface for iface in interfaces or [] if on_commandline(iface)]
    for index, iface in enumerate(lines):
        netdev = NETDEV_ID % index
        if iface['type'] == 'user':
            backend = 'user,id=%s' % netdev + ''.join(
                ',hostfwd=tcp:%s:%d-%s:%d' % forward_spec(forward) for forward in iface.get('forwards') or [])
        else:
            backend = 'socket,id=%s,mcast=%s:%d,localaddr=%s' % (netdev, iface['tunnel_ip'], iface['tunnel_port'],
                                                                 iface['tunnel_local_ip'])
        device = '%s,netdev=%s,mac=%s,addr=0x%x' % (DEVICES[iface.get('model') or nic_model or 'virtio'], netdev,
                                                    iface['mac'].lower(), FIRST_SLOT + index)
        args += ['-netdev', backend, '-device', device]
    return args


def commandline_args(tree):
    """The ``<qemu:arg>`` values of a domain definition (an lxml tree)."""
    return [arg.get('value') or '' for arg in tree.findall('{%s}commandline/{%s}arg' % (QEMU_NS, QEMU_NS))]


def defined_forwards(tree):
    """The host forwards of a domain's user-mode interfaces, as dicts (host_ip, host, guest_ip,
    guest), from its definition; an argument that is not exactly ours, or a value out of range,
    is no forward."""
    found = []
    if tree is None:
        return found
    for value in commandline_args(tree):
        match = USER_NETDEV.fullmatch(value)
        if not match:
            continue
        for forward in FORWARD.finditer(match.group(1)):
            host, guest = int(forward.group('host_port')), int(forward.group('guest_port'))
            try:
                host_ip = validate.ipv4(forward.group('host_ip'), 'host_ip')
                guest_ip = validate.ipv4(forward.group('guest_ip'), 'guest_ip') if forward.group('guest_ip') else None
            except ValidationError:
                continue
            if 0 < host < 65536 and 0 < guest < 65536:
                found.append(dict(host_ip=host_ip, host=host, guest_ip=guest_ip, guest=guest))
    return found


def ssh_forward(tree, guest_port=22):
    """(address, port) to connect to for the guest's SSH port - the host end of its forward (a
    forward from every address, 0.0.0.0, is reached at 127.0.0.1) - or None."""
    for forward in defined_forwards(tree):
        if forward['guest'] == guest_port and not forward['guest_ip']:
            return '127.0.0.1' if forward['host_ip'] == '0.0.0.0' else forward['host_ip'], forward['host']
    return None


def _bindable(host_ip, port):
    """Whether nothing listens on host_ip:port here (a port in TIME_WAIT is free)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host_ip, port))
        return True
    except OSError as error:
        if error.errno in (errno.EADDRINUSE, errno.EACCES):
            return False
        raise
    finally:
        probe.close()


def resolve(interfaces, current, others, running, bindable=_bindable):
    """``interfaces`` with each forward's host port decided: the one the domain's definition
    (``current``, a tree or None) already forwards to that guest port, else the one given, else the
    first of ``USABLE_PORTS`` that no other domain (``others``: their trees) forwards from and that
    nothing listens on. A port given that another domain forwards from, or that something else
    listens on (the domain itself when ``running``), is refused, before anything is changed."""
    kept = defined_forwards(current)
    taken = set((f['host_ip'], f['host']) for tree in others for f in defined_forwards(tree))
    resolved = []
    for index, iface in enumerate(interfaces or []):
        if not is_user(iface):
            resolved.append(iface)
            continue
        forwards = []
        for number, forward in enumerate(iface.get('forwards') or []):
            host_ip, host, guest_ip, guest = forward_spec(forward)
            where = 'interfaces[%d].forwards[%d].host' % (index, number)
            ours = [f['host'] for f in kept if f['host_ip'] == host_ip and f['guest'] == guest
                    and (f['guest_ip'] or '') == guest_ip]
            if not host and ours:
                host = ours[0]
            elif not host:
                host = next((port for port in USABLE_PORTS if (host_ip, port) not in taken
                             and all((host_ip, port) != (f['host_ip'], f['host']) for f in forwards)
                             and bindable(host_ip, port)), None)
                if host is None:
                    raise ValidationError(where, 0, 'a free port: every one of %d-%d is taken on %s, give one'
                                          % (USABLE_PORTS[0], USABLE_PORTS[-1], host_ip))
            elif (host_ip, host) in taken:
                raise ValidationError(where, host, 'a port no other domain forwards from %s' % host_ip)
            elif not (running and host in ours) and not bindable(host_ip, host):
                raise ValidationError(where, host, 'a free port: something already listens on %s:%d'
                                      % (host_ip, host))
            taken.add((host_ip, host))
            forwards.append(dict(forward, host_ip=host_ip, host=host, guest_ip=guest_ip or None, guest=guest))
        resolved.append(dict(iface, forwards=forwards))
    return resolved


def multicast_link(lab, subnet):
    """The multicast group and port of a lab's private network on ``subnet``: derived, so every
    machine of the lab finds the same one, and two labs (or two subnets) hardly ever meet."""
    digest = hashlib.sha256(('%s/%s' % (lab, subnet)).encode('utf-8')).digest()
    return '239.255.%d.%d' % (digest[0], digest[1]), 20000 + int.from_bytes(digest[2:4], 'big') % 20000
