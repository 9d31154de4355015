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


# Patterns are matched whole (fullmatch, and \\A...\\Z for any .match): `$` would also match
# before a final new line, so "x\n" would pass.
NAME_PATTERN = re.compile(r'\A[A-Za-z0-9][A-Za-z0-9_.+:-]*\Z')
NAME_MAX = 100
NAME_ALLOWED = ('use 1 to %d letters, digits and "_ . + : -", starting with a letter or digit'
                % NAME_MAX)


def name(value, option='name'):
    """A libvirt object name (domain, network, pool, volume) that is safe in XML and paths."""
    if not isinstance(value, str) or not value or len(value) > NAME_MAX or not NAME_PATTERN.fullmatch(value):
        raise ValidationError(option, value, NAME_ALLOWED)
    return value


BOX_NAME_PATTERN = re.compile(r'\A[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?\Z')


def box_name(value, option='name'):
    """A Vagrant box name: ``name`` or ``org/name``."""
    if not isinstance(value, str) or len(value) > NAME_MAX or not BOX_NAME_PATTERN.fullmatch(value):
        raise ValidationError(option, value, 'a Vagrant box name such as "org/name": letters, '
                              'digits and "_ . -", at most one "/", up to %d characters' % NAME_MAX)
    return value


def absolute_path(value, option='path'):
    """An absolute path with no control character (no NUL, no new line) and no ``..`` component."""
    if (not isinstance(value, str) or not os.path.isabs(value) or CONTROL.search(value)
            or '..' in value.split('/')):
        raise ValidationError(option, value, 'an absolute path without ".." components or control characters')
    return value


# -- what XML (and libvirt, and the files it writes) can hold -----------------------------
# XML 1.0 holds no C0 control character but tab, line feed and carriage return, no lone
# surrogate and neither U+FFFE nor U+FFFF (lxml raises on them); DEL and the C1 controls it
# could hold have no use in a name, a path or a description.
NOT_XML = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]')
# ...and on one line: no tab, line feed or carriage return either.
CONTROL = re.compile('[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]')
TEXT_ALLOWED = 'text without control characters (tab and new line are fine)'
LINE_ALLOWED = 'one line of text without control characters (no new line, tab or NUL)'


def text(value, option, multiline=False, maximum=None):
    """A string XML can hold: one line unless ``multiline`` (then tab and new lines too)."""
    bad = NOT_XML if multiline else CONTROL
    allowed = TEXT_ALLOWED if multiline else LINE_ALLOWED
    if not isinstance(value, str) or bad.search(value):
        raise ValidationError(option, value, allowed)
    if maximum is not None and len(value) > maximum:
        raise ValidationError(option, value, '%s, at most %d characters' % (allowed, maximum))
    return value


def _masked(option, value):
    return '********' if 'passw' in option else value


def xml_safe(params, multiline=(), skip=()):
    """Every string in ``params`` (a module's options, walked through nested dicts and lists,
    dict keys too) can go into XML: refused naming the item (``inputs[0].bus``,
    ``metadata.lab``) otherwise. Options in ``multiline`` may hold tabs and new lines;
    options in ``skip`` (never written to XML) are not looked at. Passwords are not shown."""
    def walk(value, option, lines):
        if isinstance(value, dict):
            for key in value:
                shown = '%s.%s' % (option, key)
                if isinstance(key, str) and CONTROL.search(key):
                    raise ValidationError(option, key, 'keys that are %s' % LINE_ALLOWED)
                walk(value[key], shown, lines)
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                walk(item, '%s[%d]' % (option, index), lines)
        elif isinstance(value, str) and (NOT_XML if lines else CONTROL).search(value):
            raise ValidationError(option, _masked(option, value), TEXT_ALLOWED if lines else LINE_ALLOWED)
    for name in sorted(params):
        if name not in skip:
            walk(params[name], name, name in multiline)
    return params


# An element or attribute name of ours: XML's Name, kept to ASCII and without the namespace colon.
XML_NAME = re.compile(r'\A[A-Za-z_][A-Za-z0-9_.-]*\Z')


def xml_name(value, option):
    """A string that is a valid XML tag or attribute name (a libvirt feature, a backing element)."""
    if not isinstance(value, str) or len(value) > NAME_MAX or not XML_NAME.fullmatch(value):
        raise ValidationError(option, value, 'an XML name: a letter or "_", then letters, digits and "_ . -" '
                              '(at most %d characters)' % NAME_MAX)
    return value


# A DNS name as dnsmasq takes it for a host or a domain: labels of letters, digits, "-" and "_"
# (neither first), separated by dots.
HOSTNAME_PATTERN = re.compile(r'\A[A-Za-z0-9][A-Za-z0-9_-]{0,62}(\.[A-Za-z0-9][A-Za-z0-9_-]{0,62})*\Z')


def hostname(value, option):
    """A host or domain name that dnsmasq's configuration can carry (no space, no new line)."""
    if not isinstance(value, str) or len(value) > 253 or not HOSTNAME_PATTERN.fullmatch(value):
        raise ValidationError(option, value, 'a DNS name such as "web" or "lab.example": labels of letters, '
                              'digits, "-" and "_" (not first, at most 63) separated by dots, 253 characters in all')
    return value


def spaceless(value, option, maximum=1023):
    """One printable ASCII word (a boot file name dnsmasq is told): no space, no comma, no control."""
    if (not isinstance(value, str) or not value or len(value) > maximum or not value.isascii()
            or not value.isprintable() or any(char.isspace() or char == ',' for char in value)):
        raise ValidationError(option, value, 'printable ASCII of at most %d characters without spaces, commas '
                              'or control characters' % maximum)
    return value


MAC_PATTERN = re.compile(r'\A[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}\Z')


def mac(value, option='mac'):
    """A unicast MAC address, returned lower-case and colon-separated."""
    if netaddr is None:
        raise ImportError('netaddr is required: %s' % NETADDR_IMPORT_ERROR)
    text = str(value).strip()
    if not MAC_PATTERN.fullmatch(text):
        raise ValidationError(option, value, 'a MAC address such as 52:54:00:12:34:56')
    eui = netaddr.EUI(text, dialect=netaddr.mac_unix_expanded)
    if eui.words[0] & 1:
        raise ValidationError(option, value, 'a unicast MAC (the first octet must be even)')
    return str(eui)


def ipv4(value, option):
    """An IPv4 address in dotted-quad text (a number is no address here, though netaddr would take
    one), returned in its canonical form: what QEMU, libvirt and a comparison see."""
    if netaddr is None:
        raise ImportError('netaddr is required: %s' % NETADDR_IMPORT_ERROR)
    if not isinstance(value, str):
        raise ValidationError(option, value, 'an IPv4 address such as 10.20.30.40')
    try:
        return str(netaddr.IPAddress(value, version=4))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise ValidationError(option, value, 'an IPv4 address such as 10.20.30.40')


# libvirt's scaled-integer units: a bare letter and "iB" are powers of 1024,
# "B" after the letter is a power of 1000.
_UNIT_POWERS = {'': 0, 'k': 1, 'm': 2, 'g': 3, 't': 4, 'p': 5, 'e': 6}
SIZE_PATTERN = re.compile(r'\A\s*(\d+(?:\.\d+)?)\s*([kmgtpe]?)(i?b|bytes?)?\s*\Z', re.IGNORECASE)
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
    match = SIZE_PATTERN.fullmatch(text)
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


PORT_ALLOWED = 'a TCP port number from 1 to 65535'


def port(value, option):
    """A TCP port number, or None when not given."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ValidationError(option, value, PORT_ALLOWED)
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
