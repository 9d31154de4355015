# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""machine_settings: the host's Vagrantfile-named variables, checked on the controller and
turned into the ``vagrantless_machine`` fact the verb roles read."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible import constants as C
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.vagrantless.libvirt.plugins.module_utils import machine, machine_options
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

# The hypervisor's connection variables the jump to its guests is built from.
CONNECTION_VARS = ('ansible_connection', 'ansible_host', 'ansible_port', 'ansible_ssh_port', 'ansible_user',
                   'ansible_ssh_user', 'ansible_ssh_private_key_file', 'ansible_private_key_file',
                   'ansible_ssh_common_args', 'ansible_host_key_checking', 'ansible_ssh_host_key_checking')


class ActionModule(ActionBase):
    """Runs on the controller only: no module is sent anywhere."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset()
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        known = machine_options.argument_spec()
        variables = dict((name, None) for name in task_vars)  # every name, for the typo check
        for name in known:
            if name in task_vars:
                variables[name] = self._templar.template(task_vars[name])
        variables['inventory_dir'] = task_vars.get('inventory_dir')
        host = task_vars.get('inventory_hostname')
        try:
            settings = machine.Machine(host, variables, self._hypervisor_vars(task_vars, variables)).config()
        except machine_options.SettingsError as error:
            result.update(failed=True, msg=str(error), problems=error.problems)
            return result
        except ValidationError as error:
            result.update(failed=True, msg=str(error), option=error.option)
            return result
        result.update(changed=False, ansible_facts=dict(vagrantless_machine=settings))
        return result

    def _hypervisor_vars(self, task_vars, variables):
        """How the controller reaches the inventory host ``libvirt_host`` names: its connection
        variables, templated, and whether host keys are checked (as Ansible would for it)."""
        name = variables.get('libvirt_host') or 'localhost'
        hostvars = task_vars.get('hostvars') or {}
        if name not in hostvars:
            return dict(ansible_host_key_checking=C.HOST_KEY_CHECKING)
        found = hostvars[name]
        result = dict((key, self._templar.template(found[key])) for key in CONNECTION_VARS if key in found)
        checking = result.pop('ansible_ssh_host_key_checking', result.get('ansible_host_key_checking'))
        result['ansible_host_key_checking'] = boolean(C.HOST_KEY_CHECKING if checking is None else checking,
                                                      strict=False)
        return result
