# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """vagrant-libvirt's provider connection options, shared by every module."""

    DOCUMENTATION = r'''
options:
  uri:
    description:
      - The libvirt connection URI, for example C(qemu:///system) or
        C(qemu+ssh://admin@hv1/system).
      - Overrides every other connection option, as vagrant-libvirt's C(uri) does.
      - "Set it once for a play with C(module_defaults) and the action group
        C(group/vagrantless.libvirt.libvirt)."
    type: str
  driver:
    description:
      - vagrant-libvirt's C(driver). C(kvm) and C(qemu) both connect to the C(qemu) driver;
        for M(vagrantless.libvirt.libvirt_domain) it is also the domain type
        (C(qemu) means software emulation, TCG).
    type: str
    default: kvm
    choices: [esx, hyperv, kvm, openvz, parallels, phyp, qemu, uml, vbox, vmwarews]
  host:
    description:
      - The host where libvirtd runs. Unset means this host.
    type: str
  connect_via_ssh:
    description:
      - Reach libvirtd through an SSH tunnel (C(+ssh) transport).
      - When unset, SSH is used if O(id_ssh_key_file) is given, as in vagrant-libvirt.
    type: bool
  username:
    description:
      - The user for the SSH transport and for libvirt authentication.
    type: str
  password:
    description:
      - The password for libvirt authentication. Never logged.
    type: str
  id_ssh_key_file:
    description:
      - The SSH private key for the SSH transport.
      - A name without a directory is looked up in C(~/.ssh/). Defaults to C(~/.ssh/id_rsa)
        when the SSH transport is used.
    type: str
  socket:
    description:
      - The path of libvirtd's UNIX socket, for example C(/var/run/libvirt/libvirt-sock).
    type: str
  qemu_use_session:
    description:
      - Use the unprivileged C(qemu:///session) instead of C(qemu:///system) (a URI whose path is
        C(/session) is a session too), whose default pool directory is C(~/.local/share/libvirt/images).
      - A machine of the roles then needs no root at all - no libvirt network, its SSH reached through a
        host forward of QEMU's user-mode network, its private networks multicast links on the loopback
        (docs/migration.md, "Rootless labs").
    type: bool
    default: false
  system_uri:
    description:
      - With O(qemu_use_session), the URI used for system-wide objects such as networks.
    type: str
    default: qemu:///system
requirements:
  - libvirt-python
'''
