# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options declared once. An ``Option`` says what a module option is (type, default,
choices, suboptions, documentation) and what it is for (whether it belongs to the
resource's definition, the default a new resource gets, the machine setting it comes
from); an ``Options`` holds a resource's options and derives from them everything
that used to be kept by hand: the argument spec, the documentation of the module's
options, the names that make up the definition, the defaults of a new resource and
the settings a machine gives.

Modeled on community.docker's option groups, without their engines: the XML builders
stay where they are and read the derived lists."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

# the argument spec's checks an option of dicts may carry, passed on as they are
CHECKS = ('mutually_exclusive', 'required_together', 'required_one_of', 'required_if', 'required_by')


def _text(value):
    """A default as the documentation writes it: C(true), C([acpi, apic]), C(512)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return '[%s]' % ', '.join(_text(item) for item in value)
    return str(value)


class Option(object):
    """One option of a module (or one suboption of an option).

    ``default`` is the argument spec's (the module applies it to every call);
    ``new_default`` is the default a new resource gets when the option is not given, while
    an existing resource keeps its own; ``definition`` says the option is part of the
    resource's definition (its XML); ``setting`` is the machine setting (the inventory
    variable, such as ``libvirt_memory``) a machine gives it by, None when the role derives
    it; ``part`` is the element of the definition it builds, so an existing resource gets
    that element only when one of its options is given."""

    def __init__(self, name, kind, description, elements=None, default=None, choices=None, required=False,
                 no_log=None, suboptions=None, new_default=None, definition=False, setting=None, part=None,
                 **checks):
        unknown = set(checks) - set(CHECKS)
        if unknown:
            raise TypeError('option %s: unknown keys %s' % (name, ', '.join(sorted(unknown))))
        if suboptions and not (kind == 'dict' or elements == 'dict'):
            raise ValueError('option %s: only a dict or a list of dicts has suboptions' % name)
        self.name = name
        self.type = kind
        self.description = [description] if isinstance(description, str) else list(description)
        self.elements = elements
        self.default = default
        self.choices = tuple(choices) if choices is not None else None
        self.required = required
        self.no_log = no_log
        self.suboptions = Options(*suboptions) if suboptions else None
        self.new_default = new_default
        self.definition = definition
        self.setting = setting
        self.part = part
        self.checks = checks

    def argument_spec(self, with_default=True):
        """This option's argument spec entry (``with_default=False``: without its own default,
        its suboptions' kept)."""
        entry = dict(type=self.type)
        if self.elements is not None:
            entry['elements'] = self.elements
        if self.required:
            entry['required'] = True
        if self.default is not None and with_default:
            entry['default'] = copy.deepcopy(self.default)
        if self.choices is not None:
            entry['choices'] = list(self.choices)
        if self.no_log is not None:
            entry['no_log'] = self.no_log
        if self.suboptions is not None:
            entry['options'] = self.suboptions.argument_spec()
        entry.update((key, copy.deepcopy(value)) for key, value in self.checks.items())
        return entry

    def documentation(self, resource='resource'):
        """This option's entry of the module's DOCUMENTATION ``options``."""
        description = list(self.description)
        if self.new_default is not None:
            description.append('Default C(%s) for a new %s; an existing %s keeps its own unless this is given.'
                               % (_text(self.new_default), resource, resource))
        entry = dict(description=description, type=self.type)
        if self.elements is not None:
            entry['elements'] = self.elements
        if self.required:
            entry['required'] = True
        if self.default is not None:
            entry['default'] = copy.deepcopy(self.default)
        if self.choices is not None:
            entry['choices'] = list(self.choices)
        if self.suboptions is not None:
            entry['suboptions'] = self.suboptions.documentation()
        return entry


class Options(object):
    """A resource's options, in the order its documentation lists them; ``resource`` names the
    resource in the documentation ("Default C(512) for a new domain")."""

    def __init__(self, *options, **details):
        self.resource = details.pop('resource', 'resource')
        if details:
            raise TypeError('unknown keys %s' % ', '.join(sorted(details)))
        self._options = {}
        self._order = []
        for option in options:
            if option.name in self._options:
                raise ValueError('option %s is declared twice' % option.name)
            self._options[option.name] = option
            self._order.append(option.name)

    def __iter__(self):
        return iter([self._options[name] for name in self._order])

    def __getitem__(self, name):
        return self._options[name]

    def __contains__(self, name):
        return name in self._options

    def argument_spec(self):
        """The argument spec, a fresh copy (AnsibleModule may change what it is given)."""
        return dict((option.name, option.argument_spec()) for option in self)

    def documentation(self):
        """The DOCUMENTATION ``options`` mapping, in declaration order."""
        return dict((option.name, option.documentation(self.resource)) for option in self)

    def definition(self):
        """The names of the options that make up the resource's definition."""
        return tuple(option.name for option in self if option.definition)

    def new_defaults(self):
        """What a new resource gets for each option not given (fresh copies)."""
        return dict((option.name, copy.deepcopy(option.new_default)) for option in self
                    if option.new_default is not None)

    def part(self, part):
        """The names of the options that build one element of the definition."""
        return tuple(option.name for option in self if option.part == part)

    def settings(self):
        """The options a machine sets, by the variable it sets them with."""
        return dict((option.setting, option) for option in self if option.setting is not None)
