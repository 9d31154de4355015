# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``vagrant package``: a stopped domain's disk flattened into a new Vagrant libvirt box
(``metadata.json``, ``Vagrantfile`` and ``box.img``, as vagrant-libvirt's ``vagrant
package`` and ``create_box.sh`` make it), which ``libvirt_box`` adds and ``up`` boots.

The disk (a qcow2 overlay on a box volume, or any file or block device) is read where
the module runs, so libvirt must run on this host. The box is built in a temporary
directory beside the output, tarred into ``<output>.part`` and renamed into place:
a failure leaves neither a half-made box nor temporary files behind."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import math
import os
import re
import shutil
import socket
import stat
import tarfile
import tempfile

from ansible.module_utils.six.moves.urllib.parse import urlparse

from ansible_collections.vagrantless.libvirt.plugins.module_utils import files, vagrant_box, validate, xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import LibvirtOperationError, Manager, lookup
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import libvirt
from ansible_collections.vagrantless.libvirt.plugins.module_utils.domain import find as find_domain
from ansible_collections.vagrantless.libvirt.plugins.module_utils.lifecycle import run_state
from ansible_collections.vagrantless.libvirt.plugins.module_utils.locks import named_lock

GIB = 1024 ** 3
PART_SUFFIX = '.part'
IMAGE = 'box.img'
METADATA = 'metadata.json'
VAGRANTFILE = 'Vagrantfile'
INCLUDED_VAGRANTFILE = 'include/_Vagrantfile'  # where `vagrant package --vagrantfile` puts it
PRIVATE_KEY = vagrant_box.PRIVATE_KEY  # where `vagrant package` puts the machine's inserted key
PRIVATE_KEY_PATTERN = re.compile(r'\A-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+'
                                 r'-----END [A-Z0-9 ]*PRIVATE KEY-----\n?\Z')
DEVICE_PATTERN = re.compile(r'\A[a-z][a-z0-9]{0,31}\Z')
LOCAL_HOSTS = ('localhost', '127.0.0.1', '::1')
CHUNK = 1024 * 1024

# The provider's driver and connection defaults, the settings create_box.sh writes into a box.
VAGRANTFILE_TEXT = '''# Packaged by vagrantless.libvirt from the libvirt domain %(domain)s (disk %(dev)s).
# The box's defaults for the libvirt provider; a project's Vagrantfile overrides them.
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |libvirt|
    libvirt.driver = "kvm"
    libvirt.host = ""
    libvirt.connect_via_ssh = false
    libvirt.storage_pool_name = "default"
  end
end
'''
# With a Vagrantfile given at packaging time: loaded after the defaults, so its settings win.
INCLUDE_TEXT = '''
# The Vagrantfile given when the box was packaged, loaded last so that its settings win.
include_vagrantfile = File.expand_path("../%s", __FILE__)
load include_vagrantfile if File.exist?(include_vagrantfile)
''' % INCLUDED_VAGRANTFILE
# With the machine's key shipped: the line `vagrant package` appends, so Vagrant logs in with it.
PRIVATE_KEY_TEXT = '''
Vagrant.configure("2") do |config|
  config.ssh.private_key_path = File.expand_path("../%s", __FILE__)
end
''' % PRIVATE_KEY


def is_local_uri(uri):
    """Whether libvirt at ``uri`` runs on this host, where its disk files can be read."""
    host = urlparse(uri or '').hostname
    if not host:
        return True
    host = host.lower()
    return host in LOCAL_HOSTS or host in (socket.gethostname().lower(), socket.getfqdn().lower())


def virtual_size_gib(size_bytes):
    """metadata.json's ``virtual_size``: whole GiB, rounded up."""
    return int(math.ceil(size_bytes / float(GIB)))


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(CHUNK), b''):
            digest.update(block)
    return digest.hexdigest()


def metadata_text(virtual_size):
    return json.dumps(dict(provider='libvirt', format='qcow2', virtual_size=virtual_size),
                      indent=2, sort_keys=True) + '\n'


def vagrantfile_text(domain, dev, included, private_key=False):
    text = VAGRANTFILE_TEXT % dict(domain=domain, dev=dev)
    return text + (INCLUDE_TEXT if included else '') + (PRIVATE_KEY_TEXT if private_key else '')


def read_box_metadata(path):
    """The metadata.json inside an existing box archive, or None when it has none readable."""
    try:
        with tarfile.open(path, 'r:*') as archive:
            for member in archive.getmembers():
                name = member.name[2:] if member.name.startswith('./') else member.name
                if member.isfile() and name == METADATA:
                    handle = archive.extractfile(member)
                    meta = json.loads(handle.read().decode('utf-8'))
                    return meta if isinstance(meta, dict) else None
    except (tarfile.TarError, EOFError, OSError, IOError, ValueError):
        return None
    return None


def _normalized(info):
    """Archive members owned by root, readable by all: the box does not carry the packager's ids."""
    info.uid = info.gid = 0
    info.uname = info.gname = 'root'
    info.mode = 0o755 if info.isdir() else 0o600 if info.name == PRIVATE_KEY else 0o644
    return info


def write_archive(directory, members, part):
    """Tar ``members`` (paths relative to ``directory``) into ``part``, flushed to disk."""
    with open(part, 'wb') as handle:
        with tarfile.open(fileobj=handle, mode='w', format=tarfile.GNU_FORMAT) as archive:
            for name in members:
                archive.add(os.path.join(directory, name), arcname=name, recursive=False, filter=_normalized)
        handle.flush()
        os.fsync(handle.fileno())


class PackageManager(Manager):
    """Packages one domain's disk into a box file, once (again only with ``force``). Nothing
    to diff: the result describes the file."""

    RESULT = dict(changed=False, box={}, disk={})

    def __init__(self, params, check_mode, run_command, qemu_img='qemu-img'):
        super(PackageManager, self).__init__(params, check_mode)
        self.run_command = run_command  # argv list -> (rc, stdout, stderr), never a shell
        self.qemu_img = qemu_img
        self.domain_name = validate.name(params['domain'], 'domain')
        self.output = validate.absolute_path(params['output'], 'output')
        if self.output.endswith('/') or os.path.basename(self.output) in ('', '.'):
            raise validate.ValidationError('output', self.output, 'the path of a file, not of a directory')
        if params.get('disk') is not None and not DEVICE_PATTERN.fullmatch(params['disk']):
            raise validate.ValidationError('disk', params['disk'], 'a disk target device such as vda or sdb')
        vagrantfile = params.get('vagrantfile')
        if vagrantfile is not None and ('\0' in vagrantfile or not vagrantfile.strip()):
            raise validate.ValidationError('vagrantfile', vagrantfile, 'the text of a Vagrantfile (not empty)')
        key = params.get('private_key')
        if key is not None and not PRIVATE_KEY_PATTERN.fullmatch(key.strip() + '\n'):
            raise validate.ValidationError('private_key', '(not shown)', 'the text of a PEM or OpenSSH private key')

    @classmethod
    def from_module(cls, module):
        """qemu-img reads and flattens the disk, run through the module (never a shell)."""
        return cls(module.params, module.check_mode, module.run_command, module.get_bin_path('qemu-img', required=True))

    # -- where things are ------------------------------------------------------------------
    def _check_output_place(self):
        parent = os.path.dirname(self.output)
        if not os.path.isdir(parent):
            raise validate.ValidationError('output', self.output, 'a path in an existing directory (%s is not '
                                           'one on this host)' % parent)
        if os.path.isdir(self.output):
            raise validate.ValidationError('output', self.output, 'the path of a file: it is a directory')

    def _domain(self, conn):
        uri = conn.getURI()
        if not is_local_uri(uri):
            raise LibvirtOperationError(
                'domain %s: libvirt at %s runs on another host, and its disk can only be read there: run '
                'this task on the hypervisor (delegate_to it, with a local URI such as qemu:///system), as '
                'the package role does' % (self.domain_name, uri))
        domain = find_domain(conn, self.domain_name)
        if domain is None:
            raise LibvirtOperationError('domain %s does not exist: there is no machine to package'
                                        % self.domain_name)
        return domain

    def _refuse_unless_stopped(self, domain):
        state = run_state(domain)
        if state == 'stopped':
            return
        if state == 'saved':
            why = ('its guest is saved (managed save) with its file systems mounted, so its disk is not '
                   'consistent on its own; resume and halt it, or halt it (libvirt_domain state=stopped '
                   'discards the saved memory)')
        else:
            why = ('its disk is in use and a copy would be inconsistent; halt it first (libvirt_domain '
                   'state=stopped; the package role does that)')
        raise LibvirtOperationError('domain %s is %s: %s' % (self.domain_name, state, why))

    def _disk(self, conn, domain):
        """(target dev, path, format) of the disk to package, from the domain's definition."""
        tree = xmltree.parse(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        disks = [d for d in tree.findall('devices/disk') if d.get('device', 'disk') == 'disk']
        devs = [d.find('target').get('dev') if d.find('target') is not None else None for d in disks]
        wanted = self.params.get('disk')
        if not disks:
            raise LibvirtOperationError('domain %s has no disk to package' % self.domain_name)
        if wanted is None:
            node, dev = disks[0], devs[0]
        elif wanted in devs:
            node, dev = disks[devs.index(wanted)], wanted
        else:
            raise validate.ValidationError('disk', wanted, 'a disk of domain %s: %s'
                                           % (self.domain_name, ', '.join(str(d) for d in devs)))
        source = node.find('source')
        kind = node.get('type', 'file')
        fmt = node.find('driver').get('type') if node.find('driver') is not None else None
        if source is None:
            raise LibvirtOperationError('disk %s of domain %s has no source (an empty drive)'
                                        % (dev, self.domain_name))
        if kind == 'file':
            path = source.get('file')
        elif kind == 'block':
            path = source.get('dev')
        elif kind == 'volume':
            pool = conn.storagePoolLookupByName(source.get('pool'))
            volume = lookup(pool.storageVolLookupByName, source.get('volume'), libvirt.VIR_ERR_NO_STORAGE_VOL)
            if volume is None:
                raise LibvirtOperationError('disk %s of domain %s: volume %s is not in pool %s'
                                            % (dev, self.domain_name, source.get('volume'), source.get('pool')))
            path = volume.path()
            if fmt is None:
                target_format = xmltree.parse(volume.XMLDesc(0)).find('target/format')
                fmt = target_format.get('type') if target_format is not None else None
        else:
            raise LibvirtOperationError('disk %s of domain %s is a %s disk: only file, block and volume disks '
                                        'can be read and packaged' % (dev, self.domain_name, kind))
        if not path or not os.path.exists(path):
            raise LibvirtOperationError('disk %s of domain %s: its image %s is not on this host' % (
                dev, self.domain_name, path))
        mode = os.stat(path).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISBLK(mode)):
            raise LibvirtOperationError('disk %s of domain %s: %s is not a file or block device'
                                        % (dev, self.domain_name, path))
        return dev, path, fmt or 'raw'

    def _qemu_img(self, argv, what):
        rc, out, err = self.run_command([self.qemu_img] + argv)
        if rc != 0:
            raise LibvirtOperationError('qemu-img could not %s (rc %d): %s' % (what, rc, (err or out).strip()))
        return out

    def _image_info(self, path, fmt):
        out = self._qemu_img(['info', '--output=json', '-U', '-f', fmt, path], 'read %s' % path)
        try:
            info = json.loads(out)
            return dict(virtual_size=int(info['virtual-size']), backing=info.get('full-backing-filename')
                        or info.get('backing-filename'))
        except (ValueError, KeyError, TypeError):
            raise LibvirtOperationError('qemu-img info on %s did not give a virtual size: %s' % (path, out))

    # -- the run -------------------------------------------------------------------------------
    def ensure(self, conn):
        self._check_output_place()
        domain = self._domain(conn)
        if os.path.exists(self.output) and not self.params.get('force'):
            return self._existing()
        self._refuse_unless_stopped(domain)
        dev, path, fmt = self._disk(conn, domain)
        info = self._image_info(path, fmt)
        self.result['disk'] = dict(dev=dev, path=path, format=fmt, virtual_size=info['virtual_size'],
                                   backing_store=info['backing'])
        virtual_size = virtual_size_gib(info['virtual_size'])
        self.result['changed'] = True
        if self.check_mode:
            self.result['box'] = dict(path=self.output, size=None, virtual_size=virtual_size, sha256=None)
            return self.result
        with named_lock('package', hashlib.sha256(self.output.encode('utf-8')).hexdigest()[:16]):
            if os.path.exists(self.output) and not self.params.get('force'):
                return self._existing()  # another run packaged it while we waited
            self._build(dev, path, fmt, virtual_size)
        self.result['box'] = dict(path=self.output, size=os.path.getsize(self.output),
                                  virtual_size=virtual_size, sha256=sha256_of(self.output))
        return self.result

    def _existing(self):
        meta = read_box_metadata(self.output)
        self.result.update(changed=False, box=dict(
            path=self.output, size=os.path.getsize(self.output), sha256=sha256_of(self.output),
            virtual_size=meta.get('virtual_size') if meta else None))
        if meta is None:
            self.result['warnings'] = ['%s exists and is not a readable box (no metadata.json); it is left as it '
                                       'is: set force=true to replace it' % self.output]
        return self.result

    def _build(self, dev, path, fmt, virtual_size):
        parent = os.path.dirname(self.output)
        part = self.output + PART_SUFFIX
        work = tempfile.mkdtemp(prefix='.%s.' % os.path.basename(self.output), dir=parent)
        try:
            argv = ['convert', '-f', fmt, '-O', 'qcow2'] + (['-c'] if self.params.get('compress') else [])
            self._qemu_img(argv + [path, os.path.join(work, IMAGE)], 'flatten %s into a qcow2 image' % path)
            written = self._image_info(os.path.join(work, IMAGE), 'qcow2')
            if written['backing']:
                raise LibvirtOperationError('the flattened image still has a backing file (%s)' % written['backing'])
            members = [METADATA, VAGRANTFILE, IMAGE]
            vagrantfile = self.params.get('vagrantfile')
            if vagrantfile is not None:
                os.mkdir(os.path.join(work, os.path.dirname(INCLUDED_VAGRANTFILE)))
                with open(os.path.join(work, INCLUDED_VAGRANTFILE), 'w') as handle:
                    handle.write(vagrantfile if vagrantfile.endswith('\n') else vagrantfile + '\n')
                members += [os.path.dirname(INCLUDED_VAGRANTFILE), INCLUDED_VAGRANTFILE]
            key = self.params.get('private_key')
            if key is not None:
                files.write_private(os.path.join(work, PRIVATE_KEY), key.strip() + '\n')
                members.append(PRIVATE_KEY)
            with open(os.path.join(work, METADATA), 'w') as handle:
                handle.write(metadata_text(virtual_size))
            with open(os.path.join(work, VAGRANTFILE), 'w') as handle:
                handle.write(vagrantfile_text(self.domain_name, dev, vagrantfile is not None, key is not None))
            write_archive(work, members, part)
            os.chmod(part, 0o644)
            os.rename(part, self.output)
        except BaseException:
            if os.path.lexists(part):
                os.unlink(part)
            raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
