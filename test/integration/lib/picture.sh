# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# Pictures of a namespace: everything the hook must leave as it was (links,
# addresses, routes, rules, neighbours, sysctls, offloads), normalized, so
# that two of them, before and after, can be compared.

ti_lib_needs core netns

# ti_dump NS [MODE] [PORTS...]: a normalized picture of a netns on stdout.
# MODE strict: everything but counters.  pulled: also masks what a new veth
# cannot keep - its own ifindex, and its peer's index and netns id (the peer
# index is checked separately).  kind: like pulled, and for the named PORTS
# also what belongs to the link kind (used when a macvlan becomes a veth).
# Addresses are kept in the kernel's order (it decides the primary IPv4
# address and is what `ip addr` shows).
# Finite address lifetimes and route expiries count down: they are shown as
# "remaining + seconds since the test started" rounded to 100 s, a constant
# for a lifetime set at the start of the test and carried over; bridge
# timers (gc_timer, forward_delay_timer, ...) are left out.
ti_dump() {
	local ns=$1 mode=${2:-strict}
	shift $(($# >= 2 ? 2 : $#))
	local ports
	ports=$(printf '%s\n' "$@" | jq -Rsc 'split("\n") | map(select(. != ""))')
	ti_wait_dad "$ns"
	local el=$(($(date +%s) - TI_T0))
	echo "## links"
	ip -n "$ns" -d -j link show | jq -S --arg mode "$mode" --argjson ports "$ports" '
		[ .[] | del(.stats, .stats64)
		  | walk(if type == "object" then with_entries(select(.key | endswith("_timer") | not)) else . end)
		  | if $mode != "strict" then del(.ifindex, .link_index, .link_netnsid, .link) else . end
		  | if $mode == "kind" and (.ifname as $n | $ports | index($n)) then
		      del(.linkinfo, .num_tx_queues, .num_rx_queues, .max_mtu, .min_mtu,
		          .tso_max_size, .tso_max_segs, .gso_max_size, .gso_max_segs,
		          .gro_max_size, .gso_ipv4_max_size, .gro_ipv4_max_size)
		    else . end
		] | sort_by(.ifname)'
	echo "## addresses"
	ip -n "$ns" -j addr show | jq -S --argjson el "$el" '
		def r: if . == 4294967295 then . else (((. + $el) / 100) | round) * 100 end;
		[ .[] | {ifname, addr_info: ([.addr_info[]
		      | .valid_life_time |= r | .preferred_life_time |= r])} ]
		  | sort_by(.ifname)'
	echo "## routes"
	{
		ip -n "$ns" -d -4 route show table all
		ip -n "$ns" -d -6 route show table all
	} | awk -v el="$el" '{ for (i = 1; i < NF; i++) if ($i == "expires") { v = $(i + 1); sub(/sec$/, "", v); $(i + 1) = int((v + el + 50) / 100) * 100 "s~" } print }' | sort
	echo "## rules"
	ip -n "$ns" -4 rule show
	ip -n "$ns" -6 rule show
	echo "## permanent neighbours"
	{
		ip -n "$ns" -4 neigh show nud permanent
		ip -n "$ns" -6 neigh show nud permanent
	} | sort
	# per-device sysctls and offload features, one process for all devices
	local devs noeth=
	devs=$(ip -n "$ns" -j link show | jq -r '.[].ifname | select(. != "lo")' | sort)
	[ "$mode" = kind ] && noeth=" $* "
	# shellcheck disable=SC2086
	NOETH=$noeth ip netns exec "$ns" bash -c '
		for dev in "$@"; do
			echo "## sysctls $dev"
			for d in /proc/sys/net/ipv4/conf/$dev /proc/sys/net/ipv6/conf/$dev; do
				[ -d "$d" ] || continue
				for f in "$d"/*; do
					case $f in */stable_secret) continue ;; esac
					IFS= read -r v <"$f" 2>/dev/null || v="<unreadable>"
					printf "%s=%s\n" "${f#/proc/sys/net/}" "$v"
				done
			done
			case $NOETH in *" $dev "*) continue ;; esac
			echo "## ethtool -k $dev"
			ethtool -k "$dev" 2>&1 | sed 1d
		done' _ $devs
}

# ti_dump_to FILE NS [MODE] [PORTS...]
ti_dump_to() {
	local f=$1
	shift
	ti_dump "$@" >"$f"
}

# ti_assert_same A B WHAT: two dump files are equal, else diff -u and fail.
ti_assert_same() {
	if ! diff -u "$1" "$2" >"$TI_TMP/diff.txt"; then
		cat "$TI_TMP/diff.txt" >&2
		ti_fail "$3: pictures differ (diff above: - expected, + actual)"
	fi
}
