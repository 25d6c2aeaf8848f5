#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# podman churn, with portcullis-dp running in fwd mode:
#
# - 20 containers started in parallel: every `podman run` succeeds, all 20
#   are intercepted, no two share an enforcer port name or a UCMAC, and
#   every one reaches every other (ICMP through the data plane);
# - PC_PODMAN_CYCLES (default 500) create/start/stop/remove cycles, two at a
#   time: afterwards the enforcer's interfaces, the BPF map entries, the
#   state records, the hook's leftovers on the bridge and the data plane's
#   file descriptors are what they were before, and its memory has grown by
#   no more than a bounded amount.  The counts are printed.
# ti-timeout: 900
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/dpath.sh"
. "$(dirname "$0")/lib/dp.sh"
. "$(dirname "$0")/lib/podman.sh"

N=20
CYCLES=${PC_PODMAN_CYCLES:-500}
RSS_SLACK_KB=8192

pm_init fwd open
T=$TI_TMP
echo '{"default": "allow", "rules": []}' >"$T/policy.json"
ti_dpath_config fwd open "\"policy\": \"$T/policy.json\", \"session_log\": \"$T/sessions.log\""
PORTCULLIS_DP=$PM_DP ti_dp_start

# counts KEY: one line "interfaces=.. records=.. pc_ports=.. ..."
counts() {
	local maps=""
	if [ "$TI_DPATH_BACKEND" = bpf ]; then
		maps="pc_ports=$(ti_dpath_map_count pc_ports) pc_ucmacs=$(ti_dpath_map_count pc_ucmacs)"
	fi
	printf 'enforcer_links=%s records=%s bridge_ports=%s %s dp_fds=%s dp_rss_kb=%s\n' \
		"$(ip -n "$TI_ENF_NAME" -o link | wc -l)" "$(ti_state_files | wc -l)" \
		"$(pm_bridge_ports | wc -l)" "$maps" "$(ls "/proc/$DP_PID/fd" | wc -l)" \
		"$(awk '$1 == "VmRSS:" {print $2}' "/proc/$DP_PID/status")"
}
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

ti_log "$N containers started in parallel"
pids=()
for i in $(seq "$N"); do
	pm run -d --name "c$i" "$PM_IMAGE" sleep 1000000 >"$T/run.$i.out" 2>&1 &
	pids+=($!)
done
fails=0
for i in $(seq "$N"); do
	wait "${pids[$((i - 1))]}" || { fails=$((fails + 1)); cat "$T/run.$i.out" >&2; }
done
ti_assert_eq 0 "$fails" "podman runs that failed"
kill -0 "$DP_PID" 2>/dev/null || { cat "$DP_LOG" >&2; ti_fail "portcullis-dp died"; }
st=$(ti_status_json)
ti_assert_eq "$N" "$(jq '[.[] | select(.containers[0].name | test("^c[0-9]+$"))] | length' <<<"$st")" \
	"intercepted containers"
ti_assert_eq "$N" "$(jq '[.[].ports[].ucmac] | unique | length' <<<"$st")" "distinct UCMACs"
ti_assert_eq "$N" "$(jq '[.[].ports[].ex_name] | unique | length' <<<"$st")" "distinct exPort names"
ti_assert_eq "$N" "$(jq '[.[].ports[].in_name] | unique | length' <<<"$st")" "distinct inPort names"
ips=()
for i in $(seq "$N"); do ips+=("$(pm_ip "c$i")"); done
ti_assert_eq "$N" "$(printf '%s\n' "${ips[@]}" | sort -u | wc -l)" "distinct addresses"

ti_log "every container pings every other ($((N * (N - 1))) pairs)"
for i in $(seq "$N"); do
	others=$(printf '%s\n' "${ips[@]}" | grep -vx "${ips[$((i - 1))]}" | tr '\n' ' ')
	pm exec "c$i" sh -c "for a in $others; do ping -c 1 -W 3 \$a >/dev/null || echo \"c$i -> \$a\"; done" \
		>"$T/ping.$i" 2>&1 &
	pids[$((i - 1))]=$!
done
for i in $(seq "$N"); do wait "${pids[$((i - 1))]}" || true; done
cat "$T"/ping.* >"$T/ping.all"
[ -s "$T/ping.all" ] && { cat "$T/ping.all" >&2; ti_fail "$(wc -l <"$T/ping.all") pairs could not reach each other"; }
pm rm -f -t 0 $(seq -f 'c%g' "$N") >/dev/null
ti_wait_until 10 ti_no_enf_ports || ti_fail "enforcer ports left after removing the $N"

ti_log "$CYCLES create/start/stop/remove cycles, two at a time"
# one container first, so the data plane's lazily made state exists
pm run --rm "$PM_IMAGE" true >/dev/null
before=$(counts)
ti_log "before: $before"
cycle_stream() {
	local n=$1 i
	for ((i = 0; i < n; i++)); do
		pm run --rm "$PM_IMAGE" true >/dev/null 2>>"$T/cycle.err" || echo "cycle $i failed" >>"$T/cycle.err"
	done
}
cycle_stream $((CYCLES / 2)) &
p1=$!
cycle_stream $((CYCLES - CYCLES / 2)) &
p2=$!
wait "$p1" "$p2"
if [ -s "$T/cycle.err" ]; then
	head -n 20 "$T/cycle.err" >&2
	ti_fail "$(grep -c 'failed$' "$T/cycle.err") of $CYCLES cycles failed"
fi
kill -0 "$DP_PID" 2>/dev/null || { cat "$DP_LOG" >&2; ti_fail "portcullis-dp died"; }
after=$(counts)
ti_log "after:  $after"
for k in enforcer_links records bridge_ports dp_fds pc_ports pc_ucmacs; do
	[ -n "$(field "$before" "$k")" ] || continue
	ti_assert_eq "$(field "$before" "$k")" "$(field "$after" "$k")" "$k after $CYCLES cycles"
done
grow=$(($(field "$after" dp_rss_kb) - $(field "$before" dp_rss_kb)))
ti_log "data plane RSS grew by $grow KiB over $CYCLES cycles (bound $RSS_SLACK_KB KiB)"
[ "$grow" -le "$RSS_SLACK_KB" ] || ti_fail "data plane RSS grew by $grow KiB"
ti_dp_stop
