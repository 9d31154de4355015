# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/up/files/guest_address.sh, the step that configures private networks in a Linux guest,
run for real on guests of both kinds without booting one: in a mount namespace of its own
(``unshare -m``), where directories of the test stand over the guest's ``/sys/class/net``,
``/etc/network``, ``/etc/systemd/network`` and ``/run/systemd/netif``, and stand-ins for
``ip``, ``ifup``, ``ifdown`` and ``networkctl`` record their calls. The Debian box of the e2e layer
proves the ifupdown path with static addresses on a real guest; these prove DHCP, networkd,
check mode and a second run that changes nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
SCRIPT = os.path.join(ROOT, 'roles', 'up', 'files', 'guest_address.sh')
ETH1, ETH2 = '52:54:00:00:00:11', '52:54:00:00:00:12'
RECORDER = '#!/bin/sh\necho "${0##*/} $*" >> %s\n'
IP = '#!/bin/sh\necho "ip $*" >> %s\ncase "$*" in "-o addr show dev"*) echo "3: $5    inet 10.9.9.9/24 brd";; esac\n'
MOUNTS = ('sys/class/net', 'etc/network', 'etc/systemd/network', 'run/systemd/netif')

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which('unshare'),
                                reason='unshare -m and bind mounts need root (the lab runs as root)')


class Guest(object):
    """A guest's network files and commands under ``base``, for ``networkd`` or ifupdown."""

    def __init__(self, base, networkd):
        self.base = str(base)
        self.calls = os.path.join(self.base, 'calls')
        for path in MOUNTS + ('bin', 'etc-upper', 'etc-work', 'run-upper', 'run-work'):
            os.makedirs(os.path.join(self.base, path))
        for dev, mac, flags in (('eth0', '52:54:00:00:00:10', '0x1003'), ('eth1', ETH1, '0x1002'),
                                ('eth2', ETH2, '0x1002')):
            os.makedirs(os.path.join(self.base, 'sys/class/net', dev))
            self.write('sys/class/net/%s/address' % dev, mac + '\n')
            self.write('sys/class/net/%s/flags' % dev, flags + '\n')
        self.write('etc/network/interfaces', 'auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n')
        if networkd:
            self.write('run/systemd/netif/state', 'OPER_STATE=routable\n')
        for command in ('ifup', 'ifdown', 'networkctl'):
            self.write('bin/' + command, RECORDER % self.calls, 0o755)
        self.write('bin/ip', IP % self.calls, 0o755)

    def write(self, path, text, mode=0o644):
        with open(os.path.join(self.base, path), 'w') as handle:
            handle.write(text)
        os.chmod(os.path.join(self.base, path), mode)

    def read(self, path):
        with open(os.path.join(self.base, path)) as handle:
            return handle.read()

    def run(self, *networks):
        """The script with ``networks`` as the role passes them: (rc, stdout, stderr, calls)."""
        if os.path.exists(self.calls):
            os.unlink(self.calls)
        # /etc and /run overlaid (what is made in them stays in the namespace), then the guest's parts
        shell = ' && '.join(['mount -t overlay overlay -o lowerdir=/%s,upperdir=%s/%s-upper,workdir=%s/%s-work /%s'
                             % (top, self.base, top, self.base, top, top) for top in ('etc', 'run')]
                            + ['mkdir -p /%s && mount --bind %s/%s /%s' % (path, self.base, path, path)
                               for path in MOUNTS]
                            + ['PATH=%s/bin:/usr/bin:/bin exec sh %s "$@"' % (self.base, SCRIPT)])
        proc = subprocess.run(['unshare', '-m', '--propagation', 'private', 'sh', '-c', shell, 'guest_address']
                              + list(networks), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=60, check=False)
        calls = self.read('calls').splitlines() if os.path.exists(self.calls) else []
        return proc.returncode, proc.stdout, proc.stderr, calls


def test_ifupdown_dhcp_and_static_are_written_between_marks_and_brought_up(tmp_path):
    guest = Guest(tmp_path, networkd=False)
    rc, out, err, calls = guest.run(ETH1 + ',dhcp', ETH2 + ',static,10.72.0.21,24')
    assert (rc, out) == (0, 'changed\n'), err
    interfaces = guest.read('etc/network/interfaces')
    assert interfaces.startswith('auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n')
    assert ('# vagrantless %s begin\nauto eth1\niface eth1 inet dhcp\n# vagrantless %s end' % (ETH1, ETH1)
            in interfaces)
    assert ('# vagrantless %s begin\nauto eth2\niface eth2 inet static\n    address 10.72.0.21/24\n'
            '# vagrantless %s end' % (ETH2, ETH2)) in interfaces
    assert 'ifdown --force eth1' in calls and 'ifup eth1' in calls
    assert 'ip addr replace 10.72.0.21/24 dev eth2' in calls and 'ip link set dev eth2 up' in calls


def test_a_changed_address_replaces_its_block_and_a_second_run_changes_nothing(tmp_path):
    guest = Guest(tmp_path, networkd=False)
    assert guest.run(ETH2 + ',static,10.72.0.21,24')[1] == 'changed\n'
    assert guest.run(ETH2 + ',static,10.72.0.22,24')[1] == 'changed\n'
    interfaces = guest.read('etc/network/interfaces')
    assert interfaces.count('# vagrantless %s begin' % ETH2) == 1 and '10.72.0.22/24' in interfaces
    assert '10.72.0.21' not in interfaces
    guest.write('sys/class/net/eth2/flags', '0x1003\n')  # up, and (the ip stand-in says) holding:
    assert guest.run(ETH2 + ',static,10.9.9.9,24')[1] == 'changed\n'  # the file, not the running address
    assert guest.run(ETH2 + ',static,10.9.9.9,24')[1:] == ('', '', ['ip -o addr show dev eth2'])


def test_networkd_gets_a_unit_per_interface_and_is_reloaded(tmp_path):
    guest = Guest(tmp_path, networkd=True)
    rc, out, err, calls = guest.run(ETH1 + ',dhcp', ETH2 + ',static,10.72.0.21,24')
    assert (rc, out) == (0, 'changed\n'), err
    assert guest.read('etc/systemd/network/50-vagrantless-eth1.network') == (
        '[Match]\nMACAddress=%s\n\n[Network]\nDHCP=ipv4\n' % ETH1)
    assert guest.read('etc/systemd/network/50-vagrantless-eth2.network') == (
        '[Match]\nMACAddress=%s\n\n[Network]\nAddress=10.72.0.21/24\n' % ETH2)
    assert calls.count('networkctl reload') == 2 and not any(call.startswith('if') for call in calls)
    assert 'vagrantless' not in guest.read('etc/network/interfaces')  # networkd's guest: ifupdown untouched
    calls = guest.run(ETH1 + ',dhcp')[3]
    assert 'networkctl reload' not in calls


def test_check_mode_says_changed_and_changes_nothing(tmp_path):
    guest = Guest(tmp_path, networkd=False)
    before = guest.read('etc/network/interfaces')
    rc, out, err, calls = guest.run('--check', ETH1 + ',dhcp', ETH2 + ',static,10.72.0.21,24')
    assert (rc, out) == (0, 'changed\n'), err
    assert guest.read('etc/network/interfaces') == before
    assert calls == ['ip -o addr show dev eth2']  # read, never written


def test_a_mac_no_interface_has_is_an_error_naming_it(tmp_path):
    rc, out, err, calls = Guest(tmp_path, networkd=False).run('52:54:00:99:99:99,dhcp')
    assert rc == 1 and 'no interface of this guest has the MAC 52:54:00:99:99:99' in err


def test_blocks_of_macs_this_guest_lacks_are_removed_and_their_addresses_taken_off(tmp_path):
    """A machine made from another's packaged box: that machine's blocks name its MACs, not this
    guest's; the address one of them set at boot (on this guest's eth1, 10.9.9.9 per the ip
    stand-in) is taken off, both blocks go, this guest's own block is written."""
    guest = Guest(tmp_path, networkd=False)
    base = guest.read('etc/network/interfaces')
    stale = ''.join('# vagrantless %s begin\nauto %s\niface %s inet static\n    address %s\n# vagrantless %s end\n'
                    % (mac, dev, dev, address, mac) for mac, dev, address in (
                        ('52:54:00:aa:00:01', 'eth1', '10.9.9.9/24'), ('52:54:00:aa:00:02', 'eth2', '10.8.8.8/24')))
    guest.write('etc/network/interfaces', base + stale)
    before = guest.read('etc/network/interfaces')
    assert guest.run('--check', ETH1 + ',dhcp')[1] == 'changed\n'
    assert guest.read('etc/network/interfaces') == before
    rc, out, err, calls = guest.run(ETH1 + ',dhcp')
    assert (rc, out) == (0, 'changed\n'), err
    assert 'ip addr del 10.9.9.9/24 dev eth1' in calls
    assert not any(call.startswith('ip addr del') and 'eth2' in call for call in calls)  # eth2 holds no 10.8.8.8
    assert guest.read('etc/network/interfaces') == base + (
        '# vagrantless %s begin\nauto eth1\niface eth1 inet dhcp\n# vagrantless %s end\n' % (ETH1, ETH1))
    assert guest.run(ETH1 + ',dhcp')[1] == ''
