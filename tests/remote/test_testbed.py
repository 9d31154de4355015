# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bed itself: the controller reaches the stand-in hypervisors over SSH (commands,
forwarding, libvirt's qemu+ssh, Ansible) and nothing else: no guest network, no local libvirt."""

import os
import random
import re
import socket
import struct
import subprocess
import sys
import time

import libvirt
import pytest
from lxml import etree

from conftest import BED, HOSTS, ssh, ssh_argv
from project_lab import unreachable_at_once

# Guest networks: vagrant-libvirt's management network, libvirt's default one, a private one.
GUEST_ADDRESSES = ['192.168.121.1', '192.168.122.1', '10.51.0.1']


def open_uri(address, query):
    return libvirt.open('qemu+ssh://%s@%s:%s/system?%s' % (BED['HV_USER'], address, BED['HV_PORT'], query))


def route_get(address):
    """The controller's route to ADDRESS (asks the kernel; sends nothing)."""
    return subprocess.run(['ip', '-4', 'route', 'get', address], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)


def lab_domains(address):
    """The lab's domains as virsh on the hypervisor lists them."""
    proc = ssh(address, 'virsh', '-q', '-c', BED['HV_URI'], 'list', '--all', '--name')
    assert proc.returncode == 0, proc.stderr
    return set(line for line in proc.stdout.splitlines() if line)


def assert_lists_the_lab(conn, address):
    """CONN sees the lab's libvirtd: its domains are those virsh lists on the hypervisor just
    before and after (other checkouts' tests may define or remove some meanwhile), and the
    lab's default network."""
    before = lab_domains(address)
    seen = set(dom.name() for dom in conn.listAllDomains(0))
    after = lab_domains(address)
    assert before & after <= seen <= before | after, (before, seen, after)
    assert 'default' in [net.name() for net in conn.listAllNetworks(0)]


def guest_network_addresses():
    """Every address the hypervisor's libvirt networks hold, read over qemu+ssh."""
    conn = open_uri(HOSTS['hv1'], 'keyfile=%s&no_tty=1' % BED['HV_KEY'])
    try:
        return sorted(set(ip for net in conn.listAllNetworks(0)
                          for ip in etree.fromstring(net.XMLDesc(0)).xpath('//ip/@address') if ':' not in ip))
    finally:
        conn.close()


def test_the_controller_has_no_route_but_the_veth():
    links = subprocess.run(['ip', '-o', 'link', 'show'], stdout=subprocess.PIPE, universal_newlines=True,
                           check=True).stdout
    assert sorted(re.findall(r'^\d+: ([^:@]+)', links, re.M)) == ['lo', 'vlt-ctl0']
    routes = subprocess.run(['ip', '-4', 'route', 'show', 'table', 'all'], stdout=subprocess.PIPE,
                            universal_newlines=True, check=True).stdout
    main = [line.strip() for line in routes.splitlines() if not line.startswith(('local ', 'broadcast '))]
    assert main == ['10.77.0.0/29 dev vlt-ctl0 proto kernel scope link src %s' % BED['REMOTE_CTL_ADDR']]
    for address in ('8.8.8.8', '192.168.122.1', '10.0.0.1'):  # nothing off the machine either
        assert 'Network is unreachable' in route_get(address).stdout


@pytest.mark.parametrize('address', GUEST_ADDRESSES)
def test_a_guest_network_is_unreachable_at_once(address):
    assert 'Network is unreachable' in route_get(address).stdout  # checked first: no packet leaves
    assert unreachable_at_once(address)


def test_no_address_of_the_hypervisors_networks_is_reachable():
    addresses = guest_network_addresses()
    assert addresses, 'the lab has no libvirt network with an address'
    for address in addresses:
        assert 'Network is unreachable' in route_get(address).stdout, address


def test_the_controller_has_no_local_libvirt():
    with pytest.raises(libvirt.libvirtError, match='libvirt-sock'):
        libvirt.open(BED['HV_URI'])


@pytest.mark.parametrize('host', sorted(HOSTS))
def test_ssh_runs_virsh_on_the_hypervisor(host):
    proc = ssh(HOSTS[host], 'virsh', '-c', BED['HV_URI'], 'version')
    assert proc.returncode == 0, proc.stderr
    assert 'Running hypervisor: QEMU' in proc.stdout


def test_a_wrong_key_is_refused_quickly(tmp_path):
    key = str(tmp_path / 'stranger')
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', key], check=True)
    started = time.monotonic()
    proc = ssh(HOSTS['hv1'], 'true', key=key)
    assert proc.returncode == 255
    assert 'Permission denied (publickey)' in proc.stderr
    assert time.monotonic() - started < 5


def test_a_wrong_host_key_is_refused(tmp_path):
    key = str(tmp_path / 'impostor')
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', key], check=True)
    known = tmp_path / 'known_hosts'
    with open(key + '.pub') as handle:
        known.write_text('%s %s\n' % (HOSTS['hv1'], ' '.join(handle.read().split()[:2])))
    proc = ssh(HOSTS['hv1'], 'true', known_hosts=str(known))
    assert proc.returncode == 255
    assert 'Host key verification failed' in proc.stderr


def dns_query(name):
    ident = random.randrange(1 << 16)
    labels = b''.join(bytes([len(part)]) + part.encode() for part in name.split('.') if part)
    message = struct.pack('>HHHHHH', ident, 0x0100, 1, 0, 0, 0) + labels + b'\0' + struct.pack('>HH', 1, 1)
    return ident, struct.pack('>H', len(message)) + message


def test_ssh_forwards_into_a_guest_network():
    """`ssh -W` through the hypervisor (what ProxyJump does) reaches an address behind it that is
    unreachable from here: the default network's dnsmasq, asked over TCP for localhost."""
    ident, query = dns_query('localhost')
    proc = subprocess.Popen(ssh_argv(HOSTS['hv1'], extra=['-W', '192.168.122.1:53']), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proc.stdin.write(query)
        proc.stdin.flush()
        length = struct.unpack('>H', proc.stdout.read(2) or b'\0\0')[0]
        answer = proc.stdout.read(length)
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert length > 12, proc.stderr.read()
    answer_ident, flags, _questions, answers = struct.unpack('>HHHH', answer[:8])
    assert answer_ident == ident and flags & 0x8000 and answers >= 1  # the answer to this query
    assert answer.endswith(socket.inet_aton('127.0.0.1'))


@pytest.mark.parametrize('proxy', ['', '&proxy=native'], ids=['auto', 'virt-ssh-helper'])
def test_qemu_ssh_lists_the_lab_domains(proxy):
    """libvirt's ssh transport, strict about the host key: it reads the controller's
    ~/.ssh/known_hosts (`tests/lab/remote exec` seeds it); BatchMode through no_tty."""
    conn = open_uri(HOSTS['hv1'], 'keyfile=%s&no_tty=1%s' % (BED['HV_KEY'], proxy))
    try:
        assert_lists_the_lab(conn, HOSTS['hv1'])
    finally:
        conn.close()


def test_qemu_libssh_checks_the_given_known_hosts():
    """libvirt's libssh transport takes known_hosts= (the ssh transport does not)."""
    conn = libvirt.open('qemu+libssh://%s@%s:%s/system?keyfile=%s&known_hosts=%s&known_hosts_verify=normal'
                        % (BED['HV_USER'], HOSTS['hv2'], BED['HV_PORT'], BED['HV_KEY'], BED['HV_KNOWN_HOSTS']))
    try:
        assert_lists_the_lab(conn, HOSTS['hv2'])
    finally:
        conn.close()


def test_qemu_ssh_ignores_known_hosts_in_the_uri():
    """A fact for the product: libvirt 9.0's ssh transport (the ssh binary) does not pass
    known_hosts= on; with an empty ~/.ssh the host key is unknown and the connection refused."""
    script = ('import libvirt, sys\n'
              'try:\n    libvirt.open(sys.argv[1])\nexcept libvirt.libvirtError as e:\n    print(e)\n')
    uri = 'qemu+ssh://%s@%s:%s/system?keyfile=%s&known_hosts=%s&no_tty=1' % (
        BED['HV_USER'], HOSTS['hv1'], BED['HV_PORT'], BED['HV_KEY'], BED['HV_KNOWN_HOSTS'])
    ssh_dir = os.path.expanduser('~root/.ssh')
    proc = subprocess.run(['unshare', '--mount', '--propagation', 'private', 'sh', '-c',
                           'mount -t tmpfs -o mode=700 empty "$1" && shift && exec "$@"', 'sh', ssh_dir,
                           sys.executable, '-c', script, uri],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=60,
                          check=False)
    assert 'Host key verification failed' in proc.stdout


@pytest.mark.parametrize('host', sorted(HOSTS))
def test_ansible_pings_the_hypervisor(ansible, host):
    result = ansible(host, 'ansible.builtin.ping')[host]
    assert result.get('ping') == 'pong', result


def test_ansible_runs_the_venv_python_on_the_hypervisor(ansible):
    result = ansible('hv1', 'ansible.builtin.setup', dict(gather_subset=['!all', '!min', 'python']))['hv1']
    assert result['ansible_facts']['ansible_python']['executable'] == BED['HV_PYTHON'], result


def test_a_collection_module_runs_on_the_hypervisor(ansible):
    """A read-only module of the collection: it reaches qemu:///system on the hypervisor (the
    controller has none)."""
    result = ansible('hv1', 'vagrantless.libvirt.libvirt_lease_facts',
                     dict(uri=BED['HV_URI'], macs=['52:54:00:7e:57:01'], networks=['default'],
                          sources=['reservation']))['hv1']
    assert not result.get('failed') and result.get('changed') is False, result
    assert result['ansible_facts']['libvirt_leases'] == [] and result['ip'] == '', result  # an unknown MAC


def test_ansible_with_a_wrong_key_is_unreachable_quickly(ansible, tmp_path):
    key = str(tmp_path / 'stranger')
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', key], check=True)
    started = time.monotonic()
    result = ansible('hv1', 'ansible.builtin.ping', extra=['-e', 'ansible_ssh_private_key_file=' + key],
                     control=tmp_path)['hv1']  # not through the session's authenticated master
    assert result.get('unreachable') and 'Permission denied' in result.get('msg', ''), result
    assert time.monotonic() - started < 15
