# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: reliability_recorder
type: aggregate
short_description: Record every task result, and the lab right after chosen tasks, for the reliability suite
description:
  - Appends one JSON line per task result (ok, failed, unreachable) to the file named by
    E(VLT_REL_RECORD), keyed by the task name.
  - For the task names listed in E(VLT_REL_SNAPSHOTS) (a JSON object, name to a name filter),
    it adds a snapshot of the lab's libvirtd taken in the controller as the result arrives,
    before that host's next task starts, so no extra task (and no extra process) is needed.
requirements:
  - libvirt-python in the controller's Python (the project venv)
'''

import json
import os
import sys
import time

from ansible.plugins.callback import CallbackBase

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import harness  # noqa: E402 pylint: disable=wrong-import-position,import-error


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'reliability_recorder'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.path = os.environ.get('VLT_REL_RECORD')
        self.snapshots = json.loads(os.environ.get('VLT_REL_SNAPSHOTS') or '{}')

    def _record(self, result, status):
        if not self.path:
            return
        task = getattr(result, 'task', None) or result._task  # pylint: disable=protected-access
        data = getattr(result, 'result', None)
        if data is None:
            data = result._result  # pylint: disable=protected-access
        key = task.get_name()
        entry = dict(key=key, status=status, result=data, at=time.time())
        if key in self.snapshots:
            entry['lab'] = harness.snapshot(self.snapshots[key] or None)
        with open(self.path, 'a') as handle:
            handle.write(json.dumps(entry, default=str) + '\n')

    def v2_runner_on_ok(self, result, **kwargs):
        self._record(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False, **kwargs):
        self._record(result, 'failed')

    def v2_runner_on_unreachable(self, result, **kwargs):
        self._record(result, 'unreachable')
