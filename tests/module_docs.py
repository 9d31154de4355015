# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write (or, with --check, compare) the ``options`` of a module's DOCUMENTATION from the
declaration of its options (plugins/module_utils/options.py): the documentation is one more
thing derived from it, like the argument spec. `make units` runs the check, so an option
declared without its documentation written fails the suite.

DOCUMENTATION must stay a literal in the module's file (ansible-doc and ansible-test read it
without importing the module), hence a written block rather than one made at import time.

    PYTHONPATH=.collections python tests/module_docs.py [--check]
"""

import os
import re
import sys

import yaml

import generated  # pylint: disable=import-error

from ansible_collections.vagrantless.libvirt.plugins.module_utils import domain_options

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# module file -> (the declaration's file, its options)
MODULES = {
    'plugins/modules/libvirt_domain.py': ('plugins/module_utils/domain_options.py', domain_options.OPTIONS),
}
NOTE = '# options: written from %s by `make generated`: edit them there\n'
# the block written: the note (once written) and the options, up to the next top-level key
BLOCK = re.compile(r'^(# options: written [^\n]*\n)?options:\n(?:[ #][^\n]*\n|\n)*', re.M)


class Flow(list):
    """A list written on one line, as choices are in hand-written documentation."""


class IndentedDumper(yaml.SafeDumper):  # pylint: disable=too-many-ancestors
    """Lists indented under their key, as yamllint wants them."""

    def increase_indent(self, flow=False, indentless=False):
        return super(IndentedDumper, self).increase_indent(flow, False)


IndentedDumper.add_representer(Flow, lambda dumper, data: dumper.represent_sequence(
    'tag:yaml.org,2002:seq', data, flow_style=True))


def _compact(entry):
    """One paragraph written as a string, as the hand-written documentation of the other modules does."""
    entry = dict(entry)
    if len(entry['description']) == 1:
        entry['description'] = entry['description'][0]
    if 'choices' in entry:
        entry['choices'] = Flow(entry['choices'])
    if 'suboptions' in entry:
        entry['suboptions'] = dict((name, _compact(sub)) for name, sub in entry['suboptions'].items())
    return entry


def render(source, options):
    """The block of DOCUMENTATION that holds the options."""
    documented = dict((name, _compact(entry)) for name, entry in options.documentation().items())
    return NOTE % source + yaml.dump(dict(options=documented), Dumper=IndentedDumper, sort_keys=False, width=100,
                                     default_flow_style=False, allow_unicode=True)


def written(text, block):
    """The module's text with its DOCUMENTATION options replaced by ``block``."""
    start = text.index("DOCUMENTATION = r'''")
    end = text.index("'''", start + len("DOCUMENTATION = r'''"))
    documentation = text[start:end]
    found = BLOCK.search(documentation)
    if found is None:
        raise SystemExit('no options: block in the DOCUMENTATION')
    return text[:start] + documentation[:found.start()] + block + documentation[found.end():] + text[end:]


def main():
    texts = {}
    for module, (source, options) in MODULES.items():
        path = os.path.join(ROOT, module)
        with open(path) as handle:
            texts[path] = written(handle.read(), render(source, options))
    return generated.refresh(__doc__, texts, 'make generated')


if __name__ == '__main__':
    sys.exit(main())
