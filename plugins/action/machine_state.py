# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""machine_state: a machine's directory on the controller and the marks the verbs keep in it,
written or removed in place - no module is sent, not even to localhost."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.vagrantless.libvirt.plugins.module_utils import files, locks

ARGUMENT_SPEC = dict(
    path=dict(type='path', required=True),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    marks=dict(type='dict', default={}),
    read=dict(type='bool', default=False),
    lock=dict(type='str', choices=['acquired', 'released']),
    lock_timeout=dict(type='int', default=900),
)
LOCK = 'lock'
# The records the verbs keep, one line of fields each: the boot up last left and the settings
# digest it was up with; the domain that was provisioned.
RECORDS = dict(up=('uuid', 'id', 'digest'), provisioned=('uuid',))
FIELD_PATTERNS = dict(uuid=re.compile(r'[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}'),
                      id=re.compile(r'-?[0-9]{1,10}'), digest=re.compile(r'[0-9a-f]{1,64}'))


class MarkError(ValueError):
    """A mark that cannot be written."""


def mark_text(name, content):
    """The file content of a mark: text as given, a record's fields (a mapping) in their order;
    None (the mark to remove) for null."""
    if content is None:
        return None
    if not isinstance(content, dict):
        return to_text(content)
    fields = RECORDS.get(name)
    if fields is None:
        raise MarkError('marks.%s: only the records %s are mappings; give text' % (name, ', '.join(sorted(RECORDS))))
    if sorted(content) != sorted(fields):
        raise MarkError('marks.%s: the fields are %s, got %s' % (name, ', '.join(fields), ', '.join(sorted(content)) or 'none'))
    values = [to_text(content[field]) for field in fields]
    for field, value in zip(fields, values):
        if not FIELD_PATTERNS[field].fullmatch(value):
            raise MarkError('marks.%s.%s: %r is not a valid %s' % (name, field, value, field))
    return ' '.join(values)


def parse_record(name, text):
    """A record's fields from its mark's text (``id`` a number), or None when there is no mark
    or it is not one (another tool's file, a cut write)."""
    if text is None:
        return None
    fields = RECORDS[name]
    values = text.strip().split(' ')
    if len(values) != len(fields) or not all(FIELD_PATTERNS[f].fullmatch(v) for f, v in zip(fields, values)):
        return None
    record = dict(zip(fields, values))
    if 'id' in record:
        record['id'] = int(record['id'])
    return record


def read_records(path):
    """Every record the directory holds, parsed (None for a missing one)."""
    return dict((name, parse_record(name, files.read(os.path.join(path, name)))) for name in RECORDS)


class ActionModule(ActionBase):
    """Runs on the controller only."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        unused, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        path = os.path.abspath(os.path.expanduser(args['path']))
        for name in args['marks']:
            if not name or os.sep in name or name.startswith('.'):
                result.update(failed=True, msg='marks: %r is not a plain file name' % name)
                return result
        try:
            marks = dict((name, mark_text(name, content)) for name, content in args['marks'].items())
        except MarkError as error:
            result.update(failed=True, msg=str(error))
            return result
        if args['lock']:
            self._lock(result, path, args)
        elif args['state'] == 'absent':
            self._absent(result, path)
        else:
            self._present(result, path, marks)
        if args['read'] and not result.get('failed'):
            result['marks'] = read_records(path)
        return result

    def _absent(self, result, path):
        """The directory removed with all it holds."""
        changed = os.path.lexists(path)
        if changed and not self._task.check_mode:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
        result.update(changed=changed, path=path)

    def _present(self, result, path, marks):
        """The directory, with each mark whose content differs written and each null one removed."""
        stale = dict((name, text) for name, text in marks.items() if files.read(os.path.join(path, name)) != text)
        changed = not os.path.isdir(path) or bool(stale)
        if changed and not self._task.check_mode:
            files.make_private_dir(path)
            for name, text in stale.items():
                if text is None:
                    os.unlink(os.path.join(path, name))
                else:
                    files.write_private(os.path.join(path, name), text)
        result.update(changed=changed, path=path, written=sorted(name for name in stale if stale[name] is not None),
                      removed=sorted(name for name in stale if stale[name] is None))

    def _lock(self, result, path, args):
        """One verb at a time on a machine: the lock belongs to this ansible-playbook run (the
        process the task workers are forked from), so a run that dies leaves a lock the next
        run takes over. Nothing is locked in check mode, which changes nothing."""
        owner = locks.process_identity(os.getppid())
        lock = os.path.join(path, LOCK)
        if self._task.check_mode:
            result.update(changed=False, path=path, waited=0)
            return result
        if args['lock'] == 'released':
            # bookkeeping of this run, not a change to the machine
            result.update(changed=False, released=locks.release_lock(lock, owner), path=path)
            return result
        files.make_private_dir(path)
        try:
            waited = locks.acquire_lock(lock, owner, args['lock_timeout'])
        except TimeoutError as error:
            result.update(failed=True, path=path,
                          msg='machine %s is busy: its lock %s is %s (another verb runs on it)' % (
                              os.path.basename(path), lock, error))
            return result
        result.update(changed=False, path=path, waited=round(waited, 2))
        return result
