# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one XML merge/diff engine of the collection.

A module builds ``desired`` (an lxml tree holding only what its options say) and lays
it over ``current`` (libvirt's inactive XML). Elements are matched by identity keys:
a disk by its target dev, an interface by its MAC, a DHCP host by its MAC, and an
element with no key rule by its position among siblings of the same tag. Whatever
libvirt added that ``desired`` does not mention (PCI addresses, controllers,
generated MACs, UUIDs) is kept, so merging twice changes nothing and ``changed`` is
exactly "the merge differs from current".
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import traceback

LXML_IMPORT_ERROR = None
try:
    from lxml import etree
except ImportError:
    etree = None
    LXML_IMPORT_ERROR = traceback.format_exc()

MERGE_NS = 'urn:vagrantless:merge'
# An element carrying this attribute removes its match from ``current``.
ABSENT_ATTR = '{%s}absent' % MERGE_NS
# An attribute with this value is removed from the matched element.
ABSENT = '\u2205absent'
# Attributes whose values never reach a diff or a log.
SECRET_ATTRIBUTES = frozenset(['passwd', 'password', 'passphrase'])
MASK = '********'


def parse(text):
    """Parse libvirt XML (a string or bytes) into an element, dropping blank text."""
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    if isinstance(text, str):
        text = text.encode('utf-8')
    return etree.fromstring(text, parser)


def element(tag, attrib=None, text=None, children=()):
    """Build an element: attributes with None values are left out, values become strings."""
    node = etree.Element(tag)
    for name, value in (attrib or {}).items():
        if value is not None:
            node.set(name, value if isinstance(value, str) else _to_text(value))
    if text is not None:
        node.text = text if isinstance(text, str) else _to_text(text)
    for child in children:
        if child is not None:
            node.append(child)
    return node


def sub(parent, tag, attrib=None, text=None):
    """Append a new child (see element()) to ``parent`` and return it."""
    child = element(tag, attrib, text)
    parent.append(child)
    return child


def _to_text(value):
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    return str(value)


def mark_absent(node):
    """Mark a desired element as "remove the matching current element"."""
    node.set(ABSENT_ATTR, 'yes')
    return node


def attribute_key(*paths):
    """A key rule: the values at ``paths`` ('@attr' or 'child/@attr' or 'child')."""
    def key(node):
        values = []
        for path in paths:
            found = node.xpath(path if '@' in path else path + '/text()')
            values.append(found[0].strip() if found else None)
        if all(value is None for value in values):
            return None
        return tuple(values)
    return key


class Rules(object):
    """How a kind of XML document merges.

    ``keys`` maps a tag path (``'devices/disk'``, or just ``'disk'``; the longest
    suffix of the element's path wins) to a callable returning the element's
    identity, or None when it has none (then it matches by position among the
    current siblings that are still unmatched). ``owned`` lists tag paths whose
    current elements are removed when ``desired`` does not name them: the options
    own that whole list (DHCP hosts of a network, disks of a domain). ``replace``
    lists tag paths whose desired element replaces the current one wholesale.
    """

    def __init__(self, keys=None, owned=(), replace=()):
        self.keys = dict(keys or {})
        self.owned = frozenset(owned)
        self.replace = frozenset(replace)

    @staticmethod
    def _lookup(path, table):
        parts = path.split('/')
        for start in range(len(parts)):
            candidate = '/'.join(parts[start:])
            if candidate in table:
                return candidate
        return None

    def key_for(self, path):
        found = self._lookup(path, self.keys)
        return self.keys[found] if found else None

    def is_owned(self, path):
        return self._lookup(path, dict.fromkeys(self.owned)) is not None

    def is_replaced(self, path):
        return self._lookup(path, dict.fromkeys(self.replace)) is not None


NO_RULES = Rules()


def merge(current, desired, rules=NO_RULES):
    """Lay ``desired`` over a copy of ``current`` and return the merged tree."""
    if current is None:
        merged = copy.deepcopy(desired)
        _strip_markers(merged)
        return merged
    merged = copy.deepcopy(current)
    _merge_into(merged, desired, rules, desired.tag)
    return merged


def _merge_into(target, desired, rules, path):
    for name, value in desired.attrib.items():
        if name == ABSENT_ATTR:
            continue
        if value == ABSENT:
            target.attrib.pop(name, None)
        else:
            target.set(name, value)
    if desired.text is not None and desired.text.strip():
        target.text = desired.text

    # lxml hands out proxy objects: keep the matched ones alive so their ids stay theirs.
    matched = _Matched()
    seen_tags = set()
    for wanted in desired:
        if not isinstance(wanted.tag, str):
            continue  # comments and processing instructions
        child_path = path + '/' + wanted.tag
        seen_tags.add(wanted.tag)
        found = _find_match(target, wanted, rules.key_for(child_path), matched)
        if wanted.get(ABSENT_ATTR):
            if found is not None:
                target.remove(found)
            continue
        if found is None:
            fresh = copy.deepcopy(wanted)
            _strip_markers(fresh)
            _insert_after_siblings(target, fresh)
            matched.add(fresh)
        elif rules.is_replaced(child_path):
            fresh = copy.deepcopy(wanted)
            _strip_markers(fresh)
            target.replace(found, fresh)
            matched.add(fresh)
        else:
            matched.add(found)
            _merge_into(found, wanted, rules, child_path)

    for tag in seen_tags | set(child.tag for child in target if isinstance(child.tag, str)):
        if rules.is_owned(path + '/' + tag):
            for child in [c for c in target if c.tag == tag and c not in matched]:
                target.remove(child)


class _Matched(object):
    """Elements already paired with a desired twin (held, so lxml keeps their proxies)."""

    def __init__(self):
        self.nodes = []

    def add(self, node):
        self.nodes.append(node)

    def __contains__(self, node):
        return any(node is held for held in self.nodes)


def _find_match(target, wanted, key, matched):
    candidates = [c for c in target if c.tag == wanted.tag and c not in matched]
    if key is not None:
        identity = key(wanted)
        if identity is not None:
            for candidate in candidates:
                if key(candidate) == identity:
                    return candidate
            return None
        # No identity given (an interface without a MAC): match by position among
        # the current elements that have no desired twin either.
    return candidates[0] if candidates else None


def _insert_after_siblings(parent, node):
    same = [c for c in parent if c.tag == node.tag]
    if same:
        same[-1].addnext(node)
    else:
        parent.append(node)


def _strip_markers(node):
    for item in node.iter():
        if not isinstance(item.tag, str):
            continue
        item.attrib.pop(ABSENT_ATTR, None)
        for name in [n for n, v in item.attrib.items() if v == ABSENT]:
            item.attrib.pop(name)
    etree.cleanup_namespaces(node)


def canonical(node):
    """A byte string equal for two trees exactly when libvirt would see the same XML:
    attribute order, blank text and indentation do not count."""
    if node is None:
        return b''
    clean = copy.deepcopy(node)
    for item in clean.iter():
        if item.text is not None and not item.text.strip():
            item.text = None
        if item.tail is not None and not item.tail.strip():
            item.tail = None
    return etree.tostring(clean, method='c14n')


def differs(before, after):
    return canonical(before) != canonical(after)


def mask_secrets(node, secrets=SECRET_ATTRIBUTES):
    """A copy of ``node`` with secret attribute values (passwd, password…) masked."""
    if node is None:
        return None
    masked = copy.deepcopy(node)
    for item in masked.iter():
        if not isinstance(item.tag, str):
            continue
        for name in list(item.attrib):
            if etree.QName(name).localname in secrets and item.get(name):
                item.set(name, MASK)
    return masked


def pretty(node, secrets=SECRET_ATTRIBUTES):
    """Indented text of ``node`` with secrets masked; '' for None."""
    if node is None:
        return ''
    masked = mask_secrets(node, secrets)
    for item in masked.iter():
        if item.text is not None and not item.text.strip():
            item.text = None
        if item.tail is not None and not item.tail.strip():
            item.tail = None
    return etree.tostring(masked, pretty_print=True, encoding='unicode')


def to_xml(node):
    """Compact text to hand to libvirt (secrets kept: it is never shown)."""
    return etree.tostring(node, encoding='unicode')


def diff(before, after, secrets=SECRET_ATTRIBUTES):
    """The ``diff`` result value: before/after as pretty XML with secrets masked."""
    return dict(before=pretty(before, secrets), after=pretty(after, secrets))


def merge_and_compare(current, desired, rules=NO_RULES):
    """Merge and report: (merged tree, changed?, diff dict)."""
    merged = merge(current, desired, rules)
    changed = current is None or differs(current, merged)
    return merged, changed, diff(current, merged)
