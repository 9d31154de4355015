# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt_package's logic on real files: a qcow2 overlay on a small base image (made with
qemu-img) as the disk of a domain of libvirt's test driver, packaged into a box that is
read back with tarfile's data filter; check mode, idempotence, force, refusals, and a
failure halfway that leaves nothing behind."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess
import tarfile

import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import package as packages
from ansible_collections.vagrantless.libvirt.plugins.module_utils import volume as volumes
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import LibvirtOperationError
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

QEMU_IMG = shutil.which('qemu-img')
DOMAIN = 'vlt-pkg-unit'
MIB = 1024 * 1024
pytestmark = pytest.mark.skipif(QEMU_IMG is None, reason='qemu-img (qemu-utils) is not installed')


def run_command(argv):
    """module.run_command's contract: an argv list, (rc, stdout, stderr)."""
    assert isinstance(argv, list)
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def qemu_img(*args):
    subprocess.run([QEMU_IMG] + list(args), check=True, stdout=subprocess.PIPE)


def image_info(path):
    return json.loads(subprocess.run([QEMU_IMG, 'info', '--output=json', path], check=True,
                                     stdout=subprocess.PIPE).stdout)


DOMAIN_XML = '''<domain type="test"><name>%(name)s</name><memory unit="MiB">64</memory>
  <os><type arch="x86_64">hvm</type></os>
  <devices>
    <disk type="file" device="cdrom"><driver name="qemu" type="raw"/><source file="%(iso)s"/>
      <target dev="hdc" bus="ide"/><readonly/></disk>
    <disk type="file" device="disk"><driver name="qemu" type="qcow2"/><source file="%(disk)s"/>
      <target dev="vda" bus="virtio"/></disk>
    <disk type="file" device="disk"><driver name="qemu" type="raw"/><source file="%(data)s"/>
      <target dev="vdb" bus="virtio"/></disk>
  </devices></domain>'''


@pytest.fixture
def images(tmp_path):
    """A 1.5 GiB base image with data at two offsets, a qcow2 overlay on it with data of its
    own, and a raw 3 MiB second disk."""
    base = str(tmp_path / 'base.qcow2')
    disk = str(tmp_path / 'machine.img')
    data = str(tmp_path / 'data.raw')
    qemu_img('create', '-q', '-f', 'qcow2', base, '1536M')
    subprocess.run(['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x61 0 1M', '-c', 'write -P 0x62 1G 64k', base],
                   check=True, stdout=subprocess.PIPE)
    qemu_img('create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', disk)
    subprocess.run(['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x63 2M 128k', disk], check=True,
                   stdout=subprocess.PIPE)
    with open(data, 'wb') as handle:
        handle.truncate(3 * MIB)
    return dict(base=base, disk=disk, data=data, iso=str(tmp_path / 'seed.iso'))


@pytest.fixture
def conn(conn, test_domain, images):
    """The test driver with a stopped domain on the images."""
    test_domain(DOMAIN, running=False, xml=DOMAIN_XML % dict(images, name=DOMAIN))
    return conn


@pytest.fixture
def out_dir(tmp_path):
    path = tmp_path / 'out'
    path.mkdir()
    return path


def run(conn, output=None, check_mode=False, **overrides):
    params = dict(domain=DOMAIN, output=str(output), disk=None, vagrantfile=None, private_key=None, force=False,
                  compress=False)
    params.update(overrides)
    return packages.PackageManager(params, check_mode, run_command, QEMU_IMG).ensure(conn)


def unpack(box, into):
    with tarfile.open(str(box)) as archive:
        names = archive.getnames()
        archive.extractall(str(into), filter='data')
    return names


def test_package_flattens_the_overlay_into_a_box(conn, images, out_dir, tmp_path):
    box = out_dir / 'web.box'
    result = run(conn, box)
    assert result['changed'] is True
    assert result['box']['path'] == str(box)
    assert result['box']['size'] == os.path.getsize(str(box))
    assert result['box']['sha256'] == packages.sha256_of(str(box))
    assert result['box']['virtual_size'] == 2  # 1.5 GiB, rounded up
    assert result['disk'] == dict(dev='vda', path=images['disk'], format='qcow2', virtual_size=1536 * MIB,
                                  backing_store=images['base'])
    assert sorted(os.listdir(str(out_dir))) == ['web.box']  # no .part, no temporary directory

    names = unpack(box, tmp_path / 'x')
    assert names == ['metadata.json', 'Vagrantfile', 'box.img']
    with open(str(tmp_path / 'x' / 'metadata.json')) as handle:
        assert json.load(handle) == {'provider': 'libvirt', 'format': 'qcow2', 'virtual_size': 2}
    with open(str(tmp_path / 'x' / 'Vagrantfile')) as handle:
        vagrantfile = handle.read()
    for line in ('Vagrant.configure("2") do |config|', 'config.vm.provider :libvirt do |libvirt|',
                 'libvirt.driver = "kvm"', 'libvirt.host = ""', 'libvirt.connect_via_ssh = false',
                 'libvirt.storage_pool_name = "default"'):
        assert line in vagrantfile
    assert 'include' not in vagrantfile

    image = str(tmp_path / 'x' / 'box.img')
    info = image_info(image)
    assert info['format'] == 'qcow2'
    assert info['virtual-size'] == 1536 * MIB
    assert 'backing-filename' not in info  # flattened: the box needs nothing else
    assert volumes.image_info(image) == ('qcow2', 1536 * MIB)  # what libvirt_box reads when uploading
    # the same content as the overlay seen through its base: both images' data and the zeros
    subprocess.run([QEMU_IMG, 'compare', '-q', images['disk'], image], check=True)


def test_second_run_leaves_the_box_alone(conn, out_dir):
    box = out_dir / 'web.box'
    first = run(conn, box)
    mtime = os.path.getmtime(str(box))
    again = run(conn, box)
    assert again['changed'] is False
    assert again['box'] == first['box']
    assert again['disk'] == {}
    assert os.path.getmtime(str(box)) == mtime


def test_check_mode_predicts_and_writes_nothing(conn, out_dir):
    box = out_dir / 'web.box'
    predicted = run(conn, box, check_mode=True)
    assert predicted['changed'] is True
    assert predicted['box'] == dict(path=str(box), size=None, virtual_size=2, sha256=None)
    assert os.listdir(str(out_dir)) == []
    made = run(conn, box)
    assert made['box']['virtual_size'] == predicted['box']['virtual_size']
    assert run(conn, box, check_mode=True)['changed'] is False


def test_force_replaces_the_box(conn, out_dir, tmp_path):
    box = out_dir / 'web.box'
    box.write_bytes(b'not a box')
    kept = run(conn, box)
    assert kept['changed'] is False
    assert kept['box']['virtual_size'] is None
    assert 'not a readable box' in kept['warnings'][0]
    assert box.read_bytes() == b'not a box'
    assert run(conn, box, check_mode=True, force=True)['changed'] is True
    assert box.read_bytes() == b'not a box'
    replaced = run(conn, box, force=True, disk='vdb', vagrantfile='Vagrant.configure("2") do |config|\n'
                   '  config.ssh.username = "admin"\nend')
    assert replaced['changed'] is True
    assert replaced['disk']['dev'] == 'vdb' and replaced['disk']['format'] == 'raw'
    assert replaced['box']['virtual_size'] == 1
    names = unpack(box, tmp_path / 'y')
    assert names == ['metadata.json', 'Vagrantfile', 'box.img', 'include', 'include/_Vagrantfile']
    with open(str(tmp_path / 'y' / 'include' / '_Vagrantfile')) as handle:
        assert handle.read() == 'Vagrant.configure("2") do |config|\n  config.ssh.username = "admin"\nend\n'
    with open(str(tmp_path / 'y' / 'Vagrantfile')) as handle:
        assert 'load include_vagrantfile' in handle.read()
    assert image_info(str(tmp_path / 'y' / 'box.img'))['virtual-size'] == 3 * MIB
    assert packages.read_box_metadata(str(box))['virtual_size'] == 1


def _compressed_clusters(box, into):
    unpack(box, into)
    checked = subprocess.run([QEMU_IMG, 'check', '--output=json', str(into / 'box.img')], check=True,
                             stdout=subprocess.PIPE).stdout
    return json.loads(checked).get('compressed-clusters', 0)


def test_compress(conn, out_dir, tmp_path):
    result = run(conn, out_dir / 'small.box', compress=True)
    assert result['changed'] is True and result['box']['virtual_size'] == 2
    # the image inside is made of compressed clusters (and without compress, of none)
    assert _compressed_clusters(out_dir / 'small.box', tmp_path / 'small') > 0
    run(conn, out_dir / 'plain.box')
    assert _compressed_clusters(out_dir / 'plain.box', tmp_path / 'plain') == 0


def test_a_running_domain_is_refused(conn, out_dir):
    conn.lookupByName(DOMAIN).create()
    with pytest.raises(LibvirtOperationError, match='vlt-pkg-unit is running: .*halt it first'):
        run(conn, out_dir / 'web.box')
    with pytest.raises(LibvirtOperationError, match='is running'):
        run(conn, out_dir / 'web.box', check_mode=True)
    conn.lookupByName(DOMAIN).suspend()
    with pytest.raises(LibvirtOperationError, match='is paused'):
        run(conn, out_dir / 'web.box')
    assert os.listdir(str(out_dir)) == []


def test_a_missing_domain_or_disk_is_refused(conn, out_dir):
    with pytest.raises(LibvirtOperationError, match='vlt-pkg-nothere does not exist'):
        run(conn, out_dir / 'web.box', domain='vlt-pkg-nothere')
    with pytest.raises(ValidationError, match="disk='vdc' is not valid: a disk of domain vlt-pkg-unit: vda, vdb"):
        run(conn, out_dir / 'web.box', disk='vdc')
    with pytest.raises(ValidationError, match="disk='hdc'"):  # a CD-ROM is not a disk
        run(conn, out_dir / 'web.box', disk='hdc')
    assert os.listdir(str(out_dir)) == []


@pytest.mark.parametrize('option, value, allowed', [
    ('output', 'relative/web.box', 'absolute path'),
    ('output', '/tmp/../etc/web.box', 'absolute path'),
    ('output', '/tmp/', 'not of a directory'),
    ('disk', 'vd a', 'target device'),
    ('domain', 'a/b', 'letters, digits'),
    ('vagrantfile', '  \n', 'not empty'),
])
def test_bad_input_names_the_option(conn, option, value, allowed):
    overrides = dict(output='/tmp/web.box')
    overrides[option] = value
    with pytest.raises(ValidationError, match='%s=.*%s' % (option, allowed)):
        run(conn, check_mode=True, **overrides)


def test_output_must_be_in_an_existing_directory(conn, tmp_path):
    with pytest.raises(ValidationError, match='existing directory'):
        run(conn, tmp_path / 'nowhere' / 'web.box')
    with pytest.raises(ValidationError, match='it is a directory'):
        run(conn, tmp_path)


def test_a_failure_halfway_leaves_nothing(conn, out_dir, monkeypatch):
    box = out_dir / 'web.box'

    def failing_archive(directory, members, part):
        with open(part, 'wb') as handle:
            handle.write(b'half a tar')
        raise IOError('disk full')

    monkeypatch.setattr(packages, 'write_archive', failing_archive)
    with pytest.raises(IOError, match='disk full'):
        run(conn, box)
    assert os.listdir(str(out_dir)) == []


def test_a_qemu_img_failure_is_reported_and_cleaned_up(conn, images, out_dir):
    with open(images['disk'], 'r+b') as handle:  # a corrupt qcow2 header
        handle.write(b'QFI\xfb\0\0\0\x63')
    with pytest.raises(LibvirtOperationError, match='qemu-img could not'):
        run(conn, out_dir / 'web.box')
    assert os.listdir(str(out_dir)) == []


@pytest.mark.parametrize('uri, local', [
    ('qemu:///system', True), ('qemu:///session', True), ('test:///default', True),
    ('qemu+unix:///system?socket=/run/libvirt/libvirt-sock', True), ('qemu+ssh://root@localhost/system', True),
    ('qemu+ssh://admin@hv1.example.com/system?keyfile=/root/.ssh/id_rsa', False), ('qemu+tcp://10.0.0.5/system', False),
])
def test_local_uris(uri, local):
    assert packages.is_local_uri(uri) is local


def test_a_remote_libvirt_is_refused(conn, out_dir, monkeypatch):
    monkeypatch.setattr(conn, 'getURI', lambda: 'qemu+ssh://admin@hv1.example.com/system')
    with pytest.raises(LibvirtOperationError, match='runs on another host.*delegate_to'):
        run(conn, out_dir / 'web.box')


def test_the_archive_is_accepted_by_libvirt_box_store(conn, out_dir, tmp_path):
    """The box installs into Vagrant's store the way libvirt_box installs one."""
    from ansible_collections.vagrantless.libvirt.plugins.module_utils import vagrant_box
    box = out_dir / 'web.box'
    run(conn, box, vagrantfile='# nothing\n')
    directory = vagrant_box.install(str(box), str(tmp_path / 'home'), 'vlt-pkg/packaged', '0')
    meta, disks = vagrant_box.read_metadata(directory)
    assert meta == {'provider': 'libvirt', 'format': 'qcow2', 'virtual_size': 2}
    assert [(name, os.path.basename(path), fmt) for name, path, fmt in disks] == [('box', 'box.img', 'qcow2')]


def test_a_saved_domain_is_refused(conn, out_dir):
    domain = conn.lookupByName(DOMAIN)
    domain.create()
    domain.managedSave(0)
    with pytest.raises(LibvirtOperationError, match='vlt-pkg-unit is saved: .*managed save'):
        run(conn, out_dir / 'web.box')
    domain.managedSaveRemove(0)
    assert run(conn, out_dir / 'web.box')['changed'] is True


KEY = ('-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n'
       'QyNTUxOQAAACBhbm90aGVyIGtleSwgbm90IGEgcmVhbCBvbmUgYXQgYWxs\n-----END OPENSSH PRIVATE KEY-----')


def test_the_machines_key_is_shipped_as_vagrant_package_ships_it(conn, out_dir, tmp_path):
    """vagrant_private_key, mode 0600, named by the box's Vagrantfile; libvirt_box finds it in
    the store (box.private_key) for up's first login."""
    from ansible_collections.vagrantless.libvirt.plugins.module_utils import vagrant_box
    box = out_dir / 'web.box'
    run(conn, box, private_key=KEY)
    with tarfile.open(str(box)) as archive:
        member = archive.getmember('vagrant_private_key')
        assert member.mode == 0o600 and archive.extractfile(member).read().decode() == KEY + '\n'
        vagrantfile = archive.extractfile('Vagrantfile').read().decode()
    assert 'config.ssh.private_key_path = File.expand_path("../vagrant_private_key", __FILE__)' in vagrantfile
    directory = vagrant_box.install(str(box), str(tmp_path / 'home'), 'vlt-pkg/packaged', '0')
    assert vagrant_box.packaged_key(directory) == os.path.join(directory, 'vagrant_private_key')
    unkeyed = out_dir / 'plain.box'
    run(conn, unkeyed)
    assert vagrant_box.packaged_key(vagrant_box.install(str(unkeyed), str(tmp_path / 'home'), 'vlt-pkg/plain', '0')) is None


@pytest.mark.parametrize('key', ['not a key', KEY.replace('PRIVATE', 'PUBLIC'), KEY + '\n; rm -rf /', '\0'])
def test_a_private_key_that_is_not_one_is_refused_without_showing_it(conn, key):
    with pytest.raises(ValidationError) as caught:
        run(conn, output='/tmp/web.box', check_mode=True, private_key=key)
    assert str(caught.value).startswith("private_key='(not shown)' is not valid") and key not in str(caught.value)


def test_a_packaged_key_that_is_a_link_or_too_big_is_not_used(tmp_path):
    from ansible_collections.vagrantless.libvirt.plugins.module_utils import vagrant_box
    (tmp_path / 'elsewhere').write_text(KEY)
    os.symlink(str(tmp_path / 'elsewhere'), str(tmp_path / 'vagrant_private_key'))
    assert vagrant_box.packaged_key(str(tmp_path)) is None
    os.unlink(str(tmp_path / 'vagrant_private_key'))
    (tmp_path / 'vagrant_private_key').write_text('x' * (vagrant_box.PRIVATE_KEY_LIMIT + 1))
    assert vagrant_box.packaged_key(str(tmp_path)) is None
