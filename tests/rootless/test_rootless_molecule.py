# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`molecule test` as the bed's unprivileged user, its platform a session machine
(`libvirt_qemu_use_session: true`): the collection's create brings it up with its SSH port
forwarded from 127.0.0.1, Molecule's instance config names that port, converge, idempotence and
verify reach the guest there, and destroy leaves nothing."""

import os
import shutil
import subprocess
import tempfile

import libvirt
import pytest
from project_lab import molecule_scenario

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIO = 'rootless'
LAB = 'molecule-' + SCENARIO  # the lab the collection's create names after the scenario


@pytest.fixture
def project(bed):
    path = tempfile.mkdtemp(prefix='vlt-rlmol-')
    scenario = os.path.join(path, 'molecule', SCENARIO)
    platform = dict(name='m1', box=bed['ROOTLESS_BOX_NAME'], box_url=bed['ROOTLESS_BOX'], memory=256, cpus=1,
                    libvirt_qemu_use_session=True, libvirt_driver=bed['ROOTLESS_DRIVER'], ssh_username='root',
                    ssh_private_key_path=bed['ROOTLESS_KEY'], ssh_insert_key=False, vm_boot_timeout=180,
                    vm_synced_folders=[{'dest': '/vagrant', 'disabled': True}])
    config = dict(
        driver=dict(name='default', options=dict(managed=True)), platforms=[platform], prerun=False,
        dependency=dict(name='galaxy', enabled=False),
        provisioner=dict(name='ansible', inventory=dict(host_vars=dict(
            m1=dict(ansible_python_interpreter='/usr/bin/python3')))),
        ansible=dict(env=dict(ANSIBLE_COLLECTIONS_PATH=os.environ['ANSIBLE_COLLECTIONS_PATH'])),
        scenario=dict(create_sequence=['create'], converge_sequence=['create', 'converge'],
                      destroy_sequence=['destroy'],
                      test_sequence=['destroy', 'syntax', 'create', 'converge', 'idempotence', 'verify', 'destroy']))
    molecule_scenario(scenario, config, 'all', 'converged without root\n')
    conn = libvirt.open('qemu:///session')
    yield path, conn
    for dom in conn.listAllDomains(0):  # what a failed run left
        if dom.name().startswith(LAB + '_'):
            if dom.isActive():
                dom.destroy()
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
    conn.close()
    shutil.rmtree(path, ignore_errors=True)


def test_molecule_test_without_root(project):
    path, conn = project
    run = subprocess.run(['molecule', 'test', '-s', SCENARIO], cwd=path, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True, timeout=900, check=False,
                         env=dict(os.environ, ANSIBLE_NOCOLOR='1', NO_COLOR='1', PY_COLORS='0',
                                  MOLECULE_EPHEMERAL_DIRECTORY=os.path.join(path, 'ephemeral')))
    assert run.returncode == 0, run.stdout[-6000:]
    # converge (then again for idempotence) and verify ran their tasks in the guest, at its forwarded port
    assert run.stdout.count('TASK [A file]') == 2 and 'changed: [m1]' in run.stdout, run.stdout[-6000:]
    assert 'TASK [As converge wrote it]' in run.stdout, run.stdout[-6000:]
    assert [dom.name() for dom in conn.listAllDomains(0) if dom.name().startswith(LAB + '_')] == []
