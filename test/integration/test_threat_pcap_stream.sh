#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# TCP streams in portcullis-dp --read-pcap: requests written in pieces by
# real client stacks (TCP_NODELAY, a pause between send() calls; see
# lib/stream_traffic.py) to real servers in the srv namespace, one capture
# per case (see lib/threat_pcap.sh), each identified and detected as the
# whole request is:
# - "GE" + "T / HTTP/1.1 ..." to nginx, and the same request one byte per
#   segment: app http, no threat;
# - GET /item?id=1 UNION SELECT ... (URL-encoded) cut inside UNION and
#   inside SELECT, and one byte per segment: sql_injection;
# - a form POST cut inside a header name, between the headers and the
#   body, and inside its ' OR '1'='1: sql_injection;
# - a benign GET with a query cut the same way: no threat;
# - a TLS ClientHello (Python's ssl module, so OpenSSL's own hello) cut
#   inside its record header, before its server_name extension and inside
#   the name, to openssl s_server: app tls, sni a.example, no threat;
# - the UNION SELECT request in ten pieces, and a benign GET in four; each
#   capture read again rewritten (lib/stream_traffic.py pcap-edit): the
#   client's data segments in reverse order, each sent twice, and one
#   resent with other bytes; the benign one also with two segments resent
#   as one (an overlap that agrees): identified and detected as in order,
#   and tcp_overlap_conflict for the conflicting copy, nothing more.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/traffic.sh"
. "$(dirname "$0")/lib/dp_pcap.sh"
. "$(dirname "$0")/lib/threat_pcap.sh"
tp_init

ST_TRAFFIC="$(dirname "$0")/lib/stream_traffic.py"
tp_nginx_start
tp_tls_start 443

# st_send WHAT PAUSE CUTS REQUEST: REQUEST (printf %b) to nginx on port 80
# from cli, cut at CUTS (see stream_traffic.py); nginx must answer 200.
st_send() {
	local what=$1 pause=$2 cuts=$3
	printf '%b' "$4" >"$T/req.bin"
	STREAM_ANSWER=$T/answer.bin ip netns exec "$PC_CLI" timeout 60 "$PY" "$ST_TRAFFIC" cuts \
		"$PC_S4" 80 "$pause" "$T/req.bin" "$cuts" >"$T/traffic.out" 2>&1 </dev/null ||
		{ cat "$T/traffic.out" >&2; ti_fail "$what: stream_traffic.py failed"; }
	ti_log "$what: $(cat "$T/traffic.out")"
	head -n 1 "$T/answer.bin" | grep -q '^HTTP/1.1 200' ||
		ti_fail "$what: nginx did not answer 200: $(head -c 200 "$T/answer.bin")"
}

# st_app APP [SNI]: the session of the case's capture to the server has APP
# (and SNI), as read by the case's first tp_expect.
st_app() {
	local port=80
	[ "$1" = tls ] && port=443
	pc_expect "$T/$TP_CASE.1.alert.json" tcp "$PC_C4" "$PC_S4" "$port" "$1" "${2:-}"
}

GET_PLAIN='GET /index.html HTTP/1.1\r\nHost: a.example\r\nUser-Agent: cut\r\nConnection: close\r\n\r\n'
GET_UNION='GET /item?id=1%20UNION%20SELECT%20password%20FROM%20users-- HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n'
GET_BENIGN='GET /item?id=42&sort=name HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n'
POST_BODY="user=admin%27+OR+%271%27%3D%271%27+--+&password=x"
POST_SQLI="POST /login HTTP/1.1\r\nHost: a.example\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${#POST_BODY}\r\nConnection: close\r\n\r\n$POST_BODY"

# offset of the first STRING in the request (printf %b) REQ, plus ADD
st_at() {
	local req prefix
	req=$(printf '%b' "$1")
	prefix=${req%%"$2"*}
	[ "$prefix" != "$req" ] || ti_fail "st_at: no $2 in the request"
	echo $((${#prefix} + $3))
}

# ---------------------------------------------------------------- identification

tp_case http-method-cut
st_send "GE + T" 0.2 2 "$GET_PLAIN"
tp_expect
st_app http
pc_covered http-method-cut

tp_case http-bytewise
st_send "GET a byte a segment" 0.005 each "$GET_PLAIN"
tp_expect
st_app http
pc_covered http-bytewise

tp_case tls-sni-cut
STREAM_ANSWER=$T/answer.bin ip netns exec "$PC_CLI" timeout 30 "$PY" "$ST_TRAFFIC" tls-cut \
	"$PC_S4" 443 a.example 0.2 >"$T/traffic.out" 2>&1 </dev/null ||
	{ cat "$T/traffic.out" >&2; ti_fail "tls-cut: stream_traffic.py failed"; }
ti_log "$(cat "$T/traffic.out")"
grep -qi 'cipher' "$T/answer.bin" || ti_fail "tls-cut: no page from s_server"
tp_expect
st_app tls a.example
pc_covered tls-sni-cut

# ---------------------------------------------------------------- detection

tp_case sqli-union-cut
st_send "UNI + ON SEL + ECT" 0.2 "$(st_at "$GET_UNION" UNION 3),$(st_at "$GET_UNION" SELECT 3)" "$GET_UNION"
tp_expect "sql_injection tcp $PC_S4 80"
st_app http
pc_covered sqli-union-cut

tp_case sqli-bytewise
st_send "UNION SELECT a byte a segment" 0.005 each "$GET_UNION"
tp_expect "sql_injection tcp $PC_S4 80"
pc_covered sqli-bytewise

tp_case sqli-post-cut
st_send "POST cut in a header, before the body, in OR" 0.2 \
	"$(st_at "$POST_SQLI" Content-Length 7),$(st_at "$POST_SQLI" user= 0),$(st_at "$POST_SQLI" +OR 2)" \
	"$POST_SQLI"
tp_expect "sql_injection tcp $PC_S4 80"
pc_covered sqli-post-cut

tp_case benign-cut
st_send "benign query cut" 0.2 "$(st_at "$GET_BENIGN" id= 1),$(st_at "$GET_BENIGN" Host 2)" "$GET_BENIGN"
tp_expect
st_app http
pc_covered benign-cut

# ---------------------------------------------------------------- out of order, again, overlapping

# The real segments of a capture moved, sent twice, or resent with other
# bytes, as a network or an evading sender would (lib/stream_traffic.py
# pcap-edit): st_edited NAME BASE MODE, a case read from BASE's capture
# rewritten.
st_edited() {
	local out=$T/$1.pcap
	"$PY" "$ST_TRAFFIC" pcap-edit "$T/$2.pcap" "$out" "$3" "$PC_C4" >"$T/traffic.out" 2>&1 ||
		{ cat "$T/traffic.out" >&2; ti_fail "$1: pcap-edit failed"; }
	tp_case_of "$1" "$out"
	ti_log "$(cat "$T/traffic.out")"
}

tp_case sqli-pieces
cuts=
for i in 1 2 3 4 5 6 7 8 9; do cuts+="${cuts:+,}$((i * 12))"; done
st_send "UNION SELECT in ten pieces" 0.05 "$cuts" "$GET_UNION"
tp_expect "sql_injection tcp $PC_S4 80"

st_edited sqli-reversed sqli-pieces reverse
tp_expect "sql_injection tcp $PC_S4 80"
st_app http
st_edited sqli-twice sqli-pieces twice
tp_expect "sql_injection tcp $PC_S4 80"
st_app http
st_edited sqli-conflict sqli-pieces conflict
tp_expect "sql_injection tcp $PC_S4 80" "tcp_overlap_conflict tcp $PC_S4 80"
pc_covered sqli-pieces sqli-reversed sqli-twice sqli-conflict

tp_case plain-pieces
st_send "plain GET in pieces" 0.05 "$(st_at "$GET_PLAIN" index 2),$(st_at "$GET_PLAIN" Host 1),$(st_at "$GET_PLAIN" User 3)" "$GET_PLAIN"
tp_expect
st_edited plain-reversed plain-pieces reverse
tp_expect
st_app http
st_edited plain-merge plain-pieces merge
tp_expect
st_app http
st_edited plain-conflict plain-pieces conflict
tp_expect "tcp_overlap_conflict tcp $PC_S4 80"
st_app http
pc_covered plain-pieces plain-reversed plain-merge plain-conflict

tp_summary
