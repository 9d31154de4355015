# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Count the checks every layer ran from their JUnit files and print one line per layer
plus the closing total: ``total: N passed, N failed``.

A verdict is only as good as its failure, so the count is strict:
- a layer whose recipe wrote no report, or whose reports hold no test, FAILS the run (it is
  counted as one failed check, and named);
- ansible-test integration reports every task of a target as a test case: there only the
  checks count - ``assert`` tasks that passed (their result says "All assertions passed" or
  carries ``assertion``/``evaluated_to``) and every task that failed. Set-up and clean-up
  tasks are not checks.
"""

import argparse
import glob
import json
import os
import sys
from xml.etree import ElementTree  # our own test reports, not libvirt XML

# what an ok `assert` task's result holds in ansible-core's JUnit callback output
ASSERT_MARKS = ('All assertions passed', '"evaluated_to"', '"assertion"')


def _is_check(case):
    """Whether an ansible-test integration test case (one task) is a check."""
    out = case.find('system-out')
    text = out.text if out is not None and out.text else ''
    return any(mark in text for mark in ASSERT_MARKS)


def count(path, checks_only=False):
    """(passed, failed, skipped) in one JUnit file; with ``checks_only`` the passed and
    skipped test cases that are not checks are left out."""
    passed = failed = skipped = 0
    for case in ElementTree.parse(path).getroot().iter('testcase'):
        if case.find('failure') is not None or case.find('error') is not None:
            failed += 1
        elif checks_only and not _is_check(case):
            continue
        elif case.find('skipped') is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def counts(results):
    """The reliability counts from the suites' JSON, each 'tried / handled'."""
    lines = []
    try:
        with open(os.path.join(results, 'reliability.json')) as handle:
            data = json.load(handle)
        lines.append('bad inputs tried %d / refused cleanly %d' % (data['bad_inputs']['tried'],
                                                                   data['bad_inputs']['clean']))
        lines.append('idempotence matrix cells %d / ok %d' % (data['matrix']['cells'], data['matrix']['ok']))
    except (IOError, OSError, ValueError, KeyError):
        lines.append('bad inputs and idempotence matrix: no report')
    try:
        with open(os.path.join(results, 'e2e.json')) as handle:
            data = json.load(handle)
        lines.append('faults injected %d / survived %d' % (data['faults']['injected'], data['faults']['survived']))
        lines.append('concurrency runs %d / converged %d' % (data['concurrency']['runs'],
                                                             data['concurrency']['converged']))
    except (IOError, OSError, ValueError, KeyError):
        lines.append('faults and concurrency: no report')
    for line in lines:
        print('reliability: ' + line)


def layer_counts(pattern, checks_only=False):
    """(files, [passed, failed, skipped], unreadable files) of one layer."""
    files = sorted(glob.glob(pattern, recursive=True))
    numbers, broken = [0, 0, 0], []
    for path in files:
        try:
            found = count(path, checks_only)
        except (ElementTree.ParseError, IOError, OSError):
            broken.append(path)
            continue
        numbers = [a + b for a, b in zip(numbers, found)]
    return files, numbers, broken


def summarize(layers, checks_only_layers=()):
    """Print a line per layer and the total; return the exit status (1 when any check
    failed, any layer has no report or an unreadable one, or any layer ran no test)."""
    totals = [0, 0, 0]
    for layer in layers:
        label, pattern = layer.split('=', 1)
        files, numbers, broken = layer_counts(pattern, label in checks_only_layers)
        if not files:
            print('%s: FAILED: no report at %s (the layer crashed or its recipe wrote none)'
                  % (label, os.path.relpath(pattern)))
            numbers = [0, 1, 0]
        elif broken:
            print('%s: FAILED: unreadable report(s) %s' % (label, ', '.join(map(os.path.relpath, broken))))
            numbers[1] += len(broken)
        elif numbers[0] + numbers[1] == 0:
            print('%s: FAILED: the report holds no test' % label)
            numbers[1] += 1
        else:
            print('%s: %d passed, %d failed, %d skipped' % (label, numbers[0], numbers[1], numbers[2]))
        totals = [a + b for a, b in zip(totals, numbers)]
    counts(os.path.dirname(layers[0].split('=', 1)[1]))
    print('total: %d passed, %d failed, %d skipped' % tuple(totals))
    return 1 if totals[1] or not totals[0] else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--checks-only', action='append', default=[], metavar='LABEL',
                        help='a layer whose reports count every task (ansible-test): count its checks only')
    parser.add_argument('layers', nargs='+', help='LABEL=GLOB of JUnit files')
    args = parser.parse_args(argv)
    return summarize(args.layers, args.checks_only)


if __name__ == '__main__':
    sys.exit(main())
