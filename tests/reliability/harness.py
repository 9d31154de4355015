# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the reliability suite needs around the modules: run batches of module tasks in ONE
ansible-playbook (real Ansible, the checkout's collection, the lab's libvirtd), lanes side by
side, and read every task's result back; snapshot what the lab's libvirtd holds so that a
test can prove nothing changed; remove what the suite made.

The results, and the lab snapshots taken right after chosen tasks, come from the recorder
callback in callback_plugins/ (ansible-core's callback API), which calls ``snapshot()`` in
the controller. Run as a script (``python harness.py [FILTER]``), this prints a snapshot as
JSON, for a look at the lab by hand."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VENV_BIN = os.path.join(ROOT, '.venv', 'bin')
PYTHON = os.path.join(VENV_BIN, 'python')
URI = os.environ.get('LAB_URI', 'qemu:///system')
DRIVER = os.environ.get('LAB_DRIVER', 'qemu')
PREFIX = 'vlt-rel'
# where the suite's objects live (see the brief): names vlt-rel-*, subnets 10.91.0.0/16,
# reservations on `default` in 192.168.122.220-229
DEFAULT_RESERVED = ['192.168.122.%d' % n for n in range(220, 230)]
BOX_STORE = '/tmp/vlt-rel-boxes'
WORK = '/tmp/vlt-rel-work'
TUNNELS = WORK + '/tunnels'
MAC_PREFIX = '52:54:00:91:'
WITH_DEFAULT = '+default'
MATRIX_POOL_DIR = '/tmp/vlt-rel-mx-pool'
LAB_BOX = os.environ.get('LAB_BOX') or os.path.join(ROOT, 'tests', 'lab', '.cache', 'tiny.box')
LAB_BOX_IMG = os.environ.get('LAB_BOX_IMG') or os.path.join(ROOT, 'tests', 'lab', '.cache', 'box.img')
# what the runs found, for the closing summary (conftest's pytest_terminal_summary)
RECORD = dict(bad={}, matrix={}, seconds={})


# -- the lab as libvirt sees it ---------------------------------------------------------
def _xml(obj, *flags):
    import libvirt  # pylint: disable=import-outside-toplevel
    for flag in flags + (0,):
        try:
            return obj.XMLDesc(flag)
        except libvirt.libvirtError:
            continue
    return None


def _strip_runtime(xml):
    """Volume XML without what changes under a guest's feet (allocation, timestamps) or
    with a refresh of the pool."""
    xml = re.sub(r'<allocation[^>]*>\d+</allocation>', '', xml)
    xml = re.sub(r'<physical[^>]*>\d+</physical>', '', xml)
    # what libvirt learns by probing the file at a pool refresh (anyone's): not a change
    xml = re.sub(r'\s*<clusterSize[^>]*>\d+</clusterSize>', '', xml)
    return re.sub(r'<timestamps>.*?</timestamps>', '', xml, flags=re.S)


def _pool_xml(xml):
    """Pool XML without its space counters (other VMs write to the same file system)."""
    return re.sub(r'<(capacity|allocation|available)[^>]*>\d+</\1>', '', xml)


def _store_listing(root):
    found = []
    for base, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(base, name)
            found.append('%s %d' % (os.path.relpath(path, root), os.path.getsize(path)))
    return found


def snapshot(only=None):
    """Everything the lab's libvirtd holds: domains (state and inactive XML), pools (state,
    XML), every pool's volumes (XML), networks (state, inactive XML with its DHCP hosts),
    and the suite's box store. ``only`` (a substring) keeps the objects whose name has it,
    and the `default` network only when it ends with ``+default``."""
    import libvirt  # pylint: disable=import-outside-toplevel
    with_default = not only or only.endswith(WITH_DEFAULT)
    if only and only.endswith(WITH_DEFAULT):
        only = only[:-len(WITH_DEFAULT)]
    conn = libvirt.open(URI)
    try:
        keep = (lambda name: only in name) if only else (lambda name: True)
        lab = dict(domains={}, pools={}, volumes={}, networks={},
                   box_store=_store_listing(BOX_STORE) if not only or 'box' in only else [],
                   tunnels=_store_listing(TUNNELS) + (['(exists)'] if os.path.isdir(TUNNELS) else []))
        for dom in conn.listAllDomains(0):
            if keep(dom.name()):
                lab['domains'][dom.name()] = dict(
                    state=dom.state()[0], managed_save=bool(dom.hasManagedSaveImage(0)),
                    autostart=bool(dom.autostart()), xml=_xml(dom, libvirt.VIR_DOMAIN_XML_INACTIVE),
                    snapshots=sorted(snap.getName() for snap in dom.listAllSnapshots(0)))
        for pool in conn.listAllStoragePools(0):
            if keep(pool.name()):
                lab['pools'][pool.name()] = dict(active=bool(pool.isActive()), autostart=bool(pool.autostart()),
                                                 xml=_pool_xml(_xml(pool, libvirt.VIR_STORAGE_XML_INACTIVE)))
            try:
                volumes = pool.listAllVolumes(0) if pool.isActive() else []
            except libvirt.libvirtError as error:
                if keep(pool.name()) or not _gone(libvirt, error):
                    raise
                volumes = []  # another lane's pool, removed or stopped since the listing
            for vol in volumes:
                if keep(vol.name()):
                    try:
                        lab['volumes']['%s/%s' % (pool.name(), vol.name())] = _strip_runtime(vol.XMLDesc(0))
                    except libvirt.libvirtError:
                        pass  # deleted under our feet by someone else
        for net in conn.listAllNetworks(0):
            if keep(net.name()) or with_default and net.name() == 'default':
                lab['networks'][net.name()] = dict(active=bool(net.isActive()), autostart=bool(net.autostart()),
                                                   xml=_xml(net, libvirt.VIR_NETWORK_XML_INACTIVE))
        return lab
    finally:
        conn.close()


def _gone(libvirt, error):
    """Whether ``error`` says an object went away (or a pool stopped) between the listing and a read:
    what another lane's step, running at the same moment, does to its own objects."""
    return error.get_error_code() in (libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_ERR_NO_STORAGE_POOL,
                                      libvirt.VIR_ERR_NO_NETWORK, libvirt.VIR_ERR_OPERATION_INVALID)


def ours(name):
    """Whether an object name is one the suite made or could have made."""
    return PREFIX in name


def _default_hosts_of_ours(xml):
    """The DHCP hosts of the `default` network in the suite's address range or MACs."""
    hosts = re.findall(r'<host [^>]*/>', xml or '')
    quoted = ["'%s'" % ip for ip in DEFAULT_RESERVED] + ['"%s"' % ip for ip in DEFAULT_RESERVED]
    return sorted(h for h in hosts if MAC_PREFIX in h.lower() or any(ip in h for ip in quoted))


def _changes(old, new, most=6):
    """The changed lines of two records of one object, shortly."""
    import difflib  # pylint: disable=import-outside-toplevel

    def lines(record):
        if not isinstance(record, dict):
            return str(record).splitlines()
        found = []
        for key in sorted(record):
            found += ['%s: %s' % (key, line) for line in str(record[key]).splitlines()]
        return found
    changed = [line for line in difflib.unified_diff(lines(old), lines(new), lineterm='', n=0)
               if line[:1] in '+-' and not line.startswith(('+++', '---'))]
    return ' | '.join(line.strip() for line in changed[:most]) + (' ...' if len(changed) > most else '')


def differences(before, after):
    """(ours, foreign): lines naming what differs between two snapshots. ``ours`` are
    changes the suite could have made (objects named vlt-rel-*, the `default` network's
    reservations in the suite's range or any other change to it, the suite's box store);
    ``foreign`` are changes to other engineers' objects in the same libvirtd, which are
    reported but cannot be blamed on the suite."""
    mine, foreign = [], []
    for kind in ('domains', 'pools', 'volumes', 'networks'):
        names = set(before[kind]) | set(after[kind])
        for name in sorted(names):
            old, new = before[kind].get(name), after[kind].get(name)
            if old == new:
                continue
            what = '%s %s: %s' % (kind[:-1], name, 'added' if old is None else 'removed' if new is None
                                  else 'changed (%s)' % _changes(old, new))
            if kind == 'networks' and name == 'default' and old and new:
                strip = re.compile(r'<host [^>]*/>')
                if (strip.sub('', old['xml']) == strip.sub('', new['xml']) and old['active'] == new['active']
                        and old['autostart'] == new['autostart']):
                    if _default_hosts_of_ours(old['xml']) != _default_hosts_of_ours(new['xml']):
                        mine.append(what + ' (reservations in 192.168.122.220-229 / MACs %s*)' % MAC_PREFIX)
                    else:
                        foreign.append(what + ' (reservations of others)')
                    continue
            (mine if ours(name) or name == 'default' and kind != 'volumes' else foreign).append(what)
    if before['box_store'] != after['box_store']:
        mine.append('box store %s changed' % BOX_STORE)
    if before.get('tunnels') != after.get('tunnels'):
        mine.append('forwarded ports state %s changed: %s' % (TUNNELS, after.get('tunnels')))
    return mine, foreign


def cleanup():
    """Remove everything the suite made (or a bad input could have made): objects whose name
    has ``vlt-rel``, the `default` network's reservations in the suite's range, the suite's
    box store and work directory. Nothing else is touched."""
    import shutil  # pylint: disable=import-outside-toplevel
    import libvirt  # pylint: disable=import-outside-toplevel
    conn = libvirt.open(URI)
    removed = []
    try:
        for dom in conn.listAllDomains(0):
            if ours(dom.name()):
                if dom.isActive():
                    dom.destroy()
                for snap in dom.listAllSnapshots(0):
                    try:
                        snap.delete(libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY)
                    except libvirt.libvirtError:
                        pass
                dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                                  | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
                removed.append('domain ' + dom.name())
        for net in conn.listAllNetworks(0):
            if ours(net.name()):
                if net.isActive():
                    net.destroy()
                net.undefine()
                removed.append('network ' + net.name())
            elif net.name() == 'default':
                flags = libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG
                if net.isActive():
                    flags |= libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE
                for host in _default_hosts_of_ours(net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)):
                    net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE, libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST,
                               -1, host, flags)
                    removed.append('reservation ' + host)
        for pool in conn.listAllStoragePools(0):
            if pool.isActive():
                pool.refresh(0)
                for vol in pool.listAllVolumes(0):
                    if ours(vol.name()):
                        vol.delete(0)
                        removed.append('volume %s/%s' % (pool.name(), vol.name()))
            if ours(pool.name()):
                if pool.isActive():
                    pool.destroy()
                pool.undefine()
                removed.append('pool ' + pool.name())
    finally:
        conn.close()
    for path in (BOX_STORE, WORK, MATRIX_POOL_DIR):
        if os.path.exists(path):
            shutil.rmtree(path, ignore_errors=True)
    return removed


# -- running Ansible ----------------------------------------------------------------------
def ansible_env():
    env = dict(os.environ)
    env.update(ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'),
               ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
               ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0', ANSIBLE_LOCALHOST_WARNING='false',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='false', ANSIBLE_RETRY_FILES_ENABLED='false',
               ANSIBLE_DEPRECATION_WARNINGS='false', ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default',
               ANSIBLE_PIPELINING='true',
               PATH=VENV_BIN + os.pathsep + env.get('PATH', ''))
    return env


class Step(object):
    """One task of a batch: a call of ``module`` with ``args`` (in check mode with ``check``),
    or with no module a no-op marker. With ``snapshot`` (a name filter, '' for everything),
    the recorder callback snapshots the lab right after the task. Steps of one ``lane`` run
    in order; lanes run side by side."""

    def __init__(self, key, module, args=None, check=False, diff=True, lane=0, snapshot=None):
        self.key = key
        self.module = module
        self.args = args
        self.check = check
        self.diff = diff
        self.lane = lane
        self.snapshot = snapshot

    def task(self):
        if self.module is None:
            return {'name': self.key, 'ansible.builtin.debug': {'msg': self.key}}
        module = self.module if '.' in self.module else 'vagrantless.libvirt.' + self.module
        return {'name': self.key, module: self.args, 'ignore_errors': True, 'check_mode': self.check,
                'diff': self.diff}


def run_batch(steps, timeout=600):
    """Run ``steps`` in one ansible-playbook, one local inventory host per lane (strategy
    free, so lanes do not wait for each other). Every result, and the lab after each step
    that asks for it, is written by the recorder callback (callback_plugins/) as the
    controller receives it, before that lane's next task starts. Return
    ({key: result}, {key: lab snapshot}, seconds)."""
    workdir = tempfile.mkdtemp(prefix='vlt-rel-play-')
    record = os.path.join(workdir, 'record.jsonl')
    lanes = sorted(set(step.lane for step in steps))
    for lane in lanes:  # each host includes its own lane: no task is skipped by the others
        with open(os.path.join(workdir, 'lane%d.yml' % lane), 'w') as handle:
            json.dump([step.task() for step in steps if step.lane == lane], handle, indent=1)
    play = [{
        'name': 'reliability batch', 'hosts': 'all', 'gather_facts': False,
        'strategy': 'free' if len(lanes) > 1 else 'linear',
        'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': PYTHON},
        'module_defaults': {'group/vagrantless.libvirt.libvirt': {'uri': URI, 'driver': DRIVER}},
        'tasks': [{'name': 'lane', 'ansible.builtin.include_tasks': os.path.join(workdir,
                                                                                 '{{ inventory_hostname }}.yml')}],
    }]
    playbook = os.path.join(workdir, 'play.yml')
    with open(playbook, 'w') as handle:
        json.dump(play, handle, indent=1)
    env = ansible_env()
    env.update(ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, 'callback_plugins'),
               ANSIBLE_CALLBACKS_ENABLED='reliability_recorder', VLT_REL_RECORD=record,
               VLT_REL_SNAPSHOTS=json.dumps(dict((s.key, s.snapshot) for s in steps if s.snapshot is not None)))
    inventory = ','.join('lane%d' % lane for lane in lanes) + ','
    started = time.monotonic()
    proc = subprocess.run([os.path.join(VENV_BIN, 'ansible-playbook'), '-i', inventory, '-f', str(len(lanes)),
                           playbook], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=timeout, check=False)
    seconds = time.monotonic() - started
    results, labs = {}, {}
    if os.path.exists(record):
        with open(record) as handle:
            for line in handle:
                entry = json.loads(line)
                # the callback sees results without their 'failed' flag: its status says it
                results[entry['key']] = dict(entry['result'], failed=entry['status'] != 'ok')
                if 'lab' in entry:
                    labs[entry['key']] = entry['lab']
    missing = [step.key for step in steps if step.key not in results]
    if missing:
        raise AssertionError('ansible-playbook ended (rc %d) without results for %s:\n%s'
                             % (proc.returncode, ', '.join(missing[:10]), proc.stdout[-6000:]))
    return results, labs, seconds


if __name__ == '__main__':
    json.dump(snapshot(sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None), sys.stdout, sort_keys=True)
