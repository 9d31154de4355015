# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The attributes the modules share: the module contract's check mode (every module that
    changes something), read-only modules, and the action plugins that run on the controller."""

    DOCUMENTATION = r'''
attributes:
  check_mode:
    description: Reports exactly what a real run would change, and changes nothing.
    support: full
'''

    # vagrantless.libvirt.attributes.read_only: a module that only reads
    READ_ONLY = r'''
attributes:
  check_mode:
    description: Runs the same in check mode; it only reads.
    support: full
  diff_mode:
    description: Nothing changes, so there is no diff.
    support: none
'''

    # vagrantless.libvirt.attributes.no_diff: a module whose result says all there is to say
    NO_DIFF = r'''
attributes:
  diff_mode:
    description: Nothing to show beyond what the task returns.
    support: none
'''

    # vagrantless.libvirt.attributes.controller: an action plugin that sends no module
    CONTROLLER = r'''
attributes:
  platform:
    description: Runs on the controller; no module is sent, not even to localhost.
    support: full
    platforms: posix
'''
