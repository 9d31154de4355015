# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the layers that boot machines share (tests/e2e, tests/remote, tests/rootless): a project
directory with its inventory, the machines' domains read through libvirt, SSH into a guest as a
user does it - `ssh -F` with the file the ssh_config verb writes - and the check that a namespace
reaches nothing it must not."""

import errno
import json
import os
import socket
import subprocess
import tempfile

import libvirt
import yaml


def unreachable_at_once(address, port=22):
    """Whether a connection to ``address`` from here fails with "network unreachable": no route,
    so no packet leaves and nothing waits (a wrong address in a test fails at once)."""
    try:
        socket.create_connection((address, port), timeout=5).close()
    except OSError as error:
        return error.errno == errno.ENETUNREACH
    return False


def project_dir(prefix, hello):
    """A new project directory holding ``hello.txt`` (what the default synced folder carries).
    Not under pytest's 0700 temporary directory: QEMU (its own user) must read a 9p folder's
    source."""
    path = tempfile.mkdtemp(prefix=prefix, dir='/var/tmp')
    os.chmod(path, 0o755)
    with open(os.path.join(path, 'hello.txt'), 'w') as handle:
        handle.write(hello)
    return path


def molecule_scenario(scenario, config, hosts, note):
    """A Molecule scenario in the directory ``scenario``, as a user writes one: molecule.yml from
    ``config``, the collection's create and destroy, a converge that writes ``note`` into
    /root/converged on ``hosts``, and a verify that reads it back."""
    playbooks = {
        'create.yml': [{'name': 'Create', 'ansible.builtin.import_playbook': 'vagrantless.libvirt.molecule.create'}],
        'destroy.yml': [{'name': 'Destroy', 'ansible.builtin.import_playbook': 'vagrantless.libvirt.molecule.destroy'}],
        'converge.yml': [{'name': 'Converge', 'hosts': hosts, 'gather_facts': False, 'tasks': [
            {'name': 'A file', 'ansible.builtin.copy': {'content': note, 'dest': '/root/converged', 'mode': '0644'}}]}],
        'verify.yml': [{'name': 'Verify', 'hosts': hosts, 'gather_facts': False, 'tasks': [
            {'name': 'Read it', 'ansible.builtin.slurp': {'src': '/root/converged'}, 'register': 'converged'},
            {'name': 'As converge wrote it', 'ansible.builtin.assert': {
                'that': ['converged.content | b64decode == %s' % json.dumps(note)]}}]}],
    }
    os.makedirs(scenario, exist_ok=True)
    with open(os.path.join(scenario, 'molecule.yml'), 'w') as handle:
        yaml.safe_dump(config, handle)
    for name, play in playbooks.items():
        with open(os.path.join(scenario, name), 'w') as handle:
            yaml.safe_dump(play, handle, sort_keys=False)


class ProjectLab(object):
    """A lab's project directory; ``ok(verb, *args)`` (a verb's playbook run that must pass) is
    each layer's own."""

    def __init__(self, path, name, uri):
        self.path = path
        self.name = name
        self.uri = uri
        self.inventory = os.path.join(path, 'lab.yml')
        self.ssh_config = os.path.join(path, 'ssh_config')
        self._conn = libvirt.open(uri)

    @property
    def conn(self):
        """The libvirt connection, opened again after libvirtd was restarted."""
        try:
            self._conn.getLibVersion()
        except libvirt.libvirtError:
            self._conn = libvirt.open(self.uri)
        return self._conn

    def ok(self, verb, *args):
        raise NotImplementedError('each layer runs its verbs its own way')

    def ssh(self, machine, command, check=True):
        """``command`` in the guest through the written ssh_config; its output."""
        self.ok('ssh_config', '-e', 'ssh_config_file=' + self.ssh_config, '--limit', machine)
        proc = subprocess.run(['ssh', '-F', self.ssh_config, '-o', 'ConnectTimeout=10', '-o', 'BatchMode=yes',
                               machine, command], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=60, check=False)
        if check:
            assert proc.returncode == 0, (command, proc.stdout, proc.stderr)
        return proc.stdout

    def domain(self, machine):
        """The machine's domain, or None."""
        try:
            return self.conn.lookupByName('%s_%s' % (self.name, machine))
        except libvirt.libvirtError:
            return None
