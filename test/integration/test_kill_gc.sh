#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A hook killed with SIGKILL at every step of a pull (PORTCULLIS_KILL_STEP=N
# for N = 1, 2, ... until a run in which the hook is not killed): nothing
# runs its rollback, so its journal is what is left to undo it.
#
# After each kill, recovery comes in turn from `portcullis-hook gc`, from
# the next pull, which deals with dead hooks' journals first, or from the
# container's own poststop (what a runtime runs after a failed prestart).  Either way the container is never left without network:
# - killed before the pull was recorded: the container is exactly as it was
#   before (unintercepted) and reaches its gateway; the enforcer holds
#   nothing of it and no journal is left;
# - killed after (the record is saved, only the journal is left): it stays
#   intercepted and working.
# A second container, intercepted before the loop, works throughout.
#
# Then the runtime's view: the hook killed, the container's start fails and
# its namespace is deleted.  gc deletes what the pull had put in the
# enforcer, which takes the original port's host-side peer with it: the host
# namespace is as it was before the container existed.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/picture.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/traffic.sh"
. "$(dirname "$0")/lib/dpath.sh"
ti_init
T=$TI_TMP
ti_config open

ti_host_create
ti_ctr_create c1 1 second
ti_ctr_create c2 2
ti_ctr_start c1
ti_ctr_start c2
ID="$(ti_cid killed)"
NS=${CTR_NS[c1]}

ti_prestart c2 "$(ti_cid other)"
ti_expect_rc 0 "prestart c2"
OTHER_PORTS=$(ti_enf_ports | tr '\n' ' ')
OTHER_STATE=$(ti_state_files | tr '\n' ' ')

ti_dump_to "$T/strict" "$NS" strict
ti_dump_to "$T/pulled" "$NS" pulled

journals() { find "$TI_STATE_DIR" -maxdepth 1 -name 'pull-*.journal*' -printf '%f\n'; }

# back to unintercepted (after a kill that left it intercepted)
release() {
	ti_poststop c1 "$ID"
	ti_expect_rc 0 "poststop"
}

# the container as before the pull, the enforcer as before, reachable
assert_untouched() {
	ti_dump_to "$T/ctr.$1" "$NS" strict
	ti_assert_same "$T/strict" "$T/ctr.$1" "container after the kill at step $1 and $2"
	ti_assert_eq "$OTHER_PORTS" "$(ti_enf_ports | tr '\n' ' ')" "enforcer ports after step $1"
	ti_assert_eq "$OTHER_STATE" "$(ti_state_files | tr '\n' ' ')" "state records after step $1"
	ti_ping "$NS" "$TI_GW4"
}

MAX=300
n=1
recorded=0
while :; do
	[ "$n" -le "$MAX" ] || ti_fail "the hook is still killed at step $MAX"
	PORTCULLIS_KILL_STEP=$n ti_prestart c1 "$ID"
	[ "$HOOK_RC" -eq 137 ] || break
	[ -n "$(journals)" ] || ti_fail "killed at step $n and no journal left"
	rec="netns-$(ti_netns_inode "$NS").json"
	ti_state_files | grep -qx "$rec" && recorded=$((recorded + 1))
	if [ $((n % 3)) -eq 1 ]; then
		how="gc"
		ti_hook gc
		ti_expect_rc 0 "gc after the kill at step $n"
	elif [ $((n % 3)) -eq 0 ]; then
		# the runtime's own answer to a failed prestart: poststop
		how="its poststop"
		ti_poststop c1 "$ID"
		ti_expect_rc 0 "poststop after the kill at step $n"
	else
		how="the next pull"
		ti_prestart c1 "$ID"
		ti_expect_rc 0 "prestart after the kill at step $n"
		ti_dump_to "$T/re.$n" "$NS" pulled
		ti_assert_same "$T/pulled" "$T/re.$n" "container pulled after the kill at step $n"
	fi
	ti_assert_eq "" "$(journals | tr '\n' ' ')" "journals after $how (step $n)"
	if ti_state_files | grep -qx "$rec"; then
		# the record was saved before the kill (or the next pull made it)
		ti_dump_to "$T/int.$n" "$NS" pulled
		ti_assert_same "$T/pulled" "$T/int.$n" "intercepted container after step $n"
		ti_reach c1 c2
		release
	fi
	assert_untouched "$n" "$how"
	ti_log "step $n: killed; $how recovered it"
	n=$((n + 1))
done
ti_expect_rc 0 "prestart with PORTCULLIS_KILL_STEP=$n beyond the last step"
KILLS=$((n - 1))
ti_log "$KILLS kill points, $recorded of them after the record was saved"
[ "$KILLS" -ge 8 ] || ti_fail "only $KILLS kill points; the pull of two ports has more"
[ "$recorded" -ge 1 ] || ti_fail "no kill landed between the record and the journal's removal"
ti_assert_eq "" "$(journals | tr '\n' ' ')" "journals after the last pull"
ti_reach c1 c2
release
assert_untouched final "the last poststop"

ti_log "killed, then the namespace deleted: gc leaves nothing"
ti_dump_to "$T/host" "$TI_HOST" strict
for k in 2 5 $((KILLS - 3)) $((KILLS - 1)); do
	ti_ctr_create c3 3 second
	ti_ctr_start c3
	PORTCULLIS_KILL_STEP=$k ti_prestart c3 "$(ti_cid gone)"
	ti_expect_rc 137 "prestart of c3 killed at step $k"
	ti_ctr_destroy c3
	ti_hook gc
	ti_expect_rc 0 "gc after c3's namespace went (step $k)"
	ti_assert_eq "$OTHER_PORTS" "$(ti_enf_ports | tr '
' ' ')" "enforcer ports (c3 killed at step $k)"
	ti_assert_eq "$OTHER_STATE" "$(ti_state_files | tr '
' ' ')" "state records (c3 killed at step $k)"
	ti_assert_eq "" "$(journals | tr '
' ' ')" "journals (c3 killed at step $k)"
	ti_dump_to "$T/host.$k" "$TI_HOST" strict
	ti_assert_same "$T/host" "$T/host.$k" "host namespace after c3 (killed at step $k) is gone"
done

ti_poststop c2 "$(ti_cid other)"
ti_expect_rc 0 "poststop c2"
ti_assert_enf_clean "after poststop"
if command -v bpftool >/dev/null && [ -d "$(ti_dpath_pin)" ]; then
	for m in pc_ports pc_ucmacs; do
		ti_assert_eq 0 "$(ti_dpath_map_count "$m")" "entries left in $m"
		ti_log "$m: empty"
	done
fi
