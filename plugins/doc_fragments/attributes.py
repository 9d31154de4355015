# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The module contract's check mode, shared by every module that changes something."""

    DOCUMENTATION = r'''
attributes:
  check_mode:
    description: Reports exactly what a real run would change, and changes nothing.
    support: full
'''
