#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Session table exhaustion against a live data plane (dp_down open, the
# default, as the table once followed it when full): one worker,
# max_sessions 64, mode fwd, a policy that denies by default and allows
# TCP port 80; c2 is the attacker, c1 a peer with a server on port 5555.
# - 400 bare ACKs with varied source ports from c2 to port 80 of an
#   address that does not answer: each is a session picked up mid-stream
#   (allowed: port 80), enough to fill the table six times over.  Before,
#   the table stayed full of them for an hour and a new flow passed
#   uninspected: c2's connection to c1:5555 was accepted.  Now the new
#   flow takes the entry of the least recently active of them (counted
#   as sessions.evicted) and is denied: reset, never accepted, logged as
#   a violation of c2 -> c1:5555 by the default (rule 0);
# - a table full of sessions that saw both directions (connections c2
#   holds open to c1:80, each a session at both ports, so about 32 of
#   them fill it) can evict nothing: the next connection to c1:80,
#   allowed by policy, is dropped (inspect.no_session_dropped) and the
#   data plane's log says "worker 0: session table full (64 sessions"
#   once, not for every frame; once c2 lets its connections go, a new
#   connection works.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/traffic.sh"
. "$(dirname "$0")/lib/dpath.sh"
. "$(dirname "$0")/lib/dp.sh"
. "$(dirname "$0")/lib/attack.sh"
ti_dpath_init
at_init
T=$TI_TMP
AT_LOG=$T/sessions.log

ti_host_create
ti_ctr_create c1 1
ti_ctr_create c2 2
ti_ctr_start c1
ti_ctr_start c2
ID1=$(ti_cid attack-table-1)
ID2=$(ti_cid attack-table-2)
NS1=${CTR_NS[c1]}
NS2=${CTR_NS[c2]}
IP1=${CTR_IP4[c1]}
IP2=${CTR_IP4[c2]}
SILENT=$TI_NET4.250

cat >"$T/policy.json" <<'JSON'
{"default": "deny",
 "rules": [{"id": 10, "from": "any", "to": "any", "ports": ["tcp/80"], "action": "allow"}]}
JSON
ti_dpath_config fwd open "\"policy\": \"$T/policy.json\", \"session_log\": \"$AT_LOG\", \"workers\": 1, \"max_sessions\": 64"
ti_prestart c1 "$ID1"
ti_dpath_require_backend "prestart c1"
ti_prestart c2 "$ID2"
ti_expect_rc 0 "prestart c2"
at_silent "$NS2" "$SILENT"

# servers in c1: port 5555 (denied) notes what it accepts; port 80 holds connections
ip netns exec "$NS1" timeout 110 socat "TCP4-LISTEN:5555,bind=$IP1,reuseaddr,fork" \
	"SYSTEM:echo accepted >>$T/5555.srv" </dev/null >/dev/null 2>&1 &
TI_PIDS+=("$!")
ip netns exec "$NS1" timeout 110 socat "TCP4-LISTEN:80,bind=$IP1,reuseaddr,fork,backlog=128" \
	"SYSTEM:cat >/dev/null" </dev/null >/dev/null 2>&1 &
TI_PIDS+=("$!")
ti_wait_until 5 ti_listening "$NS1" 5555 || ti_fail "server on port 5555 did not start"
ti_wait_until 5 ti_listening "$NS1" 80 || ti_fail "server on port 80 did not start"

ti_dp_start

ti_log "400 bare ACKs from c2 to $SILENT:80, then c2 -> c1:5555 (denied)"
at_py "$NS2" acks "$SILENT" 80 400 >&2
# shellcheck disable=SC2016 # expanded by eval, at each try
ti_wait_until 5 eval '[ "$(at_stat inspect.frames)" -ge 400 ]' ||
	ti_fail "the data plane saw $(at_stat inspect.frames) frames of 400 ACKs"
if ip netns exec "$NS2" timeout 10 socat -T 3 - "TCP4:$IP1:5555,connect-timeout=3" </dev/null \
	>/dev/null 2>"$T/5555.cli"; then
	ti_fail "c2 connected to the denied c1:5555 after filling the session table"
fi
sleep 0.5
[ ! -s "$T/5555.srv" ] || ti_fail "the server on the denied port accepted a connection"
grep -q 'Connection refused\|Connection reset' "$T/5555.cli" ||
	ti_fail "c2 -> c1:5555: expected a reset from the data plane, got: $(cat "$T/5555.cli")"
EVICTED=$(at_stat sessions.evicted)
[ "$EVICTED" -ge 336 ] || ti_fail "sessions.evicted $EVICTED: the ACKs' sessions were not evicted"
ti_assert_eq 0 "$(at_stat inspect.no_session)" "frames that found no room"
V=$(at_log_lines ".event == \"violation\" and .src == \"$IP2\" and .dst == \"$IP1\" and .dport == 5555")
[ -n "$V" ] || ti_fail "no violation line for c2 -> c1:5555"
ti_assert_eq 0 "$(jq -r .rule <<<"$V" | head -n 1)" "rule of the violation"
ti_log "denied and logged, $EVICTED sessions evicted: $(head -n 1 <<<"$V")"

ti_log "a table of two-way sessions: nothing to evict, a new flow is dropped"
mkdir "$T/hold"
at_py_bg "$NS2" hold "$IP1" 80 70 "$T/hold"
HOLDER=$AT_PID
ti_wait_until 60 test -e "$T/hold/held" || ti_fail "the holder did not report"
HELD=$(cat "$T/hold/held")
ti_log "c2 holds $HELD connections to c1:80"
# two sessions a connection (c2's port and c1's): the table of 64 stops it near 32
{ [ "$HELD" -ge 20 ] && [ "$HELD" -le 40 ]; } ||
	ti_fail "c2 held $HELD connections: expected the table (64 sessions, two each) to stop it"
DROPPED=$(at_stat inspect.no_session_dropped)
[ "$DROPPED" -gt 0 ] || ti_fail "no frame was dropped for want of a session"
if ip netns exec "$NS2" timeout 10 socat -T 2 - "TCP4:$IP1:80,connect-timeout=2" </dev/null \
	>/dev/null 2>&1; then
	ti_fail "a new connection to c1:80 went through a full table of two-way sessions"
fi
[ "$(at_stat inspect.no_session_dropped)" -gt "$DROPPED" ] ||
	ti_fail "the connection's SYNs were not counted as dropped"
SAID=$(grep -c 'worker 0: session table full (64 sessions, none evictable)' "$DP_LOG" || true)
[ "$SAID" -ge 1 ] || ti_fail "the data plane's log does not say the table is full: $(tail -n 5 "$DP_LOG")"
[ "$SAID" -le 2 ] || ti_fail "the full table was said $SAID times: not rate-limited"
ti_log "dropped $(at_stat inspect.no_session_dropped) frames; said: $(grep -m1 'session table full' "$DP_LOG")"

ti_log "c2 lets go: closed sessions are evictable, a new connection works"
touch "$T/hold/release"
wait "$HOLDER" || true
sleep 1
echo hello | ip netns exec "$NS2" timeout 10 socat -T 2 - "TCP4:$IP1:80,connect-timeout=3" ||
	ti_fail "no connection to c1:80 once the held ones closed"
ti_dp_stop
at_log_lines 'true' >/dev/null

ti_poststop c1 "$ID1"
ti_expect_rc 0 "poststop c1"
ti_poststop c2 "$ID2"
ti_expect_rc 0 "poststop c2"
ti_assert_enf_clean "after poststop"
