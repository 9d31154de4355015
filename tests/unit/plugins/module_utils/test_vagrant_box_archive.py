# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Boxes: names, versions and constraints, metadata v1/v2, catalogs, and safe,
all-or-nothing installation into Vagrant's store."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tarfile

import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import vagrant_box
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError


def test_vagrant_libvirt_volume_names():
    assert vagrant_box.volume_name('generic/debian12', '4.3.12') == \
        'generic-VAGRANTSLASH-debian12_vagrant_box_image_4.3.12_box.img'
    assert vagrant_box.volume_name('tiny', '0_1700000000', 'data') == 'tiny_vagrant_box_image_0_1700000000_data.img'


@pytest.mark.parametrize('version, constraint, expected', [
    ('1.2.0', '>= 1.2, < 2', True), ('2.0', '>= 1.2, < 2', False), ('1.1', '>= 1.2', False),
    ('1.2.5', '~> 1.2.3', True), ('1.3.0', '~> 1.2.3', False), ('1.9', '~> 1.2', True), ('2.0', '~> 1.2', False),
    ('1.0', '1.0', True), ('1.0', '= 1.0', True), ('1.0', '!= 1.0', False), ('10.0', '> 9.1', True),
])
def test_constraints(version, constraint, expected):
    assert vagrant_box.satisfies(version, vagrant_box.parse_constraint(constraint)) is expected


@pytest.mark.parametrize('bad', ['>> 1', 'latest', '1.0,, 2', '=> 1.0'])
def test_bad_constraints_name_the_option(bad):
    with pytest.raises(ValidationError, match='version='):
        vagrant_box.parse_constraint(bad)


def test_best_version():
    assert vagrant_box.best_version(['1.0', '1.10', '1.9', '2.0'], '< 2') == '1.10'
    assert vagrant_box.best_version(['1.0'], None) == '1.0'
    assert vagrant_box.best_version(['1.0'], '> 1') is None


def test_catalog_choice():
    catalog = {'versions': [
        {'version': '1.0', 'providers': [{'name': 'libvirt', 'url': 'http://x/1.box', 'checksum': 'a' * 64,
                                          'checksum_type': 'sha256'}]},
        {'version': '1.5', 'providers': [{'name': 'virtualbox', 'url': 'http://x/vb.box'}]},
        {'version': '1.2', 'providers': [{'name': 'libvirt', 'url': 'http://x/2.box'}]}]}
    assert vagrant_box.catalog_choice(catalog, None) == ('1.2', 'http://x/2.box', None, None)
    assert vagrant_box.catalog_choice(catalog, '< 1.1') == ('1.0', 'http://x/1.box', 'a' * 64, 'sha256')
    with pytest.raises(vagrant_box.BoxError, match='has: 1.0, 1.2'):
        vagrant_box.catalog_choice(catalog, '>= 2')


@pytest.fixture
def v1(images):
    return [('metadata.json', b'{"provider": "libvirt", "format": "qcow2", "virtual_size": 1}', tarfile.REGTYPE),
            ('box.img', images['qcow2'], tarfile.REGTYPE),
            ('Vagrantfile', b'', tarfile.REGTYPE)]


@pytest.mark.parametrize('compress', ['', 'gz'])
def test_install_v1(tmp_path, compress, make_box, v1):
    archive = make_box(tmp_path / 'v1.box', v1, compress)
    directory = vagrant_box.install(archive, str(tmp_path / 'home'), 'org/v1', '1.0')
    assert directory == str(tmp_path / 'home' / 'boxes' / 'org-VAGRANTSLASH-v1' / '1.0' / 'libvirt')
    meta, disks = vagrant_box.read_metadata(directory)
    assert meta['format'] == 'qcow2' and disks == [('box', os.path.join(directory, 'box.img'), 'qcow2')]
    assert vagrant_box.stored_versions(str(tmp_path / 'home'), 'org/v1') == ['1.0']


def test_metadata_v2_disks(tmp_path, make_box, images):
    meta = {'provider': 'libvirt', 'disks': [{'path': 'a.qcow2'}, {'name': 'data', 'path': 'b.img', 'format': 'raw'}]}
    archive = make_box(tmp_path / 'v2.box', [('metadata.json', json.dumps(meta).encode(), tarfile.REGTYPE),
                                             ('a.qcow2', images['qcow2'], tarfile.REGTYPE),
                                             ('b.img', images['raw'], tarfile.REGTYPE)])
    directory = vagrant_box.install(archive, str(tmp_path / 'home'), 'two', '2')
    unused, disks = vagrant_box.read_metadata(directory)
    assert [(name, fmt) for name, unused_path, fmt in disks] == [('a', 'qcow2'), ('data', 'raw')]


@pytest.mark.parametrize('member, message', [
    (('../evil', b'x', tarfile.REGTYPE), 'outside the box'),
    (('/etc/evil', b'x', tarfile.REGTYPE), 'outside the box'),
    (('a/../../evil', b'x', tarfile.REGTYPE), 'outside the box'),
    (('link', '/etc/passwd', tarfile.SYMTYPE), 'link'),
    (('hard', 'box.img', tarfile.LNKTYPE), 'link'),
    (('dev', b'', tarfile.CHRTYPE), 'not a plain file'),
    (('fifo', b'', tarfile.FIFOTYPE), 'not a plain file'),
])
def test_unsafe_archives_are_refused_and_leave_nothing(tmp_path, member, message, make_box, v1):
    archive = make_box(tmp_path / 'evil.box', v1 + [member])
    home = tmp_path / 'home'
    with pytest.raises(vagrant_box.BoxError, match=message):
        vagrant_box.install(archive, str(home), 'evil', '1')
    assert not (home / 'boxes' / 'evil').exists()
    assert not (tmp_path / 'evil').exists()


def test_a_python_without_the_data_filter_extracts_as_safely(tmp_path, monkeypatch, make_box, v1):
    """Debian 12's Python 3.11.2 has no tarfile data filter: the checked members are written by hand,
    plain files with mode 0644 whatever the archive says, and what is unsafe is still refused."""
    monkeypatch.delattr(tarfile, 'data_filter', raising=False)
    executable = [('sub/tool', b'#!/bin/sh\n', tarfile.REGTYPE, 0o6777)]
    archive = make_box(tmp_path / 'v1.box', v1 + executable, 'gz')
    directory = vagrant_box.install(archive, str(tmp_path / 'home'), 'org/v1', '1.0')
    with open(os.path.join(directory, 'box.img'), 'rb') as handle:
        assert handle.read(4) == b'QFI\xfb'
    assert os.stat(os.path.join(directory, 'sub', 'tool')).st_mode & 0o7777 == 0o644
    evil = make_box(tmp_path / 'evil.box', v1 + [('link', '/etc/passwd', tarfile.SYMTYPE)])
    with pytest.raises(vagrant_box.BoxError, match='link'):
        vagrant_box.install(evil, str(tmp_path / 'home'), 'evil', '1')


@pytest.mark.parametrize('members, message', [
    ([('box.img', b'x', tarfile.REGTYPE)], 'no readable metadata.json'),
    ([('metadata.json', b'{"provider": "virtualbox"}', tarfile.REGTYPE)], 'not for the libvirt provider'),
    ([('metadata.json', b'{"provider": "libvirt"}', tarfile.REGTYPE)], 'does not hold'),
])
def test_incomplete_boxes_are_refused(tmp_path, members, message, make_box):
    archive = make_box(tmp_path / 'bad.box', members)
    with pytest.raises(vagrant_box.BoxError, match=message):
        vagrant_box.install(archive, str(tmp_path / 'home'), 'bad', '1')
    assert vagrant_box.stored_versions(str(tmp_path / 'home'), 'bad') == []


def test_corrupt_archive(tmp_path):
    path = tmp_path / 'corrupt.box'
    path.write_bytes(b'\x1f\x8b' + b'garbage' * 100)
    with pytest.raises(vagrant_box.BoxError, match='corrupt'):
        vagrant_box.install(str(path), str(tmp_path / 'home'), 'corrupt', '1')


def test_checksums(tmp_path):
    path = tmp_path / 'f'
    path.write_bytes(b'abc')
    vagrant_box.verify_checksum(str(path), 'BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD', 'sha256')
    with pytest.raises(vagrant_box.BoxError, match='checksum mismatch'):
        vagrant_box.verify_checksum(str(path), '0' * 32, 'md5')


def test_unversioned_box_volume_version(tmp_path):
    image = tmp_path / 'box.img'
    image.write_bytes(b'x')
    os.utime(str(image), (1700000000, 1700000000))
    assert vagrant_box.volume_version('0', [('box', str(image), 'qcow2')]) == '0_1700000000'
    assert vagrant_box.volume_version('1.0', [('box', str(image), 'qcow2')]) == '1.0'
