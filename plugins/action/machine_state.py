# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""machine_state: a machine's directory on the controller and the marks the verbs keep in it,
written or removed in place - no module is sent, not even to localhost."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import tempfile

from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.action import ActionBase

ARGUMENT_SPEC = dict(
    path=dict(type='path', required=True),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    marks=dict(type='dict', default={}),
)


def _read(path):
    try:
        with open(path, 'rb') as handle:
            return to_text(handle.read())
    except (IOError, OSError):
        return None


def _write(path, content):
    """Atomically: a reader sees the old mark or the new one, never half of one."""
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix='.' + os.path.basename(path))
    try:
        with os.fdopen(handle, 'wb') as out:
            out.write(to_bytes(content))
        os.chmod(temporary, 0o600)
        os.rename(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


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
                     if _read(os.path.join(path, name)) != to_text(content))
        changed = not os.path.isdir(path) or bool(stale)
        if changed and not self._task.check_mode:
            os.makedirs(path, mode=0o700, exist_ok=True)
            for name, content in stale.items():
                _write(os.path.join(path, name), content)
        result.update(changed=changed, path=path, written=sorted(stale))
        return result
