#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# portcullis-dp with policy_watch true loads a new policy file by itself
# (inotify on its directory), no SIGHUP needed, as portcullisctl policy show
# tells:
#  - a file written in place, and one renamed over it;
#  - a Kubernetes ConfigMap volume: policy.json -> ..data/policy.json,
#    ..data -> ..<timestamp>, updated the way the kubelet does it (a new
#    timestamped folder, a new ..data symlink renamed over the old one, the
#    old folder removed);
#  - a broken file: one error line, the policy in force stays, and it is
#    not read again until it changes;
#  - something else changing in the folder reloads nothing;
#  - SIGHUP still reloads;
#  - without policy_watch, a new file waits for SIGHUP.
#
# ti-timeout: 120
. "$(dirname "$0")/lib/core.sh"

ti_init
DP=${PORTCULLIS_DP:-$(dirname "$HOOK")/portcullis-dp}
CTL=${PORTCULLISCTL:-$(dirname "$HOOK")/portcullisctl}
for b in "$DP" "$CTL"; do
	[ -x "$b" ] || ti_fail "not built: $b"
done
SOCK=$TI_TMP/dp.sock
DIR=$TI_TMP/policy
mkdir -p "$DIR"

# policy ID: a policy of one rule, of that id
policy() {
	printf '{"default": "allow", "rules": [{"id": %s, "from": "any", "to": "any", "ports": ["tcp/%s"], "action": "deny"}]}\n' "$1" "$((1000 + $1))"
}
# rules: the ids of the rules in force
rules() { "$CTL" --socket "$SOCK" --json policy show | jq -c '[.. | objects | .id? // empty]'; }
# shellcheck disable=SC2317 # called through ti_wait_until
rules_are() { [ "$(rules)" = "$1" ]; }
expect_rules() {
	ti_wait_until 5 rules_are "$1" || ti_fail "$2: rules $(rules), expected $1: $(tail -n 5 "$LOG")"
}
loads() { grep -c 'info: policy .* loaded: ' "$LOG" || true; }

# start_dp POLICY N [WATCH]: portcullis-dp, policy_watch WATCH (default true)
start_dp() {
	jq -n --arg enf "$TI_ENF" --arg st "$TI_STATE_DIR" --arg bpf "$TI_BPF_DIR" --arg pol "$1" \
		--arg sock "$SOCK" --argjson watch "${3:-true}" '{enforcer_netns: $enf,
		state_dir: $st, bpf_pin_dir: $bpf, policy: $pol, policy_watch: $watch,
		ctl_socket: $sock, workers: 1, session_log: "/dev/null"}' >"$TI_CFG"
	LOG=$TI_TMP/dp.$2.log
	: >"$LOG"
	"$DP" --config "$TI_CFG" --foreground >"$LOG" 2>&1 </dev/null &
	DP_PID=$!
	TI_PIDS+=("$DP_PID")
	ti_wait_until 10 grep -q 'info: ready: ' "$LOG" || { cat "$LOG" >&2; ti_fail "portcullis-dp did not start"; }
}
stop_dp() {
	local rc=0
	kill -TERM "$DP_PID"
	wait "$DP_PID" || rc=$?
	ti_assert_eq 0 "$rc" "portcullis-dp's exit status"
}

ti_log "a plain file"
policy 1 >"$DIR/policy.json"
start_dp "$DIR/policy.json" 1
expect_rules "[1]" "at start"
policy 2 >"$DIR/policy.json"
expect_rules "[2]" "written in place"
policy 3 >"$DIR/new.json"
mv "$DIR/new.json" "$DIR/policy.json"
expect_rules "[3]" "renamed over"
grep -q "policy $DIR/policy.json: a new file" "$LOG" || ti_fail "no line saying why it reloaded"

ti_log "a broken file, then something else in the folder"
n=$(loads)
echo '{"default": "allow", "rules": [{"id": 4' >"$DIR/policy.json"
ti_wait_until 5 grep -q 'error: policy reload' "$LOG" || ti_fail "no error for the broken file"
expect_rules "[3]" "after a broken file"
touch "$DIR/unrelated"
echo x >"$DIR/unrelated"
rm "$DIR/unrelated"
sleep 0.5
ti_assert_eq 1 "$(grep -c 'error: policy reload' "$LOG")" "errors for one broken file"
ti_assert_eq "$n" "$(loads)" "loads while only other files changed"
kill -HUP "$DP_PID"
ti_wait_until 5 test "$(grep -c 'error: policy reload' "$LOG")" -eq 2 || ti_fail "SIGHUP did not read it"
policy 5 >"$DIR/policy.json"
expect_rules "[5]" "repaired"
stop_dp

ti_log "a ConfigMap volume"
CM=$TI_TMP/configmap
mkdir -p "$CM/..2026_01_01_00_00_00.000000001"
policy 10 >"$CM/..2026_01_01_00_00_00.000000001/policy.json"
ln -s ..2026_01_01_00_00_00.000000001 "$CM/..data"
ln -s ..data/policy.json "$CM/policy.json"
start_dp "$CM/policy.json" 2
expect_rules "[10]" "the ConfigMap at start"
# cm_update N: the kubelet's atomic update of the volume
cm_update() {
	local new=..2026_01_01_00_00_0$1.000000001 old
	old=$(readlink "$CM/..data")
	mkdir "$CM/$new"
	policy "$1" >"$CM/$new/policy.json"
	ln -s "$new" "$CM/..data_tmp"
	mv -T "$CM/..data_tmp" "$CM/..data"
	rm -rf "${CM:?}/$old"
}
cm_update 1
expect_rules "[1]" "the ConfigMap updated"
cm_update 2
expect_rules "[2]" "the ConfigMap updated again"
ti_assert_eq 2 "$(loads)" "reloads: one per update"
stop_dp

ti_log "without policy_watch"
policy 20 >"$DIR/policy.json"
start_dp "$DIR/policy.json" 3 false
expect_rules "[20]" "at start"
policy 21 >"$DIR/policy.json"
sleep 1
expect_rules "[20]" "a new file, no SIGHUP"
kill -HUP "$DP_PID"
expect_rules "[21]" "after SIGHUP"
stop_dp
exit 0
