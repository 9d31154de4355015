# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A domain's desired XML from vagrant-libvirt's domain options, one builder per
option group, each in the form libvirt normalizes to (memory in KiB, video RAM in
powers of two...), so that laying it over libvirt's own XML is a no-op when nothing
changed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.vagrantless.libvirt.plugins.module_utils import metadata, validate, xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

E = xmltree.element
GRAPHICS_TYPES = ('vnc', 'spice', 'sdl', 'none')
VIDEO_TYPES = ('cirrus', 'vga', 'qxl', 'virtio', 'vmvga', 'bochs', 'ramfb', 'none')
CPU_MODES = ('host-model', 'host-passthrough', 'custom', 'maximum')
DISK_BUSES = ('virtio', 'scsi', 'sata', 'ide', 'usb')
CACHE_MODES = ('default', 'none', 'writethrough', 'writeback', 'directsync', 'unsafe')
BOOT_DEVICES = ('hd', 'network', 'cdrom', 'fd')
INTERFACE_TYPES = ('network', 'bridge')
NIC_MODELS = ('virtio', 'e1000', 'e1000e', 'rtl8139', 'ne2k_pci', 'pcnet', 'vmxnet3')
DOMAIN_TYPES = {'kvm': 'kvm', 'qemu': 'qemu'}

# vagrant-libvirt's defaults, applied when a domain is created; on an existing domain
# only the options given are merged, so `state: stopped` alone changes no definition.
DEFAULTS = dict(memory=512, cpus=1, features=['acpi', 'apic', 'pae'], machine_arch='x86_64', boot=['hd'],
                disk_bus='virtio', nic_model_type='virtio', graphics_type='vnc', graphics_ip='127.0.0.1',
                graphics_autoport=True, graphics_port=5900, keymap='en-us', video_type='cirrus', video_vram=9216,
                cpu_fallback='allow', disks=[], interfaces=[])
DEFINITION_OPTIONS = ('title', 'description', 'uuid', 'memory', 'cpus', 'cputopology', 'nested', 'cpu_mode',
                      'cpu_model', 'cpu_fallback', 'features', 'machine_type', 'machine_arch', 'emulator_path',
                      'loader', 'kernel', 'initrd', 'cmd_line', 'boot', 'disk_bus', 'disks', 'nic_model_type',
                      'interfaces', 'graphics_type', 'graphics_ip', 'graphics_port', 'graphics_autoport',
                      'graphics_passwd', 'keymap', 'video_type', 'video_vram', 'serial_log', 'qemu_use_agent',
                      'metadata')
GRAPHICS_OPTIONS = ('graphics_type', 'graphics_ip', 'graphics_port', 'graphics_autoport', 'graphics_passwd', 'keymap')
# identity keys: a disk by its target, an interface by its MAC, a channel by its name...
KEYS = {
    'devices/disk': xmltree.attribute_key('target/@dev'),
    'devices/interface': xmltree.attribute_key('mac/@address'),
    'devices/channel': xmltree.attribute_key('target/@name'),
    'devices/serial': xmltree.attribute_key('target/@port'),
    'devices/graphics': xmltree.attribute_key('@type'),
    'os/boot': xmltree.attribute_key('@dev'),
}


def _power_of_two_kib(value):
    size = 1024
    while size < value:
        size *= 2
    return max(size, 16384)


class DomainSpec(object):
    """The options, checked, with vagrant-libvirt's defaults; ``desired()`` builds the XML."""

    new = True

    def __init__(self, params):
        self.given = dict((key, params[key]) for key in DEFINITION_OPTIONS if params.get(key) is not None)
        self.params = dict(params)
        self.params.update((key, value) for key, value in DEFAULTS.items() if params.get(key) is None)
        self.name = validate.name(params['name'])
        if params.get('memory') is not None and params['memory'] < 1:
            raise ValidationError('memory', params['memory'], 'a number of MiB greater than 0 (default 512)')
        if params.get('cpus') is not None and params['cpus'] < 1:
            raise ValidationError('cpus', params['cpus'], 'a number of vCPUs greater than 0 (default 1)')
        topology = params.get('cputopology')
        if topology:
            product = 1
            for key in ('sockets', 'cores', 'threads'):
                if not isinstance(topology.get(key), int) or topology[key] < 1:
                    raise ValidationError('cputopology.%s' % key, topology.get(key), 'a whole number greater than 0')
                product *= topology[key]
            if product != self.params['cpus']:
                raise ValidationError('cputopology', topology, 'sockets * cores * threads equal to cpus (%d), '
                                      'not %d' % (self.params['cpus'], product))
        self.macs = []
        for index, iface in enumerate(params.get('interfaces') or []):
            if iface.get('mac'):
                self.macs.append(validate.mac(iface['mac'], 'interfaces[%d].mac' % index))
        for index, disk in enumerate(params.get('disks') or []):
            if bool(disk.get('path')) == bool(disk.get('volume')):
                raise ValidationError('disks[%d]' % index, disk, 'either a path or a volume (with its pool)')
            if disk.get('path'):
                validate.absolute_path(disk['path'], 'disks[%d].path' % index)
            if not disk.get('device'):
                raise ValidationError('disks[%d].device' % index, None, 'the target device, such as vda')
        for option in ('kernel', 'initrd', 'loader', 'emulator_path'):
            if params.get(option):
                validate.absolute_path(params[option], option)

    def rules(self):
        """Merge rules: the lists the options give are owned (what they leave out goes)."""
        owned = [path for option, path in (('disks', 'devices/disk'), ('interfaces', 'devices/interface'),
                                           ('boot', 'os/boot')) if option in self.given]
        if 'features' in self.given:
            owned += ['features/' + name for name in ('acpi', 'apic', 'pae', 'hap', 'viridian', 'pmu')]
        return xmltree.Rules(keys=KEYS, owned=owned)

    def _has(self, *options):
        return self.new or any(option in self.given for option in options)

    def desired(self, disk_paths, new=True):
        """The definition; ``disk_paths`` maps each disk index to its file (volumes resolved).
        For an existing domain (``new=False``) only what the options give is built."""
        self.new = new
        params = self.params
        driver = DOMAIN_TYPES.get(params.get('driver'), 'kvm')
        root = E('domain', {'type': driver})
        xmltree.sub(root, 'name', text=self.name)
        if params.get('uuid'):
            xmltree.sub(root, 'uuid', text=params['uuid'])
        if params.get('title'):
            xmltree.sub(root, 'title', text=params['title'])
        if params.get('description'):
            xmltree.sub(root, 'description', text=params['description'])
        record = dict(params.get('metadata') or {})
        if record:
            xmltree.sub(root, 'metadata').append(metadata.encode(record))
        if self._has('memory'):
            memory_kib = params['memory'] * 1024
            xmltree.sub(root, 'memory', {'unit': 'KiB'}, text=memory_kib)
            xmltree.sub(root, 'currentMemory', {'unit': 'KiB'}, text=memory_kib)
        if self._has('cpus'):
            xmltree.sub(root, 'vcpu', {'placement': 'static'}, text=params['cpus'])
        if self._has('machine_arch', 'machine_type', 'loader', 'kernel', 'initrd', 'cmd_line', 'boot'):
            root.append(self._os())
        if self._has('features'):
            features = xmltree.sub(root, 'features')
            for feature in params.get('features') or []:
                xmltree.sub(features, feature)
        if self._has('cpu_mode', 'cpu_model', 'cputopology', 'nested'):
            cpu = self._cpu(driver)
            if cpu is not None:
                root.append(cpu)
        root.append(self._devices(disk_paths))
        return root

    def _os(self):
        params = self.params
        os_node = E('os')
        if self._has('machine_arch', 'machine_type'):
            xmltree.sub(os_node, 'type', {'arch': params.get('machine_arch') or 'x86_64',
                                          'machine': params.get('machine_type')}, text='hvm')
        if params.get('loader'):
            xmltree.sub(os_node, 'loader', {'readonly': 'yes', 'type': 'pflash'}, text=params['loader'])
        if params.get('kernel'):
            xmltree.sub(os_node, 'kernel', text=params['kernel'])
        if params.get('initrd'):
            xmltree.sub(os_node, 'initrd', text=params['initrd'])
        if params.get('cmd_line'):
            xmltree.sub(os_node, 'cmdline', text=params['cmd_line'])
        if self._has('boot'):
            for device in params.get('boot') or ['hd']:
                xmltree.sub(os_node, 'boot', {'dev': device})
        return os_node

    def _cpu(self, driver):
        params = self.params
        mode = params.get('cpu_mode')
        if mode is None and driver == 'qemu' and not params.get('cputopology'):
            return None  # TCG has no host CPU to model; leave libvirt's default
        cpu = E('cpu', {'mode': mode or ('host-model' if driver == 'kvm' else 'custom')})
        if cpu.get('mode') == 'custom':
            xmltree.sub(cpu, 'model', {'fallback': params.get('cpu_fallback') or 'allow'},
                        text=params.get('cpu_model') or 'qemu64')
        else:
            xmltree.mark_absent(xmltree.sub(cpu, 'model'))
        topology = params.get('cputopology')
        if topology:
            xmltree.sub(cpu, 'topology', {'sockets': topology['sockets'], 'dies': 1, 'cores': topology['cores'],
                                          'threads': topology['threads']})
        if params.get('nested'):
            xmltree.sub(cpu, 'feature', {'policy': 'optional', 'name': 'vmx'})
            xmltree.sub(cpu, 'feature', {'policy': 'optional', 'name': 'svm'})
        return cpu

    def _devices(self, disk_paths):
        params = self.params
        devices = E('devices')
        if params.get('emulator_path'):
            xmltree.sub(devices, 'emulator', text=params['emulator_path'])
        for index, disk in enumerate(params.get('disks') or []):
            devices.append(self._disk(disk, disk_paths[index]))
        for index, iface in enumerate(params.get('interfaces') or []):
            devices.append(self._interface(iface))
        serial = params.get('serial_log')
        if serial:
            node = xmltree.sub(devices, 'serial', {'type': 'file'})
            xmltree.sub(node, 'source', {'path': serial})
            xmltree.sub(node, 'target', {'type': 'isa-serial', 'port': 0})
        elif self.new:
            node = xmltree.sub(devices, 'serial', {'type': 'pty'})
            xmltree.sub(node, 'target', {'type': 'isa-serial', 'port': 0})
        if params.get('qemu_use_agent'):
            channel = xmltree.sub(devices, 'channel', {'type': 'unix'})
            xmltree.sub(channel, 'target', {'type': 'virtio', 'name': 'org.qemu.guest_agent.0'})
        graphics = params.get('graphics_type') or 'vnc'
        if graphics != 'none' and self._has(*GRAPHICS_OPTIONS):
            devices.append(self._graphics(graphics))
        video = params.get('video_type') or 'cirrus'
        if video != 'none' and self._has('video_type', 'video_vram'):
            vram = params.get('video_vram') or 9216
            model = E('model', {'type': video, 'vram': _power_of_two_kib(vram) if video in ('cirrus', 'vga', 'qxl')
                                else vram, 'heads': 1, 'primary': 'yes'})
            xmltree.sub(devices, 'video').append(model)
        return devices

    def _disk(self, disk, path):
        fmt = disk.get('format') or ('raw' if path.endswith(('.iso', '.raw')) else 'qcow2')
        device = disk.get('device_type') or 'disk'
        node = E('disk', {'type': 'file', 'device': device})
        xmltree.sub(node, 'driver', {'name': 'qemu', 'type': fmt,
                                     'cache': None if (disk.get('cache') or 'default') == 'default' else disk['cache']})
        xmltree.sub(node, 'source', {'file': path})
        bus = disk.get('bus') or ('ide' if device == 'cdrom' else self.params.get('disk_bus') or 'virtio')
        xmltree.sub(node, 'target', {'dev': disk['device'], 'bus': bus})
        if disk.get('readonly') or device == 'cdrom':
            xmltree.sub(node, 'readonly')
        if disk.get('shareable'):
            xmltree.sub(node, 'shareable')
        if disk.get('serial'):
            xmltree.sub(node, 'serial', text=disk['serial'])
        if disk.get('boot_order'):
            xmltree.sub(node, 'boot', {'order': disk['boot_order']})
        return node

    def _interface(self, iface):
        kind = iface.get('type') or 'network'
        node = E('interface', {'type': kind})
        if iface.get('mac'):
            xmltree.sub(node, 'mac', {'address': validate.mac(iface['mac'])})
        if kind == 'network':
            xmltree.sub(node, 'source', {'network': iface.get('network') or 'default'})
        else:
            xmltree.sub(node, 'source', {'bridge': iface.get('bridge')})
        xmltree.sub(node, 'model', {'type': iface.get('model') or self.params.get('nic_model_type') or 'virtio'})
        return node

    def _graphics(self, kind):
        params = self.params
        autoport = params.get('graphics_autoport', True)
        node = E('graphics', {'type': kind, 'port': -1 if autoport else params.get('graphics_port') or 5900,
                              'autoport': 'yes' if autoport else 'no',
                              'listen': params.get('graphics_ip') or '127.0.0.1',
                              'keymap': params.get('keymap') or 'en-us',
                              'passwd': params.get('graphics_passwd') or xmltree.ABSENT})
        xmltree.sub(node, 'listen', {'type': 'address', 'address': params.get('graphics_ip') or '127.0.0.1'})
        return node


def disk_files(conn, params, find_pool, find_volume):
    """The file of each disk: its path, or its volume's path in its pool (checked)."""
    files = []
    for index, disk in enumerate(params.get('disks') or []):
        if disk.get('path'):
            files.append(disk['path'])
            continue
        pool_name = disk.get('pool') or 'default'
        pool = find_pool(conn, pool_name)
        if pool is None:
            raise ValidationError('disks[%d].pool' % index, pool_name, 'the name of a defined storage pool')
        volume = find_volume(pool, disk['volume'])
        if volume is None:
            raise ValidationError('disks[%d].volume' % index, disk['volume'], 'a volume of pool %s' % pool_name)
        files.append(volume.path())
    return files


def owned_volume_paths(tree):
    """The files of the disks a domain's metadata says it owns (never a box image)."""
    record = metadata.from_domain_xml(tree)
    owned = set(record.get('volumes') or [])
    return [source.get('file') for source in tree.findall('devices/disk/source')
            if source.get('file') and os.path.basename(source.get('file')) in owned
            and '_vagrant_box_image_' not in source.get('file')]
