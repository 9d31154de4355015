#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: libvirt_machine_facts
short_description: Whether the libvirt objects a machine's domain stands on are in place
version_added: 0.1.0
description:
  - Reads a domain, the record of the machine that M(vagrantless.libvirt.libvirt_domain)'s
    O(vagrantless.libvirt.libvirt_domain#module:metadata) keeps in it (the pool, volumes and DHCP
    reservations the machine owns), and each object it stands on - the pool (active), each volume
    of the record and the box image behind it, the network of each interface (active) and each
    reservation in its network - in one read over one connection.
  - The up role's plan - a machine last brought up with the settings it has now, whose objects
    are all in place, needs only its domain started, and its pool, box, disk and network steps are
    skipped.
  - With O(networks), which of those networks are the lab's (RV(lab_networks)) - those the up role
    lists in the machine's record, and the C(destroy) role removes once unused.
  - A record another tool wrote is read as untrusted - a name it holds is only looked up, and one
    that is not there is an object missing, never a failure.
  - Never reports a change.
options:
  domain:
    description: The domain, by name or UUID.
    type: str
    required: true
  networks:
    description:
      - Names of networks the lab makes when they are not there, for RV(lab_networks).
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - vagrantless.libvirt.connection
  - vagrantless.libvirt.attributes.read_only
author:
  - vagrantless developers (@vagrantless)
'''

EXAMPLES = r'''
- name: What a machine stands on
  vagrantless.libvirt.libvirt_machine_facts:
    domain: lab_web
  register: web

- name: Say what is gone
  ansible.builtin.debug:
    msg: "{{ web.missing | join(', ') }}"
  when: web.exists and not web.in_place
'''

RETURN = r'''
exists:
  description: Whether the domain is defined.
  returned: always
  type: bool
domain:
  description:
    - The domain - C(name), C(uuid), C(id) (new at every start) and C(state) (C(running), C(paused),
      C(saved), C(stopped)); empty when it is not defined.
  returned: always
  type: dict
  sample: {name: lab_web, uuid: 4f1e8c2a-7d1b-4c4e-9a7e-2b9f5c0d1e23, id: -1, state: stopped}
record:
  description:
    - The machine's record in the domain (empty when it is not defined); C(volumes), C(networks)
      and C(reservations) are always lists.
  returned: always
  type: dict
  sample: {lab: lab, machine: web, pool: default, volumes: [lab_web.img], networks: [lab0],
           reservations: ["lab0 52:54:00:5a:1c:07"], ssh_user: vagrant, ssh_port: "22"}
missing:
  description:
    - What is not in place, each said as its kind and name (C(pool default), C(volume default/lab_web.img),
      C(backing image /var/lib/libvirt/images/box.img of volume default/lab_web.img), C(network lab0),
      C(network lab0 (not active)), C(reservation lab0 52:54:00:5a:1c:07), C(the record of domain lab_web)).
    - Empty when the domain is not defined.
  returned: always
  type: list
  elements: str
in_place:
  description: The domain is defined and nothing is missing.
  returned: always
  type: bool
lab_networks:
  description:
    - Of O(networks), those that are the lab's - not defined yet (its up is about to make them), or
      listed by a machine's record (an up of ours made them), or holding a DHCP host with no domain on
      them (another run of ours made them a moment ago). A network found there before - with another's
      domain on it, or idle and untouched, such as libvirt's C(default) or a user's own - is not, and
      C(destroy) leaves it, as vagrant-libvirt leaves a network it did not create.
  returned: always
  type: list
  elements: str
  sample: [vagrant-libvirt, lab-10.20.0.0-24]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vagrantless.libvirt.plugins.module_utils import leases, machine_objects
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import failing_cleanly
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import (
    connect, connection_argument_spec)
from ansible_collections.vagrantless.libvirt.plugins.module_utils.domain import run_state


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(
            domain=dict(type='str', required=True),
            networks=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )
    with failing_cleanly(module, 'the objects of domain %s' % module.params['domain']):
        conn = connect(module)
        owned = machine_objects.lab_networks(conn, module.params['networks'])
        domain = leases.find_domain(conn, module.params['domain'])
        if domain is None:
            module.exit_json(changed=False, exists=False, domain={}, record={}, missing=[], in_place=False,
                             lab_networks=owned)
        record, missing = machine_objects.survey(conn, domain)
        module.exit_json(changed=False, exists=True, record=record, missing=missing, in_place=not missing,
                         lab_networks=owned, domain=dict(name=domain.name(), uuid=domain.UUIDString(),
                                                         id=domain.ID(), state=run_state(domain)))


if __name__ == '__main__':
    main()
