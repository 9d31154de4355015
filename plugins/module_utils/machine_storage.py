# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A machine's disks: the extra disks and CD-ROMs of ``libvirt_storage``, checked and named
(``volumes``), and libvirt_domain's ``disks`` from the box's overlays and those extra disks
(``domain_disks``, the verb roles' ``domain_disks`` filter)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.vagrantless.libvirt.plugins.module_utils import validate

DISK_DEVICE = r'(vd|sd|hd|xvd)[a-z]{1,2}'


def volumes(settings, domain):
    """The extra disks and CD-ROMs of ``libvirt_storage`` (the box disks come from the box), an extra
    disk named ``<domain>-<device>.<format>`` unless it gives its ``path``."""
    disks, cdroms = [], []
    used = set([settings.get('libvirt_disk_device') or 'vda'])
    for index, item in enumerate(settings.get('libvirt_storage')):
        option = 'libvirt_storage[%d]' % index
        item = settings.mapping(option, item)
        for key in ('path', 'dev', 'bus', 'cache', 'serial'):
            settings.text('%s.%s' % (option, key), item.get(key))
        if item.get('device') == 'cdrom':
            if item.get('path'):
                settings.checked(option + '.path', validate.absolute_path, item['path'])
            cdroms.append(dict((k, item[k]) for k in ('path', 'dev', 'bus') if item.get(k)))
            continue
        device = item.get('device') or _next_device(settings, used)
        if not isinstance(device, str) or not re.fullmatch(DISK_DEVICE, device) or device in used:
            settings.fail(option + '.device', device, 'a free disk device name such as vdb or sdc')
        used.add(device)
        fmt = item.get('type', 'qcow2')
        if fmt not in ('qcow2', 'raw'):
            settings.fail(option + '.type', fmt, 'qcow2 or raw')
        name = os.path.basename(item['path']) if item.get('path') else '%s-%s.%s' % (domain, device, fmt)
        capacity = item.get('size', '10G')
        settings.checked(option + '.size', validate.size, capacity)
        disks.append(dict(volume=settings.checked(option + '.path', validate.name, name), device=device,
                          capacity=capacity, format=fmt, bus=item.get('bus'),
                          # libvirt_volume_cache is the box disk's, as in vagrant-libvirt
                          cache=item.get('cache') or 'default', serial=item.get('serial'),
                          shareable=settings.flag(option + '.shareable', item.get('shareable')),
                          allow_existing=settings.flag(option + '.allow_existing', item.get('allow_existing'))))
    return disks, cdroms


def _next_device(settings, used):
    prefix = {'virtio': 'vd', 'scsi': 'sd', 'sata': 'sd', 'usb': 'sd', 'ide': 'hd'}.get(
        settings.get('libvirt_disk_bus') or 'virtio', 'vd')
    for letter in 'bcdefghijklmnopqrstuvwxyz':
        if prefix + letter not in used:
            return prefix + letter
    settings.fail('libvirt_storage', None, 'at most 25 disks')


def domain_disks(box_volumes, settings):
    """libvirt_domain's ``disks``: the overlays on the box's volumes (the first on ``disk_device``,
    the rest on the next free devices) and then the additional disks of ``libvirt_storage``."""
    pool = settings['pool']['name']
    extra = settings['disks']
    used = set(disk['device'] for disk in extra)
    first = settings['disk_device']
    prefix = first.rstrip('abcdefghijklmnopqrstuvwxyz') or 'vd'
    free = [first] + [prefix + letter for letter in 'bcdefghijklmnopqrstuvwxyz'
                      if prefix + letter not in used and prefix + letter != first]
    disks = [dict(device=device, volume=volume, pool=pool) for device, volume in zip(free, box_volumes)]
    for disk in extra:
        entry = dict(device=disk['device'], volume=disk['volume'], pool=pool, format=disk['format'],
                     shareable=disk['shareable'])
        entry.update((key, disk[key]) for key in ('bus', 'cache', 'serial') if disk.get(key))
        disks.append(entry)
    return disks
