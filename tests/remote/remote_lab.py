# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A project directory on the remote bed: its inventory puts machines on the stand-in
hypervisors hv1 and hv2, the verbs run as playbooks from the controller, and libvirt is read
over SSH (shared by the remote layer's tests)."""

import os
import re
import subprocess
import time

import libvirt
import pytest
import yaml

from conftest import BED, HOSTS, ROOT, hypervisor_vars
from project_lab import ProjectLab

LAB = 'vlt-rem'
PROVISION = [{'type': 'shell', 'inline': 'date +%s%N >> /root/provisioned'}]
RECAP = re.compile(r'^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)


def uri(hypervisor):
    """The libvirt URI of a stand-in hypervisor, as the controller reaches it: over SSH."""
    return 'qemu+ssh://%s@%s:%s/system?keyfile=%s&known_hosts=%s' % (
        BED['HV_USER'], HOSTS[hypervisor], BED['HV_PORT'], BED['HV_KEY'], BED['HV_KNOWN_HOSTS'])


class RemoteLab(ProjectLab):
    """A project directory whose inventory puts machines on hv1 and hv2, the verbs as playbook
    runs from the controller, and libvirt read over SSH."""

    def __init__(self, path, name=LAB):
        super(RemoteLab, self).__init__(path, name, uri('hv1'))

    def write(self, machines, **lab_vars):
        variables = dict(
            vagrantless_lab=self.name, vagrantless_state_dir=os.path.join(self.path, '.vagrantless'),
            libvirt_driver='qemu', libvirt_memory=256, libvirt_cpus=1, vm_box=os.environ['LAB_BOX_NAME'],
            vm_box_url=os.environ['LAB_BOX'], ssh_username='root', ssh_private_key_path=os.environ['LAB_KEY'],
            ssh_insert_key=False, vm_boot_timeout=180, vm_graceful_halt_timeout=20, vm_provision=PROVISION)
        variables.update(lab_vars)
        inventory = dict(machines=dict(vars=variables, hosts=machines), hypervisors=dict(hosts=hypervisor_vars()))
        with open(self.inventory, 'w') as handle:
            yaml.safe_dump(inventory, handle)

    def play(self, verb, *args, **env):
        started = time.monotonic()
        proc = subprocess.run([os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook'), '-i', self.inventory,
                               os.path.join(ROOT, 'playbooks', verb + '.yml')] + list(args),
                              env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'),
                                       ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1', **env),
                              cwd=self.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=900, check=False)
        proc.seconds = time.monotonic() - started
        proc.recap = dict((m.group(1), int(m.group(3))) for m in RECAP.finditer(proc.stdout))
        return proc

    def ok(self, verb, *args):
        run = self.play(verb, *args)
        if run.returncode != 0:
            failures = [line[:1500] for line in run.stdout.splitlines() if line.startswith(('fatal:', 'failed:'))]
            pytest.fail('%s -> rc %d\n%s\n...\n%s' % (verb, run.returncode, '\n'.join(failures), run.stdout[-3000:]),
                        pytrace=False)
        return run

    def purge(self):
        """Whatever an earlier, killed or failed run of this lab left, removed through libvirt."""
        for dom in self.conn.listAllDomains(0):
            if dom.name().startswith(self.name):
                if dom.isActive():
                    dom.destroy()
                dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
                                  | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
        for pool in self.conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE):
            for volume in pool.listAllVolumes(0):
                if volume.name().startswith(self.name) and '_vagrant_box_image_' not in volume.name():
                    volume.delete(0)
        for net in self.conn.listAllNetworks(0):
            if net.name().startswith(self.name):
                if net.isActive():
                    net.destroy()
                net.undefine()

    def leftovers(self):
        """This lab's domains, volumes (box images stay, as Vagrant keeps boxes) and networks."""
        found = ['domain ' + d.name() for d in self.conn.listAllDomains(0) if d.name().startswith(self.name)]
        for pool in self.conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE):
            pool.refresh(0)
            found += ['volume ' + v.name() for v in pool.listAllVolumes(0)
                      if v.name().startswith(self.name) and '_vagrant_box_image_' not in v.name()]
        found += ['network ' + n.name() for n in self.conn.listAllNetworks(0) if n.name().startswith(self.name)]
        return found
