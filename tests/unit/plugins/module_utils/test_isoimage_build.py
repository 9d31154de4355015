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


SECRET = '#cloud-config\nchpasswd: {list: "root:S3cr3t-pw"}\nssh_authorized_keys: [ssh-ed25519 AAAAsecret]\n'


def test_masked_files_show_their_size_and_whether_they_changed_never_their_content():
    new = isoimage.cloud_init_files(SECRET, 'instance-id: web\n')
    old = isoimage.cloud_init_files('#cloud-config\n', 'instance-id: web\n')
    masked = isoimage.CLOUD_INIT_SECRET_FILES
    before = isoimage.listing(old, 'cidata', masked)
    after = isoimage.listing(new, 'cidata', masked, old)
    assert 'S3cr3t' not in before + after and 'AAAAsecret' not in before + after
    assert before == 'label: cidata\n--- meta-data\ninstance-id: web\n--- user-data\n' \
                     '(14 bytes, masked: it may hold passwords or keys)\n'
    assert '--- user-data\n(%d bytes, masked: it may hold passwords or keys; changed)\n' % len(SECRET) in after
    same = isoimage.listing(new, 'cidata', masked, isoimage.encoded(new))
    assert '; changed' not in same and 'instance-id: web' in same


def test_libvirt_volume_masks_user_data_and_marks_it_no_log():
    import importlib
    module = importlib.import_module('ansible_collections.vagrantless.libvirt.plugins.modules.libvirt_volume')
    volume = importlib.import_module('ansible_collections.vagrantless.libvirt.plugins.module_utils.volume')
    params = dict(cloud_init=dict(user_data=SECRET, meta_data=None, network_config=None), files=None)
    image = volume.generated_image(params)
    assert image['masked'] == ('user-data',)
    assert image['files']['user-data'] == SECRET  # the seed itself holds it, of course
    with open(module.__file__) as handle:
        source = handle.read()
    assert "user_data=dict(type='str', required=True, no_log=True)" in source
