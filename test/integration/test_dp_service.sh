#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# portcullis-dp as the data plane: mode fwd, backend bpf, dp_down closed,
# two intercepted containers, two workers, a policy that denies TCP port 81
# and UDP port 5204 (rule 10 and 20) and allows the rest.
# - ICMP, TCP and UDP work through it, IPv4 and IPv6, container to
#   container and container to host (every frame crosses the data plane and
#   comes back, offloads on);
# - TCP to port 81 is refused at once by the data plane's resets (the
#   server accepts nothing); UDP to 5204 gets no answer;
# - the session log has the denied sessions as violations naming rule 10,
#   the container and the 5-tuple, and finished sessions with their counts;
# - a SIGHUP with a broken policy keeps the old one (one error line); with a
#   new policy (port 81 allowed, 80 denied) the new one decides;
# - in tap mode a denied session is logged, not blocked, and the copies
#   reach the data plane cut to their first bytes;
# - SIGTERM: exit 0, and fwd traffic stops at once (the heartbeat is
#   cleared, dp_down closed), not a second later;
# - a restarted data plane knows the ports again from the state records,
#   and a TCP connection stays up through a policy reload and a restart;
# - every thread of it runs without capabilities and under seccomp.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/traffic.sh"
. "$(dirname "$0")/lib/dpath.sh"
. "$(dirname "$0")/lib/dp.sh"
ti_dpath_init
T=$TI_TMP

ti_host_create
ti_ctr_create c1 1
ti_ctr_create c2 2
ti_ctr_start c1
ti_ctr_start c2
ID1=$(ti_cid dp-svc-1)
ID2=$(ti_cid dp-svc-2)
NS1=${CTR_NS[c1]}
NS2=${CTR_NS[c2]}

cat >"$T/policy.json" <<'JSON'
{"default": "allow",
 "rules": [{"id": 10, "from": "any", "to": "any", "ports": ["tcp/81"], "action": "deny"},
           {"id": 20, "from": "any", "to": "any", "ports": ["udp/5204"], "action": "deny"}]}
JSON
ti_dpath_config fwd closed "\"policy\": \"$T/policy.json\", \"session_log\": \"$T/sessions.log\", \"workers\": 2"

ti_prestart c1 "$ID1"
ti_dpath_require_backend "prestart c1"
ti_prestart c2 "$ID2"
ti_expect_rc 0 "prestart c2"
ti_no_ping "$NS1" "${CTR_IP4[c2]}"

# the refused connection fails fast: a reset, not a 3 s timeout
tcp_reset() {
	local sns=$1 addr=$2 cns=$3 port=$4 proto=TCP4 listen=TCP4-LISTEN dst=$2 t0 ms
	case $addr in *:*) proto=TCP6 listen=TCP6-LISTEN dst="[$addr]" ;; esac
	ip netns exec "$sns" timeout 15 socat "$listen:$port,bind=$dst,reuseaddr" \
		"SYSTEM:echo accepted >>$T/reset.srv" </dev/null >/dev/null 2>&1 &
	local spid=$!
	TI_PIDS+=("$spid")
	ti_wait_until 5 ti_listening "$sns" "$port" || ti_fail "server on $addr:$port did not start"
	t0=$(date +%s%N)
	if ip netns exec "$cns" timeout 10 socat - "$proto:$dst:$port,connect-timeout=5" \
		</dev/null >/dev/null 2>"$T/reset.cli"; then
		ti_fail "TCP $cns -> $addr:$port connected; expected a reset"
	fi
	ms=$((($(date +%s%N) - t0) / 1000000))
	grep -q 'Connection refused\|Connection reset' "$T/reset.cli" ||
		ti_fail "TCP $cns -> $addr:$port: expected a reset, got: $(cat "$T/reset.cli")"
	[ ! -s "$T/reset.srv" ] || ti_fail "server $addr:$port accepted a connection"
	ti_log "TCP to $addr:$port reset after $ms ms"
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
}
udp_blocked() {
	local sns=$1 addr=$2 cns=$3 port=$4 got
	ip netns exec "$sns" timeout 8 socat -T 5 "UDP4-LISTEN:$port,bind=$addr,reuseaddr" EXEC:cat \
		</dev/null >/dev/null 2>&1 &
	local spid=$!
	TI_PIDS+=("$spid")
	ti_wait_until 5 eval "[ -n \"\$(ip netns exec $sns ss -Hlun 'sport = :$port')\" ]" ||
		ti_fail "UDP server on $addr:$port did not start"
	got=$(echo hello | ip netns exec "$cns" timeout 5 socat -T 2 - "UDP4:$addr:$port" 2>/dev/null) || true
	[ -z "$got" ] || ti_fail "UDP $cns -> $addr:$port answered '$got'; expected it blocked"
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
}

ti_log "allowed: ICMP, TCP, UDP, IPv4 and IPv6, through portcullis-dp"
ti_dp_start
ti_reach c1 c2
ti_reach c2 c1
ti_tcp "$NS2" "${CTR_IP4[c2]}" "$NS1" 80
ti_tcp "$NS1" "${CTR_IP6[c1]}" "$NS2" 5101
ti_tcp "$TI_HOST" "$TI_GW4" "$NS1" 5102
ti_udp "$NS2" "${CTR_IP4[c2]}" "$NS1" 5104
ti_udp "$NS1" "${CTR_IP6[c1]}" "$NS2" 5105

ti_log "denied by rule 10 and 20"
tcp_reset "$NS2" "${CTR_IP4[c2]}" "$NS1" 81
tcp_reset "$NS2" "${CTR_IP6[c2]}" "$NS1" 81
tcp_reset "$TI_HOST" "$TI_GW4" "$NS2" 81
udp_blocked "$NS2" "${CTR_IP4[c2]}" "$NS1" 5204
ti_tcp "$NS2" "${CTR_IP4[c2]}" "$NS1" 80

ti_log "SIGHUP: a broken policy is refused, a good one replaces the old"
cp "$T/policy.json" "$T/policy.good"
echo '{"default": "allow", "rules": [{"id": 5, "from": "group:x", "to": "any", "ports": ["tcp/99999"], "action": "deny"}]}' >"$T/policy.json"
kill -HUP "$DP_PID"
ti_wait_line "$DP_LOG" 'policy reload: .*rule 5' 5 "portcullis-dp's refusal of the broken policy"
tcp_reset "$NS2" "${CTR_IP4[c2]}" "$NS1" 81
echo '{"default": "allow", "rules": [{"id": 30, "from": "any", "to": "any", "ports": ["tcp/80"], "action": "deny"}]}' >"$T/policy.json"
kill -HUP "$DP_PID"
ti_wait_line "$DP_LOG" 'policy .* loaded: 1 rules' 5 "portcullis-dp's reload"
ti_tcp "$NS2" "${CTR_IP4[c2]}" "$NS1" 81
tcp_reset "$NS2" "${CTR_IP4[c2]}" "$NS1" 80
cp "$T/policy.good" "$T/policy.json"

ti_log "tap with the data plane running: copies inspected, cut to their first bytes"
for id in "$ID1" "$ID2"; do
	ti_hook mode "$id" tap
	ti_expect_rc 0 "mode $id tap"
done
ti_tcp "$NS2" "${CTR_IP4[c2]}" "$NS1" 5107
# rule 30 denies port 80: in tap mode that is logged, not enforced
ti_tcp "$NS2" "${CTR_IP4[c2]}" "$NS1" 80
for id in "$ID1" "$ID2"; do
	ti_hook mode "$id" fwd
	ti_expect_rc 0 "mode $id fwd"
done

ti_log "SIGTERM: fwd traffic stops at once"
ti_dp_stop
ti_no_ping "$NS1" "${CTR_IP4[c2]}"
grep -q 'worker 0: frames=' "$DP_LOG" || ti_fail "no worker counters at exit: $(cat "$DP_LOG")"
grep -E 'worker [01]:' "$DP_LOG" >&2
SNAPPED=$(sed -n 's/.* snapped=\([0-9]*\).*/\1/p' "$DP_LOG" | awk '{s += $1} END {print s + 0}')
[ "$SNAPPED" -gt 0 ] || ti_fail "no tap copy was cut to its first bytes"
QUICK=$(sed -n 's/.* quick=\([0-9]*\).*/\1/p' "$DP_LOG" | awk '{s += $1} END {print s + 0}')
[ "$QUICK" -gt 0 ] || ti_fail "no small frame took the quick path"

ti_log "the session log"
LOG=$T/sessions.log
[ -s "$LOG" ] || ti_fail "no session log"
lfail() {
	echo "--- session log:" >&2
	cat "$LOG" >&2
	ti_fail "$@"
}
jq -e . "$LOG" >/dev/null || lfail "session log lines are not all JSON"
V=$(jq -c 'select(.event == "violation" and .dport == 81 and .dst == "'"${CTR_IP4[c2]}"'")' "$LOG")
[ -n "$V" ] || lfail "no violation for port 81 in the log"
ti_assert_eq 10 "$(jq -r .rule <<<"$V" | head -n 1)" "rule of the port-81 violation"
ti_assert_eq deny "$(jq -r .verdict <<<"$V" | head -n 1)" "verdict of the port-81 violation"
grep -q "\"id\":\"$ID1\"" <<<"$V" || grep -q "\"id\":\"$ID2\"" <<<"$V" ||
	lfail "the violation names neither container: $V"
# the data plane reset them at both ends: closed, so they end 5 s later, not in an hour
R=$(jq -r 'select(.event == "session" and .dport == 81 and .verdict == "deny") | .tcp_state' "$LOG" | sort | uniq -c | xargs)
[[ $R =~ ^[0-9]+\ closed$ ]] || lfail "TCP state of the reset port-81 sessions: $R (expected all closed)"
[ -n "$(jq -c 'select(.event == "violation" and .transport == "udp" and .dport == 5204 and .rule == 20)' "$LOG")" ] ||
	lfail "no violation for UDP 5204"
[ "$(jq -c 'select(.event == "violation" and .dport == 80 and .rule == 30)' "$LOG" | wc -l)" -ge 2 ] ||
	lfail "expected violations of rule 30 in fwd (reset) and in tap (logged only)"
S=$(jq -c 'select(.event == "session" and .transport == "tcp" and .dport == 80 and .verdict == "allow" and .src == "'"${CTR_IP4[c1]}"'")' "$LOG" | head -n 1)
[ -n "$S" ] || lfail "no allowed TCP session to port 80 in the log"
[ "$(jq -r .bytes <<<"$S")" -gt 2000000 ] || lfail "the port-80 session counted $(jq -r .bytes <<<"$S") bytes for 1 MB each way"
ti_log "e.g. $S"

ti_log "a restarted data plane knows the ports from the state records"
ti_dp_start
ti_reach c1 c2
ti_tcp "$NS1" "${CTR_IP4[c1]}" "$NS2" 5106
tcp_reset "$NS2" "${CTR_IP4[c2]}" "$NS1" 81

ti_log "an established connection lives through a policy reload and a data plane restart"
# an echo server in c1; a client in c2 sends a numbered line every 100 ms
# and needs each echoed back within 5 s, for 8 s
ip netns exec "$NS1" timeout 30 socat TCP4-LISTEN:5108,bind="${CTR_IP4[c1]}",reuseaddr EXEC:cat \
	</dev/null >/dev/null 2>&1 &
TI_PIDS+=("$!")
ti_wait_until 5 ti_listening "$NS1" 5108 || ti_fail "echo server did not start"
ip netns exec "$NS2" timeout 30 python3 -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], 5108), timeout=5)
f = s.makefile("rw")
end = time.time() + 8
n = 0
while time.time() < end:
    f.write("line %d\n" % n); f.flush()
    if f.readline() != "line %d\n" % n:
        sys.exit("echo %d lost" % n)
    n += 1
    time.sleep(0.1)
print(n)
' "${CTR_IP4[c1]}" >"$T/long.out" 2>&1 &
LONG=$!
TI_PIDS+=("$LONG")
sleep 1.5
kill -HUP "$DP_PID"
ti_wait_line "$DP_LOG" 'policy .* loaded: 2 rules' 5 "reload with the connection open"
sleep 1.5
ti_dp_stop
ti_dp_start
wait "$LONG" || ti_fail "the connection did not live through the reload and restart: $(cat "$T/long.out")"
ti_log "$(cat "$T/long.out") lines echoed over one connection"
[ "$(cat "$T/long.out")" -ge 40 ] || ti_fail "only $(cat "$T/long.out") lines in 8 s"
ti_dp_stop

ti_poststop c1 "$ID1"
ti_expect_rc 0 "poststop c1"
ti_poststop c2 "$ID2"
ti_expect_rc 0 "poststop c2"
ti_assert_enf_clean "after poststop"
