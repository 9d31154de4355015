# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rootless test bed (tests/lab/rootless): these tests run AS the unprivileged user
vlt-rootless, inside its network namespace (lo only), with the machine's libvirt hidden:
`make rootless` runs pytest through `tests/lab/rootless exec`, which sets the bed's ROOTLESS_*
variables, HOME, XDG_RUNTIME_DIR and the venv's PATH. Nothing here needs root, nor the checkout:
pytest runs from the synced collection tree (ROOTLESS_COLLECTION)."""

import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # project_lab: what the layers share

# what `tests/lab/rootless env` prints and `exec` passes on
NAMES = ('ROOTLESS_USER', 'ROOTLESS_UID', 'ROOTLESS_NS', 'ROOTLESS_HOME', 'ROOTLESS_URI', 'ROOTLESS_DRIVER',
         'ROOTLESS_COLLECTIONS_PATH', 'ROOTLESS_COLLECTION', 'ROOTLESS_BOX', 'ROOTLESS_BOX_IMG', 'ROOTLESS_BOX_NAME',
         'ROOTLESS_KEY', 'ROOTLESS_VENV')
HOW = ('use `make rootless`, or as root: `tests/lab/rootless exec python -m pytest tests/rootless`')


def bed_env():
    """The bed's variables from this process's environment."""
    missing = [name for name in NAMES if not os.environ.get(name)]
    if missing:
        pytest.exit('tests/rootless runs inside the rootless bed only (%s unset): %s' % (', '.join(missing), HOW),
                    returncode=4)
    return dict((name, os.environ[name]) for name in NAMES)


def pytest_configure(config):  # pylint: disable=unused-argument
    """Refuse to run but as the bed's user in the bed's namespace: as root, or from the
    machine's own namespace, a test would prove nothing (or reach the machine's libvirt)."""
    bed = bed_env()
    if os.getuid() != int(bed['ROOTLESS_UID']):
        pytest.exit('tests/rootless runs as %s (uid %s) only, not as uid %d: %s'
                    % (bed['ROOTLESS_USER'], bed['ROOTLESS_UID'], os.getuid(), HOW), returncode=4)
    here = subprocess.run(['ip', 'netns', 'identify', str(os.getpid())], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, universal_newlines=True, check=False).stdout.strip()
    if here != bed['ROOTLESS_NS']:
        pytest.exit('tests/rootless runs inside namespace %s only (not in %s): %s'
                    % (bed['ROOTLESS_NS'], here or 'the machine\'s own namespace', HOW), returncode=4)


@pytest.fixture(scope='session')
def bed():
    """The bed's ROOTLESS_* variables as a dict."""
    return bed_env()


def run_as_user(argv, **kw):
    """ARGV as the bed's user: this process already is that user (pytest_configure made sure), in
    the bed's namespace and environment, so a plain subprocess. Text output, captured, no check
    and a timeout of 60 s unless KW says otherwise."""
    options = dict(stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=60, check=False)
    options.update(kw)
    return subprocess.run([str(arg) for arg in argv], **options)  # pylint: disable=subprocess-run-check


@pytest.fixture(scope='session')
def as_user():
    """`as_user(argv, **kw)`: run ARGV as the bed's user (see run_as_user)."""
    return run_as_user
