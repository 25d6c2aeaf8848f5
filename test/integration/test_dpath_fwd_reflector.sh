#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Mode fwd, backend TI_DPATH_BACKEND (bpf, or tc-pedit in the QEMU guest),
# dp_down closed, with pc-reflector as the data plane (AF_PACKET +
# PACKET_VNET_HDR on vth-neuv, every frame written back, with bpf the
# heartbeat in pc_dp kept fresh).  Both containers intercepted, so traffic
# between them crosses the reflector twice.  dp_down closed means nothing
# passes unless the reflector is alive and returns it.
# - ICMP, TCP (1 MB each way, offloads on in the containers) and UDP work,
#   IPv4 and IPv6, container <-> container and container <-> host;
# - the same with the pair's offloads the other way round from how the hook
#   made them: the reflector hands back GSO super-frames with
#   CHECKSUM_PARTIAL (offloads on) and MSS-sized frames (off) intact;
# - a reflector that drops TCP port 81 (and, with bpf, writes its heartbeat
#   with bpf_map_lookup_elem/update_elem instead of mmap): a server on 81
#   cannot be reached, one on 80 can, IPv4 and IPv6;
# - the reflector stopped: after the heartbeat timeout (1 s) traffic is
#   dropped again (tc-pedit: at once, nothing returns it).
# The backend's counters show frames steered back from the data plane to
# the containers and to the host, none lost on the way (bpf: pc_stats;
# tc-pedit: the statistics of the actions of vbr-neuv's knodes).
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/traffic.sh"
. "$(dirname "$0")/lib/dpath.sh"
. "$(dirname "$0")/lib/tools.sh"
ti_dpath_init
ti_tools_init

ti_host_create
ti_ctr_create c1 1
ti_ctr_create c2 2
ti_ctr_start c1
ti_ctr_start c2
ID1=$(ti_cid dp-fwd-refl-1)
ID2=$(ti_cid dp-fwd-refl-2)
NS1=${CTR_NS[c1]}
NS2=${CTR_NS[c2]}
ti_dpath_config fwd closed

ti_prestart c1 "$ID1"
ti_dpath_require_backend "prestart c1"
ti_prestart c2 "$ID2"
ti_expect_rc 0 "prestart c2"
ti_no_ping "$NS1" "${CTR_IP4[c2]}"

ti_log "reflector: ICMP, TCP, UDP over IPv4 and IPv6"
ti_reflector_start
stat_of() {
	if [ "$(ti_dpath_backend)" = bpf ]; then ti_dpath_stat "$1"; else ti_dpath_tc_stat "$1"; fi
}
TO_CTR0=$(stat_of from_dp_to_ctr)
TO_HOST0=$(stat_of from_dp_to_host)
ti_reach c1 c2
ti_reach c2 c1
ti_tcp "$NS2" "${CTR_IP4[c2]}" "$NS1" 5100
ti_tcp "$NS1" "${CTR_IP6[c1]}" "$NS2" 5101
ti_tcp "$TI_HOST" "$TI_GW4" "$NS1" 5102
ti_tcp "$NS2" "${CTR_IP6[c2]}" "$TI_HOST" 5103
ti_udp "$NS2" "${CTR_IP4[c2]}" "$NS1" 5104
ti_udp "$NS1" "${CTR_IP6[c1]}" "$NS2" 5105
ti_udp "$TI_HOST" "$TI_GW6" "$NS2" 5106
ti_log "$(ti_dpath_counters)"
ti_reflector_stop
RX=$(ti_reflector_count rx)
TX=$(ti_reflector_count tx)
[ "$RX" -gt 0 ] || ti_fail "the reflector received nothing"
ti_assert_eq "$RX" "$TX" "reflector frames received vs sent back"
ti_assert_eq 0 "$(ti_reflector_count tx_errors)" "reflector send errors"
ti_assert_eq 0 "$(ti_reflector_count outgoing_seen)" "reflector frames of its own read back"
# 4 TCP exchanges of 1 MB each way, each crossing it once or twice
[ "$(ti_reflector_count rx_bytes)" -gt 8000000 ] ||
	ti_fail "the reflector carried only $(ti_reflector_count rx_bytes) bytes"
ti_log "frames through the reflector: GSO $(ti_reflector_count gso), CHECKSUM_PARTIAL $(ti_reflector_count csum_partial), largest $(ti_reflector_count max_len) bytes"
[ "$(stat_of from_dp_to_ctr)" -gt "$TO_CTR0" ] || ti_fail "$(ti_dpath_backend) counter from_dp_to_ctr did not grow"
[ "$(stat_of from_dp_to_host)" -gt "$TO_HOST0" ] || ti_fail "$(ti_dpath_backend) counter from_dp_to_host did not grow"
if [ "$(ti_dpath_backend)" = bpf ]; then
	ti_assert_eq 0 "$(ti_dpath_stat rewrite_failed)" "pc_stats rewrite_failed"
else
	ti_assert_eq 0 "$(ti_dpath_tc_stat action_drops)" "frames the actions dropped"
fi

# The reflector must hand back what it gets either way: GSO super-frames
# with CHECKSUM_PARTIAL when the pair has offloads on, MSS-sized checksummed
# frames when they are off.  Above ran the pair as the hook made it; now the
# other way, then back.
tso_of() { ip netns exec "$TI_ENF_NAME" ethtool -k "$1" | awk '$1 == "tcp-segmentation-offload:" {print $2}'; }
pair_offloads() {
	local dev
	for dev in vbr-neuv vth-neuv; do
		ip netns exec "$TI_ENF_NAME" ethtool -K "$dev" sg "$1" tx "$1" tso "$1" gso "$1" >/dev/null 2>&1 ||
			ti_fail "ethtool -K $dev ... $1"
	done
}
WAS=$(tso_of vbr-neuv)
FIRST_GSO=$(ti_reflector_count gso)
if [ "$WAS" = on ]; then
	[ "$FIRST_GSO" -gt 0 ] || ti_fail "vbr-neuv has TSO on, yet no GSO frame reached the reflector"
	OTHER=off
else
	OTHER=on
fi
ti_log "the pair's offloads $WAS as the hook made it; now $OTHER"
pair_offloads "$OTHER"
ti_on_cleanup "ip netns exec $TI_ENF_NAME ethtool -K vbr-neuv sg $WAS tx $WAS tso $WAS gso $WAS; ip netns exec $TI_ENF_NAME ethtool -K vth-neuv sg $WAS tx $WAS tso $WAS gso $WAS"
ti_reflector_start
ti_tcp "$NS2" "${CTR_IP4[c2]}" "$NS1" 5107
ti_tcp "$NS1" "${CTR_IP6[c1]}" "$NS2" 5108
ti_tcp "$TI_HOST" "$TI_GW4" "$NS2" 5109
ti_udp "$NS2" "${CTR_IP4[c2]}" "$NS1" 5110
ti_reach c1 c2
ti_reflector_stop
ti_assert_eq "$(ti_reflector_count rx)" "$(ti_reflector_count tx)" "reflector frames received vs sent back (offloads $OTHER)"
ti_assert_eq 0 "$(ti_reflector_count tx_errors)" "reflector send errors (offloads $OTHER)"
if [ "$OTHER" = on ]; then
	[ "$(ti_reflector_count gso)" -gt 0 ] || ti_fail "no GSO frame reached the reflector with offloads on"
	[ "$(ti_reflector_count csum_partial)" -gt 0 ] || ti_fail "no CHECKSUM_PARTIAL frame reached the reflector with offloads on"
	[ "$(ti_reflector_count max_len)" -gt 1514 ] || ti_fail "no frame above the MTU reached the reflector"
else
	ti_assert_eq 0 "$(ti_reflector_count gso)" "GSO frames at the reflector with offloads off"
fi
pair_offloads "$WAS"

if [ "$(ti_dpath_backend)" = bpf ]; then
	ti_log "reflector dropping TCP port 81 (heartbeat by map lookup + update, not mmap)"
	ti_reflector_start --drop-tcp-port 81 --heartbeat-syscall
	grep -q 'heartbeat syscall' "$TI_REFL_LOG" || ti_fail "pc-reflector: $(cat "$TI_REFL_LOG")"
else
	ti_log "reflector dropping TCP port 81"
	ti_reflector_start --drop-tcp-port 81
fi
ti_tcp "$NS2" "${CTR_IP4[c2]}" "$NS1" 80
ti_tcp "$NS2" "${CTR_IP6[c2]}" "$NS1" 80
ti_tcp_blocked "$NS2" "${CTR_IP4[c2]}" "$NS1" 81
ti_tcp_blocked "$NS2" "${CTR_IP6[c2]}" "$NS1" 81
ti_tcp_blocked "$NS1" "${CTR_IP4[c1]}" "$TI_HOST" 81
ti_reach c1 c2
ti_reflector_stop
[ "$(ti_reflector_count dropped)" -ge 3 ] ||
	ti_fail "the reflector dropped $(ti_reflector_count dropped) segments for port 81"

ti_log "reflector gone: dropped again once the heartbeat is stale"
sleep 1.2
ti_no_ping "$NS1" "${CTR_IP4[c2]}"
ti_no_ping "$NS2" "${CTR_IP6[c1]}"

ti_poststop c1 "$ID1"
ti_expect_rc 0 "poststop c1"
ti_poststop c2 "$ID2"
ti_expect_rc 0 "poststop c2"
ti_assert_enf_clean "after poststop"
ti_dpath_assert_released "after poststop"
