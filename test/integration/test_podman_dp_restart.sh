#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Restarting portcullis-dp while podman containers run.  A container pings
# another every 20 ms while the data plane is stopped and started again:
#
# - tap: not one packet is lost (the kernel forwards; the data plane only
#   gets copies);
# - fwd with dp_down=open: traffic passes directly while it is down, so
#   nothing is lost either;
# - fwd with dp_down=closed: traffic stops for the outage - at least the
#   pings of the second the data plane is held down are lost - and flows
#   again, without loss, once it is back.
# In every case the data plane comes back knowing both containers.
# ti-timeout: 300
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/dpath.sh"
. "$(dirname "$0")/lib/dp.sh"
. "$(dirname "$0")/lib/podman.sh"

pm_init tap open
T=$TI_TMP
echo '{"default": "allow", "rules": []}' >"$T/policy.json"
conf() { ti_dpath_config "$1" "$2" "\"policy\": \"$T/policy.json\", \"session_log\": \"$T/sessions.log\""; }
conf tap open
PORTCULLIS_DP=$PM_DP ti_dp_start

pm_run --name db "$PM_IMAGE" httpd -f -p 80 -h /www >/dev/null
pm_run --name web "$PM_IMAGE" sleep 1000000 >/dev/null
DB_IP=$(pm_ip db)
IDS=("$(pm_id db)" "$(pm_id web)")

# across_restart HOLD: ping db from web every 20 ms for 4 s plus HOLD while
# the data plane is stopped, held down HOLD seconds and started again; the
# number of pings lost in LOST (not printed: the data plane must stay this
# shell's child).
across_restart() {
	local hold=$1 n out
	n=$(((4 + hold) * 50))
	pm exec web ping -q -i 0.02 -c "$n" -W 2 "$DB_IP" >"$T/ping.out" 2>&1 &
	local p=$!
	sleep 1
	ti_dp_stop
	sleep "$hold"
	PORTCULLIS_DP=$PM_DP ti_dp_start
	wait "$p" || true
	out=$(grep 'packets transmitted' "$T/ping.out") || { cat "$T/ping.out" >&2; ti_fail "ping gave no summary"; }
	ti_log "  $out"
	LOST=$(awk '{print $1 - $4}' <<<"$out")
}

# the data plane came back and knows both containers' ports
known() {
	local n
	n=$("$PM_CTL" --socket "$T/dp.sock" --json ports | jq '.ports | length')
	ti_assert_eq 2 "$n" "ports known to the restarted data plane"
}

set_mode() {
	local id
	for id in "${IDS[@]}"; do
		ti_hook mode "$id" "$1"
		ti_expect_rc 0 "mode $1"
	done
}

ti_log "tap: restart with no hold"
across_restart 0
ti_assert_eq 0 "$LOST" "pings lost in tap mode across a restart"
known

ti_log "fwd, dp_down=open: restart holding the data plane down 1 s"
conf fwd open
set_mode fwd
across_restart 1
ti_assert_eq 0 "$LOST" "pings lost in fwd mode with dp_down=open"
known

ti_log "fwd, dp_down=closed: restart holding the data plane down 1 s"
conf fwd closed
set_mode fwd
across_restart 1
[ "$LOST" -ge 25 ] || ti_fail "only $LOST pings lost while the data plane was down for 1 s with dp_down=closed"
ti_log "  $LOST pings lost (the outage), now none again:"
out=$(pm exec web ping -q -i 0.02 -c 100 -W 2 "$DB_IP" | grep 'packets transmitted')
ti_log "  $out"
ti_assert_eq 0 "$(awk '{print $1 - $4}' <<<"$out")" "pings lost after the restart"
known
pm_fetch web "http://$DB_IP/index.html" >/dev/null || ti_fail "no page through the restarted data plane"
ti_dp_stop
