# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures every unit test may use: libvirt's test driver, a domain of the test's own on it,
and a harness that runs an action plugin in process, as a task would."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import types

import libvirt
import pytest
from ansible.errors import AnsibleActionFail
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.vagrantless.libvirt.plugins.module_utils import xmltree

UNDEFINE_ALL = libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE


def undefine(conn, name):
    """The domain gone (destroyed first, its snapshots' metadata and managed save with it);
    none of that name is fine."""
    try:
        domain = conn.lookupByName(name)
    except libvirt.libvirtError:
        return
    if domain.isActive():
        domain.destroy()
    domain.undefineFlags(UNDEFINE_ALL)


@pytest.fixture
def conn():
    """libvirt's test:///default driver. Its state is one per process, shared by every
    connection: a test cleans up the objects it names (``vlt-...``), or makes them anew."""
    return libvirt.open('test:///default')


@pytest.fixture
def no_domain(conn):
    """``no_domain(name)``: the domain gone now and again after the test (for domains the code
    under test makes)."""
    names = []

    def forget(name):
        undefine(conn, name)
        names.append(name)

    yield forget
    for name in names:
        undefine(conn, name)


@pytest.fixture
def test_domain(conn):
    """A factory of domains of the test's own: ``test_domain(name, running=True, devices=[xml])``
    defines (and starts) a copy of the driver's domain ``test`` under ``name``, with extra
    devices; every domain made is removed after the test."""
    made = []

    def make(name, running=True, devices=(), xml=None):
        undefine(conn, name)
        if xml is None:
            tree = xmltree.parse(conn.lookupByName('test').XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
            tree.attrib.pop('id', None)
            tree.remove(tree.find('uuid'))
            tree.find('name').text = name
            for device in devices:
                tree.find('devices').append(xmltree.parse(device))
            xml = xmltree.to_xml(tree)
        domain = conn.defineXML(xml)
        made.append(name)
        if running:
            domain.create()
        return domain

    yield make
    for name in made:
        undefine(conn, name)


class FakeConnection(object):
    """What an action plugin sees of the task's connection: options, a reset, no remote tmp."""

    def __init__(self):
        self._shell = types.SimpleNamespace(tmpdir='/nonexistent-remote-tmp')
        self.options = {}
        self.resets = 0

    def set_option(self, name, value):
        self.options[name] = value

    def reset(self):
        self.resets += 1


def new_action(plugin, args, task_vars=None, check_mode=False, remote_addr='192.0.2.1'):
    """An instance of ``plugin`` (an action plugin module) for one task with ``args``."""
    task = types.SimpleNamespace(args=dict(args), check_mode=check_mode, async_val=0, action=plugin.__name__,
                                 diff=False)
    loader = DataLoader()
    return plugin.ActionModule(task, FakeConnection(), types.SimpleNamespace(remote_addr=remote_addr), loader,
                               Templar(loader=loader, variables=task_vars or {}))


@pytest.fixture
def make_action():
    """``make_action(plugin, args, ...)``: the action plugin's instance for one task, to run by hand."""
    return new_action


@pytest.fixture
def run_action():
    """Run an action plugin in process: ``run_action(plugin, args, task_vars=..., check_mode=...)``
    returns its result as a task would register it."""
    def run(plugin, args, task_vars=None, check_mode=False):
        try:
            return new_action(plugin, args, task_vars, check_mode).run(task_vars=task_vars or {})
        except AnsibleActionFail as error:  # as the task executor reports it
            return dict(error.result, failed=True, msg=str(error))
    return run
