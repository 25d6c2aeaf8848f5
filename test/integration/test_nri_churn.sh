#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Pod churn through portcullis-nri on a real containerd, portcullis-dp in
# fwd:
#  - 20 pod cycles without the plugin, then 20 with it: how much longer
#    RunPodSandbox takes (logged: median and p90 of each);
#  - 200 pod cycles, two at a time (two CRI clients of 100 cycles each):
#    every pod is intercepted when RunPodSandbox returns (its record and
#    inPort are there, checked before its stop), and every cycle passes;
#  - nothing leaks: no enforcer port, record, journal, bridge port, CNI
#    result, IPAM reservation or netns more than before; the plugin holds
#    as many descriptors as after the first 20 cycles and its memory grew by
#    less than 512 KiB; it warned about nothing;
#  - the time of the 200 cycles is logged.
#
# ti-timeout: 900
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/containerd.sh"
. "$(dirname "$0")/lib/nri.sh"

nri_init
NS=churn-$TI_ID
nri_config fwd closed
before=$(nri_counts)
CHECK=$TI_TMP/check.sh
cat >"$CHECK" <<EOS
#!/bin/bash
# a pod intercepted: its record, and its eth0's inPort in the enforcer
ino=\$(stat -L -c %i "\$1") || exit 1
f=$TI_STATE_DIR/netns-\$ino.json
[ -f "\$f" ] || { echo "no record for \$1"; exit 1; }
in=\$(jq -r '.ports[] | select(.name == "eth0") | .in_name' "\$f")
ip -n $TI_ENF_NAME link show dev "\$in" >/dev/null || { echo "no inPort \$in"; exit 1; }
EOS
chmod +x "$CHECK"

ti_log "20 pods without the plugin"
base=$(nri_cri_long cycles 20 "base-$TI_ID" "$NS") || ti_fail "the cycles without the plugin failed"
nri_dp_start
nri_start
ti_log "20 pods with the plugin"
warm=$(nri_cri_long cycles 20 "warm-$TI_ID" "$NS" "$CHECK") || ti_fail "the cycles with the plugin failed"
ti_assert_eq "[]" "$(jq -c .failures <<<"$warm")" "pods not intercepted"
ti_log "RunPodSandbox without the plugin: $(nri_stats runp_ms <<<"$base")"
ti_log "RunPodSandbox with the plugin:    $(nri_stats runp_ms <<<"$warm")"
ti_log "StopPodSandbox without / with:    $(nri_stats stopp_ms <<<"$base") / $(nri_stats stopp_ms <<<"$warm")"
proc0=$(nri_proc "$NRI_PID")

ti_log "200 pods, two at a time"
t0=$SECONDS
nri_cri_long cycles 100 "a-$TI_ID" "$NS" "$CHECK" >"$TI_TMP/a.json" 2>"$TI_TMP/a.err" &
pa=$!
nri_cri_long cycles 100 "b-$TI_ID" "$NS" "$CHECK" >"$TI_TMP/b.json" 2>"$TI_TMP/b.err" &
pb=$!
TI_PIDS+=("$pa" "$pb")
wait "$pa" || ti_fail "client a failed: $(cat "$TI_TMP/a.err")"
wait "$pb" || ti_fail "client b failed: $(cat "$TI_TMP/b.err")"
secs=$((SECONDS - t0))
for c in a b; do
	ti_assert_eq 100 "$(jq .cycles "$TI_TMP/$c.json")" "cycles of client $c"
	ti_assert_eq "[]" "$(jq -c .failures "$TI_TMP/$c.json")" "pods of client $c not intercepted"
done
ti_log "200 cycles in $secs s; RunPodSandbox $(jq -s '{runp_ms: map(.runp_ms) | add}' \
	"$TI_TMP/a.json" "$TI_TMP/b.json" | nri_stats runp_ms)"
proc1=$(nri_proc "$NRI_PID")
after=$(nri_counts)
ti_log "before: $before; the plugin after 20 pods: $proc0"
ti_log "after:  $after; the plugin after 220 pods: $proc1"
ti_assert_eq "$before" "$after" "what pods and interception leave on the host"
ti_assert_eq "${proc0%% *}" "${proc1%% *}" "the plugin's open descriptors"
grown=$((${proc1##*=} - ${proc0##*=}))
[ "$grown" -lt 512 ] || ti_fail "the plugin's memory grew by $grown KiB over 200 pods"
grep -q 'warn\|error' "$NRI_LOG" && { grep 'warn\|error' "$NRI_LOG" | head >&2; ti_fail "the plugin warned"; }
nri_stop
nri_dp_stop
exit 0
