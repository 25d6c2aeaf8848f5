# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# Namespaces and what is in them: the "host" namespace with bridge br0,
# "container" namespaces with ports into it (CTR_* arrays, by name), sleeps
# inside them as container processes, and reading their links.

ti_lib_needs core

# ---------------------------------------------------------------- topology

ti_netns_add() {
	ip netns add "$1"
	TI_NETNS+=("$1")
	ip -n "$1" link set lo up
}

ti_netns_inode() { stat -L -c %i "/run/netns/$1"; }

# The "host": a netns with bridge br0 and the gateway addresses v4 and v6 of
# the subnets A and B.
ti_host_create() {
	TI_HOST="$TI_NS_PREFIX-host"
	ti_netns_add "$TI_HOST"
	# no IPv6 DAD on the host side: its veths see carrier changes at every
	# pull and release, and DAD is not what these tests are about
	ip netns exec "$TI_HOST" sysctl -q -w net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
	# a fixed MAC: otherwise the bridge takes the lowest of its ports' and
	# changes it when that port goes, and the containers' ARP entries for
	# the gateway go stale
	ip -n "$TI_HOST" link add br0 address "$(printf '02:%02x:00:00:00:01' "$TI_A")" type bridge
	ip -n "$TI_HOST" link set br0 up
	ip -n "$TI_HOST" addr add "$TI_GW4/24" dev br0
	ip -n "$TI_HOST" addr add "$TI_GW4B/24" dev br0
	ip -n "$TI_HOST" addr add "$TI_GW6/64" dev br0 nodad
	ip -n "$TI_HOST" addr add "$TI_GW6B/64" dev br0 nodad
}

declare -A CTR_NS CTR_PIDS CTR_IP4 CTR_IP6 CTR_HOSTIF CTR_HOSTIDX CTR_MAC CTR_BUNDLE

# ti_ctr_create NAME K [second]
# A "container" netns NAME with eth0 (veth, peer hK in br0), K in 1..99.
# IPv4 10.A.1.(10+K)/24 and a secondary 10.A.1.(100+K)/24 with finite
# lifetimes; IPv6 V6:1::(10+K)/64 and one with finite lifetimes; default
# routes v4/v6; a policy-routing table 100 with metric and src hint and its
# rules; an on-link route with a metric; permanent neighbours v4/v6;
# non-default per-device sysctls, MTU and txqueuelen (accept_dad=0 for odd K).
# With "second", a second port eth1 (peer gK in br0) in the subnets B.
# Fixed ifindexes: host peer 100+2K (eth1's: 300+2K), eth0 101+2K (eth1 301+2K),
# so that the host-side peer's index is free in the enforcer netns.
ti_ctr_create() {
	local name=$1 k=$2 second=${3:-}
	local ns="$TI_NS_PREFIX-$name"
	ti_netns_add "$ns"
	CTR_NS[$name]=$ns
	CTR_PIDS[$name]=
	CTR_IP4[$name]="$TI_NET4.$((10 + k))"
	CTR_IP6[$name]="$TI_NET6::$((10 + k))"
	CTR_HOSTIF[$name]="h$k"
	CTR_HOSTIDX[$name]=$((100 + 2 * k))
	CTR_MAC[$name]=$(printf '02:%02x:00:00:01:%02x' "$TI_A" "$k")
	ti_ctr_port "$ns" eth0 "h$k" $((100 + 2 * k)) $((101 + 2 * k)) "${CTR_MAC[$name]}" \
		"$TI_NET4" "$TI_NET6" "$k"
	if [ "$second" = second ]; then
		ti_ctr_port "$ns" eth1 "g$k" $((300 + 2 * k)) $((301 + 2 * k)) \
			"$(printf '02:%02x:00:00:02:%02x' "$TI_A" "$k")" "$TI_NET4B" "$TI_NET6B" "$k"
	fi
	ti_ctr_routes "$ns" "$k"
	ti_bundle "$name"
}

# ti_ctr_port NS DEV HOSTDEV HOSTIDX IDX MAC NET4 NET6 K
ti_ctr_port() {
	local ns=$1 dev=$2 hdev=$3 hidx=$4 idx=$5 mac=$6 n4=$7 n6=$8 k=$9
	ip -n "$TI_HOST" link add "$hdev" index "$hidx" mtu 1480 type veth \
		peer name "$dev" netns "$ns" index "$idx"
	ip -n "$TI_HOST" link set "$hdev" master br0 up
	ip -n "$ns" link set "$dev" address "$mac" mtu 1480 txqueuelen 500
	# DAD off on odd K only: the even ones keep the default, so that the
	# hook's handling of DAD on the new port is seen too
	ip netns exec "$ns" sysctl -q -w \
		"net.ipv6.conf.$dev.accept_dad=$((1 - k % 2))" \
		"net.ipv6.conf.$dev.accept_ra=0" \
		"net.ipv6.conf.$dev.autoconf=0" \
		"net.ipv4.conf.$dev.arp_ignore=1" \
		"net.ipv4.conf.$dev.rp_filter=2"
	ip -n "$ns" link set "$dev" up
	ip -n "$ns" addr add "$n4.$((10 + k))/24" dev "$dev"
	ip -n "$ns" addr add "$n4.$((100 + k))/24" dev "$dev" valid_lft 3600 preferred_lft 1800
	ip -n "$ns" addr add "$n6::$((10 + k))/64" dev "$dev" nodad
	ip -n "$ns" addr add "$n6::$((100 + k))/64" dev "$dev" nodad valid_lft 3600 preferred_lft 1800
	ip -n "$ns" addr add "$n6:0:1:0:$((10 + k))/64" dev "$dev" nodad noprefixroute
	ip -n "$ns" neigh add "$n4.250" lladdr "$(printf '02:00:00:fa:%02x:01' "$k")" dev "$dev" nud permanent
	ip -n "$ns" neigh add "$n6::250" lladdr "$(printf '02:00:00:fa:%02x:02' "$k")" dev "$dev" nud permanent
}

ti_ctr_routes() {
	local ns=$1 k=$2
	ip -n "$ns" route add default via "$TI_GW4" dev eth0
	ip -n "$ns" -6 route add default via "$TI_GW6" dev eth0
	ip -n "$ns" route add "10.$TI_A.200.0/24" via "$TI_GW4" dev eth0 table 100 metric 50 \
		src "$TI_NET4.$((10 + k))"
	ip -n "$ns" -6 route add "$TI_V6:200::/64" via "$TI_GW6" dev eth0 table 100 metric 50 \
		src "$TI_NET6::$((10 + k))"
	ip -n "$ns" route add "10.$TI_A.201.0/24" dev eth0 scope link metric 300
	ip -n "$ns" -6 route add "$TI_V6:201::/64" dev eth0 metric 300
	ip -n "$ns" rule add from "10.$TI_A.9.0/24" lookup 100 pref 1000
	ip -n "$ns" -6 rule add from "$TI_V6:9::/64" lookup 100 pref 1000
}

# A bundle directory whose config.json names the container netns, as runc
# and podman write it.
ti_bundle() {
	local name=$1 b="$TI_TMP/bundle-$1"
	mkdir -p "$b"
	if ti_json_plain "/run/netns/${CTR_NS[$name]}"; then
		printf '{"ociVersion":"1.0.2","linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"network","path":"%s"}]}}\n' \
			"/run/netns/${CTR_NS[$name]}" >"$b/config.json"
	else
		jq -n --arg p "/run/netns/${CTR_NS[$name]}" \
			'{ociVersion: "1.0.2", linux: {namespaces: [{type: "pid"}, {type: "mount"}, {type: "network", path: $p}]}}' \
			>"$b/config.json"
	fi
	CTR_BUNDLE[$name]=$b
}

# ti_ctr_start NAME: a sleep inside the container netns; pid in TI_LAST_PID.
ti_ctr_start() {
	local name=$1 ns=${CTR_NS[$1]} pid ino i
	ip netns exec "$ns" sleep 900 </dev/null >/dev/null 2>&1 &
	pid=$!
	TI_PIDS+=("$pid")
	CTR_PIDS[$name]="${CTR_PIDS[$name]} $pid"
	ino=$(ti_netns_inode "$ns")
	for ((i = 0; i < 200; i++)); do
		[ "$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null)" = "$ino" ] && break
		sleep 0.01
	done
	[ "$(stat -L -c %i "/proc/$pid/ns/net")" = "$ino" ] || ti_fail "sleep $pid did not enter $ns"
	TI_LAST_PID=$pid
}

# ti_pid_start NETNS_NAME: a sleep in any netns (the enforcer, say).
ti_pid_start() {
	ip netns exec "$1" sleep 900 </dev/null >/dev/null 2>&1 &
	TI_PIDS+=("$!")
	TI_LAST_PID=$!
	local i ino
	ino=$(ti_netns_inode "$1")
	for ((i = 0; i < 200; i++)); do
		[ "$(stat -L -c %i "/proc/$TI_LAST_PID/ns/net" 2>/dev/null)" = "$ino" ] && return
		sleep 0.01
	done
	ti_fail "sleep $TI_LAST_PID did not enter $1"
}

# Kill one pid started by ti_*_start (the "container process exits").
ti_kill() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# Kill the processes of a container and delete its netns.
ti_ctr_destroy() {
	local name=$1 pid
	for pid in ${CTR_PIDS[$name]}; do
		ti_kill "$pid"
	done
	ip netns del "${CTR_NS[$name]}"
}

# ---------------------------------------------------------------- links

# Wait (bounded) until no IPv6 address in NS is tentative (DAD running).
ti_wait_dad() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -z "$(ip -n "$1" -6 addr show tentative)" ] && return 0
		sleep 0.05
	done
	ti_log "warning: tentative addresses in $1 after 5s"
}

ti_link_exists() { ip -n "$1" link show dev "$2" >/dev/null 2>&1; }

# Interface names in NS matching an extended regex, one a line, sorted.
ti_links() {
	ip -n "$1" -j link show | jq -r '.[].ifname' | { grep -E "$2" || true; } | sort
}

# JSON of a link in a netns.
ti_link_json() { ip -n "$1" -d -j link show dev "$2" | jq -c '.[0]'; }

# ti_assert_up NS DEV: admin up and carrier.
ti_assert_up() {
	local j
	j=$(ti_link_json "$1" "$2") || ti_fail "$2 missing in $1"
	jq -e '(.flags | index("UP")) and (.flags | index("LOWER_UP"))' <<<"$j" >/dev/null ||
		ti_fail "$2 in $1 is not up with carrier: $(jq -c .flags <<<"$j")"
}

# ti_ifindex NS DEV
ti_ifindex() { ip -n "$1" -j link show dev "$2" | jq -r '.[0].ifindex'; }
