# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The remote-hypervisor test bed (tests/lab/remote): these tests run as the controller, inside
its network namespace (`make remote` runs pytest through `tests/lab/remote exec`), and reach the
lab's libvirtd only over SSH to the stand-in hypervisors hv1 and hv2, as an AWX execution
environment reaches a real hypervisor. No VM is booted here."""

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tests'))  # project_lab and remote_bed, what the layers share

from remote_bed import bed_env, hypervisor_host  # noqa: E402 pylint: disable=import-error,wrong-import-position


BED = bed_env()
HOSTS = dict(hv1=BED['HV1_ADDR'], hv2=BED['HV2_ADDR'])
RESULT = re.compile(r'^(\S+) \| [A-Z!]+ => ', re.M)


def pytest_configure(config):
    """Refuse to run anywhere but in the controller's namespace: from the machine's own, a
    guest address would be tried through its default route, off the machine."""
    here = subprocess.run(['ip', 'netns', 'identify', str(os.getpid())], stdout=subprocess.PIPE,
                          universal_newlines=True, check=False).stdout.strip()
    if here != BED['REMOTE_NS']:
        pytest.exit('tests/remote runs inside the controller namespace %s only (not in %s): '
                    'use `make remote` or `tests/lab/remote exec %s -m pytest tests/remote`'
                    % (BED['REMOTE_NS'], here or 'the machine\'s own namespace', sys.executable), returncode=4)


def ssh_argv(address, *command, **options):
    """ssh to a stand-in hypervisor as the bed says, strict about its host key; `options`
    replace the key (key=) or the known hosts file (known_hosts=); extra ssh options (extra=)."""
    return (['ssh', '-F', 'none', '-p', BED['HV_PORT'], '-i', options.get('key', BED['HV_KEY']),
             '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5',
             '-o', 'StrictHostKeyChecking=yes', '-o', 'UserKnownHostsFile=' + options.get('known_hosts', BED['HV_KNOWN_HOSTS'])]
            + list(options.get('extra', [])) + ['%s@%s' % (BED['HV_USER'], address)] + list(command))


def ssh(address, *command, **options):
    return subprocess.run(ssh_argv(address, *command, **options), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=60, check=False)


def hypervisor_vars():
    """The stand-in hypervisors as inventory hosts."""
    return dict((name, hypervisor_host(BED, address)) for name, address in HOSTS.items())


@pytest.fixture(scope='session')
def inventory(tmp_path_factory):
    """An inventory file with the stand-in hypervisors as hosts."""
    path = tmp_path_factory.mktemp('inventory') / 'hypervisors.yml'
    path.write_text(yaml.safe_dump(dict(hypervisors=dict(hosts=hypervisor_vars()))))
    return str(path)


@pytest.fixture(scope='session')
def ansible(inventory, tmp_path_factory):
    """`ansible PATTERN -m MODULE -a ARGS` from the controller: the JSON result per host.
    SSH masters persist in a directory of this session (`control`: another, not to share them)."""
    session_control = tmp_path_factory.mktemp('cp')

    def run(pattern, module, args=None, extra=(), control=None):
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'),
                   ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_HOST_KEY_CHECKING='True',
                   ANSIBLE_SSH_CONTROL_PATH_DIR=str(control or session_control), ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
                   ANSIBLE_STDOUT_CALLBACK='ansible.builtin.minimal', ANSIBLE_NOCOLOR='1')
        argv = [os.path.join(ROOT, '.venv', 'bin', 'ansible'), pattern, '-i', inventory, '-m', module]
        if args is not None:
            argv += ['-a', json.dumps(args)]
        proc = subprocess.run(argv + list(extra), env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=300, check=False)
        results = {}
        for match in RESULT.finditer(proc.stdout):  # "host | STATUS => {json}", one per host
            results[match.group(1)] = json.JSONDecoder().raw_decode(proc.stdout, match.end())[0]
        if not results:
            pytest.fail('ansible %s: rc %s\n%s\n%s' % (' '.join(argv[1:]), proc.returncode, proc.stdout[-3000:],
                                                       proc.stderr[-3000:]), pytrace=False)
        return results
    return run
