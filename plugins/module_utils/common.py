# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module does the same way: turn bad input and libvirt errors into
clean failures, look objects up without exceptions, report runtime state in diffs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib

from ansible_collections.vagrantless.libvirt.plugins.module_utils import validate
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import CONNECTION_ARGUMENT_SPEC, libvirt
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


def diff_entries(xml_diff, label, before_state, after_state):
    """The ``diff`` result: the XML definition and the runtime state, each with a header."""
    entries = [dict(xml_diff, before_header='%s (definition)' % label,
                    after_header='%s (definition)' % label)]
    if before_state != after_state:
        entries.append(dict(before=state_text(before_state), after=state_text(after_state),
                            before_header='%s (state)' % label, after_header='%s (state)' % label))
    return entries


def check_xml_options(params, multiline=(), skip=()):
    """A module's options (but the connection's, which never reach XML) hold only what XML and
    libvirt can hold; see validate.xml_safe."""
    validate.xml_safe(params, multiline=multiline, skip=set(skip) | set(CONNECTION_ARGUMENT_SPEC))
