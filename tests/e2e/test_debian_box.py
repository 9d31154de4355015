# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verbs on a real Vagrant box, with Vagrant's defaults: the Debian 12 box the lab builds
from Debian's packages (user vagrant, Vagrant's insecure key, sudo, systemd, ifupdown), not the
busybox box the other tests log in to as root. What only such a box shows: the insecure key
replaced, the hostname through systemd, private networks configured in Debian's own files,
/vagrant owned by vagrant through sudo, privileged and unprivileged provisioners, Ansible
modules on the guest's Python, a graceful halt through systemd, a box packaged from it that logs
in with the key it ships. Three boots: d1's up and reload, d2's up from d1's packaged box. Each
test builds on the machines the previous ones left."""

import glob
import os
import re
import shutil
import socket
import subprocess
import tarfile

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

MACHINE = {
    'vm_hostname': 'deb-1.lab',
    'vm_networks': [{'private_network': {'ip': '10.51.0.21'}},
                    {'private_network': {'ip': '10.52.0.21', 'dhcp_enabled': False}}],
    'vm_provision': [{'type': 'shell', 'inline': 'id -un > /root/privileged'},
                     {'type': 'shell', 'inline': 'id -un > "$HOME/unprivileged"', 'privileged': False}],
}
ADDRESSES = "Private networks' addresses in the guest"
INSTALLED_KEY = '/usr/share/rubygems-integration/all/gems/vagrant-*/keys/vagrant'  # the lab's Vagrant (Debian's)


PACKAGED = 'vlt-deb/packaged'


def _write(lab, **more):
    # Vagrant's defaults: the lab's root login, key and no-insert of the tiny box undone
    lab.write(dict(more, d1=MACHINE), vm_box=lab.box, vm_box_url=None, vm_box_version='~> 12.0',
              vm_box_server_url=lab.catalog.url,
              ssh_username='vagrant', ssh_private_key_path=None, ssh_insert_key=True, libvirt_memory=512, libvirt_cpus=2,
              vm_boot_timeout=300, vm_graceful_halt_timeout=60, libvirt_serial_log=lab.console_log)


def _address(lab):
    with open(lab.ssh_config) as handle:
        return re.search(r'^\s*HostName (\S+)$', handle.read(), re.M).group(1)


def test_up_with_vagrants_defaults(debian):
    """`config.vm.box = "vlt-deb/debian12"` with `box_version "~> 12.0"`, looked up in the catalog
    (12.0.0 chosen over 13.0.0), its download's progress reported as it goes."""
    _write(debian)
    run = debian.play('up')
    if run.rc != 0:  # what the guest's boot said (systemd names a unit that failed)
        with open(debian.console_log, errors='replace') as handle:
            pytest.fail('%r\nserial console:\n%s' % (run, handle.read()[-4000:]), pytrace=False)
    assert debian.catalog.requests == [('/vlt-deb/debian12', 'application/json'), ('/vlt-deb/debian12/12.0.0.box', None)]
    assert re.search(r'^box vlt-deb/debian12: downloaded [0-9.]+ of [0-9.]+ MiB \([0-9]+%\)$', run.out, re.M), run
    assert debian.ssh('d1', 'hostname') == 'deb-1.lab\n'
    assert debian.ssh('d1', 'id -un; sudo -n id -un') == 'vagrant\nroot\n'


def test_the_insecure_key_was_replaced(debian, tmp_path):
    insecure = str(tmp_path / 'insecure_private_key')
    shutil.copyfile(sorted(glob.glob(INSTALLED_KEY))[-1], insecure)
    os.chmod(insecure, 0o600)
    refused = subprocess.run(['ssh', '-i', insecure, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
                              '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
                              '-o', 'ConnectTimeout=10', 'vagrant@' + _address(debian), 'true'],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False)
    assert refused.returncode == 255 and b'Permission denied' in refused.stderr, refused
    assert debian.ssh('d1', 'wc -l < ~/.ssh/authorized_keys') == '1\n'


def test_private_networks_are_configured_in_debians_own_files(debian):
    addresses = debian.ssh('d1', 'ip -o -4 addr show')
    assert ' 10.51.0.21/24 ' in addresses and ' 10.52.0.21/24 ' in addresses, addresses
    interfaces = debian.ssh('d1', 'cat /etc/network/interfaces')
    assert 'address 10.51.0.21/24' in interfaces and 'address 10.52.0.21/24' in interfaces, interfaces
    # the address answers on the network without DHCP (the hypervisor holds its other end)
    with socket.create_connection(('10.52.0.21', 22), timeout=10) as conn:
        assert conn.recv(64).startswith(b'SSH-')


def test_the_synced_folder_is_owned_by_vagrant(debian):
    assert debian.ssh('d1', 'stat -c %U:%G /vagrant /vagrant/hello.txt; cat /vagrant/hello.txt') == (
        'vagrant:vagrant\nvagrant:vagrant\nhello from the project\n')


def test_privileged_and_unprivileged_provisioners(debian):
    assert debian.ssh('d1', 'sudo cat /root/privileged; cat ~/unprivileged') == 'root\nvagrant\n'


def test_ansible_modules_run_on_the_guests_python_through_the_leases_inventory(debian):
    """An Ansible provisioner's place: a later play on the machines, found by the leases
    inventory (user and key from the machine's metadata), running Python modules with sudo."""
    source = os.path.join(debian.path, 'lab.leases.yml')
    with open(source, 'w') as handle:
        yaml.safe_dump(dict(plugin='vagrantless.libvirt.leases', uris=[debian.uri], hostname='machine'), handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'),
               ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_INVENTORY_ENABLED='vagrantless.libvirt.leases')
    argv = [os.path.join(ROOT, '.venv', 'bin', 'ansible'), '-i', source, 'd1', '-o', '--become']
    made = subprocess.run(argv + ['-m', 'ansible.builtin.user', '-a', 'name=deploy shell=/bin/bash'], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=300,
                          check=False)
    assert made.returncode == 0 and 'd1 | CHANGED' in made.stdout, made.stdout
    assert debian.ssh('d1', 'getent passwd deploy | cut -d: -f7') == '/bin/bash\n'


def test_second_up_changes_nothing_and_says_a_newer_version_within_the_constraint_is_available(debian):
    debian.catalog.boxes[debian.box]['12.1.0'] = os.environ['LAB_DEBIAN_BOX']
    run = debian.ok('up')
    assert run.changed == 0, run
    said = ' '.join(run.out.split())  # wrapped
    assert 'vlt-deb/debian12: version 12.1.0 is available' in said and '13.0.0' not in said, run
    assert debian.catalog.requests[-1] == ('/vlt-deb/debian12', 'application/json')  # asked, nothing downloaded


def test_reload_halts_through_systemd_and_the_addresses_come_back_from_debians_files(debian):
    run, results = debian.recorded('reload')
    assert 'graceful shutdown' in run.out, run
    assert debian.ssh('d1', 'cat /proc/uptime').split('.')[0].isdigit()
    assert ' 10.52.0.21/24 ' in debian.ssh('d1', 'ip -o -4 addr show')
    # ifupdown set them at boot: the guest step found nothing to change
    steps = [entry for key, entries in results.items() if key.endswith(ADDRESSES) for entry in entries]
    assert steps, sorted(results)
    assert steps[-1].get('changed') is False, steps


def test_suspend_and_resume_by_managed_save(debian):
    debian.ok('suspend', '-e', 'libvirt_suspend_mode=managedsave')
    domain = debian.domain('d1')
    assert not domain.isActive() and domain.hasManagedSaveImage(0)
    debian.ok('resume')
    assert debian.ssh('d1', 'hostname') == 'deb-1.lab\n'


def test_snapshot_save_change_restore(debian):
    debian.ssh('d1', 'echo before > ~/state')
    debian.ok('snapshot', '-e', 'snapshot_action=save', '-e', 'snapshot_name=s1')
    debian.ssh('d1', 'echo after > ~/state')
    debian.ok('snapshot', '-e', 'snapshot_action=restore', '-e', 'snapshot_name=s1')
    assert debian.ssh('d1', 'cat ~/state') == 'before\n'
    debian.ok('snapshot', '-e', 'snapshot_action=delete', '-e', 'snapshot_name=s1')


def test_package_then_up_from_the_packaged_box_with_the_key_it_ships(debian):
    """vagrant package of d1 (halted through systemd first) ships d1's inserted key; d2, up from
    that box with Vagrant's defaults, gets in with it, then has its own key. d1's private-network
    blocks, which name MACs d2 has not, are replaced by d2's; d1's addresses are not on d2."""
    box = os.path.join(debian.path, 'd1.box')
    assert 'graceful shutdown' in debian.ok('package', '--limit', 'd1', '-e', 'package_output=' + box).out
    with tarfile.open(box) as archive:
        assert archive.getmember('vagrant_private_key').mode == 0o600
    _write(debian, d2={'vm_box': PACKAGED, 'vm_box_url': box, 'vm_box_version': None, 'vm_hostname': 'deb-2.lab',
                       'vm_networks': [{'private_network': {'ip': '10.51.0.22'}},
                                       {'private_network': {'ip': '10.52.0.22', 'dhcp_enabled': False}}]})
    run = debian.play('up', '--limit', 'd2')
    assert run.rc == 0, run
    assert debian.ssh('d2', 'hostname; cat ~/unprivileged') == 'deb-2.lab\nvagrant\n'  # d1's disk, d2's name
    keys = debian.ssh('d2', 'cat ~/.ssh/authorized_keys')
    with open(os.path.join(debian.path, '.vagrantless', 'machines', 'vlt-deb_d2', 'private_key.pub')) as handle:
        assert keys.split()[:2] == handle.read().split()[:2] and len(keys.splitlines()) == 1  # d1's key gone
    addresses = debian.ssh('d2', 'ip -o -4 addr show')
    assert ' 10.51.0.22/24 ' in addresses and ' 10.52.0.22/24 ' in addresses, addresses
    assert '10.51.0.21/' not in addresses and '10.52.0.21/' not in addresses, addresses
    assert debian.ssh('d2', 'grep -c "^# vagrantless .* begin$" /etc/network/interfaces') == '2\n'


def test_halt_gracefully_then_destroy_leaves_nothing(debian):
    run = debian.ok('halt')
    assert 'graceful shutdown' in run.out, run
    debian.ok('destroy')
    assert debian.leftovers() == []
    assert debian.box_volumes(debian.box) and debian.box_volumes(PACKAGED)  # boxes stay, as Vagrant keeps them
