# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults and concurrency around `up` on real VMs: interrupted at every step, libvirtd
restarted midway, a guest with no lease, a guest that refuses the key, a domain killed
behind our back, two labs and two runs at once. Each ends with destroy leaving nothing."""

import os
import signal
import subprocess
import time

import pytest

from conftest import Lab

STEPS = ['Storage pool', 'Box, uploaded once into the pool', 'Copy-on-write disks', 'Networks, with this',
         'Domain, defined and running', "Address, from the machine's DHCP lease", 'Wait for SSH',
         'Synced folders by rsync', 'Shell provisioners, inline']
PROVISION = [{'type': 'shell', 'inline': 'date +%s%N >> /root/provisioned'}]
# Where a kill leaves destroy something new to undo. 'Wait for SSH' and 'Synced folders by
# rsync' are not among them: what they leave (the machine's state directory and keys, a running
# domain) the provisioners' step leaves too, with the provisioning mark besides. The sweep below
# still kills `up` at every step.
DESTROY_AFTER = [step for step in STEPS if step not in ('Wait for SSH', 'Synced folders by rsync')]


@pytest.fixture
def flt(tmp_path):
    lab = Lab(str(tmp_path), name='vlt-flt')
    with open(os.path.join(lab.path, 'hello.txt'), 'w') as handle:
        handle.write('hello\n')
    lab.write({'f1': {'vm_networks': [{'private_network': {'ip': '10.51.0.11'}}]}}, vm_provision=PROVISION)
    yield lab
    lab.play('destroy')


def interrupt(lab, step, done=False):
    """Start `up`, kill it (the whole process group) as soon as it starts ``step`` - or, with
    ``done``, as soon as the step printed its first result (done, the next step not begun)."""
    proc = lab.start('up')
    seen = []
    started = False
    for line in proc.stdout:
        seen.append(line)
        if line.startswith('TASK [') and step in line:
            started = True
            if not done:
                time.sleep(0.3)  # inside the step
                break
        elif started and line.startswith(('changed: [', 'ok: [')):
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert any(step in line for line in seen), ''.join(seen[-30:])


def restart_libvirtd():
    """The lab's libvirtd stopped and started again (its guests keep running)."""
    with open('/run/libvirtd.pid') as handle:
        pid = int(handle.read())
    os.kill(pid, signal.SIGTERM)
    for unused in range(100):
        if not os.path.exists('/proc/%d' % pid):
            break
        time.sleep(0.1)
    subprocess.run(['libvirtd', '-d'], check=True)
    for unused in range(100):
        if subprocess.run(['virsh', '-q', '-c', 'qemu:///system', 'version'], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=False).returncode == 0:
            return
        time.sleep(0.1)
    raise AssertionError('libvirtd did not come back')


@pytest.mark.fault
@pytest.mark.parametrize('step', DESTROY_AFTER)
def test_destroy_after_up_interrupted_at_a_step_leaves_nothing(flt, step):
    interrupt(flt, step)
    flt.ok('destroy')
    assert flt.leftovers() == []


@pytest.mark.fault
def test_up_interrupted_at_every_step_in_turn_then_libvirtd_restarted_is_finished_by_the_next(flt):
    for step in STEPS:
        # at the provisioners: killed once they ran, before the run could note it
        interrupt(flt, step, done=step == STEPS[-1])
        if step == 'Networks, with this':
            restart_libvirtd()
    flt.ok('up')
    assert flt.ssh('f1', 'cat /vagrant/hello.txt') == 'hello\n'
    assert len(flt.ssh('f1', 'cat /root/provisioned').split()) == 1  # provisioned once
    assert flt.ok('up').changed == 0
    flt.ok('destroy')
    assert flt.leftovers() == []


@pytest.mark.fault
def test_a_failed_provisioner_runs_again_on_the_next_up(flt):
    flaky = 'test -e /root/tried || { touch /root/tried; exit 3; }; date +%s%N >> /root/provisioned'
    flt.write({'f1': {}}, vm_provision=[{'type': 'shell', 'name': 'flaky', 'inline': flaky}],
              vm_synced_folders=[{'dest': '/vagrant', 'disabled': True}])
    failed = flt.play('up')
    assert failed.rc != 0 and 'flaky failed' in failed.out, failed
    flt.ok('up')
    assert len(flt.ssh('f1', 'cat /root/provisioned').split()) == 1
    assert flt.ok('up').changed == 0
    flt.ok('destroy')
    assert flt.leftovers() == []


@pytest.mark.fault
def test_a_box_upload_killed_halfway_is_uploaded_again(flt):
    """What a killed upload leaves: the box in the store, half its image in the pool as `.part`."""
    box = 'vlt-flt/half'
    flt.write({'f1': {'vm_box': box}}, vm_synced_folders=[{'dest': '/vagrant', 'disabled': True}])
    added = flt.module('libvirt_box', dict(name=box, src=os.environ['LAB_BOX']))
    assert added.get('changed'), added
    volume = added['volumes'][0]['name']
    pool = flt.conn.storagePoolLookupByName('default')
    pool.storageVolLookupByName(volume).delete(0)
    half = os.path.getsize(os.environ['LAB_BOX_IMG']) // 2
    part = pool.createXML("<volume><name>%s.part</name><capacity>%d</capacity>"
                          "<target><format type='raw'/></target></volume>" % (volume, half), 0)
    with open(os.environ['LAB_BOX_IMG'], 'rb') as handle:
        stream = flt.conn.newStream(0)
        part.upload(stream, 0, half, 0)
        stream.send(handle.read(half))
        stream.finish()
    try:
        flt.ok('up')
        assert flt.domain('f1').isActive()
        flt.ssh('f1', 'true')
        assert flt.box_volumes(box) and not [v for v in pool.listAllVolumes(0) if v.name().endswith('.part')]
    finally:
        flt.ok('destroy')
        flt.remove_box(box)
    assert flt.leftovers() == []


@pytest.mark.fault
def test_a_guest_without_lease_fails_within_the_timeout_and_says_why(flt):
    flt.write({'f1': {'libvirt_mgmt_attach': False, 'libvirt_ip_address_timeout': 5,
                      'vm_networks': [{'private_network': {'ip': '10.51.0.11', 'dhcp_enabled': False}}]}})
    started = time.monotonic()
    run = flt.play('up')
    assert run.rc != 0 and time.monotonic() - started < 60
    mac = flt.domain('f1').XMLDesc(0).split("mac address='")[1][:17]
    failure = ''.join(line for line in run.out.splitlines(True) if line.startswith('fatal:'))
    assert mac in failure and 'vlt-flt-10.51.0.0-24' in failure and 'console' in failure, failure
    flt.ok('destroy')
    assert flt.leftovers() == []


@pytest.mark.fault
def test_a_guest_refusing_the_key_times_out_clearly(flt, tmp_path):
    key = str(tmp_path / 'wrong_key')
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', key], check=True)
    flt.write({'f1': {'ssh_private_key_path': key, 'vm_boot_timeout': 25}})
    run = flt.play('up')
    assert run.rc != 0 and 'f1' in run.recap and run.recap['f1']['failed'] == 1
    assert 'Permission denied' in run.out or 'timed out' in run.out, run
    flt.ok('destroy')
    assert flt.leftovers() == []


def test_no_secret_in_any_output_and_the_display_on_localhost(flt):
    """libvirt_password and libvirt_graphics_passwd appear nowhere: not in -vvv, not in diffs."""
    secrets = ('vlt-secret-pw1', 'vltpw2x9')
    flt.write({'f1': {'vm_networks': [{'private_network': {'ip': '10.51.0.11'}}],
                      'libvirt_graphics_passwd': secrets[1]}}, vm_provision=PROVISION, libvirt_password=secrets[0])
    runs = [flt.ok('up', '-vvv', '--diff'), flt.ok('up', '--check', '--diff', '-vvv'), flt.ok('status', '-vvv')]
    for run in runs:
        assert not [secret for secret in secrets if secret in run.out], run
    graphics = flt.domain('f1').XMLDesc(0).split('<graphics ')[1].split('>')[0]
    assert "listen='127.0.0.1'" in graphics, graphics


@pytest.mark.fault
def test_a_domain_killed_behind_our_back_is_shown_and_started(flt):
    flt.ok('up')
    flt.domain('f1').destroy()
    assert 'stopped' in flt.ok('status').out
    flt.ok('up')
    assert flt.domain('f1').isActive()
    assert flt.ssh('f1', 'cat /vagrant/hello.txt') == 'hello\n'
    flt.ok('destroy')
    assert flt.leftovers() == []


@pytest.mark.concurrency
def test_two_labs_at_once_share_one_box_and_the_management_network(tmp_path):
    labs = []
    for name, ip in (('vlt-cca', '10.52.0.11'), ('vlt-ccb', '10.52.0.12')):
        os.makedirs(str(tmp_path / name))
        lab = Lab(str(tmp_path / name), name=name)
        lab.write({'c1': {'vm_networks': [{'private_network': {'ip': ip, 'network_name': 'vlt-cc-shared'}}]}},
                  vm_box='vlt-cc/tiny', vm_synced_folders=[{'dest': '/vagrant', 'disabled': True}])
        labs.append(lab)
    try:
        procs = [lab.start('up') for lab in labs]
        outs = [proc.communicate(timeout=900)[0] for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0], outs
        assert all('already exists' not in out for out in outs)
        assert len(labs[0].box_volumes('vlt-cc/tiny')) == 1
        hosts = labs[0].conn.networkLookupByName('vlt-cc-shared').XMLDesc(0)
        assert "ip='10.52.0.11'" in hosts and "ip='10.52.0.12'" in hosts
        labs[0].ssh('c1', 'ping -c 1 -W 5 10.52.0.12')
    finally:
        for lab in labs:
            lab.play('destroy')
        labs[0].remove_box('vlt-cc/tiny')
    for lab in labs:
        assert lab.leftovers() == []


@pytest.mark.concurrency
def test_two_ups_of_one_lab_at_once_make_one_machine(flt):
    procs = [flt.start('up') for unused in range(2)]
    outs = [proc.communicate(timeout=900)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outs
    assert [d.name() for d in flt.conn.listAllDomains(0) if d.name().startswith('vlt-flt')] == ['vlt-flt_f1']
    # the second waited for the first (the machine's lock), then found it up and provisioned
    assert len(flt.ssh('f1', 'cat /root/provisioned').split()) == 1
    flt.ok('destroy')
    assert flt.leftovers() == []
