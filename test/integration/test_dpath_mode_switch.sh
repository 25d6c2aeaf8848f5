#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Live mode changes with backend TI_DPATH_BACKEND (bpf, or tc-pedit in the QEMU
# guest) (`portcullis-hook mode ID MODE`).  A TCP
# connection c1 -> c2 carries a numbered line every 20 ms for the whole
# test; both containers are switched together:
#   pass -> tap -> pass                       (no data plane)
#   tap -> fwd -> tap                         (pc-reflector running)
# After each switch the same connection (same client port) is still
# established and keeps delivering; the steering counters show each mode
# really ran (bpf: pc_stats; tc-pedit: the statistics of the actions of the
# mode's knodes, and the frames vth-neuv received).  At the end every line arrived exactly once, in order, and
# `mode ID off` gives each container back exactly the picture it had
# before the pull.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/picture.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/traffic.sh"
. "$(dirname "$0")/lib/dpath.sh"
. "$(dirname "$0")/lib/tools.sh"
ti_dpath_init
ti_tools_init
T=$TI_TMP
PORT=5200

ti_host_create
ti_ctr_create c1 1
ti_ctr_create c2 2
ti_ctr_start c1
ti_ctr_start c2
ID1=$(ti_cid dp-mode-1)
ID2=$(ti_cid dp-mode-2)
NS1=${CTR_NS[c1]}
NS2=${CTR_NS[c2]}
ti_reach c1 c2
ti_reach c2 c1
for c in c1 c2; do
	ti_dump_to "$T/$c.strict" "${CTR_NS[$c]}" strict
done

ti_dpath_config pass
ti_prestart c1 "$ID1"
ti_dpath_require_backend "prestart c1"
ti_prestart c2 "$ID2"
ti_expect_rc 0 "prestart c2"

ti_log "a live TCP connection c1 -> c2:$PORT"
ip netns exec "$NS2" timeout 300 socat -u "TCP4-LISTEN:$PORT,bind=${CTR_IP4[c2]},reuseaddr" \
	"OPEN:$T/recv.txt,creat,trunc" </dev/null >/dev/null 2>"$T/srv.err" &
TI_PIDS+=("$!")
ti_wait_until 5 ti_listening "$NS2" "$PORT" || ti_fail "server on port $PORT did not start"
ip netns exec "$NS1" timeout 300 bash -c \
	'i=0; while :; do echo "$i"; i=$((i + 1)); sleep 0.02; done | socat -u - "TCP4:$1:$2"' \
	_ "${CTR_IP4[c2]}" "$PORT" </dev/null >/dev/null 2>"$T/cli.err" &
CLIENT=$!
TI_PIDS+=("$CLIENT")

# the client's port of the one established connection to PORT
conn_port() {
	ip netns exec "$NS1" ss -Htn state established "( dport = :$PORT )" |
		awk '{n = split($3, a, ":"); print a[n]}'
}
ti_wait_until 5 eval '[ -n "$(conn_port)" ]' || { cat "$T/cli.err" "$T/srv.err" >&2; ti_fail "no connection to port $PORT"; }
CPORT=$(conn_port)
ti_log "connection from port $CPORT"

lines() { grep -c '' "$T/recv.txt" 2>/dev/null || echo 0; }

# flowing WHAT: the connection is the same and 0.6 s later has delivered more.
flowing() {
	local before after
	kill -0 "$CLIENT" 2>/dev/null || { cat "$T/cli.err" >&2; ti_fail "$1: the client is gone"; }
	ti_assert_eq "$CPORT" "$(conn_port)" "$1: established connection (client port)"
	before=$(lines)
	sleep 0.6
	after=$(lines)
	[ "$after" -gt "$before" ] || ti_fail "$1: nothing delivered in 0.6 s ($before lines)"
	ti_log "$1: flowing ($after lines)"
}

# switch MODE: both containers to MODE, then the connection must flow.
switch() {
	ti_dpath_mode c1 "$ID1" "$1"
	ti_dpath_mode c2 "$ID2" "$1"
	flowing "after switching to $1"
}

# grew STAT WHAT...: the backend's counter STAT grows while the connection
# flows (bpf: pc_stats; tc-pedit: ti_dpath_tc_stat, from_dp_to_ctr the same).
stat_of() {
	if [ "$(ti_dpath_backend)" = bpf ]; then ti_dpath_stat "$1"; else ti_dpath_tc_stat "$1"; fi
}
grew() {
	local stat=$1 a b
	a=$(stat_of "$stat")
	sleep 0.5
	b=$(stat_of "$stat")
	[ "$b" -gt "$a" ] || ti_fail "$2: $(ti_dpath_backend) counter $stat did not grow ($a -> $b)"
}

# vth_rx: frames vth-neuv (the data plane's side of the pair) received.
vth_rx() { ip -n "$TI_ENF_NAME" -s -j link show dev vth-neuv | jq '.[0].stats64.rx.packets'; }

flowing "pass"
grew passed "pass"

ti_log "pass -> tap -> pass, no data plane"
switch tap
grew tap_copies "tap"
switch pass
if [ "$(ti_dpath_backend)" = bpf ]; then
	COPIES=$(ti_dpath_stat tap_copies)
	sleep 0.5
	ti_assert_eq "$COPIES" "$(ti_dpath_stat tap_copies)" "tap copies made in pass mode"
else
	# (no tap knode is left to count: nothing at all may reach vth-neuv)
	RX=$(vth_rx)
	sleep 0.5
	ti_assert_eq "$RX" "$(vth_rx)" "frames vth-neuv received in pass mode"
	grew passed "pass again"
fi

ti_log "tap -> fwd -> tap with pc-reflector"
ti_reflector_start
switch tap
switch fwd
grew to_dp "fwd"
grew from_dp_to_ctr "fwd"
switch tap
if [ "$(ti_dpath_backend)" = bpf ]; then
	TO_DP=$(ti_dpath_stat to_dp)
	sleep 0.5
	ti_assert_eq "$TO_DP" "$(ti_dpath_stat to_dp)" "frames sent to the data plane in tap mode"
else
	# the reflector sends the copies back: with no fwd knode on vbr-neuv
	# they reach no one
	grew tap_copies "tap again"
	ti_assert_eq 0 "$(ti_dpath_tc_knodes vbr-neuv)" "knodes on vbr-neuv in tap mode"
	ti_assert_eq 0 "$(ti_dpath_tc_stat to_dp)" "frames fwd knodes sent to the data plane in tap mode"
fi
switch pass
ti_reflector_stop
[ "$(ti_reflector_count tx)" -gt 0 ] || ti_fail "nothing went through the reflector"
ti_log "$(ti_dpath_counters)"

ti_log "every line delivered once, in order"
kill "$CLIENT" 2>/dev/null || true
wait "$CLIENT" 2>/dev/null || true
sleep 0.3
N=$(lines)
[ "$N" -gt 50 ] || ti_fail "only $N lines delivered"
# a cut last line (the client killed mid-write) is not a gap
awk 'NR < n && $0 != NR - 1 { print "line " NR ": " $0; bad = 1; exit } END { exit bad }' n="$N" \
	"$T/recv.txt" || ti_fail "the stream has a gap or a repeat: $(awk 'NR < n && $0 != NR - 1 {print "line " NR ": " $0; exit}' n="$N" "$T/recv.txt")"

ti_log "mode off restores each container exactly"
ti_dpath_mode c1 "$ID1" off
ti_dump_to "$T/c1.back" "$NS1" strict
ti_assert_same "$T/c1.strict" "$T/c1.back" "c1 after mode off"
ti_dpath_mode c2 "$ID2" off
ti_dump_to "$T/c2.back" "$NS2" strict
ti_assert_same "$T/c2.strict" "$T/c2.back" "c2 after mode off"
ti_assert_eq 0 "$(jq length <<<"$(ti_status_json)")" "status records after mode off"
ti_assert_enf_clean "after mode off"
ti_dpath_assert_released "after mode off"
ti_reach c1 c2
ti_reach c2 c1
