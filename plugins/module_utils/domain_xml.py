# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A domain's desired XML from vagrant-libvirt's domain options, one builder per
option group, each in the form libvirt normalizes to (memory in KiB, video RAM in
powers of two...), so that laying it over libvirt's own XML is a no-op when nothing
changed. ``DomainSpec`` is the entry point; the ``<devices>`` are built, and their
nested options checked, in ``domain_devices``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.vagrantless.libvirt.plugins.module_utils import (
    domain_devices, domain_options, metadata, usernet, validate, xmltree)
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import check_xml_options
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

E = xmltree.element
# libvirt's NIC models for QEMU (its virDomainNetModel names) and QEMU's own legacy device names
NIC_MODELS = ('virtio', 'virtio-transitional', 'virtio-non-transitional', 'e1000', 'e1000e', 'igb', 'rtl8139',
              'ne2k_pci', 'pcnet', 'i82551', 'i82557b', 'i82559er', 'vmxnet3', 'usb-net', 'spapr-vlan', 'lan9118',
              'smc91c111')
DOMAIN_TYPES = {'kvm': 'kvm', 'qemu': 'qemu'}

# vagrant-libvirt's defaults, applied when a domain is created; on an existing domain
# only the options given are merged, so `state: stopped` alone changes no definition.
# Both, and the options that build each shared part of the definition, are declared in domain_options.
DEFAULTS = domain_options.NEW_DOMAIN_DEFAULTS
DEFINITION_OPTIONS = domain_options.DEFINITION_OPTIONS
PARTS = domain_options.parts()
QEMU_NS = usernet.QEMU_NS
# the command line is owned whole by the options that build it (interfaces on it, qemuargs, qemuenv)
COMMANDLINE = 'domain/{%s}commandline' % QEMU_NS
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


def _optional_texts(parent, params, pairs):
    """A text child per (tag, option) whose option is set."""
    for tag, option in pairs:
        if params.get(option):
            xmltree.sub(parent, tag, text=params[option])


class DomainSpec(object):
    """The options, checked, with vagrant-libvirt's defaults; ``desired()`` builds the XML."""

    new = True

    def __init__(self, params):
        check_xml_options(params, multiline=('description',))
        domain_devices.check_options(params)
        self.owns_disks = params.get('disks') is not None  # cdroms alone leave other disks be
        params = domain_devices.with_cdroms(params)
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
        return xmltree.Rules(keys=KEYS, owned=owned, replace=[COMMANDLINE])

    def _has(self, *options):
        return self.new or any(option in self.given for option in options)

    def has_part(self, part):
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
        if self.has_part('memory'):
            memory_kib = params['memory'] * 1024
            xmltree.sub(root, 'memory', {'unit': 'KiB'}, text=memory_kib)
            xmltree.sub(root, 'currentMemory', {'unit': 'KiB'}, text=memory_kib)
        if self.has_part('vcpu'):
            xmltree.sub(root, 'vcpu', {'placement': 'static'}, text=params['cpus'])
        if self.has_part('os'):
            root.append(self._os())
        backing = self._memory_backing()
        if backing is not None:
            root.append(backing)
        if self.has_part('features'):
            root.append(self._features())
        if self.has_part('cpu'):
            cpu = self._cpu(driver)
            if cpu is not None:
                root.append(cpu)
        root.append(domain_devices.build(self, disk_paths))
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
        """QEMU's own arguments: the interfaces libvirt cannot express (usernet), then qemuargs
        and qemuenv. Built when one of them is given (or for a new domain); an empty one removes
        the domain's."""
        params = self.params
        if not self._has('interfaces', 'qemuargs', 'qemuenv'):
            return
        args = usernet.arguments(params.get('interfaces'), params.get('nic_model_type')) \
            + [str(arg) for arg in params.get('qemuargs') or []]
        if not args and not params.get('qemuenv'):
            if not self.new:
                xmltree.mark_absent(xmltree.etree.SubElement(root, '{%s}commandline' % QEMU_NS,
                                                             nsmap={'qemu': QEMU_NS}))
            return
        command = xmltree.etree.SubElement(root, '{%s}commandline' % QEMU_NS, nsmap={'qemu': QEMU_NS})
        for arg in args:
            xmltree.etree.SubElement(command, '{%s}arg' % QEMU_NS).set('value', arg)
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
