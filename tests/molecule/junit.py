# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Molecule's output as a JUnit report, for tests/molecule/run.

``junit.py stamp LOG`` copies standard input to standard output and to LOG, each line
prefixed with the time it arrived. ``junit.py report LOG RC XML SCENARIO`` reads that log
and writes one testcase per Molecule stage (``[<scenario> > <stage>] Executing`` to
``... Executed: <state>``): successful is a pass; disabled, skipped and a missing
playbook are skips; failed, or begun and never finished when Molecule exited non-zero, is a failure
holding the stage's last output lines. A non-zero exit that no stage explains is a failed
testcase of its own, so a failing ``molecule test`` is never a green report."""

import re
import sys
import time
from xml.etree import ElementTree  # our own report, written from plain strings

ANSI = re.compile(r'\x1b\[[0-9;?]*[A-Za-z]')
# "INFO     [default > converge] Executing" without colours, "INFO default (arrow) converge: Executing"
# with them; the closing DETAILS list repeats the states without the level and is not matched.
STAGE = re.compile(r'^(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+'
                   r'(?:\[(?P<scenario>[^\]]+?) > (?P<stage>[\w-]+)\]|(?P<scenario2>\S+) \u279c (?P<stage2>[\w-]+):) '
                   r'(?P<what>Executing|Executed: (?P<state>.*))$')
TAIL = 60


def stamp(log_path):
    with open(log_path, 'w', encoding='utf-8') as log:
        for line in sys.stdin:
            sys.stdout.write(line)
            sys.stdout.flush()
            log.write('%.3f %s' % (time.time(), line))
            log.flush()


def read(log_path):
    """[(time, line without colours)] from a stamped log."""
    lines = []
    with open(log_path, encoding='utf-8', errors='replace') as log:
        for raw in log:
            when, _sep, text = raw.rstrip('\n').partition(' ')
            try:
                lines.append((float(when), ANSI.sub('', text).rstrip()))
            except ValueError:
                continue
    return lines


def stages(lines):
    """Every stage Molecule ran, in order: name, start, end, state, output lines."""
    found, current, previous = [], None, lines[0][0] if lines else time.time()
    for when, text in lines:
        match = STAGE.match(text.strip())
        if current is not None:
            current['output'].append(text)
        if not match:
            continue
        name = match.group('stage') or match.group('stage2')
        if match.group('what') == 'Executing':
            current = dict(name=name, start=when, end=None, state=None, output=[])
            found.append(current)
        else:
            if current is None or current['name'] != name:
                # reported without "Executing"
                current = dict(name=name, start=previous, end=None, state=None, output=[])
                found.append(current)
            current.update(end=when, state=match.group('state').strip())
            current = None
        previous = when
    return found


def report(log_path, rc, xml_path, scenario):
    lines = read(log_path)
    ran = stages(lines)
    rc = int(rc)
    start = lines[0][0] if lines else time.time()
    end = lines[-1][0] if lines else start
    suite = ElementTree.Element('testsuite', name='molecule')
    failures = skipped = 0
    counts = {}
    explained = False
    for stage in ran:
        counts[stage['name']] = counts.get(stage['name'], 0) + 1
        name = '%s: %s' % (scenario, stage['name'])
        if counts[stage['name']] > 1:
            name += ' (%d)' % counts[stage['name']]
        stage_end = stage['end'] if stage['end'] is not None else end
        case = ElementTree.SubElement(suite, 'testcase', classname='molecule.%s' % scenario, name=name,
                                      time='%.3f' % max(0.0, stage_end - stage['start']))
        state = (stage['state'] or '').lower()
        if state.startswith('successful'):
            continue
        if stage['state'] is not None and 'fail' not in state:  # disabled, skipped, missing playbook
            ElementTree.SubElement(case, 'skipped', message=stage['state'])
            skipped += 1
            continue
        if stage['state'] is None and rc == 0:
            continue  # a stage Molecule reports no state for, in a run that passed
        message = 'Molecule %s: %s' % (stage['name'], stage['state'] or 'did not finish (molecule exited %d)' % rc)
        failure = ElementTree.SubElement(case, 'failure', message=message)
        failure.text = '\n'.join(stage['output'][-TAIL:])
        failures += 1
        explained = True
    if rc != 0 and not explained:
        case = ElementTree.SubElement(suite, 'testcase', classname='molecule.%s' % scenario,
                                      name='%s: molecule test' % scenario, time='%.3f' % (end - start))
        failure = ElementTree.SubElement(case, 'failure', message='molecule test exited %d' % rc)
        failure.text = '\n'.join(text for _when, text in lines[-TAIL:])
        failures += 1
    suite.set('tests', str(len(suite)))
    suite.set('failures', str(failures))
    suite.set('errors', '0')
    suite.set('skipped', str(skipped))
    suite.set('time', '%.3f' % (end - start))
    ElementTree.ElementTree(suite).write(xml_path, encoding='utf-8', xml_declaration=True)
    for case in suite:
        verdict = 'failed' if case.find('failure') is not None else (
            'skipped' if case.find('skipped') is not None else 'passed')
        print('molecule: %-32s %-8s %6ss' % (case.get('name'), verdict, case.get('time')))
    return 1 if failures else 0


def main(argv):
    if len(argv) == 3 and argv[1] == 'stamp':
        stamp(argv[2])
        return 0
    if len(argv) == 6 and argv[1] == 'report':
        return report(*argv[2:])
    sys.stderr.write('usage: junit.py stamp LOG | junit.py report LOG RC XML SCENARIO\n')
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
