# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A machine: its settings (``machine_options``), checked and turned into what each module of
the ``up`` sequence takes: volumes (``machine_storage``), networks with the machine's DHCP
reservations and forwarded ports (``machine_networks``), the domain, synced folders and
provisioners (``machine_guest``). Pure computation: nothing here talks to libvirt.

Names and addresses that a later run must find again are derived, never random: the domain
name from the lab and the host, the MACs from the domain name."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import hashlib
import json
import os
import re

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.six.moves.urllib.parse import urlsplit

from ansible_collections.vagrantless.libvirt.plugins.module_utils import (
    connection, domain_options, domain_xml, jump, machine_guest, machine_networks, machine_options,
    machine_storage, vagrant_box, validate)

# An installed Vagrant's insecure private key (its packages', Debian's, Fedora's), the key a
# Vagrant box trusts until `up` inserts the machine's own.
VAGRANT_INSTALLED_KEYS = ('/opt/vagrant/embedded/gems/gems/vagrant-*/keys/vagrant',
                          '/opt/vagrant/embedded/gems/*/gems/vagrant-*/keys/vagrant',
                          '/usr/share/rubygems-integration/all/gems/vagrant-*/keys/vagrant',
                          '/usr/share/vagrant/gems/gems/vagrant-*/keys/vagrant')

# libvirt_domain options the role derives, and the settings they come from.
DERIVED_FROM = dict(interfaces='vm_networks', disks='libvirt_storage', cdroms='libvirt_storage',
                    name='libvirt_default_prefix + inventory_hostname',
                    filesystems='libvirt_filesystems or vm_synced_folders')


class Machine(object):
    """One machine's settings, checked, and the module arguments of its up sequence."""

    def __init__(self, host, variables, hypervisor=None):
        """``hypervisor``: the connection variables of the inventory host ``libvirt_host`` names
        (``ansible_host``, ``ansible_port``, ...), how the controller reaches it."""
        self.host = host
        self.hypervisor_vars = hypervisor or {}
        self.settings = machine_options.MachineSettings(host, variables)
        self.lab = self._get('vagrantless_lab') or os.path.basename(
            (self._get('vagrantless_project_dir') or variables.get('inventory_dir') or 'default').rstrip('/'))
        self.project_dir = self._get('vagrantless_project_dir') or variables.get('inventory_dir') or os.getcwd()
        self.name = self._domain_name()
        # a per-user libvirt (qemu:///session): no root anywhere, so no libvirt network either
        self.session = connection.is_session(self.connection())
        self._networks = machine_networks.MachineNetworks(self.settings, self.name, self.lab, self.session)

    def _get(self, name):
        return self.settings.get(name)

    def _domain_name(self):
        prefix = self._get('libvirt_default_prefix')
        if prefix is None:
            prefix = self.settings.checked('vagrantless_lab', validate.name, self.lab) + '_'
        name = prefix + self.host
        if self._get('libvirt_random_hostname'):
            # vagrant-libvirt appends a random suffix so two projects never clash; a digest of
            # the project's path does that and is found again by the next run
            name += '_' + hashlib.sha256(os.path.abspath(self.project_dir).encode('utf-8')).hexdigest()[:8]
        return self.settings.checked('libvirt_default_prefix + inventory_hostname', validate.name, name)

    # -- pieces ----------------------------------------------------------------------------
    def connection(self):
        """The modules' connection options (the password stays a variable of its own: never in a fact)."""
        options = dict((name, self._get('libvirt_' + name)) for name in machine_options.CONNECTION_OPTIONS
                       if self._get('libvirt_' + name) is not None and name != 'password')
        if self._get('libvirt_connect_via_ssh'):
            options['host'] = self._get('libvirt_host')
        return options

    def _controller_uri(self):
        """The libvirt URI the controller opens itself (``libvirt_uri``, or the one
        ``libvirt_connect_via_ssh`` builds), or None when libvirt work is delegated to ``libvirt_host``."""
        if self._get('libvirt_uri') or self._get('libvirt_connect_via_ssh'):
            return self.settings.checked(lambda inner: 'libvirt_' + inner, connection.build_uri, self.connection())
        return None

    def delegate(self):
        """Where libvirt work runs: the controller when it reaches libvirt through a URI of its own,
        else the hypervisor host (``localhost`` by default)."""
        return 'localhost' if self._controller_uri() else self._get('libvirt_host')

    def hypervisor_name(self):
        """The host the machine lives on, as the user names it: the URI's host (``localhost`` for a
        local URI), else the inventory host ``libvirt_host``."""
        uri = self._controller_uri()
        return (urlsplit(uri).hostname or 'localhost') if uri else self._get('libvirt_host')

    def jump(self):
        """How the controller reaches the guest: through the hypervisor when that is another host
        (the URI's with an ssh transport, else the inventory host ``libvirt_host``), unless
        ``vagrantless_ssh_jump`` is off; ``libvirt_proxy_command`` replaces the ProxyCommand."""
        if not self._get('vagrantless_ssh_jump'):
            return None
        uri = self._controller_uri()
        hop = jump.from_uri(uri) if uri else jump.from_inventory(self._get('libvirt_host'), self.hypervisor_vars)
        return jump.guest_jump(hop, self._get('libvirt_proxy_command'))

    def box(self):
        if not self._get('vm_box'):
            return None
        # Vagrant runs on the controller: its VAGRANT_SERVER_URL wins, wherever the box is added
        return dict(name=self._get('vm_box'), version=self._get('vm_box_version'), src=self._get('vm_box_url'),
                    checksum=self._get('vm_box_download_checksum'),
                    checksum_type=self._get('vm_box_download_checksum_type'),
                    server_url=os.environ.get('VAGRANT_SERVER_URL') or self._get('vm_box_server_url'),
                    check_update=self._get('vm_box_check_update'))

    def _check_later_steps(self, config):
        """What every step of ``up`` will check, checked now with the same code, so that a bad
        setting fails here, before the pool, the box or anything else is touched."""
        self.settings.checked(lambda inner: 'libvirt_' + inner, connection.system_uri, dict(config['connection']))
        self.settings.checked('libvirt_storage_pool_name', validate.name, config['pool']['name'])
        if config['pool']['path'] is not None:
            self.settings.checked('libvirt_storage_pool_path', validate.absolute_path, config['pool']['path'])
        if config['box']:
            self.settings.checked('vm_box', validate.box_name, config['box']['name'])
            if config['box']['version']:
                self.settings.checked('vm_box_version', vagrant_box.parse_constraint, config['box']['version'])
            self.settings.text('vm_box_url', config['box']['src'])
            if config['box']['server_url'] is not None:
                self.settings.checked('VAGRANT_SERVER_URL' if os.environ.get('VAGRANT_SERVER_URL') else 'vm_box_server_url',
                                      vagrant_box.server_url, config['box']['server_url'])
            self.settings.text('vm_box_download_checksum', config['box']['checksum'])
        # the machine's disks on the box's volumes: <domain>.img, then <domain>_<N>.img
        self.settings.checked('libvirt_default_prefix + inventory_hostname', validate.name, self.name + '_9.img')
        if self._get('libvirt_machine_virtual_size') is not None and self._get('libvirt_machine_virtual_size') < 1:
            self.settings.fail('libvirt_machine_virtual_size', self._get('libvirt_machine_virtual_size'),
                               'a number of GiB greater than 0')
        self._networks.check(config['networks'])
        self._check_domain(config['domain'])
        self.settings.checked('ssh_username', connection.user_name, config['ssh']['user'])
        if not 0 < config['ssh']['port'] < 65536:
            self.settings.fail('ssh_port', config['ssh']['port'], 'a port number from 1 to 65535')
        key = self._get('ssh_private_key_path')
        if key is not None and ('"' in key or connection.CONTROL_CHARACTERS.search(key)):
            self.settings.fail('ssh_private_key_path', key, 'a path without double quotes or control characters')
        hostname = self._get('vm_hostname')
        if hostname is not None and not connection.is_hostname(hostname):
            self.settings.fail('vm_hostname', hostname, connection.HOSTNAME_ALLOWED.replace(' or an IP address', ''))
        for name, least in (('vm_boot_timeout', 1), ('libvirt_ip_address_timeout', 0),
                            ('vm_graceful_halt_timeout', 0)):
            if self._get(name) < least:
                self.settings.fail(name, self._get(name), '%d or more seconds' % least)

    def _check_domain(self, args):
        """libvirt_domain's own checks on the options the role will give it."""
        given = dict(args, name=self.name, state='running')
        if self._get('libvirt_graphics_passwd') is not None:  # kept out of the fact, checked all the same
            given['graphics_passwd'] = self._get('libvirt_graphics_passwd')
        result = ArgumentSpecValidator(domain_options.argument_spec()).validate(given)
        if result.error_messages:
            message = result.error_messages[0]
            key = next((key for key in sorted(given, key=len, reverse=True) if "'%s'" % key in message
                        or message.startswith(key)), None)
            value = '********' if key and 'passw' in key else given.get(key)
            self.settings.fail(_domain_option(key) if key else 'libvirt_<domain options>', value, message)
        spec = self.settings.checked(_domain_option, domain_xml.DomainSpec, result.validated_parameters)
        paths = dict((index, disk.get('path') or '/var/lib/libvirt/images/%s' % disk.get('volume'))
                     for index, disk in enumerate(spec.params.get('disks') or []))
        self.settings.checked(_domain_option, spec.desired, paths)

    def _domain(self, interfaces, cdroms, folders):
        # a secret (graphics_passwd) stays out: the role passes its variable, never a fact
        args = dict((option.name, self._get(variable))
                    for variable, option in machine_options.domain_settings().items()
                    if self._get(variable) is not None and not option.no_log)
        filesystems = [dict(source=f['src'], target=f['tag'], driver=f['type'], accessmode=f['accessmode'],
                            readonly=f['readonly']) for f in folders if f['type'] in ('9p', 'virtiofs')]
        if filesystems:
            args['filesystems'] = list(args.get('filesystems') or []) + filesystems
        if cdroms:
            args['cdroms'] = cdroms
        args['interfaces'] = interfaces
        if not self.box():
            args.setdefault('boot', ['network', 'hd'])
        return args

    def config(self):
        """Everything the verb roles need, as one dict (the ``vagrantless_machine`` fact)."""
        networks, interfaces, ports = self._networks.build()
        disks, cdroms = machine_storage.volumes(self.settings, self.name)
        folders = machine_guest.synced_folders(self.settings, self.project_dir)
        box = self.box()
        ssh_key = self._get('ssh_private_key_path')
        state_root = os.path.expanduser(self._get('vagrantless_state_dir'))
        state_dir = os.path.join(state_root, 'machines', self.name)
        # the key a packaged box ships (vagrant_private_key), kept here by up once it has seen one;
        # ssh_private_key_path wins over it, as a project's Vagrantfile wins over the box's
        packaged_key = None if ssh_key else os.path.join(state_dir, 'box_private_key')
        key_source = None
        if not ssh_key:
            ssh_key, key_source = vagrant_insecure_key(state_root)
        if ssh_key and self._get('ssh_insert_key'):
            inserted_key = os.path.join(state_dir, 'private_key')
        elif packaged_key and os.path.isfile(packaged_key):
            inserted_key, ssh_key, key_source = None, packaged_key, None  # no key of its own: the box's is its key
        else:
            inserted_key = None
        reservations = ['%s %s' % (net['name'], host['mac']) for net in networks for host in net['dhcp_hosts']]
        config = dict(
            name=self.name, machine=self.host, lab=self.lab, hypervisor=self.delegate(),
            hypervisor_name=self.hypervisor_name(),
            connection=self.connection(), pool=dict(name=self._get('libvirt_storage_pool_name'),
                                                    path=self._get('libvirt_storage_pool_path')),
            box=box, disk_device=self._get('libvirt_disk_device') or 'vda',
            machine_virtual_size=('%dG' % self._get('libvirt_machine_virtual_size')
                                  if self._get('libvirt_machine_virtual_size') else None),
            disks=disks, networks=networks, domain=self._domain(interfaces, cdroms, folders),
            reservations=reservations, guest_addresses=self._networks.guest_addresses, session=self.session,
            links=self._networks.links,
            owned_networks=[n['name'] for n in networks if n['owned']],
            synced_folders=folders, forwarded_ports=ports,
            provisioners=machine_guest.provisioners(self.settings, self.project_dir),
            hostname=self._get('vm_hostname'), boot_timeout=self._get('vm_boot_timeout'),
            ip_address_timeout=self._get('libvirt_ip_address_timeout'),
            graceful_halt_timeout=self._get('vm_graceful_halt_timeout'),
            shutdown_mode=self._get('libvirt_shutdown_mode'),
            suspend_mode=self._get('libvirt_suspend_mode'), management_network=(
                self._get('libvirt_management_network_name') if self._get('libvirt_mgmt_attach') and not self.session
                else None),
            ssh=dict(user=self._get('ssh_username'), port=self._get('ssh_port'), box_key=ssh_key,
                     box_key_source=key_source, packaged_key=packaged_key,
                     key=inserted_key or ssh_key, insert_key=bool(inserted_key), jump=self.jump()),
            state_dir=state_dir, tunnel_dir=os.path.join(state_root, 'tunnels'), project_dir=self.project_dir,
            wait_for_ssh=bool(box),
        )
        self._check_later_steps(config)
        # what `up` last brought this machine up with: an unchanged digest on the same boot is a machine up
        # (a graphics password is never in it: a machine with one always takes the full sequence)
        config['digest'] = None if self._get('libvirt_graphics_passwd') else hashlib.sha256(
            json.dumps(config, sort_keys=True).encode('utf-8')).hexdigest()[:16]
        # whether the machine may have forwarded ports' tunnels to close (the verbs skip that call
        # when not): seen in the tunnels' records when they run on this controller, else assumed
        records = os.path.join(glob.escape(config['tunnel_dir']), glob.escape(self.name), '*.json')
        config['tunnels_open'] = config['hypervisor'] != 'localhost' or bool(glob.glob(records))
        return config


def _domain_option(inner):
    head = re.split(r'[.\[]', inner, maxsplit=1)[0]
    if head in DERIVED_FROM:
        return '%s (libvirt_domain %s)' % (DERIVED_FROM[head], inner)
    return 'libvirt_' + inner


def vagrant_insecure_key(state_root, environ=None):
    """The key Vagrant logs in to a box with when ``config.ssh.private_key_path`` is unset, as
    (path, source): the copy in Vagrant's home (``VAGRANT_HOME``, ``~/.vagrant.d``), private
    already, with no source; else ``<state_root>/insecure_private_key`` with an installed
    Vagrant's key as its source (``up`` copies it there, readable by its owner only, since ssh
    refuses a key others can read); (None, None) with no Vagrant: ssh's own keys are used."""
    environ = os.environ if environ is None else environ
    home = environ.get('VAGRANT_HOME') or os.path.expanduser('~/.vagrant.d')
    own = os.path.join(home, 'insecure_private_key')
    if os.path.isfile(own):
        return own, None
    for pattern in VAGRANT_INSTALLED_KEYS:
        found = sorted(path for path in glob.glob(pattern) if os.path.isfile(path))
        if found:
            return os.path.join(state_root, 'insecure_private_key'), found[-1]
    return None, None
