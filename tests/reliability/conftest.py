# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reliability suite against the lab's real libvirtd: bad inputs refused before anything
changes, and every module's scenarios idempotent with an exact check mode.

Everything it makes is named vlt-rel-* (networks in 10.91.0.0/16, reservations on
`default` in 192.168.122.220-229) and is removed before and after the run, even on failure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import shutil
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402 pylint: disable=wrong-import-position,import-error

STARTED = [time.monotonic()]


@pytest.fixture(scope='session', autouse=True)
def lab():
    """A lab with nothing of the suite's left over, and cleaned up afterwards whatever happens."""
    import libvirt  # pylint: disable=import-outside-toplevel
    try:
        libvirt.open(harness.URI).close()
    except libvirt.libvirtError as error:
        pytest.exit('the lab libvirtd does not answer on %s (make lab): %s' % (harness.URI, error), returncode=3)
    for old in glob.glob(os.path.join(tempfile.gettempdir(), 'vlt-rel-play-*')):
        shutil.rmtree(old, ignore_errors=True)  # the playbooks and records of the run before (kept to look at)
    left = harness.cleanup()
    if left:
        sys.stderr.write('reliability: removed leftovers of an earlier run: %s\n' % ', '.join(left))
    os.makedirs(harness.WORK)
    try:
        yield
    finally:
        harness.cleanup()


def pytest_terminal_summary(terminalreporter):
    record = harness.RECORD
    write = terminalreporter.write_line
    matrix = record['matrix']
    if matrix:
        modules = []
        for (module, unused) in matrix:
            if module not in modules:
                modules.append(module)
        width = max(len(scenario) for (unused, scenario) in matrix)
        write('')
        write('idempotence + check mode matrix (check == real changed, real does it, again unchanged):')
        for module in modules:
            write('  %s' % module)
            for (name, scenario), outcome in matrix.items():
                if name == module:
                    write('    %-*s  %s' % (width, scenario, 'ok' if outcome['ok'] else 'FAIL  ' + outcome['why']))
    bad = record['bad']
    clean = sum(1 for outcome in bad.values() if outcome['ok'])
    cells = sum(1 for outcome in matrix.values() if outcome['ok'])
    for key, seconds in sorted(record['seconds'].items()):
        write('reliability: %s took %.1f s' % (key, seconds))
    write('reliability: suite ran %.1f s' % (time.monotonic() - STARTED[0]))
    write('reliability: bad inputs tried %d / refused cleanly %d' % (len(bad), clean))
    write('reliability: idempotence matrix cells %d / ok %d' % (len(matrix), cells))
    results = os.path.join(harness.ROOT, 'tests', 'output', 'results')
    if os.path.isdir(results):
        with open(os.path.join(results, 'reliability.json'), 'w') as handle:
            json.dump(dict(bad_inputs=dict(tried=len(bad), clean=clean, cases=bad),
                           matrix=dict(cells=len(matrix), ok=cells,
                                       table=['%s %s %s' % (m, s, 'ok' if o['ok'] else 'FAIL: ' + o['why'])
                                              for (m, s), o in matrix.items()])), handle, indent=1, sort_keys=True)
