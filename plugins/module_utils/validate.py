# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input checks shared by every plugin: names that reach XML or paths, MAC
addresses, sizes with units. Each failure names the option, the value and what is
allowed, and is raised before anything is changed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import traceback

NETADDR_IMPORT_ERROR = None
try:
    import netaddr
except ImportError:
    netaddr = None
    NETADDR_IMPORT_ERROR = traceback.format_exc()


class ValidationError(ValueError):
    """Bad input: the message names the option, the value and what is allowed."""

    def __init__(self, option, value, allowed):
        self.option = option
        self.value = value
        self.allowed = allowed
        super(ValidationError, self).__init__(
            '%s=%r is not valid: %s' % (option, value, allowed))


NAME_PATTERN = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.+:-]*$')
NAME_MAX = 100
NAME_ALLOWED = ('use 1 to %d letters, digits and "_ . + : -", starting with a letter or digit'
                % NAME_MAX)


def name(value, option='name'):
    """A libvirt object name (domain, network, pool, volume) that is safe in XML and paths."""
    if not isinstance(value, str) or not value or len(value) > NAME_MAX or not NAME_PATTERN.match(value):
        raise ValidationError(option, value, NAME_ALLOWED)
    return value


BOX_NAME_PATTERN = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$')


def box_name(value, option='name'):
    """A Vagrant box name: ``name`` or ``org/name``."""
    if not isinstance(value, str) or len(value) > NAME_MAX or not BOX_NAME_PATTERN.match(value):
        raise ValidationError(option, value, 'a Vagrant box name such as "org/name": letters, '
                              'digits and "_ . -", at most one "/", up to %d characters' % NAME_MAX)
    return value


def absolute_path(value, option='path'):
    """An absolute path with no NUL byte and no ``..`` component."""
    if (not isinstance(value, str) or not os.path.isabs(value) or '\0' in value
            or '..' in value.split('/')):
        raise ValidationError(option, value, 'an absolute path without ".." components')
    return value


def mac(value, option='mac'):
    """A unicast MAC address, returned lower-case and colon-separated."""
    if netaddr is None:
        raise ImportError('netaddr is required: %s' % NETADDR_IMPORT_ERROR)
    text = str(value).strip()
    if not re.match(r'^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$', text):
        raise ValidationError(option, value, 'a MAC address such as 52:54:00:12:34:56')
    eui = netaddr.EUI(text, dialect=netaddr.mac_unix_expanded)
    if eui.words[0] & 1:
        raise ValidationError(option, value, 'a unicast MAC (the first octet must be even)')
    return str(eui)


# libvirt's scaled-integer units: a bare letter and "iB" are powers of 1024,
# "B" after the letter is a power of 1000.
_UNIT_POWERS = {'': 0, 'k': 1, 'm': 2, 'g': 3, 't': 4, 'p': 5, 'e': 6}
SIZE_PATTERN = re.compile(r'^\s*(\d+(?:\.\d+)?)\s*([kmgtpe]?)(i?b|bytes?)?\s*$', re.IGNORECASE)
SIZE_ALLOWED = ('a whole number of bytes or a number with a unit: K/M/G/T (or KiB/MiB/GiB/TiB) '
                'are powers of 1024, KB/MB/GB/TB are powers of 1000, e.g. 10G or 512MiB')


def size(value, option='size', default_unit='', minimum=1):
    """Bytes from a vagrant/libvirt size: ``10G`` and ``10GiB`` are 10 * 1024**3,
    ``10GB`` is 10 * 1000**3, a bare number is in ``default_unit`` (bytes by default)."""
    if isinstance(value, bool):
        raise ValidationError(option, value, SIZE_ALLOWED)
    if isinstance(value, int):
        text = str(value) + default_unit
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value)) + default_unit
    elif isinstance(value, str):
        text = value if re.search(r'[A-Za-z]', value) else value.strip() + default_unit
    else:
        raise ValidationError(option, value, SIZE_ALLOWED)
    match = SIZE_PATTERN.match(text)
    if not match:
        raise ValidationError(option, value, SIZE_ALLOWED)
    number, prefix, suffix = match.groups()
    base = 1000 if suffix and suffix.lower() == 'b' and prefix else 1024
    scaled = float(number) * (base ** _UNIT_POWERS[prefix.lower()])
    if scaled != int(scaled):
        raise ValidationError(option, value, 'a whole number of bytes once scaled')
    if int(scaled) < minimum:
        raise ValidationError(option, value, 'at least %d bytes; %s' % (minimum, SIZE_ALLOWED))
    return int(scaled)


def choice(value, option, allowed):
    """``value`` must be one of ``allowed``."""
    if value not in allowed:
        raise ValidationError(option, value, 'one of %s' % ', '.join(str(a) for a in allowed))
    return value


def positive_int(value, option):
    """A whole number greater than zero."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError(option, value, 'a whole number greater than 0')
    if isinstance(value, bool) or number < 1 or str(number) != str(value).strip():
        raise ValidationError(option, value, 'a whole number greater than 0')
    return number
