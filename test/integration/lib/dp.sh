# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# The data plane (portcullis-dp) of a test: started in the foreground with
# the test's configuration, checked confined, stopped.

ti_lib_needs core

# ti_dp_start: portcullis-dp --foreground with TI_CFG (its binary from
# $PORTCULLIS_DP, else beside the hook), waiting for its "ready" line; pid
# in DP_PID, log in DP_LOG.  Once ready it must run confined: no
# capability left and a seccomp filter on every thread.
TI_DP_N=0
ti_dp_start() {
	local dp=${PORTCULLIS_DP:-$(dirname "$HOOK")/portcullis-dp} t
	[ -x "$dp" ] || ti_fail "portcullis-dp not built: $dp"
	TI_DP_N=$((TI_DP_N + 1))
	DP_LOG=$TI_TMP/dp.$TI_DP_N.log
	"$dp" --config "$TI_CFG" --foreground >"$DP_LOG" 2>&1 </dev/null &
	DP_PID=$!
	TI_PIDS+=("$DP_PID")
	ti_wait_line "$DP_LOG" 'info: ready: ' 10 "portcullis-dp"
	ti_log "portcullis-dp running (pid $DP_PID): $(grep 'ready:' "$DP_LOG")"
	for t in /proc/"$DP_PID"/task/*; do
		ti_assert_eq 0000000000000000 "$(awk '$1 == "CapEff:" {print $2}' "$t/status")" "CapEff of $t"
		ti_assert_eq 2 "$(awk '$1 == "Seccomp:" {print $2}' "$t/status")" "Seccomp mode of $t"
	done
}

# ti_dp_stop: SIGTERM; it must exit 0.
ti_dp_stop() {
	local rc=0
	kill -TERM "$DP_PID"
	wait "$DP_PID" || rc=$?
	[ "$rc" -eq 0 ] || { cat "$DP_LOG" >&2; ti_fail "portcullis-dp exit $rc on SIGTERM"; }
}
