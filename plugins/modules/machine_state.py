#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: machine_state
short_description: A machine's directory on the controller and the marks the verbs keep there
version_added: 0.1.0
description:
  - The controller's record of a machine (what C(.vagrant/machines/NAME) is to Vagrant), in
    C(vagrantless_machine.state_dir) - the boot and settings C(up) last left, the domain that was
    provisioned, the key inserted into the guest.
  - Written and removed on the controller itself, without sending a module; each mark is replaced
    atomically and only when its content changes.
options:
  path:
    description: The machine's directory, created with mode C(0700).
    type: path
    required: true
  state:
    description: C(present) creates the directory and writes O(marks); C(absent) removes the directory with all it holds.
    type: str
    default: present
    choices: [present, absent]
  marks:
    description:
      - Files to keep in the directory, each a plain file name and its content (written with mode C(0600)).
      - The records the verbs keep may be given as mappings of their fields, written as one line of the
        fields in their order - C(up) (C(uuid), C(id), C(digest)), the boot C(up) last left and the digest
        of the settings it was up with; C(provisioned) (C(uuid)), the domain that was provisioned.
      - A mark given as C(null) is removed.
    type: dict
    default: {}
  read:
    description:
      - Return the records the directory holds as RV(marks), parsed - after the lock is taken with
        O(lock=acquired), after the marks are written otherwise.
    type: bool
    default: false
  lock:
    description:
      - C(acquired) takes the machine's lock (the file C(lock) in O(path)) for this C(ansible-playbook)
        run, waiting while another live run holds it, as Vagrant lets one action at a time run on a
        machine; a lock whose run is gone (killed) is taken over. C(released) gives it back.
      - With O(lock), only the lock is handled (O(state) and O(marks) are not; O(read) is). Check mode takes no lock.
    type: str
    choices: [acquired, released]
  lock_timeout:
    description: Seconds to wait for another run's lock before failing with the holder's process id.
    type: int
    default: 900
extends_documentation_fragment:
  - vagrantless.libvirt.attributes
  - vagrantless.libvirt.attributes.no_diff
  - vagrantless.libvirt.attributes.controller
author:
  - vagrantless developers (@vagrantless)
'''

EXAMPLES = r'''
- name: Remember the boot a machine is up with
  vagrantless.libvirt.machine_state:
    path: "{{ vagrantless_machine.state_dir }}"
    marks:
      up:
        uuid: "{{ up_domain.domain.uuid }}"
        id: "{{ up_domain.domain.id }}"
        digest: "{{ vagrantless_machine.digest }}"

- name: One verb at a time on the machine, and what up last left
  vagrantless.libvirt.machine_state:
    path: "{{ vagrantless_machine.state_dir }}"
    lock: acquired
    read: true
  register: left

- name: Whether it is the same boot
  ansible.builtin.debug:
    msg: "{{ left.marks.up is not none and left.marks.up.uuid == up_domain.domain.uuid }}"

- name: Forget the machine
  vagrantless.libvirt.machine_state:
    path: "{{ vagrantless_machine.state_dir }}"
    state: absent
'''

RETURN = r'''
marks:
  description: The records the directory holds (C(null) for one it does not hold, or holds in another form).
  returned: with O(read)
  type: dict
  contains:
    up:
      description: The boot C(up) last left - the domain's C(uuid) and C(id) (a number) - and the C(digest) of the settings.
      type: dict
      sample: {uuid: 4f1e8c2a-7d1b-4c4e-9a7e-2b9f5c0d1e23, id: 7, digest: 9c1d0e2f3a4b5c6d}
    provisioned:
      description: The domain that was provisioned, by C(uuid).
      type: dict
      sample: {uuid: 4f1e8c2a-7d1b-4c4e-9a7e-2b9f5c0d1e23}
path:
  description: The machine's directory, absolute.
  returned: always
  type: str
  sample: /home/me/project/.vagrantless/machines/demo_web
released:
  description: Whether this run's lock was given back (the lock is bookkeeping, never reported as a change).
  returned: with lock=released
  type: bool
  sample: true
waited:
  description: Seconds waited for another run's lock.
  returned: with lock=acquired
  type: float
  sample: 0.0
removed:
  description: The marks removed, given as C(null) (or that would be, in check mode).
  returned: with state present
  type: list
  elements: str
  sample: [provisioned]
written:
  description: The marks written (or that would be, in check mode).
  returned: with state present
  type: list
  elements: str
  sample: [up]
'''
