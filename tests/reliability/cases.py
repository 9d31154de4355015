# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bad inputs (here, and one file cases_<family>.py per family of untrusted input, each
with a ``cases()``): each case is a module call that must fail before anything changes, with
a message that names the option, the value and what is allowed (``expect``: the pieces
that message must hold, compared without case)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import importlib
import os

from harness import BOX_STORE, ROOT, WORK  # pylint: disable=import-error

LONG = 'vlt-rel-' + 'n' * 292   # 300 characters
BASE_VOLUME = 'vlt-rel-bad-base.qcow2'   # an existing 64 MiB qcow2 volume (fixture)
BOX_FILE = WORK + '/tiny.box'            # the lab's tiny box (fixture copies it there)
HOST_DOMAIN = 'vlt-rel-bad-host'         # a defined domain that never runs (fixture)
TUNNELS = WORK + '/tunnels'              # forwarded_port's state directory (must stay absent)
NAMES = ('vlt-rel-a/b', 'vlt-rel a b', 'vlt-rel-"q"', 'vlt-rel-<x>', 'vlt-rel-a&b', LONG)
NAME_HINT = 'letters, digits'


class Case(object):
    def __init__(self, key, module, args, *expect):
        self.key = key
        self.module = module
        self.args = args
        self.expect = expect

    def __repr__(self):
        return self.key


def _names(module, base, hint=NAME_HINT, option='name', suffix=''):
    cases = []
    for index, bad in enumerate(NAMES):
        args = dict(base, **{option: bad + suffix})
        shown = (bad + suffix)[:60]
        cases.append(Case('%s_name_%d' % (module.split('_')[-1], index), module, args, option, shown, hint))
    return cases


def all_cases():
    cases = []
    # -- libvirt_pool ----------------------------------------------------------------
    pool = dict(name='vlt-rel-bad-pool', path='/tmp/vlt-rel-bad-pool')
    cases += [
        Case('pool_state_enum', 'libvirt_pool', dict(pool, state='running'), 'state', 'running', 'present, inactive, absent'),
        Case('pool_type_enum', 'libvirt_pool', dict(pool, type='logical'), 'type', 'logical', 'dir'),
        Case('pool_path_relative', 'libvirt_pool', dict(pool, path='images/vlt-rel'), 'path', 'images/vlt-rel',
             'absolute path'),
        Case('pool_path_dotdot', 'libvirt_pool', dict(pool, path='/tmp/../etc/vlt-rel'), 'path', '/tmp/../etc/vlt-rel',
             'absolute path'),
        Case('pool_autostart_bool', 'libvirt_pool', dict(pool, autostart='sometimes'), 'autostart', 'sometimes',
             'valid boolean'),
    ]
    cases += _names('libvirt_pool', pool)[::2]
    # -- libvirt_volume --------------------------------------------------------------
    vol = dict(name='vlt-rel-bad.qcow2', pool='default', capacity='16M')
    cases += [
        Case('volume_state_enum', 'libvirt_volume', dict(vol, state='gone'), 'state', 'gone', 'present, absent'),
        Case('volume_format_enum', 'libvirt_volume', dict(vol, format='vmdk'), 'format', 'vmdk', 'qcow2, raw'),
        Case('volume_backing_format_enum', 'libvirt_volume', dict(vol, capacity=None, backing_volume=BASE_VOLUME,
                                                                  backing_format='vdi'),
             'backing_format', 'vdi', 'qcow2, raw'),
        Case('volume_capacity_zero', 'libvirt_volume', dict(vol, capacity=0), 'capacity', '0', 'at least 1 bytes'),
        Case('volume_capacity_negative', 'libvirt_volume', dict(vol, capacity='-1G'), 'capacity', '-1G', 'K/M/G/T'),
        Case('volume_capacity_unit', 'libvirt_volume', dict(vol, capacity='10XB'), 'capacity', '10XB', 'K/M/G/T'),
        Case('volume_capacity_garbage', 'libvirt_volume', dict(vol, capacity='lots'), 'capacity', 'lots', 'K/M/G/T'),
        Case('volume_capacity_missing', 'libvirt_volume', dict(vol, capacity=None), 'capacity', 'None',
             'a size for a new empty volume'),
        Case('volume_pool_missing', 'libvirt_volume', dict(vol, pool='vlt-rel-nopool'), 'pool', 'vlt-rel-nopool',
             'defined storage pool'),
        Case('volume_backing_missing', 'libvirt_volume', dict(vol, capacity=None, backing_volume='vlt-rel-none.img'),
             'backing_volume', 'vlt-rel-none.img', 'a volume in pool default'),
        Case('volume_clone_missing', 'libvirt_volume', dict(vol, capacity=None, clone_from='vlt-rel-none.img'),
             'clone_from', 'vlt-rel-none.img', 'a volume in pool default'),
        Case('volume_upload_missing', 'libvirt_volume', dict(vol, capacity=None, upload='/tmp/vlt-rel-none.img'),
             'upload', '/tmp/vlt-rel-none.img', 'an existing local file'),
        Case('volume_overlay_shrinks', 'libvirt_volume', dict(vol, capacity='1M', backing_volume=BASE_VOLUME),
             'capacity', '1M', 'volumes only grow'),
        Case('volume_sources_conflict', 'libvirt_volume', dict(vol, capacity=None, upload=BOX_FILE,
                                                               clone_from=BASE_VOLUME, backing_volume=BASE_VOLUME),
             'backing_volume', 'clone_from', 'upload', 'only one of'),
        Case('volume_cloud_init_no_user_data', 'libvirt_volume', dict(vol, capacity=None,
                                                                      cloud_init=dict(meta_data='x')),
             'user_data', 'cloud_init', 'required'),
    ]
    cases += _names('libvirt_volume', vol, suffix='.qcow2')[1::2]
    # -- libvirt_network -------------------------------------------------------------
    net = dict(name='vlt-rel-bad-net', address='10.91.9.0/24')
    host = dict(mac='52:54:00:91:09:01', ip='10.91.9.50')
    cases += [
        Case('network_forward_enum', 'libvirt_network', dict(net, forward_mode='masquerade'), 'forward_mode',
             'masquerade', 'nat, route, none'),
        Case('network_state_enum', 'libvirt_network', dict(net, state='up'), 'state', 'up', 'present, inactive, absent'),
        Case('network_host_state_enum', 'libvirt_network', dict(net, dhcp_hosts=[dict(host, state='gone')]), 'state',
             'gone', 'present, absent'),
        Case('network_address_garbage', 'libvirt_network', dict(net, address='10.91.300.0/24'), 'address',
             '10.91.300.0/24', 'CIDR'),
        Case('network_ip_garbage', 'libvirt_network', dict(name='vlt-rel-bad-net', ip='not-an-ip'), 'ip',
             'not-an-ip', 'IPv4 address'),
        Case('network_netmask_garbage', 'libvirt_network', dict(name='vlt-rel-bad-net', ip='10.91.9.1',
                                                                netmask='255.0.255.0'),
             'netmask', '255.0.255.0', 'netmask'),
        Case('network_dhcp_start_outside', 'libvirt_network', dict(net, dhcp_start='10.91.8.10'), 'dhcp_start',
             '10.91.8.10', 'inside 10.91.9.0/24'),
        Case('network_dhcp_stop_outside', 'libvirt_network', dict(net, dhcp_stop='10.91.10.1'), 'dhcp_stop',
             '10.91.10.1', 'inside 10.91.9.0/24'),
        Case('network_dhcp_reversed', 'libvirt_network', dict(net, dhcp_start='10.91.9.200', dhcp_stop='10.91.9.100'),
             'dhcp_start', '10.91.9.200', 'not after dhcp_stop'),
        Case('network_host_ip_outside', 'libvirt_network', dict(net, host_ip='10.91.19.1'), 'host_ip', '10.91.19.1',
             'inside 10.91.9.0/24'),
        Case('network_mac_malformed', 'libvirt_network', dict(net, dhcp_hosts=[dict(host, mac='52:54:00:zz:09:01')]),
             'dhcp_hosts[0].mac', '52:54:00:zz:09:01', 'MAC address'),
        Case('network_mac_multicast', 'libvirt_network', dict(net, dhcp_hosts=[dict(host, mac='01:00:5e:91:09:01')]),
             'dhcp_hosts[0].mac', '01:00:5e:91:09:01', 'unicast'),
        Case('network_reservation_outside_new', 'libvirt_network', dict(net, dhcp_hosts=[dict(host, ip='10.91.10.5')]),
             'dhcp_hosts[0].ip', '10.91.10.5', 'inside 10.91.9.0/24'),
        Case('network_reservation_outside_default', 'libvirt_network',
             dict(name='default', dhcp_hosts=[dict(mac='52:54:00:91:00:20', ip='10.91.0.20')]),
             'dhcp_hosts[0].ip', '10.91.0.20', 'inside 192.168.122.0/24'),
        Case('network_reservation_ip_garbage', 'libvirt_network',
             dict(name='default', dhcp_hosts=[dict(mac='52:54:00:91:00:21', ip='192.168.122.300')]),
             'dhcp_hosts[0].ip', '192.168.122.300', 'IPv4 address'),
        Case('network_reservation_host_address', 'libvirt_network',
             dict(name='default', dhcp_hosts=[dict(mac='52:54:00:91:00:22', ip='192.168.122.1')]),
             'dhcp_hosts[0].ip', '192.168.122.1', "other than the host's"),
        Case('network_mtu_range', 'libvirt_network', dict(net, mtu=10), 'mtu', '10', '68 to 65535'),
        Case('network_bridge_long', 'libvirt_network', dict(net, bridge='vlt-rel-bridge-too-long'), 'bridge',
             'vlt-rel-bridge-too-long', 'at most 15 characters'),
        Case('network_ipv6_garbage', 'libvirt_network', dict(net, ipv6_address='fd00::zz'), 'ipv6_address',
             'fd00::zz', 'IPv6 address'),
        Case('network_missing', 'libvirt_network', dict(name='vlt-rel-nonet'), 'address', 'None',
             'create network vlt-rel-nonet'),
    ]
    cases += _names('libvirt_network', net)[::2]
    # -- libvirt_box -----------------------------------------------------------------
    box = dict(name='vlt-rel/tiny', src=BOX_FILE, box_store=BOX_STORE, pool='default')
    cases += [
        Case('box_state_enum', 'libvirt_box', dict(box, state='latest'), 'state', 'latest', 'present, absent'),
        Case('box_checksum_type_enum', 'libvirt_box', dict(box, checksum='abc', checksum_type='crc32'),
             'checksum_type', 'crc32', 'sha256'),
        Case('box_checksum_mismatch', 'libvirt_box', dict(box, checksum='0' * 64, checksum_type='sha256'), 'checksum',
             '0' * 64, 'sha256'),
        Case('box_checksum_no_type', 'libvirt_box', dict(box, checksum='0' * 64), 'checksum_type', 'None', 'sha256'),
        Case('box_version_garbage', 'libvirt_box', dict(box, version='latest!'), 'version', 'latest!', '>= 1.2'),
        Case('box_missing', 'libvirt_box', dict(name='vlt-rel-missing', box_store=BOX_STORE, pool='default'), 'src',
             'None', 'a box file or URL'),
        # looked up as Vagrant does, on a server that is not there (port 9: nothing listens)
        Case('box_missing_on_the_server', 'libvirt_box', dict(name='vlt-rel/missing', box_store=BOX_STORE,
                                                              pool='default', server_url='http://127.0.0.1:9'),
             'name', 'vlt-rel/missing', 'is not in the store', 'http://127.0.0.1:9/vlt-rel/missing'),
        Case('box_server_url_file', 'libvirt_box', dict(name='vlt-rel/missing', box_store=BOX_STORE, pool='default',
                                                        server_url='file:///etc'),
             'server_url', 'file:///etc', 'an http or https URL'),
        Case('box_src_missing', 'libvirt_box', dict(box, src='/tmp/vlt-rel-none.box'), 'src', '/tmp/vlt-rel-none.box',
             'a box file that exists'),
        Case('box_pool_missing', 'libvirt_box', dict(box, pool='vlt-rel-nopool'), 'pool', 'vlt-rel-nopool',
             'defined storage pool'),
        Case('box_name_slashes', 'libvirt_box', dict(box, name='vlt-rel/a/b'), 'name', 'vlt-rel/a/b', 'at most one "/"'),
        Case('box_name_space', 'libvirt_box', dict(box, name='vlt-rel box'), 'name', 'vlt-rel box', 'Vagrant box name'),
        Case('box_name_lt_amp', 'libvirt_box', dict(box, name='vlt-rel/<a&b>'), 'name', 'vlt-rel/<a&b>',
             'Vagrant box name'),
        Case('box_name_long', 'libvirt_box', dict(box, name=LONG), 'name', LONG[:60], 'up to 100 characters'),
    ]
    # -- libvirt_domain --------------------------------------------------------------
    dom = dict(name='vlt-rel-bad-dom', memory=64)
    cases += [
        Case('domain_state_enum', 'libvirt_domain', dict(dom, state='booted'), 'state', 'booted', 'running'),
        Case('domain_cpu_mode_enum', 'libvirt_domain', dict(dom, cpu_mode='fast'), 'cpu_mode', 'fast', 'host-model'),
        Case('domain_disk_bus_enum', 'libvirt_domain', dict(dom, disk_bus='nvme0'), 'disk_bus', 'nvme0', 'virtio'),
        Case('domain_graphics_enum', 'libvirt_domain', dict(dom, graphics_type='rdp'), 'graphics_type', 'rdp', 'vnc'),
        Case('domain_video_enum', 'libvirt_domain', dict(dom, video_type='svga3'), 'video_type', 'svga3', 'cirrus'),
        Case('domain_cache_enum', 'libvirt_domain', dict(dom, volume_cache='fast'), 'volume_cache', 'fast',
             'writeback'),
        Case('domain_shutdown_enum', 'libvirt_domain', dict(dom, shutdown_mode='pull-plug'), 'shutdown_mode',
             'pull-plug', 'acpi, agent'),
        Case('domain_cpu_fallback_enum', 'libvirt_domain', dict(dom, cpu_fallback='maybe'), 'cpu_fallback', 'maybe',
             'allow, forbid'),
        Case('domain_boot_enum', 'libvirt_domain', dict(dom, boot=['hd', 'floppy']), 'boot', 'floppy', 'cdrom'),
        Case('domain_interface_type_enum', 'libvirt_domain', dict(dom, interfaces=[dict(type='wifi')]), 'type', 'wifi',
             'network, bridge'),
        Case('domain_disk_type_enum', 'libvirt_domain', dict(dom, disks=[dict(path='/tmp/x.img', device_type='tape')]),
             'device_type', 'tape', 'disk, cdrom'),
        Case('domain_nic_model_enum', 'libvirt_domain', dict(dom, nic_model_type='ne3000'), 'nic_model_type', 'ne3000',
             'virtio'),
        Case('domain_memory_zero', 'libvirt_domain', dict(dom, memory=0), 'memory', '0', 'greater than 0'),
        Case('domain_memory_negative', 'libvirt_domain', dict(dom, memory=-256), 'memory', '-256', 'greater than 0'),
        Case('domain_memory_unit', 'libvirt_domain', dict(dom, memory='1GB'), 'memory', '1GB', 'int'),
        Case('domain_cpus_zero', 'libvirt_domain', dict(dom, cpus=0), 'cpus', '0', 'greater than 0'),
        Case('domain_cputopology_mismatch', 'libvirt_domain',
             dict(dom, cpus=1, cputopology=dict(sockets=2, cores=1, threads=1)), 'cputopology', 'sockets',
             'equal to cpus (1)'),
        Case('domain_cputopology_zero', 'libvirt_domain',
             dict(dom, cpus=2, cputopology=dict(sockets=2, cores=0, threads=1)),
             'cputopology.cores', '0', 'greater than 0'),
        Case('domain_mac_malformed', 'libvirt_domain', dict(dom, interfaces=[dict(network='default', mac='52-54-00')]),
             'interfaces[0].mac', '52-54-00', 'MAC address'),
        Case('domain_network_missing', 'libvirt_domain', dict(dom, interfaces=[dict(network='vlt-rel-nonet')]),
             'interfaces[0].network', 'vlt-rel-nonet', 'defined network'),
        Case('domain_volume_missing', 'libvirt_domain', dict(dom, disks=[dict(volume='vlt-rel-none.img')]),
             'disks[0].volume', 'vlt-rel-none.img', 'a volume of pool default'),
        Case('domain_pool_missing', 'libvirt_domain', dict(dom, disks=[dict(volume='x.img', pool='vlt-rel-nopool')]),
             'disks[0].pool', 'vlt-rel-nopool', 'defined storage pool'),
        Case('domain_disk_path_relative', 'libvirt_domain', dict(dom, disks=[dict(path='disks/vlt-rel.img')]),
             'disks[0].path', 'disks/vlt-rel.img', 'absolute path'),
        Case('domain_kernel_relative', 'libvirt_domain', dict(dom, kernel='vmlinuz'), 'kernel', 'vmlinuz',
             'absolute path'),
        Case('domain_graceful_timeout_negative', 'libvirt_domain', dict(dom, graceful_timeout=-5), 'graceful_timeout',
             '-5', '0 or more'),
    ]
    cases += _names('libvirt_domain', dom)[1::2]
    # -- libvirt_lease_facts ---------------------------------------------------------
    cases += [
        Case('lease_sources_enum', 'libvirt_lease_facts', dict(macs=['52:54:00:91:00:30'], sources=['dhcp']),
             'sources', 'dhcp', 'reservation'),
        Case('lease_mac_malformed', 'libvirt_lease_facts', dict(macs=['52:54:00:91:00']), 'macs[0]', '52:54:00:91:00',
             'MAC address'),
        Case('lease_domain_missing', 'libvirt_lease_facts', dict(domain='vlt-rel-nodomain'), 'domain',
             'vlt-rel-nodomain', 'defined domain'),
        Case('lease_wait_negative', 'libvirt_lease_facts', dict(macs=['52:54:00:91:00:30'], wait_timeout=-1),
             'wait_timeout', '-1', '0 or more'),
    ]
    cases += module_cases('libvirt_snapshot', [
        Case('snapshot_state_enum', 'libvirt_snapshot', dict(domain=HOST_DOMAIN, name='s1', state='restored'), 'state',
             'restored', 'present, absent, reverted'),
        Case('snapshot_name_digits', 'libvirt_snapshot', dict(domain=HOST_DOMAIN, name='1234'), 'name', '1234',
             'not only digits'),
        Case('snapshot_domain_missing', 'libvirt_snapshot', dict(domain='vlt-rel-nodomain', name='s1'), 'domain',
             'vlt-rel-nodomain', 'defined domain'),
        Case('snapshot_revert_missing', 'libvirt_snapshot', dict(domain=HOST_DOMAIN, name='vlt-rel-none',
                                                                 state='reverted'),
             'name', 'vlt-rel-none', HOST_DOMAIN),
        Case('snapshot_revert_no_name', 'libvirt_snapshot', dict(domain=HOST_DOMAIN, state='reverted'), 'name', 'None',
             'needs a name'),
        Case('snapshot_start_conflict', 'libvirt_snapshot', dict(domain=HOST_DOMAIN, name='s1', start=True), 'start',
             'True', 'only with state=reverted'),
    ])
    tunnel = dict(machine='vlt-rel-bad-tunnel', guest=22, host=42222, ssh_host='192.168.122.229', state_dir=TUNNELS)
    cases += module_cases('forwarded_port', [
        Case('tunnel_state_enum', 'forwarded_port', dict(tunnel, state='open'), 'state', 'open', 'present, absent'),
        Case('tunnel_protocol_udp', 'forwarded_port', dict(tunnel, protocol='udp'), 'protocol', 'udp', 'tcp only'),
        Case('tunnel_guest_port_zero', 'forwarded_port', dict(tunnel, guest=0), 'guest', '0', '65535'),
        Case('tunnel_host_port_range', 'forwarded_port', dict(tunnel, host=70000), 'host', '70000', '65535'),
        Case('tunnel_host_ip_garbage', 'forwarded_port', dict(tunnel, host_ip='10.91.0.300'), 'host_ip',
             '10.91.0.300', 'an IP address of this host'),
        Case('tunnel_ssh_user_injection', 'forwarded_port', dict(tunnel, ssh_user='root;reboot'), 'ssh_user',
             'root;reboot', 'a user name'),
        Case('tunnel_extra_args_fork', 'forwarded_port', dict(tunnel, ssh_extra_args=['-f']), 'ssh_extra_args', '-f',
             'no -f'),
        Case('tunnel_timeout_zero', 'forwarded_port', dict(tunnel, timeout=0), 'timeout', '0', 'from 1 to 600'),
        Case('tunnel_machine_name', 'forwarded_port', dict(tunnel, machine='vlt-rel a&b'), 'machine', 'vlt-rel a&b',
             NAME_HINT),
    ])
    for family in families():
        cases += family.cases()
    return cases


def families():
    """The modules cases_<family>.py beside this file."""
    return [importlib.import_module(os.path.basename(path)[:-3])
            for path in sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'cases_*.py')))]


def prepare():
    """What the families' cases need, made after the suite's cleanup and before the batch's
    first snapshot: a family may have a ``prepare()`` (crafted files under WORK, lab objects
    named vlt-rel-*)."""
    for family in families():
        if hasattr(family, 'prepare'):
            family.prepare()


def module_cases(module, found):
    """The cases of a module being written alongside this suite, once it is there."""
    return found if os.path.exists(os.path.join(ROOT, 'plugins', 'modules', module + '.py')) else []
