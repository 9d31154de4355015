# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module does the same way: turn bad input and libvirt errors into
clean failures, look objects up without exceptions, record its diff in one shape, and
run its manager (``run_module``, the ``Manager`` base class)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import copy

from ansible_collections.vagrantless.libvirt.plugins.module_utils import validate
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import (
    CONNECTION_ARGUMENT_SPEC, connect, libvirt)
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError


class LibvirtOperationError(Exception):
    """A failure the module reports as is (already phrased for the user)."""


@contextlib.contextmanager
def failing_cleanly(module, what):
    """Run a module's work; bad input and libvirt errors end in ``fail_json``."""
    try:
        yield
    except ValidationError as error:
        module.fail_json(msg=str(error), option=error.option)
    except LibvirtOperationError as error:
        module.fail_json(msg=str(error))
    except Exception as error:  # pylint: disable=broad-except
        if libvirt is not None and isinstance(error, libvirt.libvirtError):
            module.fail_json(msg='%s: %s' % (what, error.get_error_message()),
                             libvirt_error_code=error.get_error_code())
        raise


def lookup(finder, name, missing_code):
    """``finder(name)``, or None when libvirt says ``missing_code`` (no such object)."""
    try:
        return finder(name)
    except libvirt.libvirtError as error:
        if error.get_error_code() == missing_code:
            return None
        raise


def inactive_xml(obj, flag):
    """``obj.XMLDesc(flag)`` (the persistent definition); drivers that know no such flag
    (libvirt's test driver for pools) give their only definition."""
    try:
        return obj.XMLDesc(flag)
    except libvirt.libvirtError as error:
        if error.get_error_code() in (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_ERR_NO_SUPPORT):
            return obj.XMLDesc(0)
        raise


def state_text(values):
    """Runtime facts (active, autostart…) as stable text lines for a diff."""
    if values is None:
        return ''
    return ''.join('%s: %s\n' % (key, values[key]) for key in sorted(values))


class DiffRecorder(object):
    """The ``diff`` result of one run, in the one shape every module returns: a list of entries
    {before, after, before_header, after_header}, each headed ``<what> (<part>)``, such as
    ``network lab0 (definition)`` or ``domain web (state)``."""

    def __init__(self):
        self.entries = []

    def text(self, what, part, before, after):
        """An entry of text (a listing, a state, a definition)."""
        header = '%s (%s)' % (what, part)
        self.entries.append(dict(before=before, after=after, before_header=header, after_header=header))

    def definition(self, what, xml_diff):
        """The XML definition before and after (``xmltree.diff``'s dict)."""
        self.text(what, 'definition', xml_diff['before'], xml_diff['after'])

    def state(self, what, before, after):
        """The runtime state (dicts, see ``state_text``), only when it changes."""
        if before != after:
            self.text(what, 'state', state_text(before), state_text(after))

    def resource(self, what, xml_diff, before_state=None, after_state=None):
        """A libvirt object: its definition, and its runtime state when that changes."""
        self.definition(what, xml_diff)
        self.state(what, before_state, after_state)


class Manager(object):
    """What every manager shares: the options, check mode, the result a run builds (a fresh
    copy of ``RESULT``) and the diff it records. A manager converges in ``ensure(conn)``, on
    the libvirt connection ``target(module)`` opens; one that works on no connection (the
    forwarded ports) overrides ``run``."""

    RESULT = dict(changed=False)

    def __init__(self, params, check_mode):
        self.params = params
        self.check_mode = check_mode
        self.result = None
        self.diff = None
        self.reset()

    @classmethod
    def from_module(cls, module):
        """The manager of a module's run; one that needs more of the module overrides this."""
        return cls(module.params, module.check_mode)

    def target(self, module):
        """What ``ensure`` works on: the connection the module's options describe."""
        return connect(module)

    def ensure(self, conn):
        """Converge on ``conn``; return the module result (see ``finish``)."""
        raise NotImplementedError('a manager converges in its own ensure()')

    def run(self, module):
        """The module's run: converge on its target; return the module result."""
        return self.ensure(self.target(module))

    def close(self):
        """Called once the run is over, whatever its outcome (temporary files go here)."""

    def reset(self):
        """Start the result and the diff over (a new run, or a retry after a race)."""
        self.result = copy.deepcopy(self.RESULT)
        self.diff = DiffRecorder()

    def finish(self, **values):
        """The module result: what the run set, ``values``, and the diff recorded."""
        self.result.update(values)
        self.result['diff'] = self.diff.entries
        return self.result

    # Converges tried in all when each meets another run's change: several runs may meet at one object.
    RACE_TRIES = 5

    def retrying_race(self, errors, converge, *args):
        """``converge(*args)``; when libvirt answers one of ``errors`` (codes: another run changed
        the object between our read and our write), start over, read again and converge again,
        ``RACE_TRIES`` converges in all. Never in check mode, which writes nothing."""
        for attempt in range(1, self.RACE_TRIES + 1):
            try:
                return converge(*args)
            except libvirt.libvirtError as error:
                if self.check_mode or error.get_error_code() not in errors or attempt == self.RACE_TRIES:
                    raise
                self.reset()
        raise AssertionError('unreachable: the last try returns or raises')


def run_module(module, manager_class, what):
    """The end of every module's ``main()``: build its manager, converge it, exit with its
    result (``warnings`` in it become the module's warnings); bad input and libvirt errors
    end in ``fail_json`` (see ``failing_cleanly``), ``what`` naming the object."""
    manager = None
    try:
        with failing_cleanly(module, what):
            manager = manager_class.from_module(module)
            result = manager.run(module)
    finally:
        if manager is not None:
            manager.close()
    for warning in result.pop('warnings', []):
        module.warn(warning)
    module.exit_json(**result)


def check_xml_options(params, multiline=(), skip=()):
    """A module's options (but the connection's, which never reach XML) hold only what XML and
    libvirt can hold; see validate.xml_safe."""
    validate.xml_safe(params, multiline=multiline, skip=set(skip) | set(CONNECTION_ARGUMENT_SPEC))
