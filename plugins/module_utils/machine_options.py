# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A machine's settings: the inventory variables named after a Vagrantfile's (``config.vm.X``
-> ``vm_X``, ``libvirt.X`` -> ``libvirt_X``, ``config.ssh.X`` -> ``ssh_X``), their argument
spec (``argument_spec``), the typo check (``unknown_settings``), and ``MachineSettings``: one
machine's values checked against that spec, with the small checks that the parts of a
machine (``machine_networks``, ``machine_storage``, ``machine_guest``) share, each refusal
naming the host and the setting."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.vagrantless.libvirt.plugins.module_utils import connection, domain_options, validate
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import CONNECTION_ARGUMENT_SPEC
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

# The modules' connection options as libvirt_<option>, but host: libvirt_host is the hypervisor (the
# URI's host with connect_via_ssh, else where libvirt work runs).
CONNECTION_OPTIONS = dict((name, option) for name, option in CONNECTION_ARGUMENT_SPEC.items() if name != 'host')

# Everything else a machine or lab sets: variable -> argument spec entry.
LAB_OPTIONS = dict(
    vagrantless_lab=dict(type='str'),
    vagrantless_project_dir=dict(type='path'),
    vagrantless_state_dir=dict(type='path', default='~/.vagrantless'),
    vagrantless_ssh_jump=dict(type='bool', default=True),
    libvirt_host=dict(type='str', default='localhost'),
    libvirt_proxy_command=dict(type='str'),
    libvirt_storage_pool_name=dict(type='str', default='default'),
    libvirt_storage_pool_path=dict(type='path'),
    libvirt_management_network_name=dict(type='str', default='vagrant-libvirt'),
    libvirt_management_network_address=dict(type='str', default='192.168.121.0/24'),
    libvirt_management_network_mode=dict(type='str', default='nat',
                                         choices=['nat', 'route', 'none', 'veryisolated', 'open']),
    libvirt_management_network_guest_ipv6=dict(type='bool', default=True),
    libvirt_management_network_autostart=dict(type='bool', default=False),
    libvirt_management_network_mac=dict(type='str'),
    libvirt_management_network_pci_bus=dict(type='str'),
    libvirt_management_network_pci_slot=dict(type='str'),
    libvirt_management_network_domain=dict(type='str'),
    libvirt_management_network_mtu=dict(type='int'),
    libvirt_management_network_keep=dict(type='bool', default=False),
    libvirt_mgmt_attach=dict(type='bool', default=True),
    libvirt_default_prefix=dict(type='str'),
    libvirt_random_hostname=dict(type='bool', default=False),
    libvirt_suspend_mode=dict(type='str', default='pause', choices=['pause', 'managedsave']),
    libvirt_ip_address_timeout=dict(type='int', default=300),
    libvirt_machine_virtual_size=dict(type='int'),
    libvirt_storage=dict(type='list', elements='raw', default=[]),  # items checked one by one, named
    libvirt_shutdown_mode=dict(type='str', default='acpi', choices=['acpi', 'agent']),
    vm_box=dict(type='str'),
    vm_box_version=dict(type='str'),
    vm_box_url=dict(type='str'),
    vm_box_server_url=dict(type='str'),
    vm_box_check_update=dict(type='bool', default=True),
    vm_box_download_checksum=dict(type='str'),
    vm_box_download_checksum_type=dict(type='str', choices=['sha256', 'sha512', 'sha384', 'sha1', 'md5']),
    vm_hostname=dict(type='str'),
    vm_boot_timeout=dict(type='int', default=300),
    vm_graceful_halt_timeout=dict(type='int', default=60),
    vm_networks=dict(type='list', elements='raw', default=[]),  # items checked one by one, named
    vm_synced_folders=dict(type='list', elements='raw', default=[]),  # items checked one by one, named
    vm_provision=dict(type='list', elements='raw', default=[]),  # items checked one by one, named
    ssh_username=dict(type='str', default='vagrant'),
    ssh_private_key_path=dict(type='path'),
    ssh_insert_key=dict(type='bool', default=True),
    ssh_port=dict(type='int', default=22),
)
# Prefixes that are ours: a variable with one of them that is not an option is a typo.
OWN_PREFIXES = ('libvirt_', 'vagrantless_')
# Prefixes users also use for their own variables: only near misses are reported.
SHARED_PREFIXES = ('vm_', 'ssh_')
# Variables with our prefixes that are no settings: the fact of machine_settings and the host
# variables the leases inventory plugin sets.
NOT_SETTINGS = frozenset(['vagrantless_machine', 'vagrantless_lab', 'vagrantless_machine_name', 'libvirt_domain',
                          'libvirt_uuid', 'libvirt_state', 'libvirt_macs', 'libvirt_addresses'])


def domain_settings():
    """libvirt_domain's options a machine sets, by variable (``libvirt_<option>``); the
    declarations in domain_options say which (the role derives the others)."""
    return domain_options.OPTIONS.settings()


def argument_spec():
    """Every machine setting, as the variable users write."""
    spec = dict(LAB_OPTIONS)
    for name, entry in CONNECTION_OPTIONS.items():
        spec['libvirt_' + name] = dict(entry)
    for variable, option in domain_settings().items():
        # vagrant-libvirt's defaults apply in libvirt_domain, for new domains
        spec[variable] = option.argument_spec(with_default=False)
    return spec


class SettingsError(ValueError):
    """Machine settings that are wrong: every problem found, each naming host, variable and value."""

    def __init__(self, problems):
        self.problems = problems
        super(SettingsError, self).__init__('; '.join(problems))


def unknown_settings(host, names, known):
    """Errors for variables that look like settings but are none (typos)."""
    errors = []
    for name in sorted(names):
        if name in known or name in NOT_SETTINGS or name.startswith('_'):
            continue
        near = difflib.get_close_matches(name, list(known), n=1, cutoff=0.8)
        if name.startswith(OWN_PREFIXES) or (name.startswith(SHARED_PREFIXES) and near):
            hint = ('; did you mean %s?' % near[0]) if near else ''
            errors.append('host %s: %s is not a setting of vagrantless.libvirt%s' % (host, name, hint))
    return errors


def strip_libvirt_prefix(options):
    """A Vagrantfile's ``libvirt__network_name`` is ``network_name`` here too."""
    return dict((key[len('libvirt__'):] if key.startswith('libvirt__') else key, value)
                for key, value in (options or {}).items())


class MachineSettings(object):
    """One machine's settings checked against ``argument_spec()`` (every problem at once, as a
    ``SettingsError``), and the checks its parts share: each refusal is a ``ValidationError``
    naming the host and the setting (``host web: vm_networks[1].ip``)."""

    def __init__(self, host, variables):
        self.host = host
        validate.name(host, 'inventory_hostname')
        spec = argument_spec()
        errors = unknown_settings(host, variables.keys(), spec)
        given = dict((name, variables[name]) for name in spec if name in variables
                     and variables[name] is not None)
        result = ArgumentSpecValidator(spec).validate(given)
        for message in result.error_messages:
            named = [name for name in given if "'%s'" % name in message or message.startswith(name + ' ')]
            value = (' (given: %r)' % (given[named[0]],)) if named and 'passw' not in named[0] else ''
            errors.append('host %s: %s%s' % (host, message, value))
        if errors:
            raise SettingsError(errors)
        self.values = result.validated_parameters

    def get(self, name):
        return self.values.get(name)

    def fail(self, option, value, allowed):
        raise ValidationError('host %s: %s' % (self.host, option), value, allowed)

    def mapping(self, option, item):
        """A mapping (a list item of the settings), or a refusal naming it."""
        if not isinstance(item, dict):
            self.fail(option, item, 'a mapping of option names to values')
        return item

    def text(self, option, value, required=False):
        """A string without control characters (None when absent and not required)."""
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value or connection.CONTROL_CHARACTERS.search(value):
            self.fail(option, value, 'a non-empty string without control characters')
        return value

    def texts(self, option, value):
        """A list of such strings."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(option, value, 'a list of strings')
        return [self.text('%s[%d]' % (option, index), item, True) for index, item in enumerate(value)]

    def flag(self, option, value, default=False):
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(option, value, 'true or false')
        return value

    def checked(self, option, check, *args):
        """``check(*args)``, its refusal renamed to the setting: ``option``, or ``option(name)`` of
        the name the check gave (a function, for checks that name items: ``dhcp_start`` ->
        ``vm_networks[1].dhcp_start``)."""
        try:
            return check(*args)
        except ValidationError as error:
            inner = error.option
            raise ValidationError('host %s: %s' % (self.host, option(inner) if callable(option) else option),
                                  error.value, error.allowed)

    def ip(self, value, option):
        return self.checked(option, validate.ipv4, value, option)
