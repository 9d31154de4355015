# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Vagrant boxes for libvirt: archives, their metadata (v1 ``box.img`` and v2 ``disks``),
catalogs and version constraints, Vagrant's own box store on disk, and the volume
names vagrant-libvirt gives box images in a pool, so both tools share them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile

from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

SLASH = '-VAGRANTSLASH-'
PROVIDER = 'libvirt'
CHECKSUM_TYPES = ('sha256', 'sha512', 'sha384', 'sha1', 'md5')


class BoxError(Exception):
    """A box that cannot be used: the message says why."""


# -- names --------------------------------------------------------------------------------
def escaped(name):
    return name.replace('/', SLASH)


def volume_name(box, version, disk='box'):
    """vagrant-libvirt's volume name for a box image."""
    return '%s_vagrant_box_image_%s_%s.img' % (escaped(box), version, disk)


def store_root(box_store=None):
    """Vagrant's home (``$VAGRANT_HOME``, default ``~/.vagrant.d``)."""
    return os.path.expanduser(box_store or os.environ.get('VAGRANT_HOME') or '~/.vagrant.d')


def box_dir(root, box, version):
    return os.path.join(root, 'boxes', escaped(box), version, PROVIDER)


# -- versions -----------------------------------------------------------------------------
_CONSTRAINT = re.compile(r'^\s*(=|!=|>=|<=|>|<|~>)?\s*([0-9][0-9A-Za-z.+-]*)\s*$')


def parse_constraint(text, option='version'):
    """[(operator, version)] from Vagrant's ``>= 1.2, < 2`` syntax."""
    parts = []
    for piece in (text or '').split(','):
        match = _CONSTRAINT.match(piece)
        if not match:
            raise ValidationError(option, text, 'a version such as 1.2.3 or constraints such as ">= 1.2, < 2" '
                                  '(operators = != > < >= <= ~>)')
        parts.append((match.group(1) or '=', match.group(2)))
    return parts


def version_key(text):
    """An ordering key as RubyGems orders versions: numbers compare as numbers, letters
    (pre-releases) sort before them, and trailing zeros do not count (1.0 == 1)."""
    parts = [(0, int(p)) if p.isdigit() else (-1, p) for p in re.findall(r'\d+|[A-Za-z]+', text)]
    while parts and parts[-1] == (0, 0):
        parts.pop()
    return tuple(parts)


def satisfies(version, constraints):
    have = version_key(version)
    for operator, wanted in constraints:
        want = version_key(wanted)
        if operator == '~>':
            numbers = [int(n) for n in re.findall(r'\d+', wanted)]
            upper = numbers[:-1] if len(numbers) > 1 else numbers
            upper[-1] += 1
            if not (want <= have < version_key('.'.join(str(n) for n in upper))):
                return False
        elif not {'=': have == want, '!=': have != want, '>': have > want, '<': have < want,
                  '>=': have >= want, '<=': have <= want}[operator]:
            return False
    return True


def best_version(versions, constraint_text):
    """The highest of ``versions`` meeting the constraint (None for no constraint)."""
    constraints = parse_constraint(constraint_text) if constraint_text else []
    fitting = [v for v in versions if satisfies(v, constraints)]
    return max(fitting, key=version_key) if fitting else None


def is_exact(constraint_text):
    parts = parse_constraint(constraint_text)
    return len(parts) == 1 and parts[0][0] == '='


# -- the store ----------------------------------------------------------------------------
def stored_versions(root, box):
    base = os.path.join(root, 'boxes', escaped(box))
    if not os.path.isdir(base):
        return []
    return sorted((v for v in os.listdir(base) if os.path.isfile(os.path.join(base, v, PROVIDER, 'metadata.json'))),
                  key=version_key)


def read_metadata(directory):
    """The box's metadata.json, checked: provider libvirt, and the disks it lists.
    Returns (metadata, [(disk name, path, format)])."""
    path = os.path.join(directory, 'metadata.json')
    try:
        with open(path) as handle:
            meta = json.load(handle)
    except (IOError, OSError, ValueError) as error:
        raise BoxError('the box has no readable metadata.json: %s' % error)
    if not isinstance(meta, dict) or meta.get('provider') != PROVIDER:
        raise BoxError('the box is not for the libvirt provider (metadata.json says provider=%r)'
                       % (meta.get('provider') if isinstance(meta, dict) else meta))
    if meta.get('disks'):
        disks = []
        for index, disk in enumerate(meta['disks']):
            image = disk.get('path') if isinstance(disk, dict) else None
            if not image or '/' in image or image.startswith('.'):
                raise BoxError('disk %d of metadata.json has no usable path: %r' % (index, disk))
            name = disk.get('name') or os.path.splitext(image)[0]
            disks.append((name, os.path.join(directory, image), disk.get('format') or 'qcow2'))
    else:
        disks = [('box', os.path.join(directory, 'box.img'), meta.get('format') or 'qcow2')]
    for name, image, unused in disks:
        if not os.path.isfile(image):
            raise BoxError('the box lists disk %s at %s, which it does not hold' % (name, os.path.basename(image)))
    return meta, disks


def volume_version(version, disks):
    """The version in volume names: an unversioned box (version 0) uses ``0_<image mtime>``."""
    if version == '0':
        return '0_%d' % int(os.path.getmtime(disks[0][1]))
    return version


# -- archives -----------------------------------------------------------------------------
def verify_checksum(path, checksum, checksum_type):
    digest = hashlib.new(checksum_type)
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b''):
            digest.update(block)
    if digest.hexdigest().lower() != checksum.strip().lower():
        raise BoxError('checksum mismatch: %s of the box is %s, expected %s'
                       % (checksum_type, digest.hexdigest(), checksum.strip().lower()))


def check_members(archive):
    """Refuse anything but plain files and directories inside the box directory."""
    for member in archive.getmembers():
        name = member.name
        parts = name.replace('\\', '/').split('/')
        if name.startswith('/') or '..' in parts:
            raise BoxError('the box archive holds %r, a path outside the box: refused' % name)
        if member.issym() or member.islnk():
            raise BoxError('the box archive holds the link %r: refused' % name)
        if not (member.isfile() or member.isdir()):
            raise BoxError('the box archive holds %r, which is not a plain file: refused' % name)


def extract(archive_path, destination):
    """Extract a box archive (tar, optionally compressed) safely into ``destination``."""
    try:
        with tarfile.open(archive_path, 'r:*') as archive:
            check_members(archive)
            archive.extractall(destination, filter='data')
    except (tarfile.TarError, EOFError, OSError) as error:
        raise BoxError('the box archive is corrupt or unreadable: %s' % error)


def install(archive_path, root, box, version, metadata_url=None):
    """Extract an archive into the store, atomically: a temporary directory beside the
    final one is renamed into place only when the box is complete and valid."""
    final = box_dir(root, box, version)
    parent = os.path.dirname(final)
    if not os.path.isdir(parent):
        os.makedirs(parent, 0o755)
    work = tempfile.mkdtemp(prefix='.%s.' % PROVIDER, dir=parent)
    try:
        extract(archive_path, work)
        read_metadata(work)
        if metadata_url:
            with open(os.path.join(work, 'metadata_url'), 'w') as handle:
                handle.write(metadata_url)
        os.chmod(work, 0o755)
        try:
            os.rename(work, final)
        except OSError:
            if not os.path.isfile(os.path.join(final, 'metadata.json')):
                raise
            shutil.rmtree(work)  # another run installed it first
    except Exception:
        shutil.rmtree(work, ignore_errors=True)
        _remove_empty(parent)
        raise
    return final


def _remove_empty(directory):
    for path in (directory, os.path.dirname(directory)):
        try:
            os.rmdir(path)
        except OSError:
            return


def remove_from_store(root, box, version):
    directory = box_dir(root, box, version)
    if os.path.isdir(directory):
        shutil.rmtree(directory)
        _remove_empty(os.path.dirname(directory))
        return True
    return False


# -- catalogs -----------------------------------------------------------------------------
def catalog_choice(catalog, constraint_text):
    """(version, url, checksum, checksum_type) of the best libvirt build in a Vagrant catalog."""
    entries = {}
    for entry in catalog.get('versions') or []:
        for provider in entry.get('providers') or []:
            if provider.get('name') == PROVIDER and provider.get('url'):
                entries[str(entry.get('version'))] = provider
    version = best_version(list(entries), constraint_text)
    if version is None:
        raise BoxError('the catalog has no libvirt box%s (it has: %s)' % (
            ' matching %s' % constraint_text if constraint_text else '', ', '.join(sorted(entries)) or 'none'))
    provider = entries[version]
    return version, provider['url'], provider.get('checksum'), provider.get('checksum_type')
