# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the generators of the tree share (tests/argument_specs.py, tests/module_docs.py): write
each generated file whose text changed, or with --check only name the stale ones."""

import argparse
import os


def refresh(description, texts, hint):
    """``texts``: {path: text it should hold}. Returns the exit status."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--check', action='store_true', help='compare, write nothing')
    args = parser.parse_args()
    stale = []
    for path, text in sorted(texts.items()):
        current = None
        if os.path.exists(path):
            with open(path) as handle:
                current = handle.read()
        if current != text:
            stale.append(path)
            if not args.check:
                with open(path, 'w') as handle:
                    handle.write(text)
    if args.check and stale:
        print('stale (run %s): %s' % (hint, ', '.join(stale)))
        return 1
    return 0
