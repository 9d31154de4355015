#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: wait_for_ssh
short_description: Wait until a machine answers a shell command over its connection
version_added: 0.1.0
description:
  - Runs C(true) through the host's own connection (its user, port, key and SSH options) until it
    succeeds, as C(vagrant up) waits for SSH after the boot.
  - Unlike M(ansible.builtin.wait_for_connection) it needs no Python in the guest and sends no module,
    so a freshly booted guest answers sooner; the verb roles run it before their guest work.
  - On an C(ssh) connection that reaches the guest directly (no proxy in its SSH options), the guest's
    SSH port is looked at every 0.1 s between two tries (a TCP connect and the server's first bytes,
    no ssh process), and the next try starts as soon as an SSH server answers there. When no server
    answers there for 5 s, a try goes through the connection all the same (a proxy in an
    C(ssh_config) reaches guests the controller cannot).
  - Runs on the controller, the same in check mode (it only reads).
options:
  timeout:
    description: Seconds to wait before failing with the last error seen (for example a refused key).
    type: int
    default: 300
  sleep:
    description: Seconds between two tries (between a failed try and the next one when an SSH server answers on the port, or the port is not watched).
    type: float
    default: 0.5
  follow:
    description:
      - Follow the machine's address while waiting - a guest may get another address by DHCP than the
        one first read (a reservation that reached only the network's persistent definition). Every
        O(follow.every) seconds without an answer, the domain's management address is read again from
        libvirt on the controller, and the connection moves to it when it changed.
      - Only for a hypervisor the controller reaches by a libvirt URI of its own (a local one or
        C(qemu+ssh://)); the verb roles set it then.
    type: dict
    suboptions:
      domain:
        description: The domain's name.
        type: str
        required: true
      management_network:
        description: The network whose address is the one to reach the machine at.
        type: str
      every:
        description: Seconds without an answer between two reads of the address.
        type: float
        default: 3
      connection:
        description: The libvirt connection options of the modules (O(vagrantless.libvirt.libvirt_domain#module:uri), ...).
        type: dict
        default: {}
  jump:
    description:
      - The hypervisor the guest is reached through (C(vagrantless_machine.ssh.jump), set by
        M(vagrantless.libvirt.machine_settings) for a remote hypervisor). When the first try fails,
        the hypervisor's own SSH is checked once with O(jump.check), and a hypervisor that does not
        answer fails the task at once, naming it, instead of after O(timeout) seconds.
    type: dict
    suboptions:
      hypervisor:
        description: The hypervisor's name, for the message.
        type: str
        required: true
      target:
        description: How it is reached, C(user@host:port), for the message.
        type: str
        required: true
      check:
        description: The command (an argument list) that succeeds when the hypervisor answers SSH.
        type: list
        elements: str
        required: true
      proxy_command:
        description: The ssh C(ProxyCommand) through the hypervisor (not used here; accepted so the fact can be given as it is).
        type: str
      ssh_options:
        description: The ssh options that set it (not used here; accepted so the fact can be given as it is).
        type: list
        elements: str
extends_documentation_fragment:
  - vagrantless.libvirt.attributes.read_only
attributes:
  platform:
    support: full
    platforms: posix
    description: Any host Ansible reaches with a shell.
author:
  - vagrantless developers (@vagrantless)
'''

EXAMPLES = r'''
- name: Wait for the guest to answer SSH after its boot
  vagrantless.libvirt.wait_for_ssh:
    timeout: 180
'''

RETURN = r'''
attempts:
  description: How many times the command was tried.
  returned: always
  type: int
  sample: 3
elapsed:
  description: Seconds waited.
  returned: always
  type: float
  sample: 4.21
ip:
  description: The address the machine answered at (the connection's, or the one followed to).
  returned: always
  type: str
  sample: 192.168.121.17
'''
