# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Untrusted text on its way to XML and dnsmasq (issue 15, classes 1, 2, 3 and 6):

- ``nl_*``: names with a trailing new line (a ``$`` anchor lets them through);
- ``ctl_*``: control characters and tag names XML cannot hold (lxml raised on them);
- ``nest_*``: list-of-mapping and mapping options with a key missing, a wrong type or value;
- ``dns_*``: text libvirt copies into dnsmasq's configuration (a new line adds an option).

Each must be refused before anything changes, naming the option and the item."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from cases import BASE_VOLUME, BOX_FILE, HOST_DOMAIN, NAME_HINT, Case  # pylint: disable=import-error
from harness import BOX_STORE, WORK  # pylint: disable=import-error

LINE = 'one line of text without control characters'
TEXT = 'text without control characters'
XML_NAME = 'an XML name'
DNS = 'a DNS name'
MISSING = 'missing required arguments'
CHOICE = 'must be one of'

POOL = dict(name='vlt-rel-xml-pool', path='/tmp/vlt-rel-xml-pool')
VOL = dict(name='vlt-rel-xml.qcow2', pool='default', capacity='16M')
NET = dict(name='vlt-rel-xml-net', address='10.91.19.0/24')
HOST = dict(mac='52:54:00:91:19:01', ip='10.91.19.50')
DOM = dict(name='vlt-rel-xml-dom', memory=64)
SNAP = dict(domain=HOST_DOMAIN, name='vlt-rel-s1')


def _dom(key, expect, **args):
    return Case('xml_' + key, 'libvirt_domain', dict(DOM, **args), *expect)


def _net(key, expect, **args):
    return Case('xml_' + key, 'libvirt_network', dict(NET, **args), *expect)


def trailing_newlines():
    """Class 1: every name pattern is matched whole."""
    return [
        Case('xml_nl_pool_name', 'libvirt_pool', dict(POOL, name='vlt-rel-xml-pool\n'), 'name', LINE),
        Case('xml_nl_volume_name', 'libvirt_volume', dict(VOL, name='vlt-rel-xml.qcow2\n'), 'name', LINE),
        Case('xml_nl_volume_pool', 'libvirt_volume', dict(VOL, pool='default\n'), 'pool', LINE),
        _net('nl_network_name', ('name', LINE), name='vlt-rel-xml-net\n'),
        _net('nl_network_bridge', ('bridge', LINE), bridge='vlt-rel-br\n'),
        _net('nl_network_mac', ('dhcp_hosts[0].mac', LINE), dhcp_hosts=[dict(HOST, mac=HOST['mac'] + '\n')]),
        _dom('nl_domain_name', ('name', LINE), name='vlt-rel-xml-dom\n'),
        _dom('nl_domain_disk_volume', ('disks[0].volume', LINE), disks=[dict(volume=BASE_VOLUME + '\n')]),
        _dom('nl_domain_mac', ('interfaces[0].mac', LINE),
             interfaces=[dict(network='default', mac='52:54:00:91:19:02\n')]),
        _dom('nl_domain_metadata_key', ('metadata', 'keys that are', LINE), metadata={'lab\n': 'vlt-rel'}),
        Case('xml_nl_snapshot_name', 'libvirt_snapshot', dict(SNAP, name='vlt-rel-s1\n'), 'name', LINE),
        Case('xml_nl_snapshot_domain', 'libvirt_snapshot', dict(SNAP, domain=HOST_DOMAIN + '\n'), 'domain', LINE),
        # modules that build no XML: the name patterns themselves
        Case('xml_nl_box_name', 'libvirt_box', dict(name='vlt-rel/xml\n', src=BOX_FILE, box_store=BOX_STORE,
                                                    pool='default'), 'name', 'Vagrant box name'),
        Case('xml_nl_box_pool', 'libvirt_box', dict(name='vlt-rel/xml', src=BOX_FILE, box_store=BOX_STORE,
                                                    pool='default\n'), 'pool', NAME_HINT),
        Case('xml_nl_package_domain', 'libvirt_package', dict(domain=HOST_DOMAIN + '\n',
                                                              output=WORK + '/vlt-rel-xml.box'), 'domain', NAME_HINT),
        Case('xml_nl_package_disk', 'libvirt_package', dict(domain=HOST_DOMAIN, output=WORK + '/vlt-rel-xml.box',
                                                            disk='vda\n'), 'disk', 'disk target device'),
        Case('xml_nl_volume_file_name', 'libvirt_volume', dict(VOL, capacity=None, files=dict(
            contents={'vlt-rel.txt\n': 'x'})), 'files.contents', 'a file name'),
    ]


def control_characters():
    """Class 2: whatever reaches XML holds only what XML (and libvirt) can hold."""
    return [
        Case('xml_ctl_pool_path_nul', 'libvirt_pool', dict(POOL, path='/tmp/vlt-rel-xml\x00pool'), 'path', LINE),
        Case('xml_ctl_pool_path_escape', 'libvirt_pool', dict(POOL, path='/tmp/vlt-rel-\x1b[31mpool'), 'path', LINE),
        Case('xml_ctl_pool_path_newline', 'libvirt_pool', dict(POOL, path='/tmp/vlt-rel-xml\npool'), 'path', LINE),
        Case('xml_ctl_volume_backing', 'libvirt_volume', dict(VOL, capacity=None, backing_volume=BASE_VOLUME + '\x00'),
             'backing_volume', LINE),
        Case('xml_ctl_volume_file_content', 'libvirt_volume', dict(VOL, capacity=None, files=dict(
            contents={'vlt-rel.txt': {'not': 'text'}})), 'files.contents.vlt-rel.txt', 'the text of the file'),
        _dom('ctl_description_nul', ('description', TEXT), description='vlt-rel\x00description'),
        _dom('ctl_description_bell', ('description', TEXT), description='vlt-rel\x07'),
        _dom('ctl_description_fffe', ('description', TEXT), description='vlt-rel\ufffe'),
        _dom('ctl_title_newline', ('title', LINE), title='vlt-rel\ntitle'),
        _dom('ctl_metadata_value', ('metadata.lab', LINE), metadata=dict(lab='vlt-rel\x01lab')),
        _dom('ctl_metadata_list_item', ('metadata.volumes[1]', LINE), metadata=dict(volumes=['a.img', 'b\x00.img'])),
        _dom('ctl_cmd_line', ('cmd_line', LINE), kernel='/boot/vmlinuz', cmd_line='console=ttyS0\x00'),
        _dom('ctl_keymap_del', ('keymap', LINE), keymap='en-us\x7f'),
        _dom('ctl_graphics_passwd', ('graphics_passwd', '********', LINE), graphics_passwd='pw\x00'),
        _dom('ctl_disk_path', ('disks[0].path', LINE), disks=[dict(device='vda', path='/tmp/vlt-rel\n.img')]),
        _dom('ctl_interface_network', ('interfaces[0].network', LINE),
             interfaces=[dict(network='default\x00')]),
        _dom('ctl_feature_space', ('features[1]', XML_NAME), features=['acpi', 'not a tag']),
        _dom('ctl_feature_digit', ('features[0]', XML_NAME), features=['1acpi']),
        _dom('ctl_feature_markup', ('features[0]', XML_NAME), features=['acpi/><evil']),
        _dom('ctl_hyperv_name', ('hyperv_features[0].name', XML_NAME), hyperv_features=[dict(name='relaxed vapic')]),
        _dom('ctl_memorybacking_attribute', ('memorybacking[0].config.bad key', XML_NAME),
             memorybacking=[dict(name='source', config={'bad key': 'memfd'})]),
        _dom('ctl_qemuenv_name', ('qemuenv.A B', 'environment variable name'), qemuenv={'A B': 'x'}),
        _dom('ctl_qemuargs', ('qemuargs[0]', LINE), qemuargs=['-no-user-config\x00']),
        _net('ctl_network_netmask', ('netmask', LINE), address=None, ip='10.91.19.1', netmask='255.255.255.0\x00'),
        Case('xml_ctl_snapshot_description', 'libvirt_snapshot', dict(SNAP, description='vlt-rel\x00'),
             'description', TEXT),
        Case('xml_ctl_snapshot_description_escape', 'libvirt_snapshot', dict(SNAP, description='\x1b]0;title\x07'),
             'description', TEXT),
    ]


def nested_options():
    """Class 3: every nested option has a spec, or a check naming the item."""
    return [
        _dom('nest_inputs_no_bus', (MISSING, 'bus', 'inputs'), inputs=[dict(type='tablet')]),
        _dom('nest_inputs_type_enum', (CHOICE, 'joystick'), inputs=[dict(type='joystick', bus='usb')]),
        _dom('nest_inputs_string_item', ('dictionary requested',), inputs=['tablet']),
        _dom('nest_inputs_number_item', ('inputs', "'42'"), inputs=[42]),
        _dom('nest_hyperv_no_name', (MISSING, 'name', 'hyperv_features'), hyperv_features=[dict(state='on')]),
        _dom('nest_hyperv_state_enum', (CHOICE, 'maybe'), hyperv_features=[dict(name='relaxed', state='maybe')]),
        _dom('nest_hyperv_retries_type', ('retries', 'int'), hyperv_features=[dict(name='spinlocks', retries='many')]),
        _dom('nest_filesystems_no_target', (MISSING, 'target', 'filesystems'), filesystems=[dict(source='/srv')]),
        _dom('nest_filesystems_relative', ('filesystems[0].source', 'absolute path'),
             filesystems=[dict(source='srv', target='vagrant')]),
        _dom('nest_filesystems_driver_enum', (CHOICE, 'nfs'), filesystems=[dict(source='/srv', target='v', driver='nfs')]),
        _dom('nest_redirfilters_vendor', ('redirfilters[0].vendor', 'hexadecimal'), redirfilters=[dict(vendor='zz')]),
        _dom('nest_redirfilters_version', ('redirfilters[0].version', 'USB version'), redirfilters=[dict(version='two')]),
        _dom('nest_redirfilters_class_dict', ('redirfilters[0].class', 'hexadecimal'),
             redirfilters=[{'class': {'x': 1}}]),
        _dom('nest_redirfilters_unknown_key', ('Unsupported parameters', 'colour'), redirfilters=[dict(colour='red')]),
        _dom('nest_memorybacking_no_name', (MISSING, 'name', 'memorybacking'), memorybacking=[dict(config={})]),
        _dom('nest_memorybacking_name_enum', (CHOICE, 'bigpages'), memorybacking=[dict(name='bigpages')]),
        _dom('nest_memorybacking_config_type', ('config', 'dict'), memorybacking=[dict(name='source', config='memfd')]),
        _dom('nest_memorybacking_config_value', ('memorybacking[0].config.type', 'a string, number or boolean'),
             memorybacking=[dict(name='source', config=dict(type=['memfd']))]),
        _dom('nest_numa_no_memory', (MISSING, 'memory', 'numa_nodes'), numa_nodes=[dict(cpus='0')]),
        _dom('nest_numa_memory_type', ('memory', 'int'), numa_nodes=[dict(cpus='0', memory='lots')]),
        _dom('nest_numa_memory_zero', ('numa_nodes[0].memory', 'greater than 0'), numa_nodes=[dict(cpus='0', memory=0)]),
        _dom('nest_cpu_features_no_name', (MISSING, 'name', 'cpu_features'), cpu_features=[dict(policy='require')]),
        _dom('nest_cpu_features_policy_enum', (CHOICE, 'maybe'), cpu_features=[dict(name='vmx', policy='maybe')]),
        _dom('nest_pcis_no_slot', (MISSING, 'slot', 'pcis'), pcis=[dict(bus='0x03')]),
        _dom('nest_pcis_bus_garbage', ('pcis[0].bus', 'PCI address'), pcis=[dict(bus='zz', slot='0x00')]),
        _dom('nest_usbs_vendor_alone', ('required together', 'vendor', 'product'), usbs=[dict(vendor='0x1234')]),
        _dom('nest_usbs_empty', ('one of the following is required', 'vendor', 'bus'), usbs=[{}]),
        _dom('nest_usbs_policy_enum', (CHOICE, 'sometimes'),
             usbs=[dict(vendor='0x1234', product='0xbeef', startupPolicy='sometimes')]),
        _dom('nest_channels_type_enum', (CHOICE, 'tcp'), channels=[dict(type='tcp')]),
        _dom('nest_channels_relative', ('channels[0].source_path', 'absolute path'),
             channels=[dict(source_path='vlt-rel.sock')]),
        _dom('nest_serials_file_no_source', ('source', 'serials'), serials=[dict(type='file')]),
        _dom('nest_serials_relative', ('serials[0].source', 'absolute path'),
             serials=[dict(type='file', source='vlt-rel.log')]),
        _dom('nest_redirdevs_type_enum', (CHOICE, 'tcp'), redirdevs=[dict(type='tcp')]),
        _dom('nest_rng_relative', ('rng.device', 'absolute path'), rng=dict(device='urandom')),
        _dom('nest_rng_model_enum', (CHOICE, 'egd'), rng=dict(model='egd')),
        _dom('nest_watchdog_action_enum', (CHOICE, 'explode'), watchdog=dict(action='explode')),
        _dom('nest_smartcard_mode_enum', (CHOICE, 'host'), smartcard=dict(mode='host')),
        _dom('nest_usb_controller_ports', ('ports', 'int'), usb_controller=dict(model='qemu-xhci', ports='many')),
        _dom('nest_qemuenv_value', ('qemuenv.A', 'a string, number or boolean'), qemuenv=dict(A=dict(x=1))),
        _dom('nest_metadata_value', ('metadata.lab', 'a string, number, boolean'), metadata=dict(lab=dict(x=1))),
        _dom('nest_interfaces_number_item', ('interfaces', "'7'"), interfaces=[7]),
        _net('nest_dhcp_host_no_mac', (MISSING, 'mac', 'dhcp_hosts'), dhcp_hosts=[dict(ip='10.91.19.51')]),
        _net('nest_dhcp_host_unknown_key', ('Unsupported parameters', 'hostname'),
             dhcp_hosts=[dict(HOST, hostname='web')]),
    ]


def dnsmasq_text():
    """Class 6: text dnsmasq reads from libvirt's configuration file is one clean word."""
    default_host = dict(mac='52:54:00:91:00:24', ip='192.168.122.224')
    return [
        _net('dns_domain_name_newline', ('domain_name', LINE), domain_name='vlt-rel.lab\nlocal=/x/'),
        _net('dns_domain_name_space', ('domain_name', DNS), domain_name='vlt rel.lab'),
        _net('dns_domain_name_semicolon', ('domain_name', DNS), domain_name='vlt-rel;lab'),
        _net('dns_domain_name_leading_dash', ('domain_name', DNS), domain_name='-vlt-rel.lab'),
        _net('dns_domain_name_empty_label', ('domain_name', DNS), domain_name='vlt-rel..lab'),
        _net('dns_bootp_file_newline', ('dhcp_bootp_file', LINE), dhcp_bootp_file='pxelinux.0\ndhcp-option=3,10.0.0.1'),
        _net('dns_bootp_file_space', ('dhcp_bootp_file', 'without spaces'), dhcp_bootp_file='pxe linux.0'),
        _net('dns_bootp_file_comma', ('dhcp_bootp_file', 'commas'), dhcp_bootp_file='pxelinux.0,,10.0.0.1'),
        _net('dns_bootp_server_name', ('dhcp_bootp_server', 'IPv4 address'), dhcp_bootp_file='pxelinux.0',
             dhcp_bootp_server='tftp.vlt-rel'),
        _net('dns_bootp_server_newline', ('dhcp_bootp_server', LINE), dhcp_bootp_file='pxelinux.0',
             dhcp_bootp_server='10.91.19.1\n'),
        _net('dns_host_name_newline', ('dhcp_hosts[0].name', LINE), dhcp_hosts=[dict(HOST, name='web\nx')]),
        _net('dns_host_name_space', ('dhcp_hosts[0].name', DNS), dhcp_hosts=[dict(HOST, name='vlt rel')]),
        _net('dns_host_name_comma', ('dhcp_hosts[0].name', DNS), dhcp_hosts=[dict(HOST, name='vlt-rel,ignore')]),
        _net('dns_host_name_colon', ('dhcp_hosts[0].name', DNS), dhcp_hosts=[dict(HOST, name='vlt-rel:1')]),
        Case('xml_dns_default_host_name', 'libvirt_network',
             dict(name='default', dhcp_hosts=[dict(default_host, name='vlt-rel web')]), 'dhcp_hosts[0].name', DNS),
    ]


def cases():
    return trailing_newlines() + control_characters() + nested_options() + dnsmasq_text()
