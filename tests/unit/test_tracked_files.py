# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What git tracks is the project, never a developer's machine: no symbolic link (a worktree's
link to another checkout's venv or lab cache would make a fresh clone depend on that checkout)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


@pytest.mark.skipif(shutil.which('git') is None or not os.path.exists(os.path.join(ROOT, '.git')),
                    reason='not a git checkout')
def test_no_symbolic_link_is_tracked():
    listed = subprocess.run(['git', '-C', ROOT, 'ls-files', '-s'], stdout=subprocess.PIPE,
                            universal_newlines=True, check=True).stdout
    links = [line.split('\t', 1)[1] for line in listed.splitlines() if line.startswith('120000 ')]
    assert links == []
