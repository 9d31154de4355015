#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: libvirt_pool
short_description: Manage a libvirt storage pool the way vagrant-libvirt uses it
version_added: 0.1.0
description:
  - Defines, builds, starts, stops and removes one libvirt storage pool of type C(dir),
    the pool that holds box volumes and machine disks (vagrant-libvirt's
    C(storage_pool_name)).
  - The definition is merged into what libvirt already has, so libvirt's own additions
    (UUID, permissions) are kept and a second run reports no change.
  - Supports check mode and diff mode; the diff shows the pool XML and its runtime state.
options:
  name:
    description:
      - The pool name (vagrant-libvirt's C(storage_pool_name)).
    type: str
    required: true
  type:
    description:
      - The pool type. Only directory pools are managed.
    type: str
    default: dir
    choices: [dir]
  path:
    description:
      - The absolute directory of the pool.
      - Defaults to C(/var/lib/libvirt/images) for system libvirt and
        C(~/.local/share/libvirt/images) with O(qemu_use_session=true).
      - Changing the path of an active pool stops it, redefines it and starts it again.
    type: str
  state:
    description:
      - C(present) defines, builds (creates the directory) and starts the pool.
      - C(inactive) defines the pool and stops it if it runs.
      - C(absent) stops and undefines the pool. It is refused while the pool holds volumes,
        unless O(delete_volumes=true). The directory itself is left in place.
    type: str
    default: present
    choices: [present, inactive, absent]
  autostart:
    description:
      - Whether libvirtd starts the pool when it starts.
      - Unset keeps the current setting of an existing pool and enables it on a new one.
    type: bool
  delete_volumes:
    description:
      - With O(state=absent), delete the volumes the pool holds instead of refusing.
    type: bool
    default: false
extends_documentation_fragment:
  - vagrantless.libvirt.connection
  - vagrantless.libvirt.attributes
attributes:
  diff_mode:
    description: Shows the pool XML and its runtime state before and after.
    support: full
notes:
  - Part of the C(group/vagrantless.libvirt.libvirt) action group for C(module_defaults).
author:
  - vagrantless developers (@vagrantless)
'''

EXAMPLES = r'''
- name: The default pool, as vagrant-libvirt expects it
  vagrantless.libvirt.libvirt_pool:
    name: default

- name: A pool for a lab on a bigger disk, on a remote hypervisor
  vagrantless.libvirt.libvirt_pool:
    name: lab
    path: /srv/libvirt/lab
    uri: qemu+ssh://admin@hv1/system

- name: Remove a pool and the volumes it holds
  vagrantless.libvirt.libvirt_pool:
    name: scratch
    state: absent
    delete_volumes: true
'''

RETURN = r'''
pool:
  description: The pool after the run (empty when absent).
  returned: always
  type: dict
  contains:
    name:
      description: The pool name.
      type: str
      sample: default
    uuid:
      description: The pool UUID.
      type: str
      sample: 5ad5e3a6-2f8c-4a57-b6c1-4f0c1f6ad1b2
    type:
      description: The pool type.
      type: str
      sample: dir
    path:
      description: The pool directory.
      type: str
      sample: /var/lib/libvirt/images
    active:
      description: Whether the pool runs.
      type: bool
      sample: true
    autostart:
      description: Whether libvirtd starts the pool at its start.
      type: bool
      sample: true
    capacity:
      description: Bytes in the file system holding the pool (when active).
      type: int
      sample: 270553112576
    allocation:
      description: Bytes used (when active).
      type: int
      sample: 23622320128
    available:
      description: Bytes free (when active).
      type: int
      sample: 246930792448
    volumes:
      description: Names of the volumes in the pool (when active).
      type: list
      elements: str
      sample: [vagrantless-VAGRANTSLASH-tiny_vagrant_box_image_0_box.img]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import run_module
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import connection_argument_spec
from ansible_collections.vagrantless.libvirt.plugins.module_utils.pool import POOL_TYPES, PoolManager


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(
            name=dict(type='str', required=True),
            type=dict(type='str', default='dir', choices=list(POOL_TYPES)),
            path=dict(type='str'),
            state=dict(type='str', default='present', choices=['present', 'inactive', 'absent']),
            autostart=dict(type='bool'),
            delete_volumes=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    run_module(module, PoolManager, 'storage pool %s' % module.params['name'])


if __name__ == '__main__':
    main()
