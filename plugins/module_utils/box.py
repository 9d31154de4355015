# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A box in the store and its images in a pool: what ``libvirt_box`` converges."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import tempfile

from ansible_collections.vagrantless.libvirt.plugins.module_utils import download_progress, locks, vagrant_box, validate, xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils import volume as volumes
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import Manager
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import libvirt
from ansible_collections.vagrantless.libvirt.plugins.module_utils.pool import refresh, require_active


def backing_users(conn, paths):
    """Volumes of the active pools whose backing chain reaches one of ``paths``: an overlay
    on a box volume, an overlay on that overlay, and so on ({path: 'pool/volume'})."""
    backing, names = {}, {}
    for pool in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE):
        for vol in pool.listAllVolumes(0):
            try:
                path, tree = vol.path(), xmltree.parse(vol.XMLDesc(0))
            except libvirt.libvirtError:
                continue  # removed meanwhile by someone else
            names[path] = '%s/%s' % (pool.name(), vol.name())
            if tree.findtext('backingStore/path'):
                backing[path] = tree.findtext('backingStore/path')
    users = {}
    for path in backing:
        seen, link = set(), path
        while link in backing and link not in seen:  # libvirt shows one level: follow it ourselves
            seen.add(link)
            link = backing[link]
            if link in paths:
                users[path] = names[path]
                break
    return users


def users_of(conn, paths):
    """(domains, volumes) using ``paths``: domains whose disks are one of them or a volume whose
    backing chain reaches one of them, and those volumes ('pool/volume')."""
    overlays = backing_users(conn, set(paths))
    in_use = set(paths) | set(overlays)
    domains = set()
    for domain in conn.listAllDomains(0):
        tree = xmltree.parse(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        if any(source.get('file') in in_use for source in tree.findall('devices/disk/source')):
            domains.add(domain.name())
    return sorted(domains), sorted(overlays.values())


class Downloads(object):
    """Where a run's downloads go: a temporary directory, made at the first download and
    removed with all it holds by ``remove``; their progress is written to ``progress_file``
    when one is given (see download_progress)."""

    def __init__(self, timeout, progress_file=None):
        self.timeout = timeout
        self.directory = None
        self.progress = download_progress.Writer(progress_file) if progress_file else None

    def fetch(self, url, limit, headers=None):
        """``url`` downloaded (at most ``limit`` bytes, None for any size); its local path."""
        if self.directory is None:
            self.directory = tempfile.mkdtemp(prefix='vagrantless-box-')
        return vagrant_box.download(url, self.directory, self.timeout, limit, headers=headers, progress=self.progress)

    def remove(self):
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


class BoxManager(Manager):
    """Brings one box to the state the options ask for. Nothing to diff: the returned
    volumes say what is in the pool."""

    RESULT = dict(changed=False, volumes=[], box={}, update=None)

    def __init__(self, params, check_mode, fetch, downloads=None):
        super(BoxManager, self).__init__(params, check_mode)
        self.downloads = downloads  # what close() removes
        self.fetch = fetch  # (url, size limit or None[, headers]) -> local file path (Ansible's open_url behind it)
        self.name = validate.box_name(params['name'])
        validate.name(params['pool'], 'pool')
        if params.get('version'):
            vagrant_box.parse_constraint(params['version'])
        if params.get('src') and params.get('catalog'):
            raise validate.ValidationError('src', params['src'], 'either src or catalog, not both')
        if params.get('src') and params.get('version') and not vagrant_box.is_exact(params['version']):
            raise validate.ValidationError('version', params['version'], 'an exact version when src is given '
                                           '(constraints choose among catalog or stored versions)')
        if params.get('checksum') and not params.get('checksum_type'):
            raise validate.ValidationError('checksum_type', None, 'one of %s with checksum'
                                           % ', '.join(vagrant_box.CHECKSUM_TYPES))
        validate.positive_int(params.get('timeout', vagrant_box.DOWNLOAD_TIMEOUT), 'timeout')
        # the server given wins (the up role gives what Vagrant's order picks on the controller),
        # else VAGRANT_SERVER_URL of the host this runs on, else Vagrant's default
        self.server_url = (params.get('server_url') or os.environ.get('VAGRANT_SERVER_URL')
                           or vagrant_box.DEFAULT_SERVER_URL)
        self.root = vagrant_box.store_root(params.get('box_store'))
        self._added = False
        self._uploaded = []

    @classmethod
    def from_module(cls, module):
        """Downloads through Ansible's open_url into a temporary directory of the run."""
        downloads = Downloads(module.params['timeout'], module.params.get('progress_file'))
        return cls(module.params, module.check_mode, downloads.fetch, downloads)

    def close(self):
        if self.downloads is not None:
            self.downloads.remove()

    def run(self, module):
        """The module's run; a box, its catalog or its images that are not what they should be
        are bad input, refused naming the option they came through."""
        try:
            return super(BoxManager, self).run(module)
        except vagrant_box.BoxError as error:
            option = error.option or self.input_option()
            raise validate.ValidationError(option, self.params.get(option), 'box %s: %s' % (self.params['name'], error))

    def input_option(self):
        """The option a box, its catalog or its images came through (for a refusal)."""
        return 'catalog' if self.params.get('catalog') else 'src' if self.params.get('src') else 'name'

    def ensure(self, conn):
        pool = require_active(conn, self.params['pool'])
        if self.params['state'] == 'absent':
            return self._absent(conn, pool)
        version = self._stored_version()
        if version is not None and self.params.get('check_update'):
            self._check_update(version)
        if version is None and not self.check_mode:
            with locks.named_lock('box', vagrant_box.escaped(self.name)):
                version = self._stored_version()  # another run may have added it meanwhile
                if version is None:
                    version = self._add_to_store()
        elif version is None:
            self._source()  # check mode: the box would be added from there
            self.result['changed'] = True
        if version is None:  # check mode, not in the store yet
            self.result['box'] = dict(name=self.name, version=self.params.get('version'))
            return self.result
        try:
            return self._upload(conn, pool, version)
        except BaseException:
            self._undo(version)
            raise

    def _upload(self, conn, pool, version):
        directory = vagrant_box.box_dir(self.root, self.name, version)
        meta, disks = vagrant_box.read_metadata(directory)
        volume_version = vagrant_box.volume_version(version, disks)
        found = dict((disk, volumes.find(pool, vagrant_box.volume_name(self.name, volume_version, disk)))
                     for disk, unused, unused_format in disks)
        # every image about to be uploaded, before the first upload (a box added by another tool too)
        vagrant_box.check_images([entry for entry in disks if found[entry[0]] is None])
        for disk, image, unused in disks:
            name = vagrant_box.volume_name(self.name, volume_version, disk)
            existing = found[disk]
            if existing is None:
                self.result['changed'] = True
                if self.check_mode:
                    self.result['volumes'].append(dict(name=name))
                    continue
                fmt, capacity = volumes.image_info(image)
                existing, sent = volumes.publish_upload(conn, pool, name, fmt, capacity, image)
                if sent:
                    self._uploaded.append(existing)
                elif not self._added:
                    self.result['changed'] = False  # another run uploaded it while we waited
            self.result['volumes'].append(volumes.describe(existing))
        self.result['box'] = dict(name=self.name, version=version, path=directory, metadata=meta,
                                  private_key=vagrant_box.packaged_key(directory))
        return self.result

    def _undo(self, version):
        """After a failure: remove what this run made, the volumes it uploaded and the store
        entry it extracted; what was there before stays."""
        for vol in self._uploaded:
            try:
                vol.delete(0)
            except libvirt.libvirtError:
                pass  # removed meanwhile
        if self._added:
            vagrant_box.remove_from_store(self.root, self.name, version)

    def _check_update(self, version):
        """As Vagrant's box_check_update: a newer version in the catalog the box came from
        (within the version constraint) is said in a warning and in ``update``; a catalog that
        cannot be read is a warning too, never a failure of a box that is here."""
        url = vagrant_box.stored_metadata_url(self.root, self.name)
        if url is None:
            return  # added from a file: no catalog to ask
        try:
            catalog, local = self._read_catalog(url)
            latest = vagrant_box.catalog_choice(catalog, self.params.get('version'), local)[0]
        except (vagrant_box.BoxError, validate.ValidationError) as error:
            self.result.setdefault('warnings', []).append('box %s: could not check for a newer version: %s'
                                                          % (self.name, error))
            return
        if vagrant_box.version_key(latest) > vagrant_box.version_key(version):
            self.result['update'] = dict(current=version, latest=latest, catalog=url)
            self.result.setdefault('warnings', []).append(
                'box %s: version %s is available in %s (this machine uses %s); add it with vm_box_version: '
                '"%s" or `vagrant box update`' % (self.name, latest, url, version, latest))

    def _read_catalog(self, location):
        """(the catalog document at ``location``, whether it is a local file): a local file is
        read, a URL fetched asking for JSON."""
        local = os.path.isfile(location)
        path = location if local else self.fetch(location, vagrant_box.CATALOG_MAX, vagrant_box.CATALOG_HEADERS)
        return (vagrant_box.load_json(path, 'the catalog %s is not readable JSON' % location, vagrant_box.CATALOG_MAX),
                local)

    def _stored_version(self):
        return vagrant_box.best_version(vagrant_box.stored_versions(self.root, self.name), self.params.get('version'))

    def _source(self):
        """(version, url or path, checksum, checksum type, metadata url) to add the box from."""
        params = self.params
        if params.get('src'):
            version = vagrant_box.parse_constraint(params['version'])[0][1] if params.get('version') else '0'
            return version, params['src'], params.get('checksum'), params.get('checksum_type'), None
        if '/' not in self.name and not params.get('catalog'):
            raise validate.ValidationError('src', None, 'a box file or URL (or a catalog): box %s%s is not in the '
                                           'store %s' % (self.name, ' ' + params['version'] if params.get('version')
                                                         else '', self.root))
        # a catalog given, or the name looked up where Vagrant looks it up
        location = params.get('catalog') or vagrant_box.catalog_url(self.server_url, self.name)
        try:
            catalog, local = self._read_catalog(location)
            version, url, checksum, checksum_type = vagrant_box.catalog_choice(catalog, params.get('version'), local)
        except vagrant_box.BoxError as error:
            looked_up = '' if params.get('catalog') else 'it is not in the store %s, and ' % self.root
            raise vagrant_box.BoxError('%sthe catalog %s: %s' % (looked_up, location, error), error.option)
        return version, url, checksum, checksum_type, location

    def _add_to_store(self):
        version, location, checksum, checksum_type, metadata_url = self._source()
        self.result['changed'] = True
        path = location
        if '://' in location and not location.startswith('file://'):
            path = self.fetch(location, None)
        elif location.startswith('file://'):
            path = location[len('file://'):]
        if not os.path.isfile(path):
            raise validate.ValidationError('src', location, 'a box file that exists, or an http(s)/file URL')
        if checksum:
            vagrant_box.verify_checksum(path, checksum, checksum_type or 'sha256')
        vagrant_box.install(path, self.root, self.name, version, metadata_url)
        self._added = True  # none was stored (under the box's lock): this run extracted it
        return version

    def _absent(self, conn, pool):
        prefix = vagrant_box.escaped(self.name) + '_vagrant_box_image_'
        if self.params.get('version'):
            prefix += vagrant_box.parse_constraint(self.params['version'])[0][1] + '_'
        refresh(pool)
        found = [v for v in pool.listAllVolumes(0) if v.name().startswith(prefix)]
        domains, overlays = users_of(conn, set(v.path() for v in found)) if found else ([], [])
        if (domains or overlays) and not self.params.get('force'):
            users = (['domain(s) %s have disks on its volumes' % ', '.join(domains)] if domains else []) + (
                ['volume(s) %s have it in their backing chain' % ', '.join(overlays)] if overlays else [])
            raise validate.ValidationError('state', 'absent', 'box %s is in use: %s; remove them first or set '
                                           'force=true' % (self.name, '; '.join(users)))
        stored = vagrant_box.stored_versions(self.root, self.name) if self.params.get('remove_from_store') else []
        if self.params.get('version'):
            wanted = vagrant_box.parse_constraint(self.params['version'])[0][1]
            stored = [v for v in stored if v == wanted]
        self.result['changed'] = bool(found or stored)
        self.result['volumes'] = [dict(name=v.name(), path=v.path()) for v in found]
        if not self.check_mode:
            for vol in found:
                vol.delete(0)
            for version in stored:
                vagrant_box.remove_from_store(self.root, self.name, version)
        return self.result
