# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""wait_for_ssh: poll the host's own connection with a shell command until the guest answers,
as `vagrant up` waits for SSH - no Python in the guest, no module sent."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.errors import AnsibleConnectionFailure
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

ARGUMENT_SPEC = dict(
    timeout=dict(type='int', default=300),
    sleep=dict(type='float', default=0.5),
)


class ActionModule(ActionBase):
    """Runs `true` through the task's connection (its user, port, key and SSH options) until
    it succeeds or ``timeout`` seconds pass."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        unused, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        started = time.monotonic()
        deadline = started + args['timeout']
        attempts = 0
        while True:
            attempts += 1
            try:
                answer = self._low_level_execute_command('true', sudoable=False)
                if answer['rc'] == 0:
                    break
                error = to_text(answer.get('stderr') or answer.get('stdout') or 'exit code %s' % answer['rc']).strip()
            except AnsibleConnectionFailure as failure:
                error = to_text(failure)
            if time.monotonic() + args['sleep'] >= deadline:
                result.update(failed=True, attempts=attempts, elapsed=round(time.monotonic() - started, 2),
                              msg='timed out after %d s waiting for SSH: %s' % (args['timeout'], error))
                return result
            time.sleep(args['sleep'])
            try:
                self._connection.reset()  # a fresh connection (and SSH control master) for the next try
            except AnsibleConnectionFailure:
                pass
        result.update(changed=False, attempts=attempts, elapsed=round(time.monotonic() - started, 2))
        return result
