# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Molecule from the controller, its platform on a remote hypervisor (`libvirt_host: hv1`):
converge and verify reach the guest through the hypervisor by the ssh_config the collection's
create writes (Molecule's driver.ssh_connection_options name it with -F), the instance config
names the guest by its Host alias there, and destroy leaves nothing. Without that option,
create stops before anything is made and says what to add."""

import os
import shutil
import subprocess
import time

import pytest
import yaml

from conftest import ROOT, hypervisor_vars
from project_lab import molecule_scenario, project_dir
from remote_lab import RemoteLab

SCENARIO = 'remote'
LAB = 'molecule-' + SCENARIO  # the lab Molecule's create names after the scenario
SSH_OPTION = '-F ${MOLECULE_EPHEMERAL_DIRECTORY}/vagrantless/ssh_config'


def write_scenario(path, ssh_options):
    """molecule/remote in the project ``path``: one platform on hv1, the hypervisors in
    Molecule's inventory (as a user's scenario lists them: provisioner.inventory.hosts)."""
    scenario = os.path.join(path, 'molecule', SCENARIO)
    platform = dict(name='m1', groups=['guests'], box=os.environ['LAB_BOX_NAME'], box_url=os.environ['LAB_BOX'],
                    memory=256, cpus=1, libvirt_host='hv1', libvirt_driver='qemu', ssh_username='root',
                    ssh_private_key_path=os.environ['LAB_KEY'], ssh_insert_key=False, vm_boot_timeout=180,
                    vm_synced_folders=[{'dest': '/vagrant', 'disabled': True}])
    driver = dict(name='default', options=dict(managed=True))
    if ssh_options:
        driver['ssh_connection_options'] = ssh_options
    config = dict(
        driver=driver, platforms=[platform], prerun=False, dependency=dict(name='galaxy', enabled=False),
        provisioner=dict(name='ansible', inventory=dict(
            hosts=dict(hypervisors=dict(hosts=hypervisor_vars())),
            host_vars=dict(m1=dict(ansible_python_interpreter='/usr/bin/python3')))),
        ansible=dict(env=dict(ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'))),
        scenario=dict(create_sequence=['create'], converge_sequence=['create', 'converge'],
                      destroy_sequence=['destroy']))
    molecule_scenario(scenario, config, 'guests', 'converged through hv1\n')


def molecule(path, *args):
    """``molecule ARGS -s remote`` in the project ``path``, as a user runs it."""
    bin_dir = os.path.join(ROOT, '.venv', 'bin')
    started = time.monotonic()
    proc = subprocess.run([os.path.join(bin_dir, 'molecule')] + list(args) + ['-s', SCENARIO], cwd=path,
                          env=dict(os.environ, PATH=bin_dir + ':' + os.environ['PATH'], ANSIBLE_NOCOLOR='1',
                                   MOLECULE_EPHEMERAL_DIRECTORY=ephemeral(path),
                                   NO_COLOR='1', ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg')),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=900,
                          check=False)
    proc.seconds = time.monotonic() - started
    return proc


def ephemeral(path):
    """Molecule's ephemeral directory of the scenario, where molecule() has it kept."""
    return os.path.join(path, 'ephemeral')


@pytest.fixture
def project():
    path = project_dir('vlt-rmol-', 'unused\n')
    lab = RemoteLab(path, name=LAB)
    lab.purge()
    yield path, lab
    molecule(path, 'destroy')
    lab.purge()
    shutil.rmtree(path, ignore_errors=True)


def test_molecule_converges_and_verifies_a_guest_behind_a_hypervisor(project):
    path, lab = project
    write_scenario(path, [SSH_OPTION])
    for stage in ('create', 'converge', 'idempotence', 'verify'):
        run = molecule(path, stage)
        assert run.returncode == 0, (stage, run.stdout[-5000:])
        if stage == 'create':
            assert lab.domain('m1').isActive()
            with open(os.path.join(ephemeral(path), 'instance_config.yml')) as handle:
                instances = yaml.safe_load(handle)
            assert [(i['instance'], i['address']) for i in instances] == [('m1', LAB + '_m1')], instances
            with open(os.path.join(ephemeral(path), 'vagrantless', 'ssh_config')) as handle:
                text = handle.read()
            assert 'Host %s_m1\n' % LAB in text and 'ProxyCommand ssh -W %h:%p' in text, text
    assert molecule(path, 'destroy').returncode == 0
    assert lab.leftovers() == []


def test_without_the_ssh_config_option_create_stops_before_anything(project):
    path, lab = project
    write_scenario(path, None)
    run = molecule(path, 'create')
    assert run.returncode != 0 and run.seconds < 120, run.stdout[-3000:]
    assert 'platform m1 is reached through hypervisor hv1' in run.stdout, run.stdout[-3000:]
    assert SSH_OPTION in run.stdout, run.stdout[-3000:]
    assert lab.leftovers() == []
