# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 17's limits, kept: no file of plugins/ holds more than 500 lines of logic and no class
more than 300 (lines that are neither blank nor comments, outside docstrings and the
DOCUMENTATION, EXAMPLES and RETURN strings). Split a file that grows past them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import glob
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILE_LIMIT = 500
CLASS_LIMIT = 300
DOC_STRINGS = ('DOCUMENTATION', 'EXAMPLES', 'RETURN')


def logic_lines(source):
    """The numbers of the lines of logic of ``source``, and its syntax tree."""
    tree = ast.parse(source)
    text = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            text.update(range(node.lineno, node.end_lineno + 1))
        elif isinstance(node, ast.Assign) and any(getattr(target, 'id', '') in DOC_STRINGS for target in node.targets):
            text.update(range(node.lineno, node.end_lineno + 1))
    lines = [number for number, line in enumerate(source.splitlines(), 1)
             if line.strip() and not line.strip().startswith('#') and number not in text]
    return lines, tree


def test_logic_lines_are_counted_without_docs_and_comments():
    lines, _tree = logic_lines('"""doc"""\n\n# comment\nDOCUMENTATION = """\nx\n"""\nx = 1\n')
    assert lines == [7]


def test_no_plugin_file_or_class_is_too_big():
    too_big = []
    for path in sorted(glob.glob(os.path.join(ROOT, 'plugins', '*', '*.py'))):
        with open(path) as handle:
            lines, tree = logic_lines(handle.read())
        name = os.path.relpath(path, ROOT)
        if len(lines) > FILE_LIMIT:
            too_big.append('%s: %d lines of logic (at most %d)' % (name, len(lines), FILE_LIMIT))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                size = len([number for number in lines if node.lineno <= number <= node.end_lineno])
                if size > CLASS_LIMIT:
                    too_big.append('%s: class %s has %d lines of logic (at most %d)'
                                   % (name, node.name, size, CLASS_LIMIT))
    assert not too_big, '; '.join(too_big)
