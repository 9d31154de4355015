# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A box download's progress, from the download to the user: vagrant_box.download reports its
blocks (served slowly by the test catalog server), the module's writer keeps the progress file
at most once a second, the action plugin reads it while the module runs and says it, then
removes the file; a file that is half written or holds the wrong types says nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import threading
import time

import pytest

from ansible_collections.vagrantless.libvirt.plugins.action import libvirt_box
from ansible_collections.vagrantless.libvirt.plugins.module_utils import download_progress, vagrant_box
from ansible_collections.vagrantless.libvirt.tests.box_catalog import CatalogServer


def test_a_download_reports_its_blocks_with_the_size_the_server_gave(tmp_path):
    box = tmp_path / 'big.box'
    box.write_bytes(b'x' * (3 * vagrant_box.CHUNK + 5))
    seen = []
    with CatalogServer({'vlt-unit/big': {'1.0.0': str(box)}}) as server:
        path = vagrant_box.download(server.url + '/vlt-unit/big/1.0.0.box', str(tmp_path),
                                    progress=lambda url, done, size: seen.append((done, size)))
    assert os.path.getsize(path) == box.stat().st_size
    assert seen[-1] == (box.stat().st_size, box.stat().st_size)
    assert [done for done, unused in seen] == sorted(done for done, unused in seen)


def test_the_writer_writes_at_most_once_a_second_and_always_the_end(tmp_path):
    path = tmp_path / 'progress'
    now = [100.0]
    writer = download_progress.Writer(str(path), clock=lambda: now[0])
    writer('http://example.invalid/secret-token', 1024, 4096)
    assert json.loads(path.read_text()) == dict(done=1024, size=4096)  # never the URL: it may hold a token
    now[0] += 0.5
    writer('u', 2048, 4096)
    assert json.loads(path.read_text())['done'] == 1024
    writer('u', 4096, 4096)  # the end is always written
    assert json.loads(path.read_text())['done'] == 4096
    assert download_progress.report(str(path)) == 'downloaded 0.0 of 0.0 MiB (100%)'


def test_a_writer_that_cannot_write_lets_the_download_go_on(tmp_path):
    writer = download_progress.Writer(str(tmp_path / 'no-such-dir' / 'progress'))
    writer('u', 1, None)  # no error


@pytest.mark.parametrize('text, line', [
    ('{"done": 52428800, "size": 157286400}', 'downloaded 50.0 of 150.0 MiB (33%)'),
    ('{"done": 1048576, "size": null}', 'downloaded 1.0 MiB'),
    ('{"done": 1048576, "size": 0}', 'downloaded 1.0 MiB'),
    ('{"done": 10', None),  # half written
    ('', None),
    ('[1, 2]', None),
    ('{"done": true, "size": 5}', None),
    ('{"done": -1, "size": 5}', None),
    ('{"done": "5", "size": 5}', None),
])
def test_reports_say_only_what_a_sound_file_holds(tmp_path, text, line):
    path = tmp_path / 'progress'
    path.write_text(text)
    assert download_progress.report(str(path)) == line
    assert download_progress.report(str(tmp_path / 'absent')) is None


@pytest.fixture
def box_action(make_action, monkeypatch):
    """The action plugin for one task on a local connection, its progress lines collected, the
    module's run (here or sent: ``module_result``) stood in for by ``module`` (module_args -> result)."""
    monkeypatch.setattr(libvirt_box, 'REPORT_EVERY', 0.1)
    said = []
    monkeypatch.setattr(libvirt_box.display, 'display', said.append)

    def make(module, transport='local'):
        action = make_action(libvirt_box, dict(name='vlt-unit/big', src='http://127.0.0.1:9/big.box'))
        action._connection.transport = transport
        action._connection.has_native_async = False
        action.module_result = lambda module_args, task_vars, wrap_async=False: module(module_args)
        action._remove_tmp_path = lambda path: None
        return action, said
    return make


def test_the_action_says_the_progress_while_the_module_runs_then_removes_the_file(box_action):
    files = []

    def module(args):
        files.append(args['progress_file'])
        writer = download_progress.Writer(args['progress_file'], clock=time.monotonic)
        for done in (1, 2, 3):
            writer.written = None  # every step written
            writer(None, done * 1024 * 1024, 3 * 1024 * 1024)
            time.sleep(0.35)
        return dict(changed=True, volumes=[])

    action, said = box_action(module)
    result = action.run(task_vars={})
    assert result['changed'] is True
    assert 'box vlt-unit/big: downloaded 1.0 of 3.0 MiB (33%)' in said
    assert said[-1] == 'box vlt-unit/big: downloaded 3.0 of 3.0 MiB (100%)'
    assert len(said) == len(set(said))  # a line is said once
    assert not os.path.exists(files[0])
    assert threading.active_count() == 1 or not any(t.name == 'libvirt_box module' for t in threading.enumerate())


def test_a_module_run_that_raises_raises_in_the_task_and_removes_the_file(box_action):
    files = []

    def module(args):
        files.append(args['progress_file'])
        raise RuntimeError('the connection broke')

    action, unused = box_action(module)
    with pytest.raises(RuntimeError, match='the connection broke'):
        action.run(task_vars={})
    assert not os.path.exists(files[0])


def test_on_a_remote_connection_the_module_runs_unwatched(box_action):
    given = []
    action, said = box_action(lambda args: given.append(args) or dict(changed=False), transport='ssh')
    assert action.run(task_vars={})['changed'] is False
    assert given == [dict(name='vlt-unit/big', src='http://127.0.0.1:9/big.box')] and said == []  # no progress file
