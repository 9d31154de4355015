# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ISO images made in memory with pycdlib: cloud-init NoCloud seeds (label ``cidata``)
and images of files, as Packer's libvirt builder attaches them. Names keep their case
and dashes through Rock Ridge and Joliet; images are compared by their files, since
an ISO carries the time it was written."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import re
import traceback

from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

PYCDLIB_IMPORT_ERROR = None
try:
    import pycdlib
except ImportError:
    pycdlib = None
    PYCDLIB_IMPORT_ERROR = traceback.format_exc()

FILE_NAME = re.compile(r'\A[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z')
LABEL = re.compile(r'\A[A-Za-z0-9_ -]{1,32}\Z')


# Files of a seed shown in a diff by their size only: cloud-init's user-data is where
# passwords, keys and tokens go.
CLOUD_INIT_SECRET_FILES = ('user-data',)


def cloud_init_files(user_data, meta_data=None, network_config=None):
    """The files of a NoCloud seed: ``user-data`` and ``meta-data`` always, ``network-config``
    when given."""
    files = {'user-data': user_data or '', 'meta-data': meta_data or ''}
    if network_config:
        files['network-config'] = network_config
    return files


def _iso9660_name(name, index):
    stem = re.sub(r'[^A-Z0-9_]', '_', name.upper())[:8] or 'FILE'
    return '/%s%d.;1' % (stem[:6], index)


def build(files, label, option='files'):
    """ISO bytes holding ``files`` (name -> text or bytes) at the root, volume ``label``."""
    if not isinstance(label, str) or not LABEL.fullmatch(label):
        raise ValidationError('label', label, 'up to 32 letters, digits, spaces, "_" and "-"')
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, rock_ridge='1.09', vol_ident=label)
    for index, name in enumerate(sorted(files)):
        if not isinstance(name, str) or not FILE_NAME.fullmatch(name):
            raise ValidationError('%s.%s' % (option, name), name, 'a file name of letters, digits and ". _ -" '
                                  '(at most 64, no directories)')
        if not isinstance(files[name], (str, bytes)):
            raise ValidationError('%s.%s' % (option, name), files[name], 'the text of the file')
        data = encoded(files)[name]
        iso.add_fp(io.BytesIO(data), len(data), _iso9660_name(name, index), rr_name=name, joliet_path='/' + name)
    out = io.BytesIO()
    iso.write_fp(out)
    iso.close()
    return out.getvalue()


def read(data):
    """(label, {name: bytes}) of an ISO image made by build()."""
    iso = pycdlib.PyCdlib()
    try:
        iso.open_fp(io.BytesIO(data))
    except pycdlib.pycdlibexception.PyCdlibException:
        return None, {}
    try:
        label = iso.pvd.volume_identifier.decode('ascii', 'replace').strip()
        found = {}
        for child in iso.list_children(rr_path='/'):
            if child is None or child.is_dot() or child.is_dotdot() or child.is_dir():
                continue
            name = child.rock_ridge.name().decode('utf-8') if child.rock_ridge else child.file_identifier().decode()
            out = io.BytesIO()
            iso.get_file_from_iso_fp(out, rr_path='/' + name)
            found[name] = out.getvalue()
        return label, found
    finally:
        iso.close()


def encoded(files):
    """``files`` with every content as bytes."""
    return dict((name, value if isinstance(value, bytes) else value.encode('utf-8')) for name, value in files.items())


def listing(files, label, masked=(), compare=None):
    """Text for a diff: the label and each file with its content; the files named in ``masked``
    by their size only, and whether they differ from the same file in ``compare`` (the other
    side of the diff), so a diff says a secret changed without showing it."""
    if files is None:
        return ''
    data = encoded(files)
    other = encoded(compare) if compare is not None else None
    lines = ['label: %s' % label]
    for name in sorted(files):
        lines.append('--- %s' % name)
        if name in masked:
            changed = other is not None and other.get(name) != data[name]
            lines.append('(%d bytes, masked: it may hold passwords or keys%s)'
                         % (len(data[name]), '; changed' if changed else ''))
            continue
        lines.extend(data[name].decode('utf-8', 'replace').splitlines())
    return '\n'.join(lines) + '\n'
