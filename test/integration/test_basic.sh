#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Two containers on a bridge are pulled by prestart and createRuntime: the container sees the
# same picture as before (addresses, routes of all tables, rules, permanent
# neighbours, link attributes, sysctls, features - c2's eth0 with TSO off
# and GRO on, unlike a new veth), the enforcer holds
# vex/vin and vbr-neuv/vth-neuv, traffic flows v4/v6 (ICMP and TCP) to the
# gateway and between the containers.  poststop with the netns alive puts
# the exact original picture back: c1 after its process exited (netns kept by
# its /run/netns file, found through the bundle), c2 while its process still
# runs.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/picture.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/traffic.sh"
ti_init

ti_host_create
ti_ctr_create c1 1
ti_ctr_create c2 2
ti_ctr_start c1
P1=$TI_LAST_PID
ti_ctr_start c2
P2=$TI_LAST_PID
ID1="$(ti_cid basic-1)"
ID2="$(ti_cid basic-2)"

ti_log "before: connectivity"
ti_reach c1 c2
ti_reach c2 c1

# features the new port must copy, not the veth defaults it is created with
ip netns exec "${CTR_NS[c2]}" ethtool -K eth0 tso off gro on || ti_fail "ethtool -K eth0 in c2"

T=$TI_TMP
for c in c1 c2; do
	ti_dump_to "$T/$c.strict" "${CTR_NS[$c]}" strict
	ti_dump_to "$T/$c.pulled" "${CTR_NS[$c]}" pulled
done
ti_dump_to "$T/host.strict" "$TI_HOST" strict
[ ! -e "$TI_ENF" ] || ti_fail "enforcer netns exists before the first hook run"

ti_log "prestart c1, createRuntime c2"
ti_prestart c1 "$ID1"
ti_expect_rc 0 "prestart c1"
ti_stage createRuntime "$(ti_state_pre "$ID2" "$P2" "${CTR_BUNDLE[c2]}")"
ti_expect_rc 0 "createRuntime c2"

ti_log "after: container pictures"
for c in c1 c2; do
	ti_dump_to "$T/$c.after" "${CTR_NS[$c]}" pulled
	ti_assert_same "$T/$c.pulled" "$T/$c.after" "$c after prestart"
done
c2_feature() { ip netns exec "${CTR_NS[c2]}" ethtool -k eth0 | awk -v f="$1:" '$1 == f {print $2}'; }
ti_assert_eq off "$(c2_feature tcp-segmentation-offload)" "c2's new eth0: TSO off as on the original"
ti_assert_eq on "$(c2_feature generic-receive-offload)" "c2's new eth0: GRO on as on the original"

ti_log "after: enforcer picture"
ti_assert_enf_pair
ti_assert_pulled c1 "$P1"
ti_assert_pulled c2 "$P2"
ti_assert_eq "$(printf '%s\n' "vex$P1-0" "vex$P2-0" "vin$P1-0" "vin$P2-0" | sort | tr '\n' ' ')" \
	"$(ti_enf_ports | tr '\n' ' ')" "enforcer ports"

ti_log "after: state"
ST=$(ti_status_json)
ti_assert_eq 2 "$(jq length <<<"$ST")" "status records"
ti_assert_record "$ST" c1 "$P1" "$ID1"
ti_assert_record "$ST" c2 "$P2" "$ID2"
for c in c1 c2; do
	p=${CTR_PIDS[$c]## }
	ti_assert_eq "eth0 vex$p-0 vin$p-0 veth ${CTR_MAC[$c]}" \
		"$(jq -r --argjson ino "$(ti_netns_inode "${CTR_NS[$c]}")" \
			'.[] | select(.netns_inode == $ino) | .ports[0] | "\(.name) \(.ex_name) \(.in_name) \(.kind) \(.mac)"' <<<"$ST")" \
		"$c port record"
done
ti_hook status
ti_expect_rc 0 "status"
grep -q "${ID1:0:12}" <<<"$HOOK_OUT" && grep -q "${ID2:0:12}" <<<"$HOOK_OUT" ||
	ti_fail "status does not name both containers: $HOOK_OUT"

ti_log "after: connectivity"
ti_reach c1 c2
ti_reach c2 c1
ti_tcp "${CTR_NS[c2]}" "${CTR_IP4[c2]}" "${CTR_NS[c1]}" 5001
ti_tcp "${CTR_NS[c1]}" "${CTR_IP6[c1]}" "${CTR_NS[c2]}" 5002
ti_tcp "$TI_HOST" "$TI_GW4" "${CTR_NS[c1]}" 5003
ti_tcp "${CTR_NS[c2]}" "${CTR_IP6[c2]}" "$TI_HOST" 5004

ti_log "poststop c1 after its process exited (netns alive)"
ti_kill "$P1"
ti_poststop c1 "$ID1"
ti_expect_rc 0 "poststop c1"
ti_dump_to "$T/c1.back" "${CTR_NS[c1]}" strict
ti_assert_same "$T/c1.strict" "$T/c1.back" "c1 after poststop"
ti_assert_eq "vex$P2-0 vin$P2-0 " "$(ti_enf_ports | tr '\n' ' ')" "enforcer ports after poststop c1"
ST=$(ti_status_json)
ti_assert_eq "$ID2" "$(jq -r '[.[].containers[].id] | join(" ")' <<<"$ST")" "status after poststop c1"

ti_log "poststop c2 (process alive)"
ti_poststop c2 "$ID2"
ti_expect_rc 0 "poststop c2"
ti_dump_to "$T/c2.back" "${CTR_NS[c2]}" strict
ti_assert_same "$T/c2.strict" "$T/c2.back" "c2 after poststop"
ti_assert_enf_clean "after both poststops"
ti_assert_enf_pair
ti_dump_to "$T/host.back" "$TI_HOST" strict
ti_assert_same "$T/host.strict" "$T/host.back" "host netns after both poststops"
ST=$(ti_status_json)
ti_assert_eq 0 "$(jq length <<<"$ST")" "status records after both poststops"
LEFT=$(find "$TI_STATE_DIR" -mindepth 1 -name '*.json*' -printf '%f ')
[ -z "$LEFT" ] || ti_fail "files left in the state dir: $LEFT"

ti_log "after release: connectivity"
ti_reach c1 c2
ti_reach c2 c1
ti_tcp "${CTR_NS[c2]}" "${CTR_IP4[c2]}" "${CTR_NS[c1]}" 5005

ti_log "poststop again is a no-op"
ti_poststop c2 "$ID2"
ti_expect_rc 0 "second poststop c2"
ti_dump_to "$T/c2.back2" "${CTR_NS[c2]}" strict
ti_assert_same "$T/c2.strict" "$T/c2.back2" "c2 after a second poststop"
