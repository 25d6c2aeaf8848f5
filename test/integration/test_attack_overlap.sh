#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# TCP overlaps with other content, played against a live data plane in
# fwd and a real Linux receiver: c2 opens a connection to a server in c1
# (port 8080; policy allow, the session log on), then writes segments
# under it with a raw socket: "index.html HTTP/1.1 ..." out of order
# after a gap of 5 bytes, the same start again covering it with
# "admin.html HTTP/1.1 ... X-Evil", then "GET /" into the gap.  Linux lets
# the covering segment replace the one it queued, so without the data
# plane the server reads "GET /admin.html", while the data plane, which
# keeps the first data, would have read "GET /index.html".
# - the server reads "GET /index.html" and nothing of the covering
#   segment: the data plane dropped it (inspect.stream_conflict_dropped)
#   and reported the threat tcp_overlap_conflict;
# - an ordinary TCP exchange on the same port still works.
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
ID1=$(ti_cid attack-overlap-1)
ID2=$(ti_cid attack-overlap-2)
NS1=${CTR_NS[c1]}
NS2=${CTR_NS[c2]}
IP1=${CTR_IP4[c1]}

cat >"$T/policy.json" <<'JSON'
{"default": "allow"}
JSON
ti_dpath_config fwd closed "\"policy\": \"$T/policy.json\", \"session_log\": \"$AT_LOG\", \"bypass_after_kb\": 0"
ti_prestart c1 "$ID1"
ti_dpath_require_backend "prestart c1"
ti_prestart c2 "$ID2"
ti_expect_rc 0 "prestart c2"

at_py_bg "$NS1" text-server "$IP1" 8080 "$T/received"
ti_wait_until 5 ti_listening "$NS1" 8080 || ti_fail "the server on port 8080 did not start"
ti_dp_start

ti_log "c2 resends queued bytes with other content"
at_py "$NS2" overlap "$IP1" 8080 >&2 || ti_fail "the overlap client failed"
sleep 1
GOT=$(tr -d '\r' <"$T/received" 2>/dev/null | head -c 200 | tr '\n' '|')
ti_log "the server read: $GOT"
case $GOT in
"GET /index.html HTTP/1.1|Host: a||"*) ;;
*) ti_fail "the server did not read the first data: '$GOT'" ;;
esac
grep -q -e admin -e X-Evil "$T/received" && ti_fail "bytes of the covering segment reached the server: '$GOT'"
[ "$(at_stat inspect.stream_conflict_dropped)" -ge 1 ] ||
	ti_fail "inspect.stream_conflict_dropped is $(at_stat inspect.stream_conflict_dropped)"
L=$(at_log_lines '.threat == "tcp_overlap_conflict" and .dport == 8080')
[ -n "$L" ] || ti_fail "no tcp_overlap_conflict line: $(cat "$AT_LOG")"
ti_log "threat: $(head -n 1 <<<"$L")"

ti_log "an ordinary exchange on the same port"
: >"$T/received"
ip netns exec "$NS2" sh -c "printf 'GET /ok HTTP/1.1\r\nHost: a\r\n\r\n' | timeout 5 socat -u - TCP4:$IP1:8080"
sleep 0.5
grep -q "GET /ok" "$T/received" || ti_fail "an ordinary request did not arrive: '$(cat "$T/received")'"

ti_dp_stop
for c in c1 c2; do
	id=ID${c#c}
	ti_poststop "$c" "${!id}"
	ti_expect_rc 0 "poststop $c"
done
ti_assert_enf_clean "after poststop"
