#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: libvirt_volume
short_description: Manage a storage volume - disks, copy-on-write overlays, uploads, cloud-init and file images
version_added: 0.1.0
description:
  - Owns one volume in a libvirt storage pool, as vagrant-libvirt makes them for a
    machine (the copy-on-write overlay on the box volume, grown to C(machine_virtual_size),
    and additional disks) and as Packer's libvirt builder makes volume sources (a cloud-init
    NoCloud seed, an image of files, an uploaded local image).
  - Volumes only grow. A capacity smaller than the volume's, or than its backing volume,
    fails before anything changes.
  - Uploads go into C(<name>.part), which becomes C(<name>) only once complete, under a lock, so
    an interrupted upload is never taken for a complete volume and two runs upload once. Into a
    directory pool of a libvirt on the same host (a local URI) the file is copied the fastest
    safe way the file system allows (C(cp --reflink=auto --sparse=always), shared blocks where it
    can, else a sparse copy) over the file libvirt made; elsewhere it goes through libvirt's
    sparse stream. Either way holes are not sent.
  - The content comes from at most one of O(backing_volume), O(clone_from), O(upload), O(cloud_init)
    and O(files); none makes an empty volume of O(capacity).
  - Generated images (O(cloud_init), O(files)) are rebuilt when their content differs and
    left alone when it is the same; the diff shows their files.
options:
  name:
    description: The volume name.
    type: str
    required: true
  pool:
    description: The storage pool (vagrant-libvirt's C(storage_pool_name)).
    type: str
    default: default
  state:
    description: Whether the volume should exist.
    type: str
    default: present
    choices: [present, absent]
  capacity:
    description:
      - The size, in bytes or with a unit, for example C(10G) (libvirt's units, C(K)/C(M)/C(G)/C(T)
        and C(KiB)/C(MiB)/C(GiB)/C(TiB) are powers of 1024, C(KB)/C(MB)/C(GB)/C(TB) powers of 1000).
      - Required for a new empty volume; for an overlay or clone it defaults to the source's size.
      - A larger capacity than an existing volume's grows it (vagrant-libvirt's C(machine_virtual_size));
        the file system inside is not grown.
    type: raw
  format:
    description: The format of a new volume (default C(qcow2)). Never converted in place.
    type: str
    choices: [qcow2, raw]
  backing_volume:
    description: Make a copy-on-write qcow2 overlay on this volume (a box volume).
    type: str
  backing_pool:
    description: The pool of O(backing_volume), default O(pool).
    type: str
  backing_format:
    description: The format of O(backing_volume), default the format libvirt reports.
    type: str
    choices: [qcow2, raw]
  clone_from:
    description: Make a full copy of this volume of O(pool).
    type: str
  upload:
    description: Upload this local image file (qcow2 or raw, detected from its header) into a new volume.
    type: path
  allow_existing:
    description:
      - Use an existing volume as it is (vagrant-libvirt's C(allow_existing) for disks), without checking
        or growing it.
    type: bool
    default: false
  cloud_init:
    description: Make a NoCloud seed ISO (volume label C(cidata)) for cloud-init.
    type: dict
    suboptions:
      user_data:
        description:
          - The C(user-data) file, for example a C(#cloud-config) document.
          - It is where passwords, keys and tokens usually go, so it is never logged and C(--diff)
            shows it by its size only (and whether it changed), never its content.
        type: str
        required: true
      meta_data:
        description: The C(meta-data) file.
        type: str
      network_config:
        description: The C(network-config) file.
        type: str
  files:
    description: Make an ISO image of files.
    type: dict
    suboptions:
      label:
        description: The volume label.
        type: str
        default: files
      contents:
        description: Files given inline, name to content.
        type: dict
      paths:
        description: Local files to put in the image under their own names.
        type: list
        elements: path
extends_documentation_fragment:
  - vagrantless.libvirt.connection
  - vagrantless.libvirt.attributes
attributes:
  diff_mode:
    description:
      - Shows the volume XML, and for generated images their files, before and after.
      - The C(user-data) of a O(cloud_init) seed is shown by its size only, and whether it changed
        (it usually carries passwords and keys); C(meta-data) and C(network-config) are shown.
    support: full
notes:
  - Images of files are ISO 9660 with Rock Ridge and Joliet names; floppy images are not made.
author:
  - vagrantless developers (@vagrantless)
'''

EXAMPLES = r'''
- name: A machine's disk, a copy-on-write overlay on the box volume, grown to 20 GiB
  vagrantless.libvirt.libvirt_volume:
    name: lab_web.img
    backing_volume: generic-VAGRANTSLASH-debian12_vagrant_box_image_4.3.12_box.img
    capacity: 20G

- name: An additional disk
  vagrantless.libvirt.libvirt_volume:
    name: lab_web-vdb.qcow2
    capacity: 10G

- name: A cloud-init seed
  vagrantless.libvirt.libvirt_volume:
    name: lab_web-cidata.iso
    cloud_init:
      user_data: |
        #cloud-config
        hostname: web
      meta_data: "instance-id: web"
'''

RETURN = r'''
volume:
  description: The volume after the run (empty when absent).
  returned: always
  type: dict
  contains:
    name:
      description: Its name.
      type: str
    path:
      description: Its path on the hypervisor.
      type: str
    pool:
      description: Its pool.
      type: str
    format:
      description: Its format.
      type: str
    capacity:
      description: Its virtual size in bytes.
      type: int
    allocation:
      description: Bytes it uses.
      type: int
    backing_store:
      description: The path of its backing volume, for an overlay.
      type: str
  sample: {name: lab_web.img, path: /var/lib/libvirt/images/lab_web.img, pool: default, format: qcow2,
           capacity: 21474836480, allocation: 200704, backing_store: /var/lib/libvirt/images/box.img}
bytes_sent:
  description: Bytes of data uploaded, copied or sent through the upload stream (holes are not sent).
  returned: always
  type: int
  sample: 29360128
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.vagrantless.libvirt.plugins.module_utils import isoimage
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import run_module
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import connection_argument_spec
from ansible_collections.vagrantless.libvirt.plugins.module_utils.volume import FORMATS, VolumeManager


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(
            name=dict(type='str', required=True),
            pool=dict(type='str', default='default'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            capacity=dict(type='raw'),
            format=dict(type='str', choices=list(FORMATS)),
            backing_volume=dict(type='str'),
            backing_pool=dict(type='str'),
            backing_format=dict(type='str', choices=list(FORMATS)),
            clone_from=dict(type='str'),
            upload=dict(type='path'),
            allow_existing=dict(type='bool', default=False),
            cloud_init=dict(type='dict', options=dict(
                user_data=dict(type='str', required=True, no_log=True),
                meta_data=dict(type='str'),
                network_config=dict(type='str'),
            )),
            files=dict(type='dict', options=dict(
                label=dict(type='str', default='files'),
                contents=dict(type='dict'),
                paths=dict(type='list', elements='path'),
            )),
        ),
        supports_check_mode=True,
    )
    if (module.params['cloud_init'] or module.params['files']) and isoimage.pycdlib is None:
        module.fail_json(msg=missing_required_lib('pycdlib'), exception=isoimage.PYCDLIB_IMPORT_ERROR)
    run_module(module, VolumeManager, 'volume %s' % module.params['name'])


if __name__ == '__main__':
    main()
