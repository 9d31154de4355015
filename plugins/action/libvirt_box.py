# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt_box: the module, run as it is; when it runs on the controller, the controller says
every few seconds how far a box download has got, as ``vagrant box add`` shows its progress."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile
import threading

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.vagrantless.libvirt.plugins.module_utils import download_progress

display = Display()

# Seconds between two progress lines (a download that ends sooner says nothing).
REPORT_EVERY = 5.0


class ActionModule(ActionBase):

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        wrap_async = self._task.async_val and not self._connection.has_native_async
        if self._connection.transport != 'local' or self._task.async_val or self._task.args.get('progress_file'):
            result.update(self._execute_module(task_vars=task_vars, wrap_async=wrap_async))  # not watched from here
        else:
            descriptor, progress = tempfile.mkstemp(prefix='vagrantless-box-progress-')
            os.close(descriptor)
            try:
                result.update(self._watched(dict(self._task.args, progress_file=progress), task_vars, progress))
            finally:
                os.unlink(progress)
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _watched(self, module_args, task_vars, progress):
        """The module's result; while it runs, its download's progress as it writes it."""
        outcome = {}

        def module_run():
            try:
                outcome['result'] = self._execute_module(module_args=module_args, task_vars=task_vars)
            except BaseException as error:  # pylint: disable=broad-exception-caught
                outcome['error'] = error  # raised again below, where the task runs

        worker = threading.Thread(target=module_run, name='libvirt_box module', daemon=True)
        worker.start()
        said = None
        while True:
            worker.join(REPORT_EVERY)
            if not worker.is_alive():
                break
            line = download_progress.report(progress)
            if line is not None and line != said:
                display.display('box %s: %s' % (module_args.get('name'), line))
                said = line
        if 'error' in outcome:
            raise outcome['error']
        return outcome['result']
