# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Boxes are untrusted input: catalogs of the wrong shape or with paths for versions,
metadata.json naming odd disks, images that are not what they claim or that name a host
file, and HTTP sources that stall. Each is refused naming the item, and leaves nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import threading
import time

import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import qemuimg, vagrant_box

LIBVIRT = dict(name='libvirt', url='http://127.0.0.1/x.box')


def catalog_of(version='1.0', **provider):
    return {'versions': [{'version': version, 'providers': [dict(LIBVIRT, **provider)]}]}


# -- catalogs -----------------------------------------------------------------------------
@pytest.mark.parametrize('version', ['1/../../x', '/etc', '..', '../1', '1.0\n', '1.0 ', '', 'x1', '1' * 65,
                                     '1\x00', 5, 1.5, True, None, ['1'], {'v': 1}])
def test_catalog_versions_are_checked_before_they_name_a_directory(version):
    with pytest.raises(vagrant_box.BoxError, match=r'versions\[0\]\.version is'):
        vagrant_box.catalog_choice(catalog_of(version), None)


@pytest.mark.parametrize('catalog, where', [
    ([], 'the catalog is list'),
    ('x', 'the catalog is str'),
    ({'versions': {'1.0': {}}}, 'versions is dict, not a list'),
    ({'versions': 'libvirt'}, 'versions is str'),
    ({'versions': ['1.0']}, r'versions\[0\] is str, not a mapping'),
    ({'versions': [{'providers': [LIBVIRT]}]}, r'versions\[0\]\.version is None'),
    ({'versions': [{'version': '1', 'providers': {'name': 'libvirt'}}]}, r'versions\[0\]\.providers is dict'),
    ({'versions': [{'version': '1', 'providers': [['libvirt']]}]}, r'versions\[0\]\.providers\[0\] is list'),
    ({'versions': [{'version': '1', 'providers': [{'url': 'http://x/b'}]}]},
     r'versions\[0\]\.providers\[0\]\.name is None'),
    ({'versions': [{'version': '1', 'providers': [{'name': 5}]}]}, r'providers\[0\]\.name is 5'),
    ({'versions': [{'version': '1', 'providers': [{'name': 'lib virt'}]}]}, r'providers\[0\]\.name is'),
    ({'versions': [{'version': '1', 'providers': [{'name': 'libvirt'}]}]}, r'providers\[0\]\.url is None'),
    (catalog_of(url=5), r'providers\[0\]\.url is 5'),
    (catalog_of(url=['http://x']), r'providers\[0\]\.url is'),
    (catalog_of(url='http://x/a b.box'), 'without spaces'),
    (catalog_of(url='http://x/a.box\n'), 'control characters'),
    (catalog_of(url='file:///etc/passwd'), 'remote catalog may not name local files'),
    (catalog_of(url='/etc/passwd'), 'remote catalog may not name local files'),
    (catalog_of(url='ftp://x/a.box'), 'an http or https URL'),
    (catalog_of(url='x.box'), 'an http or https URL'),
    (catalog_of(checksum_type='crc32', checksum='0' * 8), r'checksum_type is .crc32.'),
    (catalog_of(checksum_type=['sha256']), r'checksum_type is'),
    (catalog_of(checksum_type='sha256', checksum=12), r'checksum is 12: 64 hex digits'),
    (catalog_of(checksum_type='sha256', checksum='z' * 64), r'checksum is .z+.: 64 hex digits'),
    (catalog_of(checksum_type='md5', checksum='0' * 64), r'32 hex digits \(md5\)'),
    (catalog_of(architecture='../../x'), r'providers\[0\]\.architecture is'),
    (catalog_of(architecture=64), r'providers\[0\]\.architecture is 64'),
    (dict(catalog_of(), name='../../etc'), 'catalog name'),
    (dict(catalog_of(), name=['x']), 'catalog name'),
])
def test_catalogs_of_the_wrong_shape_are_refused_naming_the_item(catalog, where):
    with pytest.raises(vagrant_box.BoxError, match=where):
        vagrant_box.catalog_choice(catalog, None)


def test_other_providers_need_no_url_but_a_sound_name():
    catalog = {'versions': [{'version': '1', 'providers': [{'name': 'virtualbox'}, LIBVIRT]},
                            {'version': '2', 'providers': [{'name': 'virtualbox', 'url': 5}]}]}
    assert vagrant_box.catalog_choice(catalog, None) == ('1', LIBVIRT['url'], None, None)


def test_empty_and_missing_versions_say_there_is_no_libvirt_box():
    for catalog in ({}, {'versions': None}, {'versions': []}, {'versions': [{'version': '1'}]}):
        with pytest.raises(vagrant_box.BoxError, match='no libvirt box'):
            vagrant_box.catalog_choice(catalog, None)


def test_a_local_catalog_may_name_local_files():
    assert vagrant_box.catalog_choice(catalog_of(url='/srv/x.box'), None, local=True)[1] == '/srv/x.box'
    assert vagrant_box.catalog_choice(catalog_of(url='file:///srv/x.box'), None, local=True)[1] == 'file:///srv/x.box'
    with pytest.raises(vagrant_box.BoxError, match='an http or https URL'):
        vagrant_box.catalog_choice(catalog_of(url='x.box'), None, local=True)


def test_the_build_for_this_hosts_architecture_wins(monkeypatch):
    monkeypatch.setattr(vagrant_box, 'host_architecture', lambda: 'amd64')
    builds = [dict(LIBVIRT, architecture='arm64', url='http://x/arm.box'),
              dict(LIBVIRT, architecture='amd64', url='http://x/amd.box'),
              dict(LIBVIRT, architecture='unknown', url='http://x/any.box')]
    assert vagrant_box.catalog_choice({'versions': [{'version': '1', 'providers': builds}]}, None)[1] == 'http://x/amd.box'
    assert vagrant_box.catalog_choice({'versions': [{'version': '1', 'providers': builds[::2]}]}, None)[1] == \
        'http://x/any.box'


@pytest.mark.parametrize('version', ['../x', '1/2', '/abs', '..', '1\n', 5, None])
def test_the_store_path_never_leaves_the_store(tmp_path, version):
    with pytest.raises(vagrant_box.BoxError, match='the version is'):
        vagrant_box.box_dir(str(tmp_path), 'org/box', version)
    with pytest.raises(vagrant_box.BoxError):
        vagrant_box.install('/nonexistent.box', str(tmp_path), 'org/box', version)
    assert os.listdir(str(tmp_path)) == []


def test_odd_directories_in_the_store_are_not_versions(tmp_path):
    for version in ('1.0', 'x..y', '.libvirt.tmp', 'a b'):
        directory = tmp_path / 'boxes' / 'b' / version / 'libvirt'
        directory.mkdir(parents=True)
        (directory / 'metadata.json').write_text('{}')
    assert vagrant_box.stored_versions(str(tmp_path), 'b') == ['1.0']


# -- metadata.json ------------------------------------------------------------------------
DISK = {'path': 'a.qcow2'}


@pytest.mark.parametrize('metadata, where', [
    ({'disks': {'path': 'a.qcow2'}}, 'metadata.json disks is dict, not a list'),
    ({'disks': 'a.qcow2'}, 'metadata.json disks is str'),
    ({'disks': 5}, 'metadata.json disks is int'),
    ({'disks': ['a.qcow2']}, r'disks\[0\] is str, not a mapping'),
    ({'disks': [None]}, r'disks\[0\] is NoneType'),
    ({'disks': [{}]}, r'disks\[0\]\.path is None'),
    ({'disks': [{'path': '../a.qcow2'}]}, r'disks\[0\]\.path is .\.\./a\.qcow2.'),
    ({'disks': [{'path': '/etc/passwd'}]}, r'disks\[0\]\.path is ./etc/passwd.'),
    ({'disks': [{'path': 'sub/a.qcow2'}]}, r'disks\[0\]\.path is'),
    ({'disks': [{'path': '.a.qcow2'}]}, r'disks\[0\]\.path is'),
    ({'disks': [{'path': 'a.qcow2\n'}]}, r'disks\[0\]\.path is'),
    ({'disks': [{'path': 5}]}, r'disks\[0\]\.path is 5'),
    ({'disks': [{'path': ['a.qcow2']}]}, r'disks\[0\]\.path is'),
    ({'disks': [dict(DISK, name='../x')]}, r'disks\[0\]\.name is'),
    ({'disks': [dict(DISK, name='a b')]}, r'disks\[0\]\.name is'),
    ({'disks': [dict(DISK, name='')]}, r'disks\[0\]\.name is'),
    ({'disks': [dict(DISK, name=7)]}, r'disks\[0\]\.name is 7'),
    ({'disks': [dict(DISK, name=None)]}, r'disks\[0\]\.name is None'),
    ({'disks': [dict(DISK, format='vmdk')]}, r'disks\[0\]\.format is .vmdk.: one of qcow2, raw'),
    ({'disks': [dict(DISK, format=None)]}, r'disks\[0\]\.format is None'),
    ({'disks': [dict(DISK, format=['raw'])]}, r'disks\[0\]\.format is'),
    ({'disks': [DISK, dict(DISK, name='a')]}, r'disks\[1\]\.name is .a., the name of an earlier disk'),
    ({'disks': [DISK, {'path': 'missing.img'}]}, 'does not hold'),
    ({'format': 'vmdk'}, 'metadata.json format is .vmdk.'),
    ({'format': 5}, 'metadata.json format is 5'),
])
def test_metadata_naming_odd_disks_is_refused_and_leaves_nothing(tmp_path, images, make_box, box_members,
                                                                 metadata, where):
    files = {'a.qcow2': images['qcow2'], 'box.img': images['qcow2']}
    archive = make_box(tmp_path / 'odd.box', box_members(dict(metadata, provider='libvirt'), files))
    with pytest.raises(vagrant_box.BoxError, match=where):
        vagrant_box.install(archive, str(tmp_path / 'home'), 'org/odd', '1.0')
    assert os.listdir(str(tmp_path / 'home' / 'boxes')) == []


@pytest.mark.parametrize('metadata, why', [
    (b'[' * 100000, 'no readable metadata.json'),
    (b'{"provider": "libvirt", "x": "' + b'a' * (2 * 1024 * 1024) + b'"}', 'larger than'),
    (b'{"provider": "\xff"}', 'no readable metadata.json'),
    (b'[]', 'not for the libvirt provider'),
    (b'"libvirt"', 'not for the libvirt provider'),
])
def test_metadata_that_is_no_sound_json_is_refused(tmp_path, images, make_box, box_members, metadata, why):
    archive = make_box(tmp_path / 'odd.box', box_members(metadata, {'box.img': images['qcow2']}))
    with pytest.raises(vagrant_box.BoxError, match=why):
        vagrant_box.install(archive, str(tmp_path / 'home'), 'org/odd', '1.0')
    assert os.listdir(str(tmp_path / 'home' / 'boxes')) == []


# -- images: the backing-file attack ------------------------------------------------------
@pytest.mark.parametrize('kind, claimed, why', [
    ('backed_raw', 'raw', 'said to be raw but its header is qcow2'),
    ('backed_raw', 'qcow2', "names a backing file '/etc/hostname'"),
    ('backed_qcow2', 'qcow2', 'names a backing file'),
    ('data_file', 'qcow2', 'names an external data file'),
    ('qcow2', 'raw', 'said to be raw but its header is qcow2'),
    ('raw', 'qcow2', 'said to be qcow2 but its header is raw'),
])
def test_images_naming_host_files_or_lying_about_their_format_are_refused(tmp_path, images, make_box, box_members,
                                                                          kind, claimed, why):
    for metadata, name, disk in (({'format': claimed}, 'box.img', 'box'),
                                 ({'disks': [{'name': 'root', 'path': 'root.img', 'format': claimed}]}, 'root.img',
                                  'root')):
        archive = make_box(tmp_path / 'evil.box', box_members(dict(metadata, provider='libvirt'),
                                                              {name: images[kind]}))
        with pytest.raises(vagrant_box.BoxError, match=why) as caught:
            vagrant_box.install(archive, str(tmp_path / 'home'), 'org/evil', '1.0')
        assert str(caught.value).startswith('disk %s (%s): ' % (disk, name))
        assert os.listdir(str(tmp_path / 'home' / 'boxes')) == []


def test_sound_images_pass_and_report_what_they_are(tmp_path, images):
    path = tmp_path / 'plain.qcow2'
    path.write_bytes(images['qcow2'])
    assert qemuimg.check_self_contained(str(path), 'qcow2')['virtual-size'] == 1024 * 1024
    path.write_bytes(images['raw'])
    assert qemuimg.check_self_contained(str(path), 'raw')['format'] == 'raw'


def test_qemu_img_is_never_given_a_relative_or_protocol_path(tmp_path):
    with pytest.raises(qemuimg.ImageError, match='not an absolute path'):
        qemuimg.info('json:{"file.filename": "/etc/hostname"}')
    with pytest.raises(qemuimg.ImageError, match='could not read'):
        qemuimg.info(str(tmp_path / 'missing.img'))


def test_a_missing_qemu_img_is_a_clean_refusal(tmp_path, images):
    path = tmp_path / 'plain.qcow2'
    path.write_bytes(images['qcow2'])
    with pytest.raises(qemuimg.ImageError, match='could not read'):
        qemuimg.check_self_contained(str(path), 'qcow2', qemu_img='/nonexistent/qemu-img')


# -- downloads ----------------------------------------------------------------------------
class Server(object):
    """A local HTTP server (127.0.0.1) answering every request with ``reply`` and then doing
    ``after``: stall (keep the socket open, send nothing) or close."""

    def __init__(self, reply, stall=0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(4)
        self.reply, self.stall = reply, stall
        self.url = 'http://127.0.0.1:%d/vlt.box' % self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve)
        self.thread.daemon = True
        self.thread.start()

    def serve(self):
        try:
            client, unused = self.sock.accept()
        except OSError:
            return
        client.recv(65536)
        client.sendall(self.reply)
        time.sleep(self.stall)
        client.close()

    def close(self):
        self.sock.close()


@pytest.fixture
def server():
    started = []

    def start(reply, stall=0):
        started.append(Server(reply, stall))
        return started[-1]
    yield start
    for each in started:
        each.close()


def test_a_source_that_stalls_after_its_headers_fails_naming_the_url_in_time(tmp_path, server):
    stalling = server(b'HTTP/1.0 200 OK\r\nContent-Length: 1000000\r\n\r\nsome', stall=10)
    started = time.monotonic()
    with pytest.raises(vagrant_box.BoxError) as caught:
        vagrant_box.download(stalling.url, str(tmp_path), timeout=1)
    assert time.monotonic() - started < 5
    assert str(caught.value) == 'cannot download %s: no data for 1 seconds' % stalling.url
    assert os.listdir(str(tmp_path)) == []


def test_a_source_that_stalls_before_its_headers_fails_too(tmp_path, server):
    silent = server(b'', stall=10)
    with pytest.raises(vagrant_box.BoxError, match='cannot download %s: ' % silent.url):
        vagrant_box.download(silent.url, str(tmp_path), timeout=1)
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize('reply, why', [
    (b'HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n', 'HTTP 404 Not Found'),
    (b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort', 'ended after 5 of its 100 bytes'),
    (b'garbage\r\n\r\n', 'cannot download'),
])
def test_failed_downloads_name_the_url_and_leave_nothing(tmp_path, server, reply, why):
    source = server(reply)
    with pytest.raises(vagrant_box.BoxError, match=why) as caught:
        vagrant_box.download(source.url, str(tmp_path), timeout=5)
    assert source.url in str(caught.value)
    assert os.listdir(str(tmp_path)) == []


def test_downloads_have_a_size_limit_and_work(tmp_path, server):
    big = server(b'HTTP/1.0 200 OK\r\n\r\n' + b'x' * 5000)
    with pytest.raises(vagrant_box.BoxError, match='larger than 4096 bytes'):
        vagrant_box.download(big.url, str(tmp_path), timeout=5, limit=4096)
    assert os.listdir(str(tmp_path)) == []
    small = server(b'HTTP/1.0 200 OK\r\n\r\n' + b'x' * 5000)
    with open(vagrant_box.download(small.url, str(tmp_path), timeout=5, limit=8192), 'rb') as handle:
        assert handle.read() == b'x' * 5000


def test_nothing_listening_and_bad_urls(tmp_path):
    closed = socket.socket()
    closed.bind(('127.0.0.1', 0))
    port = closed.getsockname()[1]
    closed.close()
    for url in ('http://127.0.0.1:%d/x.box' % port, 'nothing://x', 'http://[::1'):
        with pytest.raises(vagrant_box.BoxError, match='cannot download'):
            vagrant_box.download(url, str(tmp_path), timeout=2)
    assert os.listdir(str(tmp_path)) == []
