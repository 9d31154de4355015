# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vagrantless against vagrant-libvirt, side by side in the lab, on the same work.

A benchmark, not a test: it asserts nothing about times. It prints a table, a markdown
table for the README, and writes tests/benchmarks/results/latest.json (git-ignored).
Run it with `make bench` (what it does and why it is fair: tests/benchmarks/README.md).

Started outside the lab's namespace it installs the lab's packages if missing (Debian's vagrant
and vagrant-libvirt among them), then runs itself again inside the namespace, where libvirtd and the guests are.
Everything it makes is named vlt-bench*: a storage pool `vlt-bench`, a management network
`vlt-bench-mgmt` (192.168.125.0/24), domains `vlt-bench-*`, a temp dir. All of it is removed
at the end, on failure and on SIGINT/SIGTERM; nothing else in libvirtd is touched."""

import argparse
import datetime
import filecmp
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

from lxml import etree
from lxml.builder import E

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RESULTS = os.path.join(HERE, 'results')
CACHE = os.path.join(RESULTS, '.cache')
LAB = os.path.join(ROOT, 'tests', 'lab', 'lab')
sys.path.insert(0, os.path.join(ROOT, 'tests'))
from remote_bed import REMOTE, bed_env, hypervisor_host  # noqa: E402 pylint: disable=import-error,wrong-import-position
LAB_CACHE = os.path.join(ROOT, 'tests', 'lab', '.cache')
TINY_BOX = os.path.join(LAB_CACHE, 'tiny.box')
TINY_IMG = os.path.join(LAB_CACHE, 'box.img')
TINY_KEY = os.path.join(LAB_CACHE, 'tiny_key')
DEBIAN_BOX = os.path.join(LAB_CACHE, 'debian12.box')  # `lab box debian`: a real box, Vagrant's defaults
VENV_BIN = os.path.join(ROOT, '.venv', 'bin')
PLAYBOOKS = os.path.join(ROOT, 'playbooks')
ROOTLESS_BED = os.path.join(ROOT, 'tests', 'lab', 'rootless')

NS = os.environ.get('LAB_NS', 'vlab')
URI = 'qemu:///system'
PREFIX = 'vlt-bench'
POOL = 'vlt-bench'
POOL_DIR = '/var/lib/libvirt/vlt-bench'
NET = 'vlt-bench-mgmt'
NET_ADDRESS = '192.168.125.0/24'


def xml_text(element):
    """An lxml element as XML text (what libvirt and virsh take)."""
    return etree.tostring(element, encoding='unicode')


NET_XML = xml_text(E.network(
    E.name(NET), E.forward(mode='nat'),
    E.ip(E.dhcp(E.range(start='192.168.125.1', end='192.168.125.254')), address='192.168.125.1', netmask='255.255.255.0'),
    ipv6='yes'))
TINY = 'vagrantless/tiny'
BIG = 'vagrantless/big'
DEBIAN = 'vagrantless/debian12'
BOX_MARK = '_vagrant_box_image_'
SSH_OPTS = ['-i', TINY_KEY, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
            '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=2', '-o', 'LogLevel=ERROR']
PROVISION = 'echo hi > /tmp/provisioned'
TOOLS = ('vagrant', 'ours')
TOOL_TITLE = {'vagrant': 'vagrant-libvirt', 'ours': 'vagrantless'}

# (key, title, tools): in the order of the report.
CASES = [
    ('up_cold', 'up, box not in the pool', TOOLS),
    ('up_warm', 'up, box in the pool', TOOLS),
    ('up_running', 'up on a running machine', TOOLS),
    ('halt', 'halt', TOOLS),
    ('check_halted', 'up --check on a halted machine', ('ours',)),
    ('up_halted', 'up on a halted machine', TOOLS),
    ('destroy_stopped', 'destroy (stopped)', TOOLS),
    ('destroy_running', 'destroy (running)', TOOLS),
    ('up3', '3 machines: up', TOOLS),
    ('check3', '3 machines: up --check (running)', ('ours',)),
    ('halt3', '3 machines: halt', TOOLS),
    ('destroy3', '3 machines: destroy (stopped)', TOOLS),
    ('big_overlay', '20 GiB / %s box: up until the overlay exists', TOOLS),
    ('big_upload', '20 GiB / %s box: the upload step alone', TOOLS),
    ('big_up', '20 GiB / %s box: whole up', TOOLS),
    ('up_remote', 'remote hypervisor over SSH: up, box in its pool', TOOLS),
    ('destroy_remote', 'remote hypervisor over SSH: destroy (running)', TOOLS),
    ('up_debian', 'Debian 12 box (user vagrant, key inserted): up, box in the pool', TOOLS),
    ('up_running_debian', 'Debian 12 box: up on a running machine', TOOLS),
    ('halt_debian', 'Debian 12 box: halt (graceful, through systemd)', TOOLS),
    ('destroy_debian', 'Debian 12 box: destroy (stopped)', TOOLS),
    ('up_rootless', 'rootless (an ordinary user, qemu:///session, user-mode network): up, box in its pool', ('ours',)),
    ('destroy_rootless', 'rootless: destroy (running)', ('ours',)),
]
FLOOR_CASES = [
    ('floor_reserved', 'floor: define + start to first SSH, DHCP reservation'),
    ('floor_new', 'floor: define + start to first SSH, new MAC, no reservation'),
    ('floor3', 'floor: 3 machines started together, until all answer SSH'),
]
FLOOR_RATIOS = [
    ('up_warm', 'floor_reserved', 'up (box in the pool) / floor with reservation'),
    ('up_cold', 'floor_reserved', 'up (box not in the pool) / floor with reservation'),
    ('up_warm', 'floor_new', 'up (box in the pool) / floor without reservation'),
    ('up3', 'floor3', '3 machines: up / floor of 3 started together'),
]


# First guesses of a phase's seconds (quiet lab), for the budget until a round has measured them.
GUESS = dict(single=90, floor=30, three=110, floor3=50, big=45, remote=80, debian=300, rootless=60)
# Seconds a command may run past the budget before it is ended.
BUDGET_GRACE = 30


class Interrupted(Exception):
    pass


def log(msg):
    print('bench: %s' % msg, file=sys.stderr, flush=True)


def now():
    return time.monotonic()


# ---------------------------------------------------------------- outside the namespace

def in_namespace():
    out = subprocess.run(['ip', 'netns', 'identify', str(os.getpid())], capture_output=True, text=True, check=False)
    return out.stdout.strip() == NS


# ---------------------------------------------------------------- processes

class Runner:
    """Runs commands in their own process group, so an interrupt can end exactly them."""

    def __init__(self, logdir):
        self.logdir = logdir
        self.current = None
        self.count = 0

    def run(self, argv, env=None, cwd=None, timeout=600, label='cmd', on_start=None):
        self.count += 1
        path = os.path.join(self.logdir, '%03d-%s.log' % (self.count, re.sub(r'[^A-Za-z0-9_.-]+', '_', label)))
        with open(path, 'w') as out:
            out.write('$ %s\n' % ' '.join(argv))
            out.flush()
            start_wall = time.time()
            start = now()
            proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            self.current = proc
            # Each line of output with its time since the start: where the time of a run goes.
            reader = threading.Thread(target=self._copy, args=(proc.stdout, out, start), daemon=True)
            reader.start()
            if on_start:
                on_start(start)
            try:
                rc = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                rc = 'timeout'
            except BaseException:
                self.kill()
                raise
            finally:
                self.current = None
            elapsed = now() - start
            reader.join(timeout=10)
        with open(path) as handle:
            text = handle.read()
        return dict(rc=rc, seconds=elapsed, log=path, text=text, start_wall=start_wall)

    @staticmethod
    def _copy(stream, out, start):
        for raw in iter(stream.readline, b''):
            line = raw.decode('utf-8', 'replace').rstrip('\n').split('\r')[-1]
            out.write('[%8.3f] %s\n' % (now() - start, line))
        stream.close()

    def kill(self):
        proc = self.current
        if proc is None or proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue


def quiet(argv, check=True, **kwargs):
    out = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    if check and out.returncode:
        raise RuntimeError('%s failed (%s): %s' % (' '.join(argv), out.returncode, out.stderr.strip() or out.stdout.strip()))
    return out


def virsh(*args, check=True):
    return quiet(['virsh', '-q', '-c', URI] + list(args), check=check)


# ---------------------------------------------------------------- libvirt objects of the benchmark only

class Libvirt:
    def __init__(self):
        import libvirt
        self.libvirt = libvirt
        libvirt.registerErrorHandler(lambda *a: None, None)
        self._conn = None

    @property
    def conn(self):
        """The connection, opened again if libvirtd went away (others share it: it may be restarted)."""
        if self._conn is not None:
            try:
                if self._conn.isAlive():
                    return self._conn
            except self.libvirt.libvirtError:
                pass
            log('libvirt connection lost: opening it again')
        deadline = time.time() + 60
        while True:
            try:
                self._conn = self.libvirt.open(URI)
                return self._conn
            except self.libvirt.libvirtError:
                if time.time() > deadline:
                    raise
                time.sleep(1)

    def bench_domains(self):
        return [d for d in self.conn.listAllDomains() if d.name().startswith(PREFIX)]

    def remove_domains(self):
        for dom in self.bench_domains():
            try:
                if dom.isActive():
                    dom.destroy()
            except self.libvirt.libvirtError:
                pass
            try:
                dom.undefineFlags(self.libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                                  | self.libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                                  | self.libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
            except self.libvirt.libvirtError:
                pass

    def pool(self):
        try:
            return self.conn.storagePoolLookupByName(POOL)
        except self.libvirt.libvirtError:
            return None

    def ensure_pool(self):
        pool = self.pool()
        os.makedirs(POOL_DIR, exist_ok=True)
        if pool is None:
            pool = self.conn.storagePoolDefineXML(xml_text(E.pool(E.name(POOL), E.target(E.path(POOL_DIR)), type='dir')), 0)
        if not pool.isActive():
            pool.create(0)
        pool.refresh(0)
        return pool

    def remove_volumes(self, keep=lambda name: False):
        """Every volume of the benchmark's pool but those `keep` names (the pool is started if it stopped)."""
        pool = self.pool()
        if pool is None:
            return
        try:
            if not pool.isActive():
                pool.create(0)
            pool.refresh(0)
            for vol in pool.listAllVolumes():
                if not keep(vol.name()):
                    try:
                        vol.delete(0)
                    except self.libvirt.libvirtError as exc:
                        log('volume %s: %s' % (vol.name(), exc))
            pool.refresh(0)
        except self.libvirt.libvirtError as exc:
            log('pool %s: %s' % (POOL, exc))
        # Files libvirt does not list (a half-done upload, say) go too: the directory is ours.
        for name in os.listdir(POOL_DIR) if os.path.isdir(POOL_DIR) else []:
            if not keep(name) and os.path.isfile(os.path.join(POOL_DIR, name)):
                os.unlink(os.path.join(POOL_DIR, name))

    def remove_pool(self):
        pool = self.pool()
        if pool is not None:
            self.remove_volumes()
            try:
                if pool.isActive():
                    pool.destroy()
                pool.undefine()
            except self.libvirt.libvirtError:
                pass
        shutil.rmtree(POOL_DIR, ignore_errors=True)

    def network(self):
        try:
            return self.conn.networkLookupByName(NET)
        except self.libvirt.libvirtError:
            return None

    def ensure_network(self):
        net = self.network()
        if net is None:
            net = self.conn.networkDefineXML(NET_XML)
        if not net.isActive():
            net.create()
        return net

    def remove_network(self):
        net = self.network()
        if net is None:
            return
        for dom in self.conn.listAllDomains():
            if NET in dom.XMLDesc(0) and not dom.name().startswith(PREFIX):
                log('network %s is used by %s: left alone' % (NET, dom.name()))
                return
        try:
            if net.isActive():
                net.destroy()
            net.undefine()
        except self.libvirt.libvirtError:
            pass

    def leases(self, mac):
        net = self.network()
        if net is None:
            return []
        try:
            return net.DHCPLeases(mac)
        except self.libvirt.libvirtError:
            return []


def rootless_env():
    """The rootless bed's ROOTLESS_* variables (tests/lab/rootless env)."""
    text = subprocess.run([ROOTLESS_BED, 'env'], stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    return dict(line.split('=', 1) for line in text.splitlines() if line.startswith('ROOTLESS_') and '=' in line)


# ---------------------------------------------------------------- the benchmark

class Bench:
    def __init__(self, args):
        self.args = args
        self.lv = Libvirt()
        self.work = tempfile.mkdtemp(prefix='vlt-bench.', dir='/var/tmp')
        os.chmod(self.work, 0o755)
        self.home = os.path.join(self.work, 'vagrant.d')
        self.state_dir = os.path.join(self.work, 'vagrantless')
        self.logdir = os.path.join(RESULTS, 'logs')
        shutil.rmtree(self.logdir, ignore_errors=True)
        os.makedirs(self.logdir)
        self.runner = Runner(self.logdir)
        self.samples = {}
        self.notes = []
        self.profiles = {}
        self.floor_dir = os.path.join(self.work, 'floor')
        self.ours_ready = all(os.path.exists(os.path.join(PLAYBOOKS, p)) for p in ('up.yml', 'halt.yml', 'destroy.yml'))
        self.big_box = None
        self.big_size = None
        self.started = time.time()
        self.durations = {}
        self.skipped = []
        self.bed = bed_env() if 'remote' in args.phases else None
        self.rootless = rootless_env() if 'rootless' in args.phases else None

    # ------------------------------------------------------------ setup

    def setup(self):
        self.cleanup_libvirt()
        self.lv.ensure_pool()
        os.makedirs(self.home)
        os.makedirs(self.floor_dir)
        self.big_box = self.build_big_box()
        self.big_size = os.path.getsize(os.path.join(CACHE, 'big.img'))
        boxes = [(TINY, TINY_BOX), (BIG, self.big_box)] + ([(DEBIAN, DEBIAN_BOX)] if 'debian' in self.args.phases else [])
        for name, box in boxes:
            res = self.runner.run(['vagrant', 'box', 'add', '--name', name, box], env=self.vagrant_env(), cwd=self.work,
                                  label='box-add-%s' % name.split('/')[1])
            if res['rc'] != 0:
                raise RuntimeError('vagrant box add %s failed: see %s' % (name, res['log']))
        for tool in TOOLS:
            for kind, machines, box in (('1', ['m1'], TINY), ('3', ['m1', 'm2', 'm3'], TINY), ('big', ['m1'], BIG)):
                self.make_project(tool, kind, machines, box)
            if self.bed:
                self.make_project(tool, 'remote', ['m1'], TINY)
            if 'debian' in self.args.phases:
                self.make_project(tool, 'debian', ['m1'], DEBIAN)
        if self.rootless:
            self.make_rootless_project()
        if self.bed:
            self.fresh_hypervisor_store()

    def fresh_hypervisor_store(self):
        """On the remote bed's hv1 (this machine's root, Vagrant's default store) the tiny box
        must be the lab's of today: an entry added from an older build (another key) would be used
        as Vagrant uses a box it has, and no guest would take the key. Such an entry is removed;
        the first remote up adds the box again (and uploads it into the pool: logged)."""
        entry = os.path.join(os.path.expanduser('~root'), '.vagrant.d', 'boxes', TINY.replace('/', '-VAGRANTSLASH-'))
        images = [os.path.join(root, 'box.img') for root, unused, files in os.walk(entry) if 'box.img' in files]
        if images and not all(filecmp.cmp(image, TINY_IMG, shallow=False) for image in images):
            shutil.rmtree(entry)
            log('hv1: the tiny box in its store was an older build: removed, the first remote up adds it again')

    def build_big_box(self):
        """A bootable box of 20 GiB virtual size and ~315 MB of qcow2: the tiny box's disk with
        random data written at 2 GiB, where the guest never reads. Cached by the tiny image."""
        os.makedirs(CACHE, exist_ok=True)
        stamp = '%d-%d-%d' % (os.path.getsize(TINY_IMG), int(os.path.getmtime(TINY_IMG)), self.args.big_mib)
        box = os.path.join(CACHE, 'big.box')
        stamp_file = os.path.join(CACHE, 'big.stamp')
        if os.path.exists(box) and os.path.exists(stamp_file) and open(stamp_file).read() == stamp:
            return box
        log('building the 20 GiB box (%d MiB of random data)' % self.args.big_mib)
        raw = os.path.join(CACHE, 'big.raw')
        img = os.path.join(CACHE, 'big.img')
        quiet(['qemu-img', 'convert', '-O', 'raw', TINY_IMG, raw])
        quiet(['truncate', '-s', '20G', raw])
        with open(raw, 'r+b') as handle:
            handle.seek(2 << 30)
            for unused in range(self.args.big_mib):
                handle.write(os.urandom(1 << 20))
        quiet(['qemu-img', 'convert', '-O', 'qcow2', raw, img])
        os.unlink(raw)
        with tarfile.open(TINY_BOX) as tiny:
            vagrantfile = tiny.extractfile('Vagrantfile').read()
        meta = os.path.join(CACHE, 'metadata.json')
        with open(meta, 'w') as handle:
            json.dump(dict(provider='libvirt', format='qcow2', virtual_size=20), handle)
        vfile = os.path.join(CACHE, 'Vagrantfile')
        with open(vfile, 'wb') as handle:
            handle.write(vagrantfile)
        with tarfile.open(box + '.tmp', 'w') as tar:
            tar.add(meta, 'metadata.json')
            tar.add(vfile, 'Vagrantfile')
            tar.add(img, 'box.img')
        os.rename(box + '.tmp', box)
        with open(stamp_file, 'w') as handle:
            handle.write(stamp)
        return box

    def project_dir(self, tool, kind):
        return os.path.join(self.work, tool, '%s-%s%s' % (PREFIX, tool, '' if kind == '1' else kind))

    def lab_name(self, tool, kind):
        return os.path.basename(self.project_dir(tool, kind))

    def make_project(self, tool, kind, machines, box):
        """The synced folder holds the same files for both tools: the Vagrantfile and a payload."""
        project = self.project_dir(tool, kind)
        memory = 512 if box == DEBIAN else 256
        os.makedirs(os.path.join(project, 'payload'))
        for i in range(5):
            with open(os.path.join(project, 'payload', 'file%d.txt' % i), 'w') as handle:
                handle.write('vagrantless benchmark payload %d\n' % i * 200)
        vagrantfile = '\n'.join([
            'Vagrant.configure("2") do |config|',
            '  config.vm.box = "%s"' % box,
            '  config.vm.box_check_update = false',
        ] + ([] if box == DEBIAN else [  # a real box logs in with Vagrant's defaults
            '  config.ssh.username = "root"',
            '  config.ssh.private_key_path = "%s"' % TINY_KEY,
            '  config.ssh.insert_key = false',
        ]) + [
            '  config.vm.synced_folder ".", "/vagrant", type: "rsync"',
            '  config.vm.provision "shell", inline: "%s"' % PROVISION,
            '  config.vm.provider :libvirt do |libvirt|',
        ] + (self.vagrant_remote() if kind == 'remote' else ['    libvirt.uri = "%s"' % URI]) + [
            '    libvirt.driver = "qemu"',
            '    libvirt.memory = %d' % memory,
            '    libvirt.cpus = 1',
            '    libvirt.storage_pool_name = "%s"' % POOL,
            '    libvirt.storage_pool_path = "%s"' % POOL_DIR,
            '    libvirt.management_network_name = "%s"' % NET,
            '    libvirt.management_network_address = "%s"' % NET_ADDRESS,
            '  end',
        ] + ['  config.vm.define "%s"' % m for m in machines] + ['end', ''])
        with open(os.path.join(project, 'Vagrantfile'), 'w') as handle:
            handle.write(vagrantfile)
        if tool == 'ours':
            inventory = {'machines': {
                'vars': {
                    'vagrantless_lab': self.lab_name(tool, kind),
                    'vagrantless_project_dir': project,
                    'vagrantless_state_dir': self.state_dir,
                    'libvirt_uri': URI,
                    'libvirt_driver': 'qemu',
                    'libvirt_memory': memory,
                    'libvirt_cpus': 1,
                    'libvirt_storage_pool_name': POOL,
                    'libvirt_storage_pool_path': POOL_DIR,
                    'libvirt_management_network_name': NET,
                    'libvirt_management_network_address': NET_ADDRESS,
                    'vm_box': box,
                    'vm_box_url': {TINY: TINY_BOX, BIG: self.big_box, DEBIAN: DEBIAN_BOX}[box],
                    'vm_synced_folders': [{'src': project, 'dest': '/vagrant', 'type': 'rsync'}],
                    'vm_provision': [{'type': 'shell', 'inline': PROVISION}],
                },
                'hosts': {m: {} for m in machines},
            }}
            if box != DEBIAN:
                inventory['machines']['vars'].update(ssh_username='root', ssh_private_key_path=TINY_KEY, ssh_insert_key=False)
            if kind == 'remote':
                inventory['machines']['vars'].pop('libvirt_uri')
                inventory['machines']['vars']['libvirt_host'] = 'hv1'
                inventory['hypervisors'] = {'hosts': {'hv1': hypervisor_host(self.bed, self.bed['HV1_ADDR'])}}
            # JSON is YAML: no PyYAML needed to write it.
            with open(os.path.join(self.work, 'ours', 'inventory-%s.yml' % kind), 'w') as handle:
                json.dump(inventory, handle, indent=1)

    def make_rootless_project(self):
        """The single machine of kind 1 as the rootless bed's user has it: in its session, on QEMU's
        user-mode network (the bed's copy of the tiny box and key; the same payload, provisioner).
        Only vagrantless: vagrant-libvirt's session mode needs root for its management network."""
        bed = self.rootless
        project = os.path.join(bed['ROOTLESS_HOME'], 'bench')
        shutil.rmtree(project, ignore_errors=True)
        os.makedirs(os.path.join(project, 'payload'))
        for i in range(5):
            with open(os.path.join(project, 'payload', 'file%d.txt' % i), 'w') as handle:
                handle.write('vagrantless benchmark payload %d\n' % i * 200)
        inventory = {'machines': {'vars': {
            'vagrantless_lab': '%s-rootless' % PREFIX, 'vagrantless_project_dir': project,
            'vagrantless_state_dir': os.path.join(project, '.vagrantless'), 'libvirt_qemu_use_session': True,
            'libvirt_driver': 'qemu', 'libvirt_memory': 256, 'libvirt_cpus': 1, 'vm_box': bed['ROOTLESS_BOX_NAME'],
            'vm_box_url': bed['ROOTLESS_BOX'], 'vm_box_check_update': False,
            'vm_synced_folders': [{'src': project, 'dest': '/vagrant', 'type': 'rsync'}],
            'vm_provision': [{'type': 'shell', 'inline': PROVISION}],
            'ssh_username': 'root', 'ssh_private_key_path': bed['ROOTLESS_KEY'], 'ssh_insert_key': False},
            'hosts': {'m1': {}}}}
        with open(os.path.join(project, 'inventory.yml'), 'w') as handle:
            json.dump(inventory, handle, indent=1)
        subprocess.run(['chown', '-R', '%s:' % bed['ROOTLESS_USER'], project], check=True)

    def vagrant_remote(self):
        """vagrant-libvirt on hv1 as its README says: `host` + `connect_via_ssh` (a `qemu+ssh://`
        URI and a ProxyCommand to the guests); the proxy command is its own default plus the bed's
        known hosts, which ours takes from the hypervisor's ansible_ssh_common_args."""
        bed = self.bed
        return ['    libvirt.host = "%s"' % bed['HV1_ADDR'], '    libvirt.connect_via_ssh = true',
                '    libvirt.username = "%s"' % bed['HV_USER'], '    libvirt.id_ssh_key_file = "%s"' % bed['HV_KEY'],
                '    libvirt.proxy_command = "ssh \'{host}\' -l \'{username}\' -i \'{id_ssh_key_file}\' '
                '-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -W %%h:%%p"' % bed['HV_KNOWN_HOSTS']]

    # ------------------------------------------------------------ environments and commands

    def vagrant_env(self):
        env = dict(os.environ)
        env.update(VAGRANT_HOME=self.home, VAGRANT_CHECKPOINT_DISABLE='1', VAGRANT_DEFAULT_PROVIDER='libvirt',
                   VAGRANT_NO_COLOR='1')
        return env

    def ours_env(self, profile=None):
        env = dict(os.environ)
        env.update(VAGRANT_HOME=self.home, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'),
                   ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0',
                   PATH=VENV_BIN + os.pathsep + env.get('PATH', ''))
        if profile:
            env.update(ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, 'callback_plugins'),
                       ANSIBLE_CALLBACKS_ENABLED='bench_profile', BENCH_PROFILE=profile)
        return env

    def command(self, tool, kind, verb, check=False, profile=None):
        """The verb's command line, environment and directory; a remote lab's run from the
        controller's namespace, which reaches the lab's libvirtd only over SSH to hv1."""
        if kind == 'rootless':  # as the bed's user, in its namespace and clean environment (no profile)
            return ([ROOTLESS_BED, 'exec', 'ansible-playbook', '-i',
                     os.path.join(self.rootless['ROOTLESS_HOME'], 'bench', 'inventory.yml'),
                     os.path.join(self.rootless['ROOTLESS_COLLECTION'], 'playbooks', '%s.yml' % verb)],
                    dict(os.environ), ROOT)
        controller = ['ip', 'netns', 'exec', self.bed['REMOTE_NS']] if kind == 'remote' else []
        if tool == 'vagrant':
            argv = {'up': ['vagrant', 'up', '--provider=libvirt'], 'halt': ['vagrant', 'halt'],
                    'destroy': ['vagrant', 'destroy', '-f']}[verb]
            return controller + argv, self.vagrant_env(), self.project_dir(tool, kind)
        argv = [os.path.join(VENV_BIN, 'ansible-playbook'), '-i', os.path.join(self.work, 'ours', 'inventory-%s.yml' % kind),
                os.path.join(PLAYBOOKS, '%s.yml' % verb)]
        if check:
            argv.append('--check')
        return controller + argv, self.ours_env(profile), ROOT

    def timed(self, case, tool, kind, verb, rnd, check=False, watch=None, profile_tag=None):
        profile = None
        if tool == 'ours' and profile_tag:
            profile = os.path.join(self.logdir, 'profile-%s-r%d.json' % (profile_tag, rnd))
        argv, env, cwd = self.command(tool, kind, verb, check=check, profile=profile)
        # No command outlives the budget by more than a little: make bench ends in time even when a run hangs.
        left = self.args.budget + BUDGET_GRACE - (time.time() - self.started)
        if left < 5:
            raise PhaseFailed('%s %s: no budget left, not run, nor the rest of the phase' % (tool, case))
        watcher = Watcher(watch) if watch else None
        res = self.runner.run(argv, env=env, cwd=cwd, timeout=min(self.args.timeout, left), label='r%d-%s-%s' % (rnd, tool, case),
                              on_start=watcher.start if watcher else None)
        if res['rc'] == 'timeout' and left < self.args.timeout:
            res['rc'] = 'killed at the end of the budget'
        if watcher:
            watcher.stop()
        sample = dict(round=rnd, seconds=round(res['seconds'], 3), ok=res['rc'] == 0, rc=res['rc'], log=os.path.relpath(res['log'], HERE))
        if watcher:
            sample.update(watcher.result())
        if tool == 'vagrant':
            marks = [re.search(r'^\[\s*([0-9.]+)\] .*%s' % m, res['text'], re.M)
                     for m in ('Uploading base box image', r'Creating image \(snapshot')]
            if all(marks):
                sample['upload_step_s'] = round(float(marks[1].group(1)) - float(marks[0].group(1)), 3)
        if tool == 'ours':
            recap = re.findall(r'changed=(\d+)', res['text'])
            sample['changed'] = sum(int(c) for c in recap) if recap else None
            if profile and os.path.exists(profile):
                with open(profile) as handle:
                    prof = json.load(handle)
                prof['process_start_epoch'] = res['start_wall']
                prof['process_seconds'] = res['seconds']
                boxes = [t for t in prof['tasks'] if t['action'].endswith('libvirt_box') and t['wall_s'] is not None]
                if boxes and any(h['status'] == 'ok' for t in boxes for h in t['hosts'].values()):
                    sample['upload_step_s'] = round(sum(t['wall_s'] for t in boxes), 3)
                self.profiles.setdefault(profile_tag, []).append(dict(round=rnd, profile=prof))
        self.samples.setdefault(case, {}).setdefault(tool, []).append(sample)
        log('round %d %-8s %-16s %7.2f s%s' % (rnd, tool, case, res['seconds'], '' if sample['ok'] else '  FAILED rc=%s, see %s' % (res['rc'], res['log'])))
        if not sample['ok']:
            raise PhaseFailed('%s %s failed (%s)' % (tool, case, sample['rc']))
        return sample

    # ------------------------------------------------------------ state between phases

    def reset(self, keep_box=None):
        """No benchmark domain, no overlay, no management network; box volumes of `keep_box` kept."""
        keep = (lambda name: name.startswith(keep_box.replace('/', '-VAGRANTSLASH-') + BOX_MARK)) if keep_box else (lambda name: False)
        for attempt in (1, 2):
            try:
                self.lv.remove_domains()
                self.lv.ensure_pool()
                self.lv.remove_volumes(keep)
                self.lv.remove_network()
                break
            except self.lv.libvirt.libvirtError as exc:
                if attempt == 2:
                    raise
                log('reset: %s; once more' % exc)
        for tool in TOOLS:
            for kind in ('1', '3', 'big', 'remote', 'debian'):
                shutil.rmtree(os.path.join(self.project_dir(tool, kind), '.vagrant'), ignore_errors=True)
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def cleanup_libvirt(self):
        for step in (self.lv.remove_domains, self.lv.remove_pool, self.lv.remove_network):
            for attempt in (1, 2):
                try:
                    step()
                    break
                except Exception as exc:  # pylint: disable=broad-except
                    log('clean-up: %s: %s%s' % (step.__name__, exc, '; once more' if attempt == 1 else ''))

    # ------------------------------------------------------------ phases

    def note_box_missing(self, rnd, tool, before):
        """A phase that times `up` with the box in the pool says so when the box is not there."""
        if not any(BOX_MARK in v for v in os.listdir(POOL_DIR)):
            self.notes.append('round %d %s: the tiny box was not in the pool before %s' % (rnd, tool, before))

    def phase_single(self, tool, rnd):
        self.reset(keep_box=None)
        domain = '%s_m1' % self.lab_name(tool, '1')
        self.timed('up_cold', tool, '1', 'up', rnd, watch=domain, profile_tag='up_cold')
        self.timed('up_running', tool, '1', 'up', rnd, profile_tag='up_running')
        self.timed('halt', tool, '1', 'halt', rnd, profile_tag='halt')
        if tool == 'ours':
            self.timed('check_halted', tool, '1', 'up', rnd, check=True, profile_tag='check_halted')
        self.timed('up_halted', tool, '1', 'up', rnd, profile_tag='up_halted')
        self.timed('halt_again', tool, '1', 'halt', rnd)  # for destroy (stopped): logged, not reported
        self.timed('destroy_stopped', tool, '1', 'destroy', rnd, profile_tag='destroy_stopped')
        self.timed('up_warm', tool, '1', 'up', rnd, watch=domain, profile_tag='up_warm')
        self.timed('destroy_running', tool, '1', 'destroy', rnd, profile_tag='destroy_running')

    def phase_three(self, tool, rnd):
        self.reset(keep_box=TINY)
        self.note_box_missing(rnd, tool, 'the 3-machine up')
        self.timed('up3', tool, '3', 'up', rnd, profile_tag='up3')
        if tool == 'ours':
            self.timed('check3', tool, '3', 'up', rnd, check=True, profile_tag='check3')
        self.timed('halt3', tool, '3', 'halt', rnd, profile_tag='halt3')
        self.timed('destroy3', tool, '3', 'destroy', rnd, profile_tag='destroy3')

    def phase_big(self, tool, rnd):
        self.reset(keep_box=TINY)
        domain = '%s_m1' % self.lab_name(tool, 'big')
        sample = self.timed('big_up', tool, 'big', 'up', rnd, watch=domain, profile_tag='big_up')
        self.samples.setdefault('big_overlay', {}).setdefault(tool, []).append(
            dict(round=rnd, seconds=sample.get('overlay_s'), ok=sample.get('overlay_s') is not None))
        upload = dict(round=rnd, seconds=sample.get('upload_step_s'), ok=sample.get('upload_step_s') is not None)
        # A cross-check that needs no tool's own output: time to the overlay, minus the same for the tiny box.
        cold = [s for s in self.samples.get('up_cold', {}).get(tool, []) if s.get('overlay_s') is not None]
        if sample.get('overlay_s') is not None and cold:
            upload['overlay_minus_tiny_overlay_s'] = round(sample['overlay_s'] - statistics.median(s['overlay_s'] for s in cold), 3)
        self.samples.setdefault('big_upload', {}).setdefault(tool, []).append(upload)
        self.timed('big_destroy', tool, 'big', 'destroy', rnd)
        self.reset(keep_box=TINY)

    def phase_remote(self, tool, rnd):
        """One machine on hv1, from the controller's namespace, with the box already in the pool
        (uploaded once per hypervisor, as the single-machine phase left it)."""
        self.reset(keep_box=TINY)
        self.note_box_missing(rnd, tool, 'the remote up')
        domain = '%s_m1' % self.lab_name(tool, 'remote')
        self.timed('up_remote', tool, 'remote', 'up', rnd, watch=domain, profile_tag='up_remote')
        self.timed('destroy_remote', tool, 'remote', 'destroy', rnd, profile_tag='destroy_remote')

    def phase_debian(self, tool, rnd):
        """One machine of the Debian 12 box with Vagrant's defaults (user vagrant, the insecure key
        replaced), the box in the pool as a user's second lab finds it: when it is not there, a first
        up and destroy put it there (logged, not reported)."""
        self.reset(keep_box=DEBIAN)
        if not any(v.startswith(DEBIAN.replace('/', '-VAGRANTSLASH-') + BOX_MARK) for v in os.listdir(POOL_DIR)):
            self.timed('debian_box_upload', tool, 'debian', 'up', rnd)
            self.timed('debian_box_upload_destroy', tool, 'debian', 'destroy', rnd)
            self.reset(keep_box=DEBIAN)
        self.timed('up_debian', tool, 'debian', 'up', rnd, profile_tag='up_debian')
        self.timed('up_running_debian', tool, 'debian', 'up', rnd, profile_tag='up_running_debian')
        self.timed('halt_debian', tool, 'debian', 'halt', rnd, profile_tag='halt_debian')
        self.timed('destroy_debian', tool, 'debian', 'destroy', rnd, profile_tag='destroy_debian')
        self.reset(keep_box=DEBIAN)  # the other tool finds the box in the pool (both name its volume alike)

    def phase_rootless(self, tool, rnd):
        """The bed's user brings the single machine up in its session and destroys it, the box in its
        pool (a first up and destroy put it there, logged, not reported). Compared with the same
        machine bridged: ours' up_warm."""
        if tool != 'ours':
            return
        self.timed('rootless_clean', tool, 'rootless', 'destroy', rnd)  # whatever an interrupted run left
        if not getattr(self, 'rootless_box_in_pool', False):
            self.timed('rootless_box_upload', tool, 'rootless', 'up', rnd)
            self.timed('rootless_box_upload_destroy', tool, 'rootless', 'destroy', rnd)
            self.rootless_box_in_pool = True
        self.timed('up_rootless', tool, 'rootless', 'up', rnd)
        self.timed('destroy_rootless', tool, 'rootless', 'destroy', rnd)

    def phase_floor(self, rnd, cases=('floor_reserved', 'floor_new')):
        self.reset(keep_box=TINY)
        self.lv.ensure_network()
        floor = Floor(self)
        fns = dict(floor_reserved=lambda: floor.one(True), floor_new=lambda: floor.one(False), floor3=floor.three)
        for case in cases:
            fn = fns[case]
            try:
                sample = fn()
            finally:
                floor.cleanup()
            sample['round'] = rnd
            self.samples.setdefault(case, {}).setdefault('floor', []).append(sample)
            log('round %d %-8s %-16s %s' % (rnd, 'floor', case, '%7.2f s' % sample['seconds'] if sample['ok'] else 'FAILED'))
        self.reset(keep_box=TINY)

    def run_phase(self, name, fn, *args):
        """One phase, if the time it took last round (or a first guess) still fits the budget."""
        key = (name,) + tuple(a for a in args if isinstance(a, str))
        guess = self.durations.get(key, GUESS[name])
        left = self.args.budget - (time.time() - self.started)
        if guess > left:
            self.skipped.append('%s round %d (~%d s)' % (' '.join(key), args[-1], guess))
            log('skipped %s: ~%d s, %d s of the budget left' % (self.skipped[-1], guess, left))
            return
        start = time.time()
        try:
            fn(*args)
        except PhaseFailed as exc:
            self.notes.append('round %d: %s (the phase was cut short, state reset)' % (args[-1], exc))
            log('phase %s %s: %s; state reset, going on' % (name, args, exc))
            self.reset(keep_box=TINY)
            return
        self.durations[key] = time.time() - start

    def schedule(self):
        """(phase, round) in the order they run: every case once first, then more rounds of the
        single-machine cases and the floor, then of the 3-machine cases, then of the big box, so a
        run cut short by the budget still has them all."""
        plan = []
        for rnd in range(1, self.args.rounds + 1):
            plan += [('single', rnd), ('floor', rnd)]
            if rnd == 1:
                plan += [('three', 1), ('floor3', 1), ('big', 1), ('remote', 1), ('debian', 1)]
        plan += [(p, r) for r in range(2, self.args.heavy_rounds + 1) for p in ('three', 'floor3')]
        plan += [('big', r) for r in range(2, self.args.big_rounds + 1)]
        plan += [('remote', r) for r in range(2, self.args.remote_rounds + 1)]
        plan += [('rootless', r) for r in range(1, self.args.rootless_rounds + 1)]
        wanted = dict(single='single', floor='floor', three='three', floor3='floor', big='big', remote='remote',
                      debian='debian', rootless='rootless')
        return [(p, r) for p, r in plan if wanted[p] in self.args.phases and (p != 'floor3' or 'three' in self.args.phases)]

    def run(self):
        self.setup()
        tools = list(TOOLS) if self.ours_ready else ['vagrant']
        if not self.ours_ready:
            self.notes.append('playbooks/up.yml, halt.yml or destroy.yml missing: vagrantless not measured')
        first = tools if self.args.first == 'vagrant' else list(reversed(tools))
        phases = dict(single=self.phase_single, three=self.phase_three, big=self.phase_big, remote=self.phase_remote,
                      debian=self.phase_debian, rootless=self.phase_rootless)
        for phase, rnd in self.schedule():
            order = first if rnd % 2 else list(reversed(first))
            log('%s, round %d, %s' % (phase, rnd, ' then '.join(order) if phase in phases else 'plain virsh'))
            if phase in phases:
                for tool in order:
                    self.run_phase(phase, phases[phase], tool, rnd)
            elif phase == 'floor':
                self.run_phase('floor', self.phase_floor, rnd)
            else:
                self.run_phase('floor3', lambda r: self.phase_floor(r, ('floor3',)), rnd)
        if self.skipped:
            self.notes.append('not run, the %d s budget would not have held them: %s'
                              % (self.args.budget, '; '.join(self.skipped)))

    def close(self):
        self.runner.kill()
        try:
            self.cleanup_libvirt()
        finally:
            shutil.rmtree(self.work, ignore_errors=True)

    # ------------------------------------------------------------ report

    def other_domains(self):
        try:
            return [d.name() for d in self.lv.conn.listAllDomains() if not d.name().startswith(PREFIX)]
        except self.lv.libvirt.libvirtError as exc:
            return ['(unknown: %s)' % exc]

    def versions(self):
        def pkg(name):
            return quiet(['dpkg-query', '-W', '-f=${Version}', name], check=False).stdout.strip()
        ansible = quiet([os.path.join(VENV_BIN, 'ansible-playbook'), '--version'], check=False).stdout.split('\n')[0]
        commit = quiet(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD'], check=False).stdout.strip()
        dirty = quiet(['git', '-C', ROOT, 'status', '--porcelain', '--', 'plugins', 'roles', 'playbooks'], check=False).stdout.strip()
        return dict(vagrant=pkg('vagrant'), vagrant_libvirt=pkg('vagrant-libvirt'), ansible_core=ansible,
                    libvirt=pkg('libvirt-daemon'), qemu=pkg('qemu-system-x86'), python=platform.python_version(),
                    commit=commit + ('+uncommitted' if dirty else ''))

    def report(self):
        summary = {}
        for case, title, tools in CASES:
            row = {}
            for tool in tools:
                ok = [s['seconds'] for s in self.samples.get(case, {}).get(tool, []) if s.get('ok') and s.get('seconds') is not None]
                runs = self.samples.get(case, {}).get(tool, [])
                failed = sum(1 for s in runs if not s.get('ok') and not str(s.get('rc')).startswith('killed'))
                cut = sum(1 for s in runs if str(s.get('rc')).startswith('killed'))
                row[tool] = dict(median_s=round(statistics.median(ok), 3) if ok else None, n=len(ok), failed=failed, cut=cut,
                                 min_s=min(ok) if ok else None, max_s=max(ok) if ok else None)
            if row.get('ours', {}).get('median_s') and row.get('vagrant', {}).get('median_s'):
                row['ratio_ours_to_theirs'] = round(row['ours']['median_s'] / row['vagrant']['median_s'], 3)
            summary[case] = row
        for case, title in FLOOR_CASES:
            ok = [s['seconds'] for s in self.samples.get(case, {}).get('floor', []) if s.get('ok')]
            summary[case] = dict(floor=dict(median_s=round(statistics.median(ok), 3) if ok else None, n=len(ok),
                                            min_s=min(ok) if ok else None, max_s=max(ok) if ok else None))
        ratios = {}
        for up, floor, title in FLOOR_RATIOS:
            f = summary.get(floor, {}).get('floor', {}).get('median_s')
            row = {}
            for tool in TOOLS:
                u = summary.get(up, {}).get(tool, {}).get('median_s')
                row[tool] = round(u / f, 2) if u and f else None
            ratios['%s/%s' % (up, floor)] = dict(title=title, **row)
        rootless, bridged = (summary.get(case, {}).get('ours', {}).get('median_s') for case in ('up_rootless', 'up_warm'))
        ratios['up_rootless/up_warm'] = dict(title='rootless up / the same machine bridged (vagrantless, box in the pool)',
                                             vagrant=None, ours=round(rootless / bridged, 2) if rootless and bridged else None)
        result = dict(
            meta=dict(date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                      seconds_total=round(time.time() - self.started, 1), rounds=self.args.rounds,
                      heavy_rounds=self.args.heavy_rounds, big_rounds=self.args.big_rounds,
                      remote_rounds=self.args.remote_rounds, nproc=os.cpu_count(), loadavg_end=os.getloadavg(),
                      big_box_file_bytes=self.big_size, big_box_virtual_gib=20, versions=self.versions(),
                      other_domains_at_end=self.other_domains(),
                      ours_measured=self.ours_ready, notes=self.notes),
            summary=summary, ratios_to_floor=ratios, samples=self.samples, profiles=self.profiles)
        os.makedirs(RESULTS, exist_ok=True)
        with open(os.path.join(RESULTS, 'latest.json'), 'w') as handle:
            json.dump(result, handle, indent=1)
        text = self.markdown(result)
        with open(os.path.join(RESULTS, 'latest.md'), 'w') as handle:
            handle.write(text)
        print(text)
        log('wrote %s and latest.md' % os.path.join(RESULTS, 'latest.json'))

    def markdown(self, result):
        summary = result['summary']
        meta = result['meta']
        mb = '%d MB' % round((self.big_size or 0) / 1e6)

        def fmt(v):
            return '—' if v is None else '%.2f s' % v

        def cell(entry):
            failed = ' (%d failed)' % entry['failed'] if entry and entry.get('failed') else ''
            if entry and entry.get('cut'):
                failed += ' (%d cut by the budget)' % entry['cut']
            if not entry or entry.get('median_s') is None:
                return ('failed' + failed) if failed else '—'
            if entry['n'] > 1:
                return '%s (%.1f–%.1f, n=%d)%s' % (fmt(entry['median_s']), entry['min_s'], entry['max_s'], entry['n'], failed)
            return fmt(entry['median_s']) + failed
        v = meta['versions']
        out = ['Median per case; in brackets min–max and the number of runs (up to %d rounds of the single-machine cases, %d of '
               'the 3-machine ones, %d of the 20 GiB box, %d on the remote hypervisor; the tool that goes first alternates). '
               'Lab: TCG, 2 cores, 1 vCPU guests of 256 MiB (the Debian box: 512 MiB). vagrant %s, vagrant-libvirt %s; vagrantless %s, %s. %s.'
               % (meta['rounds'], meta['heavy_rounds'], meta['big_rounds'], meta.get('remote_rounds', 0), v['vagrant'], v['vagrant_libvirt'], v['commit'],
                  v['ansible_core'], meta['date']), '',
               '| case | vagrant-libvirt | vagrantless | ours / theirs |', '| --- | ---: | ---: | ---: |']
        for case, title, tools in CASES:
            row = summary[case]
            if '%s' in title:
                title = title % mb
            ratio = row.get('ratio_ours_to_theirs')
            out.append('| %s | %s | %s | %s |' % (title, cell(row.get('vagrant')) if 'vagrant' in tools else 'n/a',
                                                  cell(row.get('ours')), '%.2f' % ratio if ratio else '—'))
        out += ['', '| floor: plain virsh, same box | time |', '| --- | ---: |']
        for case, title in FLOOR_CASES:
            out.append('| %s | %s |' % (title[len('floor: '):], cell(summary[case]['floor'])))
        out += ['', '| ratio to the floor | vagrant-libvirt | vagrantless |', '| --- | ---: | ---: |']
        for key, row in result['ratios_to_floor'].items():
            out.append('| %s | %s | %s |' % (row['title'], '%.2f' % row['vagrant'] if row['vagrant'] else '—',
                                             '%.2f' % row['ours'] if row['ours'] else '—'))
        out += self.profile_markdown(result)
        if meta['notes']:
            out += ['', 'Notes:'] + ['- %s' % n for n in meta['notes']]
        if meta['other_domains_at_end']:
            out += ['', 'Other domains were in the same libvirtd (noise): %s' % ', '.join(meta['other_domains_at_end'])]
        return '\n'.join(out) + '\n'

    def profile_markdown(self, result):
        runs = result['profiles'].get('up_cold')
        if not runs:
            return []
        times = {s['round']: s['seconds'] for s in self.samples['up_cold'].get('ours', []) if s.get('ok')}
        runs = [r for r in runs if r['round'] in times]
        if not runs:
            return []
        runs.sort(key=lambda r: times[r['round']])
        run = runs[len(runs) // 2]
        prof = run['profile']
        total = prof['process_seconds']
        tasks = prof['tasks']
        first = tasks[0]['start_s'] if tasks else prof['end_s']
        startup = (prof['t0_epoch'] - prof['process_start_epoch']) + first
        tail = total - (prof['t0_epoch'] - prof['process_start_epoch']) - prof['end_s']
        out = ['', 'vagrantless `up`, box not in the pool, round %d (%.2f s), per task (wall time from its start to the '
               'next task\'s, as profile_tasks counts it):' % (run['round'], total), '',
               '| task | role | wall | share |', '| --- | --- | ---: | ---: |',
               '| (ansible-playbook start-up, inventory, until the first task) | | %.2f s | %d%% |' % (startup, round(100 * startup / total))]
        for task in sorted(tasks, key=lambda t: -(t['wall_s'] or 0))[:self.args.profile_top]:
            wall = task['wall_s'] or 0
            out.append('| %s | %s | %.2f s | %d%% |' % (task['name'].replace('|', '\\|'), task['role'] or '', wall, round(100 * wall / total)))
        rest = sorted(tasks, key=lambda t: -(t['wall_s'] or 0))[self.args.profile_top:]
        if rest:
            r = sum(t['wall_s'] or 0 for t in rest)
            out.append('| (%d other tasks) | | %.2f s | %d%% |' % (len(rest), r, round(100 * r / total)))
        out.append('| (after the last task: recap, exit) | | %.2f s | %d%% |' % (tail, round(100 * tail / total)))
        return out


class PhaseFailed(Exception):
    pass


class Watcher:
    """Notes when a domain's overlay and the box volume first appear in the pool's directory."""

    def __init__(self, domain):
        self.domain = domain
        self.before = set(os.listdir(POOL_DIR))
        self.t0 = None
        self.seen = {}
        self.done = threading.Event()
        self.thread = None

    def start(self, t0):
        self.t0 = t0
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.done.is_set():
            for name in os.listdir(POOL_DIR):
                if name in self.before:
                    continue
                kind = 'box_volume_s' if BOX_MARK in name else 'overlay_s' if name.startswith(self.domain) else None
                if kind and kind not in self.seen:
                    self.seen[kind] = round(now() - self.t0, 3)
            if 'overlay_s' in self.seen:
                return
            time.sleep(0.02)

    def stop(self):
        self.done.set()
        if self.thread:
            self.thread.join()

    def result(self):
        return dict(self.seen)


class Floor:
    """Plain virsh: an overlay made beforehand, then define + start, timed to the first SSH command."""

    def __init__(self, bench):
        self.bench = bench
        self.made = []

    def prepare(self, name, reserved, index):
        mac = '52:54:00:%02x:%02x:%02x' % (random.randrange(256), random.randrange(256), random.randrange(256))
        ip = '192.168.125.%d' % (240 + index)
        overlay = os.path.join(self.bench.floor_dir, name + '.qcow2')
        quiet(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', TINY_IMG, overlay])
        if reserved:
            virsh('net-update', NET, 'add', 'ip-dhcp-host', xml_text(E.host(mac=mac, name=name, ip=ip)), '--live', '--config')
        xml = os.path.join(self.bench.floor_dir, name + '.xml')
        domain = E.domain(
            E.name(name), E.memory('256', unit='MiB'), E.vcpu('1'),
            E.os(E.type('hvm', arch='x86_64'), E.boot(dev='hd')), E.features(E.acpi()),
            E.devices(
                E.disk(E.driver(name='qemu', type='qcow2'), E.source(file=overlay), E.target(dev='vda', bus='virtio'),
                       type='file', device='disk'),
                E.interface(E.mac(address=mac), E.source(network=NET), E.model(type='virtio'), type='network'),
                E.serial(E.target(port='0'), type='pty'),
                E.graphics(type='vnc', listen='127.0.0.1', autoport='yes')),
            type='qemu')
        with open(xml, 'w') as handle:
            handle.write(xml_text(domain))
        entry = dict(name=name, mac=mac, ip=ip if reserved else None, xml=xml, overlay=overlay, reserved=reserved)
        self.made.append(entry)
        return entry

    def boot(self, entry, t0, out):
        """Wait for the address (known, or from libvirt's lease API), then for a first SSH command."""
        deadline = t0 + 180
        ip = entry['ip']
        while ip is None:
            leases = self.bench.lv.leases(entry['mac'])
            if leases:
                ip = leases[0]['ipaddr']
                out['lease_s'] = round(now() - t0, 3)
                break
            if now() > deadline:
                return
            time.sleep(0.2)
        out['ip'] = ip
        while now() < deadline:
            if subprocess.run(['ssh'] + SSH_OPTS + ['root@%s' % ip, 'true'], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode == 0:
                out['seconds'] = round(now() - t0, 3)
                return
            time.sleep(0.2)

    def one(self, reserved):
        entry = self.prepare('%s-floor-%s' % (PREFIX, 'r' if reserved else 'n'), reserved, 0)
        t0 = now()
        virsh('define', entry['xml'])
        virsh('start', entry['name'])
        started = round(now() - t0, 3)
        out = {}
        self.boot(entry, t0, out)
        return dict(seconds=out.get('seconds'), ok='seconds' in out, define_start_s=started, reserved=reserved,
                    lease_s=out.get('lease_s'), ip=out.get('ip'), mac=entry['mac'])

    def three(self):
        entries = [self.prepare('%s-floor3-m%d' % (PREFIX, i), True, i) for i in (1, 2, 3)]
        t0 = now()
        for entry in entries:
            virsh('define', entry['xml'])
            virsh('start', entry['name'])
        started = round(now() - t0, 3)
        outs = [{} for unused in entries]
        threads = [threading.Thread(target=self.boot, args=(e, t0, o), daemon=True) for e, o in zip(entries, outs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        each = [o.get('seconds') for o in outs]
        ok = all(s is not None for s in each)
        return dict(seconds=max(each) if ok else None, ok=ok, define_start_s=started, each_s=each,
                    ips=[o.get('ip') for o in outs])

    def cleanup(self):
        for entry in self.made:
            virsh('destroy', entry['name'], check=False)
            virsh('undefine', entry['name'], check=False)
            if entry['reserved']:
                virsh('net-update', NET, 'delete', 'ip-dhcp-host', xml_text(E.host(mac=entry['mac'])), '--live', '--config', check=False)
            for path in (entry['overlay'], entry['xml']):
                if os.path.exists(path):
                    os.unlink(path)
        self.made = []


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--rounds', type=int, default=3, help='rounds of the single-machine cases and the floor')
    parser.add_argument('--heavy-rounds', type=int, default=2, help='rounds of the 3-machine cases and their floor')
    parser.add_argument('--big-rounds', type=int, default=1, help='rounds of the 20 GiB box case')
    parser.add_argument('--first', choices=TOOLS, default='vagrant', help='the tool that goes first in round 1')
    parser.add_argument('--remote-rounds', type=int, default=2, help='rounds of the remote-hypervisor cases')
    parser.add_argument('--rootless-rounds', type=int, default=2, help='rounds of the rootless cases')
    parser.add_argument('--phases', default='single,floor,three,big,remote,debian,rootless',
                        help='comma-separated subset of single,floor,three,big,remote,debian,rootless')
    parser.add_argument('--big-mib', type=int, default=272, help='MiB of random data in the 20 GiB box')
    parser.add_argument('--budget', type=int, default=1320,
                        help='seconds for the whole run: a phase that would not fit in what is left is skipped (and noted)')
    parser.add_argument('--timeout', type=int, default=400, help='seconds one command may take')
    parser.add_argument('--profile-top', type=int, default=15, help='tasks listed in the profile')
    parser.add_argument('--inside', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.phases = set(args.phases.split(','))
    if os.geteuid() != 0:
        sys.exit('bench: run as root (the lab needs it)')
    if not in_namespace():
        subprocess.run([LAB, 'packages'], check=True)  # vagrant and vagrant-libvirt are the lab's packages
        if subprocess.run([LAB, 'status'], stdout=subprocess.DEVNULL, check=False).returncode != 0:
            sys.exit('bench: the lab is not up: make lab')
        if 'remote' in args.phases:  # its namespaces and links are made from the machine's own namespace
            subprocess.run([REMOTE, 'up'], stdout=subprocess.DEVNULL, check=True)
        if 'rootless' in args.phases:  # the rootless bed: its user, namespace, venv and a fresh copy of this tree
            subprocess.run([ROOTLESS_BED, 'up'], stdout=subprocess.DEVNULL, check=True)
        os.execvp('ip', ['ip', 'netns', 'exec', NS, sys.executable] + sys.argv + ['--inside'])

    def stop(signum, frame):
        raise Interrupted('signal %d' % signum)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    bench = Bench(args)
    try:
        bench.run()
        bench.report()
    except (KeyboardInterrupt, Interrupted) as exc:
        log('interrupted (%s): cleaning up' % (exc or 'SIGINT'))
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        bench.close()
        sys.exit(130)
    except BaseException:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        bench.close()
        raise
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    bench.close()


if __name__ == '__main__':
    main()
