# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""machine_state: a machine's directory on the controller and the marks the verbs keep in it,
written or removed in place - no module is sent, not even to localhost."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.vagrantless.libvirt.plugins.module_utils import files, locks

ARGUMENT_SPEC = dict(
    path=dict(type='path', required=True),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    marks=dict(type='dict', default={}),
    lock=dict(type='str', choices=['acquired', 'released']),
    lock_timeout=dict(type='int', default=900),
)
LOCK = 'lock'


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
        if args['lock']:
            return self._lock(result, path, args)
        if args['state'] == 'absent':
            changed = os.path.lexists(path)
            if changed and not self._task.check_mode:
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
            result.update(changed=changed, path=path)
            return result
        stale = dict((name, to_text(content)) for name, content in args['marks'].items()
                     if files.read(os.path.join(path, name)) != to_text(content))
        changed = not os.path.isdir(path) or bool(stale)
        if changed and not self._task.check_mode:
            files.make_private_dir(path)
            for name, content in stale.items():
                files.write_private(os.path.join(path, name), content)
        result.update(changed=changed, path=path, written=sorted(stale))
        return result

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
