# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt_domain's XML, option group by option group, and its input checks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import domain, domain_xml, xmltree
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


def test_existing_domain_gets_only_what_is_given():
    tree = built(new=False, memory=1024)
    assert [child.tag for child in tree] == ['name', 'memory', 'currentMemory', 'devices']
    assert len(tree.find('devices')) == 0
    assert spec(memory=1024).rules().owned == frozenset()


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
    assert tree.find('devices/channel/target').get('name') == 'org.qemu.guest_agent.0'
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
    (dict(disks=[dict(path='/a.img')]), 'disks[0].device'),
    (dict(kernel='vmlinuz'), 'kernel'),
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
    live.find('memory').text = '1'
    assert domain.restart_view(live) != domain.restart_view(config)
