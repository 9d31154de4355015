# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-task wall time of one ansible-playbook run, written as JSON for the benchmark.

ansible-core 2.19 ships only the ``default``, ``minimal``, ``oneline``, ``junit`` and
``tree`` callbacks; ``profile_tasks`` lives in ansible.posix, which the project does not
install. This one does what the benchmark needs and nothing more: like ``profile_tasks`` a
task's wall time runs from its start to the start of the next task (or the end of the
run), so with several forks it is the time the slowest host kept the play waiting; each
host's own time (start of its runner to its result) is kept beside it.

Enabled only by the benchmark: ANSIBLE_CALLBACK_PLUGINS=tests/benchmarks/callback_plugins,
ANSIBLE_CALLBACKS_ENABLED=bench_profile, BENCH_PROFILE=<path of the JSON to write>."""

from __future__ import annotations

DOCUMENTATION = '''
name: bench_profile
type: aggregate
short_description: per-task wall time as JSON, for tests/benchmarks
description:
  - Records each task's wall time and each host's time in it, writes them to $BENCH_PROFILE.
requirements:
  - enable in callbacks_enabled
'''

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_profile'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._t0 = time.time()
        self._tasks = []
        self._running = {}
        self._play = None

    def _close_task(self, now):
        if self._tasks and self._tasks[-1]['wall_s'] is None:
            self._tasks[-1]['wall_s'] = round(now - self._tasks[-1]['_start'], 4)

    def _open_task(self, task, handler=False):
        now = time.time()
        self._close_task(now)
        role = task._role.get_name(include_role_fqcn=False) if getattr(task, '_role', None) else None
        self._tasks.append(dict(name=task.name or task.action, role=role, action=task.action, handler=handler,
                                play=self._play, start_s=round(now - self._t0, 4), wall_s=None,
                                hosts={}, _start=now, _uuid=task._uuid))

    def v2_playbook_on_play_start(self, play):
        self._close_task(time.time())
        self._play = play.get_name()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._open_task(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._open_task(task, handler=True)

    def v2_runner_on_start(self, host, task):
        self._running[(host.get_name(), task._uuid)] = time.time()

    def _result(self, result, status):
        now = time.time()
        host = result._host.get_name()
        uuid = result._task._uuid
        started = self._running.pop((host, uuid), None)
        for entry in reversed(self._tasks):
            if entry['_uuid'] == uuid:
                entry['hosts'][host] = dict(status=status, changed=bool(result._result.get('changed')),
                                            seconds=round(now - started, 4) if started else None)
                break

    def v2_runner_on_ok(self, result):
        self._result(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._result(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._result(result, 'unreachable')

    def v2_playbook_on_stats(self, stats):
        now = time.time()
        self._close_task(now)
        path = os.environ.get('BENCH_PROFILE')
        if not path:
            return
        tasks = [{k: v for k, v in t.items() if not k.startswith('_')} for t in self._tasks]
        with open(path, 'w') as handle:
            json.dump(dict(t0_epoch=self._t0, end_s=round(now - self._t0, 4), tasks=tasks), handle, indent=1)
