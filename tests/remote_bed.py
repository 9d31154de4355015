# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The remote-hypervisor bed (tests/lab/remote), as the remote tests and the benchmark use it:
its variables, and a stand-in hypervisor as an inventory host."""

import os
import subprocess

REMOTE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lab', 'remote')


def bed_env():
    """The bed's variables, as `tests/lab/remote env` prints them."""
    out = subprocess.run([REMOTE, 'env'], stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    return dict(line.split('=', 1) for line in out.splitlines() if not line.startswith('export '))


def hypervisor_host(bed, address):
    """A stand-in hypervisor at ``address`` as an inventory host, the way a user's AWX inventory
    names a remote hypervisor: its address, the key, the known hosts, the interpreter."""
    return dict(ansible_host=address, ansible_port=int(bed['HV_PORT']), ansible_user=bed['HV_USER'],
                ansible_ssh_private_key_file=bed['HV_KEY'], ansible_python_interpreter=bed['HV_PYTHON'],
                ansible_ssh_common_args='-o StrictHostKeyChecking=yes -o UserKnownHostsFile=' + bed['HV_KNOWN_HOSTS'])
