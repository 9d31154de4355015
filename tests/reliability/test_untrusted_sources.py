# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Untrusted sources that are not refusals (issue 15, classes 7 and 10), on the lab's libvirtd:
dnsmasq files of every wrong shape are read by libvirt_lease_facts with a warning per bad
entry and never a crash; a cloud-init seed's user_data never shows in a result or a diff,
in check mode or for real, while the diff still says that it changed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import harness  # pylint: disable=import-error
from verdicts import CRASH  # pylint: disable=import-error

GOOD = {"ip-address": "10.91.41.5", "mac-address": "52:54:00:91:00:41", "hostname": "vlt-rel-good",
        "expiry-time": 1795535000}
# file name -> content: one good lease for 52:54:00:91:00:41 among hostile entries, or nothing usable
FILES = {
    'types.status': json.dumps([
        {"ip-address": 5, "mac-address": "52:54:00:91:00:41"},
        {"ip-address": ["10.91.41.6"], "mac-address": "52:54:00:91:00:41"},
        {"ip-address": "10.91.41.7", "mac-address": 52},
        {"ip-address": "10.91.41.8", "mac-address": {"a": 1}},
        {"ip-address": "10.91.41.9", "mac-address": "52:54:00:91:00:41", "expiry-time": "soon"},
        {"ip-address": "10.91.41.10", "mac-address": "52:54:00:91:00:41", "hostname": ["localhost"]},
        {"ip-address": "10.91.41.11; reboot", "mac-address": "52:54:00:91:00:41"},
        "garbage", 7, None, [GOOD], GOOD]),
    'names.status': json.dumps([dict(GOOD, hostname='localhost\n')]),
    'truncated.status': '[{"ip-address": "10.91.41.5", "mac-address"',
    'object.status': json.dumps({"leases": [GOOD]}),
    'binary.leases': b'\xff\xfe\x00garbage\n1795535000 52:54:00:91:00:41 10.91.41.5 vlt\xffrel *\n',
    'classic.leases': '\n'.join(['soon 52:54:00:91:00:41 10.91.41.12 x *', '1795535000 52:54:00:91:00 10.91.41.13 x *',
                                 '1795535000 52:54:00:91:00:41 10.91.41.300 x *', 'duid 00:01',
                                 '1795535000 52:54:00:91:00:41 10.91.41.5 web;reboot *']),
}
# file -> (ip expected, host name expected)
EXPECTED = {'types.status': ('10.91.41.5', 'vlt-rel-good'), 'names.status': ('10.91.41.5', None),
            'truncated.status': ('', None), 'object.status': ('', None), 'binary.leases': ('10.91.41.5', None),
            'classic.leases': ('10.91.41.5', None)}


def test_hostile_lease_files_are_read_with_warnings_never_a_crash():
    steps = []
    for index, (name, content) in enumerate(sorted(FILES.items())):
        directory = os.path.join(harness.WORK, 'leases%d' % index)
        os.makedirs(directory)
        with open(os.path.join(directory, name), 'wb') as handle:
            handle.write(content if isinstance(content, bytes) else content.encode('utf-8'))
        steps.append(harness.Step('guest_lease_file_' + name, 'libvirt_lease_facts',
                                  dict(macs=['52:54:00:91:00:41'], sources=['dnsmasq'], lease_files=[directory]),
                                  lane=index % 2))
    before = harness.snapshot('vlt-rel')
    results = harness.run_batch(steps)[0]
    problems = []
    for name in sorted(FILES):
        result = results['guest_lease_file_' + name]
        text = json.dumps(result)
        ip, hostname = EXPECTED[name]
        leases = (result.get('ansible_facts') or {}).get('libvirt_leases') or []
        if result.get('failed') or CRASH.search(text):
            problems.append('%s: failed: %s' % (name, result.get('msg') or result.get('module_stderr')))
        elif result.get('ip') != ip or (leases and leases[0]['hostname'] != hostname):
            problems.append('%s: ip %r, leases %r' % (name, result.get('ip'), leases))
        elif not result.get('warnings'):
            problems.append('%s: no warning for its bad entries' % name)
    assert not problems, '\n'.join(problems)
    assert harness.differences(before, harness.snapshot('vlt-rel'))[0] == []


SECRET = '#cloud-config\nchpasswd: {list: "root:vlt-rel-S3cr3t"}\nssh_authorized_keys: [ssh-ed25519 AAAAvltrelkey]\n'
SECRET_TWO = SECRET.replace('S3cr3t', 'Other-S3cr3t')
SEED = dict(name='vlt-rel-guest-diff.iso', pool='default')


def test_cloud_init_user_data_never_in_results_or_diffs():
    def seed(user_data, **extra):
        return dict(SEED, cloud_init=dict(user_data=user_data, meta_data='instance-id: vlt-rel\n'), **extra)
    steps = [harness.Step('guest_seed_check_new', 'libvirt_volume', seed(SECRET), check=True),
             harness.Step('guest_seed_create', 'libvirt_volume', seed(SECRET)),
             harness.Step('guest_seed_again', 'libvirt_volume', seed(SECRET), check=True),
             harness.Step('guest_seed_check_change', 'libvirt_volume', seed(SECRET_TWO), check=True),
             harness.Step('guest_seed_change', 'libvirt_volume', seed(SECRET_TWO)),
             harness.Step('guest_seed_remove', 'libvirt_volume', dict(SEED, state='absent'))]
    results = harness.run_batch(steps)[0]
    for key, result in results.items():
        text = json.dumps(result)
        assert not result.get('failed'), '%s: %s' % (key, result.get('msg'))
        assert 'S3cr3t' not in text and 'AAAAvltrelkey' not in text, '%s shows the user_data: %s' % (key, text)

    def content_diff(key):
        diff = results[key]['diff']
        return [entry for entry in diff if entry.get('after_header') == 'volume %s (content)' % SEED['name']][0]
    new = content_diff('guest_seed_check_new')
    assert '--- user-data\n(%d bytes, masked' % len(SECRET) in new['after'] and 'instance-id: vlt-rel' in new['after']
    assert results['guest_seed_again']['changed'] is False
    assert '; changed' not in content_diff('guest_seed_again')['after']
    change = content_diff('guest_seed_check_change')
    assert results['guest_seed_check_change']['changed'] is True
    assert '(%d bytes, masked: it may hold passwords or keys)' % len(SECRET) in change['before']
    assert '(%d bytes, masked: it may hold passwords or keys; changed)' % len(SECRET_TWO) in change['after']
