# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Vagrant verbs end to end on real VMs of the lab: a three-machine lab in a project
directory of its own, driven as a user drives it (ansible-playbook on playbooks/*.yml),
checked from outside (libvirt, SSH into the guests, the host's ports and processes).
Runs inside the lab's network namespace (`make e2e`)."""

import json
import os
import re
import shutil
import subprocess
import sys

import libvirt
import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, '.collections'))
sys.path.insert(0, os.path.join(ROOT, 'tests'))
from ansible_collections.vagrantless.libvirt.plugins.module_utils.machine_networks import derived_mac  # noqa: E402
from ansible_collections.vagrantless.libvirt.plugins.module_utils import lifecycle  # noqa: E402
from ansible_collections.vagrantless.libvirt.plugins.module_utils.domain import UNDEFINE_FLAGS  # noqa: E402
from project_lab import ProjectLab, project_dir  # noqa: E402
from ansible_collections.vagrantless.libvirt.tests.box_catalog import CatalogServer  # noqa: E402

URI = os.environ.get('LAB_URI', 'qemu:///system')
LAB = 'vlt-e2e'
MAX_INTERFACES = 8  # more than any machine of these tests has
RECAP = re.compile(r'^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)


class Run(object):
    """One ansible-playbook run: its output and the PLAY RECAP per host."""

    def __init__(self, args, proc):  # proc: a CompletedProcess
        self.args = args
        self.rc = proc.returncode
        self.out = proc.stdout
        self.recap = dict((m.group(1), dict(ok=int(m.group(2)), changed=int(m.group(3)),
                                            unreachable=int(m.group(4)), failed=int(m.group(5))))
                          for m in RECAP.finditer(self.out))

    @property
    def changed(self):
        return sum(host['changed'] for host in self.recap.values())

    def __repr__(self):
        failures = [line[:1500] for line in self.out.splitlines() if line.startswith(('fatal:', '[ERROR]', 'failed:'))]
        return 'ansible-playbook %s -> rc %s\n%s\n...\n%s' % (
            ' '.join(self.args), self.rc, '\n'.join(failures), self.out[-3000:])


def network_xml(net, flags):
    """A network's XML; libvirt's test driver (the checkers' own unit tests) has one definition only."""
    try:
        return net.XMLDesc(flags)
    except libvirt.libvirtError:
        return net.XMLDesc(0)


class Lab(ProjectLab):
    """A project directory with its inventory, and the verbs as playbook runs."""

    def __init__(self, path, name=LAB):
        super(Lab, self).__init__(path, name, URI)
        self.machines = set()
        self.host_ports = set()  # the forwarded ports of its machines, on this host

    def write(self, machines, **lab_vars):
        self.machines.update(machines)
        for settings in machines.values():
            self.host_ports.update(item['forwarded_port']['host'] for item in settings.get('vm_networks', [])
                                   if 'forwarded_port' in item)
        variables = dict(
            vagrantless_lab=self.name, vagrantless_state_dir=os.path.join(self.path, '.vagrantless'),
            libvirt_uri=URI, libvirt_driver='qemu', libvirt_memory=256, libvirt_cpus=1,
            vm_box=os.environ['LAB_BOX_NAME'], vm_box_url=os.environ['LAB_BOX'], ssh_username='root',
            ssh_private_key_path=os.environ['LAB_KEY'], ssh_insert_key=False, vm_boot_timeout=180,
            vm_graceful_halt_timeout=20)
        variables.update(lab_vars)
        with open(self.inventory, 'w') as handle:
            yaml.safe_dump(dict(machines=dict(vars=variables, hosts=machines)), handle)

    def recorded(self, verb, *args):
        """A verb run, and every task's result by task name (the reliability suite's recorder):
        (Run, {task name: [results]})."""
        record = os.path.join(self.path, '.record-%s.jsonl' % verb)
        if os.path.exists(record):
            os.unlink(record)
        run = self.play(verb, *args, extra_env=dict(
            ANSIBLE_CALLBACK_PLUGINS=os.path.join(ROOT, 'tests', 'reliability', 'callback_plugins'),
            ANSIBLE_CALLBACKS_ENABLED='reliability_recorder', VLT_REL_RECORD=record))
        if run.rc != 0:
            pytest.fail(repr(run), pytrace=False)
        results = {}
        with open(record) as handle:
            for line in handle:
                entry = json.loads(line)
                results.setdefault(entry['key'], []).append(entry['result'])
        return run, results

    def play(self, verb, *args, **kwargs):
        proc = self.start(verb, *args, **kwargs)
        out = proc.communicate(timeout=900)[0]
        return Run(proc.args[3:], subprocess.CompletedProcess(proc.args, proc.returncode, out))

    def start(self, verb, *args, **kwargs):
        """ansible-playbook in its own process group (so a test can kill it mid-run)."""
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'),
                   ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_FORCE_COLOR='0',
                   ANSIBLE_NOCOLOR='1', **kwargs.get('extra_env', {}))
        argv = [os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook'), '-i', self.inventory,
                os.path.join(ROOT, 'playbooks', verb + '.yml')] + list(args)
        return subprocess.Popen(argv, env=env, cwd=self.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                universal_newlines=True, start_new_session=True)

    def ok(self, verb, *args):
        run = self.play(verb, *args)
        if run.rc != 0:
            pytest.fail(repr(run), pytrace=False)
        return run

    def module(self, name, args):
        """One module run on localhost (ad hoc), its result."""
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'),
                   ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'))
        out = subprocess.run([os.path.join(ROOT, '.venv', 'bin', 'ansible'), 'localhost', '-o', '-m',
                              'vagrantless.libvirt.' + name, '-a', json.dumps(dict(args, uri=URI))],
                             env=env, stdout=subprocess.PIPE, universal_newlines=True, check=False).stdout
        return json.loads(out.split('=> ', 1)[1]) if '=> ' in out else dict(failed=True, msg=out)

    def remove_box(self, box):
        return self.module('libvirt_box', dict(name=box, state='absent', remove_from_store=True))

    def box_volumes(self, box):
        prefix = box.replace('/', '-VAGRANTSLASH-') + '_vagrant_box_image_'
        pool = self.conn.storagePoolLookupByName('default')
        pool.refresh(0)
        return [v.name() for v in pool.listAllVolumes(0) if v.name().startswith(prefix)]

    def macs(self):
        """Every MAC a machine of this lab may have had (`up` derives them from the domain's name
        and the interface's index): what its reservations are found by."""
        return set(derived_mac('%s_%s/%d' % (self.name, machine, index))
                   for machine in self.machines for index in range(MAX_INTERFACES))

    def leftovers(self):
        """Every libvirt object or process of this lab still there: domains, volumes (a half
        upload's `.part` too; complete box images stay, as `vagrant destroy` keeps boxes), the
        lab's networks, `vagrant-libvirt` when no other lab uses it, any network's reservation of
        one of the lab's MACs, tunnels."""
        found = ['domain ' + d.name() for d in self.conn.listAllDomains(0) if d.name().startswith(self.name)]
        for pool in self.conn.listAllStoragePools(0):
            if pool.isActive():
                pool.refresh(0)
                found += ['volume ' + v.name() for v in pool.listAllVolumes(0)
                          if v.name().startswith(self.name) and ('_vagrant_box_image_' not in v.name()
                                                                 or v.name().endswith('.part'))]
        others = [d.name() for d in self.conn.listAllDomains(0)  # other labs may keep vagrant-libvirt
                  if not d.name().startswith(self.name) and "network='vagrant-libvirt'" in d.XMLDesc(0)]
        macs = self.macs()
        for net in self.conn.listAllNetworks(0):
            if net.name().startswith(self.name) or (net.name() == 'vagrant-libvirt' and not others):
                found.append('network ' + net.name())
            for flags in (0, libvirt.VIR_NETWORK_XML_INACTIVE):  # live and persistent
                found += ['reservation %s on %s (%s)' % (mac, net.name(), 'live' if flags == 0 else 'persistent')
                          for mac in re.findall(r"<host mac='([^']+)'", network_xml(net, flags)) if mac.lower() in macs]
        tunnels = subprocess.run(['pgrep', '-af', 'ssh .*-L'], stdout=subprocess.PIPE, universal_newlines=True,
                                 check=False).stdout
        found += ['tunnel ' + line for line in tunnels.splitlines()
                  if self.path in line or any(':%d:' % port in line for port in self.host_ports)]
        return found


PREFIXES = ('vlt-e2e', 'vlt-flt', 'vlt-cc', 'vlt-deb', 'vlt-cmp')  # every lab name these tests use
# every (lab, machine) these tests make: their MACs find what a killed run left on shared networks
KNOWN = ([(LAB, m) for m in ('m1', 'm2', 'm3', 'm4')]
         + [('vlt-flt', 'f1'), ('vlt-cca', 'c1'), ('vlt-ccb', 'c1'), ('vlt-deb', 'd1'), ('vlt-deb', 'd2')])
KNOWN_MACS = set(derived_mac('%s_%s/%d' % (lab, machine, index)) for lab, machine in KNOWN
                 for index in range(MAX_INTERFACES))
HOSTS = re.compile(r"<host mac='([^']+)'[^>]*/>")


def found(lookup, name):
    """``lookup(name)``, or None when libvirt has no such object any more."""
    try:
        return lookup(name)
    except libvirt.libvirtError:
        return None


def remove_named(conn, prefixes, network_also=None, volume_also=None):
    """What labs of these tests made, found by name: the domains (their saved state, snapshots'
    metadata and NVRAM too), networks and volumes (box volumes aside) whose names start with one
    of ``prefixes``, and the networks and volumes ``network_also(net)`` and ``volume_also(name)``
    pick. A run being stopped may be removing them meanwhile: domains and networks are removed
    the way the modules remove what another run races them for."""
    for dom in conn.listAllDomains(0):
        if dom.name().startswith(prefixes):
            lifecycle.remove_racing(dom, lambda name=dom.name(): found(conn.lookupByName, name),
                                    undefine_flags=UNDEFINE_FLAGS)
    for net in conn.listAllNetworks(0):
        if net.name().startswith(prefixes) or network_also is not None and network_also(net):
            lifecycle.remove_racing(net, lambda name=net.name(): found(conn.networkLookupByName, name))
    for pool in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE):
        pool.refresh(0)
        for vol in pool.listAllVolumes(0):
            ours = vol.name().startswith(prefixes) and '_vagrant_box_image_' not in vol.name()
            if ours or volume_also is not None and volume_also(vol.name()):
                vol.delete(0)


@pytest.fixture(scope='session', autouse=True)
def nothing_left_from_an_earlier_run():
    """What an earlier run that was killed (of this or another checkout, with another key) left
    of these labs: a machine of that run would be taken for this run's and refuse this key; its
    reservations on networks that are not the labs' own (the management network) go too."""
    conn = libvirt.open(URI)
    remove_named(conn, PREFIXES)
    for net in conn.listAllNetworks(0):
        if not net.name().startswith(PREFIXES):
            for flags, xml_flags in ((libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG, libvirt.VIR_NETWORK_XML_INACTIVE),
                                     (libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE, 0)):
                if flags == libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE and not net.isActive():
                    continue
                for match in HOSTS.finditer(net.XMLDesc(xml_flags)):
                    if match.group(1).lower() in KNOWN_MACS:
                        net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE,
                                   libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, match.group(0), flags)
    conn.close()


@pytest.fixture(scope='session')
def lab():
    path = project_dir('vlt-e2e-', 'hello from the project\n')
    lab = Lab(path)
    yield lab
    lab.play('destroy')  # whatever a failed test left
    lab.remove_box(LAB + '/packaged')
    shutil.rmtree(path, ignore_errors=True)


DEBIAN_BOXES = ('vlt-deb/debian12', 'vlt-deb/packaged')  # by name from the catalog below; packaged from d1


@pytest.fixture(scope='module')
def debian():
    """A lab on the Debian 12 box (`lab box debian`), with Vagrant's defaults: user vagrant, the
    installed Vagrant's insecure key, a key of the machine's own inserted. The box is looked up by
    name (``lab.box``) in a Vagrant catalog served on 127.0.0.1 (``lab.catalog``), as versions
    12.0.0 and 13.0.0, slowly enough (about 6 s) that the download's progress is reported."""
    path = project_dir('vlt-deb-', 'hello from the project\n')
    lab = Lab(path, 'vlt-deb')
    lab.console_log = path + '.console.log'  # its serial console's: beside the project (rsync would carry it)
    lab.box = DEBIAN_BOXES[0]
    for box in DEBIAN_BOXES:
        lab.remove_box(box)  # what an interrupted earlier run may have left: the box is downloaded again
    image = os.environ['LAB_DEBIAN_BOX']
    with CatalogServer({lab.box: {'12.0.0': image, '13.0.0': image}}, rate=os.path.getsize(image) // 6 + 1) as server:
        lab.catalog = server
        yield lab
    lab.play('destroy')  # whatever a failed test left
    for box in DEBIAN_BOXES:
        lab.remove_box(box)
    shutil.rmtree(path, ignore_errors=True)
    if os.path.exists(lab.console_log):
        os.unlink(lab.console_log)


COUNTS = dict(fault=[0, 0], concurrency=[0, 0])  # marker -> [tried, passed]


def pytest_configure(config):
    config.addinivalue_line('markers', 'fault: a fault injected around the verbs (counted)')
    config.addinivalue_line('markers', 'concurrency: runs at the same time (counted)')


def pytest_runtest_logreport(report):
    if report.when != 'call' and not (report.when == 'setup' and report.outcome != 'passed'):
        return
    for marker in COUNTS:
        if marker in report.keywords:
            COUNTS[marker][0] += 1
            COUNTS[marker][1] += 1 if report.passed else 0


def pytest_terminal_summary(terminalreporter):
    tried, survived = COUNTS['fault']
    runs, converged = COUNTS['concurrency']
    terminalreporter.write_line('e2e: faults injected %d / survived %d' % (tried, survived))
    terminalreporter.write_line('e2e: concurrency runs %d / converged %d' % (runs, converged))
    results = os.path.join(ROOT, 'tests', 'output', 'results')
    if os.path.isdir(results):
        with open(os.path.join(results, 'e2e.json'), 'w') as handle:
            json.dump(dict(faults=dict(injected=tried, survived=survived),
                           concurrency=dict(runs=runs, converged=converged)), handle)
