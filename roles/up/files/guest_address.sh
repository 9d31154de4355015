#!/bin/sh
# guest_address.sh [--check] NETWORK...   each NETWORK is MAC,static,ADDRESS,PREFIX or MAC,dhcp
# (MAC in lower case). Each interface with such a MAC configured as Vagrant configures a private
# network in a Linux guest, for this boot and the next ones: in /etc/network/interfaces between
# marks of its own where the guest uses ifupdown, in a systemd-networkd unit where networkd
# runs, else (a static address) for this boot only. Prints "changed" when it changed anything
# (with --check: when it would, changing nothing). POSIX shell only, and few commands: every
# process costs under emulation, so shell builtins do what they can.
set -eu
check=
if [ "${1:-}" = --check ]; then check=1; shift; fi
changed=

# FILE gets CONTENT (a newline added), unless it holds that already; true when it changes
put() {
    if [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; then return 1; fi
    changed=1
    if [ -n "$check" ]; then return 1; fi
    printf '%s\n' "$2" > "$1.vagrantless" && chmod 0644 "$1.vagrantless" && mv "$1.vagrantless" "$1"
}

# CMD..., unless checking
run() { changed=1; if [ -z "$check" ]; then "$@"; fi; }

if [ -e /run/systemd/netif/state ]; then
    manager=networkd
elif [ -f /etc/network/interfaces ] && command -v ifup >/dev/null 2>&1; then
    manager=ifupdown
else
    manager=
fi

configure() {
    mac=$1 method=$2 address=${3:-} prefix=${4:-} dev=
    for path in /sys/class/net/*; do
        read -r found < "$path/address" || continue
        if [ "$found" = "$mac" ]; then dev=${path##*/}; break; fi
    done
    if [ -z "$dev" ]; then echo "no interface of this guest has the MAC $mac" >&2; exit 1; fi

    if [ "$manager" = networkd ]; then
        if [ "$method" = static ]; then setting="Address=$address/$prefix"; else setting=DHCP=ipv4; fi
        unit=/etc/systemd/network/50-vagrantless-$dev.network
        if put "$unit" "$(printf '[Match]\nMACAddress=%s\n\n[Network]\n%s' "$mac" "$setting")"; then
            networkctl reload
        fi
    elif [ "$manager" = ifupdown ]; then
        begin="# vagrantless $mac begin" end="# vagrantless $mac end"
        if [ "$method" = static ]; then stanza="iface $dev inet static
    address $address/$prefix"; else stanza="iface $dev inet dhcp"; fi
        block="$begin
auto $dev
$stanza
$end"
        # the block replaced where it is, else added at the end
        if put /etc/network/interfaces "$(awk -v begin="$begin" -v end="$end" -v block="$block" '
                $0 == begin { skip = 1; print block; done = 1 }
                !skip { print }
                $0 == end { skip = 0 }
                END { if (!done) print block }' /etc/network/interfaces)" && [ "$method" = dhcp ]; then
            ifdown --force "$dev" >/dev/null 2>&1 || true
            ifup "$dev"
        fi
    fi

    if [ "$method" = static ]; then
        case "$(ip -o addr show dev "$dev")" in
            *" $address/$prefix "*) ;;
            *) run ip addr replace "$address/$prefix" dev "$dev" ;;
        esac
        read -r flags < "/sys/class/net/$dev/flags"
        if [ $((flags & 1)) -eq 0 ]; then run ip link set dev "$dev" up; fi
    fi
}

# The blocks of MACs no interface of this guest has, written on the machine whose packaged box
# this one was made from: the address each set at boot (its `iface` names an interface of this
# guest too) taken off, the block removed, as Vagrant rewrites its own blocks on every up.
drop_stale_blocks() {
    macs=' '
    for path in /sys/class/net/*; do
        read -r found < "$path/address" && macs="$macs$found "
    done
    # shellcheck disable=SC2013  # one MAC per line, each a word ([0-9a-f:]+); the loop edits the file it reads
    for mac in $(awk '/^# vagrantless [0-9a-f:]+ begin$/ { print $3 }' /etc/network/interfaces); do
        case "$macs" in *" $mac "*) continue ;; esac
        begin="# vagrantless $mac begin" end="# vagrantless $mac end"
        # shellcheck disable=SC2046  # the block's interface and address, split on purpose
        set -- $(awk -v begin="$begin" -v end="$end" '
            $0 == begin { inside = 1 }
            inside && $1 == "iface" { dev = $2 }
            inside && $1 == "address" { address = $2 }
            $0 == end { if (dev != "" && address != "") print dev, address; exit }' /etc/network/interfaces)
        if [ $# -eq 2 ]; then
            case "$(ip -o addr show dev "$1" 2>/dev/null)" in
                *" $2 "*) run ip addr del "$2" dev "$1" ;;
            esac
        fi
        put /etc/network/interfaces "$(awk -v begin="$begin" -v end="$end" '
            $0 == begin { skip = 1 }
            !skip { print }
            $0 == end { skip = 0 }' /etc/network/interfaces)" || true
    done
}

if [ "$manager" = ifupdown ]; then drop_stale_blocks; fi
for network in "$@"; do
    old_ifs=$IFS; IFS=,
    # shellcheck disable=SC2086  # split on the commas, on purpose
    set -- $network
    IFS=$old_ifs
    configure "$@"
done
if [ -n "$changed" ]; then echo changed; fi
