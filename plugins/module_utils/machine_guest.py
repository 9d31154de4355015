# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ``up`` does in a machine's guest once it answers SSH: its synced folders
(``vm_synced_folders``) and its provisioners (``vm_provision``), checked and completed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import posixpath

from ansible_collections.vagrantless.libvirt.plugins.module_utils import connection, machine_options

SYNCED_FOLDER_TYPES = ('rsync', '9p', 'virtiofs')
ACCESS_MODES = ('passthrough', 'mapped', 'squash')
PROVISIONER_TYPES = ('shell', 'file')
PROVISIONER_RUNS = ('once', 'always', 'never')


def synced_folders(settings, project_dir):
    """``vm_synced_folders`` checked, sources relative to ``project_dir``; the project directory
    on /vagrant (rsync) unless a folder lists /vagrant."""
    folders, project_listed = [], False
    for index, item in enumerate(settings.get('vm_synced_folders')):
        option = 'vm_synced_folders[%d]' % index
        item = machine_options.strip_libvirt_prefix(settings.mapping(option, item))
        dest = item.get('dest')
        if (not isinstance(dest, str) or not posixpath.isabs(dest) or connection.CONTROL_CHARACTERS.search(dest)
                or '..' in dest.split('/')):
            settings.fail(option + '.dest', dest, 'an absolute path in the guest, without ".." or control '
                          'characters')
        settings.text(option + '.src', item.get('src'))
        for key in ('owner', 'group'):
            if item.get(key) is not None:
                settings.checked('%s.%s' % (option, key), connection.user_name, item[key], key)
        for key in ('rsync__exclude', 'rsync__args', 'mount_options'):
            settings.texts('%s.%s' % (option, key), item.get(key))
        if item.get('accessmode', 'passthrough') not in ACCESS_MODES:
            settings.fail(option + '.accessmode', item.get('accessmode'), 'one of %s' % ', '.join(ACCESS_MODES))
        settings.flag(option + '.disabled', item.get('disabled'))
        settings.flag(option + '.readonly', item.get('readonly'))
        project_listed = project_listed or dest == '/vagrant'
        if item.get('disabled'):
            continue
        kind = item.get('type', 'rsync')
        if kind not in SYNCED_FOLDER_TYPES:
            settings.fail(option + '.type', kind, 'one of %s (NFS is not supported: use rsync, 9p or virtiofs)'
                          % ', '.join(SYNCED_FOLDER_TYPES))
        src = os.path.normpath(os.path.join(project_dir, os.path.expanduser(item.get('src', '.'))))
        folders.append(dict(src=src, dest=dest, type=kind, exclude=list(item.get('rsync__exclude', ['.vagrant/'])),
                            args=list(item.get('rsync__args', [])), owner=item.get('owner'),
                            group=item.get('group'), accessmode=item.get('accessmode', 'passthrough'),
                            readonly=bool(item.get('readonly', False)),
                            mount_options=list(item.get('mount_options', [])),
                            tag=mount_tag(dest)))
    if not project_listed:
        folders.insert(0, dict(src=os.path.normpath(project_dir), dest='/vagrant', type='rsync',
                               exclude=['.vagrant/'], args=[], owner=None, group=None, accessmode=None,
                               readonly=False, mount_options=[], tag=mount_tag('/vagrant')))
    return folders


def mount_tag(dest):
    """A 9p/virtiofs mount tag for ``dest`` (at most 31 characters)."""
    return 'vl' + hashlib.sha256(dest.encode('utf-8')).hexdigest()[:16]


def provisioners(settings, project_dir):
    """``vm_provision`` checked: shell (inline or a script of ``project_dir``) and file steps."""
    steps = []
    for index, item in enumerate(settings.get('vm_provision')):
        option = 'vm_provision[%d]' % index
        item = settings.mapping(option, item)
        for key in ('name', 'inline', 'path', 'source', 'destination'):
            settings.text('%s.%s' % (option, key), item.get(key))
        if isinstance(item.get('args'), list):
            settings.texts(option + '.args', item['args'])
        elif item.get('args') is not None:
            settings.text(option + '.args', item['args'])
        settings.flag(option + '.privileged', item.get('privileged'), True)
        kind = item.get('type', 'shell')
        if kind not in PROVISIONER_TYPES:
            settings.fail(option + '.type', kind, 'one of %s (Ansible provisioning: use a later play of your '
                          'playbook on the machines group)' % ', '.join(PROVISIONER_TYPES))
        run = item.get('run', 'once')
        if run not in PROVISIONER_RUNS:
            settings.fail(option + '.run', run, 'one of %s' % ', '.join(PROVISIONER_RUNS))
        step = dict(type=kind, run=run, name=item.get('name') or '%s %d' % (kind, index + 1),
                    privileged=bool(item.get('privileged', True)))
        if kind == 'shell':
            if bool(item.get('inline')) == bool(item.get('path')):
                settings.fail(option, item, 'exactly one of inline and path')
            args = item.get('args', [])
            step.update(inline=item.get('inline'), args=args if isinstance(args, list) else [args],
                        path=os.path.join(project_dir, item['path']) if item.get('path') else None)
        else:
            if not item.get('source') or not item.get('destination'):
                settings.fail(option, item, 'source and destination')
            step.update(source=os.path.join(project_dir, item['source']),
                        destination=item['destination'])
        steps.append(step)
    return steps
