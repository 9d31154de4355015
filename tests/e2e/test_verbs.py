# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vagrant up, halt, destroy, suspend, resume, reload, provision, package, snapshot,
ssh-config and status on a real three-machine lab, in the order a user would run them.
Each test builds on the lab the previous ones left."""

import os
import socket
import sys

import libvirt
from lxml import etree

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'reliability'))
from verdicts import prediction_problem  # noqa: E402 pylint: disable=import-error,wrong-import-position

from ansible_collections.vagrantless.libvirt.tests.box_catalog import CatalogServer  # noqa: E402 pylint: disable=wrong-import-position

# Beside what every machine has (a private network, the project rsync'd to /vagrant, a shell
# provisioner): m1 a forwarded port and a 9p folder (m1 is never saved: QEMU cannot migrate a
# mounted 9p export), m2 an address on a network without DHCP, m3 its own key and a hostname.
MACHINES = {
    'm1': {'vm_networks': [{'private_network': {'ip': '10.50.0.11'}},
                           {'forwarded_port': {'guest': 22, 'host': 2201}}],
           'vm_synced_folders': [{'dest': '/srv/project', 'type': '9p'}]},
    'm2': {'vm_networks': [{'private_network': {'ip': '10.50.0.12'}},
                           {'private_network': {'ip': '10.58.0.12', 'dhcp_enabled': False}}]},
    'm3': {'vm_networks': [{'private_network': {'ip': '10.50.0.13'}}],
           'ssh_insert_key': True, 'vm_hostname': 'web-3.lab'},
}
PROVISION = [{'type': 'shell', 'inline': 'date +%s%N >> /root/provisioned'}]


def write(lab, **changes):
    machines = dict((name, dict(settings)) for name, settings in MACHINES.items())
    for name, settings in changes.items():
        machines.setdefault(name, {}).update(settings)
    lab.write(machines, vm_provision=PROVISION)


def test_up_three_machines_at_once(lab):
    write(lab)
    run = lab.ok('up', '--forks', '3')
    assert sorted(run.recap) == ['m1', 'm2', 'm3']
    for machine in MACHINES:
        assert lab.domain(machine).isActive()


def test_second_up_changes_nothing(lab):
    run = lab.ok('up', '--forks', '3')
    assert run.changed == 0, run
    # the fast path: every machine is up as the first run left it (machine_state's record of the
    # boot and settings), so it is only looked up - the libvirt objects' tasks are not included
    assert 'libvirt.yml' not in run.out and 'guest.yml' not in run.out, run


def test_check_on_the_running_lab_predicts_no_change(lab):
    run = lab.ok('up', '--check', '--diff', '--forks', '3')
    assert run.changed == 0, run


def test_the_synced_folder_is_in_the_guest(lab):
    assert lab.ssh('m1', 'cat /vagrant/hello.txt') == 'hello from the project\n'


def test_the_provisioner_ran_once(lab):
    assert len(lab.ssh('m2', 'cat /root/provisioned').split()) == 1


def test_a_9p_folder_is_mounted_and_live(lab):
    assert lab.ssh('m1', 'cat /srv/project/hello.txt') == 'hello from the project\n'
    with open(os.path.join(lab.path, 'late.txt'), 'w') as handle:
        handle.write('written on the host after up\n')
    assert lab.ssh('m1', 'cat /srv/project/late.txt') == 'written on the host after up\n'


def test_an_address_on_a_network_without_dhcp_is_set_in_the_guest(lab):
    assert ' 10.58.0.12/24 ' in lab.ssh('m2', 'ip -o addr show')


def test_the_inserted_key_replaced_the_box_key_and_the_hostname_is_set(lab):
    assert lab.ssh('m3', 'hostname') == 'web-3.lab\n'
    assert '127.0.1.1 web-3.lab web-3' in lab.ssh('m3', 'cat /etc/hosts')
    with open(os.environ['LAB_KEY'] + '.pub') as handle:
        box_key = handle.read().split()[1]
    assert box_key not in lab.ssh('m3', 'cat /root/.ssh/authorized_keys')
    assert 'machines/vlt-e2e_m3/private_key' in open(lab.ssh_config).read()  # ssh-config offers the new key


def test_machines_reach_each_other_on_the_private_network(lab):
    assert '10.50.0.11' in lab.ssh('m1', 'ip -o addr show')
    lab.ssh('m1', 'ping -c 1 -W 5 10.50.0.12')
    lab.ssh('m3', 'ping -c 1 -W 5 10.50.0.11')


def test_a_forwarded_port_answers_on_the_host(lab):
    with socket.create_connection(('127.0.0.1', 2201), timeout=10) as conn:
        assert conn.recv(64).startswith(b'SSH-')


def test_status_and_ssh_config_list_every_machine(lab):
    status = lab.ok('status').out
    for machine in MACHINES:
        assert '%s_%s' % ('vlt-e2e', machine) in status
    assert status.count('running') >= 3
    lab.ok('ssh_config', '-e', 'ssh_config_file=' + lab.ssh_config)
    text = open(lab.ssh_config).read()
    assert all('Host %s\n' % machine in text for machine in MACHINES)


def _changed(results):
    """The tasks of a recorded run that reported a change (one entry per task and loop item)."""
    found = []
    for key, entries in results.items():
        for entry in entries:
            items = entry.get('results') or [entry]
            found += ['%s [%d]' % (key, index) for index, item in enumerate(items) if item.get('changed')]
    return sorted(found)


def _items(results, key):
    entry = results[key][-1]
    return entry.get('results') or [entry]


def test_check_predicts_a_change_of_disks_networks_memory_ports_and_folders(lab):
    """On the running m1: a new disk, a new private network, more memory, a forwarded port and a
    synced folder at once. `up --check --diff` must predict the real run (no failure on the disk
    volume the same run makes; the same tasks changed; every definition it shows is the one
    libvirt holds afterwards), and both runs say what waits for a restart; reload applies it."""
    os.makedirs(os.path.join(lab.path, 'sub'), exist_ok=True)
    with open(os.path.join(lab.path, 'sub', 'note.txt'), 'w') as handle:
        handle.write('a folder added later\n')
    m1 = MACHINES['m1']
    write(lab, m1={'libvirt_memory': 320, 'libvirt_storage': [{'size': '64M'}],
                   'vm_networks': m1['vm_networks'] + [{'private_network': {'ip': '10.59.0.11'}},
                                                       {'forwarded_port': {'guest': 22, 'host': 2204}}],
                   'vm_synced_folders': m1['vm_synced_folders'] + [{'src': 'sub', 'dest': '/srv/sub'}]})
    check, predicted = lab.recorded('up', '--check', '--diff', '--limit', 'm1')
    assert lab.domain('m1').info()[1] == 256 * 1024 and len(lab.domain('m1').XMLDesc(0).split('<disk ')) == 2
    real, done = lab.recorded('up', '--diff', '--limit', 'm1')
    assert _changed(predicted) == _changed(done), (_changed(predicted), _changed(done))
    unused, held = lab.recorded('up', '--check', '--diff', '--limit', 'm1')  # libvirt read back
    for key in sorted(set(done) & set(held)):
        for index, (guess, now) in enumerate(zip(_items(predicted, key), _items(held, key))):
            if guess.get('changed') and guess.get('diff'):
                assert not prediction_problem(guess, now), '%s [%d]: %s' % (key, index, prediction_problem(guess, now))
    live = lab.domain('m1').XMLDesc(0)
    assert "dev='vdb'" in live and 'vlt-e2e-10.59.0.0-24' in live  # attached to the running machine
    assert lab.domain('m1').info()[1] == 256 * 1024  # memory waits for a restart, and up says so:
    for run in (check, real):
        assert 'memory take effect at its next start' in run.out and 'reload' in run.out, run
    assert 'memory take effect at its next start' in lab.ok('up', '--limit', 'm1').out
    lab.ok('reload', '--limit', 'm1')
    domain = lab.domain('m1')
    assert domain.isActive() and domain.info()[1] == 320 * 1024
    assert lab.ssh('m1', 'cat /vagrant/hello.txt') == 'hello from the project\n'
    assert lab.ssh('m1', 'cat /srv/sub/note.txt') == 'a folder added later\n'
    assert ' 10.59.0.11/24 ' in lab.ssh('m1', 'ip -o addr show')
    with socket.create_connection(('127.0.0.1', 2204), timeout=5) as conn:
        assert conn.recv(64).startswith(b'SSH-')
    assert lab.ok('up', '--limit', 'm1').changed == 0


PLAN = 'Whether the machine\'s libvirt objects are in place, and which networks are the lab\'s (the plan)'
# The up steps that the plan skips when the machine's objects are all in place.
PLANNED_STEPS = ('Storage pool', 'Box, uploaded once into the pool', 'Additional disks',
                 'Networks, with this machine\'s DHCP reservations')


def _ran(results, name):
    """The results of the task ``name`` that ran (the recorder keeps no skipped task; task names are
    recorded with their role's)."""
    return [entries[-1] for key, entries in results.items() if key.split(' : ')[-1] == name]


def _result(results, name):
    """The one result of the task ``name``, which ran."""
    found = _ran(results, name)
    assert len(found) == 1, (name, sorted(results))
    return found[0]


def test_halt_then_up(lab):
    """halt, then up: the plan reads m2's objects, all in place, and only the domain step runs; an
    object taken away meanwhile (a DHCP reservation) is named, and its step makes it again."""
    run = lab.ok('halt', '--limit', 'm2')
    assert 'graceful shutdown' in run.out, run
    assert not lab.domain('m2').isActive()
    assert lab.ok('halt', '--limit', 'm2').changed == 0
    unused, planned = lab.recorded('up', '--check', '--limit', 'm2')
    plan = _result(planned, PLAN)
    assert plan['in_place'] and plan['missing'] == [], plan
    assert not any(_ran(planned, step) for step in PLANNED_STEPS), sorted(planned)
    assert _result(planned, 'Domain, defined and running')['changed']
    net = lab.conn.networkLookupByName('vlt-e2e-10.50.0.0-24')
    mac = etree.fromstring(net.XMLDesc(0)).find("ip/dhcp/host[@ip='10.50.0.12']").get('mac')
    net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE, libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1,
               "<host mac='%s'/>" % mac, libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE | libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG)
    unused, done = lab.recorded('up', '--limit', 'm2')
    plan = _result(done, PLAN)
    assert plan['missing'] == ['reservation vlt-e2e-10.50.0.0-24 %s' % mac], plan
    networks = _result(done, PLANNED_STEPS[-1])
    assert any(item['changed'] for item in networks['results']), networks
    assert "mac='%s'" % mac in net.XMLDesc(0)
    assert lab.domain('m2').isActive()
    lab.ssh('m2', 'ping -c 1 -W 5 10.50.0.11')
    assert ' 10.58.0.12/24 ' in lab.ssh('m2', 'ip -o addr show')  # set again after the boot


def test_suspend_and_resume_by_pausing(lab):
    lab.ok('suspend', '--limit', 'm3')
    assert lab.domain('m3').state()[0] == 3  # VIR_DOMAIN_PAUSED
    lab.ok('resume', '--limit', 'm3')
    assert lab.domain('m3').state()[0] == 1
    lab.ssh('m3', 'true')


def test_suspend_and_resume_by_managed_save(lab):
    lab.ok('suspend', '--limit', 'm3', '-e', 'libvirt_suspend_mode=managedsave')
    domain = lab.domain('m3')
    assert not domain.isActive() and domain.hasManagedSaveImage(0)
    lab.ok('resume', '--limit', 'm3')
    assert lab.domain('m3').isActive()
    lab.ssh('m3', 'true')


def test_snapshot_save_change_restore(lab):
    lab.ssh('m3', 'echo before > /root/state')
    lab.ok('snapshot', '--limit', 'm3', '-e', 'snapshot_action=save', '-e', 'snapshot_name=s1')
    lab.ssh('m3', 'echo after > /root/state')
    listed = lab.ok('snapshot', '--limit', 'm3', '-e', 'snapshot_action=list')
    assert 's1' in listed.out
    lab.ok('snapshot', '--limit', 'm3', '-e', 'snapshot_action=restore', '-e', 'snapshot_name=s1')
    assert lab.ssh('m3', 'cat /root/state') == 'before\n'
    lab.ok('snapshot', '--limit', 'm3', '-e', 'snapshot_action=delete', '-e', 'snapshot_name=s1')
    assert 's1' not in lab.ok('snapshot', '--limit', 'm3', '-e', 'snapshot_action=list').out


def test_package_then_up_from_the_packaged_box_looked_up_by_name(lab):
    """`config.vm.box = "owner/box"` without a URL, as Vagrant resolves it: VAGRANT_SERVER_URL
    serves the packaged box's catalog; a newer version there later is a warning, not a change."""
    box = os.path.join(lab.path, 'm2.box')
    lab.remove_box('vlt-e2e/packaged')  # what an interrupted earlier run may have left
    lab.ok('package', '--limit', 'm2', '-e', 'package_output=' + box)
    assert os.path.getsize(box) > 1024 * 1024
    write(lab, m4={'vm_box': 'vlt-e2e/packaged', 'vm_box_url': None,  # none: the lab's vars give every machine one
                   'vm_networks': [{'private_network': {'ip': '10.50.0.14'}}]})
    with CatalogServer({'vlt-e2e/packaged': {'1.0.0': box}}) as server:
        served = dict(VAGRANT_SERVER_URL=server.url)
        up = lab.play('up', '--limit', 'm4', extra_env=served)
        assert up.rc == 0, up
        assert server.requests == [('/vlt-e2e/packaged', 'application/json'), ('/vlt-e2e/packaged/1.0.0.box', None)]
        lab.ssh('m4', 'ping -c 1 -W 5 10.50.0.11')
        server.boxes['vlt-e2e/packaged']['1.1.0'] = box
        again = lab.play('up', '--limit', 'm4', extra_env=served)
        assert again.rc == 0 and again.changed == 0, again
        assert 'vlt-e2e/packaged: version 1.1.0 is available' in ' '.join(again.out.split()), again  # wrapped
        assert server.requests[-1] == ('/vlt-e2e/packaged', 'application/json')  # the catalog asked, no download


def test_destroy_leaves_nothing_behind(lab):
    lab.ok('destroy', '--forks', '4')
    assert lab.leftovers() == []
    assert lab.box_volumes(os.environ['LAB_BOX_NAME']) and lab.box_volumes('vlt-e2e/packaged')  # boxes are never touched
    assert lab.ok('destroy').changed == 0
    machines = os.path.join(lab.path, '.vagrantless', 'machines')
    assert not os.path.exists(machines) or os.listdir(machines) == []  # no machine's state left
