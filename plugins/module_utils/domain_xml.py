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
import re

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.vagrantless.libvirt.plugins.module_utils import domain_options, metadata, validate, xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import check_xml_options
from ansible_collections.vagrantless.libvirt.plugins.module_utils.domain_options import (
    CPU_FEATURE_POLICIES, INPUT_BUSES, INPUT_TYPES, MEMORY_BACKING)
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

E = xmltree.element
# libvirt's NIC models for QEMU (its virDomainNetModel names) and QEMU's own legacy device names
NIC_MODELS = ('virtio', 'virtio-transitional', 'virtio-non-transitional', 'e1000', 'e1000e', 'igb', 'rtl8139',
              'ne2k_pci', 'pcnet', 'i82551', 'i82557b', 'i82559er', 'vmxnet3', 'usb-net', 'spapr-vlan', 'lan9118',
              'smc91c111')
DOMAIN_TYPES = {'kvm': 'kvm', 'qemu': 'qemu'}
# a PCI address part (domain, bus, slot, function): hexadecimal with 0x, or decimal
PCI_NUMBER = re.compile(r'\A(0[xX][0-9A-Fa-f]{1,4}|[0-9]{1,5})\Z')
# a USB class, vendor or product id in hexadecimal (0x optional), -1 for any
USB_ID = re.compile(r'\A(-1|(0[xX])?[0-9A-Fa-f]{1,4})\Z')
USB_VERSION = re.compile(r'\A(-1|[0-9]{1,2}(\.[0-9]{1,2})?)\Z')
ENV_NAME = re.compile(r'\A[A-Za-z_][A-Za-z0-9_]*\Z')
SCALARS = (str, int, float, bool)

# vagrant-libvirt's defaults, applied when a domain is created; on an existing domain
# only the options given are merged, so `state: stopped` alone changes no definition.
# Both, and the options that build each shared part of the definition, are declared in domain_options.
DEFAULTS = domain_options.NEW_DOMAIN_DEFAULTS
DEFINITION_OPTIONS = domain_options.DEFINITION_OPTIONS
PARTS = domain_options.parts()
QEMU_NS = 'http://libvirt.org/schemas/domain/qemu/1.0'
# identity keys: a disk by its target, an interface by its MAC, a channel by its name...
KEYS = {
    'devices/disk': xmltree.attribute_key('target/@dev'),
    'devices/interface': xmltree.attribute_key('mac/@address'),
    'devices/channel': xmltree.attribute_key('target/@name'),
    'devices/serial': xmltree.attribute_key('target/@port'),
    'devices/graphics': xmltree.attribute_key('@type'),
    'os/boot': xmltree.attribute_key('@dev'),
    'devices/input': xmltree.attribute_key('@type', '@bus'),
    'devices/filesystem': xmltree.attribute_key('target/@dir'),
    'devices/hostdev': lambda node: (node.get('type'), xmltree.to_xml(node.find('source'))
                                     if node.find('source') is not None else None),
    'devices/controller': lambda node: (node.get('type'), node.get('index') or '0'),
    'devices/redirdev': xmltree.attribute_key('@type', '@bus'),
    'cpu/feature': xmltree.attribute_key('@name'),
    'numa/cell': xmltree.attribute_key('@id'),
}


CONSOLE_LOG_DIR = '/var/log/libvirt/qemu'


def _optional_texts(parent, params, pairs):
    """A text child per (tag, option) whose option is set."""
    for tag, option in pairs:
        if params.get(option):
            xmltree.sub(parent, tag, text=params[option])


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


def check_device_options(params):
    """What the nested options of the builders below must hold (the argument spec gives their keys
    and types; this checks their values): names that become XML tags, paths, ids and addresses,
    each refused naming the item (``filesystems[0].source``)."""
    for index, feature in enumerate(params.get('features') or []):
        validate.xml_name(feature, 'features[%d]' % index)
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


class DomainSpec(object):
    """The options, checked, with vagrant-libvirt's defaults; ``desired()`` builds the XML."""

    new = True

    def __init__(self, params):
        check_xml_options(params, multiline=('description',))
        check_device_options(params)
        self.owns_disks = params.get('disks') is not None  # cdroms alone leave other disks be
        params = with_cdroms(params)
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
        if params.get('graceful_timeout') is not None and params['graceful_timeout'] < 0:
            raise ValidationError('graceful_timeout', params['graceful_timeout'], '0 or more seconds')
        passwd = params.get('graphics_passwd')
        if passwd and (params.get('graphics_type') or 'vnc') == 'vnc' and len(passwd) > 8:
            raise ValidationError('graphics_passwd', '********', 'at most 8 characters for VNC (this one has %d)'
                                  % len(passwd))
        if params.get('nic_model_type') is not None:
            validate.choice(params['nic_model_type'], 'nic_model_type', NIC_MODELS)
        self.macs = []
        for index, iface in enumerate(params.get('interfaces') or []):
            if iface.get('mac'):
                self.macs.append(validate.mac(iface['mac'], 'interfaces[%d].mac' % index))
            if iface.get('model') is not None:
                validate.choice(iface['model'], 'interfaces[%d].model' % index, NIC_MODELS)
        for index, disk in enumerate(params.get('disks') or []):
            if bool(disk.get('path')) == bool(disk.get('volume')):
                raise ValidationError('disks[%d]' % index, disk, 'either a path or a volume (with its pool)')
            if disk.get('path'):
                validate.absolute_path(disk['path'], 'disks[%d].path' % index)
            if not disk.get('device') and index > 0:
                raise ValidationError('disks[%d].device' % index, None, 'the target device, such as vdb '
                                      '(only the first disk defaults to disk_device)')
        cdroms = [d for d in params.get('disks') or [] if d.get('device_type') == 'cdrom']
        if len(cdroms) > 4:
            raise ValidationError('disks', '%d CD-ROMs' % len(cdroms), 'at most four CD-ROMs (hda to hdd)')
        for option in ('kernel', 'initrd', 'loader', 'emulator_path'):
            if params.get(option):
                validate.absolute_path(params[option], option)

    def rules(self):
        """Merge rules: the lists the options give are owned (what they leave out goes)."""
        owned = [path for option, path in (('interfaces', 'devices/interface'), ('boot', 'os/boot'))
                 if option in self.given]
        if self.owns_disks:
            owned.append('devices/disk')
        if 'features' in self.given:
            owned += ['features/' + name for name in ('acpi', 'apic', 'pae', 'hap', 'viridian', 'pmu')]
        owned += [path for option, path in (('filesystems', 'devices/filesystem'), ('pcis', 'devices/hostdev'),
                                            ('usbs', 'devices/hostdev'), ('redirdevs', 'devices/redirdev'),
                                            ('cpu_features', 'cpu/feature'), ('numa_nodes', 'numa/cell'))
                  if option in self.given]
        return xmltree.Rules(keys=KEYS, owned=owned)

    def _has(self, *options):
        return self.new or any(option in self.given for option in options)

    def _has_part(self, part):
        """Whether to build a part of the definition: always for a new domain, else when one of
        the options that build it (declared in domain_options) is given."""
        return self._has(*PARTS[part])

    def desired(self, disk_paths, new=True):
        """The definition; ``disk_paths`` maps each disk index to its file (volumes resolved).
        For an existing domain (``new=False``) only what the options give is built."""
        self.new = new
        params = self.params
        driver = DOMAIN_TYPES.get(params.get('driver'), 'kvm')
        # the connection's driver is the type of a new domain; a call that defines nothing (halt,
        # suspend...) leaves an existing domain's type as it is
        root = E('domain', {'type': driver} if new or self.given else {})
        xmltree.sub(root, 'name', text=self.name)
        _optional_texts(root, params, (('uuid', 'uuid'), ('title', 'title'), ('description', 'description')))
        record = dict(params.get('metadata') or {})
        if record:
            xmltree.sub(root, 'metadata').append(metadata.encode(record))
        if self._has_part('memory'):
            memory_kib = params['memory'] * 1024
            xmltree.sub(root, 'memory', {'unit': 'KiB'}, text=memory_kib)
            xmltree.sub(root, 'currentMemory', {'unit': 'KiB'}, text=memory_kib)
        if self._has_part('vcpu'):
            xmltree.sub(root, 'vcpu', {'placement': 'static'}, text=params['cpus'])
        if self._has_part('os'):
            root.append(self._os())
        backing = self._memory_backing()
        if backing is not None:
            root.append(backing)
        if self._has_part('features'):
            root.append(self._features())
        if self._has_part('cpu'):
            cpu = self._cpu(driver)
            if cpu is not None:
                root.append(cpu)
        root.append(self._devices(disk_paths))
        self._qemu_commandline(root)
        return root

    def _features(self):
        params = self.params
        features = E('features')
        if self._has('features'):
            for feature in params.get('features') or []:
                xmltree.sub(features, feature)
        if params.get('secure_boot'):
            xmltree.sub(features, 'smm', {'state': 'on'})
        if params.get('hyperv_features'):
            hyperv = xmltree.sub(features, 'hyperv')
            for item in params['hyperv_features']:
                xmltree.sub(hyperv, item['name'], {'state': item.get('state') or 'on', 'retries': item.get('retries'),
                                                   'value': item.get('value')})
        if params.get('kvm_hidden') is not None:
            kvm = xmltree.sub(features, 'kvm')
            xmltree.sub(kvm, 'hidden', {'state': 'on' if params['kvm_hidden'] else 'off'})
        return features

    def _memory_backing(self):
        params = self.params
        entries = list(params.get('memorybacking') or [])
        if any((fs.get('driver') or '9p') == 'virtiofs' for fs in params.get('filesystems') or []):
            names = [entry['name'] for entry in entries]
            if 'source' not in names:
                entries.append(dict(name='source', config=dict(type='memfd')))
            if 'access' not in names:
                entries.append(dict(name='access', config=dict(mode='shared')))
        if not entries:
            return None
        backing = E('memoryBacking')
        for entry in entries:
            xmltree.sub(backing, entry['name'], entry.get('config') or {})
        return backing

    def _qemu_commandline(self, root):
        params = self.params
        if not params.get('qemuargs') and not params.get('qemuenv'):
            return
        command = xmltree.etree.SubElement(root, '{%s}commandline' % QEMU_NS, nsmap={'qemu': QEMU_NS})
        for arg in params.get('qemuargs') or []:
            xmltree.etree.SubElement(command, '{%s}arg' % QEMU_NS).set('value', str(arg))
        for name in sorted(params.get('qemuenv') or {}):
            env = xmltree.etree.SubElement(command, '{%s}env' % QEMU_NS)
            env.set('name', name)
            env.set('value', str(params['qemuenv'][name]))

    def _os(self):
        params = self.params
        os_node = E('os')
        if self._has('machine_arch', 'machine_type'):
            xmltree.sub(os_node, 'type', {'arch': params.get('machine_arch') or 'x86_64',
                                          'machine': params.get('machine_type')}, text='hvm')
        if params.get('loader'):
            xmltree.sub(os_node, 'loader', {'readonly': 'yes', 'type': 'pflash',
                                            'secure': 'yes' if params.get('secure_boot') else None},
                        text=params['loader'])
        if params.get('nvram'):
            xmltree.sub(os_node, 'nvram', {'template': params.get('nvram_template')}, text=params['nvram'])
        _optional_texts(os_node, params, (('dtb', 'dtb'), ('kernel', 'kernel'), ('initrd', 'initrd'),
                                          ('cmdline', 'cmd_line')))
        if self._has('boot'):
            for device in params.get('boot') or ['hd']:
                xmltree.sub(os_node, 'boot', {'dev': device})
        return os_node

    def _cpu(self, driver):
        params = self.params
        mode = params.get('cpu_mode')
        if mode is None and driver == 'qemu' and not any(params.get(key) for key in (
                'cputopology', 'cpu_features', 'numa_nodes', 'nested')):
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
        for feature in params.get('cpu_features') or []:
            xmltree.sub(cpu, 'feature', {'policy': feature.get('policy') or 'optional', 'name': feature['name']})
        if params.get('numa_nodes'):
            numa = xmltree.sub(cpu, 'numa')
            for index, node in enumerate(params['numa_nodes']):
                xmltree.sub(numa, 'cell', {'id': index, 'cpus': node['cpus'], 'memory': int(node['memory']) * 1024,
                                           'unit': 'KiB', 'memAccess': node.get('mem_access')})
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
        for node in self._extra_devices():
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
        elif self.new:
            node = xmltree.sub(devices, 'serial', {'type': 'pty'})
            if not params.get('qemu_use_session'):
                # the console also logged, so a machine that never gets an address can say why
                xmltree.sub(node, 'log', {'file': '%s/%s-console.log' % (CONSOLE_LOG_DIR, self.name), 'append': 'off'})
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
        if graphics != 'none' and self._has_part('graphics'):
            devices.append(self._graphics(graphics))
        video = params.get('video_type') or 'cirrus'
        if video != 'none' and self._has_part('video'):
            vram = params.get('video_vram') or 9216
            model = E('model', {'type': video, 'vram': _power_of_two_kib(vram)
                                if video in ('cirrus', 'vga', 'qxl', 'virtio') else vram, 'heads': 1, 'primary': 'yes'})
            if params.get('video_accel3d'):
                xmltree.sub(model, 'acceleration', {'accel3d': 'yes'})
            xmltree.sub(devices, 'video').append(model)
        return devices

    def _extra_devices(self):
        """Inputs, sound, RNG, watchdog, smartcard, TPM, USB, passthrough and file systems."""
        params = self.params
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
            found.append(self._filesystem(item))
        return found

    @staticmethod
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

    def _disk(self, disk, path):
        fmt = disk.get('format') or ('raw' if path.endswith(('.iso', '.raw')) else 'qcow2')
        device = disk.get('device_type') or 'disk'
        node = E('disk', {'type': 'file', 'device': device})
        cache = disk.get('cache') or (self.params.get('volume_cache') if device == 'disk' else None) or 'default'
        xmltree.sub(node, 'driver', {'name': 'qemu', 'type': fmt, 'cache': None if cache == 'default' else cache})
        xmltree.sub(node, 'source', {'file': path})
        bus = disk.get('bus') or ('ide' if device == 'cdrom' else self.params.get('disk_bus') or 'virtio')
        xmltree.sub(node, 'target', {'dev': disk.get('device') or self.params.get('disk_device') or 'vda',
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

    def _interface(self, iface):
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
        xmltree.sub(node, 'model', {'type': iface.get('model') or self.params.get('nic_model_type') or 'virtio'})
        if iface.get('driver_name') or iface.get('driver_queues'):
            xmltree.sub(node, 'driver', {'name': iface.get('driver_name'), 'queues': iface.get('driver_queues')})
        if iface.get('mtu'):
            xmltree.sub(node, 'mtu', {'size': iface['mtu']})
        if iface.get('pci_bus') is not None and iface.get('pci_slot') is not None:
            xmltree.sub(node, 'address', {'type': 'pci', 'domain': '0x0000', 'bus': iface['pci_bus'],
                                          'slot': iface['pci_slot'], 'function': '0x0'})
        return node

    def _graphics(self, kind):
        params = self.params
        autoport = params.get('graphics_autoport', True)
        node = E('graphics', {'type': kind, 'port': None if autoport else params.get('graphics_port') or 5900,
                              'autoport': 'yes' if autoport else 'no',
                              'listen': params.get('graphics_ip') or '127.0.0.1',
                              'keymap': params.get('keymap') or 'en-us',
                              'passwd': params.get('graphics_passwd') or xmltree.ABSENT})
        xmltree.sub(node, 'listen', {'type': 'address', 'address': params.get('graphics_ip') or '127.0.0.1'})
        return node


def hotplug_devices(current, merged, rules):
    """Disks and interfaces the merge adds to a domain: libvirt can attach them live."""
    added = []
    for tag in ('disk', 'interface'):
        key = rules.key_for('domain/devices/' + tag)
        have = set(key(node) for node in current.findall('devices/' + tag))
        added += [node for node in merged.findall('devices/' + tag) if key(node) is None or key(node) not in have]
    return added


def owned_volume_paths(tree):
    """The files of the disks a domain's metadata says it owns (never a box image)."""
    record = metadata.from_domain_xml(tree)
    owned = set(record.get('volumes') or [])
    return [source.get('file') for source in tree.findall('devices/disk/source')
            if source.get('file') and os.path.basename(source.get('file')) in owned
            and '_vagrant_box_image_' not in source.get('file')]
