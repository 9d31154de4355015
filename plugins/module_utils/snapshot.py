# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A domain's internal snapshots, what ``vagrant snapshot save|restore|list|delete`` does:
a full system snapshot (memory and disks) of a running or paused domain, a disk-only
internal snapshot of a stopped one, both kept inside the qcow2 disks. Every run
returns the domain's snapshot list; check mode predicts the list libvirt will have."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.vagrantless.libvirt.plugins.module_utils import validate, xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import (
    LibvirtOperationError, Manager, check_xml_options, lookup)
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import libvirt
from ansible_collections.vagrantless.libvirt.plugins.module_utils.domain import find as find_domain
from ansible_collections.vagrantless.libvirt.plugins.module_utils.lifecycle import run_state, start_or_resume

STATES = ('present', 'absent', 'reverted')
# libvirt's snapshot state for each domain state (run_state's words) a snapshot can be taken in.
SNAPSHOT_STATE = {'running': 'running', 'paused': 'paused', 'stopped': 'shutoff'}
# The domain state (run_state's words) a revert to a snapshot in that state leaves.
REVERTED_STATE = {'running': 'running', 'blocked': 'running', 'paused': 'paused', 'pmsuspended': 'paused'}
DESCRIPTION_MAX = 4096


def validate_description(value):
    """Free text that fits in XML."""
    if value is None:
        return None
    return validate.text(value, 'description', multiline=True, maximum=DESCRIPTION_MAX)


def validate_name(value):
    """A snapshot name: a libvirt object name that QEMU cannot take for a snapshot ID."""
    validate.name(value, 'name')
    if value.isdigit():
        raise validate.ValidationError('name', value, 'a name that is not only digits: QEMU takes such a name '
                                       'for the ID of another internal snapshot, which it would then replace')
    return value


def find(domain, name):
    return lookup(domain.snapshotLookupByName, name, libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT)


def _iso_time(seconds):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(int(seconds)))


def describe(snapshot):
    """One entry of the ``snapshots`` return value."""
    tree = xmltree.parse(snapshot.getXMLDesc(0))
    created = tree.findtext('creationTime')
    return dict(name=tree.findtext('name'), state=tree.findtext('state'),
                creation_time=_iso_time(created) if created else None,
                current=bool(snapshot.isCurrent(0)), description=tree.findtext('description'),
                parent=tree.findtext('parent/name'))


def listing(domain):
    """Every snapshot of ``domain``, oldest first, parents before children taken in the
    same second ([] for no domain)."""
    if domain is None:
        return []
    entries = [describe(snapshot) for snapshot in domain.listAllSnapshots(libvirt.VIR_DOMAIN_SNAPSHOT_LIST_TOPOLOGICAL)]
    return sorted(entries, key=lambda entry: entry['creation_time'] or '')


def listing_text(entries):
    """The snapshot list as stable text for a diff: one line per snapshot, by name."""
    lines = []
    for entry in sorted(entries, key=lambda item: item['name']):
        line = '%s  state=%s  parent=%s' % (entry['name'], entry['state'], entry['parent'] or '-')
        lines.append(line + ('  current' if entry['current'] else ''))
    return ''.join(line + '\n' for line in lines)


def _is_empty(disk):
    source = disk.find('source')
    return source is None or not source.attrib


def disk_plan(domain_tree, domain_name):
    """(target dev, 'internal' or 'no') for each disk: writable disks are snapshotted inside
    their qcow2 image, CD-ROMs, read-only and empty drives are left out. A writable disk in
    another format would make libvirt refuse or leave it behind: refused here first."""
    plan = []
    for disk in domain_tree.findall('devices/disk'):
        dev = disk.find('target').get('dev')
        if disk.get('device') == 'cdrom' or disk.find('readonly') is not None or _is_empty(disk):
            plan.append((dev, 'no'))
            continue
        driver = disk.find('driver')
        disk_format = driver.get('type') if driver is not None else None
        if disk_format not in (None, 'qcow2'):
            raise LibvirtOperationError(
                'domain %s: disk %s is %s; an internal snapshot needs every writable disk in qcow2 format '
                '(as vagrant-libvirt makes them): convert it, make it read-only or detach it'
                % (domain_name, dev, disk_format))
        plan.append((dev, 'internal'))
    return plan


def snapshot_xml(name, description, with_memory, disks):
    """The ``<domainsnapshot>`` to create: internal memory state when the domain runs,
    internal disk snapshots as ``disk_plan`` says."""
    return xmltree.element('domainsnapshot', children=[
        xmltree.element('name', text=name),
        xmltree.element('description', text=description) if description is not None else None,
        xmltree.element('memory', {'snapshot': 'internal' if with_memory else 'no'}),
        xmltree.element('disks', children=[xmltree.element('disk', {'name': dev, 'snapshot': kind})
                                           for dev, kind in disks]),
    ])


def _current_name(entries):
    return next((entry['name'] for entry in entries if entry['current']), None)


def predict_created(entries, name, description, domain_state):
    """The list after creating ``name``: it becomes current, child of the current one."""
    parent = _current_name(entries)
    after = [dict(entry, current=False) for entry in entries]
    after.append(dict(name=name, state=SNAPSHOT_STATE[domain_state], creation_time=None, current=True,
                      description=description, parent=parent))
    return after


def predict_deleted(entries, name):
    """The list after deleting ``name``: its children move to its parent, which becomes
    current when ``name`` was."""
    gone = next(entry for entry in entries if entry['name'] == name)
    after = []
    for entry in entries:
        if entry['name'] == name:
            continue
        entry = dict(entry)
        if entry['parent'] == name:
            entry['parent'] = gone['parent']
        if gone['current'] and entry['name'] == gone['parent']:
            entry['current'] = True
        after.append(entry)
    return after


def predict_reverted(entries, name):
    return [dict(entry, current=entry['name'] == name) for entry in entries]


def reverted_state(snapshot_state, start):
    """The domain state (run_state's words) after reverting to a snapshot in ``snapshot_state``."""
    if start:
        return 'running'
    return REVERTED_STATE.get(snapshot_state, 'stopped')


def deletion_order(entries):
    """Names to delete so that children go before their parents (no reparenting)."""
    depth = {}

    def depth_of(entry):
        if entry['name'] not in depth:
            parent = next((item for item in entries if item['name'] == entry['parent']), None)
            depth[entry['name']] = 0 if parent is None else depth_of(parent) + 1
        return depth[entry['name']]
    return [entry['name'] for entry in sorted(entries, key=lambda item: (-depth_of(item), item['name']))]


class SnapshotManager(Manager):
    """Brings one domain's snapshots to what the options ask for."""

    def __init__(self, params, check_mode):
        check_xml_options(params, multiline=('description',))
        super(SnapshotManager, self).__init__(params, check_mode)
        self.state = validate.choice(params.get('state') or 'present', 'state', STATES)
        self.domain_name = validate.name(params.get('domain'), 'domain')
        self.name = params.get('name')
        if self.name is not None:
            validate_name(self.name)
        elif self.state == 'reverted':
            raise validate.ValidationError('name', None, 'the snapshot to revert to: state=reverted needs a name')
        self.description = validate_description(params.get('description'))
        self.start = bool(params.get('start'))
        if self.start and self.state != 'reverted':
            raise validate.ValidationError('start', True, 'only with state=reverted')

    def ensure(self, conn):
        """Converge; return the module result (changed, snapshots, snapshot, domain_state, diff)."""
        domain = find_domain(conn, self.domain_name)
        if domain is None and self.state != 'absent':
            raise validate.ValidationError('domain', self.domain_name, 'the name of a defined domain')
        before = listing(domain)
        before_state = run_state(domain)
        after_state = before_state
        if self.state == 'present' and self.name is not None:
            after = self._present(domain, before, before_state)
        elif self.state == 'absent':
            after = self._absent(domain, before)
        elif self.state == 'reverted':
            after, after_state = self._reverted(domain, before, before_state)
        else:
            after = before
        if not self.check_mode:  # what libvirt has, also when another run acted at the same time
            after = listing(domain)
            after_state = run_state(domain)
        return self._result(before, after, before_state, after_state)

    def _result(self, before, after, before_state, after_state):
        what = 'domain %s' % self.domain_name
        self.diff.text(what, 'snapshots', listing_text(before), listing_text(after))
        if self.state == 'reverted':  # the state always shows: it names the snapshot reverted to
            self.diff.state(what, dict(state=before_state), dict(state=after_state, reverted_to=self.name))
        named = [entry for entry in after if entry['name'] == self.name]
        self.result.setdefault('removed', [])
        return self.finish(snapshots=after, snapshot=named[0] if named else {}, domain_state=after_state)

    @staticmethod
    def _refuse_saved(domain, state, action):
        if state == 'saved':
            raise LibvirtOperationError(
                'domain %s has a saved state (managed save): start it (libvirt_domain state=running) or discard '
                'the saved state (state=stopped) before %s' % (domain.name(), action))

    def _present(self, domain, before, domain_state):
        if any(entry['name'] == self.name for entry in before):
            return before
        self._refuse_saved(domain, domain_state, 'taking a snapshot')
        tree = xmltree.parse(domain.XMLDesc(0))
        desired = snapshot_xml(self.name, self.description, domain_state in ('running', 'paused'),
                               disk_plan(tree, self.domain_name))
        self.result['changed'] = True
        if not self.check_mode:
            self._create(domain, desired)
        return predict_created(before, self.name, self.description, domain_state)

    def _create(self, domain, desired):
        """Create the snapshot; a failure halfway deletes what this run made, and a snapshot
        of that name made at the same time by another run counts as converged."""
        snapshot = None
        try:
            snapshot = domain.snapshotCreateXML(xmltree.to_xml(desired), 0)
            describe(snapshot)
        except Exception as error:
            if snapshot is None and _made_by_another_run(domain, self.name, error):
                self.result['changed'] = False
                return
            self._undo(domain, snapshot)
            raise

    def _undo(self, domain, snapshot):
        leftover = snapshot or find(domain, self.name)
        if leftover is None:
            return
        try:
            leftover.delete(0)
        except libvirt.libvirtError:
            pass

    def _absent(self, domain, before):
        names = [entry['name'] for entry in before]
        if self.name is not None:
            names = [name for name in names if name == self.name]
        else:
            names = deletion_order(before)
        after = before
        for name in names:
            after = predict_deleted(after, name)
        self.result['changed'] = bool(names)
        self.result['removed'] = names
        if not self.check_mode:
            for name in names:
                _delete(domain, name)
        return after

    def _reverted(self, domain, before, domain_state):
        target = next((entry for entry in before if entry['name'] == self.name), None)
        if target is None:
            raise validate.ValidationError('name', self.name, "one of domain %s's snapshots (%s)" % (
                self.domain_name, ', '.join(entry['name'] for entry in before) or 'it has none'))
        self._refuse_saved(domain, domain_state, 'reverting it')
        self.result['changed'] = True
        if not self.check_mode:
            snapshot = find(domain, self.name)
            if snapshot is None:
                raise LibvirtOperationError('snapshot %s of domain %s was deleted meanwhile'
                                            % (self.name, self.domain_name))
            domain.revertToSnapshot(snapshot, 0)
            if self.start:  # vagrant's restore runs the domain a revert left paused or stopped
                start_or_resume(domain, run_state(domain))
        return predict_reverted(before, self.name), reverted_state(target['state'], self.start)


def _made_by_another_run(domain, name, error):
    """True when creating ``name`` failed because it exists now: another run made it."""
    return (isinstance(error, libvirt.libvirtError) and 'already exists' in (error.get_error_message() or '')
            and find(domain, name) is not None)


def _delete(domain, name):
    """Delete one snapshot; one already gone (another run deleted it) is fine."""
    snapshot = find(domain, name)
    if snapshot is None:
        return
    try:
        snapshot.delete(0)
    except libvirt.libvirtError as error:
        if error.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT:
            raise
