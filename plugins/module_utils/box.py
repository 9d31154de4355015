# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A box in the store and its images in a pool: what ``libvirt_box`` converges."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.vagrantless.libvirt.plugins.module_utils import boxes, validate, xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils import volume as volumes
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import LibvirtOperationError
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import libvirt
from ansible_collections.vagrantless.libvirt.plugins.module_utils.pool import require_active


def users_of(conn, paths):
    """Domains whose disks are one of ``paths`` or an overlay on one of them."""
    overlays = set(paths)
    for pool in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE):
        for vol in pool.listAllVolumes(0):
            tree = xmltree.parse(vol.XMLDesc(0))
            if tree.findtext('backingStore/path') in paths:
                overlays.add(vol.path())
    users = set()
    for domain in conn.listAllDomains(0):
        tree = xmltree.parse(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        if any(source.get('file') in overlays for source in tree.findall('devices/disk/source')):
            users.add(domain.name())
    return sorted(users)


class BoxManager(object):
    """Brings one box to the state the options ask for."""

    def __init__(self, params, check_mode, fetch):
        self.params = params
        self.check_mode = check_mode
        self.fetch = fetch  # url -> local file path (Ansible's fetch_url behind it)
        self.name = validate.box_name(params['name'])
        validate.name(params['pool'], 'pool')
        if params.get('version'):
            boxes.parse_constraint(params['version'])
        if params.get('src') and params.get('catalog'):
            raise validate.ValidationError('src', params['src'], 'either src or catalog, not both')
        if params.get('src') and params.get('version') and not boxes.is_exact(params['version']):
            raise validate.ValidationError('version', params['version'], 'an exact version when src is given '
                                           '(constraints choose among catalog or stored versions)')
        if params.get('checksum') and not params.get('checksum_type'):
            raise validate.ValidationError('checksum_type', None, 'one of %s with checksum'
                                           % ', '.join(boxes.CHECKSUM_TYPES))
        self.root = boxes.store_root(params.get('box_store'))
        self._added = False
        self.result = dict(changed=False, volumes=[], box={})

    def ensure(self, conn):
        pool = require_active(conn, self.params['pool'])
        if self.params['state'] == 'absent':
            return self._absent(conn, pool)
        version = self._stored_version()
        if version is None and not self.check_mode:
            with volumes.named_lock('box', boxes.escaped(self.name)):
                version = self._stored_version()  # another run may have added it meanwhile
                if version is None:
                    version = self._add_to_store()
        elif version is None:
            self._source()  # check mode: the box would be added from there
            self.result['changed'] = True
        if version is None:  # check mode, not in the store yet
            self.result['box'] = dict(name=self.name, version=self.params.get('version'))
            return self.result
        directory = boxes.box_dir(self.root, self.name, version)
        meta, disks = boxes.read_metadata(directory)
        volume_version = boxes.volume_version(version, disks)
        for disk, image, unused in disks:
            name = boxes.volume_name(self.name, volume_version, disk)
            existing = volumes.find(pool, name)
            if existing is None:
                self.result['changed'] = True
                if self.check_mode:
                    self.result['volumes'].append(dict(name=name))
                    continue
                fmt, capacity = volumes.image_info(image)
                existing, sent = volumes.publish_upload(conn, pool, name, fmt, capacity, image)
                if not sent and not self._added:
                    self.result['changed'] = False  # another run uploaded it while we waited
            self.result['volumes'].append(volumes.describe(existing))
        self.result['box'] = dict(name=self.name, version=version, path=directory, metadata=meta)
        return self.result

    def _stored_version(self):
        return boxes.best_version(boxes.stored_versions(self.root, self.name), self.params.get('version'))

    def _source(self):
        """(version, url or path, checksum, checksum type, metadata url) to add the box from."""
        params = self.params
        if params.get('catalog'):
            location = params['catalog']
            path = location if os.path.isfile(location) else self.fetch(location)
            try:
                with open(path) as handle:
                    catalog = json.load(handle)
            except (IOError, OSError, ValueError) as error:
                raise boxes.BoxError('the catalog %s is not readable JSON: %s' % (location, error))
            version, url, checksum, checksum_type = boxes.catalog_choice(catalog, params.get('version'))
            return version, url, checksum, checksum_type, location
        if params.get('src'):
            version = boxes.parse_constraint(params['version'])[0][1] if params.get('version') else '0'
            return version, params['src'], params.get('checksum'), params.get('checksum_type'), None
        raise validate.ValidationError('src', None, 'a box file or URL (or a catalog): box %s%s is not in the '
                                       'store %s' % (self.name, ' ' + params['version'] if params.get('version')
                                                     else '', self.root))

    def _add_to_store(self):
        version, location, checksum, checksum_type, metadata_url = self._source()
        self.result['changed'] = True
        path = location
        if '://' in location and not location.startswith('file://'):
            path = self.fetch(location)
        elif location.startswith('file://'):
            path = location[len('file://'):]
        if not os.path.isfile(path):
            raise validate.ValidationError('src', location, 'a box file that exists, or an http(s)/file URL')
        if checksum:
            boxes.verify_checksum(path, checksum, checksum_type or 'sha256')
        boxes.install(path, self.root, self.name, version, metadata_url)
        self._added = True
        return version

    def _absent(self, conn, pool):
        prefix = boxes.escaped(self.name) + '_vagrant_box_image_'
        if self.params.get('version'):
            prefix += boxes.parse_constraint(self.params['version'])[0][1] + '_'
        pool.refresh(0)
        found = [v for v in pool.listAllVolumes(0) if v.name().startswith(prefix)]
        users = users_of(conn, set(v.path() for v in found)) if found else []
        if users and not self.params.get('force'):
            raise LibvirtOperationError('box %s is in use: domain(s) %s have disks on its volumes; remove them '
                                        'first or set force=true' % (self.name, ', '.join(users)))
        stored = boxes.stored_versions(self.root, self.name) if self.params.get('remove_from_store') else []
        if self.params.get('version'):
            wanted = boxes.parse_constraint(self.params['version'])[0][1]
            stored = [v for v in stored if v == wanted]
        self.result['changed'] = bool(found or stored)
        self.result['volumes'] = [dict(name=v.name(), path=v.path()) for v in found]
        if not self.check_mode:
            for vol in found:
                vol.delete(0)
            for version in stored:
                boxes.remove_from_store(self.root, self.name, version)
        return self.result
