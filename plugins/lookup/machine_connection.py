# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: machine_connection
short_description: The libvirt connection options of the current host's machine, password included
version_added: 0.1.0
description:
  - The options the C(group/vagrantless.libvirt.libvirt) action group takes to reach the machine's
    hypervisor - C(vagrantless_machine.connection), set by M(vagrantless.libvirt.machine_settings),
    with C(libvirt_password) added when the host defines it.
  - The password is read from the host's variable at the moment the task runs and never kept in a
    fact; the modules take it as a C(no_log) option.
  - The verb roles set it once per block with C(module_defaults).
options: {}
author:
  - vagrantless developers (@vagrantless)
'''

EXAMPLES = r'''
- name: Check the machine's settings
  vagrantless.libvirt.machine_settings:

- name: On the machine's hypervisor
  delegate_to: "{{ vagrantless_machine.hypervisor }}"
  module_defaults:
    group/vagrantless.libvirt.libvirt: "{{ lookup('vagrantless.libvirt.machine_connection') }}"
  block:
    - name: The domain's state
      vagrantless.libvirt.libvirt_domain:
        name: "{{ vagrantless_machine.name }}"
        only_existing: true
      check_mode: true
'''

RETURN = r'''
_raw:
  description: One mapping of connection options (C(uri), C(driver), C(username), C(password), ...).
  type: list
  elements: dict
'''

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

MACHINE = 'vagrantless_machine'
PASSWORD = 'libvirt_password'


def with_password(connection, password_set, password=None):
    """The machine's connection options, with the password when the host sets one."""
    options = dict(connection)
    if password_set:
        options['password'] = password
    return options


class LookupModule(LookupBase):
    """Takes no terms: everything comes from the host's variables."""

    def run(self, terms, variables=None, **kwargs):
        variables = variables or {}
        if terms:
            raise AnsibleLookupError('machine_connection takes no terms, got %r' % (terms,))
        if MACHINE not in variables:
            raise AnsibleLookupError('machine_connection: %s is not set; run vagrantless.libvirt.machine_settings '
                                     'first' % MACHINE)
        machine = self._templar.template(variables[MACHINE])
        password_set = PASSWORD in variables
        password = self._templar.template(variables[PASSWORD]) if password_set else None
        return [with_password(machine['connection'], password_set, password)]
