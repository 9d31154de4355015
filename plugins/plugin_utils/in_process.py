# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A libvirt module run inside the controller's worker process, when the module would run on the
controller anyway (a local hypervisor: the task's connection is ``local``). ``ModuleAction`` is the
action of each libvirt module (plugins/action/<module>.py).

Sent as usual, each run of a module costs a new Python process, the import of libvirt and lxml,
and the AnsiballZ payload's unpacking: 0.3 to 0.5 s, most of a libvirt step that has little to do.
Run here, the module's own ``main()`` gets the same arguments (the task's, with Ansible's
``_ansible_*`` ones), and its output goes through Ansible's own parser of module output, so the
task's result is the one a sent module would give: the same options checked the same way, the same
``no_log`` masking, the same warnings and failures.

Where that equivalence does not hold, the module is sent as usual: another connection, ``become``,
``async``, an ``environment`` for the task, an ansible-core without the module hooks used here, or a
controller Python that lacks a library the modules import (a module sent to ``localhost`` may then
find it in the interpreter the inventory names).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import importlib
import importlib.util
import io
import json
import traceback

from ansible.module_utils import basic
from ansible.module_utils.common import warnings as module_warnings
from ansible.plugins.action import ActionBase
from ansible.vars.clean import remove_internal_keys

try:  # ansible-core 2.19 and later: serialization profiles for module input and output, and the flag
    # that tells module_utils code whether it runs in the controller or in a module
    from ansible.module_utils import _internal as module_side
    from ansible.module_utils.common.json import Direction, get_module_encoder
except ImportError:
    module_side = Direction = get_module_encoder = None

# The libraries the modules import (requirements.txt): all of them in the controller's Python, or no
# module runs here.
LIBRARIES = ('libvirt', 'lxml', 'netaddr', 'pycdlib')
# Modules are written for ansible-core's default serialization profile.
PROFILE = 'legacy'


def _libraries_present():
    return all(importlib.util.find_spec(name) is not None for name in LIBRARIES)


def applies(action):
    """Whether ``action``'s task may run its module here (see the module docstring)."""
    task = action._task
    return (len((task.resolved_action or '').split('.')) == 3
            and action._connection.transport == 'local'
            and not action._play_context.become
            and not task.async_val
            and not action._compute_environment_string()
            and get_module_encoder is not None
            and hasattr(basic, '_ANSIBLE_PROFILE') and hasattr(module_side, 'is_controller')
            and _libraries_present())


def module_file(resolved_action):
    """The Python module of collection module ``resolved_action`` (namespace.collection.name)."""
    namespace, collection, name = resolved_action.split('.')
    return 'ansible_collections.%s.%s.plugins.modules.%s' % (namespace, collection, name)


def execute(action, module_args, task_vars):
    """The result of the task's module run here on ``module_args``: what ``_execute_module`` returns
    for the same run sent to the controller."""
    name = action._task.resolved_action
    module_args = dict(module_args)
    action._update_module_args(name, module_args, task_vars)
    payload = json.dumps(dict(ANSIBLE_MODULE_ARGS=module_args),
                         cls=get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)).encode('utf-8')
    stdout, stderr, rc = io.StringIO(), io.StringIO(), 0
    basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE = payload, PROFILE
    in_controller, module_side.is_controller = module_side.is_controller, False  # module_utils act as in a module:
    try:  # warnings go into the result, JSON is the module's
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            importlib.import_module(module_file(name)).main()
    except SystemExit as end:  # exit_json and fail_json end here, as they end a module's process
        rc = end.code if isinstance(end.code, int) else (0 if end.code is None else 1)
        if not isinstance(end.code, (int, type(None))):
            stderr.write('%s\n' % end.code)  # sys.exit('text'): Python prints the text as it exits
    except Exception:  # pylint: disable=broad-exception-caught
        stderr.write(traceback.format_exc())  # what a module's process prints as it dies
        rc = 1
    finally:
        module_side.is_controller = in_controller
        basic._ANSIBLE_ARGS = basic._ANSIBLE_PROFILE = basic._PARSED_MODULE_ARGS = None
        module_warnings._global_warnings.clear()
        module_warnings._global_deprecations.clear()
    data = action._parse_returned_data(dict(rc=rc, stdout=stdout.getvalue(), stderr=stderr.getvalue()), PROFILE)
    data.pop('_ansible_suppress_tmpdir_delete', None)
    remove_internal_keys(data)
    return data


class ModuleAction(ActionBase):
    """The action of a libvirt module: its module run here when it may be (see above), else sent."""

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super(ModuleAction, self).run(tmp, task_vars)
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result.update(self.task_result(task_vars, wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def task_result(self, task_vars, wrap_async):
        """The task's result (a module with more to do around its run says so here)."""
        return self.module_result(self._task.args, task_vars, wrap_async)

    def module_result(self, module_args, task_vars, wrap_async=False):
        """The module's result on ``module_args``: run here when it may be, else sent."""
        if applies(self):
            return execute(self, module_args, task_vars)
        return self._execute_module(module_args=module_args, task_vars=task_vars, wrap_async=wrap_async)
