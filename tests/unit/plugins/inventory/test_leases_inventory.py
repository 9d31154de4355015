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


def inventory(tmp_path, config, *args):
    node = tmp_path / 'node.xml'
    node.write_text(NODE)
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
    node = tmp_path / 'stopped.xml'
    node.write_text(STOPPED_NODE)
    config = CONFIG.replace('NODE', str(node)) + 'running_only: false\n'
    result = inventory(tmp_path, config, '--list')
    assert result.returncode == 0, result.stderr
    data = plain(json.loads(result.stdout))
    states = dict((host, hostvars['libvirt_state']) for host, hostvars in data['_meta']['hostvars'].items())
    assert states == dict(demo_off='stopped', demo_saved='saved', demo_paused='paused')
    assert data['libvirt_state_stopped']['hosts'] == ['demo_off'] and 'libvirt_state_shutoff' not in data
    assert data['state_saved']['hosts'] == ['demo_saved'] and data['state_paused']['hosts'] == ['demo_paused']
