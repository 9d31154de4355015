# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lab on remote hypervisors, driven from a controller that reaches them only over SSH and
has no route to the guests (an AWX execution environment's view): two machines on hv1 and
hv2 up (rsync folder, shell provisioner, a forwarded port), a second up changing nothing, the
leases inventory and `ssh -F` reaching the guests through the hypervisors, halt, destroy with
nothing left; a private network across the two hypervisors refused before anything is made;
a hypervisor refusing the key, or down, failing at once; and the same lab through a `qemu+ssh://` URI,
run by ansible-runner with the project laid out as AWX lays it out."""

import os
import re
import shutil
import subprocess
import time

import pytest
import yaml

from conftest import HOSTS, ROOT, ssh_argv
from project_lab import project_dir
from remote_lab import LAB, PROVISION, RemoteLab, uri

TUNNEL_PORT = 2291


@pytest.fixture(scope='module')
def remote():
    path = project_dir('vlt-rem-', 'hello through the hypervisor\n')
    lab = RemoteLab(path)
    lab.purge()
    lab.write({'r1': {'libvirt_host': 'hv1',
                      'vm_networks': [{'forwarded_port': {'guest': 22, 'host': TUNNEL_PORT}}]},
               'r2': {'libvirt_host': 'hv2'}})
    yield lab
    lab.play('destroy')  # what a failed test left, as a user would remove it
    lab.purge()  # and what a test that broke the hypervisor's connection left
    shutil.rmtree(path, ignore_errors=True)


def test_two_machines_on_two_hypervisors_are_up_synced_and_provisioned(remote):
    lab = remote
    lab.ok('up')
    assert lab.domain('r1').isActive() and lab.domain('r2').isActive()
    for machine in ('r1', 'r2'):
        assert lab.ssh(machine, 'cat /vagrant/hello.txt') == 'hello through the hypervisor\n'
        assert len(lab.ssh(machine, 'cat /root/provisioned').split()) == 1
    text = open(lab.ssh_config).read()
    assert 'ProxyCommand ssh -W %h:%p' in text


def test_a_guest_address_is_unreachable_from_the_controller_itself(remote):
    """What the jump is for: the controller has no route to the guests."""
    status = remote.ok('status').stdout
    ips = re.findall(r'vlt-rem_r1\s+running\s+(\S+)\s+hv1', status)
    assert ips, status
    started = time.monotonic()
    direct = subprocess.run(['ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=20', 'root@' + ips[0], 'true'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    assert direct.returncode != 0 and 'unreachable' in direct.stderr.lower(), direct.stderr
    assert time.monotonic() - started < 5


def test_a_second_up_changes_nothing(remote):
    assert remote.ok('up').recap == dict(r1=0, r2=0)


def test_the_leases_inventory_reaches_the_guests_through_the_hypervisors(remote):
    source = os.path.join(remote.path, 'lab.leases.yml')
    with open(source, 'w') as handle:
        yaml.safe_dump(dict(plugin='vagrantless.libvirt.leases', uris=[uri('hv1')], hostname='machine'), handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'),
               ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_INVENTORY_ENABLED='vagrantless.libvirt.leases')
    pinged = subprocess.run([os.path.join(ROOT, '.venv', 'bin', 'ansible'), '-i', source, 'lab_vlt_rem', '-o',
                             '-m', 'ansible.builtin.ping'], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, timeout=300, check=False)
    assert pinged.returncode == 0, pinged.stdout
    assert sorted(re.findall(r'^(\S+) \| SUCCESS', pinged.stdout, re.M)) == ['r1', 'r2'], pinged.stdout


def test_a_forwarded_port_answers_on_the_hypervisor(remote):
    banner = subprocess.run(ssh_argv(HOSTS['hv1'], extra=['-W', '127.0.0.1:%d' % TUNNEL_PORT]),
                            input='', stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, check=False)
    assert banner.stdout.startswith(b'SSH-'), banner


def test_halt_then_destroy_leave_nothing(remote):
    lab = remote
    lab.ok('halt')
    assert not lab.domain('r1').isActive() and not lab.domain('r2').isActive()
    lab.ok('destroy')
    assert lab.leftovers() == []


def test_a_private_network_across_two_hypervisors_is_refused_before_anything(remote):
    lab = remote
    lab.write({'r1': {'libvirt_host': 'hv1', 'vm_networks': [{'private_network': {'ip': '10.93.0.11'}}]},
               'r2': {'libvirt_host': 'hv2', 'vm_networks': [{'private_network': {'ip': '10.93.0.12'}}]}})
    run = lab.play('up')
    assert run.returncode != 0
    assert 'private network vlt-rem-10.93.0.0-24 would span hypervisors hv1 (r1), hv2 (r2)' in run.stdout, run.stdout
    assert lab.leftovers() == []


@pytest.mark.parametrize('broken, said', [('a refused key', 'Permission denied'), ('the host down', 'No route to host')])
def test_a_broken_hypervisor_fails_at_once_naming_it(remote, tmp_path, broken, said):
    lab = remote
    lab.write({'r1': {'libvirt_host': 'hv1'}})
    with open(lab.inventory) as handle:
        inventory = yaml.safe_load(handle)
    hv1 = inventory['hypervisors']['hosts']['hv1']
    if broken == 'a refused key':
        hv1['ansible_ssh_private_key_file'] = str(tmp_path / 'wrong_key')
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', hv1['ansible_ssh_private_key_file']],
                       check=True)
    else:
        hv1['ansible_host'] = '10.77.0.5'  # on the controller's link (10.77.0.0/29), nobody's
    with open(lab.inventory, 'w') as handle:
        yaml.safe_dump(inventory, handle)
    # a control path of its own: no SSH master of an earlier run (authenticated with the right key)
    run = lab.play('up', ANSIBLE_SSH_CONTROL_PATH_DIR=str(tmp_path / 'cp'))
    assert run.returncode != 0 and run.seconds < 60, (broken, run.stdout)
    failure = [line for line in run.stdout.splitlines() if line.startswith(('fatal:', 'failed:'))]
    assert failure and 'hv1' in failure[0] and said in run.stdout, (broken, run.stdout)
    assert lab.leftovers() == []


def test_the_same_lab_through_a_qemu_ssh_uri_run_by_ansible_runner(remote):
    """AWX's layout: <private data dir>/project (the checkout with the playbook), inventory/,
    env/envvars; the machine's libvirt work goes from the controller over `qemu+ssh://`."""
    lab = remote
    data = os.path.join(lab.path, 'runner')
    project = os.path.join(data, 'project')
    os.makedirs(os.path.join(data, 'inventory'))
    os.makedirs(os.path.join(data, 'env'))
    os.makedirs(project)
    shutil.copy(os.path.join(lab.path, 'hello.txt'), project)
    with open(os.path.join(project, 'up.yml'), 'w') as handle:
        handle.write('- ansible.builtin.import_playbook: vagrantless.libvirt.up\n')
    machine_vars = dict(
        vagrantless_lab=LAB, vagrantless_project_dir=project, vagrantless_state_dir=os.path.join(data, 'state'),
        libvirt_uri=uri('hv1'), libvirt_driver='qemu', libvirt_memory=256, libvirt_cpus=1,
        vm_box=os.environ['LAB_BOX_NAME'], vm_box_url=os.environ['LAB_BOX'], ssh_username='root',
        ssh_private_key_path=os.environ['LAB_KEY'], ssh_insert_key=False, vm_boot_timeout=180,
        vm_graceful_halt_timeout=20, vm_provision=PROVISION)
    with open(os.path.join(data, 'inventory', 'hosts.yml'), 'w') as handle:
        yaml.safe_dump(dict(machines=dict(vars=machine_vars, hosts=dict(u1={}))), handle)
    with open(os.path.join(data, 'env', 'envvars'), 'w') as handle:
        yaml.safe_dump(dict(ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'),
                            ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1'), handle)
    bin_dir = os.path.join(ROOT, '.venv', 'bin')
    runner = subprocess.run([os.path.join(bin_dir, 'ansible-runner'), 'run', data, '-p', 'up.yml'],
                            env=dict(os.environ, PATH=bin_dir + ':' + os.environ['PATH']), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True, timeout=900, check=False)
    assert runner.returncode == 0, runner.stdout[-4000:]
    status = open(os.path.join(data, 'artifacts', os.listdir(os.path.join(data, 'artifacts'))[0], 'status')).read()
    assert status == 'successful'
    lab.inventory = os.path.join(data, 'inventory', 'hosts.yml')
    assert lab.ssh('u1', 'cat /vagrant/hello.txt') == 'hello through the hypervisor\n'
    lab.ok('destroy')
    assert lab.leftovers() == []
