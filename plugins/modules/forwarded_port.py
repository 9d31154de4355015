#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: forwarded_port
short_description: Forward a host port to a guest port through the guest's SSH, as vagrant-libvirt does
version_added: 0.1.0
description:
  - vagrant-libvirt's forwarded ports (C(config.vm.network :forwarded_port)) the way it
    makes them, one C(ssh -N -L) process per forwarded port through the guest's SSH server,
    kept running across runs.
  - The tunnel listens on the host that runs the module (the hypervisor or the controller;
    use C(delegate_to)). Only TCP can be forwarded this way.
  - Each tunnel is recorded in O(state_dir) (a JSON spec, a pid file and ssh's error log,
    files mode 0600 in directories mode 0700). A tunnel counts as running only while its
    pid runs exactly the recorded ssh command line, so a reused pid is never mistaken for
    it and never signalled.
  - A running tunnel with the same options is left alone (no change). One with other
    options, or whose ssh has exited (for example after the guest rebooted), is started
    again. After starting ssh the module waits until it listens on the host port; if ssh
    exits first (port taken, login refused, guest unreachable) the task fails with ssh's
    own message and leaves no process and no file behind. If a changed tunnel cannot
    start, the previous one is started again.
  - O(state=absent) without O(host) and O(guest) stops every tunnel of O(machine), which
    is what C(vagrant halt) and C(vagrant destroy) do.
  - Supports check mode and diff mode; the diff lists the machine's tunnels before and after.
options:
  machine:
    description:
      - The machine the tunnels belong to, usually its domain name. Tunnels are grouped by it
        in O(state_dir).
      - 1 to 100 letters, digits, C(_), C(.), C(+), C(:) and C(-), starting with a letter or digit.
    type: str
    required: true
  guest:
    description:
      - The guest port (vagrant's C(guest)). Required with O(state=present).
      - With O(state=absent), only the machine's tunnels to this guest port are stopped.
    type: int
  host:
    description:
      - The host port the tunnel listens on (vagrant's C(host)). Required with O(state=present).
      - It identifies the tunnel within O(machine); changing any other option of that host
        port restarts its tunnel.
      - Ports below 1024 need root on the host (use C(become)); vagrant-libvirt asks for sudo.
      - Vagrant's C(auto_correct) is not supported; a port already in use fails the task,
        naming the process that holds it (and its machine when it is another tunnel).
    type: int
  host_ip:
    description:
      - The address the tunnel listens on, an IP address of this host, C(localhost) or C(*)
        (every address). The default keeps the port on this host's loopback, reachable from
        this host only.
      - Any other address opens the port to the hosts that reach it, with or without
        O(gateway_ports) (ssh listens on an explicit address as given), as vagrant-libvirt's
        example with C(host_ip) set to C(0.0.0.0) does.
      - With O(gateway_ports=true) a loopback address is refused (the port would stay closed
        to other hosts); use C(*) or C(0.0.0.0).
    type: str
    default: 127.0.0.1
  guest_ip:
    description:
      - The address the guest's SSH server connects to for each forwarded connection, as the
        guest sees it.
      - Defaults to O(ssh_host), the guest's own address, as vagrant-libvirt does. Set
        C(127.0.0.1) to reach a service that listens only on the guest's loopback.
    type: str
  protocol:
    description:
      - Only C(tcp). C(udp) is refused; SSH forwarding carries TCP only (vagrant-libvirt's
        documented limitation).
    type: str
    default: tcp
  gateway_ports:
    description:
      - vagrant-libvirt's C(gateway_ports), for other hosts to connect to the forwarded port.
        Adds C(-g) to ssh and requires a non-loopback O(host_ip) such as C(*), which is what
        actually decides where the port listens.
    type: bool
    default: false
  ssh_host:
    description:
      - The guest's SSH address (its IP address, for example from
        M(vagrantless.libvirt.libvirt_lease_facts)). Required with O(state=present).
    type: str
  ssh_port:
    description:
      - The guest's SSH port.
    type: int
    default: 22
  ssh_user:
    description:
      - The user to log in as. Unset lets ssh decide (its configuration, or the user that runs
        the module).
    type: str
  ssh_private_key_file:
    description:
      - The private key to log in with, on the host that runs the module. Only this key is
        offered (C(IdentitiesOnly=yes)). Unset uses ssh's own keys and agent.
    type: path
  ssh_extra_args:
    description:
      - More ssh options, for example C([-o, ProxyJump=admin@bastion]). Options only, no
        destination or command, and not C(-f) (ssh would fork away from the recorded pid).
      - They come after the options the module relies on (C(-N), C(ExitOnForwardFailure=yes),
        C(BatchMode=yes), C(ControlMaster=no), C(ControlPath=none), the port, user and key,
        which ssh keeps because it takes the first value of an option) and before the
        defaults they may override (C(StrictHostKeyChecking=no),
        C(UserKnownHostsFile=/dev/null), C(ServerAliveInterval=30), C(ServerAliveCountMax=3),
        C(LogLevel=ERROR)).
    type: list
    elements: str
  state_dir:
    description:
      - Where tunnels are recorded, one directory per machine. Created mode 0700; an existing
        directory that others can write to is refused.
    type: path
    default: ~/.vagrantless/tunnels
  timeout:
    description:
      - Seconds to wait for a new tunnel to listen, 1 to 600. An ssh that does not listen
        by then (guest unreachable, no SSH answer) is stopped and the task fails.
      - Not part of a tunnel's options; changing it restarts nothing.
    type: int
    default: 10
  state:
    description:
      - C(present) keeps the tunnel running.
      - C(absent) stops the machine's tunnels that match O(host) and O(guest) (all of them when
        neither is given) and removes their records.
    type: str
    default: present
    choices: [present, absent]
extends_documentation_fragment:
  - vagrantless.libvirt.attributes
attributes:
  diff_mode:
    description: Lists the machine's tunnels before and after.
    support: full
notes:
  - Needs the OpenSSH client (C(ssh)) and Linux C(/proc) on the host that runs the module.
  - Check mode cannot foresee a login failure on the guest; everything else (a port in use,
    bad input) it reports as the real run would.
  - Not part of the C(group/vagrantless.libvirt.libvirt) action group; it takes no libvirt
    connection options.
  - A tunnel does not survive a reboot of the host; if the guest reboots, ssh exits after
    about 90 s of keep-alives and the next run starts it again.
  - ssh runs in a session of its own, so it outlives the task and the connection that ran
    it; on a host whose systemd-logind kills a user's processes at logout
    (C(KillUserProcesses=yes)), enable lingering for that user.
author:
  - vagrantless developers (@vagrantless)
'''

EXAMPLES = r'''
- name: Internally accessible port forward (guest 80 on 127.0.0.1:2000 of the hypervisor)
  vagrantless.libvirt.forwarded_port:
    machine: project_web
    guest: 80
    host: 2000
    ssh_host: "{{ ansible_host }}"
    ssh_user: vagrant
    ssh_private_key_file: ~/.vagrant.d/insecure_private_key
  delegate_to: localhost

- name: Externally accessible port forward
  vagrantless.libvirt.forwarded_port:
    machine: project_web
    guest: 443
    host: 8443
    host_ip: "*"
    gateway_ports: true
    ssh_host: 192.168.121.10
    ssh_user: vagrant

- name: A service that listens only on the guest's loopback
  vagrantless.libvirt.forwarded_port:
    machine: project_db
    guest: 5432
    host: 15432
    guest_ip: 127.0.0.1
    ssh_host: 192.168.121.11

- name: Halt or destroy - stop every tunnel of the machine
  vagrantless.libvirt.forwarded_port:
    machine: project_web
    state: absent
'''

RETURN = r'''
pid:
  description: The pid of the tunnel's ssh process (null with O(state=absent), and in check mode when it would start).
  returned: always
  type: int
  sample: 41234
tunnels:
  description: Every tunnel of O(machine) after the run, by host port.
  returned: always
  type: list
  elements: dict
  contains:
    host_ip:
      description: The address the tunnel listens on.
      type: str
      sample: 127.0.0.1
    host:
      description: The host port.
      type: int
      sample: 2000
    guest_ip:
      description: The address the guest connects to.
      type: str
      sample: 192.168.121.10
    guest:
      description: The guest port.
      type: int
      sample: 80
    protocol:
      description: Always C(tcp).
      type: str
      sample: tcp
    gateway_ports:
      description: Whether other hosts may connect.
      type: bool
      sample: false
    ssh_host:
      description: The guest's SSH address.
      type: str
      sample: 192.168.121.10
    ssh_port:
      description: The guest's SSH port.
      type: int
      sample: 22
    ssh_user:
      description: The SSH user (null when ssh chooses).
      type: str
      sample: vagrant
    pid:
      description: The ssh process (null when it does not run, or in check mode before it starts).
      type: int
      sample: 41234
    running:
      description: Whether the tunnel runs (in check mode, whether it would).
      type: bool
      sample: true
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import run_module
from ansible_collections.vagrantless.libvirt.plugins.module_utils.forwarded_port import (
    DEFAULT_HOST_IP, DEFAULT_STATE_DIR, DEFAULT_TIMEOUT, TunnelManager)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            machine=dict(type='str', required=True),
            guest=dict(type='int'),
            host=dict(type='int'),
            host_ip=dict(type='str', default=DEFAULT_HOST_IP),
            guest_ip=dict(type='str'),
            protocol=dict(type='str', default='tcp'),
            gateway_ports=dict(type='bool', default=False),
            ssh_host=dict(type='str'),
            ssh_port=dict(type='int', default=22),
            ssh_user=dict(type='str'),
            ssh_private_key_file=dict(type='path'),
            ssh_extra_args=dict(type='list', elements='str'),
            state_dir=dict(type='path', default=DEFAULT_STATE_DIR),
            timeout=dict(type='int', default=DEFAULT_TIMEOUT),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        ),
        required_if=[('state', 'present', ('guest', 'host', 'ssh_host'))],
        supports_check_mode=True,
    )
    run_module(module, TunnelManager, 'forwarded port')


if __name__ == '__main__':
    main()
