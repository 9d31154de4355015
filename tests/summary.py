# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Count the tests every layer ran from their JUnit files and print one line per
layer plus the closing total: ``total: N passed, N failed``."""

import argparse
import glob
import json
import os
import sys
from xml.etree import ElementTree  # our own test reports, not libvirt XML


def count(path):
    """(passed, failed, skipped) in one JUnit file."""
    passed = failed = skipped = 0
    for case in ElementTree.parse(path).getroot().iter('testcase'):
        if case.find('failure') is not None or case.find('error') is not None:
            failed += 1
        elif case.find('skipped') is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def counts(results):
    """The reliability counts (issue #8) from the suites' JSON, each 'tried / handled'."""
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


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('layers', nargs='+', help='LABEL=GLOB of JUnit files')
    args = parser.parse_args()
    totals = [0, 0, 0]
    for layer in args.layers:
        label, pattern = layer.split('=', 1)
        numbers = [0, 0, 0]
        files = sorted(glob.glob(pattern, recursive=True))
        for path in files:
            for index, value in enumerate(count(path)):
                numbers[index] += value
        if not files:
            print('%s: no reports at %s' % (label, os.path.relpath(pattern)))
            continue
        print('%s: %d passed, %d failed, %d skipped' % (label, numbers[0], numbers[1], numbers[2]))
        totals = [a + b for a, b in zip(totals, numbers)]
    counts(os.path.dirname(args.layers[0].split('=', 1)[1]))
    print('total: %d passed, %d failed, %d skipped' % tuple(totals))
    return 1 if totals[1] or not totals[0] else 0


if __name__ == '__main__':
    sys.exit(main())
