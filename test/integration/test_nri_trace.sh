#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The NRI protocol against a real containerd 1.7: pc-nri-trace registers
# with a private containerd and prints the pod events it gets while a pod
# with one busybox container is run, stopped and removed through CRI.
#
#  - Synchronize lists a pod created before the tracer registered, with its
#    netns and pid;
#  - RUN_POD_SANDBOX carries the pod's id, name, namespace, uid, pid and a
#    netns path that exists and whose eth0 holds an address of the CNI
#    subnet while the event is being handled (the address the container
#    itself then sees on eth0);
#  - STOP_POD_SANDBOX, then REMOVE_POD_SANDBOX, in that order, for the pod;
#  - with --fail-run, RunPodSandbox fails with the plugin's message and no
#    pod is left ready;
#  - a plugin that answers after containerd's 2 s is dropped (it exits
#    non-zero, the connection closed) and the pod starts.
# What STOP_POD_SANDBOX carries (netns, pid) and whether the remembered
# netns still holds eth0 then is measured and logged, not asserted.
#
# ti-timeout: 300
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/containerd.sh"

TRACE=${PC_NRI_TRACE:-$TI_ROOT/build/bin/pc-nri-trace}

# trace_start NAME IDX OUT [ARGS...]: a tracer in the background (TR_PID), registered.
trace_start() {
	local name=$1 idx=$2 out=$3
	shift 3
	"$TRACE" --socket "$CD_NRI_SOCK" --name "$name" --idx "$idx" --probe "$@" \
		>"$out" 2>"$out.err" &
	TR_PID=$!
	TI_PIDS+=("$TR_PID")
	ti_wait_until 10 trace_has "$out" '.event == "REGISTERED"' ||
		{ cat "$out.err" >&2; ti_fail "$name did not register"; }
}

# trace_has FILE JQ_FILTER: some line of FILE matches
trace_has() { jq -e -s "any(.[]; $2)" "$1" >/dev/null 2>&1; }

# trace_line FILE EVENT POD_ID: the first line of that event for that pod
trace_line() {
	jq -c -s --arg e "$2" --arg id "$3" 'map(select(.event == $e and .id == $id))[0]' "$1"
}

# trace_stop: SIGTERM ends the tracer cleanly (exit 0)
trace_stop() {
	local rc=0
	kill -TERM "$TR_PID"
	wait "$TR_PID" || rc=$?
	[ "$rc" -eq 0 ] || { cat "$1.err" >&2; ti_fail "tracer exited $rc on SIGTERM"; }
}

# shellcheck disable=SC2317 # called through ti_wait_until
pid_gone() { ! kill -0 "$1" 2>/dev/null; }

in_subnet() { [[ $1 == "$CD_SUBNET".*/24 ]]; }

[ -x "$TRACE" ] || ti_fail "pc-nri-trace not built: $TRACE"
cd_init

# ---------------------------------------------------------------- Synchronize
early=$(cd_runp "early-$TI_ID" "ns-$TI_ID" "uid-early-$TI_ID") ||
	ti_fail "RunPodSandbox (early) failed"
early_id=$(jq -r .id <<<"$early")
early_ns=$(jq -r .netns <<<"$early")
T1=$TI_TMP/trace1.jsonl
trace_start "trace-$TI_ID" 50 "$T1"
ti_wait_until 5 trace_has "$T1" '.event == "SYNCHRONIZE"' || ti_fail "no Synchronize"
sync=$(jq -c -s --arg id "$early_id" \
	'map(select(.event == "SYNCHRONIZE"))[0].pods[] | select(.id == $id)' "$T1")
[ -n "$sync" ] || ti_fail "Synchronize does not list the pod created before: $(cat "$T1")"
ti_assert_eq "early-$TI_ID" "$(jq -r .name <<<"$sync")" "Synchronize: pod name"
ti_assert_eq "$early_ns" "$(jq -r .netns <<<"$sync")" "Synchronize: netns"
[ "$(jq -r .pid <<<"$sync")" -gt 0 ] || ti_fail "Synchronize: no pid: $sync"
ti_log "Synchronize lists the early pod: $sync"
ti_log "registered in $(jq -r -s 'map(select(.event == "REGISTERED"))[0].ms' "$T1") ms"

# ---------------------------------------------------------------- run
pod=$(cd_runp "web-$TI_ID" "ns-$TI_ID" "uid-web-$TI_ID") || ti_fail "RunPodSandbox failed"
pod_id=$(jq -r .id <<<"$pod")
pod_ns=$(jq -r .netns <<<"$pod")
ctr=$(cd_cri create-start "$pod_id" "web-$TI_ID" "ns-$TI_ID" "uid-web-$TI_ID" "$CD_IMAGE" \
	sleep 3600) || ti_fail "CreateContainer/StartContainer failed"
ti_log "RunPodSandbox $(jq -r .ms <<<"$pod") ms, create+start $(jq -r .ms <<<"$ctr") ms"
run=$(trace_line "$T1" RUN_POD_SANDBOX "$pod_id")
[ "$run" != null ] || ti_fail "no RUN_POD_SANDBOX for $pod_id: $(cat "$T1")"
ti_log "RUN_POD_SANDBOX: $run"
ti_assert_eq "web-$TI_ID" "$(jq -r .name <<<"$run")" "RUN: name"
ti_assert_eq "ns-$TI_ID" "$(jq -r .namespace <<<"$run")" "RUN: namespace"
ti_assert_eq "uid-web-$TI_ID" "$(jq -r .uid <<<"$run")" "RUN: uid"
ti_assert_eq "$pod_ns" "$(jq -r .netns <<<"$run")" "RUN: netns (as CRI reports it)"
[[ $pod_ns == /var/run/netns/cni-* ]] || ti_fail "RUN: netns $pod_ns is not a CNI netns"
[ "$(jq -r .pid <<<"$run")" -gt 0 ] || ti_fail "RUN: no pid"
addr=$(jq -r '.eth0 // [] | map(select(test("^[0-9.]+/"))) | .[0] // ""' <<<"$run")
in_subnet "$addr" || ti_fail "RUN: eth0 had no address of $CD_SUBNET.0/24 at the event: $run"
[ -e "$pod_ns" ] || ti_fail "netns $pod_ns is gone while the pod runs"
# the container sees the same address in its eth0 (CRI ExecSync)
ctr_id=$(jq -r .id <<<"$ctr")
seen=$(cd_cri exec "$ctr_id" ip -4 -o addr show dev eth0) || ti_fail "ExecSync failed"
[[ $(jq -r .stdout <<<"$seen") == *" inet ${addr} "* ]] ||
	ti_fail "the container's eth0 lacks $addr: $(jq -r .stdout <<<"$seen")"
shim=$(printf '%s/k8s.io/%s' "$CD_SOCK" "$pod_id" | sha256sum | cut -d' ' -f1)
[ -S "/run/containerd/s/$shim" ] || ti_fail "the pod's shim socket is not where cleanup looks"

# ---------------------------------------------------------------- stop, remove
stopped=$(cd_cri stopp "$pod_id") || ti_fail "StopPodSandbox failed"
stop=$(trace_line "$T1" STOP_POD_SANDBOX "$pod_id")
[ "$stop" != null ] || ti_fail "no STOP_POD_SANDBOX for $pod_id"
ti_log "StopPodSandbox $(jq -r .ms <<<"$stopped") ms; STOP_POD_SANDBOX: $stop"
ti_assert_eq "web-$TI_ID" "$(jq -r .name <<<"$stop")" "STOP: name"
ti_assert_eq "ns-$TI_ID" "$(jq -r .namespace <<<"$stop")" "STOP: namespace"
ti_log "measured at STOP_POD_SANDBOX: netns carried '$(jq -r .netns <<<"$stop")'," \
	"pid $(jq -r .pid <<<"$stop"), eth0 in the remembered netns: $(jq -c .eth0 <<<"$stop")"
removed=$(cd_cri rmp "$pod_id") || ti_fail "RemovePodSandbox failed"
rm_line=$(trace_line "$T1" REMOVE_POD_SANDBOX "$pod_id")
[ "$rm_line" != null ] || ti_fail "no REMOVE_POD_SANDBOX for $pod_id"
ti_log "RemovePodSandbox $(jq -r .ms <<<"$removed") ms; REMOVE_POD_SANDBOX: $rm_line"
[ ! -e "$pod_ns" ] || ti_fail "netns $pod_ns still there after RemovePodSandbox"
order=$(jq -r -s --arg id "$pod_id" 'map(select(.id == $id) | .event) | join(" ")' "$T1")
ti_assert_eq "RUN_POD_SANDBOX STOP_POD_SANDBOX REMOVE_POD_SANDBOX" "$order" "event order"
trace_stop "$T1"

# ---------------------------------------------------------------- a failing plugin
T2=$TI_TMP/trace2.jsonl
trace_start "fail-$TI_ID" 51 "$T2" --fail-run
if out=$(cd_cri runp "doomed-$TI_ID" "ns-$TI_ID" "uid-doomed-$TI_ID" 2>&1); then
	jq -r .id <<<"$out" >>"$CD_DIR/pods.list"
	ti_fail "RunPodSandbox succeeded although the plugin failed it: $out"
fi
ti_log "RunPodSandbox with a failing plugin: $out"
[[ $out == *"told to fail pod"* ]] || ti_fail "the failure does not carry the plugin's message"
trace_has "$T2" '.event == "RUN_POD_SANDBOX" and .name == "doomed-'"$TI_ID"'"' ||
	ti_fail "the failing tracer saw no RUN_POD_SANDBOX"
ready=$(cd_cri pods | jq -r --arg n "doomed-$TI_ID" \
	'map(select(.name == $n and .state == "SANDBOX_READY")) | length')
ti_assert_eq 0 "$ready" "ready pods named doomed-$TI_ID"
trace_stop "$T2"

# ---------------------------------------------------------------- a plugin too slow
# containerd waits plugin_request_timeout (2 s), then drops the plugin and
# starts the pod anyway: what nri.h tells handlers to stay well within
T3=$TI_TMP/trace3.jsonl
trace_start "slow-$TI_ID" 52 "$T3" --delay-run 3000
slow=$(cd_runp "slow-$TI_ID" "ns-$TI_ID" "uid-slow-$TI_ID") ||
	ti_fail "RunPodSandbox failed with a plugin that answers late"
ms=$(jq -r .ms <<<"$slow")
ti_log "RunPodSandbox with a plugin 3 s late: $ms ms"
[ "$ms" -ge 1900 ] || ti_fail "RunPodSandbox did not wait for the plugin ($ms ms)"
ti_wait_until 10 pid_gone "$TR_PID" || ti_fail "the slow tracer is still running"
rc=0
wait "$TR_PID" || rc=$?
ti_log "the slow tracer exited $rc: $(tail -n 1 "$T3.err")"
[ "$rc" -ne 0 ] || ti_fail "the slow tracer exited 0 although the runtime dropped it"
exit 0
