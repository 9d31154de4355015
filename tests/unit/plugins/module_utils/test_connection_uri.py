# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vagrant-libvirt's provider options -> libvirt URI, option by option and combined."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import connection
from ansible_collections.vagrantless.libvirt.plugins.module_utils.validate import ValidationError

HOME = '/home/u'


def uri(**params):
    return connection.build_uri(params, home=HOME)


@pytest.mark.parametrize('params, expected', [
    ({}, 'qemu:///system'),
    ({'driver': 'kvm'}, 'qemu:///system'),
    ({'driver': 'qemu'}, 'qemu:///system'),
    ({'qemu_use_session': True}, 'qemu:///session'),
    ({'driver': 'qemu', 'qemu_use_session': True}, 'qemu:///session'),
    ({'driver': 'openvz'}, 'openvz:///system'),
    ({'driver': 'esx'}, 'esx:///'),
    ({'driver': 'vbox'}, 'vbox:///session'),
    ({'host': 'hv1'}, 'qemu://hv1/system'),
    ({'socket': '/run/x/libvirt-sock'}, 'qemu:///system?socket=/run/x/libvirt-sock'),
    ({'host': 'hv1', 'connect_via_ssh': True},
     'qemu+ssh://hv1/system?no_verify=1&keyfile=/home/u/.ssh/id_rsa'),
    ({'connect_via_ssh': True}, 'qemu+ssh://localhost/system?no_verify=1&keyfile=/home/u/.ssh/id_rsa'),
    ({'host': 'hv1', 'connect_via_ssh': True, 'username': 'admin'},
     'qemu+ssh://admin@hv1/system?no_verify=1&keyfile=/home/u/.ssh/id_rsa'),
    ({'host': 'hv1:2222', 'connect_via_ssh': True}, 'qemu+ssh://hv1:2222/system?no_verify=1&keyfile=/home/u/.ssh/id_rsa'),
    ({'host': '::1'}, 'qemu://[::1]/system'),
    ({'host': '[fd00::5]:16509'}, 'qemu://[fd00::5]:16509/system'),
    ({'host': '10.0.0.7'}, 'qemu://10.0.0.7/system'),
    # a key path with a space, "&" or "#" stays one query value
    ({'host': 'hv1', 'connect_via_ssh': True, 'id_ssh_key_file': '/keys/my key&x=1#f'},
     'qemu+ssh://hv1/system?no_verify=1&keyfile=/keys/my+key%26x%3D1%23f'),
    ({'socket': '/run/a b/sock?x'}, 'qemu:///system?socket=/run/a+b/sock%3Fx'),
    ({'host': 'hv1', 'connect_via_ssh': True, 'id_ssh_key_file': 'lab_key'},
     'qemu+ssh://hv1/system?no_verify=1&keyfile=/home/u/.ssh/lab_key'),
    ({'host': 'hv1', 'connect_via_ssh': True, 'id_ssh_key_file': '/keys/k'},
     'qemu+ssh://hv1/system?no_verify=1&keyfile=/keys/k'),
    # an explicit key file turns SSH on when connect_via_ssh is unset...
    ({'host': 'hv1', 'id_ssh_key_file': 'k'}, 'qemu+ssh://hv1/system?no_verify=1&keyfile=/home/u/.ssh/k'),
    # ...but not when it is explicitly off
    ({'host': 'hv1', 'id_ssh_key_file': 'k', 'connect_via_ssh': False}, 'qemu://hv1/system'),
    ({'host': 'hv1', 'connect_via_ssh': True, 'socket': '/s'},
     'qemu+ssh://hv1/system?no_verify=1&keyfile=/home/u/.ssh/id_rsa&socket=/s'),
    ({'host': 'hv1', 'connect_via_ssh': True, 'qemu_use_session': True, 'username': 'me'},
     'qemu+ssh://me@hv1/session?no_verify=1&keyfile=/home/u/.ssh/id_rsa'),
    # uri overrides every other option
    ({'uri': 'test:///default', 'host': 'hv1', 'connect_via_ssh': True, 'driver': 'esx'}, 'test:///default'),
])
def test_build_uri(params, expected):
    assert uri(**params) == expected


def test_unknown_driver_is_refused():
    with pytest.raises(ValueError, match='driver'):
        uri(driver='xen')


def test_system_uri_only_differs_in_session_mode():
    assert connection.system_uri({'qemu_use_session': True}) == 'qemu:///system'
    assert connection.system_uri({'qemu_use_session': True, 'system_uri': 'qemu+ssh://h/system'}) == 'qemu+ssh://h/system'
    assert connection.system_uri({'driver': 'qemu'}) == 'qemu:///system'
    assert connection.system_uri({'uri': 'test:///default', 'qemu_use_session': True}) == 'test:///default'


def test_every_option_is_in_the_argument_spec():
    spec = connection.connection_argument_spec(name=dict(type='str'))
    assert set(spec) == {'uri', 'driver', 'host', 'connect_via_ssh', 'username', 'password',
                         'id_ssh_key_file', 'socket', 'qemu_use_session', 'system_uri', 'name'}
    assert spec['password']['no_log'] is True
    # a copy: changing it leaves the shared spec alone
    spec['driver']['default'] = 'qemu'
    assert connection.CONNECTION_ARGUMENT_SPEC['driver']['default'] == 'kvm'


def test_open_test_driver():
    conn = connection.open_connection({'uri': 'test:///default'})
    assert conn.getURI() == 'test:///default'


@pytest.mark.parametrize('uri_value, hint', [
    ('qemu:///system?socket=/nonexistent/libvirt-sock', 'libvirtd is not running'),
    ('qemu+bogus:///system', 'does not understand the URI'),
])
def test_failures_name_the_uri_and_a_cause(uri_value, hint):
    with pytest.raises(connection.LibvirtConnectionError) as caught:
        connection.open_connection({'uri': uri_value})
    assert uri_value in str(caught.value)
    assert hint in str(caught.value)


@pytest.mark.parametrize('message, hint', [
    ('Failed to connect socket to /var/run/libvirt/libvirt-sock: No such file or directory', 'not running'),
    ('authentication failed: access denied', 'permission denied'),
    ('Cannot recv data: ssh: connect to host hv1 port 22: No route to host', 'SSH transport'),
    ('unable to connect to server: Connection refused', 'nothing listens'),
])
def test_error_hints(message, hint):
    assert hint in connection.explain_libvirt_error(Exception(message))


@pytest.mark.parametrize('params, option', [
    ({'host': 'hv1/system?socket=/tmp/evil#'}, 'host'),
    ({'host': 'hv1?keyfile=/tmp/k'}, 'host'),
    ({'host': 'hv1#frag'}, 'host'),
    ({'host': 'evil@hv1'}, 'host'),
    ({'host': 'hv1\n'}, 'host'),
    ({'host': '-oProxyCommand=x'}, 'host'),
    ({'host': 'hv1:0'}, 'host'),
    ({'host': 'hv1:99999'}, 'host'),
    ({'host': 'hv1:ssh'}, 'host'),
    ({'host': 'fe80::1%eth0'}, 'host'),
    ({'host': 'a..b'}, 'host'),
    ({'host': 'x' * 254}, 'host'),
    ({'host': 'hv1', 'connect_via_ssh': True, 'username': 'root@evil'}, 'username'),
    ({'host': 'hv1', 'connect_via_ssh': True, 'username': 'a b'}, 'username'),
    ({'host': 'hv1', 'connect_via_ssh': True, 'username': 'admin\n'}, 'username'),
    ({'host': 'hv1', 'connect_via_ssh': True, 'username': '-oProxyCommand=x'}, 'username'),
    ({'host': 'hv1', 'connect_via_ssh': True, 'username': 'a:b'}, 'username'),
    ({'host': 'hv1', 'connect_via_ssh': True, 'id_ssh_key_file': '/k\n'}, 'id_ssh_key_file'),
    ({'host': 'hv1', 'connect_via_ssh': True, 'id_ssh_key_file': '/k\x00'}, 'id_ssh_key_file'),
    ({'socket': 'relative/sock'}, 'socket'),
    ({'socket': '/run/sock\r'}, 'socket'),
    ({'uri': 'qemu:///system\n'}, 'uri'),
    ({'uri': 'qemu:///system?socket=/a b'}, 'uri'),
    ({'uri': '/no/scheme'}, 'uri'),
    ({'driver': 'xen'}, 'driver'),
])
def test_parts_that_would_change_the_uri_are_refused(params, option):
    with pytest.raises(ValidationError) as caught:
        uri(**params)
    assert caught.value.option == option


def test_a_bad_system_uri_is_refused_in_session_mode():
    with pytest.raises(ValidationError) as caught:
        connection.system_uri({'qemu_use_session': True, 'system_uri': 'qemu:///system\n'})
    assert caught.value.option == 'system_uri'


@pytest.mark.parametrize('value, ok', [
    ('web', True), ('web-1.lab.example', True), ('host_1', True), ('localhost', True), ('1.2.3.4', False),
    ('web\n', False), ('-web', False), ('web-', False), ('.web', False), ('web.', False), ('w b', False),
    ('', False), (None, False), (42, False), ('a' * 64, False), ('a' * 63, True), ('\u0435vil', False)])
def test_host_names(value, ok):
    assert connection.is_hostname(value) is ok
