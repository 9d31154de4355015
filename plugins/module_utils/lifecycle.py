# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vagrantless developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The life-cycle steps several managers take on libvirt objects (domains, networks,
pools): a domain's run state, starting or resuming it, and stopping then undefining
an object - each tolerating another run that took the same step meanwhile where
the caller asks for it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import time

from ansible_collections.vagrantless.libvirt.plugins.module_utils.connection import libvirt

REMOVE_TRIES = 5
RETRY_PAUSE = 0.02  # seconds before the second try, doubled for each further one


def run_state(domain):
    """running, paused, saved (managed save), stopped, or None for no domain."""
    if domain is None:
        return None
    state = domain.state()[0]
    if state == libvirt.VIR_DOMAIN_RUNNING or state == libvirt.VIR_DOMAIN_BLOCKED:
        return 'running'
    if state in (libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PMSUSPENDED):
        return 'paused'
    if domain.hasManagedSaveImage(0):
        return 'saved'
    return 'stopped'


def start(domain):
    """Start (restoring a managed save image when there is one); started meanwhile by another
    run is started all the same."""
    try:
        domain.create()
    except libvirt.libvirtError as error:
        if error.get_error_code() != libvirt.VIR_ERR_OPERATION_INVALID or not domain.isActive():
            raise


def start_or_resume(domain, state):
    """Bring a domain in run state ``state`` (stopped, saved or paused) to running: started
    (see ``start``), then resumed when it is paused (paused before, or saved while paused)."""
    if state in ('stopped', 'saved'):
        start(domain)
    if run_state(domain) == 'paused':
        domain.resume()


def destroy_and_undefine(obj, undefine=None):
    """Stop ``obj`` (a domain, network or pool) when it runs, then undefine it, with
    ``undefine`` (a function of no argument) when its undefinition needs flags."""
    if obj.isActive():
        obj.destroy()
    if undefine is None:
        obj.undefine()
    else:
        undefine()


def remove_racing(obj, find_again, tries=REMOVE_TRIES, undefine_flags=None):
    """``destroy_and_undefine`` (with ``undefine_flags``, a domain's, when given), for an object
    another run may stop or remove meanwhile (libvirt then says so in several ways, down to a
    config file gone): after a failure ``find_again()`` looks it up anew; gone is removed, else
    the removal is tried again after a short pause (libvirt deletes an undefined object's config
    file before it forgets the object, so a removal halfway through is still found)."""
    for attempt in range(tries):
        try:
            destroy_and_undefine(obj, None if undefine_flags is None else functools.partial(obj.undefineFlags, undefine_flags))
            return
        except libvirt.libvirtError:
            obj = find_again()
            if obj is None:
                return
            if attempt == tries - 1:
                raise
            time.sleep(RETRY_PAUSE * 2 ** attempt)  # the other run may be halfway through its removal


def undo(obj):
    """After a failure halfway: remove the object this run made, if it can (the failure that
    brought us here is the one to report)."""
    try:
        destroy_and_undefine(obj)
    except libvirt.libvirtError:
        pass
