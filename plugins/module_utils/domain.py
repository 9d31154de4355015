# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A domain's life cycle: defined, running, stopped (gracefully, then forced),
paused, saved (managed save) and absent, with the persistent definition merged from
the options and ``restart_required`` when a running domain lags it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible_collections.vagrantless.libvirt.plugins.module_utils import (
    domain_xml, lifecycle, locks, metadata, usernet, xmltree)
from ansible_collections.vagrantless.libvirt.plugins.module_utils import network as networks
from ansible_collections.vagrantless.libvirt.plugins.module_utils import network_cleanup
from ansible_collections.vagrantless.libvirt.plugins.module_utils import pool as pools
from ansible_collections.vagrantless.libvirt.plugins.module_utils import volume as volumes
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import (
    LibvirtOperationError, Manager, inactive_xml, lookup)
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import libvirt
from ansible_collections.vagrantless.libvirt.plugins.module_utils.lifecycle import run_state
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

POLL_SECONDS = 0.1
# Everything that goes with a domain: its saved memory, snapshots' and checkpoints' metadata, NVRAM.
UNDEFINE_FLAGS = (libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                  | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM | libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA) \
    if libvirt is not None else 0
# What libvirt says when another run defined or started the same domain first.
RACE_ERRORS = (libvirt.VIR_ERR_OPERATION_FAILED, libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_ERR_DOM_EXIST) \
    if libvirt is not None else ()


def find(conn, name):
    return lookup(conn.lookupByName, name, libvirt.VIR_ERR_NO_DOMAIN)


def _wait_stopped(domain, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not domain.isActive():
            return True
        time.sleep(POLL_SECONDS)
    return not domain.isActive()


def _source_name(source):
    """An interface's network, else its bridge (a live network interface names both)."""
    return None if source is None else source.get('network') or source.get('bridge')


def restart_view(tree):
    """What a running domain only takes at its next start (vagrant-libvirt's reload list:
    memory, CPUs, features, boot, disks, interfaces, graphics, video), as comparable values.
    The live XML carries runtime details (ports, aliases, paths) that are left out."""
    def attrs(node, *names):
        return tuple(node.get(name) for name in names) if node is not None else None
    devices = tree.find('devices')
    return (
        ('memory', tree.findtext('memory')), ('cpus', tree.findtext('vcpu')),
        ('cpu mode', attrs(tree.find('cpu'), 'mode')),
        ('cpu topology', attrs(tree.find('cpu/topology'), 'sockets', 'cores', 'threads')),
        ('features', tuple(child.tag for child in tree.find('features') if isinstance(child.tag, str))
         if tree.find('features') is not None else ()),
        ('boot order', tuple(boot.get('dev') for boot in tree.findall('os/boot'))),
        ('kernel', tree.findtext('os/kernel')), ('initrd', tree.findtext('os/initrd')),
        ('kernel command line', tree.findtext('os/cmdline')),
        ('disks', tuple(sorted((attrs(d.find('target'), 'dev', 'bus'), attrs(d.find('source'), 'file'),
                                attrs(d.find('driver'), 'type', 'cache')) for d in devices.findall('disk')))),
        ('interfaces', tuple(sorted((attrs(i.find('mac'), 'address'), _source_name(i.find('source')),
                                     attrs(i.find('model'), 'type')) for i in devices.findall('interface')))),
        ('graphics', tuple(attrs(g, 'type', 'listen', 'keymap', 'passwd', 'autoport')
                           for g in devices.findall('graphics'))),
        ('video', tuple(attrs(v.find('model'), 'type', 'vram') for v in devices.findall('video'))),
        ('QEMU command line', tuple(usernet.commandline_args(tree))),
    )


def pending_restart(defined, live):
    """The names of what a running domain (``live``) only takes at its next start from its
    definition (``defined``): [] when nothing waits."""
    return [name for (name, wanted), (unused, running) in zip(restart_view(defined), restart_view(live))
            if wanted != running]


def _with_devices(tree, devices):
    """``tree`` with ``devices`` added (what the live domain looks like once they are attached)."""
    grown = xmltree.parse(xmltree.to_xml(tree))
    for device in devices:
        grown.find('devices').append(xmltree.parse(xmltree.to_xml(device)))
    return grown


def disk_files(conn, params, check_mode=False, assumed=None):
    """The file of each disk: its path, or its volume's path in its pool (checked). In check
    mode a volume missing from its directory pool is predicted at the path that pool gives it
    (the step of the same run that makes it was only predicted too), and noted in ``assumed``."""
    files = []
    for index, disk in enumerate(params.get('disks') or []):
        if disk.get('path'):
            files.append(disk['path'])
            continue
        pool_name = disk.get('pool') or 'default'
        pool = pools.find(conn, pool_name)
        if pool is None:
            raise ValidationError('disks[%d].pool' % index, pool_name, 'the name of a defined storage pool')
        volume = volumes.find(pool, disk['volume'])
        if volume is not None:
            files.append(volume.path())
            continue
        directory = xmltree.parse(pool.XMLDesc(0)).findtext('target/path') if check_mode else None
        if not directory:
            raise ValidationError('disks[%d].volume' % index, disk['volume'], 'a volume of pool %s' % pool_name)
        files.append(os.path.join(directory, disk['volume']))
        if assumed is not None:
            assumed.append('volume %s of pool %s' % (disk['volume'], pool_name))
    return files


def check_networks(conn, params, check_mode=False, assumed=None):
    """Refuse an interface on a libvirt network that is not defined: libvirt would define
    the domain and fail only when it starts. In check mode the network may be one the same
    run makes first: it is noted in ``assumed`` instead."""
    names = None
    for index, iface in enumerate(params.get('interfaces') or []):
        if (iface.get('type') or 'network') != 'network':
            continue
        name = iface.get('network') or 'default'
        if networks.find(conn, name) is None:
            if check_mode and assumed is not None:
                assumed.append('network %s' % name)
                continue
            if names is None:
                names = sorted(net.name() for net in conn.listAllNetworks(0))
            raise ValidationError('interfaces[%d].network' % index, name, 'the name of a defined network (%s)'
                                  % ', '.join(names))


class DomainManager(Manager):
    """Brings one domain to the state the options ask for."""

    RESULT = dict(changed=False, restart_required=False, pending_restart=[], shutdown=None)

    def __init__(self, params, check_mode):
        super(DomainManager, self).__init__(params, check_mode)
        self.spec = domain_xml.DomainSpec(params) if params['state'] != 'absent' else None
        if self.spec is None:
            domain_xml.validate.name(params['name'])
        self.what = 'domain ' + params['name']

    def ensure(self, conn):
        """Converge; when another run changed the domain between our read and our write (both
        defining or starting it), read again and converge once more. A domain with host forwards
        chooses its ports and is defined holding this host's lock on them, so that two domains
        defined at once never take the same one."""
        interfaces = self.spec.params.get('interfaces') or [] if self.spec is not None else []
        if self.check_mode or not any(usernet.is_user(iface) for iface in interfaces):
            return self.retrying_race(RACE_ERRORS, self._ensure, conn)
        with locks.named_lock('host-forwards'):
            return self.retrying_race(RACE_ERRORS, self._ensure, conn)

    def _ensure(self, conn):
        domain = find(conn, self.params['name'])
        before_state = run_state(domain)
        if domain is None and self.params.get('only_existing'):
            self.diff.definition(self.what, xmltree.diff(None, None))
            return self.finish(domain={})
        # SECURE: the definition with its passwords, so a password counts in the comparison
        # (diffs mask it)
        current = xmltree.parse(inactive_xml(domain, libvirt.VIR_DOMAIN_XML_INACTIVE
                                             | libvirt.VIR_DOMAIN_XML_SECURE)) if domain else None
        if self.params['state'] == 'absent':
            self._absent(conn, domain, current)
            self.diff.resource(self.what, xmltree.diff(current, None), dict(state=before_state) if domain else None)
            return self.finish()
        self._resolve_forwards(conn, domain, current, before_state)
        assumed = []  # in check mode: what an earlier step of the same run makes (predicted only)
        files = disk_files(conn, self.spec.params, self.check_mode, assumed)
        check_networks(conn, self.spec.params, self.check_mode, assumed)
        if assumed:
            self.result['assumed'] = assumed
        desired = self.spec.desired(files, new=domain is None)
        merged, xml_changed, xml_diff = xmltree.merge_and_compare(current, desired, self.spec.rules())
        wanted_state = self.params['state'] if self.params['state'] != 'present' else (before_state or 'stopped')
        hotplug = domain_xml.hotplug_devices(current, merged, self.spec.rules()) if current is not None else []
        pending = pending_restart(merged, _with_devices(self._live(domain), hotplug)) \
            if before_state in ('running', 'paused') else []
        lagging = bool(pending)
        restart_now = lagging and bool(self.params.get('restart')) and wanted_state == 'running'
        autostart = self.params.get('autostart')
        autostart_changed = autostart is not None and domain is not None and bool(domain.autostart()) != autostart
        self.result['changed'] = xml_changed or before_state != wanted_state or restart_now or autostart_changed \
            or (domain is None and bool(autostart))
        self.result['restart_required'] = lagging and not restart_now and wanted_state in ('running', 'paused')
        self.result['pending_restart'] = pending if self.result['restart_required'] else []
        self.diff.resource(self.what, xml_diff, dict(state=before_state) if domain else None, dict(state=wanted_state))
        if not self.check_mode and self.result['changed']:
            if hotplug and before_state in ('running', 'paused') and not restart_now:
                self._attach(domain, hotplug)
            domain = self._apply(conn, domain, merged, xml_changed, wanted_state, restart_now)
            if autostart is not None and bool(domain.autostart()) != autostart:
                domain.setAutostart(1 if autostart else 0)
        return self.finish(domain=self._describe(domain))

    def _resolve_forwards(self, conn, domain, current, state):
        """The host port of each forward of a user-mode interface, decided (usernet.resolve) against
        the domain's own and every other domain's of this connection."""
        interfaces = self.spec.params.get('interfaces') or []
        if not any(usernet.is_user(iface) for iface in interfaces):
            return
        others = []
        for other in conn.listAllDomains(0):
            if domain is None or other.UUIDString() != domain.UUIDString():
                try:
                    others.append(xmltree.parse(inactive_xml(other, libvirt.VIR_DOMAIN_XML_INACTIVE)))
                except libvirt.libvirtError as error:
                    if error.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                        raise  # else undefined since it was listed: it forwards nothing
        self.spec.params['interfaces'] = usernet.resolve(interfaces, current, others,
                                                         running=state in ('running', 'paused'))

    @staticmethod
    def _live(domain):
        return xmltree.parse(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE))

    def _apply(self, conn, domain, merged, xml_changed, wanted, restart_now):
        created = domain is None
        if xml_changed:
            domain = conn.defineXML(xmltree.to_xml(merged))
        try:
            if restart_now:
                self._stop(domain)
            self._move(domain, wanted)
        except libvirt.libvirtError:
            if created:
                self._remove(domain)
            raise
        return domain

    def _attach(self, domain, devices):
        """Attach new disks and interfaces to the running domain, live and in its config."""
        flags = libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG
        for device in devices:
            domain.attachDeviceFlags(xmltree.to_xml(device), flags)
        self.result['attached'] = [xmltree.pretty(device) for device in devices]

    def _move(self, domain, wanted):
        state = run_state(domain)
        if wanted == state:
            return
        if wanted == 'running':
            lifecycle.start_or_resume(domain, state)
        elif wanted == 'stopped':
            if state == 'saved':
                domain.managedSaveRemove(0)
            elif state in ('running', 'paused'):
                self._stop(domain)
        elif wanted == 'paused':
            if state != 'running':
                self._move(domain, 'running')
            domain.suspend()
        elif wanted == 'saved':
            if state == 'stopped':
                raise LibvirtOperationError('domain %s is stopped: only a running or paused domain can be saved'
                                            % domain.name())
            domain.managedSave(0)

    def _stop(self, domain):
        """Graceful shutdown (ACPI or guest agent), forced after graceful_timeout."""
        if domain.state()[0] == libvirt.VIR_DOMAIN_PAUSED:
            domain.resume()
        mode = libvirt.VIR_DOMAIN_SHUTDOWN_GUEST_AGENT if self.params.get('shutdown_mode') == 'agent' \
            else libvirt.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN
        started = time.monotonic()
        try:
            domain.shutdownFlags(mode)
            graceful = _wait_stopped(domain, self.params.get('graceful_timeout', 60))
        except libvirt.libvirtError:
            graceful = False
        if not graceful and domain.isActive():
            domain.destroy()
        self.result['shutdown'] = 'graceful' if graceful else 'forced'
        self.result['shutdown_seconds'] = round(time.monotonic() - started, 2)

    def _absent(self, conn, domain, current):
        if domain is None:
            self.result['domain'] = {}
            return
        self.result['changed'] = True
        owned = domain_xml.owned_volume_paths(current) if self.params.get('remove_volumes') else []
        self.result['removed_volumes'] = owned
        self.result['removed_metadata'] = metadata.from_domain_xml(current)
        self.result['domain'] = {}
        if not self.check_mode:
            self._remove(domain)
            for path in owned:
                try:
                    conn.storageVolLookupByPath(path).delete(0)
                except libvirt.libvirtError as error:
                    if error.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_VOL:
                        raise
        record = self.result['removed_metadata']
        gone = []  # networks removed: their reservations go with them, no update needed
        if self.params.get('remove_networks'):
            gone = self.result['removed_networks'] = network_cleanup.remove_unused(
                conn, record.get('networks', []), self.check_mode, leaving=[domain.name()])
        if self.params.get('remove_reservations'):
            self.result['released_reservations'] = network_cleanup.release_reservations(
                conn, [item for item in record.get('reservations', []) if item.split(' ', 1)[0] not in gone],
                self.check_mode)

    @staticmethod
    def _remove(domain):
        lifecycle.destroy_and_undefine(domain, lambda: domain.undefineFlags(UNDEFINE_FLAGS))

    def _describe(self, domain):
        if domain is None:
            return dict(name=self.params['name'])
        tree = xmltree.parse(domain.XMLDesc(0))
        return dict(name=domain.name(), uuid=domain.UUIDString(), state=run_state(domain), id=domain.ID(),
                    autostart=bool(domain.autostart()),
                    macs=[m.get('address') for m in tree.findall('devices/interface/mac')],
                    disks=[s.get('file') for s in tree.findall('devices/disk/source') if s.get('file')],
                    forwards=usernet.defined_forwards(tree))
