# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a machine's destroy does to the networks its record names (domain.py calls it):
its DHCP reservations released, live and persistent, and the networks it made removed
once no other domain uses them - another run removing them meanwhile is no error."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vagrantless.libvirt.plugins.module_utils import xmltree
from ansible_collections.vagrantless.libvirt.plugins.module_utils.common import inactive_xml
from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import libvirt
from ansible_collections.vagrantless.libvirt.plugins.module_utils.network import (
    domains_using, find, remove, sync_live)
from ansible_collections.vagrantless.libvirt.plugins.module_utils.network_xml import _host_xml


def release_reservations(conn, reservations, check_mode):
    """Delete the DHCP hosts ``reservations`` name (each "NETWORK MAC", as a machine's record
    keeps them); a network or a host gone already, or removed meanwhile by another run, is no
    change. Returns those released."""
    released = []
    for item in reservations:
        name, mac = item.split(' ', 1)
        try:
            if _release(conn, name, mac, check_mode):
                released.append(item)
        except libvirt.libvirtError:
            if find(conn, name) is not None:
                raise
    return released


def _release(conn, name, mac, check_mode):
    net = find(conn, name)
    if net is None:
        return False
    hosts = [h for h in xmltree.parse(inactive_xml(net, libvirt.VIR_NETWORK_XML_INACTIVE)).findall('ip/dhcp/host')
             if h.get('mac', '').lower() == mac.lower()]
    if check_mode or not hosts:
        return bool(hosts)
    flags = libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG
    if net.isActive():
        flags |= libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE
    for host in hosts:
        net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE, libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1,
                   _host_xml(host), flags)
    sync_live(net, [mac])
    return True


def remove_unused(conn, names, check_mode, leaving=()):
    """Remove each network of ``names`` that no defined domain uses, ``leaving`` (domains being
    removed) aside; one in use stays, one gone already (or removed meanwhile by another run) is
    no change. Returns those removed."""
    removed = []
    for name in names:
        net = find(conn, name)
        if net is None or [user for user in domains_using(conn, name) if user not in leaving]:
            continue
        if not check_mode:
            remove(conn, name, net)
        removed.append(name)
    return removed
