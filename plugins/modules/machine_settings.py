#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: machine_settings
short_description: Check a machine's Vagrantfile-named variables and derive its up sequence
version_added: 0.1.0
description:
  - Reads the inventory host's variables named after a Vagrantfile's settings
    (C(config.vm.X) as C(vm_X), C(libvirt.X) as C(libvirt_X), C(config.ssh.X) as C(ssh_X)), checks
    them and sets the fact C(vagrantless_machine) that the verb roles read - the domain name, the
    volumes, the networks with the machine's DHCP reservations, the domain options, synced folders,
    forwarded ports and provisioners.
  - Every variable with the prefix C(libvirt_) or C(vagrantless_) must be a setting, and a C(vm_) or
    C(ssh_) variable close to a setting's name is taken for a typo; all problems are reported at once,
    each naming the host, the variable and the value, before anything is touched.
  - MAC addresses are derived from the domain name, so DHCP reservations (and so the machine's
    addresses) are known before it boots, and the next run finds the same ones.
  - Secrets (C(libvirt_password), C(libvirt_graphics_passwd)) are never put in the fact.
  - Runs on the controller; it takes no options. docs/migration.md lists every variable.
options: {}
extends_documentation_fragment:
  - vagrantless.libvirt.attributes.read_only
  - vagrantless.libvirt.attributes.controller
author:
  - vagrantless developers (@vagrantless)
'''

EXAMPLES = r'''
- name: Check the machine's variables
  vagrantless.libvirt.machine_settings:

- name: The domain it will be
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }} is domain {{ vagrantless_machine.name }}"
'''

RETURN = r'''
ansible_facts:
  description: The fact set.
  returned: success
  type: dict
  contains:
    vagrantless_machine:
      description: The machine's derived settings (name, lab, connection, pool, box, disks, networks,
        domain, reservations, synced_folders, forwarded_ports, provisioners, ssh, state_dir...).
      type: dict
      sample: {name: demo_web, machine: web, lab: demo, hypervisor: localhost}
problems:
  description: Every problem found in the variables.
  returned: failure
  type: list
  elements: str
  sample: ["host web: libvirt_memroy is not a setting of vagrantless.libvirt; did you mean libvirt_memory?"]
'''
