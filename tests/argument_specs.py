# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write (or, with --check, compare) the roles' meta/argument_specs.yml from the one source
of truth: plugins/module_utils/machine_options.py's settings, with the descriptions of libvirt_domain's
options (plugins/module_utils/domain_options.py) and of the connection fragment. `make units` runs the check, so a setting added to
machine_options.py without its spec fails the suite.

    PYTHONPATH=.collections python tests/argument_specs.py [--check]
"""

import os
import re
import sys

import yaml

import generated  # pylint: disable=import-error

from ansible_collections.vagrantless.libvirt.plugins.module_utils import domain_options, machine_options

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MACHINE_NOTE = ('The machine settings (every C(vm_*), C(ssh_*), C(libvirt_*) and C(vagrantless_*) variable of '
                'docs/migration.md) are checked by M(vagrantless.libvirt.machine_settings) first.')
LAB = {
    'vagrantless_lab': "The lab (Vagrant's project name): domains are C(<lab>_<machine>). Default the "
                       "project directory's name.",
    'vagrantless_project_dir': "The project directory (the Vagrantfile's): synced to C(/vagrant), base of "
                               "relative paths. Default the inventory's directory.",
    'vagrantless_state_dir': "Where the controller keeps each machine's state (inserted keys, provisioning "
                             "and boot marks, tunnels), as Vagrant keeps C(.vagrant/).",
    'vagrantless_ssh_jump': 'Reach the guests of a remote hypervisor through it (an ssh C(ProxyCommand) over '
                            'the hypervisor\'s SSH connection, as vagrant-libvirt does with C(connect_via_ssh)). '
                            'Turn off on a controller that routes to the guests\' networks itself.',
    'libvirt_proxy_command': "vagrant-libvirt's C(proxy_command): the ssh C(ProxyCommand) to the guests instead "
                             "of the one built from the hypervisor's connection; C({host}), C({port}), "
                             "C({username}) and C({id_ssh_key_file}) are the hypervisor's, C(%h) and C(%p) the guest's.",
    'libvirt_host': 'The hypervisor: the inventory host libvirt work is delegated to (with '
                    'C(libvirt_connect_via_ssh), the host of the C(qemu+ssh) URI instead).',
    'libvirt_storage_pool_name': 'The storage pool for box images and disks.',
    'libvirt_storage_pool_path': 'The directory of a pool that is created.',
    'libvirt_management_network_name': 'The management network every machine is attached to first.',
    'libvirt_management_network_address': 'Its address (CIDR).',
    'libvirt_management_network_mode': 'Its forward mode.',
    'libvirt_management_network_guest_ipv6': 'IPv6 between guests on it.',
    'libvirt_management_network_autostart': 'Start it with libvirtd.',
    'libvirt_management_network_mac': "The management interface's MAC (default derived from the domain name).",
    'libvirt_management_network_pci_bus': "The management interface's PCI bus.",
    'libvirt_management_network_pci_slot': "The management interface's PCI slot.",
    'libvirt_management_network_domain': 'The DNS domain of its DHCP server.',
    'libvirt_management_network_mtu': 'Its MTU.',
    'libvirt_management_network_keep': 'Keep it when the last machine using it is destroyed.',
    'libvirt_mgmt_attach': 'Attach the machine to the management network.',
    'libvirt_default_prefix': 'The domain name prefix (default C(<lab>_)).',
    'libvirt_random_hostname': "Append a suffix derived from the project's path to the domain name.",
    'libvirt_suspend_mode': 'What suspend does: C(pause) in memory, or C(managedsave) to disk.',
    'libvirt_ip_address_timeout': 'Seconds to wait for the machine\'s DHCP lease.',
    'libvirt_machine_virtual_size': 'Grow the box disk to this many GiB (never shrinks).',
    'libvirt_storage': 'Additional disks and CD-ROMs (C(libvirt.storage)): size, type, device, bus, cache, '
                       'allow_existing, path, shareable, serial; C(device: cdrom) with path.',
    'libvirt_shutdown_mode': 'How halt asks the guest to stop: C(acpi) or C(agent).',
    'vm_box': 'The box name; none for a PXE machine.',
    'vm_box_version': 'A version or constraint such as C(~> 1.2).',
    'vm_box_url': 'The box file or URL (or a catalog).',
    'vm_box_server_url': 'Where a box name without vm_box_url is looked up (C(VAGRANT_SERVER_URL) wins).',
    'vm_box_check_update': 'Warn when the catalog the box came from has a newer version.',
    'vm_box_download_checksum': 'The checksum of the box file.',
    'vm_box_download_checksum_type': 'Its algorithm.',
    'vm_hostname': 'The guest host name.',
    'vm_boot_timeout': 'Seconds to wait for SSH.',
    'vm_graceful_halt_timeout': 'Seconds halt waits for a graceful shutdown before forcing it off.',
    'vm_networks': 'Networks: each a one-key mapping, C(private_network), C(public_network) or '
                   'C(forwarded_port), to its options.',
    'vm_synced_folders': 'Synced folders: src, dest, type (rsync, 9p, virtiofs), disabled, rsync__exclude, '
                         'rsync__args, owner, group, mount_options, accessmode, readonly.',
    'vm_provision': 'Provisioners: C(shell) with inline or path (and args), C(file) with source and '
                    'destination; run once, always or never.',
    'ssh_username': 'The SSH user in the guest.',
    'ssh_private_key_path': ("The box's private key. When unset, the key Vagrant would use: its insecure private key, "
                             "from Vagrant's home (C(VAGRANT_HOME), C(~/.vagrant.d)) or an installed Vagrant; without "
                             "Vagrant, the SSH client's own keys."),
    'ssh_insert_key': "Replace the box's key by a key of the machine's own.",
    'ssh_port': 'The SSH port in the guest.',
}
ROLES = {
    'up': ('vagrant up: a machine (or every machine of the play) brought up from its settings', None, {
        'up_sync': dict(type='bool', default=False,
                        description=['Set the guest up again (synced folders, ports) on a machine already up.']),
        'up_provision': dict(type='bool', default=False,
                             description=['Run every provisioner again, C(run: never) ones included.']),
    }),
    'halt': ('vagrant halt: the domain shut down gracefully, then forced', MACHINE_NOTE, {}),
    'destroy': ('vagrant destroy: the domain, its volumes, reservations, tunnels and unused lab networks removed',
                MACHINE_NOTE, {}),
    'suspend': ('vagrant suspend: paused or saved as libvirt_suspend_mode says', MACHINE_NOTE, {}),
    'resume': ('vagrant resume: a paused or saved domain running again', MACHINE_NOTE, {}),
    'reload': ('vagrant reload: halt, then up with the current settings', MACHINE_NOTE, {}),
    'provision': ('vagrant provision: up, then every provisioner again', MACHINE_NOTE, {}),
    'ssh_config': ('vagrant ssh-config: an OpenSSH Host entry per machine', MACHINE_NOTE, {
        'ssh_config_file': dict(type='path', description=['Also write the entries to this file (mode 0600).']),
    }),
    'status': ('vagrant status: every machine, its state and its address', MACHINE_NOTE, {}),
    'snapshot': ('vagrant snapshot: save, restore, list and delete snapshots', MACHINE_NOTE, {
        'snapshot_action': dict(type='str', default='list', choices=['save', 'restore', 'list', 'delete'],
                                description=['What to do.']),
        'snapshot_name': dict(type='str', description=['The snapshot (required but for C(list)).']),
    }),
}


def _doc_options(path, variable):
    text = open(os.path.join(ROOT, path)).read()
    return yaml.safe_load(re.search(r"%s = r'''(.*?)'''" % variable, text, re.S).group(1))['options']


def _description(value):
    return list(value) if isinstance(value, list) else [value]


def setting_options():
    """Every setting as an argument spec entry with its description."""
    domain_docs = domain_options.OPTIONS.documentation()
    connection_docs = _doc_options('plugins/doc_fragments/connection.py', 'DOCUMENTATION')
    options = {}
    for name, spec in sorted(machine_options.argument_spec().items()):
        entry = dict((key, spec[key]) for key in ('type', 'elements', 'choices', 'default', 'no_log')
                     if spec.get(key) not in (None, False) or (key == 'default' and key in spec))
        if entry.get('default') is None:
            entry.pop('default', None)
        short = name[len('libvirt_'):] if name.startswith('libvirt_') else None
        if name in LAB:
            entry['description'] = [LAB[name]]
        elif short in connection_docs:
            entry['description'] = _description(connection_docs[short]['description'])
        elif short in domain_docs:
            entry['description'] = _description(domain_docs[short]['description'])
        else:
            raise SystemExit('no description for %s: add it to tests/argument_specs.py' % name)
        if spec.get('options'):
            documented = (domain_docs.get(short) or {}).get('suboptions') or {}
            entry['options'] = dict((key, dict(type=sub['type'], required=sub.get('required', False),
                                               description=_description(documented[key]['description'])
                                               if key in documented else [key.capitalize() + '.']))
                                    for key, sub in spec['options'].items())
        options[name] = entry
    return options


def role_spec(role):
    short, note, own = ROLES[role]
    description = [short[0].upper() + short[1:] + '.']
    options = dict(own)
    if note is None:
        options.update(setting_options())
    else:
        description.append(note)
    return dict(argument_specs=dict(main=dict(short_description=short, description=description,
                                              author=['vagrantless developers (@vagrantless)'],
                                              options=options)))


class IndentedDumper(yaml.SafeDumper):  # pylint: disable=too-many-ancestors
    """Lists indented under their key, as yamllint wants them."""

    def increase_indent(self, flow=False, indentless=False):
        return super(IndentedDumper, self).increase_indent(flow, False)


def render(role):
    return '---\n# Written by tests/argument_specs.py from plugins/module_utils/machine_options.py: do not edit.\n' + \
        yaml.dump(role_spec(role), Dumper=IndentedDumper, sort_keys=True, width=100, default_flow_style=False)


def main():
    return generated.refresh(__doc__, dict((os.path.join(ROOT, 'roles', role, 'meta', 'argument_specs.yml'), render(role))
                                           for role in ROLES), 'tests/argument_specs.py')


if __name__ == '__main__':
    sys.exit(main())
