# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the box tests share: real images made by qemu-img (plain ones, and crafted ones
that name a host file), and box archives built from members."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import json
import subprocess
import tarfile

import pytest


@pytest.fixture(scope='session')
def images(tmp_path_factory):
    """{kind: bytes of an image file}: a plain qcow2 and raw, and the attacks - a qcow2 with
    a backing file on a host file (raw or qcow2 backing format), a chain, an external data file."""
    where = tmp_path_factory.mktemp('images')

    def make(name, *argv):
        subprocess.run(['qemu-img', 'create', '-q'] + list(argv[:-1]) + [str(where / name), argv[-1]], check=True)
        return str(where / name)
    plain = make('plain.qcow2', '-f', 'qcow2', '1M')
    made = dict(
        qcow2=plain,
        raw=make('plain.raw', '-f', 'raw', '64K'),
        backed_raw=make('backed-raw.qcow2', '-f', 'qcow2', '-b', '/etc/hostname', '-F', 'raw', '1M'),
        backed_qcow2=make('backed-qcow2.qcow2', '-f', 'qcow2', '-b', plain, '-F', 'qcow2', '1M'),
        data_file=make('data-file.qcow2', '-f', 'qcow2', '-o', 'data_file=%s' % (where / 'data.raw'), '1M'),
    )
    found = {}
    for kind, path in made.items():
        with open(path, 'rb') as handle:
            found[kind] = handle.read()
    return found


def archive(path, members, compress=''):
    """A tar at ``path`` of (name, data or link target, tar type[, mode]) members."""
    with tarfile.open(str(path), 'w' + (':' + compress if compress else '')) as tar:
        for member in members:
            name, data, kind = member[:3]
            info = tarfile.TarInfo(name)
            info.type = kind
            info.mode = member[3] if len(member) > 3 else info.mode
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.linkname = data
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return str(path)


@pytest.fixture
def make_box():
    return archive


@pytest.fixture
def box_members(images):
    """members(metadata, {file: bytes}) -> tar members of a box (a Vagrantfile included)."""
    def members(metadata, files):
        found = [('metadata.json', json.dumps(metadata).encode() if not isinstance(metadata, bytes) else metadata,
                  tarfile.REGTYPE)]
        found += [(name, data, tarfile.REGTYPE) for name, data in sorted(files.items())]
        return found + [('Vagrantfile', b'', tarfile.REGTYPE)]
    return members
