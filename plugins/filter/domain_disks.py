# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""domain_disks: the disks list of libvirt_domain from a machine's box overlays and its settings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vagrantless.libvirt.plugins.module_utils import machine_storage


class FilterModule(object):
    """The verb roles' filters."""

    def filters(self):
        return dict(domain_disks=machine_storage.domain_disks)
