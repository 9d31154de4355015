# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt_machine_facts's action: on a local hypervisor the module runs in the worker process, else it is sent
(plugin_utils/in_process.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vagrantless.libvirt.plugins.plugin_utils.in_process import ModuleAction as ActionModule  # noqa: F401 pylint: disable=unused-import
