# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A domain's devices: the values of their nested options checked (``check_options``), the
CD-ROMs placed (``with_cdroms``) and the ``<devices>`` element built (``build``) for
``domain_xml.DomainSpec``, in the form libvirt normalizes to (video RAM in powers of two,
USB ids in upper-case hexadecimal...)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.vagrantless.libvirt.plugins.module_utils import connection, usernet, validate, xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils.domain_options import (
    CPU_FEATURE_POLICIES, INPUT_BUSES, INPUT_TYPES, MEMORY_BACKING)
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

E = xmltree.element
# a PCI address part (domain, bus, slot, function): hexadecimal with 0x, or decimal
PCI_NUMBER = re.compile(r'\A(0[xX][0-9A-Fa-f]{1,4}|[0-9]{1,5})\Z')
# a USB class, vendor or product id in hexadecimal (0x optional), -1 for any
USB_ID = re.compile(r'\A(-1|(0[xX])?[0-9A-Fa-f]{1,4})\Z')
USB_VERSION = re.compile(r'\A(-1|[0-9]{1,2}(\.[0-9]{1,2})?)\Z')
ENV_NAME = re.compile(r'\A[A-Za-z_][A-Za-z0-9_]*\Z')
SCALARS = (str, int, float, bool)
CONSOLE_LOG_DIR = '/var/log/libvirt/qemu'


def _allow(item, index):
    """A redirect filter's ``allow``: a boolean as YAML or the Vagrantfile writes it (``"no"`` is false)."""
    try:
        return boolean(item.get('allow', True), strict=True)
    except TypeError:
        raise ValidationError('redirfilters[%d].allow' % index, item.get('allow'), 'true or false')


def _usb_id(value, option, digits=4):
    """A USB class, vendor or product id as libvirt writes it back: 0x and upper-case digits;
    a number (YAML reads 0x08e6 as one) is taken as is, -1 (any) is left out as libvirt does."""
    if value is None or value == -1 or value == '-1':
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 16 ** digits:
        number = value
    elif isinstance(value, str) and USB_ID.fullmatch(value) and int(value, 16) < 16 ** digits:
        number = int(value, 16)
    else:
        raise ValidationError(option, value, 'a hexadecimal id of at most %d digits such as 0x%s, or -1 for any'
                              % (digits, '08e6'[-digits:]))
    return '0x%0*X' % (digits, number)


def _usb_version(value, option):
    """A USB version as libvirt writes it back (2.0 -> 2.00); -1 (any) is left out."""
    if value is None or value == -1 or value == '-1':
        return None
    text = str(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ''
    if not USB_VERSION.fullmatch(text):
        raise ValidationError(option, value, 'a USB version such as 2.0 or 1.10, or -1 for any')
    major, _dot, minor = text.partition('.')
    return '%d.%02d' % (int(major), int(minor or 0))


def _items(params, option):
    """The mappings of a list-of-mappings option, each refused naming it when it is no mapping."""
    items = params.get(option) or []
    if not isinstance(items, list):
        raise ValidationError(option, items, 'a list of mappings')
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValidationError('%s[%d]' % (option, index), item, 'a mapping')
    return items


def _required(item, key, option):
    if item.get(key) in (None, ''):
        raise ValidationError('%s.%s' % (option, key), None, 'a value: %s is required' % key)
    return item[key]


def _attributes(config, option):
    """A mapping of XML attribute names to scalar values (a memory backing element's ``config``)."""
    if not isinstance(config, dict):
        raise ValidationError(option, config, 'a mapping of attribute names to values')
    for key, value in config.items():
        validate.xml_name(key, '%s.%s' % (option, key))
        if not isinstance(value, SCALARS):
            raise ValidationError('%s.%s' % (option, key), value, 'a string, number or boolean')
    return config


def check_options(params):
    """What the nested options of the builders below must hold (the argument spec gives their keys
    and types; this checks their values): names that become XML tags, paths, ids and addresses,
    each refused naming the item (``filesystems[0].source``)."""
    for index, feature in enumerate(params.get('features') or []):
        validate.xml_name(feature, 'features[%d]' % index)
    usernet.check(params.get('interfaces'), params.get('nic_model_type'))
    for index, item in enumerate(_items(params, 'hyperv_features')):
        validate.xml_name(_required(item, 'name', 'hyperv_features[%d]' % index), 'hyperv_features[%d].name' % index)
    for index, item in enumerate(_items(params, 'memorybacking')):
        option = 'memorybacking[%d]' % index
        validate.choice(_required(item, 'name', option), option + '.name', MEMORY_BACKING)
        _attributes(item.get('config') or {}, option + '.config')
    for index, item in enumerate(_items(params, 'cpu_features')):
        _required(item, 'name', 'cpu_features[%d]' % index)
        if item.get('policy') is not None:
            validate.choice(item['policy'], 'cpu_features[%d].policy' % index, CPU_FEATURE_POLICIES)
    for index, item in enumerate(_items(params, 'numa_nodes')):
        option = 'numa_nodes[%d]' % index
        validate.text(_required(item, 'cpus', option), option + '.cpus')
        validate.positive_int(_required(item, 'memory', option), option + '.memory')
    for index, item in enumerate(_items(params, 'inputs')):
        option = 'inputs[%d]' % index
        validate.choice(_required(item, 'type', option), option + '.type', INPUT_TYPES)
        validate.choice(_required(item, 'bus', option), option + '.bus', INPUT_BUSES)
    for index, item in enumerate(_items(params, 'filesystems')):
        option = 'filesystems[%d]' % index
        validate.absolute_path(_required(item, 'source', option), option + '.source')
        validate.text(_required(item, 'target', option), option + '.target')
    for index, item in enumerate(_items(params, 'pcis')):
        for key in ('domain', 'bus', 'slot', 'function'):
            value = _required(item, key, 'pcis[%d]' % index) if key in ('bus', 'slot') else item.get(key)
            if value is not None and not PCI_NUMBER.fullmatch(str(value)):
                raise ValidationError('pcis[%d].%s' % (index, key), value, 'a PCI address part such as 0x03')
    for index, item in enumerate(_items(params, 'usbs')):
        if not (item.get('vendor') and item.get('product')) and not (item.get('bus') and item.get('device')):
            raise ValidationError('usbs[%d]' % index, item, 'vendor and product, or bus and device')
    for index, item in enumerate(_items(params, 'redirfilters')):
        option = 'redirfilters[%d]' % index
        _usb_id(item.get('class'), option + '.class', digits=2)
        _usb_id(item.get('vendor'), option + '.vendor')
        _usb_id(item.get('product'), option + '.product')
        _usb_version(item.get('version'), option + '.version')
        _allow(item, index)
    for index, item in enumerate(_items(params, 'serials')):
        if item.get('source') is not None:
            validate.absolute_path(item['source'], 'serials[%d].source' % index)
    for index, item in enumerate(_items(params, 'channels')):
        if item.get('source_path') is not None:
            validate.absolute_path(item['source_path'], 'channels[%d].source_path' % index)
    _items(params, 'redirdevs')
    for option in ('rng', 'watchdog', 'smartcard', 'usb_controller', 'qemuenv'):
        if params.get(option) is not None and not isinstance(params[option], dict):
            raise ValidationError(option, params[option], 'a mapping')
    if (params.get('rng') or {}).get('device') is not None:
        validate.absolute_path(params['rng']['device'], 'rng.device')
    for name, value in (params.get('qemuenv') or {}).items():
        if not isinstance(name, str) or not ENV_NAME.fullmatch(name):
            raise ValidationError('qemuenv.%s' % name, name, 'an environment variable name: letters, digits and "_", '
                                  'not starting with a digit')
        if not isinstance(value, SCALARS):
            raise ValidationError('qemuenv.%s' % name, value, 'a string, number or boolean')
    for option in ('serial_log', 'tpm_path'):
        if params.get(option):
            validate.absolute_path(params[option], option)


def _power_of_two_kib(value):
    size = 1024
    while size < value:
        size *= 2
    return max(size, 16384)


CDROM_DEVICES = ('hda', 'hdb', 'hdc', 'hdd')


def with_cdroms(params):
    """vagrant-libvirt's ``cdroms`` as disks of type cdrom, each on the first free IDE
    device (hda to hdd) unless it names its ``dev``."""
    if not params.get('cdroms'):
        return params
    disks = list(params.get('disks') or [])
    used = set(disk.get('device') for disk in disks) | set(c.get('dev') for c in params['cdroms'] if c.get('dev'))
    free = [dev for dev in CDROM_DEVICES if dev not in used]
    for index, cdrom in enumerate(params['cdroms']):
        device = cdrom.get('dev') or (free.pop(0) if free else None)
        if device is None:
            raise ValidationError('cdroms[%d].dev' % index, None, 'a free device: hda to hdd are taken')
        disks.append(dict(device=device, device_type='cdrom', path=cdrom.get('path'), volume=cdrom.get('volume'),
                          pool=cdrom.get('pool') or 'default', bus=cdrom.get('bus') or 'ide', format='raw'))
    return dict(params, disks=disks, cdroms=None)


def build(spec, disk_paths):
    """The ``<devices>`` of ``spec`` (a ``domain_xml.DomainSpec``): disks (``disk_paths`` maps each
    index to its file), interfaces, the extra devices, serial console, channels, graphics and video."""
    params = spec.params
    devices = E('devices')
    if params.get('emulator_path'):
        xmltree.sub(devices, 'emulator', text=params['emulator_path'])
    for index, disk in enumerate(params.get('disks') or []):
        devices.append(_disk(params, disk, disk_paths[index]))
    for iface in params.get('interfaces') or []:
        if not usernet.on_commandline(iface):  # those are QEMU's arguments (domain_xml)
            devices.append(_interface(params, iface))
    for node in _extra_devices(params):
        devices.append(node)
    serial = params.get('serial_log')
    if params.get('serials'):
        for port, item in enumerate(params['serials']):
            node = xmltree.sub(devices, 'serial', {'type': item.get('type') or 'pty'})
            if item.get('source'):
                xmltree.sub(node, 'source', {'path': item['source']})
            xmltree.sub(node, 'target', {'type': 'isa-serial', 'port': port})
    elif serial:
        node = xmltree.sub(devices, 'serial', {'type': 'file'})
        xmltree.sub(node, 'source', {'path': serial})
        xmltree.sub(node, 'target', {'type': 'isa-serial', 'port': 0})
    elif spec.new:
        node = xmltree.sub(devices, 'serial', {'type': 'pty'})
        if not connection.is_session(params):
            # the console also logged, so a machine that never gets an address can say why
            xmltree.sub(node, 'log', {'file': '%s/%s-console.log' % (CONSOLE_LOG_DIR, spec.name), 'append': 'off'})
        xmltree.sub(node, 'target', {'type': 'isa-serial', 'port': 0})
    if params.get('qemu_use_agent'):
        channel = xmltree.sub(devices, 'channel', {'type': 'unix'})
        xmltree.sub(channel, 'target', {'type': 'virtio', 'name': 'org.qemu.guest_agent.0'})
    for item in params.get('channels') or []:
        channel = xmltree.sub(devices, 'channel', {'type': item.get('type') or 'unix'})
        if item.get('source_path'):
            xmltree.sub(channel, 'source', {'mode': 'bind', 'path': item['source_path']})
        xmltree.sub(channel, 'target', {'type': item.get('target_type') or 'virtio',
                                        'name': item.get('target_name'), 'address': item.get('target_address'),
                                        'port': item.get('target_port')})
    graphics = params.get('graphics_type') or 'vnc'
    if graphics == 'spice' and not any(item.get('type') == 'spicevmc' for item in params.get('channels') or []):
        # the SPICE agent's channel comes with SPICE graphics, as vagrant-libvirt adds it
        channel = xmltree.sub(devices, 'channel', {'type': 'spicevmc'})
        xmltree.sub(channel, 'target', {'type': 'virtio', 'name': 'com.redhat.spice.0'})
    if graphics != 'none' and spec.has_part('graphics'):
        devices.append(_graphics(params, graphics))
    video = params.get('video_type') or 'cirrus'
    if video != 'none' and spec.has_part('video'):
        vram = params.get('video_vram') or 9216
        model = E('model', {'type': video, 'vram': _power_of_two_kib(vram)
                            if video in ('cirrus', 'vga', 'qxl', 'virtio') else vram, 'heads': 1, 'primary': 'yes'})
        if params.get('video_accel3d'):
            xmltree.sub(model, 'acceleration', {'accel3d': 'yes'})
        xmltree.sub(devices, 'video').append(model)
    return devices


def _extra_devices(params):
    """Inputs, sound, RNG, watchdog, smartcard, TPM, USB, passthrough and file systems."""
    found = []
    for item in params.get('inputs') or []:
        found.append(E('input', {'type': item['type'], 'bus': item['bus']}))
    if params.get('sound_type'):
        found.append(E('sound', {'model': params['sound_type']}))
    if params.get('rng') is not None:
        rng = E('rng', {'model': 'virtio'})
        xmltree.sub(rng, 'backend', {'model': params['rng'].get('model') or 'random'},
                    text=params['rng'].get('device') or '/dev/urandom')
        found.append(rng)
    if params.get('watchdog') is not None:
        found.append(E('watchdog', {'model': params['watchdog'].get('model') or 'i6300esb',
                                    'action': params['watchdog'].get('action') or 'reset'}))
    if params.get('smartcard') is not None:
        found.append(E('smartcard', {'mode': params['smartcard'].get('mode') or 'passthrough',
                                     'type': params['smartcard'].get('type') or 'spicevmc'}))
    if params.get('tpm_model') or params.get('tpm_type') or params.get('tpm_path'):
        tpm = E('tpm', {'model': params.get('tpm_model') or 'tpm-tis'})
        kind = params.get('tpm_type') or 'passthrough'
        backend = xmltree.sub(tpm, 'backend', {'type': kind,
                                               'version': params.get('tpm_version') if kind == 'emulator' else None})
        if kind == 'passthrough':
            xmltree.sub(backend, 'device', {'path': params.get('tpm_path') or '/dev/tpm0'})
        found.append(tpm)
    if params.get('usb_controller') is not None:
        found.append(E('controller', {'type': 'usb', 'index': 0, 'model': params['usb_controller'].get('model'),
                                      'ports': params['usb_controller'].get('ports')}))
    for item in params.get('redirdevs') or []:
        found.append(E('redirdev', {'bus': 'usb', 'type': item.get('type') or 'spicevmc'}))
    if params.get('redirfilters'):
        redirfilter = E('redirfilter')
        for index, item in enumerate(params['redirfilters']):
            option = 'redirfilters[%d]' % index
            xmltree.sub(redirfilter, 'usbdev', {'class': _usb_id(item.get('class'), option + '.class', digits=2),
                                                'vendor': _usb_id(item.get('vendor'), option + '.vendor'),
                                                'product': _usb_id(item.get('product'), option + '.product'),
                                                'version': _usb_version(item.get('version'), option + '.version'),
                                                'allow': 'yes' if _allow(item, index) else 'no'})
        found.append(redirfilter)
    for item in params.get('pcis') or []:
        hostdev = E('hostdev', {'mode': 'subsystem', 'type': 'pci', 'managed': 'yes'})
        source = xmltree.sub(hostdev, 'source')
        xmltree.sub(source, 'address', {'domain': item.get('domain') or '0x0000', 'bus': item['bus'],
                                        'slot': item['slot'], 'function': item.get('function') or '0x0'})
        found.append(hostdev)
    for item in params.get('usbs') or []:
        hostdev = E('hostdev', {'mode': 'subsystem', 'type': 'usb', 'managed': 'yes'})
        source = xmltree.sub(hostdev, 'source', {'startupPolicy': item.get('startupPolicy')})
        if item.get('vendor'):
            xmltree.sub(source, 'vendor', {'id': item['vendor']})
        if item.get('product'):
            xmltree.sub(source, 'product', {'id': item['product']})
        if item.get('bus') and item.get('device'):
            xmltree.sub(source, 'address', {'bus': item['bus'], 'device': item['device']})
        found.append(hostdev)
    for item in params.get('filesystems') or []:
        found.append(_filesystem(item))
    return found


def _filesystem(item):
    driver = item.get('driver') or '9p'
    node = E('filesystem', {'type': 'mount', 'accessmode': 'passthrough' if driver == 'virtiofs'
                            else item.get('accessmode') or 'passthrough'})
    xmltree.sub(node, 'driver', {'type': 'virtiofs' if driver == 'virtiofs' else 'path'})
    xmltree.sub(node, 'source', {'dir': item['source']})
    xmltree.sub(node, 'target', {'dir': item['target']})
    if item.get('readonly'):
        xmltree.sub(node, 'readonly')
    return node


def _disk(params, disk, path):
    fmt = disk.get('format') or ('raw' if path.endswith(('.iso', '.raw')) else 'qcow2')
    device = disk.get('device_type') or 'disk'
    node = E('disk', {'type': 'file', 'device': device})
    cache = disk.get('cache') or (params.get('volume_cache') if device == 'disk' else None) or 'default'
    xmltree.sub(node, 'driver', {'name': 'qemu', 'type': fmt, 'cache': None if cache == 'default' else cache})
    xmltree.sub(node, 'source', {'file': path})
    bus = disk.get('bus') or ('ide' if device == 'cdrom' else params.get('disk_bus') or 'virtio')
    xmltree.sub(node, 'target', {'dev': disk.get('device') or params.get('disk_device') or 'vda',
                                 'bus': bus})
    if disk.get('readonly') or device == 'cdrom':
        xmltree.sub(node, 'readonly')
    if disk.get('shareable'):
        xmltree.sub(node, 'shareable')
    if disk.get('serial'):
        xmltree.sub(node, 'serial', text=disk['serial'])
    if disk.get('boot_order'):
        xmltree.sub(node, 'boot', {'order': disk['boot_order']})
    return node


def _interface(params, iface):
    kind = iface.get('type') or 'network'
    node = E('interface', {'type': kind, 'trustGuestRxFilters': 'yes'
                           if iface.get('trust_guest_rx_filters') else None})
    if iface.get('mac'):
        xmltree.sub(node, 'mac', {'address': validate.mac(iface['mac'])})
    if kind == 'network':
        xmltree.sub(node, 'source', {'network': iface.get('network') or 'default',
                                     'portgroup': iface.get('portgroup')})
    elif kind == 'bridge':
        xmltree.sub(node, 'source', {'bridge': iface.get('bridge'), 'portgroup': iface.get('portgroup')})
        if iface.get('ovs'):
            xmltree.sub(node, 'virtualport', {'type': 'openvswitch'})
    elif kind == 'direct':
        xmltree.sub(node, 'source', {'dev': iface.get('dev') or 'eth0', 'mode': iface.get('mode') or 'bridge'})
    else:  # tunnels: udp, tcp server/client, mcast
        default_ip = '239.255.1.1' if kind == 'mcast' else '127.0.0.1'
        source = xmltree.sub(node, 'source', {'address': iface.get('tunnel_ip') or default_ip,
                                              'port': iface.get('tunnel_port')})
        if kind == 'udp':
            xmltree.sub(source, 'local', {'address': iface.get('tunnel_local_ip') or '127.0.0.1',
                                          'port': iface.get('tunnel_local_port')})
    if iface.get('iface_name'):
        xmltree.sub(node, 'target', {'dev': iface['iface_name']})
    xmltree.sub(node, 'model', {'type': iface.get('model') or params.get('nic_model_type') or 'virtio'})
    if iface.get('driver_name') or iface.get('driver_queues'):
        xmltree.sub(node, 'driver', {'name': iface.get('driver_name'), 'queues': iface.get('driver_queues')})
    if iface.get('mtu'):
        xmltree.sub(node, 'mtu', {'size': iface['mtu']})
    if iface.get('pci_bus') is not None and iface.get('pci_slot') is not None:
        xmltree.sub(node, 'address', {'type': 'pci', 'domain': '0x0000', 'bus': iface['pci_bus'],
                                      'slot': iface['pci_slot'], 'function': '0x0'})
    return node


def _graphics(params, kind):
    autoport = params.get('graphics_autoport', True)
    node = E('graphics', {'type': kind, 'port': None if autoport else params.get('graphics_port') or 5900,
                          'autoport': 'yes' if autoport else 'no',
                          'listen': params.get('graphics_ip') or '127.0.0.1',
                          'keymap': params.get('keymap') or 'en-us',
                          'passwd': params.get('graphics_passwd') or xmltree.ABSENT})
    xmltree.sub(node, 'listen', {'type': 'address', 'address': params.get('graphics_ip') or '127.0.0.1'})
    return node
