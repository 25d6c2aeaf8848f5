#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A container on a routed host end, as Calico wires one: no bridge; the
# host's veth end has its own MAC (ee:ee:ee:ee:ee:ee), answers ARP for the
# container's gateway 169.254.1.1 (here a host address; Calico's proxy ARP
# answers the same way) and routes the container's
# /32 and /128 to itself; the container's IPv6 gateway is the host end's
# link-local address.  Frames from the container are for the host end's
# MAC, not for the container's, so the host end must take them as its own:
# this is where forwarding straight into the far end of the exPort
# (bpf_redirect_peer, see lib/dpath/dpath_bpf.c) could lose them.  In pass, tap
# and, with bpf, fwd (dp_down open, no data plane; tc-pedit cannot see a
# data plane's heartbeat and drops fwd traffic without one), backend
# TI_DPATH_BACKEND:
# - the ports forward the way this kernel calls for (bpf: direct from 6.15),
#   and keep it across mode changes; an entry written without the flag (as
#   by an earlier build) keeps none;
# - ping both ways, IPv4 and IPv6, and a TCP exchange each way;
# - the container's and the host end's receive counters see the traffic;
# and after poststop nothing is left in the enforcer.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/traffic.sh"
. "$(dirname "$0")/lib/dpath.sh"
ti_dpath_init
T=$TI_TMP

H="$TI_NS_PREFIX-rhost"
NS="$TI_NS_PREFIX-rctr"
ti_netns_add "$H"
ti_netns_add "$NS"
CTR_NS[r]=$NS
CTR_PIDS[r]=
NET4="10.$TI_A.9"
HOST4="$NET4.1" CTR4="$NET4.11"
HOST6="$TI_V6:9::1" CTR6="$TI_V6:9::11"
HOSTLL=fe80::ecee:eeff:feee:eeee

ip netns exec "$H" sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
	net.ipv6.conf.default.accept_dad=0
ip -n "$H" link add r1 address ee:ee:ee:ee:ee:ee type veth peer name eth0 netns "$NS"
ip -n "$H" addr add "$HOST4/32" dev lo
ip -n "$H" addr add 169.254.1.1/32 dev lo
ip -n "$H" addr add "$HOST6/128" dev lo
ip -n "$H" link set r1 up
ip -n "$H" route add "$CTR4/32" dev r1
ip -n "$H" -6 route add "$CTR6/128" dev r1

ip netns exec "$NS" sysctl -q -w net.ipv6.conf.eth0.accept_dad=0
ip -n "$NS" link set eth0 up
ip -n "$NS" addr add "$CTR4/32" dev eth0
ip -n "$NS" addr add "$CTR6/128" dev eth0 nodad
ip -n "$NS" route add 169.254.1.1 dev eth0 scope link
ip -n "$NS" route add default via 169.254.1.1 dev eth0
ip -n "$NS" -6 route add default via "$HOSTLL" dev eth0

# the host end's link-local address may take a moment
ti_wait_until 5 ip netns exec "$NS" ping -n -q -c 1 -w 1 "$HOST6" >/dev/null 2>&1 ||
	ti_fail "the routed container does not reach $HOST6 before any pull"
ti_ping "$NS" "$HOST4"

ti_bundle r
ti_ctr_start r
P=$TI_LAST_PID
ID=$(ti_cid routed)
ti_dpath_config pass

ti_log "prestart, mode pass, backend $(ti_dpath_backend)"
ti_prestart r "$ID"
ti_dpath_require_backend "prestart"
if [ "$(ti_dpath_backend)" = bpf ]; then
	WANT=xmit
	ti_kernel_redirects_peer_well && WANT=direct
	ti_log "forwarding to the peer port: $WANT ($(uname -r))"
	ti_assert_eq "$WANT" "$(ti_bpf_port_to_peer "vin$P-0")" "inPort -> exPort forwarding"
	ti_assert_eq "$WANT" "$(ti_bpf_port_to_peer "vex$P-0")" "exPort -> inPort forwarding"
fi

rx_bytes() { ip -n "$1" -s -j link show dev "$2" | jq '.[0].stats64.rx.bytes'; }
MODES="pass tap"
[ "$(ti_dpath_backend)" = bpf ] && MODES="$MODES fwd"
n=0
for mode in $MODES; do
	[ "$mode" = pass ] || ti_dpath_mode r "$ID" "$mode"
	ti_log "mode $mode: ping and TCP both ways"
	RXC=$(rx_bytes "$NS" eth0) RXH=$(rx_bytes "$H" r1)
	ti_ping "$NS" "$HOST4"
	ti_ping "$NS" "$HOST6"
	ti_ping "$H" "$CTR4"
	ti_ping "$H" "$CTR6"
	n=$((n + 1))
	ti_tcp "$H" "$HOST4" "$NS" $((5300 + n))
	ti_tcp "$NS" "$CTR6" "$H" $((5310 + n))
	RXC=$(($(rx_bytes "$NS" eth0) - RXC)) RXH=$(($(rx_bytes "$H" r1) - RXH))
	ti_log "mode $mode: received ${RXC} bytes in the container, ${RXH} on the host end"
	# each TCP exchange moves 1 MB each way
	[ "$RXC" -ge 2000000 ] && [ "$RXH" -ge 2000000 ] ||
		ti_fail "mode $mode: receive counters missed traffic: container $RXC, host end $RXH bytes"
done

if [ "$(ti_dpath_backend)" = bpf ]; then
	ti_assert_eq "$WANT" "$(ti_bpf_port_to_peer "vin$P-0")" "inPort forwarding after mode changes"
	ti_assert_eq "$WANT" "$(ti_bpf_port_to_peer "vex$P-0")" "exPort forwarding after mode changes"
	# a port attached by an earlier build: its program reads the flags'
	# byte as part of side, so a mode change must leave it zero
	for d in "vin$P-0" "vex$P-0"; do
		E=$(ti_bpf_port_entry "$d")
		bpftool map update pinned "$(ti_dpath_pin)/pc_ports" key $(jq -r '.key | join(" ")' <<<"$E") \
			value $(jq -r '.value | .[5] = "0x00" | join(" ")' <<<"$E") ||
			ti_fail "could not rewrite $d's pc_ports entry"
	done
	ti_dpath_mode r "$ID" tap
	ti_assert_eq xmit "$(ti_bpf_port_to_peer "vin$P-0")" "inPort of an earlier build after a mode change"
	ti_assert_eq xmit "$(ti_bpf_port_to_peer "vex$P-0")" "exPort of an earlier build after a mode change"
	ti_ping "$NS" "$HOST4"
	ti_ping "$H" "$CTR6"
fi

ti_log "poststop"
ti_kill "$P"
ti_poststop r "$ID"
ti_expect_rc 0 "poststop"
ti_assert_enf_clean "after poststop"
ti_dpath_assert_released "after poststop"
ti_ping "$NS" "$HOST4"
ti_ping "$NS" "$HOST6"
