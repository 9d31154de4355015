# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""spanning_networks: the private networks a lab's machines would share across hypervisors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vagrantless.libvirt.plugins.module_utils import machine_networks


class FilterModule(object):
    """The up role's check of a lab over several hypervisors."""

    def filters(self):
        return dict(spanning_networks=machine_networks.spanning_networks)
