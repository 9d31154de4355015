# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verdicts of the reliability and e2e suites, as pure functions: each is proven against a
planted defect in tests/unit/test_verdicts.py (a checker that cannot fail proves nothing)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# How Ansible's own argument-spec validation (of the spec we declare) words a refusal: it names
# the option and runs before any of our code. Anything else must be our fail_json.
ARGSPEC_REFUSAL = re.compile(
    r"(value of \S+ must be one (or more )?of: |argument '[^']+' is of type |Unsupported parameters for |"
    r"missing required arguments: |parameters are mutually exclusive: |one of the following is required: |"
    r"parameters are required together: |\S+ is \S+ but all of the following are missing: |"
    r"Elements value for option '[^']+' is of type |elements of \S+ must be one of: |"
    # a list-of-mappings item that is no mapping: ansible-core's no_log scan of the suboptions
    # refuses it first, in these words
    r"Value '.*' in the sub parameter field '[^']+' must be |dictionary requested, could not parse JSON or key=value)")
# How ansible-core reports a module that raised: older versions and 2.19 (and later)
CRASH = re.compile(r'MODULE FAILURE|Task failed: Module failed|Traceback \(most recent call last\)')


def refusal_problem(result):
    """Why ``result`` is not a clean refusal ('' when it is): a clean refusal is a failure that
    changed nothing and is either our own ``fail_json`` for bad input (it carries ``option``, the
    option it names) or ansible-core's validation of our argument spec - never a crash, whatever
    words a crash comes in."""
    message = str(result.get('msg') or '')
    if not result.get('failed'):
        return 'accepted (changed=%s)' % result.get('changed')
    if CRASH.search(message) or CRASH.search(str(result.get('module_stderr') or '')):
        return 'a crash: %s' % (result.get('module_stderr') or message)[-600:]
    if result.get('changed'):
        return 'failed, but reports changed'
    if not result.get('option') and not ARGSPEC_REFUSAL.match(message):
        return 'not a refusal of ours (no option named): %s' % message[:300]
    return ''


# -- check mode predicts exactly -------------------------------------------------------------
def definitions(result):
    """{label: (before, after)} of the definitions in a module result's ``diff`` (a list of
    entries; the runtime state and image content entries are left out: the matrix checks state
    in the lab, and content is no definition)."""
    found = {}
    for entry in result.get('diff') or []:
        label = entry.get('before_header') or 'definition'
        if label.endswith('(state)') or label.endswith('(content)'):
            continue
        found[label] = (entry.get('before') or '', entry.get('after') or '')
    return found


def _tree(text):
    """A definition's XML as a tree, without what changes under a guest's feet (volume
    allocation and times, a qcow2 cluster size a pool refresh learns)."""
    from lxml import etree  # pylint: disable=import-outside-toplevel
    if not text.strip():
        return None
    tree = etree.fromstring(text.encode('utf-8'))
    for node in tree.xpath('//allocation | //physical | //timestamps | //clusterSize'):
        node.getparent().remove(node)
    return tree


def _path(node):
    return '/'.join(reversed([n.tag for n in node.iterancestors()])) + '/' + node.tag


def _contained(small, large, ignore=(), path='', values=True):
    """The first place where ``small`` is not within ``large`` (each element of ``small`` matched
    by one of ``large`` with the same tag, at least its attributes and the same text), or ''.
    Elements of ``small`` named in ``ignore`` need no match; without ``values`` only elements
    count (attributes and texts were compared the other way already)."""
    here = '%s/%s' % (path, small.tag)
    if small.tag != large.tag:
        return '%s: <%s> where <%s> was expected' % (path, large.tag, small.tag)
    for name, value in small.attrib.items() if values else ():
        if large.get(name) != value:
            return '%s@%s: %r, not %r' % (here, name, large.get(name), value)
    if values and (small.text or '').strip() and (small.text or '').strip() != (large.text or '').strip():
        return '%s: text %r, not %r' % (here, (large.text or '').strip(), (small.text or '').strip())
    candidates = [child for child in large if isinstance(child.tag, str)]
    for child in small:
        if not isinstance(child.tag, str) or child.tag in ignore:
            continue
        for index, other in enumerate(candidates):
            if other.tag == child.tag and not _contained(child, other, ignore, here, values):
                del candidates[index]
                break
        else:
            same = [other for other in candidates if other.tag == child.tag]
            return _contained(child, same[0], ignore, here, values) if same else '%s/%s: missing' % (here, child.tag)
    return ''


# what libvirt adds to what it is given: identities, addresses, device aliases, its defaults
GENERATED = ('uuid', 'address', 'alias', 'controller', 'memballoon', 'input', 'emulator', 'key', 'permissions',
             'bridge', 'clock', 'on_poweroff', 'on_reboot', 'on_crash', 'cpu', 'mac', 'target', 'format',
             'capacity', 'available', 'source', 'compat', 'features', 'console', 'audio')


def prediction_problem(check, again):
    """Why check mode's predicted definition differs from the one libvirt holds after the real
    run ('' when it does not): ``check`` is the check-mode result, ``again`` the result of the
    run after the real one, whose ``before`` is read back from libvirt. What was predicted must
    all be there; and of what libvirt holds, only what it generates itself (GENERATED: UUIDs,
    addresses, default devices, a new network's bridge...) may be missing from the prediction."""
    predicted, actual = definitions(check), definitions(again)
    problems = []
    for label, (unused, after) in sorted(predicted.items()):
        if label not in actual:
            problems.append('%s: libvirt holds no such definition after the real run' % label)
            continue
        if not after.lstrip().startswith('<') and not actual[label][0].lstrip().startswith('<'):
            if after.strip() != actual[label][0].strip():  # a listing (snapshots), not XML: to the letter
                problems.append('%s: predicted %r, libvirt holds %r' % (label, after, actual[label][0]))
            continue
        expected, held = _tree(after), _tree(actual[label][0])
        if expected is None or held is None:
            if (expected is None) != (held is None):
                problems.append('%s: predicted %s, libvirt holds %s' % (
                    label, 'none' if expected is None else 'one', 'none' if held is None else 'one'))
            continue
        missing = _contained(expected, held)
        if missing:
            problems.append('%s: predicted but not held: %s' % (label, missing))
        unpredicted = _contained(held, expected, ignore=GENERATED, values=False)
        if unpredicted:
            problems.append('%s: held but not predicted: %s' % (label, unpredicted))
    return '; '.join(problems)
