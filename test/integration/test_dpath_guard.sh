#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The checks at the ports, backend TI_DPATH_BACKEND (bpf here, tc-pedit in
# the QEMU guest), played with frames crafted by pc-frame from c1's
# namespace (a container's CAP_NET_RAW) and from the host; mode fwd with
# pc-reflector as the data plane (it sends every frame back, so whatever
# is stopped here is stopped by the ports), then tap.  pc-sniff watches
# what reaches c2's and c1's eth0 and the host's br0; each kind of frame
# goes to a UDP port of its own (7000 + N).
# fwd:
# - ordinary traffic passes: ping v4 and v6, TCP both ways;
# - from c1, to c2 and the host, 5 frames of each kind: a made-up source
#   MAC; another IPv4 source, another IPv6 source, 0.0.0.0 (not DHCP);
#   ARP saying c2's address is at c1's MAC, or c1's at another MAC; a
#   neighbour advertisement for c2's address, bare, behind a hop-by-hop
#   header, and behind that and a destination options header; a router
#   advertisement and a redirect; an advertisement and (bpf: u32 cannot
#   tell a frame's length) an ARP reply that tell the truth but carry 200
#   bytes more (a channel past policy): none arrives; the ports count them
#   (src_mac, src_addr, arp, nd); c2 takes no route from the advertisement;
#   the host's neighbour entries for c2 keep c2's MAC; an MLD report from
#   :: behind a router alert (duplicate address detection) is not dropped;
# - VLAN-0 tagged frames from c1: none arrives tagged (bpf: dropped, counted
#   tagged; tc-pedit: the kernel takes the tag out before the filters,
#   which judge the frame inside it and send it through the data plane,
#   which returns it untagged);
# - from the host to c1: c1's own UCMAC as source, the broadcast MAC with
#   c1's own address: dropped (host_ucmac, bcast_own);
# - status --json counts the drops at c1's ports;
# - ordinary traffic still passes.
# tap: the made-up MAC and other-source frames are still dropped, and so is
# a frame from c1 to c2's UCMAC (bpf: at c1's port, to_ucmac; tc-pedit: at
# c2's exPort, host_ucmac; in fwd the data plane drops a frame with a UCMAC
# at both ends); ordinary traffic passes.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/traffic.sh"
. "$(dirname "$0")/lib/dpath.sh"
. "$(dirname "$0")/lib/tools.sh"
ti_dpath_init
ti_tools_init
T=$TI_TMP

ti_host_create
ti_ctr_create c1 1
ti_ctr_create c2 2
ti_ctr_start c1
ti_ctr_start c2
ID1=$(ti_cid dpath-guard-1)
ID2=$(ti_cid dpath-guard-2)
NS1=${CTR_NS[c1]}
NS2=${CTR_NS[c2]}
IP1=${CTR_IP4[c1]}
IP2=${CTR_IP4[c2]}
IP6_2=${CTR_IP6[c2]}
MAC1=${CTR_MAC[c1]}
MAC2=${CTR_MAC[c2]}
HOSTMAC=$(ip -n "$TI_HOST" -o link show br0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
[ -n "$HOSTMAC" ] || ti_fail "no MAC on the host's br0"

ti_dpath_config fwd closed
ti_prestart c1 "$ID1"
ti_dpath_require_backend "prestart c1"
ti_prestart c2 "$ID2"
ti_expect_rc 0 "prestart c2"
U1=$(ti_dpath_ucmac c1)
ti_reflector_start

ti_sniff_start "$NS2" eth0 "$T/c2.sniff" -d in
SNIFF_C2=$TI_SNIFF_PID
ti_sniff_start "$NS1" eth0 "$T/c1.sniff" -d in
SNIFF_C1=$TI_SNIFF_PID
ti_sniff_start "$TI_HOST" br0 "$T/host.sniff" -d in
SNIFF_HOST=$TI_SNIFF_PID

# frame NS KIND IFACE DST_IP DST_MAC PORT [ARG]
frame() {
	local ns=$1
	shift
	ip netns exec "$ns" "$PC_FRAME" "$@" >>"$T/frames.log" 2>&1 ||
		{ cat "$T/frames.log" >&2; ti_fail "pc-frame $*"; }
}
# arrived WHO PORT: UDP frames to PORT that reached WHO's sniffer so far
arrived() { awk -v p="$2" '$5 == "udp" && $9 == p' "$T/$1.sniff" | wc -l; }
expect_none() { # PORT WHAT [WHO...]: none of them (default c2, host, c1) got one
	local port=$1 what=$2 who n whos
	shift 2
	whos=("$@")
	[ $# -gt 0 ] || whos=(c2 host c1)
	for who in "${whos[@]}"; do
		n=$(arrived "$who" "$port")
		[ "$n" -eq 0 ] || ti_fail "$what: $n reached $who: $(awk -v p="$port" '$9 == p' "$T/$who.sniff" | head -n 2)"
	done
}

ti_log "fwd: ordinary traffic"
ti_reach c1 c2
ti_ping "$NS1" "$TI_GW4"
ti_tcp "$NS2" "$IP2" "$NS1" 5000
ti_tcp "$TI_HOST" "$TI_GW4" "$NS1" 5001

ti_log "fwd: c1 sends with sources not its own"
ti_dpath_mark_drops
for target in "c2 $IP2 $MAC2" "host $TI_GW4 $HOSTMAC"; do
	read -r who addr mac <<<"$target"
	frame "$NS1" srcmac eth0 "$addr" "$mac" 7001
	frame "$NS1" srcip eth0 "$addr" "$mac" 7002 "$TI_NET4.77"
done
frame "$NS1" srcip eth0 "$IP6_2" "$MAC2" 7003 "$TI_NET6::77"
frame "$NS1" srcip eth0 "$IP2" "$MAC2" 7004 0.0.0.0
sleep 0.5
for p in 7001 7002 7003 7004; do expect_none $p "frames from c1 with a source not its own (port $p)"; done
ti_dpath_expect_drop src_mac 10 "frames from c1 with another source MAC"
ti_dpath_expect_drop src_addr 20 "frames from c1 with another source address"

ti_log "fwd: c1 lies in ARP and neighbour discovery"
ip -n "$TI_HOST" neigh flush dev br0
ti_ping "$TI_HOST" "$IP2"
ti_ping "$TI_HOST" "$IP6_2"
ti_dpath_mark_drops
frame "$NS1" garp eth0 "$IP2" ff:ff:ff:ff:ff:ff 7005
frame "$NS1" arpmac eth0 "$IP1" ff:ff:ff:ff:ff:ff 7005 02:66:66:66:66:67
frame "$NS1" na eth0 "$IP6_2" 33:33:00:00:00:01 7005
frame "$NS1" na-hbh eth0 "$IP6_2" 33:33:00:00:00:01 7005
frame "$NS1" na-dst eth0 "$IP6_2" 33:33:00:00:00:01 7005
frame "$NS1" ra eth0 ff02::1 33:33:00:00:00:01 7005
frame "$NS1" redirect eth0 "$IP6_2" "$MAC2" 7005 2001:db8::1
# truthful, but carrying 200 bytes more than ARP or an advertisement needs
# (tc-pedit cannot tell an ARP frame's length: only bpf bounds it)
[ "$(ti_dpath_backend)" = bpf ] && frame "$NS1" arp-pad eth0 "$IP1" ff:ff:ff:ff:ff:ff 7005
frame "$NS1" na-pad eth0 "${CTR_IP6[c1]}" 33:33:00:00:00:01 7005
sleep 0.5
ti_dpath_expect_drop arp "$([ "$(ti_dpath_backend)" = bpf ] && echo 15 || echo 10)" \
	"ARP from c1 naming another address or MAC, or padded"
ti_dpath_expect_drop nd 30 "advertisements from c1 for c2's address (bare and behind extension headers) or padded, router advertisements and redirects"
# c1's own ARP replies are unicast, and it sends nothing to all nodes on its own
lies=$(awk -v m="$MAC1" '$1 == "in" && $2 == m && ($3 == "ff:ff:ff:ff:ff:ff" && / op=reply/ || $3 == "33:33:00:00:00:01")' \
	"$T/c2.sniff" "$T/host.sniff")
[ -z "$lies" ] || ti_fail "c1's ARP lies or advertisements reached c2 or the host: $(head -n 4 <<<"$lies")"
ip -n "$TI_HOST" neigh show "$IP2" | grep -qi "$MAC1" &&
	ti_fail "the host's neighbour entry for c2 names c1's MAC: $(ip -n "$TI_HOST" neigh show "$IP2")"
ip -n "$TI_HOST" neigh show "$IP6_2" | grep -qi "$MAC1" &&
	ti_fail "the host's neighbour entry for c2's IPv6 names c1's MAC"
ip -n "$NS2" -6 route show default proto ra | grep -q . &&
	ti_fail "c2 took a default route from c1's advertisement: $(ip -n "$NS2" -6 route show default)"
ti_dpath_mark_drops
frame "$NS1" mld0 eth0 ff02::16 33:33:00:00:00:16 7005
sleep 0.3
[ "$(ti_dpath_drops_since src_addr)" = 0 ] && [ "$(ti_dpath_drops_since nd)" = 0 ] ||
	ti_fail "MLD reports from :: (duplicate address detection) were dropped"

ti_log "fwd: VLAN-0 tagged frames from c1"
ti_dpath_mark_drops
frame "$NS1" vlan0 eth0 "$IP2" "$MAC2" 7006
frame "$NS1" vlan0 eth0 "$TI_GW4" "$HOSTMAC" 7006
sleep 0.5
n=$(awk '$1 == "in" && $4 == "0x8100"' "$T/c2.sniff" "$T/host.sniff" | wc -l)
[ "$n" -eq 0 ] || ti_fail "$n tagged frames from c1 reached c2 or the host"
if [ "$(ti_dpath_backend)" = bpf ]; then
	ti_dpath_expect_drop tagged 10 "VLAN-0 frames from c1"
	expect_none 7006 "VLAN-0 frames from c1"
else
	ti_log "VLAN-0 frames from c1 delivered untagged through the data plane: c2 $(arrived c2 7006), host $(arrived host 7006)"
fi

ti_log "fwd: the host sends what a port must not take"
ti_dpath_mark_drops
frame "$TI_HOST" srcmac-from br0 "$IP1" "$MAC1" 7007 "$U1"
frame "$TI_HOST" bcast br0 "$IP1" "$MAC1" 7008
sleep 0.5
expect_none 7007 "frames from the host with c1's UCMAC as source" c1
expect_none 7008 "broadcast frames to c1's own address" c1 # c2 may take them: not its address
ti_dpath_expect_drop host_ucmac 5 "frames from the host with c1's UCMAC as source"
ti_dpath_expect_drop bcast_own 5 "broadcast frames to c1's own address"

d1=$(ti_status_json | jq -r --arg u "$U1" '.[].ports[] | select(.ucmac == $u) | .dropped')
ti_log "status --json: dropped at c1's ports $d1"
[ "${d1:-0}" -ge 50 ] || ti_fail "status --json shows ${d1:-no} frames dropped at c1's ports"

ti_log "fwd: ordinary traffic still passes"
ti_reach c1 c2
ti_tcp "$NS1" "$IP1" "$NS2" 5002

ti_log "tap: the checks hold"
ti_dpath_mode c1 "$ID1" tap
ti_dpath_mode c2 "$ID2" tap
ti_dpath_mark_drops
frame "$NS1" srcmac eth0 "$IP2" "$MAC2" 7009
frame "$NS1" srcip eth0 "$TI_GW4" "$HOSTMAC" 7010 "$TI_NET4.77"
frame "$NS1" srcip eth0 "$IP2" "$(ti_dpath_ucmac c2)" 7011 "$IP1"
sleep 0.5
expect_none 7009 "frames from c1 with another source MAC in tap"
expect_none 7010 "frames from c1 with another source address in tap"
expect_none 7011 "frames from c1 to c2's UCMAC in tap"
ti_dpath_expect_drop src_mac 5 "frames from c1 with another source MAC in tap"
ti_dpath_expect_drop src_addr 5 "frames from c1 with another source address in tap"
if [ "$(ti_dpath_backend)" = bpf ]; then
	ti_dpath_expect_drop to_ucmac 5 "frames from c1 to c2's UCMAC in tap"
else # the copy that crosses reaches c2's exPort through the host's bridge
	ti_dpath_expect_drop host_ucmac 5 "frames from c1 to c2's UCMAC in tap, at c2's exPort"
fi
ti_reach c1 c2
ti_tcp "$TI_HOST" "$TI_GW4" "$NS2" 5003
ti_log "drops: $(ti_dpath_drops)"

ti_sniff_stop "$SNIFF_C2" "$T/c2.sniff"
ti_sniff_stop "$SNIFF_C1" "$T/c1.sniff"
ti_sniff_stop "$SNIFF_HOST" "$T/host.sniff"
ti_reflector_stop
for c in c1 c2; do
	id=ID${c#c}
	ti_poststop "$c" "${!id}"
	ti_expect_rc 0 "poststop $c"
done
ti_assert_enf_clean "after poststop"
