# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether the libvirt objects a machine's domain stands on are in place: the pool, the volumes and
the DHCP reservations its record lists (``metadata``), the backing image of each of those volumes,
and the network of each of its interfaces. One read of each over one connection, nothing written.

``up`` reads this before its libvirt steps (its plan): a machine brought up with the settings it has
now, whose objects are all in place, needs only its domain started; the pool, box, disk and network
steps would change nothing. It also tells which networks are the lab's (``lab_networks``): those
``destroy`` removes once unused - never one that was there before the lab.

The record may have been written by another tool: what it names is only looked up by name, and a
name that is not there (or not a text) is an object missing, never an error.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vagrantless.libvirt.plugins.module_utils import (
    leases, metadata, network, pool as pools, volume as volumes, xmltree)
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import lookup
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import libvirt


def _volume_missing(conn, pool, name):
    """Why the record's volume ``name`` is not in place, or None: it is in the pool, and so is its
    backing image (a box's volume), if it has one."""
    vol = volumes.find(pool, name)
    if vol is None:
        return 'volume %s/%s' % (pool.name(), name)
    backing = xmltree.parse(vol.XMLDesc(0)).findtext('backingStore/path')
    if backing and lookup(conn.storageVolLookupByPath, backing, libvirt.VIR_ERR_NO_STORAGE_VOL) is None:
        return 'backing image %s of volume %s/%s' % (backing, pool.name(), name)
    return None


def _network_missing(conn, name, macs):
    """Why network ``name`` is not in place, or None: it is defined, active, and holds a DHCP host
    for each of ``macs`` (the record's reservations on it)."""
    net = network.find(conn, name)
    if net is None:
        return ['network %s' % name]
    if not net.isActive():
        return ['network %s (not active)' % name]
    hosts = network.hosts_by_mac(xmltree.parse(net.XMLDesc(0)))
    return ['reservation %s %s' % (name, mac) for mac in sorted(macs) if mac not in hosts]


def _texts(record, key):
    """The record's ``key`` as a list of texts (anything else there: nothing)."""
    value = record.get(key)
    values = value if isinstance(value, list) else [value] if value is not None else []
    return [item for item in values if isinstance(item, str) and item]


def survey(conn, domain):
    """(the domain's record, what of the objects under it is not in place). The record's list keys
    are lists of texts; each object missing is said as ``<kind> <name>`` (``pool default``,
    ``volume default/web.img``, ``reservation lab0 52:54:00:…``). A domain with no record has
    nothing in place."""
    tree = xmltree.parse(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    record = metadata.from_domain_xml(tree)
    for key in metadata.LIST_KEYS:
        record[key] = _texts(record, key)
    pool_name = record.get('pool')
    if not isinstance(pool_name, str) or not pool_name:
        return record, ['the record of domain %s' % domain.name()]
    found = []
    pool = pools.find(conn, pool_name)
    if pool is None or not pool.isActive():
        found.append('pool %s' % pool_name)
    else:
        found.extend(filter(None, (_volume_missing(conn, pool, name) for name in record['volumes'])))
    reserved = {}
    for entry in record['reservations']:
        name, unused, mac = entry.partition(' ')
        reserved.setdefault(name, set()).add(mac.lower())
    attached = set(iface['network'] for iface in leases.domain_interfaces(tree)
                   if iface['type'] == 'network' and iface['network'])
    for name in sorted(attached | set(reserved)):
        found.extend(_network_missing(conn, name, reserved.get(name, set())))
    return record, found


def lab_networks(conn, candidates):
    """Of ``candidates`` (the networks a lab makes when they are not there), those that are the lab's,
    which ``destroy`` removes once unused. Each is judged by what libvirt shows of it, in this order:
    not defined - the lab's (its up is about to make it); listed by a machine's record - the lab's (an
    up of ours made it); a domain on it - not (another's, or a machine of ours found it there and left
    it out of its record: the judgement stays); a DHCP host in it - the lab's (another run of ours made
    it a moment ago, with its reservation, and has no domain yet); else - not: there before, idle and
    untouched (libvirt's ``default``, a user's own), which ``destroy`` leaves, as vagrant-libvirt leaves
    a network it did not create."""
    listed, attached = set(), set()
    for unused, tree in network.domain_definitions(conn):
        listed.update(_texts(metadata.from_domain_xml(tree), 'networks'))
        attached.update(iface['network'] for iface in leases.domain_interfaces(tree) if iface['network'])
    ours = []
    for name in candidates:
        net = network.find(conn, name)
        if net is None or name in listed:
            ours.append(name)
        elif name not in attached and network.hosts_by_mac(xmltree.parse(net.XMLDesc(0))):
            ours.append(name)
    return ours
