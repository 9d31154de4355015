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
import platform
import re
import shutil
import socket
import stat
import tarfile
import tempfile

from ansible.module_utils.six.moves import http_client
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urlsplit
from ansible.module_utils.urls import open_url

from ansible_collections.vagrantless.libvirt.plugins.module_utils import qemuimg, validate
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

SLASH = '-VAGRANTSLASH-'
PROVIDER = 'libvirt'
CHECKSUM_TYPES = ('sha256', 'sha512', 'sha384', 'sha1', 'md5')
IMAGE_FORMATS = ('qcow2', 'raw')
DOWNLOAD_TIMEOUT = 60
CATALOG_MAX = 16 * 1024 * 1024
METADATA_MAX = 1024 * 1024
CHUNK = 1024 * 1024
# The key a packaged box logs in with (`vagrant package` ships the machine's key so), and the
# most a key file may hold.
PRIVATE_KEY = 'vagrant_private_key'
PRIVATE_KEY_LIMIT = 16384
# Where Vagrant looks a box name up (``VAGRANT_SERVER_URL`` overrides it, then
# ``config.vm.box_server_url``): Vagrant 2.3's default, a catalog at <server>/<name>.
DEFAULT_SERVER_URL = 'https://vagrantcloud.com/api/v2/vagrant'
CATALOG_HEADERS = {'Accept': 'application/json'}  # what Vagrant asks a catalog server for

# What a box, a catalog or the store may put into a path or a volume name: checked whole
# (re.fullmatch) before use. A version starts with a digit, so it is never "." or "..".
VERSION_PATTERN = re.compile(r'[0-9][0-9A-Za-z.+-]{0,63}')
VERSION_ALLOWED = 'a version such as 1.2.3 (a digit first, then letters, digits and ". + -", up to 64 characters)'
WORD_PATTERN = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.-]{0,63}')
WORD_ALLOWED = 'a name of letters, digits and "_ . -" (a letter or digit first, up to 64 characters)'
FILE_PATTERN = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}')
FILE_ALLOWED = 'a file name in the box: letters, digits and "_ . + -", a letter or digit first, no "/"'
HEX_PATTERN = re.compile(r'[0-9A-Fa-f]+')
# Vagrant's architecture names for this host's machine type
HOST_ARCHITECTURES = {'x86_64': 'amd64', 'amd64': 'amd64', 'aarch64': 'arm64', 'arm64': 'arm64',
                      'i386': 'i386', 'i686': 'i386', 'ppc64le': 'ppc64le', 's390x': 's390x'}


class BoxError(Exception):
    """A box that cannot be used: the message says why. ``option`` is the module option the
    bad input came through, when it is known here (else the caller knows it)."""

    def __init__(self, message, option=None):
        super(BoxError, self).__init__(message)
        self.option = option


def checked(value, where, pattern, allowed):
    """``value`` if it is a string ``pattern`` matches whole; else a BoxError naming ``where``."""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise BoxError('%s is %r: %s' % (where, value, allowed))
    return value


def mapping(value, where):
    if not isinstance(value, dict):
        raise BoxError('%s is %s, not a mapping' % (where, type(value).__name__))
    return value


def listing(value, where):
    """A JSON list (missing or null: empty)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise BoxError('%s is %s, not a list' % (where, type(value).__name__))
    return value


# -- names --------------------------------------------------------------------------------
def escaped(name):
    return name.replace('/', SLASH)


def volume_name(box, version, disk='box'):
    """vagrant-libvirt's volume name for a box image."""
    return '%s_vagrant_box_image_%s_%s.img' % (escaped(box), version, disk)


def store_root(box_store=None):
    """Vagrant's home (``$VAGRANT_HOME``, default ``~/.vagrant.d``)."""
    return os.path.expanduser(box_store or os.environ.get('VAGRANT_HOME') or '~/.vagrant.d')


def metadata_url_file(root, box):
    """Where Vagrant keeps the catalog URL a box came from: one file for all its versions."""
    validate.box_name(box)
    return os.path.join(root, 'boxes', escaped(box), 'metadata_url')


def stored_metadata_url(root, box):
    """The catalog URL the store has for ``box``, or None."""
    try:
        with open(metadata_url_file(root, box)) as handle:
            url = handle.read(4096).strip()
    except (IOError, OSError):
        return None
    return url or None


def server_url(value, option='server_url'):
    """A box server's URL: http or https, nothing that could end a header line or a word."""
    scheme = urlsplit(value).scheme.lower() if isinstance(value, str) and '://' in value else ''
    if scheme not in ('http', 'https') or any(ord(c) < 33 or ord(c) == 127 for c in value):
        raise ValidationError(option, value, 'an http or https URL without spaces or control characters')
    return value


def catalog_url(server, box):
    """Vagrant's expansion of a shorthand name (``owner/box``): ``<server>/<owner>/<box>``."""
    server_url(server)
    if '/' not in validate.box_name(box):
        raise ValidationError('name', box, 'a name of the form owner/box, to look it up on %s (or src, or catalog)'
                              % server)
    return server.rstrip('/') + '/' + box


def box_dir(root, box, version):
    """The store's directory of one box version; the name and the version are checked first,
    so the path never leaves ``root/boxes``."""
    validate.box_name(box)
    checked(version, 'the version', VERSION_PATTERN, VERSION_ALLOWED)
    return os.path.join(root, 'boxes', escaped(box), version, PROVIDER)


# -- versions -----------------------------------------------------------------------------
_CONSTRAINT = re.compile(r'\s*(=|!=|>=|<=|>|<|~>)?\s*([0-9][0-9A-Za-z.+-]{0,63})\s*')


def parse_constraint(text, option='version'):
    """[(operator, version)] from Vagrant's ``>= 1.2, < 2`` syntax."""
    parts = []
    for piece in (text or '').split(','):
        match = _CONSTRAINT.fullmatch(piece)
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
    return sorted((v for v in os.listdir(base) if VERSION_PATTERN.fullmatch(v)
                   and os.path.isfile(os.path.join(base, v, PROVIDER, 'metadata.json'))), key=version_key)


def load_json(path, what, limit=METADATA_MAX):
    """The JSON document in file ``path`` (at most ``limit`` bytes); a BoxError starting with
    ``what`` when it is missing, too large or not JSON."""
    try:
        with open(path, 'rb') as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise ValueError('it is larger than %d bytes' % limit)
        return json.loads(data.decode('utf-8'))
    except (IOError, OSError, ValueError, RecursionError) as error:
        raise BoxError('%s: %s' % (what, error))


def read_metadata(directory):
    """The box's metadata.json, checked: provider libvirt, and the disks it lists (v1: the
    one ``box.img``; v2: ``disks``, each a file of the box with a name and a format).
    Returns (metadata, [(disk name, path, format)])."""
    meta = load_json(os.path.join(directory, 'metadata.json'), 'the box has no readable metadata.json')
    if not isinstance(meta, dict) or meta.get('provider') != PROVIDER:
        raise BoxError('the box is not for the libvirt provider (metadata.json says provider=%r)'
                       % (meta.get('provider') if isinstance(meta, dict) else meta))
    entries = listing(meta.get('disks'), 'metadata.json disks')
    if not entries:
        disks = [('box', os.path.join(directory, 'box.img'),
                  _image_format(meta.get('format', 'qcow2'), 'metadata.json format'))]
    else:
        disks = []
        for index, disk in enumerate(entries):
            where = 'metadata.json disks[%d]' % index
            mapping(disk, where)
            image = checked(disk.get('path'), where + '.path', FILE_PATTERN, FILE_ALLOWED)
            name = disk.get('name', os.path.splitext(image)[0])
            checked(name, where + '.name', WORD_PATTERN, WORD_ALLOWED)
            if name in [known for known, unused, unused_format in disks]:
                raise BoxError('%s.name is %r, the name of an earlier disk: each disk needs its own' % (where, name))
            disks.append((name, os.path.join(directory, image),
                          _image_format(disk.get('format', 'qcow2'), where + '.format')))
    for name, image, unused in disks:
        if os.path.islink(image) or not os.path.isfile(image):
            raise BoxError('the box lists disk %s at %s, which it does not hold as a plain file'
                           % (name, os.path.basename(image)))
    return meta, disks


def _image_format(value, where):
    if value not in IMAGE_FORMATS:
        raise BoxError('%s is %r: one of %s' % (where, value, ', '.join(IMAGE_FORMATS)))
    return value


def check_images(disks):
    """Refuse a disk whose real format (its header, as qemu-img reads it) is not the one the
    metadata claims, or whose header names another file (a backing file, a data file)."""
    for name, image, fmt in disks:
        try:
            qemuimg.check_self_contained(image, fmt)
        except qemuimg.ImageError as error:
            raise BoxError('disk %s (%s): %s' % (name, os.path.basename(image), error))


def volume_version(version, disks):
    """The version in volume names: an unversioned box (version 0) uses ``0_<image mtime>``."""
    if version == '0':
        return '0_%d' % int(os.path.getmtime(disks[0][1]))
    return version


def packaged_key(directory):
    """The box's own login key, which `vagrant package` ships as vagrant_private_key: its path
    in the box ``directory`` when it is a plain file of a key's size, else None."""
    path = os.path.join(directory, PRIVATE_KEY)
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return path if stat.S_ISREG(info.st_mode) and 0 < info.st_size <= PRIVATE_KEY_LIMIT else None


# -- archives -----------------------------------------------------------------------------
def verify_checksum(path, checksum, checksum_type):
    if checksum_type not in CHECKSUM_TYPES:
        raise BoxError('checksum_type %r is not one of %s' % (checksum_type, ', '.join(CHECKSUM_TYPES)),
                       'checksum_type')
    if not isinstance(checksum, str):
        raise BoxError('the checksum is %r, not a text of hex digits' % (checksum,), 'checksum')
    digest = hashlib.new(checksum_type)
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b''):
            digest.update(block)
    if digest.hexdigest().lower() != checksum.strip().lower():
        raise BoxError('checksum mismatch: %s of the box is %s, expected %s'
                       % (checksum_type, digest.hexdigest(), checksum.strip().lower()), 'checksum')


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


def _extract_checked(archive, destination):
    """What tarfile's data filter does, for a Python without it (before 3.11.4 and 3.12, as
    Debian 12's 3.11.2): the members check_members let through (plain files and directories
    inside the box) written as new files, never through a link, with no mode but 0644/0755."""
    for member in archive.getmembers():
        target = os.path.join(destination, *member.name.replace('\\', '/').split('/'))
        if member.isdir():
            os.makedirs(target, 0o755, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(target), 0o755, exist_ok=True)
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0), 0o644)
        with os.fdopen(descriptor, 'wb') as sink:
            shutil.copyfileobj(archive.extractfile(member), sink, 1024 * 1024)


def extract(archive_path, destination):
    """Extract a box archive (tar, optionally compressed) safely into ``destination``."""
    try:
        with tarfile.open(archive_path, 'r:*') as archive:
            check_members(archive)
            if hasattr(tarfile, 'data_filter'):
                archive.extractall(destination, filter='data')
            else:
                _extract_checked(archive, destination)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise BoxError('the box archive is corrupt or unreadable: %s' % error)


def install(archive_path, root, box, version, metadata_url=None):
    """Extract an archive into the store, atomically: a temporary directory beside the
    final one is renamed into place only when the box is complete and valid (its metadata
    and every image checked). Returns the directory."""
    final = box_dir(root, box, version)
    parent = os.path.dirname(final)
    if not os.path.isdir(parent):
        os.makedirs(parent, 0o755)
    work = tempfile.mkdtemp(prefix='.%s.' % PROVIDER, dir=parent)
    try:
        extract(archive_path, work)
        unused, disks = read_metadata(work)
        check_images(disks)
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
    if metadata_url:  # where Vagrant keeps it, so `vagrant box outdated` knows it too
        with open(metadata_url_file(root, box), 'w') as handle:
            handle.write(metadata_url)
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
        if not stored_versions(root, box) and os.path.isfile(metadata_url_file(root, box)):
            os.unlink(metadata_url_file(root, box))  # the last version gone: the box is gone (as Vagrant cleans it)
        _remove_empty(os.path.dirname(directory))
        return True
    return False


# -- downloads ----------------------------------------------------------------------------
def download(url, directory, timeout=DOWNLOAD_TIMEOUT, limit=None, opener=open_url, headers=None, progress=None):
    """Fetch ``url`` (Ansible's open_url, with ``headers``) into a new file in ``directory``; return its path.
    ``progress(url, bytes so far, Content-Length or None)`` is called as the blocks arrive.
    Any failure, a server that stops sending for ``timeout`` seconds included, is a BoxError
    naming the URL, and leaves no file behind."""
    handle, path = tempfile.mkstemp(dir=directory, prefix='.download-')
    try:
        with os.fdopen(handle, 'wb') as out:
            response = opener(url, timeout=timeout, headers=headers)
            length = (getattr(response, 'headers', None) or {}).get('Content-Length')
            expected = int(length) if length and length.strip().isdigit() else None
            size = 0
            for block in iter(lambda: response.read(CHUNK), b''):
                size += len(block)
                if limit is not None and size > limit:
                    raise BoxError('cannot download %s: it is larger than %d bytes' % (url, limit))
                out.write(block)
                if progress is not None:
                    progress(url, size, expected)
            if expected is not None and expected != size:
                raise BoxError('cannot download %s: the connection ended after %d of its %d bytes' % (url, size, expected))
    except HTTPError as error:
        os.unlink(path)
        raise BoxError('cannot download %s: HTTP %s %s' % (url, error.code, error.reason))
    except (URLError, http_client.HTTPException, OSError, ValueError) as error:
        os.unlink(path)
        reason = getattr(error, 'reason', None) or error
        if isinstance(reason, socket.timeout):
            reason = 'no data for %s seconds' % timeout
        raise BoxError('cannot download %s: %s' % (url, reason))
    except BaseException:
        os.unlink(path)
        raise
    return path


# -- catalogs -----------------------------------------------------------------------------
def host_architecture():
    return HOST_ARCHITECTURES.get(platform.machine().lower())


def _catalog_url(value, where, local):
    """A box URL from a catalog: http(s); a file URL or an absolute path only in a catalog
    that is itself a local file (a remote catalog never points at this host's files)."""
    if not isinstance(value, str) or not value or any(ord(c) < 33 or ord(c) == 127 for c in value):
        raise BoxError('%s is %r: a URL without spaces or control characters' % (where, value))
    scheme = urlsplit(value).scheme.lower() if '://' in value else ''
    if scheme in ('http', 'https'):
        return value
    if local and (scheme == 'file' or not scheme and os.path.isabs(value)):
        return value
    raise BoxError('%s is %r: an http or https URL%s' % (
        where, value, ' (or a file URL, absolute path)' if local else ' (a remote catalog may not name local files)'))


def _catalog_provider(provider, where, local):
    """(name, architecture, url, checksum, checksum type) of one provider entry, checked."""
    mapping(provider, where)
    name = checked(provider.get('name'), where + '.name', WORD_PATTERN, WORD_ALLOWED)
    architecture = provider.get('architecture')
    if architecture is not None:
        checked(architecture, where + '.architecture', WORD_PATTERN, WORD_ALLOWED)
    if name != PROVIDER:
        return name, architecture, None, None, None
    url = _catalog_url(provider.get('url'), where + '.url', local)
    checksum_type = provider.get('checksum_type')
    checksum = provider.get('checksum')
    if checksum_type is not None and checksum_type not in CHECKSUM_TYPES:
        raise BoxError('%s.checksum_type is %r: one of %s' % (where, checksum_type, ', '.join(CHECKSUM_TYPES)))
    if checksum is not None:
        digits = hashlib.new(checksum_type or 'sha256').digest_size * 2
        if not isinstance(checksum, str) or len(checksum) != digits or not HEX_PATTERN.fullmatch(checksum):
            raise BoxError('%s.checksum is %r: %d hex digits (%s)' % (where, checksum, digits,
                                                                      checksum_type or 'sha256'))
    return name, architecture, url, checksum, checksum_type


def catalog_choice(catalog, constraint_text, local=False):
    """(version, url, checksum, checksum_type) of the best libvirt build in a Vagrant catalog.
    The whole catalog is checked first, each item named where it is wrong; of several libvirt
    builds of one version, the one for this host's architecture wins."""
    mapping(catalog, 'the catalog')
    if catalog.get('name') is not None:
        try:
            validate.box_name(catalog['name'], 'catalog name')
        except ValidationError as error:
            raise BoxError(str(error))
    host = host_architecture()
    entries = {}
    for index, entry in enumerate(listing(catalog.get('versions'), 'versions')):
        where = 'versions[%d]' % index
        mapping(entry, where)
        version = checked(entry.get('version'), where + '.version', VERSION_PATTERN, VERSION_ALLOWED)
        for number, provider in enumerate(listing(entry.get('providers'), where + '.providers')):
            name, architecture, url, checksum, checksum_type = _catalog_provider(
                provider, '%s.providers[%d]' % (where, number), local)
            if name != PROVIDER:
                continue
            rank = 0 if architecture == host else 1 if architecture in (None, 'unknown') else 2
            if version not in entries or rank < entries[version][0]:
                entries[version] = (rank, url, checksum, checksum_type)
    version = best_version(list(entries), constraint_text)
    if version is None:
        raise BoxError('the catalog has no libvirt box%s (it has: %s)' % (
            ' matching %s' % constraint_text if constraint_text else '', ', '.join(sorted(entries)) or 'none'))
    return (version,) + entries[version][1:]
