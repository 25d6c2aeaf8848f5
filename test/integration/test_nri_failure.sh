#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# portcullis-nri when it cannot intercept, on a real containerd: the state
# lock held by another process makes the pull wait in vain.
#  - on_failure=closed: the plugin answers RunPodSandbox with an error
#    within its budget of 1 s (containerd waits 2 s), and RunPodSandbox
#    fails with the plugin's reason (the pod is not started, the plugin
#    stays registered); the next pod is intercepted once the lock is free;
#  - on_failure=open: the pod starts at once, unintercepted, with a warning
#    naming it, and is intercepted a moment later, once the lock is free;
#  - a pod on the host's network is left alone (it has no namespace of its
#    own) and starts, with either;
#  - mode off in the configuration: pods are left alone;
#  - a bad command line or configuration, or a socket where nothing
#    listens: exit non-zero with one line on stderr.
#
# ti-timeout: 300
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/containerd.sh"
. "$(dirname "$0")/lib/nri.sh"

nri_init
NS=fail-$TI_ID
before=$(nri_counts)

# hold_lock SECONDS: the state lock taken by another process (HOLD_PID)
hold_lock() {
	mkdir -p "$TI_STATE_DIR"
	flock -x "$TI_STATE_DIR/lock" sleep "$1" &
	HOLD_PID=$!
	TI_PIDS+=("$HOLD_PID")
	# shellcheck disable=SC2317 # called through ti_wait_until
	held() { ! flock -n -x "$TI_STATE_DIR/lock" true; }
	ti_wait_until 5 held || ti_fail "the lock is not held"
}

ti_log "the command line and configuration"
for args in "--bogus" "--idx 7" "--name=" "extra" "--config $TI_TMP/none.json"; do
	rc=0
	# shellcheck disable=SC2086 # the arguments split on purpose
	"$NRI_BIN" $args --socket "$CD_NRI_SOCK" >"$TI_TMP/out" 2>"$TI_TMP/err" || rc=$?
	ti_assert_eq 2 "$rc" "exit status of portcullis-nri $args"
	ti_assert_eq 1 "$(wc -l <"$TI_TMP/err")" "lines on stderr for $args: $(cat "$TI_TMP/err")"
done
rc=0
"$NRI_BIN" --socket "$TI_TMP/nothing.sock" 2>"$TI_TMP/err" || rc=$?
ti_assert_eq 1 "$rc" "exit status without a runtime"
ti_assert_eq 1 "$(wc -l <"$TI_TMP/err")" "lines on stderr without a runtime: $(cat "$TI_TMP/err")"
grep -q "connect $TI_TMP/nothing.sock" "$TI_TMP/err" || ti_fail "the line does not say why: $(cat "$TI_TMP/err")"
ti_assert_eq "portcullis-nri $(sed -n 's/^project(portcullis VERSION \([0-9.]*\).*/\1/p' \
	"$TI_ROOT/CMakeLists.txt")" "$("$NRI_BIN" --version)" "--version"

ti_log "on_failure closed"
nri_config fwd closed
nri_dp_start
nri_start -v
hold_lock 3
t0=$(date +%s%N)
if out=$(cd_cri runp "doomed-$TI_ID" "$NS" "uid-doomed" 2>&1); then
	jq -r .id <<<"$out" >>"$CD_DIR/pods.list"
	ti_fail "RunPodSandbox succeeded while the plugin could not intercept: $out"
fi
ms=$((($(date +%s%N) - t0) / 1000000))
ti_log "RunPodSandbox failed after $ms ms: $out"
[[ $out == *"portcullis: pod $NS/doomed-$TI_ID not intercepted (on_failure closed)"*"still held after 800 ms by pid "* ]] ||
	ti_fail "the failure does not carry the plugin's reason"
# the plugin's answer: from the event's arrival to the error status
t_in=$(nri_log_time "debug: state change: event 1, pod ")
t_out=$(nri_log_time "warn: StateChange: answered with error")
if [ -z "$t_in" ] || [ -z "$t_out" ]; then
	ti_fail "the plugin's log lacks the event or its answer: $(cat "$NRI_LOG")"
fi
ms=$(nri_ms_between "$t_in" "$t_out")
ti_log "the plugin answered in $ms ms"
[ "$ms" -lt 1000 ] || ti_fail "the plugin answered in $ms ms: over its budget of 1 s (containerd waits 2 s)"
ti_assert_eq 0 "$(cd_cri pods | jq --arg n "doomed-$TI_ID" 'map(select(.name == $n and .state == "SANDBOX_READY")) | length')" \
	"ready pods named doomed-$TI_ID"
wait "$HOLD_PID"
kill -0 "$NRI_PID" || ti_fail "the plugin is gone"
nri_pod ok "ok-$TI_ID" "$NS" -- sleep 3600
nri_pulled ok || ti_fail "a pod after the lock was freed is not intercepted"
nri_runp host "host-$TI_ID" "$NS" --host-network || ti_fail "a host-network pod did not start"
grep -q "pod ${POD_ID[host]}: left alone: it has no network namespace of its own" "$NRI_LOG" ||
	ti_fail "no line for the host-network pod: $(cat "$NRI_LOG")"
nri_stop_pod ok
nri_stop_pod host
nri_stop

ti_log "on_failure open"
nri_config fwd open
nri_start
hold_lock 4
nri_runp late "late-$TI_ID" "$NS" || ti_fail "RunPodSandbox failed with on_failure open"
nri_unpulled late || ti_fail "the pod is intercepted although the lock was held"
ti_log "RunPodSandbox took $NRI_RUNP_MS ms with the lock held"
grep -q "warn: pod $NS/late-$TI_ID starts unintercepted (on_failure open): .*still held after [0-9]* ms by pid " \
	"$NRI_LOG" || ti_fail "no warning naming the pod: $(cat "$NRI_LOG")"
ti_wait_until 10 nri_pulled late || ti_fail "the pod was not intercepted once the lock was free: $(cat "$NRI_LOG")"
grep -q "pod $NS/late-$TI_ID (${POD_ID[late]}): intercepted" "$NRI_LOG" ||
	ti_fail "no line for the late interception"
nri_stop_pod late
nri_stop

ti_log "mode off"
nri_config off closed
nri_start
nri_pod off "off-$TI_ID" "$NS" -- sleep 3600
nri_unpulled off || ti_fail "a pod was intercepted with mode off"
grep -q "pod ${POD_ID[off]}: left alone: its mode is off" "$NRI_LOG" || ti_fail "no line for mode off"
nri_stop_pod off
nri_stop
nri_dp_stop
after=$(nri_counts)
ti_assert_eq "$before" "$after" "what pods and interception leave on the host"
exit 0
