#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Frames that once crossed a port without the data plane, played for real
# with raw sockets from c1's namespace (a container's CAP_NET_RAW; the
# frames crafted by test/tools/pc-frame) against an intercepted peer c2
# and the host (not intercepted); source_check
# strict (the default), the data plane running, policy default deny with
# ICMP and tcp/5000 allowed, UDP servers on port 7000 in c2, in c1 and on
# the host logging every datagram.
# fwd:
# - ordinary traffic passes: ping v4 and v6, a TCP exchange on port 5000;
#   plain UDP to port 7000 is denied (the control);
# - from c1, 5 datagrams of each kind to c2 and to the host: with an
#   802.1Q priority tag (VLAN 0), to the broadcast MAC, from a made-up
#   source MAC, from another IPv4 and another IPv6 source, from 0.0.0.0
#   (not DHCP), to c2's UCMAC;
#   none arrives; the ports count them (pc_drops tagged, src_mac,
#   src_addr, to_ucmac), the broadcast ones reach the data plane and are
#   denied there (a violation logged);
# - ARP from c1 that says c2's address is at c1's MAC, or c1's at another
#   MAC, and an IPv6 neighbour advertisement that says c2's address is at
#   c1's MAC, bare, behind a hop-by-hop header, and behind that and a
#   destination options header: dropped (arp, nd); the host's neighbour
#   entries for c2 do not name c1's MAC; a router advertisement and a
#   redirect from c1: dropped (nd), c2 takes no default route from it;
#   an MLD report from :: behind a
#   router alert (what a port sends while its address is tentative)
#   passes;
# - from the host side: frames carrying c2's UCMAC as source, to the
#   broadcast MAC with c1's own address, and tagged, to c1: dropped
#   (host_ucmac, bcast_own, tagged); c1 gets none;
# - status --json counts the drops at c1's and c2's ports, and portcullisctl
#   ports shows c1's.
# tap: the tagged, made-up-MAC and other-source frames are still dropped;
# c1's broadcast datagram to the host is copied to the data plane (it
# knows the session) and, tap being tap, delivered.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/traffic.sh"
. "$(dirname "$0")/lib/dpath.sh"
. "$(dirname "$0")/lib/dp.sh"
. "$(dirname "$0")/lib/attack.sh"
ti_dpath_init
at_init
[ "$(ti_dpath_backend)" = bpf ] ||
	ti_skip "backend tc-pedit: its checks at the port are played by test_dpath_guard.sh"
T=$TI_TMP
AT_LOG=$T/sessions.log

ti_host_create
ti_ctr_create c1 1
ti_ctr_create c2 2
ti_ctr_start c1
ti_ctr_start c2
ID1=$(ti_cid attack-spoof-1)
ID2=$(ti_cid attack-spoof-2)
NS1=${CTR_NS[c1]}
NS2=${CTR_NS[c2]}
IP1=${CTR_IP4[c1]}
IP2=${CTR_IP4[c2]}
IP6_2=${CTR_IP6[c2]}
MAC1=${CTR_MAC[c1]}
MAC2=${CTR_MAC[c2]}
HOSTMAC=$(ip -n "$TI_HOST" -j link show br0 | jq -r '.[0].address')

cat >"$T/policy.json" <<'JSON'
{"default": "deny",
 "rules": [{"id": 10, "from": "any", "to": "any", "ports": ["icmp"], "action": "allow"},
           {"id": 20, "from": "any", "to": "any", "ports": ["tcp/5000"], "action": "allow"}]}
JSON
ti_dpath_config fwd closed "\"policy\": \"$T/policy.json\", \"session_log\": \"$AT_LOG\""
ti_prestart c1 "$ID1"
ti_dpath_require_backend "prestart c1"
ti_prestart c2 "$ID2"
ti_expect_rc 0 "prestart c2"
U2=$(ti_dpath_ucmac c2)
U1=$(ti_dpath_ucmac c1)

for who in c1 c2 host; do
	case $who in
	c1) ns=$NS1 addr=$IP1 ;;
	c2) ns=$NS2 addr=$IP2 ;;
	host) ns=$TI_HOST addr=$TI_GW4 ;;
	esac
	ip netns exec "$ns" timeout 170 "$AT_PY" "$AT_SCRIPT" udp-log "$addr" 7000 "$T/got.$who" \
		</dev/null >/dev/null 2>&1 &
	TI_PIDS+=("$!")
done
ip netns exec "$NS2" timeout 170 "$AT_PY" "$AT_SCRIPT" udp-log "$IP6_2" 7000 "$T/got.c2" \
	</dev/null >/dev/null 2>&1 &
TI_PIDS+=("$!")
ti_dp_start

got() { cat "$T/got.$1" 2>/dev/null | sort | uniq -c | tr -s ' \n' ' '; }
# at_frame NS KIND IFACE DST_IP DST_MAC [ARG]: 5 crafted frames (pc-frame)
at_frame() {
	local ns=$1
	shift
	ip netns exec "$ns" timeout 30 "$AT_FRAME" "$1" "$2" "$3" "$4" 7000 ${5:+"$5"} >&2
}

ti_log "fwd: ordinary traffic"
ti_ping "$NS1" "$IP2"
ti_ping "$NS1" "$IP6_2"
ti_ping "$NS1" "$TI_GW4"
ti_tcp "$NS2" "$IP2" "$NS1" 5000
ip netns exec "$NS1" sh -c "echo plain | socat -u - UDP4-SENDTO:$IP2:7000; echo plain | socat -u - UDP4-SENDTO:$TI_GW4:7000"

ti_log "fwd: c1 sends what once slipped past the data plane"
ti_dpath_mark_drops
for target in "c2 $IP2 $MAC2" "host $TI_GW4 $HOSTMAC"; do
	read -r who addr mac <<<"$target"
	at_frame "$NS1" vlan0 eth0 "$addr" "$mac"
	at_frame "$NS1" bcast eth0 "$addr" "$mac"
	at_frame "$NS1" srcmac eth0 "$addr" "$mac"
	at_frame "$NS1" srcip eth0 "$addr" "$mac" "$TI_NET4.77"
done
at_frame "$NS1" srcip eth0 "$IP6_2" "$MAC2" "$TI_NET6::77"
at_frame "$NS1" srcip eth0 "$IP2" "$MAC2" 0.0.0.0 # not DHCP: the unspecified source is not free
at_frame "$NS1" bcast eth0 "$IP6_2" "$MAC2"
at_frame "$NS1" vlan0 eth0 "$IP2" "$U2"
at_frame "$NS1" bcast eth0 "$IP2" "$U2"
at_frame "$NS1" srcip eth0 "$IP2" "$U2" "$IP1"
sleep 1
ti_assert_eq "" "$(got c2)" "datagrams c2 received"
ti_assert_eq "" "$(got host)" "datagrams the host received"
ti_dpath_expect_drop tagged 10 "VLAN-0 frames from c1"
ti_dpath_expect_drop src_mac 10 "frames from c1 with another source MAC"
ti_dpath_expect_drop src_addr 20 "frames from c1 with another source address"
ti_dpath_expect_drop to_ucmac 10 "frames from c1 to c2's UCMAC"
n=$(at_log_lines '.event == "violation" and .transport == "udp" and .dport == 7000' | wc -l)
[ "$n" -ge 3 ] || ti_fail "the data plane denied $n UDP flows to port 7000, not the control, c1's broadcasts to c2 and to the host: $(cat "$AT_LOG")"

ti_log "fwd: c1 lies in ARP and neighbour discovery"
ip -n "$TI_HOST" neigh flush dev br0
ti_ping "$TI_HOST" "$IP2"
ti_dpath_mark_drops
at_frame "$NS1" garp eth0 "$IP2" ff:ff:ff:ff:ff:ff
at_frame "$NS1" arpmac eth0 "$IP1" ff:ff:ff:ff:ff:ff 02:66:66:66:66:67
at_frame "$NS1" na eth0 "$IP6_2" 33:33:00:00:00:01
at_frame "$NS1" na-hbh eth0 "$IP6_2" 33:33:00:00:00:01
at_frame "$NS1" na-dst eth0 "$IP6_2" 33:33:00:00:00:01
sleep 0.5
ti_dpath_expect_drop arp 10 "ARP from c1 naming another address or MAC"
ti_dpath_expect_drop nd 15 "neighbour advertisements from c1 for c2's address, bare and behind extension headers"
ti_dpath_mark_drops
at_frame "$NS1" ra eth0 ff02::1 33:33:00:00:00:01
at_frame "$NS1" redirect eth0 "$IP6_2" "$MAC2" 2001:db8::1
sleep 0.5
ti_dpath_expect_drop nd 10 "router advertisements and redirects from c1"
ip -n "$NS2" -6 route show default proto ra | grep -q . &&
	ti_fail "c2 took a default route from c1's advertisement: $(ip -n "$NS2" -6 route show default)"
ti_dpath_mark_drops
at_frame "$NS1" mld0 eth0 ff02::16 33:33:00:00:00:16
sleep 0.2
[ "$(ti_dpath_drops_since src_addr)" = 0 ] && [ "$(ti_dpath_drops_since nd)" = 0 ] ||
	ti_fail "MLD reports from :: (duplicate address detection) were dropped: $(ti_dpath_drops)"
ip -n "$TI_HOST" neigh show "$IP2" | grep -qi "$MAC1" &&
	ti_fail "the host's neighbour entry for c2 names c1's MAC: $(ip -n "$TI_HOST" neigh show "$IP2")"
ip -n "$TI_HOST" neigh show "$IP6_2" | grep -qi "$MAC1" &&
	ti_fail "the host's neighbour entry for c2's IPv6 names c1's MAC"
ti_ping "$TI_HOST" "$IP2"

ti_log "fwd: the host side sends what a port must not take"
ti_dpath_mark_drops
at_frame "$TI_HOST" srcmac-from br0 "$IP1" "$MAC1" "$U2"
at_frame "$TI_HOST" bcast br0 "$IP1" "$MAC1"
at_frame "$TI_HOST" vlan0 br0 "$IP1" "$MAC1"
sleep 0.5
ti_assert_eq "" "$(got c1)" "datagrams c1 received from the host's crafted frames"
ti_dpath_expect_drop host_ucmac 5 "frames from the host with c2's UCMAC as source"
ti_dpath_expect_drop bcast_own 5 "broadcast frames to c1's own address"
ti_dpath_expect_drop tagged 5 "VLAN-0 frames from the host"

st=$(ti_status_json)
d1=$(jq -r --arg u "$U1" '.[].ports[] | select(.ucmac == $u) | .dropped' <<<"$st")
d2=$(jq -r --arg u "$U2" '.[].ports[] | select(.ucmac == $u) | .dropped' <<<"$st")
ti_log "status --json: dropped at c1's ports $d1, at c2's $d2; pc_drops: $(ti_dpath_drops)"
[ "${d1:-0}" -ge 60 ] || ti_fail "status shows $d1 frames dropped at c1's ports"
[ "${d2:-0}" -ge 1 ] || ti_fail "status shows $d2 frames dropped at c2's ports"
out=$("$AT_CTL" --config "$TI_CFG" ports) || ti_fail "portcullisctl ports"
hdr=$(head -n 1 <<<"$out")
pre=${hdr%%DROPPED*}
row=$(grep -i "^$U1 " <<<"$out") || ti_fail "portcullisctl ports has no row for $U1: $out"
cell=$(cut -c$((${#pre} + 1))- <<<"$row" | awk '{ print $1 }')
[[ $cell =~ ^[0-9]+$ ]] && [ "$cell" -ge 60 ] ||
	ti_fail "portcullisctl ports shows '$cell' dropped at c1's port: $out"

ti_log "fwd: ordinary traffic still passes"
ti_ping "$NS1" "$IP2"
ti_ping "$NS2" "$IP6_2" # its own, after the NA
ti_ping "$NS1" "${CTR_IP6[c2]}"

ti_log "tap: the checks hold; a broadcast is copied"
ti_dpath_mode c1 "$ID1" tap
ti_dpath_mode c2 "$ID2" tap
ti_dpath_mark_drops
at_frame "$NS1" vlan0 eth0 "$IP2" "$MAC2"
at_frame "$NS1" srcmac eth0 "$IP2" "$MAC2"
at_frame "$NS1" srcip eth0 "$TI_GW4" "$HOSTMAC" "$TI_NET4.77"
at_frame "$NS1" bcast eth0 "$TI_GW4" "$HOSTMAC"
sleep 1
ti_assert_eq "" "$(got c2)" "datagrams c2 received in tap"
ti_assert_eq "5 bcast" "$(got host | xargs)" "datagrams the host received in tap"
ti_dpath_expect_drop tagged 5 "VLAN-0 frames from c1 in tap"
ti_dpath_expect_drop src_mac 5 "frames from c1 with another source MAC in tap"
ti_dpath_expect_drop src_addr 5 "frames from c1 with another source address in tap"
n=$(at_ctl sessions | jq --arg h "$TI_GW4" '[.sessions[] | select(.transport == "udp" and .dst == $h and .dport == 7000 and .src != "'"$TI_NET4.77"'")] | length')
[ "$n" -ge 1 ] || ti_fail "the data plane saw no copy of c1's broadcast to the host"
ti_ping "$NS1" "$IP2"

ti_dp_stop
for c in c1 c2; do
	id=ID${c#c}
	ti_poststop "$c" "${!id}"
	ti_expect_rc 0 "poststop $c"
done
ti_assert_enf_clean "after poststop"
