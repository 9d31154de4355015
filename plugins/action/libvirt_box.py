# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt_box: the module, run as every libvirt module is (plugin_utils/in_process.py); when
it runs on the controller, the controller says every few seconds how far a box download has got, as
``vagrant box add`` shows its progress."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile
import threading

from ansible.utils.display import Display

from ansible_collections.vagrantless.libvirt.plugins.module_utils import download_progress
from ansible_collections.vagrantless.libvirt.plugins.plugin_utils.in_process import ModuleAction

display = Display()

# Seconds between two progress lines (a download that ends sooner says nothing).
REPORT_EVERY = 5.0


class ActionModule(ModuleAction):

    def task_result(self, task_vars, wrap_async):
        if self._connection.transport != 'local' or self._task.async_val or self._task.args.get('progress_file'):
            return self.module_result(self._task.args, task_vars, wrap_async)  # not watched from here
        descriptor, progress = tempfile.mkstemp(prefix='vagrantless-box-progress-')
        os.close(descriptor)
        try:
            return self._watched(dict(self._task.args, progress_file=progress), task_vars, progress)
        finally:
            os.unlink(progress)

    def _watched(self, module_args, task_vars, progress):
        """The module's result; while it runs, its download's progress as it writes it."""
        outcome = {}

        def module_run():
            try:
                outcome['result'] = self.module_result(module_args, task_vars)
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
