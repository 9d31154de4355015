#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: libvirt_box
short_description: Add a Vagrant box to the box store and upload its images into a storage pool
version_added: 0.1.0
description:
  - Gets a Vagrant libvirt box (a C(.box) file, an http/https/file URL, or a Vagrant catalog),
    keeps it in Vagrant's own box store (so C(vagrant box list) sees it, and a box added with
    C(vagrant box add) is used as it is), and uploads its images into a storage pool under
    vagrant-libvirt's volume names, so both tools share them.
  - Box metadata v1 (C(box.img), C(format), C(virtual_size)) and v2 (a C(disks) list) are read.
  - Boxes and catalogs are untrusted input. Archives are extracted safely; absolute paths, C(..),
    links and devices are refused. Versions, disk names and files, provider and architecture
    names are checked whole before they name a file or a volume; a catalog or C(metadata.json)
    of the wrong shape is refused naming the item (such as C(versions[0].providers[1].url)).
    A remote catalog may only point at http(s) URLs.
  - Every image is checked with C(qemu-img info) before it is stored or uploaded. Its real
    format must be the one C(metadata.json) claims, and it must not name another file (a
    backing file or an external data file), through which a guest could read the host's files.
  - A corrupt archive, a checksum mismatch, a refused image or a failed upload fails and leaves
    nothing this run made in the store or the pool.
  - Uploads are sparse, atomic and locked; two runs adding the same box upload it once. Into a
    directory pool on the same host the image is copied (a reflink where the file system can),
    else streamed through libvirt (see M(vagrantless.libvirt.libvirt_volume)).
options:
  name:
    description: The box name, such as C(generic/debian12).
    type: str
    required: true
  version:
    description:
      - An exact version, or a constraint such as C(>= 1.2, < 2) or C(~> 1.2), chosen among the
        stored versions, else among the catalog's. With O(src) it must be exact; a box added
        from O(src) without a version is Vagrant's unversioned box C(0).
    type: str
  src:
    description: The box file, as a path or an http, https or file URL.
    type: str
  checksum:
    description: The expected checksum of O(src).
    type: str
  checksum_type:
    description: The algorithm of O(checksum).
    type: str
    choices: [sha256, sha512, sha384, sha1, md5]
  catalog:
    description: A Vagrant box catalog (JSON), as a path or URL; its libvirt build of the best version is added.
    type: str
  server_url:
    description:
      - Where a box named C(owner/box) that is not in the store, given neither O(src) nor O(catalog),
        is looked up, as Vagrant does it - its catalog at C(<server_url>/owner/box), asked for with
        an C(application/json) Accept header - and where the catalog URL it was added from is kept
        (C(boxes/<name>/metadata_url) in the store, as Vagrant keeps it).
      - Unset, C(VAGRANT_SERVER_URL) in the environment of the host the module runs on, else
        Vagrant's default C(https://vagrantcloud.com/api/v2/vagrant).
      - The C(up) role sets it in Vagrant's order as the controller sees it (C(VAGRANT_SERVER_URL)
        there first, then C(vm_box_server_url)), so a remote hypervisor's environment never
        overrides the controller's.
    type: str
  check_update:
    description:
      - Vagrant's C(box_check_update). For a box in the store that was added from a catalog, ask
        that catalog for a newer version within O(version); one is reported in RV(update) and a
        warning, and the stored box is still used. A catalog that cannot be read is a warning.
    type: bool
    default: false
  pool:
    description: The storage pool for the box's images.
    type: str
    default: default
  state:
    description:
      - C(present) makes sure the box is in the store and its images in the pool.
      - C(absent) removes the box's images from the pool (O(version) limits it to one version).
        It is refused while a domain's disk uses them, directly or as a backing store, or while
        a volume in a pool has them in its backing chain (a copy-on-write overlay), naming those
        domains and volumes, unless O(force=true).
    type: str
    default: present
    choices: [present, absent]
  force:
    description: With O(state=absent), remove the images even though domains or overlay volumes use them.
    type: bool
    default: false
  remove_from_store:
    description: With O(state=absent), also remove the box from the box store.
    type: bool
    default: false
  box_store:
    description: Vagrant's home holding the C(boxes/) store. Default C($VAGRANT_HOME), else C(~/.vagrant.d).
    type: path
  timeout:
    description: Seconds a download (of O(src) or O(catalog)) may wait for data before it fails.
    type: int
    default: 60
  progress_file:
    description:
      - A file this module rewrites, about once a second while it downloads, with how many bytes it
        has (JSON C(done) and C(size)).
      - The module's action plugin sets it when the module runs on the controller, and reports the
        download's progress every few seconds (C(box NAME - downloaded X of Y MiB)). Playbooks need
        not set it. On a remote hypervisor the download runs there and is not reported until done.
    type: path
extends_documentation_fragment:
  - vagrantless.libvirt.connection
attributes:
  check_mode:
    description: Reports whether the box would be added and uploaded, and changes nothing.
    support: full
  diff_mode:
    description: Nothing to diff; the returned volumes say what is in the pool.
    support: none
author:
  - vagrantless developers (@vagrantless)
'''

EXAMPLES = r'''
- name: A box from a file, with its checksum
  vagrantless.libvirt.libvirt_box:
    name: vagrantless/tiny
    src: /srv/boxes/tiny.box
    version: "1.0.0"
    checksum: "{{ lookup('file', '/srv/boxes/tiny.box.sha256') }}"
    checksum_type: sha256

- name: The newest 12.x build from a catalog
  vagrantless.libvirt.libvirt_box:
    name: generic/debian12
    catalog: https://boxes.example.com/generic/debian12.json
    version: "~> 12.0"

- name: A box by name, looked up as Vagrant does (VAGRANT_SERVER_URL, else Vagrant's default server)
  vagrantless.libvirt.libvirt_box:
    name: generic/debian12
    version: ">= 4.3"
    check_update: true

- name: Remove a box's images and its store entry
  vagrantless.libvirt.libvirt_box:
    name: vagrantless/tiny
    state: absent
    remove_from_store: true
'''

RETURN = r'''
box:
  description: The box used.
  returned: when state is present
  type: dict
  contains:
    name:
      description: Its name.
      type: str
    version:
      description: Its version in the store (C(0) for an unversioned box).
      type: str
    path:
      description: Its directory in the box store.
      type: str
    metadata:
      description: Its metadata.json.
      type: dict
    private_key:
      description:
        - The key a packaged box logs in with, C(vagrant_private_key) in its directory (C(vagrant package)
          ships the packaged machine's key so); null when the box has none. The C(up) role offers it
          at the first login when C(ssh_private_key_path) is unset.
      type: str
  sample: {name: vagrantless/tiny, version: "1.0.0",
           path: /root/.vagrant.d/boxes/vagrantless-VAGRANTSLASH-tiny/1.0.0/libvirt,
           metadata: {provider: libvirt, format: qcow2, virtual_size: 1}}
update:
  description: With O(check_update), a newer version its catalog has (null when there is none).
  returned: when state is present
  type: dict
  contains:
    current:
      description: The version used.
      type: str
    latest:
      description: The newest version of the catalog within O(version).
      type: str
    catalog:
      description: The catalog asked.
      type: str
  sample: {current: "4.3.10", latest: "4.3.12", catalog: "https://vagrantcloud.com/api/v2/vagrant/generic/debian12"}
volumes:
  description: The box's volumes in the pool (name, path, pool, format, capacity, allocation); with state absent, those removed.
  returned: always
  type: list
  elements: dict
  sample: [{name: vagrantless-VAGRANTSLASH-tiny_vagrant_box_image_1.0.0_box.img, format: qcow2,
            path: /var/lib/libvirt/images/vagrantless-VAGRANTSLASH-tiny_vagrant_box_image_1.0.0_box.img,
            capacity: 1073741824}]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vagrantless.libvirt.plugins.module_utils import vagrant_box
from ansible_collections.vagrantless.libvirt.plugins.module_utils.box import BoxManager
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import run_module
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import connection_argument_spec


def main():
    spec = connection_argument_spec(
        name=dict(type='str', required=True),
        version=dict(type='str'),
        src=dict(type='str'),
        checksum=dict(type='str'),
        checksum_type=dict(type='str', choices=list(vagrant_box.CHECKSUM_TYPES)),
        catalog=dict(type='str'),
        server_url=dict(type='str'),
        check_update=dict(type='bool', default=False),
        pool=dict(type='str', default='default'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        force=dict(type='bool', default=False),
        remove_from_store=dict(type='bool', default=False),
        box_store=dict(type='path'),
        timeout=dict(type='int', default=vagrant_box.DOWNLOAD_TIMEOUT),
        progress_file=dict(type='path'),
    )
    module = AnsibleModule(argument_spec=spec, mutually_exclusive=[('src', 'catalog')], supports_check_mode=True)
    run_module(module, BoxManager, 'box %s' % module.params['name'])


if __name__ == '__main__':
    main()
