# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compatibility proven by difference: the same machines defined by vagrant-libvirt (the lab's
Vagrant, from a Vagrantfile) and by `up` (from an inventory), and their inactive domain and
network XML compared. Names, UUIDs, MACs, paths and device addresses are set aside; every other
difference must be one docs/migration.md lists as deliberate, and every one it lists must still
be there.

The machines need not boot: each tool runs until every domain is defined and started, then is
stopped, its definitions read, and what it made removed through libvirt (the verbs' destroy is
proven by the other tests). One tool after the other: the networks of both have the same addresses."""

import collections
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import libvirt
import netaddr
import yaml
from lxml import etree

from conftest import remove_named

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
URI = os.environ.get('LAB_URI', 'qemu:///system')
BOX = 'vlt-cmp/tiny'
MANAGEMENT = dict(name='vlt-cmp-mgmt', address='192.168.143.0/24')
ADDRESSES = r"<ip address='(192\.168\.143|10\.71\.0|10\.72\.0)\."  # the networks' (their names differ)
DOC = os.path.join(ROOT, 'docs', 'migration.md')
DOC_SECTION = '## Definitions beside vagrant-libvirt\'s'

# Each machine: the lines of its `config.vm.define` block, and the same machine as inventory variables.
MACHINES = {
    'defaults': ([], {}),
    'domain': ([
        'libvirt.memory = 300',
        'libvirt.cpus = 2',
        'libvirt.cputopology :sockets => "1", :cores => "2", :threads => "1"',
        'libvirt.machine_type = "q35"',
        'libvirt.boot "hd"',
        'libvirt.boot "network"',
        'libvirt.nic_model_type = "e1000"',
        'libvirt.video_type = "vga"',
        'libvirt.video_vram = 16384',
        'libvirt.graphics_type = "spice"',
        'libvirt.keymap = "de"',
        'libvirt.random :model => "random"',
        'libvirt.input :type => "tablet", :bus => "usb"',
        'libvirt.channel :type => "unix", :target_name => "org.qemu.guest_agent.0", :target_type => "virtio"',
        'libvirt.watchdog :model => "i6300esb", :action => "reset"',
        'libvirt.sound_type = "ich6"',
        'libvirt.features = ["acpi", "apic"]',
    ], {
        'libvirt_memory': 300, 'libvirt_cpus': 2, 'libvirt_cputopology': {'sockets': 1, 'cores': 2, 'threads': 1},
        'libvirt_machine_type': 'q35', 'libvirt_boot': ['hd', 'network'], 'libvirt_nic_model_type': 'e1000',
        'libvirt_video_type': 'vga', 'libvirt_video_vram': 16384, 'libvirt_graphics_type': 'spice',
        'libvirt_keymap': 'de', 'libvirt_rng': {'model': 'random'}, 'libvirt_inputs': [{'type': 'tablet', 'bus': 'usb'}],
        'libvirt_channels': [{'type': 'unix', 'target_name': 'org.qemu.guest_agent.0', 'target_type': 'virtio'}],
        'libvirt_watchdog': {'model': 'i6300esb', 'action': 'reset'}, 'libvirt_sound_type': 'ich6',
        'libvirt_features': ['acpi', 'apic'],
    }),
    'storage': ([
        'libvirt.storage :file, :size => "64M"',
        'libvirt.storage :file, :size => "32M", :type => "raw", :bus => "scsi", :device => "sda", :cache => "unsafe"',
        'libvirt.volume_cache = "none"',
    ], {
        'libvirt_storage': [{'size': '64M'},
                            {'size': '32M', 'type': 'raw', 'bus': 'scsi', 'device': 'sda', 'cache': 'unsafe'}],
        'libvirt_volume_cache': 'none',
    }),
    'networks': ([
        'm.vm.network :private_network, ip: "10.71.0.21"',
        'm.vm.network :private_network, ip: "10.72.0.21", libvirt__dhcp_enabled: false, libvirt__forward_mode: "none"',
    ], {
        'vm_networks': [{'private_network': {'ip': '10.71.0.21'}},
                        {'private_network': {'ip': '10.72.0.21', 'libvirt__dhcp_enabled': False,
                                             'libvirt__forward_mode': 'none'}}],
    }),
}


def _vagrantfile():
    lines = ['Vagrant.configure("2") do |config|',
             '  config.vm.box = "%s"' % BOX,
             '  config.vm.box_check_update = false',
             '  config.vm.synced_folder ".", "/vagrant", disabled: true',
             '  config.vm.provider :libvirt do |libvirt|',
             '    libvirt.uri = "%s"' % URI,
             '    libvirt.driver = "qemu"',
             '    libvirt.management_network_name = "%s"' % MANAGEMENT['name'],
             '    libvirt.management_network_address = "%s"' % MANAGEMENT['address'],
             '  end']
    for machine, (settings, unused) in MACHINES.items():
        lines.append('  config.vm.define "%s" do |m|' % machine)
        lines += ['    ' + line for line in settings if line.startswith('m.')]
        lines.append('    m.vm.provider :libvirt do |libvirt|')
        lines += ['      ' + line for line in settings if not line.startswith('m.')]
        lines += ['    end', '  end']
    return '\n'.join(lines + ['end', ''])


def _inventory(project):
    hosts = dict((machine, variables) for machine, (unused, variables) in MACHINES.items())
    variables = dict(
        vagrantless_lab=os.path.basename(project), vagrantless_state_dir=os.path.join(project, '.vagrantless'),
        libvirt_uri=URI, libvirt_driver='qemu', vm_box=BOX, vm_box_url=os.environ['LAB_BOX'],
        ssh_username='root', ssh_private_key_path=os.environ['LAB_KEY'], ssh_insert_key=False,
        vm_synced_folders=[{'src': '.', 'dest': '/vagrant', 'disabled': True}],
        libvirt_management_network_name=MANAGEMENT['name'],
        libvirt_management_network_address=MANAGEMENT['address'])
    return dict(machines=dict(vars=variables, hosts=hosts))


def _defined(conn, argv, cwd, env, names, log, started):
    """``argv`` (an `up`) run until every domain of ``names`` is running and the tool has moved on
    (``started``, a test of its output so far: its step that starts the domains is over, so
    nothing of it still runs); then the inactive XML of those domains and of the networks their
    interfaces use, and the tool stopped."""
    with open(log, 'w') as out:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            running = [d.name() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)]
            with open(log) as handle:
                if all(name in running for name in names) and started(handle.read()):
                    break
            time.sleep(0.5)
        domains, networks = {}, {}
        for name in names:
            domains[name] = conn.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
            for network in etree.fromstring(domains[name]).xpath('devices/interface/source/@network'):
                networks[network] = conn.networkLookupByName(network).XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)
        return domains, networks
    except libvirt.libvirtError as error:
        with open(log) as handle:
            raise AssertionError('%s (exit %s): %s\n%s' % (argv[0], proc.poll(), error, handle.read()[-6000:]))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _facts(xml, network_roles):
    """What a definition says, one line per element: its path (devices told apart by their kind
    and target), its attributes and text; names, UUIDs, MACs, paths and device addresses aside."""
    root = etree.fromstring(xml)
    for path in ('name', 'uuid', 'description', 'title', 'metadata', 'bridge', 'mac', 'devices/*/address',
                 'devices/*/alias', 'devices/*/mac', 'devices/*/source[@file]', 'devices/emulator', 'ip/dhcp/host'):
        for node in root.xpath(path):
            node.getparent().remove(node)
    for node in root.xpath('devices/interface/source[@network]'):
        node.set('network', network_roles[node.get('network')])
    facts = collections.Counter()

    def walk(node, path):
        if not isinstance(node.tag, str):
            return  # a comment
        key = node.tag
        if node.getparent() is not None and node.getparent().tag == 'devices':
            target = node.find('target')
            kind = (node.get('type'), node.get('device'), node.get('model'),
                    target.get('dev') if target is not None else None)
            key += '[%s]' % ','.join(value for value in kind if value)
        path = path + '/' + key
        attributes = ' '.join('%s=%s' % (name, 'PATH' if name in ('file', 'path') else value)
                              for name, value in sorted(node.attrib.items()))
        text = (node.text or '').strip()
        facts[' '.join(part for part in (path, attributes, '"%s"' % text if text else '') if part)] += 1
        for child in node:
            walk(child, path)
    walk(root, '')
    return facts


def _roles(networks):
    """Each network's name -> what it is, by its address: the management network or a private one."""
    host = str(netaddr.IPNetwork(MANAGEMENT['address'])[1])  # the management network's own address
    roles = {}
    for name, xml in networks.items():
        ip = etree.fromstring(xml).find('ip')
        address = ip.get('address') if ip is not None else None
        roles[name] = 'management' if address == host else 'private %s' % address
    return roles


def _all_facts(domains, networks, prefix):
    roles = _roles(networks)
    facts = {}
    for name, xml in domains.items():
        facts['domain ' + name[len(prefix):]] = _facts(xml, roles)
    for name, xml in networks.items():
        facts['network ' + roles[name]] = _facts(xml, roles)
    return facts


def _documented():
    """The differences docs/migration.md lists as deliberate: {(side, fact)}."""
    with open(DOC) as handle:
        text = handle.read()
    if DOC_SECTION not in text:
        return set()
    section = text.split(DOC_SECTION, 1)[1].split('\n## ', 1)[0]
    listed = set()
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip('|').split('|')] if line.startswith('| `') else []
        if len(cells) >= 3:
            listed.add((cells[1], cells[0].strip('`')))
    return listed


def _leave_nothing():
    """What either tool made: domains, volumes, networks, the box's volume (on a connection of
    its own: the test's may be gone with a libvirtd restart); the stopped tool may have been
    removing one of them meanwhile."""
    conn = libvirt.open(URI)
    try:
        remove_named(conn, ('vlt-cmp',), network_also=lambda net: re.search(ADDRESSES, net.XMLDesc(0)),
                     volume_also=lambda name: name.startswith(BOX.replace('/', '-VAGRANTSLASH-') + '_vagrant_box_image_'))
    finally:
        conn.close()


def test_definitions_differ_from_vagrant_libvirts_only_where_documented():
    work = tempfile.mkdtemp(prefix='vlt-cmp-', dir='/var/tmp')
    conn = libvirt.open(URI)
    theirs_dir, ours_dir = os.path.join(work, 'vlt-cmp-v'), os.path.join(work, 'vlt-cmp-o')
    vagrant_env = dict(os.environ, VAGRANT_HOME=os.path.join(work, 'vagrant.d'), VAGRANT_CHECKPOINT_DISABLE='1',
                       VAGRANT_DEFAULT_PROVIDER='libvirt', VAGRANT_NO_COLOR='1')
    ours_env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'),
                    ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1')
    try:
        os.makedirs(theirs_dir)
        os.makedirs(ours_dir)
        with open(os.path.join(theirs_dir, 'Vagrantfile'), 'w') as handle:
            handle.write(_vagrantfile())
        inventory = os.path.join(ours_dir, 'lab.yml')
        with open(inventory, 'w') as handle:
            yaml.safe_dump(_inventory(ours_dir), handle)
        subprocess.run(['vagrant', 'box', 'add', '--name', BOX, os.environ['LAB_BOX']], env=vagrant_env,
                       cwd=theirs_dir, stdout=subprocess.DEVNULL, check=True, timeout=300)

        names = ['vlt-cmp-v_' + machine for machine in MACHINES]
        domains, networks = _defined(conn, ['vagrant', 'up', '--no-provision'], theirs_dir, vagrant_env, names,
                                     os.path.join(work, 'vagrant-up.log'),
                                     lambda said: said.count('Waiting for domain to get an IP address') == len(names))
        theirs = _all_facts(domains, networks, 'vlt-cmp-v_')
        _leave_nothing()  # what destroy does is proven elsewhere; here it would cost a minute

        names = ['vlt-cmp-o_' + machine for machine in MACHINES]
        playbook = [os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook'), '-i', inventory]
        domains, networks = _defined(conn, playbook + [os.path.join(ROOT, 'playbooks', 'up.yml')], ours_dir, ours_env,
                                     names, os.path.join(work, 'up.log'),
                                     lambda said: 'TASK [' in said.partition(': Domain, defined and running]')[2])
        ours = _all_facts(domains, networks, 'vlt-cmp-o_')
    finally:
        _leave_nothing()
        shutil.rmtree(work, ignore_errors=True)

    assert sorted(theirs) == sorted(ours)
    found = set()
    for what in sorted(theirs):
        found |= set(('vagrant-libvirt only', fact) for fact in theirs[what] - ours[what])
        found |= set(('vagrantless only', fact) for fact in ours[what] - theirs[what])
    documented = _documented()
    assert found - documented == set() and documented - found == set(), (
        'not documented: %s; documented, no longer found: %s' % (sorted(found - documented), sorted(documented - found)))
