# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The machine record kept in a domain's ``<metadata>``: which lab and machine it is,
how to reach it over SSH, and which volumes it owns. ``libvirt_domain`` writes it;
the ``leases`` inventory plugin and the verb roles read it.

    <metadata>
      <vagrantless:machine xmlns:vagrantless="urn:vagrantless:libvirt:machine:1">
        <vagrantless:lab>demo</vagrantless:lab>
        <vagrantless:machine>web</vagrantless:machine>
        <vagrantless:ssh_user>vagrant</vagrantless:ssh_user>
        <vagrantless:volumes>demo_web.img</vagrantless:volumes>
        <vagrantless:volumes>demo_web-vdb.qcow2</vagrantless:volumes>
      </vagrantless:machine>
    </metadata>
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.vagrantless.libvirt.plugins.module_utils import xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

NAMESPACE = 'urn:vagrantless:libvirt:machine:1'
PREFIX = 'vagrantless'
ROOT = 'machine'
# Keys whose values are always lists, even with one item.
LIST_KEYS = frozenset(['volumes', 'networks', 'reservations'])
KEY_PATTERN = re.compile(r'\A[a-z_][a-z0-9_]{0,63}\Z')


def _qualified(tag):
    return '{%s}%s' % (NAMESPACE, tag)


def encode(record, option='metadata'):
    """The ``<vagrantless:machine>`` element for a flat dict of scalars and lists."""
    root = xmltree.etree.Element(_qualified(ROOT), nsmap={PREFIX: NAMESPACE})
    for key in sorted(record):
        value = record[key]
        if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
            raise ValidationError('%s.%s' % (option, key), value,
                                  'keys of lower-case letters, digits and "_" (at most 64)')
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if isinstance(item, (dict, list, tuple)):
                raise ValidationError('%s.%s' % (option, key), value,
                                      'a string, number, boolean or a list of those')
            child = xmltree.etree.SubElement(root, _qualified(key))
            child.text = xmltree._to_text(item) if isinstance(item, bool) else str(item)
    return root


def decode(node):
    """The dict back from a ``<vagrantless:machine>`` element (None gives {})."""
    record = {}
    if node is None:
        return record
    for child in node:
        if not isinstance(child.tag, str):
            continue
        key = xmltree.etree.QName(child).localname
        text = child.text or ''
        if key in LIST_KEYS:
            record.setdefault(key, []).append(text)
        elif key in record:
            record[key] = record[key] + [text] if isinstance(record[key], list) else [record[key], text]
        else:
            record[key] = text
    return record


def from_domain_xml(domain_tree):
    """The record in a parsed domain XML tree ({} when there is none)."""
    found = domain_tree.find('metadata/{%s}%s' % (NAMESPACE, ROOT))
    return decode(found)
