# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Untrusted text on its way to XML and dnsmasq: names matched whole, control characters and
bad tag names refused naming the item, nested options refused by their spec or by a check
naming the item - never a traceback from lxml or a KeyError from a builder."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.vagrantless.libvirt.plugins.module_utils import (
    connection, domain_options, domain_xml, forwarded_port, isoimage, metadata, network_xml, package, pool, snapshot,
    validate, volume)
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import connection_argument_spec
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError


# -- class 1: a trailing new line is no part of a name ------------------------------------
@pytest.mark.parametrize('check, value', [
    (validate.name, 'web\n'), (validate.box_name, 'org/box\n'), (validate.name, 'web\r\n'),
    (validate.hostname, 'web\n'), (validate.xml_name, 'acpi\n'),
])
def test_a_trailing_new_line_is_refused(check, value):
    with pytest.raises(ValidationError) as caught:
        check(value, 'opt')
    assert caught.value.option == 'opt'


def test_module_patterns_match_whole_strings():
    assert not package.DEVICE_PATTERN.fullmatch('vda\n') and not package.DEVICE_PATTERN.match('vda\n')
    assert not connection.is_hostname('host\n') and not connection.USER_PATTERN.fullmatch('user\n')
    with pytest.raises(ValidationError):
        forwarded_port.remote_host('host\n', 'ssh_host')
    assert not forwarded_port.RECORD_PATTERN.match('8080.json\n') and connection.USER_PATTERN.fullmatch('machine$')
    assert not isoimage.FILE_NAME.match('user-data\n') and not isoimage.LABEL.match('cidata\n')
    assert not metadata.KEY_PATTERN.match('lab\n')
    # a MAC is read leniently but written back normalized: the new line never goes further
    assert validate.mac(' 52-54-00-12-34-AB\n') == '52:54:00:12:34:ab'
    for pattern in (validate.NAME_PATTERN, validate.BOX_NAME_PATTERN, validate.MAC_PATTERN, validate.SIZE_PATTERN,
                    validate.XML_NAME, validate.HOSTNAME_PATTERN):
        assert pattern.pattern.startswith('\\A') and pattern.pattern.endswith('\\Z')


def test_a_metadata_key_with_a_new_line_is_refused_not_crashed():
    with pytest.raises(ValidationError, match=r'metadata\.lab'):
        metadata.encode({'lab\n': 'demo'})


def test_iso_file_names_and_contents_are_checked():
    with pytest.raises(ValidationError, match=r'files\.contents\.a\.txt'):
        isoimage.build({'a.txt\n': 'x'}, 'files', 'files.contents')
    with pytest.raises(ValidationError, match='the text of the file'):
        isoimage.build({'a.txt': 42}, 'files', 'files.contents')
    with pytest.raises(ValidationError, match='label'):
        isoimage.build({'a.txt': 'x'}, 'files\n')


# -- class 2: what XML can hold -------------------------------------------------------------
@pytest.mark.parametrize('value', ['a\x00b', 'a\x01', '\x1b[31m', 'a\x7f', 'a\x85', '\ud800', '\ufffe', '\uffff'])
def test_control_characters_are_refused_even_in_free_text(value):
    with pytest.raises(ValidationError, match='without control characters'):
        validate.text(value, 'description', multiline=True)


def test_free_text_may_hold_tabs_and_new_lines_a_line_may_not():
    assert validate.text('one\ttwo\nthree\r\n', 'description', multiline=True)
    with pytest.raises(ValidationError, match='one line'):
        validate.text('one\ntwo', 'title')
    with pytest.raises(ValidationError, match='at most 3'):
        validate.text('four', 'title', maximum=3)
    with pytest.raises(ValidationError):
        validate.text(42, 'title')


@pytest.mark.parametrize('params, option', [
    (dict(metadata=dict(lab='a\x00b')), 'metadata.lab'),
    (dict(metadata=dict(volumes=['a.img', 'b\n.img'])), 'metadata.volumes[1]'),
    (dict(inputs=[dict(type='tablet', bus='usb\x00')]), 'inputs[0].bus'),
    (dict(disks=[dict(path='/ok.img'), dict(path='/a\x01.img')]), 'disks[1].path'),
    (dict(qemuenv={'A\nB': 'x'}), 'qemuenv'),
    (dict(name='web\n'), 'name'),
])
def test_the_walker_names_the_item(params, option):
    with pytest.raises(ValidationError) as caught:
        validate.xml_safe(params)
    assert caught.value.option == option


def test_the_walker_lets_multiline_options_and_skipped_ones_be_and_hides_passwords():
    validate.xml_safe(dict(description='a\nb\tc', name='web', memory=64, flag=True, none=None, data=b'\x00'),
                      multiline=('description',))
    validate.xml_safe(dict(cloud_init=dict(user_data='\x00binary')), skip=('cloud_init',))
    with pytest.raises(ValidationError) as caught:
        validate.xml_safe(dict(graphics_passwd='se\x00cret'))
    assert 'se' not in str(caught.value) and '********' in str(caught.value)


@pytest.mark.parametrize('value', ['acpi', 'vendor_id', 'x-y.z', '_private'])
def test_xml_names(value):
    assert validate.xml_name(value, 'features[0]') == value


@pytest.mark.parametrize('value', ['', '1acpi', 'not a tag', 'a/b', 'a<b', 'ns:tag', 'é', None, 3, 'x' * 101])
def test_bad_xml_names(value):
    with pytest.raises(ValidationError, match='an XML name'):
        validate.xml_name(value, 'features[0]')


def test_paths_hold_no_control_character():
    for value in ('/tmp/a\nb', '/tmp/a\x00', '/tmp/\x1b'):
        with pytest.raises(ValidationError, match='control characters'):
            validate.absolute_path(value, 'path')
    assert validate.absolute_path('/tmp/a b', 'path') == '/tmp/a b'


# -- class 6: what ends in dnsmasq's configuration --------------------------------------------
@pytest.mark.parametrize('value', ['web', 'web-1', 'web_1', 'lab.example', 'a' * 63, '1st.lab'])
def test_hostnames(value):
    assert validate.hostname(value, 'domain_name') == value


@pytest.mark.parametrize('value', ['', 'web\n', 'web x', 'web,x', 'web:1', '-web', '_web', 'a..b', 'a.', '.a',
                                   'a' * 64, '.'.join(['a' * 60] * 5), None, 5])
def test_bad_hostnames(value):
    with pytest.raises(ValidationError, match='a DNS name'):
        validate.hostname(value, 'domain_name')


@pytest.mark.parametrize('value', ['pxelinux.0', 'boot/grub/x86_64-efi/core.efi', 'http://10.0.0.1/ipxe.efi'])
def test_boot_files(value):
    assert validate.spaceless(value, 'dhcp_bootp_file') == value


@pytest.mark.parametrize('value', ['', 'pxe linux.0', 'pxelinux.0\ndhcp-option=3', 'a,b', 'a\tb', 'é.0', 'a\x00'])
def test_bad_boot_files(value):
    with pytest.raises(ValidationError, match='dhcp_bootp_file'):
        validate.spaceless(value, 'dhcp_bootp_file')


NET = dict(name='lab', address='10.20.30.0/24', forward_mode='nat', state='present', dhcp_enabled=True)


@pytest.mark.parametrize('extra, option', [
    (dict(domain_name='lab\nlocal=/x/'), 'domain_name'), (dict(domain_name='lab example'), 'domain_name'),
    (dict(dhcp_bootp_file='pxe.0\ndhcp-range=1'), 'dhcp_bootp_file'), (dict(dhcp_bootp_file='a,b'), 'dhcp_bootp_file'),
    (dict(dhcp_bootp_file='pxe.0', dhcp_bootp_server='tftp'), 'dhcp_bootp_server'),
    (dict(dhcp_bootp_file='pxe.0', dhcp_bootp_server='10.20.30.1 '), 'dhcp_bootp_server'),
    (dict(dhcp_hosts=[dict(mac='52:54:00:00:00:01', ip='10.20.30.5', name='web x')]), 'dhcp_hosts[0].name'),
    (dict(dhcp_hosts=[dict(mac='52:54:00:00:00:01\n', ip='10.20.30.5')]), 'dhcp_hosts[0].mac'),
    (dict(name='lab\n'), 'name'), (dict(bridge='virbr9\x00'), 'bridge'),
])
def test_network_refuses_what_would_break_dnsmasq(extra, option):
    with pytest.raises(ValidationError) as caught:
        network_xml.NetworkSpec(dict(NET, **extra))
    assert caught.value.option == option


def test_network_takes_clean_dnsmasq_text():
    spec = network_xml.NetworkSpec(dict(NET, domain_name='lab.example', dhcp_bootp_file='pxelinux.0',
                                        dhcp_bootp_server='10.20.30.1',
                                        dhcp_hosts=[dict(mac='52:54:00:00:00:01', ip='10.20.30.5', name='web_1')]))
    tree = spec.desired('lab')
    assert tree.find('domain').get('name') == 'lab.example'
    assert tree.find('ip/dhcp/bootp').attrib == {'file': 'pxelinux.0', 'server': '10.20.30.1'}


@pytest.mark.parametrize('manager, params, option', [
    (pool.PoolManager, dict(name='p', path='/tmp/a\x00b', state='present', type='dir'), 'path'),
    (pool.PoolManager, dict(name='p\n', path='/tmp/p', state='present', type='dir'), 'name'),
    (volume.VolumeManager, dict(name='v\n', pool='default', capacity='1M', state='present'), 'name'),
    (volume.VolumeManager, dict(name='v', pool='default', capacity=None, backing_volume='b\x00', state='present'),
     'backing_volume'),
    (snapshot.SnapshotManager, dict(domain='d', name='s\n', state='present'), 'name'),
    (snapshot.SnapshotManager, dict(domain='d', name='s', description='a\x00', state='present'), 'description'),
])
def test_every_xml_module_checks_its_text_first(manager, params, option):
    with pytest.raises(ValidationError) as caught:
        manager(params, False)
    assert caught.value.option == option


def test_volume_image_contents_and_snapshot_descriptions_may_hold_lines():
    volume.VolumeManager(dict(name='v', pool='default', capacity='1M', state='present',
                              cloud_init=dict(user_data='#cloud-config\n\x00'), image=None), False)
    assert snapshot.SnapshotManager(dict(domain='d', name='s', description='a\nb', state='present'),
                                    False).description == 'a\nb'


# -- class 3: nested options, through the module's spec and then the builders ------------------
SPEC = connection_argument_spec(**domain_options.argument_spec())


def domain(**params):
    """What libvirt_domain does with ``params``: ('spec', message) when ansible-core refuses them,
    ('ours', option) when the module does, ('built', tree) otherwise; anything else raises."""
    result = ArgumentSpecValidator(SPEC).validate(dict(dict(name='web'), **params))
    if result.error_messages:
        return 'spec', result.error_messages[0]
    try:
        built = domain_xml.DomainSpec(result.validated_parameters)
        return 'built', built.desired(['/x.img'] * len(result.validated_parameters.get('disks') or []))
    except ValidationError as error:
        return 'ours', error.option


@pytest.mark.parametrize('params, words', [
    (dict(inputs=[dict(type='tablet')]), 'bus'), (dict(inputs=[dict(type='joystick', bus='usb')]), 'joystick'),
    (dict(hyperv_features=[dict(state='on')]), 'name'), (dict(filesystems=[dict(source='/srv')]), 'target'),
    (dict(memorybacking=[dict(config={})]), 'name'), (dict(numa_nodes=[dict(cpus='0')]), 'memory'),
    (dict(numa_nodes=[dict(cpus='0', memory='lots')]), 'memory'), (dict(cpu_features=[dict(policy='require')]), 'name'),
    (dict(pcis=[dict(bus='0x03')]), 'slot'), (dict(usbs=[dict(vendor='0x1')]), 'product'), (dict(usbs=[{}]), 'vendor'),
    (dict(channels=[dict(type='tcp')]), 'tcp'), (dict(serials=[dict(type='file')]), 'source'),
    (dict(redirdevs=[dict(type='tcp')]), 'tcp'), (dict(rng=dict(model='egd')), 'egd'),
    (dict(watchdog=dict(action='explode')), 'explode'), (dict(smartcard=dict(mode='host')), 'host'),
    (dict(usb_controller=dict(ports='many')), 'ports'), (dict(redirfilters=[dict(colour='red')]), 'colour'),
    (dict(inputs=['tablet']), 'dictionary'), (dict(inputs=[42]), 'inputs'),
])
def test_nested_options_are_refused_by_the_spec(params, words):
    kind, found = domain(**params)
    assert kind == 'spec' and words in found


@pytest.mark.parametrize('params, option', [
    (dict(hyperv_features=[dict(name='relaxed vapic')]), 'hyperv_features[0].name'),
    (dict(features=['acpi', 'not a tag']), 'features[1]'),
    (dict(filesystems=[dict(source='srv', target='v')]), 'filesystems[0].source'),
    (dict(redirfilters=[dict(vendor='zz')]), 'redirfilters[0].vendor'),
    (dict(redirfilters=[dict(product=0x10000)]), 'redirfilters[0].product'),
    (dict(redirfilters=[{'class': '0x100'}]), 'redirfilters[0].class'),
    (dict(redirfilters=[dict(version='two')]), 'redirfilters[0].version'),
    (dict(redirfilters=[dict(allow='maybe')]), 'redirfilters[0].allow'),
    (dict(memorybacking=[dict(name='source', config={'bad key': 1})]), 'memorybacking[0].config.bad key'),
    (dict(memorybacking=[dict(name='source', config={'type': [1]})]), 'memorybacking[0].config.type'),
    (dict(numa_nodes=[dict(cpus='0', memory=0)]), 'numa_nodes[0].memory'),
    (dict(pcis=[dict(bus='zz', slot='1')]), 'pcis[0].bus'),
    (dict(channels=[dict(source_path='rel.sock')]), 'channels[0].source_path'),
    (dict(serials=[dict(type='file', source='rel.log')]), 'serials[0].source'),
    (dict(rng=dict(device='urandom')), 'rng.device'),
    (dict(qemuenv={'A B': 'x'}), 'qemuenv.A B'), (dict(qemuenv={'A': {'x': 1}}), 'qemuenv.A'),
    (dict(metadata={'lab': {'x': 1}}), 'metadata.lab'), (dict(metadata={'lab': 'a\x00'}), 'metadata.lab'),
    (dict(description='a\x00'), 'description'), (dict(title='a\nb'), 'title'),
    (dict(serial_log='console.log'), 'serial_log'), (dict(tpm_path='tpm0'), 'tpm_path'),
])
def test_nested_values_are_refused_naming_the_item(params, option):
    assert domain(**params) == ('ours', option)


def test_the_builders_check_items_given_without_the_spec():
    for params, option in ((dict(inputs=[dict(type='tablet')]), 'inputs[0].bus'),
                           (dict(inputs=['tablet']), 'inputs[0]'), (dict(inputs='tablet'), 'inputs'),
                           (dict(hyperv_features=[{}]), 'hyperv_features[0].name'),
                           (dict(filesystems=[dict(target='v')]), 'filesystems[0].source'),
                           (dict(usbs=[dict(vendor='0x1')]), 'usbs[0]'), (dict(rng='x'), 'rng')):
        with pytest.raises(ValidationError) as caught:
            domain_xml.DomainSpec(dict(dict(name='web'), **params))
        assert caught.value.option == option


def test_good_nested_options_build_what_libvirt_writes_back():
    kind, tree = domain(description='first\nsecond', features=['acpi', 'apic'],
                        hyperv_features=[dict(name='spinlocks', state='on', retries=8191)],
                        redirfilters=[{'class': 11, 'vendor': 0x08e6, 'product': '3437', 'version': '2.0'},
                                      dict(vendor='-1', allow=False)],
                        memorybacking=[dict(name='source', config=dict(type='memfd'))],
                        qemuenv=dict(QEMU_AUDIO_DRV='none'), inputs=[dict(type='tablet', bus='usb')],
                        pcis=[dict(bus='0x03', slot='0x00')], usbs=[dict(bus='1', device='2')],
                        serials=[dict(type='file', source='/var/log/vlt.log')], rng={},
                        metadata=dict(lab='demo', volumes=['a.img']))
    assert kind == 'built'
    assert tree.findtext('description') == 'first\nsecond'
    assert tree.find('features/hyperv/spinlocks').attrib == {'state': 'on', 'retries': '8191'}
    allowed, any_vendor = tree.findall('devices/redirfilter/usbdev')
    assert allowed.attrib == {'class': '0x0B', 'vendor': '0x08E6', 'product': '0x3437', 'version': '2.00',
                              'allow': 'yes'}
    assert any_vendor.attrib == {'allow': 'no'}
    assert tree.find('devices/rng/backend').text == '/dev/urandom'
    assert tree.find('devices/serial/source').get('path') == '/var/log/vlt.log'
