# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Storage pools as vagrant-libvirt uses them: a directory pool, defined, built and
active, holding box volumes and machine disks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible_collections.vagrantless.libvirt.plugins.module_utils import connection, lifecycle, validate, xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import (
    LibvirtOperationError, Manager, check_xml_options, inactive_xml, lookup)
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import libvirt

SYSTEM_POOL_PATH = '/var/lib/libvirt/images'
SESSION_POOL_PATH = '~/.local/share/libvirt/images'
POOL_TYPES = ('dir',)
POOL_RULES = xmltree.Rules()


def default_path(qemu_use_session):
    """vagrant-libvirt's default pool directory for system or session libvirt."""
    return os.path.expanduser(SESSION_POOL_PATH) if qemu_use_session else SYSTEM_POOL_PATH


def desired_xml(name, pool_type, path):
    """The pool definition the options ask for."""
    return xmltree.element('pool', {'type': pool_type}, children=[
        xmltree.element('name', text=name),
        xmltree.element('target', children=[xmltree.element('path', text=path)]),
    ])


def find(conn, name):
    return lookup(conn.storagePoolLookupByName, name, libvirt.VIR_ERR_NO_STORAGE_POOL)


# libvirt refuses to refresh a pool while one of its volumes is uploaded, built or wiped (by
# another run, for a box that may be large): how long to wait for that job.
REFRESH_PATIENCE = 600


def refresh(pool, patience=REFRESH_PATIENCE):
    """Read the pool's volumes from its storage again, waiting while another run's volume job
    keeps libvirt from it ("pool has asynchronous jobs running")."""
    deadline = time.monotonic() + patience
    while True:
        try:
            pool.refresh(0)
            return
        except libvirt.libvirtError as error:
            if 'asynchronous jobs running' not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


def require_active(conn, name, option='pool'):
    """The active pool ``name``, or a failure naming the option."""
    pool = find(conn, name)
    if pool is None:
        raise validate.ValidationError(option, name, 'the name of a defined storage pool (%s)'
                                       % ', '.join(sorted(conn.listStoragePools() + conn.listDefinedStoragePools())))
    if not pool.isActive():
        raise LibvirtOperationError('storage pool %s is not active: start it (libvirt_pool state=present)' % name)
    return pool


def runtime_state(pool):
    if pool is None:
        return None
    return dict(active=bool(pool.isActive()), autostart=bool(pool.autostart()))


def describe(pool):
    """The ``pool`` return value."""
    if pool is None:
        return {}
    tree = xmltree.parse(pool.XMLDesc(0))
    active = bool(pool.isActive())
    info = dict(name=pool.name(), uuid=pool.UUIDString(), type=tree.get('type'),
                path=tree.findtext('target/path'), active=active, autostart=bool(pool.autostart()))
    if active:
        state, capacity, allocation, available = pool.info()
        info.update(capacity=capacity, allocation=allocation, available=available,
                    volumes=sorted(pool.listVolumes()))
    return info


class PoolManager(Manager):
    """Brings one pool to the state the options ask for."""

    def __init__(self, params, check_mode):
        check_xml_options(params)
        super(PoolManager, self).__init__(params, check_mode)
        self.conn = None
        self.name = validate.name(params['name'])
        self.path = params['path']
        if self.path:
            validate.absolute_path(self.path, 'path')
        self.created = None

    def ensure(self, conn):
        """Converge; return the module result (changed, pool, diff)."""
        self.conn = conn
        state = self.params['state']
        pool = find(self.conn, self.name)
        before_xml = xmltree.parse(inactive_xml(pool, libvirt.VIR_STORAGE_XML_INACTIVE)) if pool else None
        before_state = runtime_state(pool)
        if state == 'absent':
            after_xml, after_state = self._absent(pool)
        else:
            after_xml, after_state, pool = self._present(pool, before_xml, active=(state == 'present'))
        self.diff.resource('pool ' + self.name, xmltree.diff(before_xml, after_xml), before_state, after_state)
        return self.finish(pool=describe(pool) if state != 'absent' else {})

    def _present(self, pool, current, active):
        # no path given: an existing pool stays where it is, a new one goes to libvirt's default place
        path = self.path or (current.findtext('target/path') if current is not None else None) \
            or default_path(connection.is_session(self.params))
        desired = desired_xml(self.name, self.params['type'], path)
        if current is not None and current.get('type') != self.params['type']:
            raise validate.ValidationError('type', self.params['type'],
                                           'the type of existing pool %s (%s): a pool cannot change type'
                                           % (self.name, current.get('type')))
        merged, xml_changed, unused = xmltree.merge_and_compare(current, desired, POOL_RULES)
        autostart = self.params['autostart']
        if autostart is None:
            autostart = bool(pool.autostart()) if pool else True
        wanted_state = dict(active=active, autostart=autostart)
        before_state = runtime_state(pool)
        self.result['changed'] = xml_changed or before_state != wanted_state
        if self.check_mode or not self.result['changed']:
            return merged, wanted_state, pool

        was_active = bool(pool and pool.isActive())
        try:
            if pool is None:
                pool = self.conn.storagePoolDefineXML(xmltree.to_xml(merged), 0)
                self.created = pool
            elif xml_changed:
                if was_active:
                    pool.destroy()
                pool = self.conn.storagePoolDefineXML(xmltree.to_xml(merged), 0)
            if active and not pool.isActive():
                pool.build(0)
                pool.create(0)
            elif not active and pool.isActive():
                pool.destroy()
            if bool(pool.autostart()) != autostart:
                pool.setAutostart(1 if autostart else 0)
        except libvirt.libvirtError:
            self._undo()
            raise
        return merged, wanted_state, pool

    def _undo(self):
        """A failure halfway removes the pool this run defined."""
        if self.created is not None:
            lifecycle.undo(self.created)

    def _absent(self, pool):
        if pool is None:
            return None, None
        volumes = []
        if pool.isActive():
            refresh(pool)
            volumes = sorted(pool.listVolumes())
        if volumes and not self.params['delete_volumes']:
            raise LibvirtOperationError(
                'storage pool %s still holds %d volume(s) (%s): remove them first or set '
                'delete_volumes=true' % (self.name, len(volumes), ', '.join(volumes[:10])))
        self.result['changed'] = True
        if not self.check_mode:
            for volume in volumes:
                pool.storageVolLookupByName(volume).delete(0)
            lifecycle.destroy_and_undefine(pool)
        return None, None
