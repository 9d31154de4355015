# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A two-machine lab with no root anywhere (issue 19): the bed's unprivileged user brings it up
on its own session libvirt (qemu:///session) with `libvirt_qemu_use_session: true`, reaches each
machine at its SSH port forwarded from 127.0.0.1, the machines reach each other over their
private network (a multicast link on the loopback), and every verb works: a second up changes
nothing, halt, up, suspend, resume, reload, snapshot, status, ssh_config, the leases inventory,
destroy with nothing left. What a session cannot do is refused before anything is touched."""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile

import libvirt
import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
URI = 'qemu:///session'
LAB = 'vlt-rl'
PRIVATE = {'web': '10.63.0.11', 'db': '10.63.0.12'}
RECAP = re.compile(r'^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)


def free_port():
    probe = socket.socket()
    probe.bind(('127.0.0.1', 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def banner(port):
    """The first line a TCP server at 127.0.0.1:port says ('' when nothing answers)."""
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=10) as conn:
            conn.settimeout(10)
            return conn.recv(64).decode('ascii', 'replace')
    except OSError:
        return ''


def plain(value):
    """A host variable of `ansible-inventory --list`, without its "unsafe" wrapping."""
    return value.get('__ansible_unsafe', value) if isinstance(value, dict) else value


class Project(object):
    """A project directory of the bed's user, its inventory and the verbs as playbook runs."""

    def __init__(self, bed):
        self.bed = bed
        self.path = tempfile.mkdtemp(prefix='vlt-rootless-')
        self.inventory = os.path.join(self.path, 'lab.yml')
        self.ssh_config = os.path.join(self.path, 'ssh_config')
        self.conn = libvirt.open(URI)

    def write(self, machines, **extra):
        variables = dict(
            vagrantless_lab=LAB, vagrantless_state_dir=os.path.join(self.path, '.vagrantless'),
            libvirt_qemu_use_session=True, libvirt_driver=self.bed['ROOTLESS_DRIVER'], libvirt_memory=256,
            libvirt_cpus=1, vm_box=self.bed['ROOTLESS_BOX_NAME'], vm_box_url=self.bed['ROOTLESS_BOX'],
            ssh_username='root', ssh_private_key_path=self.bed['ROOTLESS_KEY'], ssh_insert_key=False,
            vm_boot_timeout=180, vm_graceful_halt_timeout=20)
        variables.update(extra)
        with open(self.inventory, 'w') as handle:
            yaml.safe_dump(dict(machines=dict(vars=variables, hosts=machines)), handle)

    def play(self, verb, *args):
        proc = subprocess.run(['ansible-playbook', '-i', self.inventory, os.path.join(ROOT, 'playbooks', verb + '.yml')]
                              + list(args), cwd=self.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=900, check=False,
                              env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1'))
        proc.recap = dict((m.group(1), int(m.group(3))) for m in RECAP.finditer(proc.stdout))
        return proc

    def ok(self, verb, *args):
        run = self.play(verb, *args)
        assert run.returncode == 0, run.stdout[-6000:]
        return run

    def ssh(self, machine, command):
        self.ok('ssh_config', '-e', 'ssh_config_file=' + self.ssh_config, '--limit', machine)
        proc = subprocess.run(['ssh', '-F', self.ssh_config, '-o', 'ConnectTimeout=10', '-o', 'BatchMode=yes',
                               machine, command], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=60, check=False)
        assert proc.returncode == 0, (machine, command, proc.stdout, proc.stderr)
        return proc.stdout

    def domains(self):
        return sorted(dom.name() for dom in self.conn.listAllDomains(0) if dom.name().startswith(LAB + '_'))

    def domain(self, machine):
        return self.conn.lookupByName('%s_%s' % (LAB, machine))

    def volumes(self):
        found = []
        for pool in self.conn.listAllStoragePools(0):
            if pool.isActive():
                pool.refresh(0)
                found += [vol for vol in pool.listVolumes() if vol.startswith(LAB + '_')]
        return sorted(found)

    def remove(self):
        """Whatever a failed test left: the lab's domains and volumes, the project directory."""
        for dom in self.conn.listAllDomains(0):
            if dom.name().startswith(LAB + '_'):
                if dom.isActive():
                    dom.destroy()
                dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                                  | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
        for pool in self.conn.listAllStoragePools(0):
            if pool.isActive():
                for name in pool.listVolumes():
                    if name.startswith(LAB + '_'):
                        pool.storageVolLookupByName(name).delete(0)
        self.conn.close()
        shutil.rmtree(self.path, ignore_errors=True)


@pytest.fixture(scope='module')
def project(bed):
    made = Project(bed)
    yield made
    made.remove()


def machines(**web_extra):
    web = dict(vm_networks=[{'private_network': {'ip': PRIVATE['web']}}], vm_hostname='web')
    web.update(web_extra)
    return dict(web=web, db=dict(vm_networks=[{'private_network': {'ip': PRIVATE['db']}}], vm_hostname='db'))


def test_what_a_session_cannot_do_is_refused_before_anything_is_touched(project):
    pools = sorted(pool.name() for pool in project.conn.listAllStoragePools(0))
    taken = socket.socket()
    taken.bind(('127.0.0.1', 0))
    taken.listen(1)
    try:
        for extra, named in (
                (dict(vm_networks=[{'public_network': {'type': 'bridge', 'dev': 'virbr0'}}]), 'vm_networks[0]'),
                (dict(vm_networks=[{'forwarded_port': {'guest': 22, 'host': taken.getsockname()[1], 'id': 'ssh'}}]),
                 'interfaces[0].forwards[0].host')):
            project.write(machines(**extra))
            run = project.play('up', '--limit', 'web')
            assert run.returncode != 0 and named in run.stdout, run.stdout[-4000:]
            assert project.domains() == [] and project.volumes() == []
            assert sorted(pool.name() for pool in project.conn.listAllStoragePools(0)) == pools
    finally:
        taken.close()


def test_up_as_an_ordinary_user(project):
    forwarded = free_port()
    project.write(machines(vm_networks=[{'private_network': {'ip': PRIVATE['web']}},
                                        {'forwarded_port': {'guest': 22, 'host': forwarded}}]))
    project.ok('up')
    assert os.getuid() != 0
    for machine in ('web', 'db'):
        dom = project.domain(machine)
        assert dom.isActive()
        # no libvirt network and no interface of libvirt's: QEMU's user mode and the multicast link
        assert '<interface' not in dom.XMLDesc(0)
        assert project.ssh(machine, 'hostname').strip() == machine
    assert project.conn.listAllNetworks(0) == []
    # the box's volume and the machines' disks in the user's own pool directory
    pool = project.conn.storagePoolLookupByName('default')
    assert '<path>%s/.local/share/libvirt/images</path>' % os.path.expanduser('~') in pool.XMLDesc(0)
    # the machines meet on their private network, and nothing else of the host is in the way
    assert 'web' in project.ssh('db', 'ping -c 1 -W 5 %s >/dev/null && echo web' % PRIVATE['web'])
    # a forwarded port: a host forward of the management interface
    assert banner(forwarded).startswith('SSH-')


def test_a_second_up_changes_nothing(project):
    run = project.ok('up')
    assert run.recap and all(changed == 0 for changed in run.recap.values()), run.stdout[-4000:]


def test_status_ssh_config_and_the_leases_inventory_find_the_forwarded_port(project):
    forwards = {}
    for machine in ('web', 'db'):
        xml = project.domain(machine).XMLDesc(0)
        forwards[machine] = int(re.search(r'hostfwd=tcp:127\.0\.0\.1:(\d+)-:22', xml).group(1))
    status = project.ok('status').stdout
    for machine, port in forwards.items():
        assert '127.0.0.1:%d' % port in status
    project.ok('ssh_config', '-e', 'ssh_config_file=' + project.ssh_config)
    with open(project.ssh_config) as handle:
        written = handle.read()
    assert all('Port %d' % port in written for port in forwards.values()), written
    inventory = os.path.join(project.path, 'session.leases.yml')
    with open(inventory, 'w') as handle:
        yaml.safe_dump(dict(plugin='vagrantless.libvirt.leases', uris=[URI], hostname='machine'), handle)
    listed = subprocess.run(['ansible-inventory', '-i', inventory, '--list'], stdout=subprocess.PIPE,
                            universal_newlines=True, timeout=120, check=True,
                            env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'))).stdout
    hostvars = json.loads(listed)['_meta']['hostvars']
    for machine, port in forwards.items():
        found = dict((key, plain(value)) for key, value in hostvars[machine].items())
        assert found['ansible_host'] == '127.0.0.1' and found['ansible_port'] == port, found
    reached = subprocess.run(['ansible', 'all', '-i', inventory, '-m', 'ansible.builtin.raw', '-a', 'hostname',
                              '-e', 'ansible_ssh_common_args="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"'],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=120,
                             check=False, env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg')))
    assert reached.returncode == 0 and reached.stdout.count('CHANGED') == 2, reached.stdout


def test_halt_up_suspend_resume_reload_snapshot(project):
    port = project.domain('web').XMLDesc(0)
    project.ok('halt', '--limit', 'web')
    assert not project.domain('web').isActive()
    project.ok('up', '--limit', 'web')
    assert project.domain('web').XMLDesc(0).count('hostfwd') == port.count('hostfwd')
    assert re.findall(r'hostfwd=[^,"\']+', project.domain('web').XMLDesc(0)) == re.findall(r'hostfwd=[^,"\']+', port)
    project.ok('suspend', '--limit', 'web')
    assert project.domain('web').state()[0] == libvirt.VIR_DOMAIN_PAUSED
    project.ok('resume', '--limit', 'web')
    assert project.domain('web').state()[0] == libvirt.VIR_DOMAIN_RUNNING
    before = project.domain('db').ID()
    project.ok('reload', '--limit', 'db')
    assert project.domain('db').isActive() and project.domain('db').ID() != before
    assert project.ssh('db', 'hostname').strip() == 'db'
    project.ssh('db', 'echo before > /root/state')
    project.ok('snapshot', '--limit', 'db', '-e', 'snapshot_action=save', '-e', 'snapshot_name=s1')
    project.ssh('db', 'echo after > /root/state')
    project.ok('snapshot', '--limit', 'db', '-e', 'snapshot_action=restore', '-e', 'snapshot_name=s1')
    assert project.ssh('db', 'cat /root/state') == 'before\n'
    project.ok('snapshot', '--limit', 'db', '-e', 'snapshot_action=delete', '-e', 'snapshot_name=s1')


def test_destroy_leaves_nothing(project):
    project.ok('destroy')
    assert project.domains() == [] and project.volumes() == []
    assert project.conn.listAllNetworks(0) == []
