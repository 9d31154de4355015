# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Storage volumes: plain disks, copy-on-write overlays on a box volume, clones, and
uploads of local files through libvirt's sparse streams.

An upload is never visible half-done under its final name: it goes into
``<name>.part`` first and becomes ``<name>`` only when complete (a rename inside a
local directory pool, a libvirt clone otherwise), under a lock, so two runs uploading
the same image end with one upload and one volume.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import struct
import subprocess

from ansible_collections.vagrantless.libvirt.plugins.module_utils import isoimage, qemuimg, validate, xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils.locks import named_lock
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import LibvirtOperationError, Manager, check_xml_options, lookup
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import libvirt
from ansible_collections.vagrantless.libvirt.plugins.module_utils.pool import refresh, require_active

FORMATS = ('qcow2', 'raw')
# what a volume can be made from, besides nothing (an empty disk of `capacity`)
SOURCES = ('backing_volume', 'clone_from', 'upload', 'cloud_init', 'files')
PART_SUFFIX = '.part'
CHUNK = 256 * 1024
GENERATED_IMAGE_MAX = 64 * 1024 * 1024  # generated images are read back to compare; they are small


def image_info(path):
    """(format, virtual size) of a local image: qcow2 from its header, else raw."""
    with open(path, 'rb') as handle:
        header = handle.read(32)
    if len(header) >= 32 and header[:4] == b'QFI\xfb':
        return 'qcow2', struct.unpack('>Q', header[24:32])[0]
    return 'raw', os.path.getsize(path)


def find(pool, name):
    return lookup(pool.storageVolLookupByName, name, libvirt.VIR_ERR_NO_STORAGE_VOL)


def describe(volume):
    if volume is None:
        return {}
    tree = xmltree.parse(volume.XMLDesc(0))
    backing = tree.findtext('backingStore/path')
    unused, capacity, allocation = volume.info()
    return dict(name=volume.name(), path=volume.path(), pool=volume.storagePoolLookupByVolume().name(),
                format=tree.find('target/format').get('type') if tree.find('target/format') is not None else None,
                capacity=capacity, allocation=allocation, backing_store=backing)


def volume_xml(name, capacity, fmt, backing=None):
    """A volume definition; ``backing`` is (path, format) for a copy-on-write overlay."""
    root = xmltree.element('volume', {'type': 'file'})
    xmltree.sub(root, 'name', text=name)
    xmltree.sub(root, 'capacity', {'unit': 'bytes'}, text=capacity)
    target = xmltree.sub(root, 'target')
    xmltree.sub(target, 'format', {'type': fmt})
    if backing:
        store = xmltree.sub(root, 'backingStore')
        xmltree.sub(store, 'path', text=backing[0])
        xmltree.sub(store, 'format', {'type': backing[1]})
    return root


class _SparseReader(object):
    """Feeds libvirt's sparse stream from a file, skipping its holes; counts bytes sent."""

    def __init__(self, handle):
        self.fd = handle.fileno()
        self.sent = 0

    def read(self, unused_stream, nbytes, unused_opaque):
        data = os.read(self.fd, nbytes)
        self.sent += len(data)
        return data

    def in_data(self, unused_stream, unused_opaque):
        here = os.lseek(self.fd, 0, os.SEEK_CUR)
        end = os.fstat(self.fd).st_size
        if here >= end:
            return [False, 0]
        try:
            data = os.lseek(self.fd, here, os.SEEK_DATA)
        except OSError as error:
            if error.errno != errno.ENXIO:
                raise
            data = end  # nothing but a hole until the end
        if data > here:
            os.lseek(self.fd, here, os.SEEK_SET)
            return [False, data - here]
        hole = os.lseek(self.fd, here, os.SEEK_HOLE)
        os.lseek(self.fd, here, os.SEEK_SET)
        return [True, hole - here]

    def skip(self, unused_stream, length, unused_opaque):
        os.lseek(self.fd, length, os.SEEK_CUR)
        return 0


def upload_into(conn, volume, path):
    """Send a local file into ``volume`` (holes skipped); return the bytes sent."""
    stream = conn.newStream(0)
    with open(path, 'rb') as handle:
        reader = _SparseReader(handle)
        try:
            volume.upload(stream, 0, 0, libvirt.VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM)
            stream.sparseSendAll(reader.read, reader.in_data, reader.skip, None)
            stream.finish()
        except libvirt.libvirtError:
            try:
                stream.abort()
            except libvirt.libvirtError:
                pass
            raise
    return reader.sent


def data_bytes(path):
    """How many bytes of a local file are data, not holes."""
    total = 0
    with open(path, 'rb') as handle:
        fd, end, here = handle.fileno(), os.fstat(handle.fileno()).st_size, 0
        while here < end:
            try:
                here = os.lseek(fd, here, os.SEEK_DATA)
            except OSError as error:
                if error.errno != errno.ENXIO:
                    raise
                break  # nothing but a hole until the end
            hole = os.lseek(fd, here, os.SEEK_HOLE)
            total, here = total + hole - here, hole
    return total


def copy_into(path, target):
    """Copy a local file over ``target``, a volume's file in a directory pool on this host, the
    fastest safe way the file system allows: a reflink where it can share the blocks, else a
    sparse copy (holes stay holes). ``target`` keeps the owner and mode libvirt made it with.
    Returns the bytes of data copied."""
    proc = subprocess.run(['cp', '--reflink=auto', '--sparse=always', '--', path, target],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        raise LibvirtOperationError('cannot copy %s into %s: %s' % (path, target, proc.stderr.decode('utf-8', 'replace').strip()))
    return data_bytes(path)


def upload_bytes(conn, volume, data):
    """Send ``data`` (an in-memory image) into ``volume``; return the bytes sent."""
    stream = conn.newStream(0)
    volume.upload(stream, 0, len(data), 0)
    offset = 0
    while offset < len(data):
        offset += stream.send(data[offset:offset + CHUNK])
    stream.finish()
    return len(data)


def download_bytes(conn, volume, limit):
    """The first ``limit`` bytes of a volume (small generated images only)."""
    stream = conn.newStream(0)
    volume.download(stream, 0, limit, 0)
    chunks = []
    while True:
        chunk = stream.recv(CHUNK)
        if not chunk or chunk in (-2,):
            break
        chunks.append(chunk)
    stream.finish()
    return b''.join(chunks)


def _local_dir_pool_path(pool):
    tree = xmltree.parse(pool.XMLDesc(0))
    path = tree.findtext('target/path')
    local = pool.connect().getURI().split('://', 1)[1].startswith('/')
    return path if tree.get('type') == 'dir' and local and path and os.path.isdir(path) else None


def publish_upload(conn, pool, name, fmt, capacity, source, data=None):
    """Upload a file (or bytes) as volume ``name``, atomically; return (volume, bytes sent).
    A file goes into a directory pool on this host by ``copy_into``, elsewhere through
    libvirt's sparse stream. If another run published it while we waited for the lock, nothing
    is sent."""
    with named_lock(pool.name(), name):
        refresh(pool)
        existing = find(pool, name)
        if existing is not None:
            return existing, 0
        part_name = name + PART_SUFFIX
        stale = find(pool, part_name)
        if stale is not None:  # an upload that was killed halfway
            stale.delete(0)
        part = pool.createXML(xmltree.to_xml(volume_xml(part_name, capacity, fmt)), 0)
        try:
            directory = _local_dir_pool_path(pool)
            if data is not None:
                sent = upload_bytes(conn, part, data)
            elif directory:
                sent = copy_into(source, os.path.join(directory, part_name))
            else:
                sent = upload_into(conn, part, source)
            if directory:
                os.rename(os.path.join(directory, part_name), os.path.join(directory, name))
                refresh(pool)
                final = find(pool, name)
            else:
                final = pool.createXMLFrom(xmltree.to_xml(volume_xml(name, capacity, fmt)), part, 0)
                part.delete(0)
        except Exception:
            leftover = find(pool, part_name)
            if leftover is not None:
                leftover.delete(0)
            raise
        return final, sent


def check_sources(params):
    """The options that give the volume's content (at most one may be set); a conflict is
    refused naming every one given with its value."""
    given = [key for key in SOURCES if params.get(key)]
    if len(given) > 1:
        raise validate.ValidationError(given[-1], params[given[-1]], 'only one of %s: %s given too' % (
            ', '.join(SOURCES), ', '.join('%s=%r' % (key, params[key]) for key in given[:-1])))
    return given


def generated_image(params):
    """The image the options describe (dict of data, files and label), or None."""
    masked = ()
    if params['cloud_init']:
        spec = params['cloud_init']
        files, label = isoimage.cloud_init_files(spec['user_data'], spec['meta_data'], spec['network_config']), 'cidata'
        masked = isoimage.CLOUD_INIT_SECRET_FILES
    elif params['files']:
        files, label = dict(params['files']['contents'] or {}), params['files']['label']
        for path in params['files']['paths'] or []:
            if not os.path.isfile(path):
                raise validate.ValidationError('files.paths', path, 'an existing local file')
            with open(path, 'rb') as handle:
                files[os.path.basename(path)] = handle.read()
    else:
        return None
    return dict(data=isoimage.build(files, label, 'files.contents' if params['files'] else 'cloud_init'),
                files=files, label=label, masked=masked)


def merge_capacity(tree, capacity):
    """``tree`` with its capacity set (what libvirt will show after a resize)."""
    return xmltree.merge(tree, xmltree.element('volume', children=[
        xmltree.element('capacity', {'unit': 'bytes'}, text=capacity)]))


class VolumeManager(Manager):
    """Brings one volume to the state the options ask for."""

    RESULT = dict(changed=False, bytes_sent=0)

    def __init__(self, params, check_mode):
        # what goes into a generated ISO image, not into XML, may hold any text
        check_xml_options(params, skip=('cloud_init', 'files', 'image'))
        super(VolumeManager, self).__init__(params, check_mode)
        self.name = validate.name(params['name'])
        self.what = 'volume ' + self.name
        validate.name(params['pool'], 'pool')
        self.capacity = validate.size(params['capacity'], 'capacity', default_unit='') \
            if params.get('capacity') is not None else None
        sources = check_sources(params)
        if params.get('upload'):
            validate.absolute_path(params['upload'], 'upload')
            if not os.path.isfile(params['upload']):
                raise validate.ValidationError('upload', params['upload'], 'an existing local file')
            if params['state'] == 'present':
                try:  # a qcow2 naming a backing or data file would hand that host file to a guest
                    qemuimg.check_self_contained(params['upload'])
                except qemuimg.ImageError as error:
                    raise validate.ValidationError('upload', params['upload'], 'a self-contained image: %s' % error)
        if params['state'] == 'present' and not sources and self.capacity is None and not params.get('image'):
            raise validate.ValidationError('capacity', None, 'a size for a new empty volume, such as 10G')
        # a generated image, set by the module: dict(data=ISO bytes, files={name: content}, label=...)
        self.image = params.get('image')
        self._current_files = None  # what the existing generated image holds, once read
        self._current_label = None

    @classmethod
    def from_module(cls, module):
        """The module's options with the image they describe (``image``), built once the
        options that give the volume's content are known to be one at most."""
        check_sources(module.params)
        return cls(dict(module.params, image=generated_image(module.params)), module.check_mode)

    def ensure(self, conn):
        pool = require_active(conn, self.params['pool'])
        volume = find(pool, self.name)
        before = xmltree.parse(volume.XMLDesc(0)) if volume else None
        if self.params['state'] == 'absent':
            if volume is not None:
                self.result['changed'] = True
                if not self.check_mode:
                    volume.delete(0)
            self.diff.definition(self.what, xmltree.diff(before, None))
            return self.finish(volume={})
        if volume is None:
            volume, after = self._create(conn, pool)
        elif self.params.get('allow_existing'):
            after = before
        else:
            volume, after = self._converge(conn, pool, volume, before)
        self.diff.definition(self.what, xmltree.diff(before, after))
        if self.image is not None:
            masked = self.image.get('masked', ())
            self.diff.text(self.what, 'content', isoimage.listing(self._current_files, self._current_label, masked),
                           isoimage.listing(self.image['files'], self.image['label'], masked, self._current_files))
        return self.finish(volume=describe(volume) if volume is not None else dict(name=self.name))

    def _backing(self, conn, pool):
        spec = self.params['backing_volume']
        backing_pool = require_active(conn, self.params.get('backing_pool') or pool.name(), 'backing_pool')
        backing = find(backing_pool, spec)
        if backing is None:
            raise validate.ValidationError('backing_volume', spec, 'a volume in pool %s' % backing_pool.name())
        fmt = self.params.get('backing_format') or describe(backing)['format'] or 'qcow2'
        return backing, fmt

    def _create(self, conn, pool):
        fmt = self.params.get('format') or 'qcow2'
        self.result['changed'] = True
        if self.params.get('backing_volume'):
            backing, backing_fmt = self._backing(conn, pool)
            base = backing.info()[1]
            capacity = self._at_least(self.capacity or base, base, 'the backing volume')
            desired = volume_xml(self.name, capacity, 'qcow2', (backing.path(), backing_fmt))
        elif self.params.get('clone_from'):
            source = find(pool, self.params['clone_from'])
            if source is None:
                raise validate.ValidationError('clone_from', self.params['clone_from'], 'a volume in pool %s'
                                               % pool.name())
            capacity = self._at_least(self.capacity or source.info()[1], source.info()[1], 'the volume cloned')
            desired = volume_xml(self.name, capacity, describe(source)['format'] or fmt)
        elif self.params.get('upload'):
            fmt, capacity = image_info(self.params['upload'])
            desired = volume_xml(self.name, capacity, fmt)
        elif self.image is not None:
            # an ISO image: libvirt reports format iso for it once it has looked at the file
            desired = volume_xml(self.name, len(self.image['data']), 'iso')
        else:
            desired = volume_xml(self.name, self.capacity, fmt)
        if self.check_mode:
            return None, desired
        if self.params.get('clone_from'):
            volume = pool.createXMLFrom(xmltree.to_xml(desired), find(pool, self.params['clone_from']), 0)
        elif self.params.get('upload') or self.image is not None:
            data = self.image['data'] if self.image is not None else None
            volume, sent = publish_upload(conn, pool, self.name, desired.find('target/format').get('type'),
                                          int(desired.findtext('capacity')), self.params.get('upload'), data)
            self.result['bytes_sent'] = sent
            self.result['changed'] = sent > 0
        else:
            volume = self._create_converging(pool, desired)
        if self.capacity and volume.info()[1] < self.capacity:
            volume.resize(self.capacity, 0)
        return volume, desired

    def _create_converging(self, pool, desired):
        try:
            return pool.createXML(xmltree.to_xml(desired), 0)
        except libvirt.libvirtError as error:
            existing = find(pool, self.name)
            if existing is None or error.get_error_code() != libvirt.VIR_ERR_STORAGE_VOL_EXIST:
                raise
            self.result['changed'] = False  # another run made it first
            return existing

    def _at_least(self, wanted, floor, what):
        if wanted < floor:
            raise validate.ValidationError('capacity', self.params['capacity'], 'at least the %d bytes of %s: '
                                           'volumes only grow' % (floor, what))
        return wanted

    def _converge(self, conn, pool, volume, before):
        info = describe(volume)
        wanted_format = self.params.get('format')
        if wanted_format and info['format'] and wanted_format != info['format']:
            raise validate.ValidationError('format', wanted_format, 'the existing volume\'s format (%s): a volume '
                                           'is never converted in place' % info['format'])
        after = before
        if self.image is not None and self._image_differs(conn, volume):
            self.result['changed'] = True
            if not self.check_mode:
                volume.delete(0)
                volume, sent = publish_upload(conn, pool, self.name, 'iso', len(self.image['data']), None,
                                              self.image['data'])
                self.result['bytes_sent'] = sent
            after = merge_capacity(before, len(self.image['data']))
        if self.capacity is not None and self.image is None:
            current = info['capacity']
            self._at_least(self.capacity, current, 'the volume today')
            if self.capacity > current:
                self.result['changed'] = True
                after = merge_capacity(before, self.capacity)
                if not self.check_mode:
                    volume.resize(self.capacity, 0)
        return volume, after

    def _image_differs(self, conn, volume):
        size = volume.info()[1]
        if size > GENERATED_IMAGE_MAX:
            return True
        label, files = isoimage.read(download_bytes(conn, volume, size))
        self._current_files, self._current_label = files, label
        return not (label == self.image['label'] and files == isoimage.encoded(self.image['files']))
