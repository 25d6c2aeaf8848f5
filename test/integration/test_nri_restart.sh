#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# portcullis-nri and containerd restarted while pods run, portcullis-dp in
# fwd:
#  - the plugin killed (SIGKILL): the pods it intercepted stay intercepted
#    (records, enforcer ports, traffic through the data plane);
#  - while it is down, a new pod starts unintercepted, and an intercepted
#    pod is stopped and removed (the CNI teardown runs without it);
#  - the plugin started again: Synchronize intercepts the pod that started
#    meanwhile (with its container's name), releases what was left of the
#    removed one, and leaves the others' interception as it was;
#  - containerd restarted: the plugin connects again by itself, the pods
#    stay intercepted, and a pod started afterwards is intercepted;
#  - containerd 1.7 sends no stop or removal for pods older than its own
#    start (it keeps NRI's pod state in memory only): such pods are released
#    once their namespace is gone (the plugin looks every 5 s), after their
#    CNI teardown, which still succeeds; a pod started after containerd's
#    restart is released at its stop as usual;
#  - afterwards nothing is left (counted before and after).
#
# ti-timeout: 300
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/containerd.sh"
. "$(dirname "$0")/lib/nri.sh"

nri_init
NS=rs-$TI_ID
nri_config fwd closed
before=$(nri_counts)
nri_dp_start
nri_start
# shellcheck disable=SC2016 # $0 is the container's shell's: the pod's name
WEB_CMD='mkdir -p /tmp/www && echo hello-from-$0 >/tmp/www/index.html &&
	exec httpd -f -p 8080 -h /tmp/www'

# fetch FROM TO: FROM's container gets TO's page
fetch() {
	local page
	page=$(nri_exec "$1" timeout 5 wget -q -O - "http://${POD_IP[$2]}:8080/") ||
		ti_fail "$1 cannot fetch from $2: $page"
	ti_assert_eq "hello-from-$2" "$page" "the page $1 fetched from $2"
}
# rec_id KEY: what tells one interception from another: created time, inPorts
rec_id() { nri_record "${POD_NS[$1]}" | jq -c '[.created, [.ports[].in_name]]'; }

nri_pod a "a-$TI_ID" "$NS" -- sh -c "$WEB_CMD" a
nri_pod c "c-$TI_ID" "$NS" -- sh -c "$WEB_CMD" c
for k in a c; do
	nri_pulled "$k" || ti_fail "pod $k is not intercepted"
done
a_id=$(rec_id a)

ti_log "the plugin killed"
kill -KILL "$NRI_PID"
wait "$NRI_PID" 2>/dev/null || true
nri_pod b "b-$TI_ID" "$NS" -- sh -c "$WEB_CMD" b
nri_unpulled b || ti_fail "pod b, started while the plugin was down, is intercepted"
c_ino=$(stat -L -c %i "${POD_NS[c]}")
nri_stop_pod c
[ -f "$TI_STATE_DIR/netns-$c_ino.json" ] || ti_fail "pod c's record went without the plugin"
nri_pulled a || ti_fail "pod a lost its interception with the plugin"
fetch b a
fetch a b
ti_log "while it was down: $(nri_counts)"

ti_log "the plugin started again"
nri_start
ti_wait_until 10 nri_pulled b || ti_fail "Synchronize did not intercept pod b: $(cat "$NRI_LOG")"
# shellcheck disable=SC2317 # called through ti_wait_until
c_gone() { [ ! -e "$TI_STATE_DIR/netns-$c_ino.json" ]; }
ti_wait_until 10 c_gone || ti_fail "Synchronize did not release pod c's record: $(cat "$NRI_LOG")"
# by Synchronize (the runtime does not have it) or by the look at the
# namespaces of the records found at start (its namespace is gone)
grep -q "pod ${POD_ID[c]}.*: released: " "$NRI_LOG" ||
	ti_fail "no log line for the release of pod c: $(cat "$NRI_LOG")"
ti_assert_eq "$a_id" "$(rec_id a)" "pod a's interception after the plugin's restart"
ti_assert_eq "b-$TI_ID-c" \
	"$(nri_record "${POD_NS[b]}" | jq -r '.containers[] | select(.sandbox | not) | .k8s_container')" \
	"pod b's container, from Synchronize"
now=$(nri_counts)
ti_assert_eq "enforcer_ports=4 records=2 journals=0 bridge_ports=2 cni_results=2 ipam=2 netns=2" \
	"$now" "pods a and b intercepted, nothing of c"
fetch a b
fetch b a
grep -q 'warn\|error' "$NRI_LOG" && { cat "$NRI_LOG" >&2; ti_fail "the plugin warned"; }

ti_log "containerd restarted"
nri_cd_restart
nri_wait_log "$NRI_LOG" 'registered as plugin 10-portcullis again' 15 "portcullis-nri's reconnection"
ti_wait_until 10 test "$(grep -c 'info: synchronize: ' "$NRI_LOG")" -ge 2 ||
	ti_fail "no Synchronize after containerd's restart: $(cat "$NRI_LOG")"
ti_assert_eq "$a_id" "$(rec_id a)" "pod a's interception after containerd's restart"
nri_pulled b || ti_fail "pod b lost its interception with containerd's restart"
nri_pod d "d-$TI_ID" "$NS" -- sh -c "$WEB_CMD" d
nri_pulled d || ti_fail "pod d, started after containerd's restart, is not intercepted"
fetch d a
fetch b d

ti_log "pods older than containerd's restart: no stop event"
nri_stop_pod d
grep -q "pod $NS/d-$TI_ID (${POD_ID[d]}): released at stop" "$NRI_LOG" ||
	ti_fail "pod d was not released at its stop: $(cat "$NRI_LOG")"
for k in a b; do
	ino=$(stat -L -c %i "${POD_NS[$k]}")
	nri_stop_pod "$k"
	# shellcheck disable=SC2317 # called through ti_wait_until
	released() { [ ! -e "$TI_STATE_DIR/netns-$1.json" ]; }
	ti_wait_until 12 released "$ino" || ti_fail "pod $k's record stays: $(cat "$NRI_LOG")"
	grep -q "pod ${POD_ID[$k]}: released: its network namespace is gone, without a stop event" \
		"$NRI_LOG" || ti_fail "no log line for pod $k's release: $(cat "$NRI_LOG")"
	grep -q "pod $NS/$k-$TI_ID (${POD_ID[$k]}): released at stop" "$NRI_LOG" &&
		ti_fail "a stop event for pod $k: containerd does send them now (see nri/README.md)"
done
grep -i 'failed to destroy network' "$CD_DIR/containerd.log" &&
	ti_fail "containerd's CNI teardown failed"
after=$(nri_counts)
ti_log "before: $before"
ti_log "after:  $after"
[ "$before" = "$after" ] || { cat "$NRI_LOG" >&2; ti_fail "left behind: $after"; }
nri_stop
nri_dp_stop
exit 0
