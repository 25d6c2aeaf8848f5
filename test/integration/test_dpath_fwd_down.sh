#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Mode fwd, backend TI_DPATH_BACKEND (bpf, or tc-pedit in the QEMU guest), no
# data plane consuming vth-neuv (no heartbeat):
# - dp_down closed: IPv4 and IPv6 unicast to and from the container is
#   dropped (pings fail both ways, TCP does not connect), while ARP and IPv6
#   neighbour discovery still resolve the container's MAC; bpf counts the
#   drops (pc_stats dp_down_dropped) and sends nothing to the data plane;
#   tc-pedit, which cannot see a heartbeat, sends the frames to vbr-neuv
#   (the fwd knodes' counters grow) where no one reads them and nothing
#   comes back;
# - dp_down open (the container released and pulled again with that
#   config): with bpf the same traffic passes, ARP/ND too; tc-pedit cannot
#   honour it and says so (a warning naming dp_down=open), and the traffic
#   stays dropped as with closed, ARP/ND resolving.
# The other container c2 is not intercepted.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/traffic.sh"
. "$(dirname "$0")/lib/dpath.sh"
ti_dpath_init

ti_host_create
ti_ctr_create c1 1
ti_ctr_create c2 2
ti_ctr_start c1
ti_ctr_start c2
ID1=$(ti_cid dp-fwd-down-1)
M1=${CTR_MAC[c1]}
NS1=${CTR_NS[c1]}
NS2=${CTR_NS[c2]}
ti_reach c1 c2

ti_log "dp_down closed: prestart c1, mode fwd"
ti_dpath_config fwd closed
ti_prestart c1 "$ID1"
ti_dpath_require_backend "prestart c1"
ti_dpath_ucmac c1 >/dev/null
if [ "$(ti_dpath_backend)" = bpf ]; then
	DROPPED0=$(ti_dpath_stat dp_down_dropped)
else
	ti_assert_eq 2 "$(ti_dpath_tc_knodes vbr-neuv)" "knodes on vbr-neuv for c1 in fwd"
	TO_DP0=$(ti_dpath_tc_stat to_dp)
fi
for ns in "$NS1" "$NS2" "$TI_HOST"; do
	ti_flush_neigh "$ns"
done
ti_no_ping "$NS2" "${CTR_IP4[c1]}"
ti_no_ping "$NS2" "${CTR_IP6[c1]}"
ti_no_ping "$TI_HOST" "${CTR_IP4[c1]}"
ti_no_ping "$NS1" "$TI_GW6"
ti_tcp_blocked "$NS1" "${CTR_IP4[c1]}" "$NS2" 5090
ti_tcp_blocked "$NS1" "${CTR_IP6[c1]}" "$NS2" 5091
ti_log "ARP and ND resolved while unicast is dropped"
ti_neigh_is "$NS2" "${CTR_IP4[c1]}" "$M1"
ti_neigh_is "$NS2" "${CTR_IP6[c1]}" "$M1"
ti_neigh_is "$TI_HOST" "${CTR_IP4[c1]}" "$M1"
ti_neigh_is "$NS1" "$TI_GW6" "$(ip -n "$TI_HOST" -j link show dev br0 | jq -r '.[0].address')"
ti_log "$(ti_dpath_counters)"
if [ "$(ti_dpath_backend)" = bpf ]; then
	DROPPED=$(ti_dpath_stat dp_down_dropped)
	[ "$DROPPED" -gt "$DROPPED0" ] || ti_fail "pc_stats dp_down_dropped did not grow ($DROPPED0 -> $DROPPED)"
	ti_assert_eq 0 "$(ti_dpath_stat to_dp)" "frames sent to the data plane while it is down"
else
	TO_DP=$(ti_dpath_tc_stat to_dp)
	[ "$TO_DP" -gt "$TO_DP0" ] || ti_fail "fwd knodes sent nothing to vbr-neuv ($TO_DP0 -> $TO_DP)"
	ti_assert_eq 0 "$(( $(ti_dpath_tc_stat from_dp_to_ctr) + $(ti_dpath_tc_stat from_dp_to_host) ))" \
		"frames vbr-neuv's knodes steered back with no data plane"
fi

ti_log "dp_down open: release c1, pull it again with dp_down open"
ti_poststop c1 "$ID1"
ti_expect_rc 0 "poststop c1"
ti_dpath_config fwd open
ti_prestart c1 "$ID1"
ti_expect_rc 0 "prestart c1 (dp_down open)"
ti_assert_eq fwd "$(jq -r .mode <<<"$(ti_status_record c1)")" "c1 mode"
if [ "$(ti_dpath_backend)" != bpf ]; then
	grep -q 'dp_down=open needs the bpf backend' <<<"$HOOK_ERR" || {
		ti_hook_show
		ti_fail "prestart with dp_down open: no warning that tc-pedit cannot honour it"
	}
	ti_log "tc-pedit: dp_down open runs as closed, with a warning"
	for ns in "$NS1" "$NS2" "$TI_HOST"; do
		ti_flush_neigh "$ns"
	done
	ti_no_ping "$NS2" "${CTR_IP4[c1]}"
	ti_no_ping "$NS2" "${CTR_IP6[c1]}"
	ti_no_ping "$NS1" "${CTR_IP6[c2]}"
	ti_tcp_blocked "$NS1" "${CTR_IP4[c1]}" "$NS2" 5092
	ti_neigh_is "$NS2" "${CTR_IP4[c1]}" "$M1"
	ti_neigh_is "$NS2" "${CTR_IP6[c1]}" "$M1"
	ti_poststop c1 "$ID1"
	ti_expect_rc 0 "poststop c1"
	ti_assert_enf_clean "after poststop"
	ti_dpath_assert_released "after poststop"
	ti_reach c1 c2
	exit 0
fi
PASSED0=$(ti_dpath_stat dp_down_passed)
for ns in "$NS1" "$NS2" "$TI_HOST"; do
	ti_flush_neigh "$ns"
done
ti_reach c1 c2
ti_reach c2 c1
ti_ping "$TI_HOST" "${CTR_IP4[c1]}"
ti_tcp "$NS1" "${CTR_IP4[c1]}" "$NS2" 5092
ti_tcp "$NS2" "${CTR_IP6[c2]}" "$NS1" 5093
ti_neigh_is "$NS2" "${CTR_IP4[c1]}" "$M1"
ti_neigh_is "$NS2" "${CTR_IP6[c1]}" "$M1"
PASSED=$(ti_dpath_stat dp_down_passed)
ti_log "$(ti_dpath_counters)"
[ "$PASSED" -gt "$PASSED0" ] || ti_fail "pc_stats dp_down_passed did not grow ($PASSED0 -> $PASSED)"

ti_poststop c1 "$ID1"
ti_expect_rc 0 "poststop c1"
ti_assert_enf_clean "after poststop"
