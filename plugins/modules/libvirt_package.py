#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: libvirt_package
short_description: Package a stopped libvirt domain's disk into a new Vagrant box, as vagrant package does
version_added: 0.1.0
description:
  - What C(vagrant package) does for a libvirt machine. The domain's disk (usually a qcow2
    overlay on a box volume) is flattened with C(qemu-img convert -O qcow2) into a box file
    holding C(box.img), C(metadata.json) (C(provider) libvirt, C(format) qcow2, C(virtual_size)
    in GiB rounded up) and a C(Vagrantfile) with the libvirt provider's driver and connection
    defaults, the layout vagrant-libvirt's C(vagrant package) and C(create_box.sh) make.
    M(vagrantless.libvirt.libvirt_box) adds it and the C(up) role boots it.
  - The domain must be stopped; a running, paused or saved domain is refused, as its disk is in
    use. The C(package) role halts the machine first.
  - The disk is read where the module runs, so libvirt must run on the same host (a local URI
    such as C(qemu:///system)); a URI naming another host is refused. Run the task on the
    hypervisor with C(delegate_to), as the C(package) role does.
  - The box is built in a temporary directory beside O(output), written to C(<output>.part) and
    renamed into place, so O(output) is either complete or absent; a failure removes every
    temporary file. Two runs writing the same O(output) at once package it once.
  - The image is packaged as it is; unlike vagrant-libvirt, C(virt-sysprep) and C(virt-sparsify)
    are not run (run them on the disk first if the box should not carry the machine's identity).
options:
  domain:
    description: The domain (vagrant-libvirt's C(<project dir>_<machine>)). It must exist.
    type: str
    required: true
  output:
    description:
      - The box file to write, an absolute path on the host where the module runs, in a directory
        that exists there.
      - An existing file is left as it is (the module reports no change) unless O(force=true).
    type: path
    required: true
  disk:
    description:
      - The target device of the disk to package, such as C(vda). Default the domain's first disk
        (CD-ROMs are not disks).
    type: str
  vagrantfile:
    description:
      - The text of a Vagrantfile to ship in the box, as C(vagrant package --vagrantfile) does. It is
        stored as C(include/_Vagrantfile) and loaded after the box's own defaults, so its settings win.
    type: str
  private_key:
    description:
      - The text of the machine's private key (the key C(ssh_insert_key) put in the guest). It is
        shipped in the box as C(vagrant_private_key), mode 0600, with the line C(vagrant package)
        appends to the box's Vagrantfile (C(config.ssh.private_key_path) naming it), so the first
        login into a machine of the box works, with Vagrant as with the C(up) role.
      - Anyone holding the box can then log in to its machines, as with C(vagrant package).
    type: str
  force:
    description: Package again and replace O(output) when it exists.
    type: bool
    default: false
  compress:
    description: Compress the image's clusters (C(qemu-img convert -c)); smaller, much slower to make.
    type: bool
    default: false
extends_documentation_fragment:
  - vagrantless.libvirt.connection
  - vagrantless.libvirt.attributes
attributes:
  diff_mode:
    description: Nothing to diff; RV(box) describes the file.
    support: none
notes:
  - Part of the C(group/vagrantless.libvirt.libvirt) action group for C(module_defaults).
  - In check mode RV(box.size) and RV(box.sha256) of a box not made yet are C(null);
    RV(box.virtual_size) is predicted from the disk.
  - The box is an uncompressed tar, which Vagrant and M(vagrantless.libvirt.libvirt_box) read as
    well as a gzipped one.
requirements:
  - qemu-img (C(qemu-utils)) on the host where the module runs
author:
  - vagrantless developers (@vagrantless)
'''

EXAMPLES = r'''
- name: vagrant package web --output /srv/boxes/web.box
  vagrantless.libvirt.libvirt_package:
    uri: qemu:///system
    domain: lab_web
    output: /srv/boxes/web.box
  register: packaged

- name: The box, added under a name of its own
  vagrantless.libvirt.libvirt_box:
    name: lab/web
    src: "{{ packaged.box.path }}"
    checksum: "{{ packaged.box.sha256 }}"
    checksum_type: sha256

- name: Package again, with a Vagrantfile inside
  vagrantless.libvirt.libvirt_package:
    domain: lab_web
    output: /srv/boxes/web.box
    force: true
    vagrantfile: |
      Vagrant.configure("2") do |config|
        config.ssh.username = "admin"
      end
'''

RETURN = r'''
box:
  description: The box file (the existing one when nothing changed).
  returned: always
  type: dict
  contains:
    path:
      description: Its path, O(output).
      type: str
      sample: /srv/boxes/web.box
    size:
      description: Its size in bytes; C(null) in check mode for a box not made yet.
      type: int
      sample: 28672000
    virtual_size:
      description: The disk's virtual size in GiB, rounded up, as metadata.json says; C(null) for an
        existing file without a readable metadata.json.
      type: int
      sample: 2
    sha256:
      description: Its SHA-256 checksum, for the C(checksum) of M(vagrantless.libvirt.libvirt_box);
        C(null) in check mode for a box not made yet.
      type: str
      sample: 3f1c0d6f2b1e4c8a9d7e5f3a1b2c4d6e8f0a1b3c5d7e9f1a3b5c7d9e1f3a5b7c
disk:
  description: The disk packaged (empty when an existing O(output) was left alone).
  returned: always
  type: dict
  contains:
    dev:
      description: Its target device.
      type: str
      sample: vda
    path:
      description: Its image on the hypervisor.
      type: str
      sample: /var/lib/libvirt/images/lab_web.img
    format:
      description: Its image format, as the domain's definition gives it.
      type: str
      sample: qcow2
    virtual_size:
      description: Its virtual size in bytes.
      type: int
      sample: 2147483648
    backing_store:
      description: The image it is an overlay on (C(null) for none); the box does not depend on it.
      type: str
      sample: /var/lib/libvirt/images/vagrantless-VAGRANTSLASH-tiny_vagrant_box_image_1.0.0_box.img
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import run_module
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import connection_argument_spec
from ansible_collections.vagrantless.libvirt.plugins.module_utils.package import PackageManager


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(
            domain=dict(type='str', required=True),
            output=dict(type='path', required=True),
            disk=dict(type='str'),
            vagrantfile=dict(type='str'),
            private_key=dict(type='str', no_log=True),
            force=dict(type='bool', default=False),
            compress=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    run_module(module, PackageManager, 'domain %s' % module.params['domain'])


if __name__ == '__main__':
    main()
