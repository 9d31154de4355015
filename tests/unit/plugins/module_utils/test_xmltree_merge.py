# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The merge/diff engine: stable, complete, and respectful of what libvirt added."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import libvirt
import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils.xmltree import element as E

CURRENT = '''
<domain type='qemu'>
  <name>m1</name>
  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
  <memory unit='KiB'>262144</memory>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/p/m1.img'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/p/m1-vdb.qcow2'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:aa:bb:01'/>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
    <controller type='usb' index='0' model='piix3-uhci'/>
    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' passwd='s3cret'/>
  </devices>
</domain>
'''

RULES = xmltree.Rules(keys={'devices/disk': xmltree.attribute_key('target/@dev'),
                            'devices/interface': xmltree.attribute_key('mac/@address')})


def current():
    return xmltree.parse(CURRENT)


def desired_memory(kib):
    return E('domain', {'type': 'qemu'}, children=[
        E('name', text='m1'), E('memory', {'unit': 'KiB'}, text=kib)])


def test_equal_desired_is_no_change():
    merged, changed, unused = xmltree.merge_and_compare(current(), desired_memory(262144), RULES)
    assert not changed
    assert not xmltree.differs(merged, current())


def test_merge_twice_is_stable():
    once = xmltree.merge(current(), desired_memory(524288), RULES)
    twice = xmltree.merge(once, desired_memory(524288), RULES)
    assert xmltree.canonical(once) == xmltree.canonical(twice)


def test_desired_values_are_in_the_result_and_libvirt_additions_kept():
    desired = E('domain', children=[E('devices', children=[
        E('disk', children=[E('target', {'dev': 'vda', 'bus': 'sata'})]),
        E('interface', {'type': 'network'}, children=[E('model', {'type': 'e1000'})]),
    ])])
    merged = xmltree.merge(current(), desired, RULES)
    assert merged.find('devices/disk/target').get('bus') == 'sata'
    assert merged.findtext('uuid') == '6695eb01-f6a4-8304-79aa-97f2502e193f'
    # the PCI address, the generated MAC and the controller libvirt added are kept
    assert merged.find('devices/disk/address').get('slot') == '0x04'
    assert merged.find('devices/interface/mac').get('address') == '52:54:00:aa:bb:01'
    assert merged.find('devices/interface/model').get('type') == 'e1000'
    assert merged.find('devices/controller') is not None


def test_elements_match_by_identity_not_position():
    desired = E('domain', children=[E('devices', children=[
        E('disk', children=[E('target', {'dev': 'vdb', 'bus': 'scsi'})]),
    ])])
    merged = xmltree.merge(current(), desired, RULES)
    targets = {t.get('dev'): t.get('bus') for t in merged.findall('devices/disk/target')}
    assert targets == {'vda': 'virtio', 'vdb': 'scsi'}


def test_new_keyed_element_is_added_after_its_siblings():
    desired = E('domain', children=[E('devices', children=[
        E('disk', {'type': 'file', 'device': 'disk'}, children=[E('target', {'dev': 'vdc', 'bus': 'virtio'})]),
    ])])
    merged, changed, unused = xmltree.merge_and_compare(current(), desired, RULES)
    assert changed
    tags = [child.tag for child in merged.find('devices')]
    assert tags[:3] == ['disk', 'disk', 'disk']
    assert merged.findall('devices/disk')[2].find('target').get('dev') == 'vdc'


def test_owned_lists_drop_what_desired_does_not_name():
    rules = xmltree.Rules(keys=RULES.keys, owned=['devices/disk'])
    desired = E('domain', children=[E('devices', children=[
        E('disk', children=[E('target', {'dev': 'vda'})])])])
    merged = xmltree.merge(current(), desired, rules)
    assert [t.get('dev') for t in merged.findall('devices/disk/target')] == ['vda']
    assert merged.find('devices/interface') is not None  # not owned: kept


def test_absent_marker_and_attribute_removal():
    desired = E('domain', children=[E('devices', children=[
        xmltree.mark_absent(E('disk', children=[E('target', {'dev': 'vdb'})])),
        E('graphics', {'passwd': xmltree.ABSENT}),
    ])])
    merged = xmltree.merge(current(), desired, RULES)
    assert [t.get('dev') for t in merged.findall('devices/disk/target')] == ['vda']
    assert merged.find('devices/graphics').get('passwd') is None
    assert xmltree.MERGE_NS not in xmltree.to_xml(merged)


def test_replace_swaps_the_whole_element():
    rules = xmltree.Rules(replace=['domain/devices/graphics'])
    desired = E('domain', children=[E('devices', children=[E('graphics', {'type': 'spice'})])])
    merged = xmltree.merge(current(), desired, rules)
    assert dict(merged.find('devices/graphics').attrib) == {'type': 'spice'}


def test_merge_into_nothing_is_the_desired_tree():
    desired = desired_memory(1024)
    merged, changed, diff = xmltree.merge_and_compare(None, desired)
    assert changed and diff['before'] == '' and '<memory unit="KiB">1024</memory>' in diff['after']


def test_canonical_ignores_attribute_order_and_whitespace():
    a = xmltree.parse('<a x="1" y="2">\n  <b/>\n</a>')
    b = xmltree.parse('<a y="2" x="1"><b/></a>')
    assert not xmltree.differs(a, b)
    assert xmltree.differs(a, xmltree.parse('<a x="1" y="3"><b/></a>'))


def test_diff_masks_secrets_and_keeps_the_tree_intact():
    tree = current()
    diff = xmltree.diff(tree, tree)
    assert 's3cret' not in diff['before'] and 's3cret' not in diff['after']
    assert xmltree.MASK in diff['after']
    assert tree.find('devices/graphics').get('passwd') == 's3cret'
    assert 's3cret' in xmltree.to_xml(tree)


def test_entities_are_not_resolved():
    evil = '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'
    assert 'root:' not in xmltree.to_xml(xmltree.parse(evil))


def test_libvirt_normalized_xml_merges_as_a_no_op():
    """Define a domain on the test driver, merge our desired over libvirt's normalized
    XML of it: nothing differs (the contract every module relies on)."""
    conn = libvirt.open('test:///default')
    desired = E('domain', {'type': 'test'}, children=[
        E('name', text='vlt-unit-merge'), E('memory', {'unit': 'KiB'}, text=131072),
        E('vcpu', {'placement': 'static'}, text=1),
        E('os', children=[E('type', {'arch': 'x86_64'}, text='hvm')]),
    ])
    dom = conn.defineXML(xmltree.to_xml(desired))
    try:
        normalized = xmltree.parse(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        merged, changed, unused = xmltree.merge_and_compare(normalized, desired)
        assert not changed
        assert normalized.findtext('uuid')  # libvirt's addition, kept
    finally:
        dom.undefine()


@pytest.mark.parametrize('path, expected', [('devices/disk', True), ('domain/devices/disk', True),
                                            ('devices/interface', False)])
def test_rules_lookup_by_path_suffix(path, expected):
    rules = xmltree.Rules(owned=['devices/disk'])
    assert rules.is_owned(path) is expected
