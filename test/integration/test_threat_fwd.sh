#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Threat detection in the live data plane: two intercepted containers,
# portcullis-dp running with a policy that allows everything and says
# {"threats": {"actions": {"sql_injection": "drop"}}}, a web server
# (python3 http.server) in c2, curl in c1.
# - mode fwd: an ordinary request (GET /item?id=42) is answered, before
#   and after; the same path with ?id=1%27%20OR%201%3D1-- is not (the
#   connection is reset or times out) and never reaches the server; the
#   session log has a threat line sql_injection, tcp, c1 -> c2:80, action
#   drop, with evidence;
# - mode tap: the same injection is answered (a copy cannot be dropped)
#   and the session log has its threat line with action "violation";
# - no other threat line in the log.
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

ti_host_create
ti_ctr_create c1 1
ti_ctr_create c2 2
ti_ctr_start c1
ti_ctr_start c2
ID1=$(ti_cid threat-fwd-1)
ID2=$(ti_cid threat-fwd-2)
NS1=${CTR_NS[c1]}
NS2=${CTR_NS[c2]}
IP1=${CTR_IP4[c1]}
IP2=${CTR_IP4[c2]}
LOG=$T/sessions.log
SQLI='/item?id=1%27%20OR%201%3D1--'

echo '{"default": "allow", "rules": [], "threats": {"actions": {"sql_injection": "drop"}}}' >"$T/policy.json"
ti_dpath_config fwd closed "\"policy\": \"$T/policy.json\", \"session_log\": \"$LOG\", \"workers\": 2"

ti_prestart c1 "$ID1"
ti_dpath_require_backend "prestart c1"
ti_prestart c2 "$ID2"
ti_expect_rc 0 "prestart c2"

mkdir -p "$T/www"
echo "item $TI_ID" >"$T/www/item"
chmod -R a+rX "$T/www"
ip netns exec "$NS2" timeout 120 "$PY" -m http.server 80 --bind "$IP2" --directory "$T/www" \
	</dev/null >"$T/web.log" 2>&1 &
TI_PIDS+=("$!")
ti_wait_until 10 ti_listening "$NS2" 80 || { cat "$T/web.log" >&2; ti_fail "http.server did not start in c2"; }

# get PATH_AND_QUERY: curl from c1 to c2; exit status, output in $T/get.out
get() {
	ip netns exec "$NS1" timeout 10 curl -sS --max-time 5 "http://$IP2$1" \
		</dev/null >"$T/get.out" 2>&1
}

get_ok() {
	get "$1" || ti_fail "$2: GET $1 failed: $(cat "$T/get.out")"
	grep -q "item $TI_ID" "$T/get.out" || ti_fail "$2: GET $1 got: $(cat "$T/get.out")"
}

# the requests the server saw with the injection in them
server_saw_sqli() { grep -c 'OR%201%3D1' "$T/web.log" || true; }

FAILS=()
soft_fail() {
	ti_log "FAIL (kept going): $*"
	FAILS+=("$1")
}

# threat_line ACTION: the session log's sql_injection line c1 -> c2:80
# with ACTION and evidence (waiting up to 5 s for it)
threat_line() {
	ti_wait_until 5 eval "[ -n \"\$(threat_lines '$1')\" ]" || return 1
	threat_lines "$1" | head -n 1
}
threat_lines() {
	jq -c --arg a "$1" --arg s "$IP1" --arg d "$IP2" 'select(.threat == "sql_injection"
		and .transport == "tcp" and .src == $s and .dst == $d and .dport == 80
		and .action == $a and (.evidence | type == "string" and length > 0))' "$LOG" 2>/dev/null
}

ti_dp_start

ti_log "fwd: an ordinary request, the injection, an ordinary request"
get_ok '/item?id=42' "fwd, before"
if get "$SQLI"; then
	soft_fail fwd-answered "fwd: GET $SQLI was answered: $(head -c 200 "$T/get.out")"
else
	ti_log "fwd: the injection failed as it should: $(cat "$T/get.out")"
fi
[ "$(server_saw_sqli)" -eq 0 ] || soft_fail fwd-reached "fwd: the injection reached the server: $(grep 'OR%201' "$T/web.log")"
get_ok '/item?id=43' "fwd, after"
if L=$(threat_line drop); then
	ti_log "fwd: $L"
else
	soft_fail fwd-log "fwd: no sql_injection line with action drop in the session log"
fi

ti_log "tap: the injection is answered, and logged"
for id in "$ID1" "$ID2"; do
	ti_hook mode "$id" tap
	ti_expect_rc 0 "mode $id tap"
done
get_ok '/item?id=44' "tap, before"
if get "$SQLI" && grep -q "item $TI_ID" "$T/get.out"; then
	ti_log "tap: the injection was answered"
else
	soft_fail tap-blocked "tap: GET $SQLI was not answered: $(cat "$T/get.out")"
fi
[ "$(server_saw_sqli)" -ge 1 ] || soft_fail tap-reached "tap: the injection did not reach the server"
if L=$(threat_line violation); then
	ti_log "tap: $L"
else
	soft_fail tap-log "tap: no sql_injection line with action violation in the session log"
fi

ti_dp_stop
OTHER=$(jq -c 'select(.threat != null and .threat != "sql_injection")' "$LOG")
[ -z "$OTHER" ] || soft_fail other-threats "threat lines other than sql_injection: $OTHER"

ti_poststop c1 "$ID1"
ti_expect_rc 0 "poststop c1"
ti_poststop c2 "$ID2"
ti_expect_rc 0 "poststop c2"
ti_assert_enf_clean "after poststop"

if [ "${#FAILS[@]}" -gt 0 ]; then
	echo "--- session log:" >&2
	cat "$LOG" >&2
	echo "--- web server log:" >&2
	cat "$T/web.log" >&2
	ti_fail "${#FAILS[@]} check(s) failed: ${FAILS[*]}"
fi
