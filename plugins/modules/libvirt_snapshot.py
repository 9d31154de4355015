#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: libvirt_snapshot
short_description: Save, restore, list and delete a libvirt domain's snapshots, as vagrant snapshot does
version_added: 0.1.0
description:
  - What C(vagrant snapshot save), C(restore), C(list) and C(delete) do for a libvirt machine.
  - Snapshots are internal, kept inside the domain's qcow2 disks (the machine disk is a qcow2
    overlay on the box volume). A running or paused domain gets a full system snapshot, its
    memory and disks; a stopped domain a disk-only snapshot.
  - Every run returns the domain's snapshots as RV(snapshots), so a task with only O(domain)
    is C(vagrant snapshot list) and changes nothing.
  - Before anything changes, the module refuses a bad snapshot name, a domain that does not
    exist, a snapshot to revert to that does not exist, a domain with a saved state (managed
    save), and a writable disk that is not qcow2.
options:
  domain:
    description:
      - The domain (vagrant-libvirt's C(<project dir>_<machine>)).
      - It must exist, except with O(state=absent), where a missing domain has no snapshots to remove.
    type: str
    required: true
  name:
    description:
      - "The snapshot name, 1 to 100 letters, digits and C(_ . + : -), starting with a letter or digit,
        and not only digits (QEMU would take it for the ID of another internal snapshot)."
      - Required with O(state=reverted).
      - Without it, O(state=present) only lists the snapshots, and O(state=absent) removes B(all)
        of the domain's snapshots (what C(vagrant destroy) needs). An empty name is refused, never
        taken as "all".
    type: str
  description:
    description:
      - A description stored with a new snapshot.
      - Used only when O(state=present) creates the snapshot; an existing snapshot keeps its own.
    type: str
  state:
    description:
      - C(present) takes the snapshot O(name) if the domain has none of that name (C(vagrant snapshot
        save)). An existing snapshot is never taken again, so a second run reports no change.
        The new snapshot becomes the domain's current one.
      - C(absent) deletes the snapshot O(name) if it exists (C(vagrant snapshot delete)); its children
        are kept and move to its parent, which becomes current if the deleted one was. Without O(name),
        deletes every snapshot of the domain.
      - C(reverted) reverts the domain to the snapshot O(name) (C(vagrant snapshot restore)). Its disks,
        and for a full system snapshot its memory, go back to when the snapshot was taken, and the domain
        is left running, paused or stopped as it was then (see O(start)).
      - A revert is an action, not a state that can be checked. Even when O(name) is already the
        current snapshot, the domain may have changed since, so every run with C(reverted) reverts
        and reports C(changed), as C(vagrant snapshot restore) restores every time.
    type: str
    default: present
    choices: [present, absent, reverted]
  start:
    description:
      - With O(state=reverted), start (or resume) the domain after the revert when the snapshot leaves
        it stopped or paused, as C(vagrant snapshot restore) does unless given C(--no-start).
      - The default leaves the domain in the state the snapshot was taken in.
      - Refused with another O(state).
    type: bool
    default: false
extends_documentation_fragment:
  - vagrantless.libvirt.connection
  - vagrantless.libvirt.attributes
attributes:
  diff_mode:
    description:
      - Shows the snapshot list before and after (one line per snapshot, by name, with its state,
        parent and the current marker).
      - With O(state=reverted), also the domain state before and after and the snapshot reverted to.
    support: full
notes:
  - Part of the C(group/vagrantless.libvirt.libvirt) action group for C(module_defaults).
  - A failure while taking a snapshot deletes what this run made of it. A revert or a deletion
    cannot be undone.
  - In check mode the creation time of a snapshot not yet taken is returned as C(null).
  - Reverting to a full system snapshot brings back the guest's clock of that moment too;
    a guest without time synchronisation lags until it syncs.
author:
  - vagrantless developers (@vagrantless)
'''

EXAMPLES = r'''
- name: vagrant snapshot save web before-upgrade
  vagrantless.libvirt.libvirt_snapshot:
    domain: lab_web
    name: before-upgrade
    description: Before the database upgrade

- name: vagrant snapshot list web
  vagrantless.libvirt.libvirt_snapshot:
    domain: lab_web
  register: listed

- name: The names, oldest first
  ansible.builtin.debug:
    msg: "{{ listed.snapshots | map(attribute='name') | list }}"

- name: vagrant snapshot restore web before-upgrade (and start it, as vagrant does)
  vagrantless.libvirt.libvirt_snapshot:
    domain: lab_web
    name: before-upgrade
    state: reverted
    start: true

- name: vagrant snapshot delete web before-upgrade
  vagrantless.libvirt.libvirt_snapshot:
    domain: lab_web
    name: before-upgrade
    state: absent

- name: Before vagrant destroy, every snapshot of the machine
  vagrantless.libvirt.libvirt_snapshot:
    domain: lab_web
    state: absent
'''

RETURN = r'''
snapshots:
  description:
    - The domain's snapshots after the run, oldest first (empty for a domain that does not exist).
    - In check mode, the list the real run would leave.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The snapshot name.
      type: str
      sample: before-upgrade
    creation_time:
      description: When it was taken, ISO 8601 in UTC; C(null) in check mode for one not taken yet.
      type: str
      sample: "2026-11-25T12:19:23Z"
    state:
      description:
        - The domain's state when it was taken, as libvirt names it; C(running) and C(paused) mean a
          full system snapshot (with memory), C(shutoff) a disk-only one.
      type: str
      sample: running
    current:
      description: Whether it is the domain's current snapshot (the last taken or reverted to).
      type: bool
      sample: true
    description:
      description: Its description (C(null) when none).
      type: str
      sample: Before the database upgrade
    parent:
      description: The snapshot it was taken after (C(null) for a first one).
      type: str
      sample: provisioned
  sample:
    - {name: before-upgrade, creation_time: "2026-11-25T12:19:23Z", state: running, current: true,
       description: Before the database upgrade, parent: null}
snapshot:
  description: The entry of RV(snapshots) named O(name) after the run; empty when there is none.
  returned: always
  type: dict
  sample: {name: before-upgrade, creation_time: "2026-11-25T12:19:23Z", state: running, current: true,
           description: Before the database upgrade, parent: null}
removed:
  description: The snapshots deleted (with O(state=absent)), children before their parents.
  returned: always
  type: list
  elements: str
  sample: [before-upgrade]
domain_state:
  description:
    - The domain's state after the run, C(running), C(paused), C(saved), C(stopped), or C(null) when
      it does not exist.
    - In check mode, the state a revert would leave.
  returned: always
  type: str
  sample: running
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import run_module
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import connection_argument_spec
from ansible_collections.vagrantless.libvirt.plugins.module_utils.snapshot import STATES, SnapshotManager


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(
            domain=dict(type='str', required=True),
            name=dict(type='str'),
            description=dict(type='str'),
            state=dict(type='str', default='present', choices=list(STATES)),
            start=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    run_module(module, SnapshotManager, 'domain %s' % module.params['domain'])


if __name__ == '__main__':
    main()
