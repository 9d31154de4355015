# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What up's plan reads (machine_objects.survey) on libvirt's test driver: a record whose objects
are all there has nothing missing; each one taken away is named; a record another tool wrote, with
names that are not there, wrong types or nonsense, is objects missing, never a crash."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import libvirt
import pytest

from ansible_collections.vagrantless.libvirt.plugins.module_utils import machine_objects, metadata, xmltree

MAC = '52:54:00:0f:00:01'


def record(**values):
    return xmltree.to_xml(metadata.encode(values))


@pytest.fixture
def conn():
    connection = libvirt.open('test:///default')
    yield connection
    connection.close()


@pytest.fixture
def define(conn):
    """Defines a stopped domain on network ``default`` with a record (XML text); undefined after."""
    made = []

    def make(record_xml):
        tree = xmltree.parse("<domain type='test'><name>mo-web</name><memory>65536</memory><os><type>hvm</type></os>"
                             "<devices><interface type='network'><mac address='%s'/><source network='default'/>"
                             "</interface></devices><metadata/></domain>" % MAC)
        tree.find('metadata').append(xmltree.parse(record_xml))
        made.append(conn.defineXML(xmltree.to_xml(tree)))
        return made[-1]
    yield make
    for domain in made:
        if domain.name() in conn.listDefinedDomains():
            domain.undefine()


@pytest.fixture
def reserve(conn):
    """Reserves an address for the domain's MAC on network ``default``; released after."""
    net = conn.networkLookupByName('default')
    host = "<host mac='%s' ip='192.168.122.50'/>" % MAC
    net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST, libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, host, 0)
    yield
    net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE, libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, host, 0)


@pytest.fixture
def pool(conn):
    found = conn.storagePoolLookupByName('default-pool')
    vol = found.createXML("<volume><name>mo-web.img</name><capacity>1048576</capacity></volume>", 0)
    yield found
    vol.delete(0)


def test_everything_in_place_has_nothing_missing(conn, pool, define, reserve):
    domain = define(record(pool='default-pool', volumes=['mo-web.img'], reservations=['default ' + MAC.upper()]))
    found, missing = machine_objects.survey(conn, domain)
    assert missing == []
    assert found['volumes'] == ['mo-web.img'] and found['reservations'] == ['default ' + MAC.upper()]
    assert found['networks'] == []  # a list key absent is an empty list


def test_each_object_taken_away_is_named(conn, pool, define):
    domain = define(record(pool='default-pool', volumes=['mo-web.img', 'mo-web-vdb.qcow2'],
                           reservations=['default ' + MAC, 'mo-gone ' + MAC]))
    unused, missing = machine_objects.survey(conn, domain)
    assert missing == ['volume default-pool/mo-web-vdb.qcow2', 'reservation default %s' % MAC,
                       'network mo-gone']
    conn.networkLookupByName('default').destroy()
    try:
        unused, missing = machine_objects.survey(conn, domain)
    finally:
        conn.networkLookupByName('default').create()
    assert 'network default (not active)' in missing
    pool.destroy()
    try:
        unused, missing = machine_objects.survey(conn, domain)
    finally:
        pool.create(0)
    assert missing[0] == 'pool default-pool'  # its volumes are not looked at


@pytest.mark.parametrize('hostile', [
    '<vagrantless:machine xmlns:vagrantless="%s"/>' % metadata.NAMESPACE,  # no pool
    record(pool=['default-pool', 'other']),  # a list where a text belongs
    record(pool='../../../etc', volumes=['../../etc/passwd', 'x' * 300]),
    record(pool='default-pool', volumes=['/etc/passwd', ''], reservations=['no-space-here', ' ', 'a b c']),
])
def test_a_record_another_tool_wrote_is_objects_missing_never_a_crash(conn, pool, define, hostile):
    domain = define(hostile)
    unused, missing = machine_objects.survey(conn, domain)
    assert missing and all(isinstance(item, str) for item in missing)


def test_a_domain_with_no_record_has_nothing_in_place(conn):
    domain = conn.defineXML("<domain type='test'><name>mo-bare</name><memory>65536</memory>"
                            "<os><type>hvm</type></os></domain>")
    try:
        found, missing = machine_objects.survey(conn, domain)
    finally:
        domain.undefine()
    assert missing == ['the record of domain mo-bare'] and found['volumes'] == []


def test_the_labs_networks_are_judged_once_by_what_libvirt_shows(conn, define):
    idle = conn.networkCreateXML("<network><name>mo-idle</name><ip address='10.9.8.1' netmask='255.255.255.0'>"
                                 "<dhcp><range start='10.9.8.2' end='10.9.8.9'/></dhcp></ip></network>")
    try:
        # not there: up makes it; there before, idle and untouched: a user's own
        assert machine_objects.lab_networks(conn, ['mo-later', 'mo-idle']) == ['mo-later']
        # a run of ours just made it, with its reservation, and has no domain yet
        idle.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST, libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1,
                    "<host mac='%s' ip='10.9.8.5'/>" % MAC, 0)
        assert machine_objects.lab_networks(conn, ['mo-idle']) == ['mo-idle']
        # a machine's record lists it
        listed = define(record(pool='default-pool', networks=['other', 'mo-idle']))
        assert machine_objects.lab_networks(conn, ['mo-idle']) == ['mo-idle']
        listed.undefine()
    finally:
        idle.destroy()
    # a domain on it whose record does not list it (the test driver's own domain is on its network
    # default; a machine of ours that found it there): not the lab's, whatever reservations it holds
    assert machine_objects.lab_networks(conn, ['default']) == []
