# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input checks: every refusal names the option, the value and what is allowed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import validate


@pytest.mark.parametrize('value, expected', [
    (1, 1), ('512', 512), ('10G', 10 * 1024 ** 3), ('10GiB', 10 * 1024 ** 3), ('10GB', 10 * 1000 ** 3),
    ('1.5G', 1536 * 1024 ** 2), ('512M', 512 * 1024 ** 2), ('512MiB', 512 * 1024 ** 2), ('4k', 4096),
    ('4KB', 4000), ('2T', 2 * 1024 ** 4), ('100b', 100), ('100 bytes', 100), (' 3 G ', 3 * 1024 ** 3),
])
def test_sizes(value, expected):
    assert validate.size(value, 'capacity') == expected


def test_bare_numbers_take_the_default_unit():
    assert validate.size(20, 'machine_virtual_size', default_unit='G') == 20 * 1024 ** 3
    assert validate.size('20', 'machine_virtual_size', default_unit='G') == 20 * 1024 ** 3


@pytest.mark.parametrize('value', [0, '0', -1, '-5G', 'ten', '10X', '10 GG', '', None, True, [], '0.3', 1.5])
def test_bad_sizes_name_option_and_value(value):
    with pytest.raises(validate.ValidationError) as caught:
        validate.size(value, 'capacity')
    assert caught.value.option == 'capacity'
    assert 'capacity=' in str(caught.value)


@pytest.mark.parametrize('value', ['web', 'lab_web-1', 'a.b+c:d', 'x' * 100])
def test_good_names(value):
    assert validate.name(value) == value


@pytest.mark.parametrize('value', ['', 'a/b', 'a b', 'a"b', "a'b", 'a<b', 'a&b', '-lead', '.hidden', 'x' * 101,
                                   'é', None, 42])
def test_bad_names(value):
    with pytest.raises(validate.ValidationError) as caught:
        validate.name(value, 'name')
    assert 'letters, digits' in str(caught.value)


@pytest.mark.parametrize('value', ['generic/debian12', 'tiny', 'org/box-1.0_x'])
def test_box_names(value):
    assert validate.box_name(value) == value


@pytest.mark.parametrize('value', ['a/b/c', '/abs', '../x', 'a b', 'a/../b'])
def test_bad_box_names(value):
    with pytest.raises(validate.ValidationError):
        validate.box_name(value)


@pytest.mark.parametrize('value, expected', [
    ('52:54:00:AA:bb:01', '52:54:00:aa:bb:01'), ('52-54-00-aa-bb-02', '52:54:00:aa:bb:02')])
def test_macs(value, expected):
    assert validate.mac(value) == expected


@pytest.mark.parametrize('value', ['52:54:00:aa:bb', 'zz:54:00:aa:bb:01', '01:00:5e:00:00:01', '525400aabb01', ''])
def test_bad_macs(value):
    with pytest.raises(validate.ValidationError) as caught:
        validate.mac(value, 'mac')
    assert caught.value.option == 'mac'


@pytest.mark.parametrize('value', ['relative/dir', '/a/../b', '/a\0b', '', None])
def test_bad_paths(value):
    with pytest.raises(validate.ValidationError, match='absolute path'):
        validate.absolute_path(value, 'path')


def test_choice_and_positive_int():
    assert validate.choice('nat', 'forward_mode', ['nat', 'route']) == 'nat'
    with pytest.raises(validate.ValidationError, match='one of nat, route'):
        validate.choice('bridged', 'forward_mode', ['nat', 'route'])
    assert validate.positive_int('4', 'cpus') == 4
    for bad in (0, -1, '1.5', 'two', True):
        with pytest.raises(validate.ValidationError, match='greater than 0'):
            validate.positive_int(bad, 'cpus')
