# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt_domain's options are declared once (domain_options) and everything else is derived
from the declaration: the argument spec, the module's DOCUMENTATION, the definition's option
names and a new domain's defaults, the machine settings and what the up role hands the module."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import subprocess
import sys

import pytest
import yaml

from ansible_collections.vagrantless.libvirt.plugins.module_utils import domain_options, domain_xml, machine, machine_options
from ansible_collections.vagrantless.libvirt.plugins.module_utils.options import Option, Options

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
OPTIONS = domain_options.OPTIONS
# what the up role derives itself, or passes on a line of its own (the machine gives no libvirt_<option>)
ROLE_DERIVED = ('name', 'state', 'disks', 'cdroms', 'interfaces', 'metadata', 'restart', 'remove_volumes',
                'remove_reservations', 'remove_networks', 'graceful_timeout', 'only_existing', 'shutdown_mode')


def _module_documentation(path):
    """A module's DOCUMENTATION as ansible-doc reads it: a literal of the file, never imported."""
    with open(os.path.join(ROOT, path)) as handle:
        text = handle.read()
    return yaml.safe_load(re.search(r"DOCUMENTATION = r'''(.*?)'''", text, re.S).group(1))


def _listed(description):
    return description if isinstance(description, list) else [description]


def _agree(spec, docs, where):
    """Type, elements, default, choices and required of every option and suboption, both ways."""
    assert sorted(spec) == sorted(docs), where
    for name, entry in spec.items():
        doc = docs[name]
        here = '%s%s' % (where, name)
        assert doc['type'] == entry['type'], here
        assert doc.get('elements') == entry.get('elements'), here
        assert doc.get('default') == entry.get('default'), here
        assert doc.get('choices') == entry.get('choices'), here
        assert bool(doc.get('required')) == bool(entry.get('required')), here
        assert _listed(doc['description']) and all(_listed(doc['description'])), here
        assert ('options' in entry) == ('suboptions' in doc), here
        if 'options' in entry:
            _agree(entry['options'], doc['suboptions'], here + '.')


def test_module_documentation_agrees_with_the_declaration_exactly():
    """What the module documents is what it takes (type, default, choices, required, suboptions)."""
    documented = _module_documentation('plugins/modules/libvirt_domain.py')['options']
    _agree(domain_options.argument_spec(), documented, '')
    assert list(documented) == [option.name for option in OPTIONS]  # in the declaration's order
    for name, entry in OPTIONS.documentation().items():
        assert _listed(documented[name]['description']) == entry['description'], name


def test_module_documentation_is_current():
    """The DOCUMENTATION options block is written from the declaration: never stale, never edited by hand."""
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, '.collections'))
    proc = subprocess.run([sys.executable, os.path.join(ROOT, 'tests', 'module_docs.py'), '--check'], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert proc.returncode == 0, proc.stdout


def test_a_new_domain_default_is_documented_as_one():
    documented = _module_documentation('plugins/modules/libvirt_domain.py')['options']
    for name, value in domain_options.NEW_DOMAIN_DEFAULTS.items():
        assert any(line.startswith('Default C(') and 'for a new domain' in line
                   for line in _listed(documented[name]['description'])), name
    assert domain_options.NEW_DOMAIN_DEFAULTS['memory'] == 512
    assert domain_options.NEW_DOMAIN_DEFAULTS['features'] == ['acpi', 'apic', 'pae']


def test_the_definition_lists_come_from_the_declaration():
    assert domain_xml.DEFINITION_OPTIONS == OPTIONS.definition()
    assert domain_xml.DEFAULTS == OPTIONS.new_defaults()
    assert 'nvram_template' in domain_xml.DEFINITION_OPTIONS  # it had drifted out of the hand-kept list
    life_cycle = ('name', 'state', 'cdroms', 'autostart', 'shutdown_mode', 'graceful_timeout', 'restart',
                  'remove_volumes', 'remove_reservations', 'remove_networks', 'only_existing')
    assert sorted(set(OPTIONS.argument_spec()) - set(OPTIONS.definition())) == sorted(life_cycle)
    for part, names in domain_options.parts().items():
        assert names and set(names) <= set(OPTIONS.definition()), part
    assert set(domain_options.NEW_DOMAIN_DEFAULTS) <= set(OPTIONS.definition())


# a value for each option that builds a shared part of the definition
PART_VALUES = dict(memory=1024, cpus=2, machine_type='pc', machine_arch='x86_64', loader='/usr/share/OVMF/code.fd',
                   kernel='/boot/vmlinuz', initrd='/boot/initrd.img', cmd_line='console=ttyS0', boot=['hd'],
                   nvram='/var/lib/libvirt/qemu/nvram/web.fd', dtb='/boot/board.dtb', features=['acpi'],
                   kvm_hidden=True, hyperv_features=[dict(name='relaxed')], secure_boot=True,
                   cputopology=dict(sockets=1, cores=1, threads=1), nested=True, cpu_mode='host-model',
                   cpu_model='qemu64', numa_nodes=[dict(cpus='0', memory=512)], cpu_features=[dict(name='vmx')],
                   graphics_type='vnc', graphics_ip='127.0.0.1', graphics_port=5901, graphics_autoport=False,
                   graphics_passwd='secret', keymap='de', video_type='vga', video_vram=16384)
PART_TAGS = dict(memory='memory', vcpu='vcpu', os='os', features='features', cpu='cpu', graphics='devices/graphics',
                 video='devices/video')


def test_an_existing_domain_gets_a_part_only_when_one_of_its_options_is_given():
    def built(**params):
        params.update(name='lab_web', driver='kvm')
        return domain_xml.DomainSpec(params).desired([], new=False)
    assert sorted(PART_TAGS) == sorted(domain_options.PARTS)
    assert all(built().find(tag) is None for tag in PART_TAGS.values())
    for part, names in domain_options.parts().items():
        for name in names:
            assert built(**{name: PART_VALUES[name]}).find(PART_TAGS[part]) is not None, (part, name)
    assert built(cpu_fallback='forbid').find('cpu') is None  # in no part: a detail of a custom CPU
    assert built(nvram_template='/var/lib/libvirt/qemu/nvram/vars.fd').find('os') is None


def test_the_machine_settings_come_from_the_declaration():
    spec = machine_options.argument_spec()
    settings = OPTIONS.settings()
    for variable, option in settings.items():
        assert variable == 'libvirt_' + option.name
        expected = option.argument_spec()
        expected.pop('default', None)  # libvirt_domain applies a new domain's defaults itself
        assert spec[variable] == expected, variable
    assert sorted(option.name for option in OPTIONS if option.setting is None) == sorted(ROLE_DERIVED)
    assert spec['libvirt_shutdown_mode'] == machine_options.LAB_OPTIONS['libvirt_shutdown_mode']
    assert 'libvirt_graphics_passwd' in settings and spec['libvirt_graphics_passwd']['no_log'] is True


def test_the_machine_hands_its_domain_options_but_never_a_secret():
    config = machine.Machine('web', dict(inventory_dir='/srv/labs/shop', vm_box='tiny', libvirt_memory=2048,
                                         libvirt_keymap='de', libvirt_graphics_passwd='s3cret',
                                         libvirt_channels=[dict(target_name='org.example.0')])).config()
    domain = config['domain']
    assert domain['memory'] == 2048 and domain['keymap'] == 'de'
    assert domain['channels'] == [dict(type='unix', target_type='virtio', target_name='org.example.0',
                                       target_address=None, target_port=None, source_path=None)]
    assert 'graphics_passwd' not in domain and 's3cret' not in repr(config)
    assert set(domain) <= set(OPTIONS.argument_spec())


def _up_domain_task():
    with open(os.path.join(ROOT, 'roles', 'up', 'tasks', 'libvirt.yml')) as handle:
        tasks = yaml.safe_load(handle)
    found = [task for block in tasks for task in block.get('block', [block])
             if 'vagrantless.libvirt.libvirt_domain' in task and not task.get('check_mode')]
    assert len(found) == 1
    return found[0]


def test_the_up_role_hands_the_machine_domain_options_as_module_defaults():
    """No line per option: the machine's options come in as module_defaults, and the task's own
    lines are options the machine never sets (a task line would silently win over a setting)."""
    task = _up_domain_task()
    assert task['module_defaults'] == {'vagrantless.libvirt.libvirt_domain': '{{ vagrantless_machine.domain }}'}
    args = task['vagrantless.libvirt.libvirt_domain']
    in_fact = set(option.name for option in OPTIONS.settings().values() if not option.no_log)
    assert not set(args) & in_fact, set(args) & in_fact
    assert set(args) <= set(OPTIONS.argument_spec())
    assert len(args) < 10


def test_a_new_option_is_derived_everywhere():
    """What adding one declaration gives: spec, documentation, definition, default, part and setting."""
    options = Options(
        Option('memory', 'int', 'Memory in MiB.', new_default=512, definition=True, setting='libvirt_memory',
               part='memory'),
        Option('foo', 'list', 'The foos.', elements='dict', new_default=[], definition=True, setting='libvirt_foo',
               part='os', suboptions=[Option('bar', 'str', 'A bar.', required=True, choices=['a', 'b'])]),
        Option('state', 'str', 'Where it should be.', default='present', choices=['present', 'absent']),
        resource='domain')
    assert options.argument_spec()['foo'] == dict(type='list', elements='dict', options=dict(
        bar=dict(type='str', required=True, choices=['a', 'b'])))
    assert options.documentation()['foo']['description'] == [
        'The foos.', 'Default C([]) for a new domain; an existing domain keeps its own unless this is given.']
    assert options.documentation()['foo']['suboptions']['bar'] == dict(
        description=['A bar.'], type='str', required=True, choices=['a', 'b'])
    assert options.definition() == ('memory', 'foo')
    assert options.new_defaults() == dict(memory=512, foo=[])
    assert options.part('os') == ('foo',)
    assert sorted(options.settings()) == ['libvirt_foo', 'libvirt_memory']
    assert options['foo'].argument_spec(with_default=False) == options.argument_spec()['foo']
    assert options['state'].argument_spec(with_default=False) == dict(type='str', choices=['present', 'absent'])


def test_the_spec_is_a_fresh_copy_each_time():
    first = domain_options.argument_spec()
    first['disks']['options']['pool']['default'] = 'changed'
    first['usbs']['required_together'].append(('x', 'y'))
    assert domain_options.argument_spec()['disks']['options']['pool']['default'] == 'default'
    assert ('x', 'y') not in domain_options.argument_spec()['usbs']['required_together']
    defaults = OPTIONS.new_defaults()
    defaults['features'].append('hap')
    assert OPTIONS.new_defaults()['features'] == ['acpi', 'apic', 'pae']


@pytest.mark.parametrize('make, error', [
    (lambda: Options(Option('a', 'str', 'A.'), Option('a', 'int', 'A again.')), ValueError),
    (lambda: Option('a', 'str', 'A.', suboptions=[Option('b', 'str', 'B.')]), ValueError),
    (lambda: Option('a', 'list', 'A.', elements='dict', required_togther=[('b', 'c')]), TypeError),
    (lambda: Options(Option('a', 'str', 'A.'), resorce='domain'), TypeError),
])
def test_a_wrong_declaration_is_refused_when_loaded(make, error):
    with pytest.raises(error):
        make()
