#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Mode tap, backend TI_DPATH_BACKEND (bpf, or tc-pedit in the QEMU guest), no
# data plane running.  Two containers on a bridge,
# both intercepted:
# - ARP and IPv6 neighbour discovery resolve (learned entries flushed first);
# - a TCP exchange c1 <-> c2 (a known number of bytes each way) succeeds;
# - on vth-neuv, pc-sniff sees every TCP frame of it exactly once per
#   intercepted port: what c1 sent once with c1's UCMAC as source (copy at
#   c1's inPort) and once with c2's UCMAC as destination (copy at c2's
#   exPort), and the same for what c2 sent; nothing else of that exchange;
# - no ARP or neighbour discovery frame reaches vth-neuv, nor anything of
#   vbr-neuv's own (IPv6 DAD, MLD, router solicitations); IP to a group MAC
#   does only as a copy of a container's (MLD reports), with its UCMAC.
# The frames c1 and c2 sent are taken from captures on their own eth0.
# The backend's counters agree: copies made, none failed, none sent as fwd
# (bpf: pc_stats; tc-pedit: the statistics of the tap knodes' actions, and
# no knode on vbr-neuv); after the release nothing of the ports is left.
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
PORT=5080
BYTES=300000

ti_host_create
ti_ctr_create c1 1
ti_ctr_create c2 2
ti_ctr_start c1
ti_ctr_start c2
ID1=$(ti_cid dp-tap-1)
ID2=$(ti_cid dp-tap-2)
ti_dpath_config tap

ti_log "prestart c1 and c2, mode tap, backend $(ti_dpath_backend)"
ti_prestart c1 "$ID1"
ti_dpath_require_backend "prestart c1"
ti_prestart c2 "$ID2"
ti_expect_rc 0 "prestart c2"
U1=$(ti_dpath_ucmac c1)
U2=$(ti_dpath_ucmac c2)
M1=${CTR_MAC[c1]}
M2=${CTR_MAC[c2]}
[ "$U1" != "$U2" ] || ti_fail "c1 and c2 share the UCMAC $U1"
ti_log "UCMACs: c1 $M1 -> $U1, c2 $M2 -> $U2"
ti_assert_eq 0 "$(ti_dpath_tc_count "$TI_ENF_NAME" vth-neuv)" "filters on vth-neuv (the data plane's side)"

ti_sniff_start "$TI_ENF_NAME" vth-neuv "$T/vth.txt" -d in
SNIFF_VTH=$TI_SNIFF_PID
ti_sniff_start "${CTR_NS[c1]}" eth0 "$T/c1.txt"
SNIFF_C1=$TI_SNIFF_PID
ti_sniff_start "${CTR_NS[c2]}" eth0 "$T/c2.txt"
SNIFF_C2=$TI_SNIFF_PID

ti_log "ARP and neighbour discovery with learned entries flushed"
for c in c1 c2; do
	ti_flush_neigh "${CTR_NS[$c]}"
done
ti_flush_neigh "$TI_HOST"
ti_ping "${CTR_NS[c1]}" "${CTR_IP4[c2]}"
ti_ping "${CTR_NS[c1]}" "${CTR_IP6[c2]}"
ti_ping "${CTR_NS[c2]}" "${CTR_IP4[c1]}"
ti_ping "${CTR_NS[c2]}" "${CTR_IP6[c1]}"
ti_ping "${CTR_NS[c2]}" "$TI_GW4"
ti_ping "${CTR_NS[c2]}" "$TI_GW6"
ti_neigh_is "${CTR_NS[c1]}" "${CTR_IP4[c2]}" "$M2"
ti_neigh_is "${CTR_NS[c1]}" "${CTR_IP6[c2]}" "$M2"
ti_neigh_is "${CTR_NS[c2]}" "${CTR_IP4[c1]}" "$M1"
ti_neigh_is "${CTR_NS[c2]}" "${CTR_IP6[c1]}" "$M1"

if [ "$(ti_dpath_backend)" = bpf ]; then
	# every port here is a veth with its far end in another namespace
	WANT=xmit
	ti_kernel_redirects_peer_well && WANT=direct
	ti_log "forwarding to the peer port: $WANT ($(uname -r))"
	for c in c1 c2; do
		P=${CTR_PIDS[$c]##* }
		ti_assert_eq "$WANT" "$(ti_bpf_port_to_peer "vin$P-0")" "$c's inPort forwards to its exPort"
		ti_assert_eq "$WANT" "$(ti_bpf_port_to_peer "vex$P-0")" "$c's exPort forwards to its inPort"
	done
fi
rx_bytes() { ip -n "${CTR_NS[$1]}" -s -j link show dev eth0 | jq '.[0].stats64.rx.bytes'; }
RX1=$(rx_bytes c1) RX2=$(rx_bytes c2)

ti_log "TCP exchange c1 -> c2:$PORT, $BYTES bytes each way"
head -c "$BYTES" /dev/urandom >"$T/tcp.in"
ip netns exec "${CTR_NS[c2]}" timeout 20 socat -T 10 \
	"TCP4-LISTEN:$PORT,bind=${CTR_IP4[c2]},reuseaddr" EXEC:cat </dev/null >/dev/null 2>"$T/srv.err" &
SRV=$!
TI_PIDS+=("$SRV")
ti_wait_until 5 ti_listening "${CTR_NS[c2]}" "$PORT" || ti_fail "server on port $PORT did not start"
ip netns exec "${CTR_NS[c1]}" timeout 20 socat -T 10 - "TCP4:${CTR_IP4[c2]}:$PORT,shut-down" \
	<"$T/tcp.in" >"$T/tcp.out" 2>"$T/cli.err" || {
	cat "$T/cli.err" "$T/srv.err" >&2
	ti_fail "TCP exchange c1 -> c2:$PORT failed"
}
wait "$SRV" 2>/dev/null || true
cmp -s "$T/tcp.in" "$T/tcp.out" || ti_fail "TCP exchange: $(stat -c %s "$T/tcp.out") of $BYTES bytes came back"
sleep 0.3 # the last ACKs
# however the ports forward, the containers' own counters see what they got
RX1=$(($(rx_bytes c1) - RX1)) RX2=$(($(rx_bytes c2) - RX2))
ti_log "received on eth0 during the exchange: c1 $RX1, c2 $RX2 bytes"
[ "$RX1" -ge "$BYTES" ] && [ "$RX2" -ge "$BYTES" ] ||
	ti_fail "eth0 receive counters missed the exchange: c1 $RX1, c2 $RX2 bytes < $BYTES"

ti_sniff_stop "$SNIFF_C1" "$T/c1.txt"
ti_sniff_stop "$SNIFF_C2" "$T/c2.txt"
ti_sniff_stop "$SNIFF_VTH" "$T/vth.txt"
VTH_SUMMARY=$TI_SNIFF_SUMMARY
ti_log "vth-neuv: $VTH_SUMMARY"
ti_log "$(ti_dpath_counters)"
if [ "$(ti_dpath_backend)" = bpf ]; then
	[ "$(ti_dpath_stat tap_copies)" -gt 0 ] || ti_fail "pc_stats tap_copies is 0"
	ti_assert_eq 0 "$(ti_dpath_stat tap_copy_failed)" "pc_stats tap_copy_failed"
	ti_assert_eq 0 "$(ti_dpath_stat to_dp)" "pc_stats to_dp (fwd) in tap mode"
	# every copy carries the copy tag, so a data plane never sends one back
	TAGGED=$(awk '$1 == "in" && $5 == "tcp" && / tag=88a8\/4094/' "$T/vth.txt" | wc -l)
	UNTAGGED=$(awk '$1 == "in" && $5 == "tcp" && !/ tag=88a8\/4094/' "$T/vth.txt" | wc -l)
	ti_log "TCP copies on vth-neuv: $TAGGED with the copy tag, $UNTAGGED without"
	[ "$TAGGED" -gt 0 ] || ti_fail "no TCP copy on vth-neuv"
	ti_assert_eq 0 "$UNTAGGED" "TCP copies on vth-neuv without the copy tag (88a8/4094)"
else
	# at least the TCP frames of the exchange, both ways, at both ports
	[ "$(ti_dpath_tc_stat tap_copies)" -gt 12 ] ||
		ti_fail "tap knodes sent $(ti_dpath_tc_stat tap_copies) frames to vbr-neuv"
	ti_assert_eq 0 "$(ti_dpath_tc_stat action_drops)" "frames the actions dropped"
	ti_assert_eq 0 "$(ti_dpath_tc_stat to_dp)" "frames fwd knodes sent to vbr-neuv in tap mode"
	ti_assert_eq 0 "$(ti_dpath_tc_knodes vbr-neuv)" "knodes on vbr-neuv with no port in fwd"
fi

ti_log "every TCP frame seen once per port on vth-neuv"
ti_sniff_tcp_keys "$T/c1.txt" "$PORT" '$1 == "out"' >"$T/k.c1.out"
ti_sniff_tcp_keys "$T/c2.txt" "$PORT" '$1 == "out"' >"$T/k.c2.out"
ti_sniff_tcp_keys "$T/vth.txt" "$PORT" "\$2 == \"$U1\" && \$3 == \"$M2\"" >"$T/k.vth.src1"
ti_sniff_tcp_keys "$T/vth.txt" "$PORT" "\$2 == \"$M1\" && \$3 == \"$U2\"" >"$T/k.vth.dst2"
ti_sniff_tcp_keys "$T/vth.txt" "$PORT" "\$2 == \"$U2\" && \$3 == \"$M1\"" >"$T/k.vth.src2"
ti_sniff_tcp_keys "$T/vth.txt" "$PORT" "\$2 == \"$M2\" && \$3 == \"$U1\"" >"$T/k.vth.dst1"
ti_sniff_tcp_keys "$T/vth.txt" "$PORT" 1 >"$T/k.vth.all"
N1=$(wc -l <"$T/k.c1.out")
N2=$(wc -l <"$T/k.c2.out")
ti_log "TCP frames sent: c1 $N1, c2 $N2; on vth-neuv: $(wc -l <"$T/k.vth.all")"
[ "$N1" -ge 3 ] && [ "$N2" -ge 3 ] || ti_fail "captures on eth0 saw too few frames (c1 $N1, c2 $N2)"
check_copies() {
	local drops
	drops=$(sed -n 's/^# pc-sniff: .* drops=\([0-9]*\).*/\1/p' "$T/vth.txt" "$T/c1.txt" "$T/c2.txt" |
		awk '{ n += $1 } END { print n + 0 }')
	[ "$drops" = 0 ] || ti_fail "the captures dropped $drops frames (the machine is too slow for them): no comparison"
	touch "$T/canon.a" "$T/canon.b"
	ti_sniff_tcp_canon "$1" "$2" "$T/canon.a" "$T/canon.b"
	if ! diff -u "$T/canon.a" "$T/canon.b" >"$T/keys.diff"; then
		head -n 40 "$T/keys.diff" >&2
		ti_fail "$3: frames differ (- sent by the container, + seen on vth-neuv)"
	fi
}
check_copies "$T/k.c1.out" "$T/k.vth.src1" "c1 -> c2, copy at c1's inPort (src $U1)"
check_copies "$T/k.c1.out" "$T/k.vth.dst2" "c1 -> c2, copy at c2's exPort (dst $U2)"
check_copies "$T/k.c2.out" "$T/k.vth.src2" "c2 -> c1, copy at c2's inPort (src $U2)"
check_copies "$T/k.c2.out" "$T/k.vth.dst1" "c2 -> c1, copy at c1's exPort (dst $U1)"
ti_assert_eq "$(cat "$T/k.vth.src1" "$T/k.vth.dst2" "$T/k.vth.src2" "$T/k.vth.dst1" | wc -l)" \
	"$(wc -l <"$T/k.vth.all")" \
	"TCP frames of the exchange on vth-neuv (MAC pairs seen: $(awk -v p=$PORT '$5 == "tcp" && ($7 == p || $9 == p) {print $2, $3}' "$T/vth.txt" | sort | uniq -c | tr '\n' ';'))"
PAYLOAD=$(awk '{s += $8} END {print s + 0}' "$T/k.vth.src1")
[ "$PAYLOAD" -ge "$BYTES" ] || ti_fail "TCP payload c1 -> c2 seen on vth-neuv: $PAYLOAD bytes < $BYTES"

ti_log "nothing but the containers' unicast IP reaches vth-neuv"
VBR_MAC=$(ip -n "$TI_ENF_NAME" -j link show dev vbr-neuv | jq -r '.[0].address')
OWN=$(awk -v m="$VBR_MAC" '$1 !~ /^#/ && $2 == m' "$T/vth.txt" | head -n 3)
[ -z "$OWN" ] || ti_fail "vbr-neuv ($VBR_MAC) itself sent frames to the data plane (its own IPv6?): $OWN"
BAD=$(awk -v u1="$U1" -v u2="$U2" '$1 !~ /^#/ && $3 ~ /^.[13579bdf]:/ && $2 != u1 && $2 != u2' \
	"$T/vth.txt" | head -n 5)
[ -z "$BAD" ] || ti_fail "frames to a group MAC on vth-neuv not from a container: $BAD"
ti_log "frames to a group MAC on vth-neuv, from the containers: $(($(ti_sniff_sum bcast) + $(ti_sniff_sum mcast)))"
ti_assert_eq 0 "$(ti_sniff_sum arp)" "ARP frames on vth-neuv ($VTH_SUMMARY)"
ti_assert_eq 0 "$(ti_sniff_sum nd)" "neighbour discovery frames on vth-neuv ($VTH_SUMMARY)"
BAD=$(awk '$1 !~ /^#/ && $4 != "ipv4" && $4 != "ipv6"' "$T/vth.txt" | head -n 5)
[ -z "$BAD" ] || ti_fail "non-IP frames on vth-neuv: $BAD"
BAD=$(awk -v u1="$U1" -v u2="$U2" '$1 !~ /^#/ && $2 != u1 && $2 != u2 && $3 != u1 && $3 != u2' "$T/vth.txt" | head -n 5)
[ -z "$BAD" ] || ti_fail "frames on vth-neuv without a UCMAC: $BAD"

ti_log "still connected after the exchange; release"
ti_reach c1 c2
ti_poststop c1 "$ID1"
ti_expect_rc 0 "poststop c1"
ti_poststop c2 "$ID2"
ti_expect_rc 0 "poststop c2"
ti_assert_enf_clean "after poststop"
ti_dpath_assert_released "after poststop"
