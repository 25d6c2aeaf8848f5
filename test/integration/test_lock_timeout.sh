#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The state lock is waited for lock_timeout_ms, no longer: while another
# process holds it, prestart gives up after the bound and on_failure
# applies (closed: the hook fails with one line; open: the container starts
# unintercepted with a warning), and the line says who holds the lock: the
# holder's own note when it left one (pid, command, what for, since when),
# else its pid and command from /proc/locks; a hook busy with a pull of
# many ports is named by the note it wrote.  portcullis-dp's set-up of the
# enforcer waits as long and says the same.  Once the lock is free the
# same container is intercepted and released as usual.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/picture.sh"
. "$(dirname "$0")/lib/pull.sh"
ti_init
T=$TI_TMP
LOCK=$TI_STATE_DIR/lock
BOUND=1500
BUSY_PORTS=60

ti_host_create
ti_ctr_create c1 1
ti_ctr_start c1
P1=$TI_LAST_PID
ID=$(ti_cid c1)
ti_dump_to "$T/c1.before" "${CTR_NS[c1]}" strict

# hold [NOTE]: a process of this test takes the lock (and writes NOTE into it, %d: its pid)
hold() {
	python3 -c '
import fcntl, os, sys, time
f = open(sys.argv[1], "r+" if os.path.exists(sys.argv[1]) else "w+")
fcntl.flock(f, fcntl.LOCK_EX)
if sys.argv[2]:
    f.truncate(0)
    f.write(sys.argv[2].replace("%d", str(os.getpid())) + "\n")
    f.flush()
time.sleep(120)
' "$LOCK" "${1:-}" &
	HOLDER=$!
	TI_PIDS+=("$HOLDER")
	ti_wait_until 5 held || ti_fail "the test could not take the lock"
}
held() { ! flock -n -x "$LOCK" true; }
unhold() {
	kill "$HOLDER"
	wait "$HOLDER" 2>/dev/null || true
	held && ti_fail "the lock is still held"
	return 0
}

# timed_prestart: prestart of c1, MS its wall time
timed_prestart() {
	local t0
	t0=$(date +%s%N)
	ti_prestart c1 "$ID"
	MS=$((($(date +%s%N) - t0) / 1000000))
	ti_log "prestart returned $HOOK_RC after $MS ms"
	((MS >= BOUND)) || ti_fail "prestart gave up after $MS ms, before the bound of $BOUND ms"
	((MS < BOUND + 2500)) || ti_fail "prestart took $MS ms, far past the bound of $BOUND ms"
}

# untouched WHAT: no interception, c1 as it was
untouched() {
	ti_assert_no_interception "$1"
	[ ! -e "$TI_ENF" ] || ti_fail "$1: the enforcer netns was created"
	ti_dump_to "$T/c1.after" "${CTR_NS[c1]}" strict
	ti_assert_same "$T/c1.before" "$T/c1.after" "c1 after $1"
}

ti_log "on_failure closed, the lock held by a process that left no note"
hold
ti_config closed "\"lock_timeout_ms\": $BOUND"
timed_prestart
ti_expect_rc 1 "prestart with the lock held, on_failure closed"
WANT="container $ID not started: state lock $LOCK still held after $BOUND ms by pid $HOLDER (python3), which left no note"
[ "$(grep -c "not started" <<<"$HOOK_ERR")" = 1 ] && grep -qF "$WANT" <<<"$HOOK_ERR" ||
	{ ti_hook_show; ti_fail "the reason is not one line naming the holder: want '$WANT'"; }
untouched "closed, lock held"

ti_log "portcullis-dp's set-up of the enforcer waits as long, no longer"
DP=${PORTCULLIS_DP:-$(dirname "$HOOK")/portcullis-dp}
t0=$(date +%s%N)
DP_RC=0
timeout 30 "$DP" --config "$TI_CFG" --foreground >"$T/dp.out" 2>&1 </dev/null || DP_RC=$?
MS=$((($(date +%s%N) - t0) / 1000000))
ti_log "portcullis-dp exited $DP_RC after $MS ms: $(head -c 400 "$T/dp.out")"
[ "$DP_RC" -ne 0 ] && [ "$DP_RC" -ne 124 ] || ti_fail "portcullis-dp exited $DP_RC with the lock held"
((MS >= BOUND && MS < BOUND + 2500)) || ti_fail "portcullis-dp gave up after $MS ms, not at the bound of $BOUND ms"
WANT="state lock $LOCK still held after $BOUND ms by pid $HOLDER (python3), which left no note"
grep -qF "$WANT" "$T/dp.out" || ti_fail "portcullis-dp does not say who holds the lock: want '$WANT'"
untouched "portcullis-dp, lock held"

ti_log "on_failure open, the lock held by a process that left its note"
unhold
NOTE="pid %d (portcullis-hook), prestart of container other, since 2026-12-06T13:00:00Z"
hold "$NOTE"
ti_config open "\"lock_timeout_ms\": $BOUND"
timed_prestart
ti_expect_rc 0 "prestart with the lock held, on_failure open"
WANT="container $ID starts unintercepted: state lock $LOCK still held after $BOUND ms by ${NOTE/\%d/$HOLDER}"
grep -qF "$WANT" <<<"$HOOK_ERR" || { ti_hook_show; ti_fail "no warning naming the holder: want '$WANT'"; }
untouched "open, lock held"

ti_log "the lock held by another hook, busy pulling $BUSY_PORTS ports: its note names it"
unhold
NSB="$TI_NS_PREFIX-busy"
ti_netns_add "$NSB"
for ((i = 0; i < BUSY_PORTS; i++)); do
	printf 'link add b%d type veth peer name hb%d netns %s\n' "$i" "$i" "$TI_HOST"
	printf 'link set b%d up\naddr add 10.%d.200.%d/32 dev b%d\n' "$i" "$TI_A" $((i + 1)) "$i"
done | ip -n "$NSB" -batch - || ti_fail "could not make the busy namespace's ports"
ti_pid_start "$NSB"
BID=$(ti_cid busy)
ti_state_pre "$BID" "$TI_LAST_PID" >"$T/busy.json"
ti_config open
"$HOOK" --config "$TI_CFG" prestart <"$T/busy.json" >"$T/busy.out" 2>&1 &
BUSY=$!
TI_PIDS+=("$BUSY")
ti_wait_until 10 grep -q "^pid $BUSY (portcullis-hook), prestart of container $BID, since " "$LOCK" ||
	ti_fail "the busy hook left no note in the lock: '$(cat "$LOCK")'"
ti_config open '"lock_timeout_ms": 300'
ti_prestart c1 "$ID"
ti_expect_rc 0 "prestart while another hook pulls"
WANT="still held after 300 ms by pid $BUSY (portcullis-hook), prestart of container $BID, since "
grep -qF "$WANT" <<<"$HOOK_ERR" || { ti_hook_show; ti_fail "the waiting hook does not name the busy one: want '$WANT'"; }
ti_dump_to "$T/c1.after" "${CTR_NS[c1]}" strict
ti_assert_same "$T/c1.before" "$T/c1.after" "c1 while another hook pulls"
wait "$BUSY" || { cat "$T/busy.out" >&2; ti_fail "the busy hook failed"; }
grep -q "$BUSY_PORTS port(s) intercepted" "$T/busy.out" || { cat "$T/busy.out" >&2; ti_fail "the busy hook's pull"; }
ti_stage poststop "$(ti_state_post "$BID")"
ti_expect_rc 0 "poststop of the busy namespace"
ti_assert_enf_clean "after the busy namespace's release"

ti_log "the lock free: intercepted, its note gone after"
ti_prestart c1 "$ID"
ti_expect_rc 0 "prestart with the lock free"
ti_assert_pulled c1 "$P1"
[ ! -s "$LOCK" ] || ti_fail "a note is left in the free lock: $(cat "$LOCK")"
ti_poststop c1 "$ID"
ti_expect_rc 0 "poststop"
ti_dump_to "$T/c1.after" "${CTR_NS[c1]}" strict
ti_assert_same "$T/c1.before" "$T/c1.after" "c1 after poststop"
ti_assert_enf_clean "after poststop"
