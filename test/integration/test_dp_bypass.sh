#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Session bypass (dp/flow/bypass.h): portcullis-dp in mode fwd, backend bpf,
# dp_down closed, two workers, threat detection on, bypass_after_kb 64.
# - start: an entry an earlier data plane left in pc_bypass is removed;
# - a 6 MiB TCP transfer c1 -> c2 arrives intact; its session is bypassed
#   at both containers' ports (pc_stats bypassed, the data plane's
#   counters), the session line still counts every byte (the kernel's
#   counts, added when the data plane takes the session back), and once the
#   connection is closed (its FINs cross the data plane) pc_bypass is empty
#   again;
# - with pc_bypass full (filled with entries of no port), the same transfer
#   arrives intact through the data plane: bypass_failed counts both
#   sessions, the kernel bypasses nothing, the log lines say not bypassed;
# - a UDP stream is bypassed too;
# - the same transfer with both ports in mode tap: bypassed, and the kernel
#   stops copying its frames (fewer copies than bypassed frames);
# - HTTP over one keep-alive connection: the 2 MiB response is bypassed
#   (only the server's direction: its detectors read every request), and a
#   SQL injection in the next request on the same connection is still
#   dropped (policy action drop) and never reaches the server;
# - a slow reader: its zero windows take the bypassed download back
#   (bypass_kept) and raise no tcp_small_window;
# - portcullisctl sessions shows a live bypassed stream with the kernel's
#   counts: at least the bytes the receiver has got;
# - a policy reload that denies a bypassed live stream ends it: the entries
#   go at once, the client is reset, the log has the violation;
# - SIGKILL of the data plane under a bypassed stream: with dp_down closed
#   the stream stops (a stale heartbeat outranks every entry); poststop of
#   c1 removes c1's entries, and the next data plane the rest;
# - a pc_bypass of another build's layout: the data plane runs, bypass off,
#   with a warning.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/traffic.sh"
. "$(dirname "$0")/lib/dpath.sh"
. "$(dirname "$0")/lib/dp.sh"
ti_dpath_init
T=$TI_TMP
ti_need_web
[ "$TI_DPATH_BACKEND" = bpf ] || ti_skip "session bypass needs backend bpf (this run: $TI_DPATH_BACKEND)"

ti_host_create
ti_ctr_create c1 1
ti_ctr_create c2 2
ti_ctr_start c1
ti_ctr_start c2
ID1=$(ti_cid bypass-1)
ID2=$(ti_cid bypass-2)
NS1=${CTR_NS[c1]}
NS2=${CTR_NS[c2]}
IP1=${CTR_IP4[c1]}
IP2=${CTR_IP4[c2]}
LOG=$T/sessions.log
CTL=${PORTCULLISCTL:-$(dirname "$HOOK")/portcullisctl}
[ -x "$CTL" ] || ti_fail "portcullisctl not built: $CTL"

echo '{"default": "allow", "rules": [], "threats": {"actions": {"sql_injection": "drop"}}}' \
	>"$T/policy.json"
ti_dpath_config fwd closed "\"policy\": \"$T/policy.json\", \"session_log\": \"$LOG\", \"workers\": 2, \"bypass_after_kb\": 64"

ti_prestart c1 "$ID1"
ti_dpath_require_backend "prestart c1"
ti_prestart c2 "$ID2"
ti_expect_rc 0 "prestart c2"

# entries [PORT]: pc_bypass entries (with PORT as source or destination port)
entries() {
	local p=${1:-0}
	[ -e "$(ti_dpath_pin)/pc_bypass" ] || ti_fail "no pc_bypass pinned in $(ti_dpath_pin)"
	bpftool map dump pinned "$(ti_dpath_pin)/pc_bypass" -j | jq --arg any "${1:-yes}" \
		--arg hi "$(printf '0x%02x' $((p >> 8)))" --arg lo "$(printf '0x%02x' $((p & 255)))" \
		'[.[] | .key | select($any == "yes" or (.[8] == $hi and .[9] == $lo)
			or (.[10] == $hi and .[11] == $lo))] | length'
}
# dp SECTION KEY: a total of portcullisctl stats
dp() {
	timeout 10 "$CTL" --config "$TI_CFG" stats --json | jq -r ".total.$1.$2"
}

ti_log "start: a stale entry in pc_bypass goes"
bpftool map update pinned "$(ti_dpath_pin)/pc_bypass" \
	key hex 02 00 de ad be ef 04 06 00 50 00 51 $(printf '00 %.0s' $(seq 32)) \
	value hex $(printf '00 %.0s' $(seq 32)) || ti_fail "bpftool could not add an entry to pc_bypass"
ti_assert_eq 1 "$(entries)" "pc_bypass entries before the data plane starts"
ti_dp_start
grep -q 'session bypass on' "$DP_LOG" || ti_fail "the ready line does not say bypass is on: $(grep ready: "$DP_LOG")"
ti_assert_eq 0 "$(entries)" "pc_bypass entries once the data plane runs"

# transfer PORT: data.bin c1 -> c2:PORT, received whole
transfer() {
	ip netns exec "$NS2" timeout 30 socat -u "TCP4-LISTEN:$1,bind=$IP2,reuseaddr" \
		"OPEN:$T/recv.bin,creat,trunc" </dev/null >/dev/null 2>"$T/srv.$1.err" &
	local srv=$!
	TI_PIDS+=("$srv")
	ti_wait_until 5 ti_listening "$NS2" "$1" || ti_fail "server on $1 did not start"
	ip netns exec "$NS1" timeout 20 socat -u "OPEN:$T/data.bin" "TCP4:$IP2:$1" </dev/null ||
		ti_fail "the transfer to c2:$1 failed"
	wait "$srv" || ti_fail "the server on $1 failed: $(cat "$T/srv.$1.err")"
	ti_assert_eq "$(sha256sum <"$T/data.bin")" "$(sha256sum <"$T/recv.bin")" "sha256 of what c2 received on $1"
}

ti_log "a 6 MiB TCP transfer: bypassed, intact, counted"
head -c 6M /dev/urandom >"$T/data.bin"
K0=$(ti_dpath_stat bypassed)
transfer 5301
K1=$(ti_dpath_stat bypassed)
[ "$K1" -gt "$K0" ] || ti_fail "pc_stats bypassed did not grow ($K0 -> $K1)"
B=$(dp inspect bypassed)
[ "$B" -ge 2 ] || ti_fail "the data plane bypassed $B sessions, expected 2 (one per port)"
ti_wait_until 5 eval '[ "$(entries)" = 0 ]' || ti_fail "pc_bypass keeps $(entries) entries after the close"
ti_assert_eq "$B" "$(dp inspect bypass_ended)" "sessions taken back after the close"
ti_assert_eq 0 "$(dp inspect bypass_failed)" "bypass_failed"
# the session at c1's port, logged once closed: every byte counted, the kernel's included
ti_wait_until 10 eval "grep -q '\"dport\":5301' '$LOG'" || ti_fail "no session line for port 5301"
CB=$(jq -s --arg s "$IP1" '[.[] | select(.dport == 5301 and .src == $s)] | .[0].client_bytes' "$LOG")
[ "$CB" -ge $((6 * 1024 * 1024)) ] ||
	ti_fail "the session line counts $CB client bytes of the 6 MiB: $(grep 5301 "$LOG")"
ti_assert_eq "true true" "$(jq -r 'select(.dport == 5301) | .bypassed' "$LOG" | xargs)" \
	"bypassed in the two session lines of port 5301"
ti_log "bypassed frames in the kernel: $((K1 - K0)); client bytes logged: $CB"

ti_log "a full pc_bypass: sessions stay with the data plane, counted as bypass_failed"
# fill OP: a bpftool batch of OP (update, delete) for PC_MAX_BYPASS entries
# under a UCMAC no port has
fill() {
	awk -v op="$1" -v pin="$(ti_dpath_pin)/pc_bypass" 'BEGIN {
		z = "00"; for (i = 1; i < 28; i++) z = z " 00"
		v = z " 00 00 00 00"
		for (i = 0; i < 65536; i++) {
			k = sprintf("02 00 de ad be ef 04 06 00 50 00 51 0a %02x %02x 01 %s", int(i / 256), i % 256, z)
			if (op == "update") printf "map update pinned %s key hex %s value hex %s\n", pin, k, v
			else printf "map delete pinned %s key hex %s\n", pin, k
		}
	}' >"$T/fill.$1"
	bpftool batch file "$T/fill.$1" >/dev/null || ti_fail "bpftool batch ($1) on pc_bypass failed"
}
fill update
ti_assert_eq 65536 "$(entries)" "pc_bypass entries, filled"
F0=$(dp inspect bypass_failed) K0=$(ti_dpath_stat bypassed)
transfer 5308
ti_assert_eq 2 "$(($(dp inspect bypass_failed) - F0))" "sessions the full map refused (one per port)"
ti_assert_eq "$K0" "$(ti_dpath_stat bypassed)" "pc_stats bypassed with the map full"
ti_wait_until 10 eval "[ \"\$(grep -c '\"dport\":5308' '$LOG')\" = 2 ]" || ti_fail "no two session lines for port 5308"
ti_assert_eq "false false" "$(jq -r 'select(.dport == 5308) | .bypassed // false' "$LOG" | xargs)" \
	"bypassed in the two session lines of port 5308"
fill delete
ti_assert_eq 0 "$(entries)" "pc_bypass entries, emptied again"

ti_log "a UDP stream is bypassed too"
B0=$(dp inspect bypassed)
ip netns exec "$NS2" timeout 20 socat -u "UDP4-RECV:5304,bind=$IP2" OPEN:/dev/null </dev/null &
TI_PIDS+=("$!")
ti_wait_until 5 eval "[ -n \"\$(ip netns exec $NS2 ss -Hlun 'sport = :5304')\" ]" ||
	ti_fail "UDP receiver on 5304 did not start"
head -c 1M /dev/urandom >"$T/udp.bin"
for _ in 1 2 3; do
	ip netns exec "$NS1" timeout 10 socat -u -b 1400 "OPEN:$T/udp.bin" "UDP4:$IP2:5304,sourceport=5305" </dev/null ||
		ti_fail "the UDP sender failed"
done
# the workers publish their counters a tick later than they bypass
ti_wait_until 5 eval '[ "$(dp inspect bypassed)" -ge $((B0 + 2)) ]' ||
	ti_fail "UDP: the data plane bypassed $(($(dp inspect bypassed) - B0)) sessions, expected 2"

ti_log "mode tap: bypassed, and no copies of the bypassed frames"
ti_dpath_mode c1 "$ID1" tap
ti_dpath_mode c2 "$ID2" tap
K0=$(ti_dpath_stat bypassed) C0=$(ti_dpath_stat tap_copies) B0=$(dp inspect bypassed)
transfer 5306
K=$(($(ti_dpath_stat bypassed) - K0)) C=$(($(ti_dpath_stat tap_copies) - C0))
# the workers publish their counters a tick later than they bypass
ti_wait_until 5 eval '[ "$(dp inspect bypassed)" -ge $((B0 + 2)) ]' ||
	ti_fail "tap: the data plane bypassed $(($(dp inspect bypassed) - B0)) sessions, expected 2"
[ "$K" -gt "$C" ] || ti_fail "tap: $C copies for $K bypassed frames: the copies did not stop"
ti_wait_until 5 eval '[ "$(entries 5306)" = 0 ]' || ti_fail "pc_bypass keeps $(entries 5306) entries after the tap close"
ti_wait_until 10 eval "[ \"\$(grep -c '\"dport\":5306' '$LOG')\" -ge 2 ]" || ti_fail "no session lines for port 5306"
CB=$(jq -s --arg s "$IP1" '[.[] | select(.dport == 5306 and .src == $s)] | map(.client_bytes) | min' "$LOG")
[ "$CB" -ge $((6 * 1024 * 1024)) ] ||
	ti_fail "tap: a session line counts $CB client bytes of the 6 MiB: $(grep 5306 "$LOG")"
ti_log "tap: $K bypassed frames, $C copies; client bytes logged: $CB"
ti_dpath_mode c1 "$ID1" fwd
ti_dpath_mode c2 "$ID2" fwd

ti_log "HTTP keep-alive: the response bypassed, the next request still inspected"
mkdir -p "$T/www"
head -c 2M /dev/urandom >"$T/www/blob"
echo "item $TI_ID" >"$T/www/item"
chmod -R a+rX "$T/www"
# http.server speaks HTTP/1.1 (keep-alive) when the handler says so
(cd "$T/www" && exec ip netns exec "$NS2" timeout 60 "$PY" -c '
import sys, http.server as h
h.SimpleHTTPRequestHandler.protocol_version = "HTTP/1.1"
h.ThreadingHTTPServer((sys.argv[1], 80), h.SimpleHTTPRequestHandler).serve_forever()' "$IP2" \
	</dev/null >"$T/web.log" 2>&1) &
TI_PIDS+=("$!")
ti_wait_until 10 ti_listening "$NS2" 80 || { cat "$T/web.log" >&2; ti_fail "the web server did not start in c2"; }
B0=$(dp inspect bypassed) K0=$(ti_dpath_stat bypassed)
SQLI='/item?id=1%27%20OR%201%3D1--'
ip netns exec "$NS1" timeout 15 curl -sS --max-time 10 -o "$T/blob" "http://$IP2/blob" \
	-o "$T/sqli.out" "http://$IP2$SQLI" </dev/null >/dev/null 2>"$T/curl.err" || true
cmp -s "$T/blob" "$T/www/blob" || ti_fail "the HTTP download differs: $(cat "$T/curl.err")"
# the workers publish their counters a tick later than they bypass
ti_wait_until 5 eval '[ "$(dp inspect bypassed)" -ge $((B0 + 2)) ]' ||
	ti_fail "HTTP: the data plane bypassed $(($(dp inspect bypassed) - B0)) sessions, expected 2"
[ "$(ti_dpath_stat bypassed)" -gt "$K0" ] || ti_fail "HTTP: pc_stats bypassed did not grow"
grep -q 'OR%201%3D1' "$T/web.log" && ti_fail "the SQL injection reached the server: $(cat "$T/web.log")"
grep -q 'GET /blob' "$T/web.log" || ti_fail "the server did not log the download: $(cat "$T/web.log")"
ti_wait_line "$LOG" '"threat":"sql_injection"' 5 "the SQL injection's threat line"
THREAT_SPORT=$(jq -r 'select(.threat == "sql_injection") | .sport' "$LOG" | head -n 1)
# the connection's session lines at both ports (written 5 s after its close)
conn_lines() {
	jq -c --argjson p "$THREAT_SPORT" 'select(.dport == 80 and .sport == $p and .event == "session")' "$LOG"
}
ti_wait_until 15 eval '[ "$(conn_lines | wc -l)" -ge 2 ]' ||
	ti_fail "no session lines of the connection at both ports: $(grep '"dport":80,' "$LOG")"
ti_assert_eq "true true" "$(conn_lines | jq -r .bypassed | xargs)" \
	"bypassed in the session lines of the connection that carried the injection"

ti_log "a slow reader's zero windows take its bypassed download back, with no false alarm"
head -c 4M /dev/urandom >"$T/slow.bin"
B0=$(dp inspect bypassed) KEPT0=$(dp inspect bypass_kept)
ip netns exec "$NS2" timeout 30 socat -u "OPEN:$T/slow.bin" "TCP4-LISTEN:5307,bind=$IP2,reuseaddr" \
	</dev/null >/dev/null 2>&1 &
TI_PIDS+=("$!")
ti_wait_until 5 ti_listening "$NS2" 5307 || ti_fail "server on 5307 did not start"
# reads 32 KiB every 10 ms: its receive buffer fills, its window closes again and again
ip netns exec "$NS1" timeout 30 "$PY" -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], 5307))
with open(sys.argv[2], "wb") as out:
    while True:
        b = s.recv(32768)
        if not b:
            break
        out.write(b)
        time.sleep(0.01)' "$IP2" "$T/slow.out" </dev/null || ti_fail "the slow reader failed"
cmp -s "$T/slow.bin" "$T/slow.out" || ti_fail "the slow reader's download differs"
[ "$(dp inspect bypassed)" -gt "$B0" ] || ti_fail "the slow download was never bypassed"
[ "$(dp inspect bypass_kept)" -gt "$KEPT0" ] ||
	ti_fail "no session was taken back on a small window (bypass_kept $KEPT0 -> $(dp inspect bypass_kept))"
ti_wait_until 10 eval "[ \"\$(grep -c '\"dport\":5307' '$LOG')\" -ge 2 ]" || ti_fail "no session lines for port 5307"
grep '"dport":5307' "$LOG" | grep -q '"threat"' && ti_fail "a threat line for the slow reader: $(grep '"dport":5307' "$LOG")"
ti_assert_eq "true true" "$(jq -r 'select(.dport == 5307 and .event == "session") | .bypassed' "$LOG" | xargs)" \
	"bypassed in the slow reader's session lines"

# stream PORT: an endless TCP stream c1 -> c2:PORT; client pid in CLI
stream() {
	ip netns exec "$NS2" timeout 60 socat -u "TCP4-LISTEN:$1,bind=$IP2,reuseaddr" OPEN:/dev/null \
		</dev/null >/dev/null 2>&1 &
	TI_PIDS+=("$!")
	ti_wait_until 5 ti_listening "$NS2" "$1" || ti_fail "server on $1 did not start"
	ip netns exec "$NS1" timeout 60 socat -u /dev/zero "TCP4:$IP2:$1" </dev/null >/dev/null 2>"$T/cli.$1.err" &
	CLI=$!
	TI_PIDS+=("$CLI")
	ti_wait_until 10 eval "[ \"\$(entries $1)\" = 4 ]" ||
		ti_fail "stream to $1: pc_bypass has $(entries "$1") entries, expected 4 (two ports, two directions)"
}
# received PORT: bytes c2 received on the stream's connection so far
received() {
	ip netns exec "$NS2" ss -tinH state established "( sport = :$1 )" |
		sed -n 's/.*bytes_received:\([0-9]*\).*/\1/p' | head -n 1
}

ti_log "portcullisctl sessions counts what the kernel forwarded of a live bypassed stream"
stream 5302
sleep 0.5
R=$(received 5302)
[ -n "$R" ] && [ "$R" -gt $((4 * 1024 * 1024)) ] || ti_fail "c2 received only ${R:-nothing} of the stream on 5302"
CB=$(timeout 10 "$CTL" --config "$TI_CFG" sessions --json |
	jq --arg s "$IP1" '[.sessions[] | select(.dport == 5302 and .src == $s)] | .[0].client_bytes')
ti_log "stream 5302: c2 had received $R bytes; the session then showed $CB client bytes"
[ "$CB" != null ] && [ "$CB" -ge "$R" ] ||
	ti_fail "portcullisctl sessions shows $CB client bytes for the stream, c2 had received $R"

ti_log "a policy reload denying a bypassed stream ends it"
cat >"$T/policy.json" <<'JSON'
{"default": "allow",
 "rules": [{"id": 7, "from": "any", "to": "any", "ports": ["tcp/5302"], "action": "deny"}],
 "threats": {"actions": {"sql_injection": "drop"}}}
JSON
kill -HUP "$DP_PID"
ti_wait_line "$DP_LOG" 'policy .* loaded: 1 rules' 5 "portcullis-dp's reload"
ti_wait_until 5 eval '[ "$(entries 5302)" = 0 ]' || ti_fail "pc_bypass keeps $(entries 5302) entries after the deny"
ti_wait_until 10 eval "! kill -0 $CLI 2>/dev/null" || ti_fail "the denied stream's client still runs"
wait "$CLI" && ti_fail "the denied stream's client ended well"
grep -q 'reset\|Broken pipe' "$T/cli.5302.err" || ti_fail "client of 5302: $(cat "$T/cli.5302.err")"
ti_wait_line "$LOG" '"dport":5302.*"verdict":"deny","rule":7,"event":"violation"' 5 "the violation of the stream"

ti_log "SIGKILL of the data plane under a bypassed stream"
stream 5303
kill -KILL "$DP_PID"
wait "$DP_PID" 2>/dev/null || true
sleep 1.5 # past the heartbeat's second
R1=$(received 5303)
sleep 1
R2=$(received 5303)
[ -n "$R1" ] || ti_fail "no connection on 5303 in c2"
ti_assert_eq "$R1" "$R2" "bytes c2 received a second apart with the data plane dead (dp_down closed)"
ti_assert_eq 4 "$(entries 5303)" "pc_bypass entries of the stream left by the killed data plane"
ti_assert_eq 8 "$(entries)" "pc_bypass entries left by the killed data plane (the UDP stream's too)"
ti_poststop c1 "$ID1"
ti_expect_rc 0 "poststop c1"
ti_assert_eq 4 "$(entries)" "pc_bypass entries once c1 is released (c2's)"
ti_dp_start
ti_assert_eq 0 "$(entries)" "pc_bypass entries once the next data plane runs"
kill "$CLI" 2>/dev/null || true
ti_dp_stop
ti_log "a pc_bypass of another layout (an earlier build's pins): bypass off, a warning, the data plane runs"
rm -f "$(ti_dpath_pin)/pc_bypass"
bpftool map create "$(ti_dpath_pin)/pc_bypass" type hash key 44 value 8 entries 16 name pc_bypass ||
	ti_fail "bpftool could not pin a map of the old layout"
ti_dp_start
grep -q 'session bypass on' "$DP_LOG" && ti_fail "bypass on with a map of another layout: $(grep ready: "$DP_LOG")"
grep -q 'warn: .*pc_bypass.* not a pc_bypass map of this build: session bypass off' "$DP_LOG" ||
	ti_fail "no warning about the old map: $(cat "$DP_LOG")"
ti_dp_stop
ti_poststop c2 "$ID2"
ti_expect_rc 0 "poststop c2"
ti_dpath_assert_released "at the end"
ti_assert_eq 0 "$(entries)" "pc_bypass entries at the end"
ti_log "ok"
