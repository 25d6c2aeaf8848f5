#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# portcullisctl and the control socket of portcullis-dp: mode fwd, backend
# bpf, two intercepted containers, two workers, a policy that denies TCP
# port 81 (rule 10); the socket in a folder that does not exist yet.
# - the socket is made with mode 0600, its folder with 0700;
# - status and ports name both containers (UCMAC, id, addresses);
# - during a long TCP exchange, sessions shows it with its 5-tuple, on
#   both containers' ports; stats counters grow with the traffic;
# - a broken policy is refused by policy reload (one error line, exit 1)
#   and the old one stays; a good one is taken and policy show has it;
# - bad requests get {"ok":false,...}; several requests share a
#   connection; a client that sends nothing does not hold up another, and
#   is dropped once idle;
# - SIGTERM removes the socket; a stale socket file is replaced on start;
#   no data plane: one error line, exit 1.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/traffic.sh"
. "$(dirname "$0")/lib/dpath.sh"
. "$(dirname "$0")/lib/dp.sh"
ti_dpath_init
CTL=${PORTCULLISCTL:-$(dirname "$HOOK")/portcullisctl}
[ -x "$CTL" ] || ti_fail "portcullisctl not built: $CTL"
T=$TI_TMP
SOCK=$T/run/ctl/dp.sock

ti_host_create
ti_ctr_create c1 1
ti_ctr_create c2 2
ti_ctr_start c1
ti_ctr_start c2
ID1=$(ti_cid dp-ctl-1)
ID2=$(ti_cid dp-ctl-2)
NS1=${CTR_NS[c1]}
NS2=${CTR_NS[c2]}
IP1=${CTR_IP4[c1]}
IP2=${CTR_IP4[c2]}

cat >"$T/policy.json" <<'JSON'
{"default": "allow",
 "rules": [{"id": 10, "from": "any", "to": "any", "ports": ["tcp/81"], "action": "deny"}]}
JSON
ti_dpath_config fwd closed "\"policy\": \"$T/policy.json\", \"session_log\": \"$T/sessions.log\", \"workers\": 2, \"ctl_socket\": \"$SOCK\""

ti_prestart c1 "$ID1"
ti_dpath_require_backend "prestart c1"
ti_prestart c2 "$ID2"
ti_expect_rc 0 "prestart c2"
UC1=$(ti_dpath_ucmac c1)
UC2=$(ti_dpath_ucmac c2)

# ctl ARGS...: portcullisctl through the configuration; output in OUT and
# ERR, exit status in RC; never more than 10 s
ctl() {
	RC=0
	timeout 10 "$CTL" --config "$TI_CFG" "$@" >"$T/ctl.out" 2>"$T/ctl.err" || RC=$?
	OUT=$(cat "$T/ctl.out")
	ERR=$(cat "$T/ctl.err")
}
ctl_ok() {
	ctl "$@"
	[ "$RC" -eq 0 ] || ti_fail "portcullisctl $*: exit $RC: $ERR"
	[ -z "$ERR" ] || ti_fail "portcullisctl $*: stderr: $ERR"
}
# raw LINES: what the socket answers to LINES (printf format) on one connection
raw() {
	printf "$1" | timeout 5 socat -t 3 - "UNIX-CONNECT:$SOCK"
}
# stats_total SECTION KEY
stats_total() { jq -r ".total.$1.$2" <<<"$STATS"; }

ti_log "the socket: mode 0600, its new folder 0700"
ti_dp_start
[ -S "$SOCK" ] || ti_fail "no socket at $SOCK"
ti_assert_eq 600 "$(stat -c %a "$SOCK")" "mode of the socket"
ti_assert_eq 700 "$(stat -c %a "$(dirname "$SOCK")")" "mode of the socket's folder"

ti_log "status and ports"
ctl_ok status --json
ti_assert_eq true "$(jq -r .ok <<<"$OUT")" "status ok"
ti_assert_eq "$DP_PID" "$(jq -r .pid <<<"$OUT")" "status pid"
ti_assert_eq 2 "$(jq -r .workers <<<"$OUT")" "status workers"
ti_assert_eq 2 "$(jq -r .ports <<<"$OUT")" "status ports"
ti_assert_eq bpf "$(jq -r .backend <<<"$OUT")" "status backend"
ti_assert_eq "1 $T/policy.json" "$(jq -r '"\(.policy.rules) \(.policy.path)"' <<<"$OUT")" "status policy"
ctl_ok status
grep -qE '^workers +2$' <<<"$OUT" || ti_fail "status: no 'workers 2' line: $OUT"
grep -qE '^heartbeat +on$' <<<"$OUT" || ti_fail "status: no 'heartbeat on' line: $OUT"

ctl_ok ports --json
for c in "c1 $UC1 $ID1 $IP1" "c2 $UC2 $ID2 $IP2"; do
	set -- $c
	P=$(jq -c --arg m "$2" '.ports[] | select(.ucmac == $m)' <<<"$OUT")
	[ -n "$P" ] || ti_fail "ports: no port with UCMAC $2 ($1): $OUT"
	ti_assert_eq "$3" "$(jq -r .container.id <<<"$P")" "ports: container of $2"
	ti_assert_eq fwd "$(jq -r .mode <<<"$P")" "ports: mode of $2"
	jq -e --arg a "$4" '.addrs | index($a)' <<<"$P" >/dev/null ||
		ti_fail "ports: $1 lacks address $4: $P"
done
ctl_ok ports
head -n 1 <<<"$OUT" | grep -qE '^UCMAC +CONTAINER +GROUP +PORT +MODE +DROPPED +ADDRS$' ||
	ti_fail "ports: header: $(head -n 1 <<<"$OUT")"
# DROPPED: what the checks at the port dropped, read from the hook's records (root)
grep -qE "^$UC1 +${ID1:0:12} .* fwd +[0-9]+ +.*$IP1" <<<"$OUT" || ti_fail "ports: no row for c1: $OUT"
grep -qE "^$UC2 +${ID2:0:12} .* fwd +[0-9]+ +.*$IP2" <<<"$OUT" || ti_fail "ports: no row for c2: $OUT"
echo "$OUT" >&2

ti_log "a long TCP exchange: sessions shows it, stats grow"
ctl_ok stats --json
STATS=$OUT
F0=$(stats_total inspect frames)
B0=$(stats_total inspect bytes)
X0=$(stats_total worker tx)
A0=$(stats_total inspect allowed)
C0=$(stats_total sessions created)
ip netns exec "$NS2" timeout 30 socat -T 20 "TCP4-LISTEN:5300,bind=$IP2,reuseaddr" EXEC:cat \
	</dev/null >/dev/null 2>&1 &
TI_PIDS+=("$!")
ti_wait_until 5 ti_listening "$NS2" 5300 || ti_fail "server on $IP2:5300 did not start"
{ head -c 200000 /dev/urandom; sleep 8; } |
	ip netns exec "$NS1" timeout 30 socat -T 20 - "TCP4:$IP2:5300" >"$T/long.out" 2>&1 &
CLI=$!
TI_PIDS+=("$CLI")
# the client's port, as its own stack sees it
SPORT=
ti_wait_until 5 eval 'SPORT=$(ip netns exec "$NS1" ss -Htn state established "dst $IP2:5300" | awk "{print \$3}" | sed "s/.*://" | head -n 1); [ -n "$SPORT" ]' ||
	ti_fail "the TCP client did not connect"
ti_wait_until 5 eval '[ "$(stat -c %s "$T/long.out")" -ge 200000 ]' ||
	ti_fail "the echo came back short: $(stat -c %s "$T/long.out") of 200000 bytes"
ctl_ok sessions --json
SESS=$(jq -c --arg s "$IP1" --arg d "$IP2" --argjson sp "$SPORT" '.sessions[] |
	select(.transport == "tcp" and .src == $s and .sport == $sp and .dst == $d and .dport == 5300)' <<<"$OUT")
[ -n "$SESS" ] || ti_fail "sessions: no TCP $IP1:$SPORT -> $IP2:5300: $OUT"
ti_log "e.g. $(head -n 1 <<<"$SESS")"
# it crosses the data plane at both containers' ports: one session at each
ti_assert_eq "$(printf '%s\n' "$ID1" "$ID2" | sort | xargs)" \
	"$(jq -r .container.id <<<"$SESS" | sort | xargs)" "containers of the sessions"
for f in '.verdict == "allow"' '.tcp_state == "established"' '.bytes > 400000' '.rule == 0'; do
	jq -e "$f" <<<"$SESS" >/dev/null || ti_fail "sessions: not $f: $SESS"
done
ti_assert_eq "[]" "$(jq -c .unanswered <<<"$OUT")" "workers that did not answer"
ctl_ok sessions
head -n 1 <<<"$OUT" | grep -qE '^CONTAINER +PROTO +SRC +SPORT +DST +DPORT +APP +PKTS +BYTES +VERDICT +RULE +STATE$' ||
	ti_fail "sessions: header: $(head -n 1 <<<"$OUT")"
# (containers without a runtime name show their short id)
grep -qE "^(${ID1:0:12}|${ID2:0:12}) +tcp +$IP1 +$SPORT +$IP2 +5300 +unknown +[0-9]+ +[0-9]+ +allow +0 +established$" <<<"$OUT" ||
	ti_fail "sessions: no row for the exchange: $OUT"
echo "$OUT" >&2
ctl_ok sessions --limit 1 --json
ti_assert_eq 1 "$(jq '.sessions | length' <<<"$OUT")" "sessions with --limit 1"
ti_assert_eq true "$(jq .truncated <<<"$OUT")" "truncated with --limit 1"

ctl_ok stats --json
STATS=$OUT
# 200 kB each way, seen at both ports: 800 kB at least, in however many
# (offloaded) frames
[ "$(stats_total inspect bytes)" -ge "$((B0 + 800000))" ] ||
	ti_fail "stats: bytes $B0 -> $(stats_total inspect bytes) over a 2 x 200 kB exchange"
[ "$(stats_total inspect frames)" -ge "$((F0 + 8))" ] ||
	ti_fail "stats: frames $F0 -> $(stats_total inspect frames)"
[ "$(stats_total inspect allowed)" -gt "$A0" ] || ti_fail "stats: allowed did not grow"
[ "$(stats_total sessions created)" -ge "$((C0 + 2))" ] || ti_fail "stats: sessions.created did not grow by 2"
[ "$(stats_total worker tx)" -ge "$((X0 + 8))" ] || ti_fail "stats: tx $X0 -> $(stats_total worker tx)"
ti_assert_eq "$(stats_total inspect frames)" "$(jq '[.workers[].inspect.frames] | add' <<<"$STATS")" \
	"total frames = sum of the workers'"
ctl_ok stats
grep -qE '^COUNTER +TOTAL +WORKER0 +WORKER1$' <<<"$OUT" || ti_fail "stats: header: $OUT"
grep -qE '^inspect\.frames +[0-9]+ +[0-9]+ +[0-9]+$' <<<"$OUT" || ti_fail "stats: no frames row: $OUT"
echo "$OUT" >&2
wait "$CLI" || ti_fail "the long TCP client failed: $(cat "$T/long.out" | head -c 200)"

ti_log "policy reload: a broken file is refused, a good one taken"
cp "$T/policy.json" "$T/policy.good"
echo '{"default": "allow", "rules": [{"id": 5, "from": "any", "to": "any", "ports": ["tcp/99999"], "action": "deny"}]}' >"$T/policy.json"
ctl policy reload
ti_assert_eq 1 "$RC" "exit status of a refused reload"
ti_assert_eq 1 "$(wc -l <<<"$ERR")" "lines on stderr of a refused reload"
grep -q '^portcullisctl: error: policy reload: .*rule 5.*99999' <<<"$ERR" || ti_fail "refused reload: $ERR"
ctl policy reload --json
ti_assert_eq 1 "$RC" "exit status of a refused reload (--json)"
ti_assert_eq false "$(jq -r .ok <<<"$OUT")" "ok of a refused reload"
ctl_ok policy show --json
ti_assert_eq "[10]" "$(jq -c '[.policy.rules[].id]' <<<"$OUT")" "rules after the refused reload"
echo '{"default": "deny", "rules": [{"id": 30, "from": "any", "to": "any", "ports": ["tcp/80"], "action": "allow"}, {"id": 40, "from": "any", "to": "any", "ports": ["icmp"], "action": "allow"}]}' >"$T/policy.json"
ctl_ok policy reload
ti_assert_eq "policy $T/policy.json loaded: 2 rules" "$OUT" "reload output"
ctl_ok policy show
ti_assert_eq "deny [30,40]" "$(jq -r '"\(.default) \(.rules | map(.id) | tostring)"' <<<"$OUT")" "policy show after the reload"
ti_wait_line "$DP_LOG" 'policy .* loaded: 2 rules' 2 "the reload in the log"
ti_ping "$NS1" "$IP2"
ti_tcp_blocked "$NS2" "$IP2" "$NS1" 5301
cp "$T/policy.good" "$T/policy.json"
ctl_ok policy reload

ti_log "bad requests, several requests on one connection"
R=$(raw '{"cmd":"frobnicate"}\n')
ti_assert_eq '{"ok":false,"error":"request: unknown cmd \"frobnicate\""}' "$R" "reply to an unknown command"
R=$(raw 'not json\n')
ti_assert_eq false "$(jq -r .ok <<<"$R")" "ok of a request that is not JSON"
R=$(raw '{"cmd":"sessions","limit":0}\n')
jq -e '.ok == false and (.error | test("limit"))' <<<"$R" >/dev/null || ti_fail "limit 0: $R"
# the data plane answers and closes before it has read all of it: socat may
# then fail to write the rest, which is not what is tested
R=$({ head -c 6000 /dev/zero | tr '\0' x; echo; } | timeout 5 socat -t 3 - "UNIX-CONNECT:$SOCK" || true)
jq -e '.ok == false and (.error | test("longer"))' <<<"$R" >/dev/null || ti_fail "a long request: $R"
R=$(raw '{"cmd":"status"}\n\n{"cmd":"ports"}\n{"cmd":"policy_show"}')
ti_assert_eq "3 true true true" "$(wc -l <<<"$R") $(jq -r .ok <<<"$R" | xargs)" "three requests on one connection"
jq -e '.policy.rules[0].id == 10' <<<"$(tail -n 1 <<<"$R")" >/dev/null ||
	ti_fail "the third reply: $(tail -n 1 <<<"$R")"

ti_log "a client that sends nothing holds up nobody, and is dropped"
# each in a process group of its own, so that cleanup ends its sleep too
# (waiting on a pipeline waits for the whole of it)
setsid socat -u SYSTEM:'exec sleep 30' "UNIX-CONNECT:$SOCK" >/dev/null 2>&1 &
STUCK=$!
ti_on_cleanup "kill -- -$STUCK"
setsid timeout 30 socat -t 0.5 SYSTEM:"printf '{\"cmd\":'; exec sleep 30" "UNIX-CONNECT:$SOCK" \
	>"$T/half.out" 2>&1 &
HALF=$!
ti_on_cleanup "kill -- -$HALF"
sleep 0.5
t0=$(date +%s%N)
ctl_ok status --json
ti_assert_eq 2 "$(jq -r .workers <<<"$OUT")" "status beside stuck clients"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 2000 ] || ti_fail "status beside stuck clients took $ms ms"
ti_log "status answered in $ms ms beside two stuck clients"
ti_wait_until 10 eval '! kill -0 $HALF 2>/dev/null' ||
	ti_fail "a client with half a request was not dropped after 10 s"
[ ! -s "$T/half.out" ] || ti_fail "the half request got an answer: $(cat "$T/half.out")"
kill -- -"$STUCK" 2>/dev/null || true

ti_log "SIGTERM removes the socket"
ti_dp_stop
[ ! -e "$SOCK" ] || ti_fail "$SOCK still there after SIGTERM"
ctl status
ti_assert_eq 1 "$RC" "exit status without a data plane"
ti_assert_eq "portcullisctl: error: cannot connect to $SOCK (is portcullis-dp running?): No such file or directory" \
	"$ERR" "error without a data plane"
ctl bogus
ti_assert_eq 2 "$RC" "exit status of bad usage"

ti_log "a stale socket file is replaced on start"
socat "UNIX-LISTEN:$SOCK" - </dev/null >/dev/null 2>&1 &
STALE=$!
TI_PIDS+=("$STALE")
ti_wait_until 5 test -S "$SOCK" || ti_fail "no stale socket made"
kill -9 "$STALE"
wait "$STALE" 2>/dev/null || true
ti_log "the socket file of a killed listener stays: $(stat -c %F "$SOCK")"
[ -S "$SOCK" ] || ti_fail "the stale socket went away with its listener"
ti_dp_start
grep -q 'removing a stale socket' "$DP_LOG" || ti_fail "no word of the stale socket: $(cat "$DP_LOG")"
ctl_ok ports --json
ti_assert_eq 2 "$(jq '.ports | length' <<<"$OUT")" "ports after a restart"
ti_dp_stop
[ ! -e "$SOCK" ] || ti_fail "$SOCK still there after the second SIGTERM"

ti_poststop c1 "$ID1"
ti_expect_rc 0 "poststop c1"
ti_poststop c2 "$ID2"
ti_expect_rc 0 "poststop c2"
ti_assert_enf_clean "after poststop"
