# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The leases inventory plugin through ansible-inventory, against libvirt's test driver
loaded with a node file of our own (running domains with machine metadata, a network
with reservations)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

NODE = """<node>
  <network>
    <name>vlt-inv</name>
    <bridge name="vltinv0"/>
    <ip address="10.204.8.1" netmask="255.255.255.0">
      <dhcp>
        <range start="10.204.8.2" end="10.204.8.254"/>
        <host mac="52:54:00:dd:00:01" name="web" ip="10.204.8.11"/>
        <host mac="52:54:00:dd:00:02" name="db" ip="10.204.8.12"/>
      </dhcp>
    </ip>
  </network>
  <domain type="test">
    <name>demo_web</name>
    <memory>131072</memory>
    <os><type>hvm</type></os>
    <devices><interface type="network"><mac address="52:54:00:dd:00:01"/><source network="vlt-inv"/></interface></devices>
    <metadata>
      <vagrantless:machine xmlns:vagrantless="urn:vagrantless:libvirt:machine:1">
        <vagrantless:lab>demo</vagrantless:lab>
        <vagrantless:machine>web</vagrantless:machine>
        <vagrantless:ssh_user>vagrant</vagrantless:ssh_user>
        <vagrantless:ssh_private_key_file>/keys/web</vagrantless:ssh_private_key_file>
        <vagrantless:ssh_port>2222</vagrantless:ssh_port>
      </vagrantless:machine>
    </metadata>
  </domain>
  <domain type="test">
    <name>demo_db</name>
    <memory>131072</memory>
    <os><type>hvm</type></os>
    <devices><interface type="network"><mac address="52:54:00:dd:00:02"/><source network="vlt-inv"/></interface></devices>
  </domain>
</node>
"""

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))


def inventory(tmp_path, config, *args, **kwargs):
    node = tmp_path / 'node.xml'
    node.write_text(kwargs.get('node', NODE))
    source = tmp_path / 'lab.leases.yml'
    source.write_text(config.replace('NODE', str(node)))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'),
               ANSIBLE_INVENTORY_ENABLED='vagrantless.libvirt.leases', ANSIBLE_NOCOLOR='1')
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-inventory'), '-i', str(source)] + list(args)
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


def plain(value):
    """ansible-inventory 2.19 writes strings a plugin set as {"__ansible_unsafe": text}."""
    if isinstance(value, dict):
        if set(value) == {'__ansible_unsafe'}:
            return value['__ansible_unsafe']
        return dict((key, plain(item)) for key, item in value.items())
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


CONFIG = """plugin: vagrantless.libvirt.leases
uris: ["test://NODE"]
sources: [reservation]
compose:
  web_url: "'http://' ~ ansible_host"
keyed_groups:
  - key: libvirt_state
    prefix: state
"""


def test_hosts_vars_and_groups(tmp_path):
    result = inventory(tmp_path, CONFIG, '--list')
    assert result.returncode == 0, result.stderr
    data = plain(json.loads(result.stdout))
    web = data['_meta']['hostvars']['demo_web']
    assert web['ansible_host'] == '10.204.8.11'
    assert web['ansible_user'] == 'vagrant' and web['ansible_ssh_private_key_file'] == '/keys/web'
    assert web['ansible_port'] == 2222
    assert web['vagrantless_lab'] == 'demo' and web['vagrantless_machine_name'] == 'web'
    assert web['libvirt_macs'] == ['52:54:00:dd:00:01'] and web['libvirt_state'] == 'running'
    assert web['libvirt_addresses'][0]['source'] == 'reservation'
    assert web['web_url'] == 'http://10.204.8.11'
    assert 'ansible_ssh_common_args' not in web  # a local hypervisor: its guests are reached directly
    db = data['_meta']['hostvars']['demo_db']
    assert db['ansible_host'] == '10.204.8.12' and 'ansible_user' not in db
    assert set(data['libvirt_network_vlt_inv']['hosts']) == {'demo_web', 'demo_db'}
    assert data['lab_demo']['hosts'] == ['demo_web']
    assert set(data['libvirt_state_running']['hosts']) == {'demo_web', 'demo_db'}
    assert set(data['state_running']['hosts']) == {'demo_web', 'demo_db'}


def test_hostname_from_machine_metadata_and_graph(tmp_path):
    result = inventory(tmp_path, CONFIG + 'hostname: machine\n', '--graph')
    assert result.returncode == 0, result.stderr
    assert '|--web' in result.stdout and '|--demo_db' in result.stdout
    assert '@lab_demo' in result.stdout


def test_unreachable_hypervisor_is_a_warning(tmp_path):
    config = CONFIG.replace('uris: ["test://NODE"]',
                            'uris: ["test://NODE", "qemu:///system?socket=/nonexistent/sock"]')
    result = inventory(tmp_path, config, '--list')
    assert result.returncode == 0, result.stderr
    assert 'qemu:///system?socket=/nonexistent/sock' in result.stderr
    assert 'demo_web' in json.loads(result.stdout)['_meta']['hostvars']


def test_unreachable_hypervisor_fails_when_strict(tmp_path, monkeypatch):
    monkeypatch.setenv('ANSIBLE_INVENTORY_UNPARSED_FAILED', 'true')
    config = CONFIG.replace('uris: ["test://NODE"]', 'uris: ["qemu:///system?socket=/nonexistent/sock"]')
    result = inventory(tmp_path, config + 'strict: true\n', '--list')
    assert result.returncode != 0
    assert 'cannot connect to libvirt at qemu:///system?socket=/nonexistent/sock' in result.stderr


@pytest.mark.parametrize('name', ['lab.yml', 'lab.leases.txt'])
def test_other_file_names_are_not_ours(tmp_path, name):
    source = tmp_path / name
    source.write_text(CONFIG)
    sys.path.insert(0, os.path.join(ROOT, '.collections'))
    from ansible_collections.vagrantless.libvirt.plugins.inventory.leases import InventoryModule
    assert not InventoryModule().verify_file(str(source))


# -- untrusted guests, metadata and networks ------------------------------------------------
def _domain(name, mac, network, record='', uuid=None):
    entries = ''.join('<vagrantless:%s>%s</vagrantless:%s>' % (key, value, key) for key, value in record)
    return ('<domain type="test"><name>%s</name>%s<memory>131072</memory><os><type>hvm</type></os>'
            '<devices><interface type="network"><mac address="%s"/><source network="%s"/></interface></devices>'
            '<metadata><vagrantless:machine xmlns:vagrantless="urn:vagrantless:libvirt:machine:1">%s'
            '</vagrantless:machine></metadata></domain>'
            % (name, '<uuid>%s</uuid>' % uuid if uuid else '', mac, network, entries))


def _network(name, bridge, ip_element):
    return '<network><name>%s</name><bridge name="%s"/>%s</network>' % (name, bridge, ip_element)


def _hosts(*hosts):
    return ''.join('<host mac="%s" name="%s" ip="%s"/>' % host for host in hosts)


UNTRUSTED = '<node>%s</node>' % ''.join([
    _network('vlt-guests', 'vltg0', '<ip address="10.204.20.1" netmask="255.255.255.0"><dhcp>'
             '<range start="10.204.20.2" end="10.204.20.254"/>' + _hosts(
                 ('52:54:00:dd:10:01', 'localhost', '10.204.20.11'),
                 ('52:54:00:dd:10:02', 'good', '10.204.20.12'),
                 ('52:54:00:dd:10:03', 'demo_web', '10.204.20.13'),
                 ('52:54:00:dd:10:04', 'good', '10.204.20.14'),
                 ('52:54:00:dd:10:05', 'localhost.localdomain', '10.204.20.15'),
                 ('52:54:00:dd:10:06', 'all', '10.204.20.16')) + '</dhcp></ip>'),
    _network('vlt-prefix', 'vltg1', '<ip address="10.204.21.1" prefix="24"><dhcp>'
             '<host mac="52:54:00:dd:10:07" ip="10.204.21.17"/></dhcp></ip>'),
    _network('vlt-nomask', 'vltg2', '<ip address="10.204.22.1"><dhcp>'
             '<host mac="52:54:00:dd:10:08" ip="10.204.22.18"/></dhcp></ip>'),
    _network('vlt-noip', 'vltg3', ''),
    _domain('demo_web', '52:54:00:dd:10:03', 'vlt-guests', [('machine', 'web'), ('lab', 'demo')]),
    _domain('evil_local', '52:54:00:dd:10:01', 'vlt-guests', [('machine', 'localhost'), ('ssh_port', 'abc'),
                                                              ('lab', 'a b'), ('ssh_user', 'root -oX=y')]),
    _domain('evil_web', '52:54:00:dd:10:03', 'vlt-guests', [('machine', 'demo_web')]),
    _domain('good_one', '52:54:00:dd:10:02', 'vlt-guests', [('machine', 'good'), ('ssh_port', '2200'),
                                                            ('ssh_private_key_file', 'relative/key')]),
    _domain('good_two', '52:54:00:dd:10:04', 'vlt-guests', [('machine', 'good'), ('ssh_port', '70000'),
                                                            ('ssh_user', 'ok'), ('ssh_user', 'twice')]),
    _domain('evil_dotted', '52:54:00:dd:10:05', 'vlt-guests', [('machine', '127.0.0.1')]),
    _domain('evil_group', '52:54:00:dd:10:06', 'vlt-guests', [('machine', 'all')]),
    _domain('on_prefix', '52:54:00:dd:10:07', 'vlt-prefix', [('ssh_port', '22\n')]),
    _domain('on_nomask', '52:54:00:dd:10:08', 'vlt-nomask'),
    _domain('on_noip', '52:54:00:dd:10:09', 'vlt-noip'),
    _domain('localhost', '52:54:00:dd:10:0a', 'vlt-noip', uuid='6f6c6f63-616c-686f-7374-000000000001'),
])
UNTRUSTED_CONFIG = """plugin: vagrantless.libvirt.leases
uris: ["test://NODE"]
sources: [reservation]
"""


def _listing(tmp_path, naming):
    result = inventory(tmp_path, UNTRUSTED_CONFIG + 'hostname: %s\n' % naming, '--list', node=UNTRUSTED)
    assert result.returncode == 0, result.stderr
    assert 'Traceback' not in result.stderr
    return plain(json.loads(result.stdout)), result.stderr


@pytest.mark.parametrize('naming', ['lease', 'machine'])
def test_guests_never_take_the_controller_or_another_host(tmp_path, naming):
    data, warnings = _listing(tmp_path, naming)
    hosts = data['_meta']['hostvars']
    domains = dict((variables['libvirt_domain'], name) for name, variables in hosts.items())
    # every domain is listed, once
    assert sorted(domains) == sorted(['demo_web', 'evil_local', 'evil_web', 'good_one', 'good_two', 'evil_dotted',
                                      'evil_group', 'on_prefix', 'on_nomask', 'on_noip', 'localhost'])
    assert len(hosts) == len(domains)
    for reserved in ('localhost', 'localhost.localdomain', '127.0.0.1', 'all'):
        assert reserved not in hosts, reserved
    assert domains['evil_local'] == 'evil_local' and domains['evil_dotted'] == 'evil_dotted'
    assert domains['evil_group'] == 'evil_group'
    assert domains['localhost'] == 'libvirt-6f6c6f63-616c-686f-7374-000000000001'
    # "good" is taken by the first machine that claims it; the second keeps its domain name
    pair = [domains['good_one'], domains['good_two']]
    assert pair in (['good', 'good_two'], ['good_one', 'good'])
    assert "one of the controller's own names" in warnings and 'already an inventory' in warnings
    if naming == 'machine':
        assert domains['demo_web'] == 'web' and domains['evil_web'] == 'demo_web'
    else:  # demo_web's reservation says demo_web, so evil_web (same MAC) cannot take it again
        assert domains['demo_web'] == 'demo_web' and domains['evil_web'] == 'evil_web'


def test_bad_metadata_values_are_ignored_and_every_host_listed(tmp_path):
    data, warnings = _listing(tmp_path, 'domain')
    hosts = data['_meta']['hostvars']
    evil = hosts['evil_local']
    assert evil['ansible_host'] == '10.204.20.11'
    assert 'ansible_port' not in evil and 'ansible_user' not in evil and 'vagrantless_lab' not in evil
    assert hosts['good_one']['ansible_port'] == 2200 and 'ansible_ssh_private_key_file' not in hosts['good_one']
    assert 'ansible_port' not in hosts['good_two'] and 'ansible_user' not in hosts['good_two']
    assert 'ansible_port' not in hosts['on_prefix']
    for piece in ("domain evil_local: ignored its metadata value ssh_port='abc'", 'lab=', 'ssh_user=',
                  'domain good_one: ignored its metadata value ssh_private_key_file', "ssh_port='70000'",
                  "ssh_user=['ok', 'twice']"):
        assert piece in ' '.join(warnings.split()), piece


def test_networks_without_netmask_or_address(tmp_path):
    hosts = _listing(tmp_path, 'domain')[0]['_meta']['hostvars']
    assert hosts['on_prefix']['ansible_host'] == '10.204.21.17'
    assert hosts['on_prefix']['libvirt_addresses'][0]['prefix'] == 24
    assert hosts['on_nomask']['ansible_host'] == '10.204.22.18'
    assert hosts['on_nomask']['libvirt_addresses'][0]['prefix'] is None
    assert 'ansible_host' not in hosts['on_noip']


def test_lease_file_host_names_from_guests(tmp_path):
    status = tmp_path / 'leases'
    status.mkdir()
    (status / 'vltg3.status').write_text(json.dumps([
        {"ip-address": "10.204.23.5", "mac-address": "52:54:00:dd:10:09", "hostname": "localhost"},
        {"ip-address": 7, "mac-address": "52:54:00:dd:10:0a", "hostname": "x"},
        {"ip-address": "10.204.23.6", "mac-address": "52:54:00:dd:10:0a", "hostname": "demo_web", "expiry-time": []},
    ]))
    config = UNTRUSTED_CONFIG.replace('[reservation]', '[dnsmasq]') + 'lease_files: [%s]\nhostname: lease\n' % status
    result = inventory(tmp_path, config, '--list', node=UNTRUSTED)
    assert result.returncode == 0, result.stderr
    hosts = plain(json.loads(result.stdout))['_meta']['hostvars']
    assert 'localhost' not in hosts and hosts['on_noip']['ansible_host'] == '10.204.23.5'
    assert 'skipped lease 1' in result.stderr and 'skipped lease 2' in result.stderr


STOPPED_NODE = """<node>
  <domain type="test" xmlns:test="http://libvirt.org/schemas/domain/test/1.0">
    <name>demo_off</name><memory>131072</memory><os><type>hvm</type></os>
    <test:runstate>5</test:runstate>
  </domain>
  <domain type="test" xmlns:test="http://libvirt.org/schemas/domain/test/1.0">
    <name>demo_saved</name><memory>131072</memory><os><type>hvm</type></os>
    <test:runstate>5</test:runstate><test:hasmanagedsave/>
  </domain>
  <domain type="test" xmlns:test="http://libvirt.org/schemas/domain/test/1.0">
    <name>demo_paused</name><memory>131072</memory><os><type>hvm</type></os>
    <test:runstate>3</test:runstate>
  </domain>
</node>
"""


def test_states_are_the_modules_names(tmp_path):
    """libvirt_domain's names (stopped, saved, paused, running), not libvirt's (shutoff...)."""
    result = inventory(tmp_path, CONFIG + 'running_only: false\n', '--list', node=STOPPED_NODE)
    assert result.returncode == 0, result.stderr
    data = plain(json.loads(result.stdout))
    states = dict((host, hostvars['libvirt_state']) for host, hostvars in data['_meta']['hostvars'].items())
    assert states == dict(demo_off='stopped', demo_saved='saved', demo_paused='paused')
    assert data['libvirt_state_stopped']['hosts'] == ['demo_off'] and 'libvirt_state_shutoff' not in data
    assert data['state_saved']['hosts'] == ['demo_saved'] and data['state_paused']['hosts'] == ['demo_paused']


def test_guests_of_a_qemu_ssh_host_are_reached_through_it():
    import shlex  # pylint: disable=import-outside-toplevel
    from ansible.errors import AnsibleError  # pylint: disable=import-outside-toplevel
    from ansible_collections.vagrantless.libvirt.plugins.inventory.leases import InventoryModule  # pylint: disable=import-outside-toplevel
    found = InventoryModule._jump('qemu+ssh://admin@hv2:2201/system?keyfile=/keys/hv2%20key&no_verify=1')
    argv = shlex.split(found['ansible_ssh_common_args'])
    assert argv[0] == '-o' and len(argv) == 2 and argv[1].startswith('ProxyCommand=ssh -W %h:%p ')
    proxy = shlex.split(argv[1][len('ProxyCommand='):])
    assert proxy[proxy.index('-i') + 1] == '/keys/hv2 key' and proxy[-3:] == ['StrictHostKeyChecking=no', '--', 'hv2']
    assert InventoryModule._jump('qemu:///system') == {} and InventoryModule._jump('test:///default') == {}
    with pytest.raises(AnsibleError) as refused:
        InventoryModule._jump('qemu+ssh://-oProxyCommand=x@hv2/system')
    assert 'cannot be an SSH hop' in str(refused.value)
