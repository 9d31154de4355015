# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bed itself: an unprivileged user, no way off the machine, no system libvirt; its session
libvirt boots the tiny box with QEMU's user-mode network and a host forward, and the guest answers
SSH on 127.0.0.1 (one VM boot). The domain type is the lab's (ROOTLESS_DRIVER: qemu, TCG; KVM
guests do not run on this machine, see LAB.md), though the user may open /dev/kvm."""

import grp
import os
import random
import socket
import stat
import time
import uuid

import libvirt
import pytest
from lxml import etree
from project_lab import unreachable_at_once

QEMU_NS = 'http://libvirt.org/schemas/domain/qemu/1.0'
SSH_WITHIN = 60  # seconds from `start` to the guest's SSH answer


def status_field(name):
    with open('/proc/self/status') as handle:
        return dict(line.rstrip('\n').split(':\t', 1) for line in handle)[name].strip()


def test_the_tests_run_as_the_unprivileged_user(bed):
    uid = int(bed['ROOTLESS_UID'])
    assert uid != 0
    assert os.getuid() == os.geteuid() == uid
    assert 0 not in (os.getgid(), os.getegid())
    assert os.environ['USER'] == bed['ROOTLESS_USER'] and os.environ['HOME'] == bed['ROOTLESS_HOME']
    groups = set(grp.getgrgid(gid).gr_name for gid in os.getgroups())
    assert not groups & {'libvirt', 'libvirt-qemu', 'sudo', 'root'}, groups
    # no capability now, none to be had from a setuid binary either
    assert int(status_field('CapEff'), 16) == 0
    assert int(status_field('CapBnd'), 16) == 0


def test_the_user_can_open_dev_kvm():
    if not os.path.exists('/dev/kvm'):
        pytest.skip('this machine has no /dev/kvm')
    assert 'kvm' in set(grp.getgrgid(gid).gr_name for gid in os.getgroups())
    os.close(os.open('/dev/kvm', os.O_RDWR))


def test_the_namespace_has_loopback_only(as_user):
    links = as_user(['ip', '-o', 'link', 'show'], check=True).stdout
    assert [line.split(': ')[1] for line in links.splitlines()] == ['lo']
    assert as_user(['ip', '-4', 'route', 'show'], check=True).stdout == ''
    assert not [line for line in as_user(['ip', '-6', 'route', 'show'], check=True).stdout.splitlines()
                if not line.startswith('::1 ')]
    for address in ('192.0.2.1', '8.8.8.8', '10.0.0.1', '192.168.122.1'):
        assert 'Network is unreachable' in as_user(['ip', 'route', 'get', address]).stderr, address


@pytest.mark.parametrize('address', ['192.0.2.1', '2001:db8::1'])
def test_nothing_leaves_the_machine(address):
    assert unreachable_at_once(address)


def test_qemu_system_is_unreachable():
    assert os.listdir('/run/libvirt') == []  # the empty tmpfs of `rootless exec`
    with pytest.raises(libvirt.libvirtError, match='libvirt-sock'):
        libvirt.open('qemu:///system')


def test_the_session_libvirt_answers(bed, as_user):
    proc = as_user(['virsh', '-c', bed['ROOTLESS_URI'], 'version'])
    assert proc.returncode == 0, proc.stderr
    assert 'Running hypervisor: QEMU' in proc.stdout
    # the default URI of an ordinary user is the session: nothing falls back to qemu:///system
    assert as_user(['virsh', 'uri'], check=True).stdout.strip() == 'qemu:///session'
    sock = os.path.join(os.environ['XDG_RUNTIME_DIR'], 'libvirt', 'libvirt-sock')
    assert stat.S_ISSOCK(os.stat(sock).st_mode) and os.stat(sock).st_uid == int(bed['ROOTLESS_UID'])


def test_the_user_reads_the_bed_and_writes_none_of_it(bed):
    key = os.stat(bed['ROOTLESS_KEY'])
    assert key.st_uid == int(bed['ROOTLESS_UID']) and stat.S_IMODE(key.st_mode) == 0o600
    assert os.getcwd() == bed['ROOTLESS_COLLECTION']
    for path in (bed['ROOTLESS_COLLECTION'], bed['ROOTLESS_VENV'], bed['ROOTLESS_BOX']):
        assert os.access(path, os.R_OK) and not os.access(path, os.W_OK), path
    assert os.path.isfile(os.path.join(bed['ROOTLESS_COLLECTION'], 'galaxy.yml'))
    assert os.path.isfile(bed['ROOTLESS_BOX_IMG'])


def test_ansible_finds_the_collection(bed, as_user):
    proc = as_user(['ansible-doc', '-t', 'module', '-l', 'vagrantless.libvirt'])
    assert proc.returncode == 0, proc.stderr
    assert 'vagrantless.libvirt.libvirt_domain' in proc.stdout
    assert os.environ['ANSIBLE_COLLECTIONS_PATH'] == bed['ROOTLESS_COLLECTIONS_PATH']


def free_port():
    """A port nothing listens on in this namespace (the kernel's pick, then released)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def domain_xml(name, driver, overlay, console, port, mac):
    """The tiny box with no libvirt interface: its only NIC is QEMU's user-mode network with a
    host forward of 127.0.0.1:PORT to the guest's port 22, in an explicit slot (libvirt's own
    devices take the low ones)."""
    def sub(parent, tag, text=None, **attrs):
        node = etree.SubElement(parent, tag, {key: str(value) for key, value in attrs.items()})
        node.text = text
        return node
    root = etree.Element('domain', type=driver, nsmap={'qemu': QEMU_NS})
    sub(root, 'name', name)
    sub(root, 'memory', '256', unit='MiB')
    sub(root, 'vcpu', '1')
    os_node = sub(root, 'os')
    sub(os_node, 'type', 'hvm', arch='x86_64')
    sub(os_node, 'boot', dev='hd')
    sub(sub(root, 'features'), 'acpi')
    devices = sub(root, 'devices')
    disk = sub(devices, 'disk', type='file', device='disk')
    sub(disk, 'driver', name='qemu', type='qcow2')
    sub(disk, 'source', file=overlay)
    sub(disk, 'target', dev='vda', bus='virtio')
    serial = sub(devices, 'serial', type='file')
    sub(serial, 'source', path=console)
    sub(serial, 'target', port=0)
    command = sub(root, '{%s}commandline' % QEMU_NS)
    for value in ('-netdev', 'user,id=mgmt,hostfwd=tcp:127.0.0.1:%d-:22' % port, '-device',
                  'virtio-net-pci,netdev=mgmt,mac=%s,addr=0x10' % mac):
        sub(command, '{%s}arg' % QEMU_NS, value=value)
    return etree.tostring(root, encoding='unicode')


@pytest.fixture
def guest(bed, as_user, tmp_path):
    """The tiny box, defined in the session on a copy-on-write overlay in a directory of the
    user's; destroyed and undefined, its overlay removed, whatever the test's outcome."""
    name = 'vlt-rootless-bed-%s' % uuid.uuid4().hex[:8]
    overlay = tmp_path / (name + '.qcow2')
    console = tmp_path / (name + '-console.log')
    port = free_port()
    mac = '52:54:00:' + ':'.join('%02x' % byte for byte in random.getrandbits(24).to_bytes(3, 'big'))
    conn = libvirt.open(bed['ROOTLESS_URI'])
    dom = None
    try:
        proc = as_user(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', bed['ROOTLESS_BOX_IMG'],
                        overlay])
        assert proc.returncode == 0, proc.stderr
        dom = conn.defineXML(domain_xml(name, bed['ROOTLESS_DRIVER'], overlay, console, port, mac))
        yield dict(dom=dom, name=name, port=port, mac=mac, console=console, overlay=overlay)
    finally:
        if dom is not None:
            if dom.isActive():
                dom.destroy()
            dom.undefine()
        overlay.unlink(missing_ok=True)
        if console.exists():
            console.unlink()
        left = [d.name() for d in conn.listAllDomains(0) if d.name() == name]
        conn.close()
    assert not left, 'the session still has %s' % left
    assert not overlay.exists()


def ssh(bed, port, command, as_user):
    return as_user(['ssh', '-F', '/dev/null', '-p', port, '-i', bed['ROOTLESS_KEY'], '-o', 'IdentitiesOnly=yes',
                    '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes',
                    '-o', 'ConnectTimeout=2', '-o', 'LogLevel=ERROR', 'root@127.0.0.1', command], timeout=10)


def test_a_user_mode_network_guest_answers_ssh(bed, as_user, guest):
    dom = guest['dom']
    assert '<interface' not in dom.XMLDesc(0)  # no libvirt network: QEMU's user-mode one only
    started = time.monotonic()
    dom.create()
    pidfile = os.path.join(os.environ['XDG_RUNTIME_DIR'], 'libvirt', 'qemu', 'run', guest['name'] + '.pid')
    with open(pidfile) as handle:  # libvirt 9.0 session: the guest's pid file, the user's qemu
        assert os.stat('/proc/%d' % int(handle.read())).st_uid == int(bed['ROOTLESS_UID'])
    command = 'uname -sr && python3 -c "print(6 * 7)" && cat /sys/class/net/eth0/address && ip -4 -o addr show eth0'
    proc = None
    while time.monotonic() - started < SSH_WITHIN:
        try:
            proc = ssh(bed, guest['port'], command, as_user)
        except Exception as err:  # pylint: disable=broad-except  # a banner never sent: try again
            proc = err
        if getattr(proc, 'returncode', None) == 0:
            break
        time.sleep(0.5)
    else:
        console = guest['console'].read_text(errors='replace')[-3000:] if guest['console'].exists() else ''
        pytest.fail('no SSH answer on 127.0.0.1:%s within %d s: %s\n--- console tail\n%s'
                    % (guest['port'], SSH_WITHIN, proc, console))
    answered = time.monotonic() - started
    lines = proc.stdout.splitlines()
    assert lines[1] == '42', proc.stdout
    assert lines[2] == guest['mac'], proc.stdout  # our guest, through our forward
    assert ' 10.0.2.15/' in lines[3], proc.stdout  # QEMU's user-mode network gave the address
    print('the guest answered SSH on 127.0.0.1:%s %.1f s after start: %s' % (guest['port'], answered, lines[0]))
