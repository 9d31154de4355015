# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ISO images with pycdlib: NoCloud seeds and file images, read back file by file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import isoimage
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError


def test_cloud_init_seed_round_trip():
    files = isoimage.cloud_init_files('#cloud-config\nhostname: web\n', 'instance-id: web-1\n', 'version: 2\n')
    data = isoimage.build(files, 'cidata')
    label, found = isoimage.read(data)
    assert label == 'cidata'
    assert found == {'user-data': b'#cloud-config\nhostname: web\n', 'meta-data': b'instance-id: web-1\n',
                     'network-config': b'version: 2\n'}


def test_seed_without_network_config_still_has_meta_data():
    assert sorted(isoimage.cloud_init_files('#cloud-config\n')) == ['meta-data', 'user-data']


def test_file_image_keeps_names_and_binary_content():
    files = {'Setup-Script.sh': '#!/bin/sh\necho hi\n', 'blob.bin': b'\0\1\2\xff'}
    label, found = isoimage.read(isoimage.build(files, 'tools'))
    assert label == 'tools' and found == isoimage.encoded(files)


def test_listing_for_diffs():
    text = isoimage.listing({'b': 'two\n', 'a': b'one\n'}, 'x')
    assert text == 'label: x\n--- a\none\n--- b\ntwo\n'
    assert isoimage.listing(None, 'x') == ''


@pytest.mark.parametrize('files, label, option', [
    ({'../evil': 'x'}, 'ok', 'files.../evil'), ({'a/b': 'x'}, 'ok', 'files.a/b'), ({'a': 'x'}, 'bad<label', 'label')])
def test_bad_names(files, label, option):
    with pytest.raises(ValidationError) as caught:
        isoimage.build(files, label)
    assert caught.value.option == option


def test_reading_garbage_gives_nothing():
    assert isoimage.read(b'not an iso' * 1000) == (None, {})
