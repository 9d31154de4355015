# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt_domain's XML, option group by option group, and its input checks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import domain, domain_devices, domain_xml, xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError


def spec(**params):
    params.setdefault('name', 'lab_web')
    params.setdefault('driver', 'qemu')
    return domain_xml.DomainSpec(params)


def built(paths=(), new=True, **params):
    return spec(**params).desired(list(paths), new=new)


def test_new_domain_gets_vagrant_libvirt_defaults():
    tree = built()
    assert tree.get('type') == 'qemu'
    assert tree.findtext('memory') == str(512 * 1024) and tree.find('memory').get('unit') == 'KiB'
    assert tree.findtext('vcpu') == '1'
    assert [f.tag for f in tree.find('features')] == ['acpi', 'apic', 'pae']
    assert [b.get('dev') for b in tree.findall('os/boot')] == ['hd']
    graphics = tree.find('devices/graphics')
    assert (graphics.get('type'), graphics.get('listen'), graphics.get('keymap')) == ('vnc', '127.0.0.1', 'en-us')
    assert tree.find('devices/video/model').get('type') == 'cirrus'
    assert tree.find('devices/video/model').get('vram') == '16384'  # libvirt's rounding of 9216
    assert tree.find('cpu') is None  # TCG: libvirt's own CPU
    assert tree.find('devices/serial/log').get('file') == '/var/log/libvirt/qemu/lab_web-console.log'


def test_existing_domain_gets_only_what_is_given():
    tree = built(new=False, memory=1024)
    assert [child.tag for child in tree] == ['name', 'memory', 'currentMemory', 'devices']
    assert len(tree.find('devices')) == 0
    assert spec(memory=1024).rules().owned == frozenset()
    assert tree.get('type') == 'qemu'


def test_a_lifecycle_call_leaves_the_domain_type_alone():
    """halt's connection driver (default kvm) must not turn a qemu domain into a kvm one."""
    assert built(new=False, driver='kvm', state='stopped', graceful_timeout=20).get('type') is None
    assert built(new=True, driver='kvm').get('type') == 'kvm'


def test_cpu_topology_and_kvm_mode():
    tree = built(driver='kvm', cpus=4, cputopology=dict(sockets=2, cores=2, threads=1), nested=True)
    cpu = tree.find('cpu')
    assert cpu.get('mode') == 'host-model'
    assert dict(cpu.find('topology').attrib) == dict(sockets='2', dies='1', cores='2', threads='1')
    assert [f.get('name') for f in cpu.findall('feature')] == ['vmx', 'svm']
    custom = built(driver='kvm', cpu_mode='custom', cpu_model='Haswell', cpu_fallback='forbid').find('cpu/model')
    assert (custom.text, custom.get('fallback')) == ('Haswell', 'forbid')


def test_os_kernel_and_boot_order():
    tree = built(kernel='/k', initrd='/i', cmd_line='console=ttyS0', boot=['network', 'hd'], machine_type='q35')
    assert tree.find('os/type').get('machine') == 'q35'
    assert (tree.findtext('os/kernel'), tree.findtext('os/initrd'), tree.findtext('os/cmdline')) == \
        ('/k', '/i', 'console=ttyS0')
    assert [b.get('dev') for b in tree.findall('os/boot')] == ['network', 'hd']


def test_disks_and_cdroms():
    tree = built(['/p/web.img', '/p/seed.iso'], disks=[
        dict(device='vda', volume='web.img', cache='none', serial='S1', boot_order=1),
        dict(device='hdc', path='/p/seed.iso', device_type='cdrom')])
    disk, cdrom = tree.findall('devices/disk')
    assert xmltree.to_xml(disk) == (
        '<disk type="file" device="disk"><driver name="qemu" type="qcow2" cache="none"/>'
        '<source file="/p/web.img"/><target dev="vda" bus="virtio"/><serial>S1</serial><boot order="1"/></disk>')
    assert cdrom.find('target').get('bus') == 'ide' and cdrom.find('readonly') is not None
    assert cdrom.find('driver').get('type') == 'raw'


def test_interfaces_graphics_serial_agent_metadata():
    tree = built(interfaces=[dict(network='vagrant-libvirt', mac='52:54:00:AA:00:01'),
                             dict(type='bridge', bridge='br0', model='e1000')],
                 graphics_type='spice', graphics_passwd='s3cret', serial_log='/var/log/c.log', qemu_use_agent=True,
                 metadata=dict(lab='demo', machine='web', volumes=['lab_web.img']))
    first, second = tree.findall('devices/interface')
    assert first.find('mac').get('address') == '52:54:00:aa:00:01'
    assert second.find('source').get('bridge') == 'br0' and second.find('model').get('type') == 'e1000'
    assert tree.find('devices/graphics').get('passwd') == 's3cret'
    assert 's3cret' not in xmltree.pretty(tree)
    assert tree.find('devices/serial/source').get('path') == '/var/log/c.log'
    assert [channel.find('target').get('name') for channel in tree.findall('devices/channel')] == [
        'org.qemu.guest_agent.0', 'com.redhat.spice.0']  # SPICE graphics bring the SPICE agent's channel
    assert domain_xml.owned_volume_paths(xmltree.parse(xmltree.to_xml(built(
        ['/p/lab_web.img', '/p/box_vagrant_box_image_0_box.img'],
        disks=[dict(device='vda', path='/p/lab_web.img'), dict(device='vdb', path='/p/box_vagrant_box_image_0_box.img')],
        metadata=dict(volumes=['lab_web.img', 'box_vagrant_box_image_0_box.img']))))) == ['/p/lab_web.img']


def test_no_password_removes_one_set_before():
    current = built(graphics_passwd='old')
    merged = xmltree.merge(current, built(new=False, graphics_type='vnc'))
    assert merged.find('devices/graphics').get('passwd') is None


@pytest.mark.parametrize('params, option', [
    (dict(cpus=4, cputopology=dict(sockets=1, cores=2, threads=1)), 'cputopology'),
    (dict(cputopology=dict(sockets=0, cores=1, threads=1)), 'cputopology.sockets'),
    (dict(memory=0), 'memory'), (dict(cpus=0), 'cpus'),
    (dict(interfaces=[dict(mac='zz')]), 'interfaces[0].mac'),
    (dict(name='a/b'), 'name'), (dict(name='a<b'), 'name'), (dict(name='x' * 300), 'name'),
    (dict(disks=[dict(device='vda')]), 'disks[0]'),
    (dict(disks=[dict(device='vda', path='rel.img')]), 'disks[0].path'),
    (dict(disks=[dict(device='vda', path='/a.img'), dict(path='/b.img')]), 'disks[1].device'),
    (dict(disks=[dict(device='hd%s' % c, path='/%s.iso' % c, device_type='cdrom') for c in 'abcde']), 'disks'),
    (dict(kernel='vmlinuz'), 'kernel'),
    (dict(graceful_timeout=-5), 'graceful_timeout'), (dict(nic_model_type='ne3000'), 'nic_model_type'),
    (dict(interfaces=[dict(network='default', model='virtio-net')]), 'interfaces[0].model'),
])
def test_bad_input(params, option):
    with pytest.raises(ValidationError) as caught:
        spec(**params)
    assert caught.value.option == option


def test_restart_view_ignores_runtime_details():
    config = built(['/p/a.img'], disks=[dict(device='vda', path='/p/a.img')],
                   interfaces=[dict(network='default', mac='52:54:00:00:00:01')])
    live = xmltree.parse(xmltree.to_xml(config))
    live.find('devices/interface/source').set('bridge', 'virbr0')
    live.find('devices/graphics').set('port', '5901')
    assert domain.restart_view(live) == domain.restart_view(config)
    assert domain.pending_restart(config, live) == []
    live.find('memory').text = '1'
    live.find('vcpu').text = '7'
    assert domain.restart_view(live) != domain.restart_view(config)
    assert domain.pending_restart(config, live) == ['memory', 'cpus']


def test_hypervisor_features_memory_backing_and_numa():
    tree = built(kvm_hidden=True, hyperv_features=[dict(name='relaxed', state='on')], secure_boot=True,
                 memorybacking=[dict(name='hugepages')], cpus=2,
                 numa_nodes=[dict(cpus='0', memory=128), dict(cpus='1', memory=256)])
    assert tree.find('features/kvm/hidden').get('state') == 'on'
    assert tree.find('features/hyperv/relaxed').get('state') == 'on'
    assert tree.find('features/smm').get('state') == 'on'
    assert tree.find('memoryBacking/hugepages') is not None
    cells = tree.findall('cpu/numa/cell')
    assert [(c.get('id'), c.get('cpus'), c.get('memory')) for c in cells] == [('0', '0', '131072'),
                                                                              ('1', '1', '262144')]


def test_firmware_and_qemu_command_line():
    tree = built(loader='/usr/share/OVMF/OVMF_CODE.fd', secure_boot=True, nvram='/var/lib/libvirt/nvram/x.fd',
                 nvram_template='/usr/share/OVMF/OVMF_VARS.fd', dtb='/boot/x.dtb', qemuargs=['-no-user-config'],
                 qemuenv={'A': 'b'})
    assert tree.find('os/loader').get('secure') == 'yes'
    assert tree.find('os/nvram').get('template') == '/usr/share/OVMF/OVMF_VARS.fd'
    assert tree.findtext('os/dtb') == '/boot/x.dtb'
    ns = {'qemu': domain_xml.QEMU_NS}
    assert tree.find('qemu:commandline/qemu:arg', ns).get('value') == '-no-user-config'
    assert tree.find('qemu:commandline/qemu:env', ns).get('name') == 'A'


def test_devices_groups():
    tree = built(inputs=[dict(type='tablet', bus='usb')], sound_type='ich6', rng=dict(model='random'),
                 watchdog=dict(), smartcard=dict(), tpm_type='emulator', tpm_version='2.0',
                 usb_controller=dict(model='qemu-xhci', ports=8), redirdevs=[dict()],
                 redirfilters=[dict(vendor='0x1234', product='0xbeef', version='2.0', allow=False)],
                 pcis=[dict(bus='0x06', slot='0x12')], usbs=[dict(vendor='0x1234', product='0xbeef')],
                 channels=[dict(type='spicevmc', target_name='com.redhat.spice.0')])
    devices = tree.find('devices')
    assert devices.find('input').attrib == {'type': 'tablet', 'bus': 'usb'}
    assert devices.find('sound').get('model') == 'ich6'
    assert devices.findtext('rng/backend') == '/dev/urandom'
    assert devices.find('watchdog').attrib == {'model': 'i6300esb', 'action': 'reset'}
    assert devices.find('smartcard').attrib == {'mode': 'passthrough', 'type': 'spicevmc'}
    assert devices.find('tpm/backend').attrib == {'type': 'emulator', 'version': '2.0'}
    assert devices.find('controller').attrib == {'type': 'usb', 'index': '0', 'model': 'qemu-xhci', 'ports': '8'}
    assert devices.find('redirdev').attrib == {'bus': 'usb', 'type': 'spicevmc'}
    usbdev = devices.find('redirfilter/usbdev')
    assert usbdev.attrib == {'vendor': '0x1234', 'product': '0xBEEF', 'version': '2.00', 'allow': 'no'}
    pci, usb = devices.findall('hostdev')
    assert pci.find('source/address').attrib == {'domain': '0x0000', 'bus': '0x06', 'slot': '0x12', 'function': '0x0'}
    assert usb.find('source/product').get('id') == '0xbeef'
    assert devices.find('channel/target').get('name') == 'com.redhat.spice.0'


def test_filesystems_and_virtiofs_memory():
    tree = built(filesystems=[dict(source='/srv', target='vagrant', accessmode='mapped', readonly=True),
                              dict(source='/data', target='data', driver='virtiofs')])
    ninep, virtiofs = tree.findall('devices/filesystem')
    assert ninep.get('accessmode') == 'mapped' and ninep.find('driver').get('type') == 'path'
    assert ninep.find('readonly') is not None and ninep.find('target').get('dir') == 'vagrant'
    assert virtiofs.find('driver').get('type') == 'virtiofs'
    assert tree.find('memoryBacking/source').get('type') == 'memfd'
    assert tree.find('memoryBacking/access').get('mode') == 'shared'


@pytest.mark.parametrize('iface, check', [
    (dict(type='direct', dev='eth1', mode='vepa'), lambda n: n.find('source').attrib == {'dev': 'eth1', 'mode': 'vepa'}),
    (dict(type='udp', tunnel_port=1, tunnel_local_port=2),
     lambda n: n.find('source/local').attrib == {'address': '127.0.0.1', 'port': '2'}),
    (dict(type='server', tunnel_port=3), lambda n: n.find('source').attrib == {'address': '127.0.0.1', 'port': '3'}),
    (dict(type='mcast', tunnel_port=4), lambda n: n.find('source').get('address') == '239.255.1.1'),
    (dict(type='bridge', bridge='br0', ovs=True, portgroup='pg'),
     lambda n: n.find('virtualport').get('type') == 'openvswitch' and n.find('source').get('portgroup') == 'pg'),
    (dict(network='n', driver_name='vhost', driver_queues=4, iface_name='tap9', mtu=9000, trust_guest_rx_filters=True,
          pci_bus='0x00', pci_slot='0x0a'),
     lambda n: (n.find('driver').attrib == {'name': 'vhost', 'queues': '4'} and n.find('target').get('dev') == 'tap9'
                and n.find('mtu').get('size') == '9000' and n.get('trustGuestRxFilters') == 'yes'
                and n.find('address').get('slot') == '0x0a')),
])
def test_interface_kinds(iface, check):
    assert check(built(interfaces=[iface]).find('devices/interface'))


def test_box_disk_defaults_and_hotplug_detection():
    tree = built(['/p/a.img'], disks=[dict(path='/p/a.img')], disk_device='sda', disk_bus='scsi', volume_cache='none')
    target = tree.find('devices/disk/target')
    assert (target.get('dev'), target.get('bus')) == ('sda', 'scsi')
    assert tree.find('devices/disk/driver').get('cache') == 'none'
    current = built(['/p/a.img'], disks=[dict(device='vda', path='/p/a.img')])
    wanted = spec(disks=[dict(device='vda', path='/p/a.img'), dict(device='vdb', path='/p/b.img')],
                  interfaces=[dict(mac='52:54:00:00:00:09')])
    merged = xmltree.merge(current, wanted.desired(['/p/a.img', '/p/b.img'], new=False), wanted.rules())
    added = domain_xml.hotplug_devices(current, merged, wanted.rules())
    assert [(node.tag, node.find('target').get('dev') if node.tag == 'disk' else node.find('mac').get('address'))
            for node in added] == [('disk', 'vdb'), ('interface', '52:54:00:00:00:09')]


def test_cdroms_take_the_first_free_ide_devices():
    params = dict(name='x', driver='qemu', disks=[dict(device='hda', path='/p/a.img')],
                  cdroms=[dict(path='/p/1.iso'), dict(path='/p/2.iso', dev='hdd'), dict(path='/p/3.iso')])
    tree = built(['/p/a.img', '/p/1.iso', '/p/2.iso', '/p/3.iso'], **params)
    cdroms = [(d.find('target').get('dev'), d.find('source').get('file')) for d in tree.findall('devices/disk')
              if d.get('device') == 'cdrom']
    assert cdroms == [('hdb', '/p/1.iso'), ('hdd', '/p/2.iso'), ('hdc', '/p/3.iso')]
    with pytest.raises(ValidationError, match='cdroms\\[3\\].dev'):
        spec(cdroms=[dict(path='/p/%d.iso' % n) for n in range(4)], disks=[dict(device='hda', path='/p/a.img')])


def test_merging_our_output_into_libvirts_normalized_xml_is_a_no_op():
    """Define our XML on libvirt's test driver, read back its normalized definition, and
    lay the same options over it: nothing differs (the lab proves the same on qemu for
    every option group)."""
    import libvirt
    conn = libvirt.open('test:///default')
    params = dict(memory=256, cpus=2, cputopology=dict(sockets=1, cores=2, threads=1), boot=['hd', 'network'],
                  interfaces=[dict(network='default', mac='52:54:00:0e:00:01')], graphics_passwd='pw',
                  disks=[dict(device='vda', path='/p/a.img')], metadata=dict(lab='unit', machine='m'))
    desired = xmltree.merge(None, built(['/p/a.img'], name='vlt-unit-noop', **params))
    desired.set('type', 'test')
    dom = conn.defineXML(xmltree.to_xml(desired))
    try:
        normalized = xmltree.parse(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE))
        again = spec(name='vlt-unit-noop', **params)
        wanted = again.desired(['/p/a.img'], new=False)
        wanted.set('type', 'test')
        merged, changed, diff = xmltree.merge_and_compare(normalized, wanted, again.rules())
        assert not changed, diff
    finally:
        dom.undefine()


def test_an_interface_on_a_network_that_is_not_defined_is_refused():
    import libvirt  # pylint: disable=import-outside-toplevel
    conn = libvirt.open('test:///default')
    ok = dict(interfaces=[dict(network='default'), dict(type='bridge', bridge='br0'), dict()])
    assert domain.check_networks(conn, ok) is None
    with pytest.raises(ValidationError) as caught:
        domain.check_networks(conn, dict(interfaces=[dict(network='default'), dict(network='vlt-unit-nonet')]))
    assert caught.value.option == 'interfaces[1].network' and caught.value.value == 'vlt-unit-nonet'
    assert 'a defined network (default)' in str(caught.value)


def test_a_vnc_password_longer_than_vnc_takes_is_refused_without_showing_it():
    with pytest.raises(ValidationError) as error:
        spec(graphics_passwd='longer-than-8')
    assert error.value.option == 'graphics_passwd' and 'longer-than-8' not in str(error.value)
    spec(graphics_passwd='longer-than-8', graphics_type='spice')


@pytest.mark.parametrize('allow, expected', [('no', 'no'), ('false', 'no'), ('yes', 'yes'), (True, 'yes'), (None, 'yes')])
def test_redirect_filters_read_allow_as_a_vagrantfile_writes_it(allow, expected):
    item = dict(vendor='0x1234') if allow is None else dict(vendor='0x1234', allow=allow)
    assert built(redirfilters=[item]).find('devices/redirfilter/usbdev').get('allow') == expected


def test_a_redirect_filter_allow_that_is_no_boolean_is_refused():
    with pytest.raises(ValidationError, match=r'redirfilters\[0\].allow'):
        built(redirfilters=[dict(allow='maybe')])


def test_devices_are_built_in_domain_devices_for_the_spec():
    wanted = spec(disks=[dict(device='vda', volume='a.img', pool='default')],
                  interfaces=[dict(network='n', mac='52:54:00:00:00:01')])
    devices = domain_devices.build(wanted, {0: '/p/a.img'})
    assert [node.tag for node in devices] == ['disk', 'interface', 'serial', 'graphics', 'video']
    assert devices.find('serial/log').get('file') == '/var/log/libvirt/qemu/lab_web-console.log'
    assert [node.tag for node in domain_devices.build(spec(), {})] == ['serial', 'graphics', 'video']
    existing = spec()
    existing.new = False
    assert len(domain_devices.build(existing, {})) == 0  # an existing domain: only what the options give
