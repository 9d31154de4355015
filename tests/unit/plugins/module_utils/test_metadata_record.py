# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The machine record in a domain's <metadata>: written in our namespace, read back the same,
lists kept lists, bad keys and values refused naming the key."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import metadata, xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

RECORD = dict(lab='demo', machine='web', ssh_user='vagrant', ssh_port=2222, volumes=['demo_web.img'],
              networks=['vagrant-libvirt', 'demo-10.20.0.0-16'], reservations=['vagrant-libvirt 52:54:00:aa:00:01'])


def domain_tree(record):
    tree = xmltree.parse('<domain type="kvm"><name>demo_web</name><metadata/></domain>')
    tree.find('metadata').append(metadata.encode(record))
    return xmltree.parse(xmltree.to_xml(tree))  # as libvirt hands it back: text, parsed again


def test_a_record_reads_back_as_written():
    read = metadata.from_domain_xml(domain_tree(RECORD))
    assert read == dict(RECORD, ssh_port='2222')  # values come back as text


def test_the_element_is_in_our_namespace_with_keys_in_order():
    node = metadata.encode(dict(machine='web', lab='demo'))
    assert node.tag == '{%s}machine' % metadata.NAMESPACE and node.prefix == metadata.PREFIX
    assert [xmltree.etree.QName(child).localname for child in node] == ['lab', 'machine']


def test_list_keys_stay_lists_with_one_item_and_repeated_keys_become_lists():
    read = metadata.from_domain_xml(domain_tree(dict(volumes=['only.img'], pool='default')))
    assert read == dict(volumes=['only.img'], pool='default')
    read = metadata.from_domain_xml(domain_tree(dict(extra=['a', 'b'])))
    assert read == dict(extra=['a', 'b'])


def test_none_is_left_out_and_booleans_are_yes_or_no():
    node = metadata.encode(dict(lab=None, keep=True, drop=False))
    assert metadata.decode(node) == dict(keep='yes', drop='no')  # as libvirt's own XML booleans


def test_no_record_reads_as_empty():
    assert metadata.from_domain_xml(xmltree.parse('<domain><name>x</name></domain>')) == {}
    assert metadata.decode(None) == {}
    other = xmltree.parse('<domain><metadata><other:x xmlns:other="urn:other"><other:lab>y</other:lab>'
                          '</other:x></metadata></domain>')
    assert metadata.from_domain_xml(other) == {}


def test_comments_in_the_record_are_skipped():
    tree = domain_tree(dict(lab='demo'))
    tree.find('metadata/{%s}machine' % metadata.NAMESPACE).append(xmltree.etree.Comment('by hand'))
    assert metadata.from_domain_xml(tree) == dict(lab='demo')


@pytest.mark.parametrize('record, option', [
    ({'Lab': 'x'}, 'metadata.Lab'),
    ({'la b': 'x'}, 'metadata.la b'),
    ({'lab\n': 'x'}, 'metadata.lab\n'),
    ({'x' * 65: 'x'}, 'metadata.' + 'x' * 65),
    ({'lab': {'nested': 1}}, 'metadata.lab'),
    ({'volumes': [['a']]}, 'metadata.volumes'),
])
def test_bad_keys_and_values_are_refused_naming_the_key(record, option):
    with pytest.raises(ValidationError) as caught:
        metadata.encode(record)
    assert caught.value.option == option
