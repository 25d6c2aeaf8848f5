#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# TCP streams in portcullis-dp --read-pcap: requests cut by a real client
# stack (TCP_NODELAY, a pause between send() calls, so each piece is its
# own segment) read as if whole.  Servers in srv (nginx, openssl
# s_server), a client in cli, one capture per case (lib/threat_pcap.sh):
# - http-method: "GE" + "T / HTTP/1.1 ..." is http, no threat;
# - sqli-union: "GET /item?id=1+UNI" + "ON+SELECT+..." is sql_injection
#   (alert, and drop with a policy saying drop);
# - sqli-three: the same request in three pieces, cut inside "SELECT" too;
# - quiet: "GET /item?q=union" + "+station ..." cut the same way, no threat;
# - tls-sni: a ClientHello cut at byte 60, before its server_name, is tls
#   with the SNI it names.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/traffic.sh"
. "$(dirname "$0")/lib/dp_pcap.sh"
. "$(dirname "$0")/lib/threat_pcap.sh"
tp_init

tp_nginx_start
tp_tls_start 443

REQ_END='HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n'

# the session to PORT in the case's first read: its app and SNI, "app sni"
session_of() {
	jq -r -s --argjson p "$1" 'map(select(.event == "session" and .dport == $p))
		| if length == 1 then "\(.[0].app) \(.[0].sni // "-")" else "\(length) sessions" end' \
		"$T/$TP_CASE.1.alert.json"
}

# expect_session PORT "APP SNI"
expect_session() {
	local got
	got=$(session_of "$1")
	[ "$got" = "$2" ] && { ti_log "ok: $TP_CASE: session to $1 is $got"; return 0; }
	ti_log "MISS ($TP_CASE): session to $1 is '$got', not '$2'"
	TP_FAILED+=("$TP_CASE-session")
}

tp_case http-method
tp_traffic "$PC_CLI" "cut method" cut "$PC_S4" 80 0.3 "GE|T / $REQ_END"
tp_expect
expect_session 80 "http -"
pc_covered http-method

tp_case sqli-union
tp_traffic "$PC_CLI" "cut UNION" cut "$PC_S4" 80 0.3 \
	"GET /item?id=1+UNI|ON+SELECT+name,pass+FROM+users-- $REQ_END"
tp_expect "sql_injection tcp $PC_S4 80"
expect_session 80 "http -"
pc_covered sqli-union

tp_case sqli-three
tp_traffic "$PC_CLI" "cut UNION SELECT" cut "$PC_S4" 80 0.3 \
	"GET /item?id=1+UNI|ON+SEL|ECT+name,pass+FROM+users-- $REQ_END"
tp_expect "sql_injection tcp $PC_S4 80"
pc_covered sqli-three

tp_case quiet
tp_traffic "$PC_CLI" "cut look-alike" cut "$PC_S4" 80 0.3 "GET /item?q=union|+station $REQ_END"
tp_expect
expect_session 80 "http -"
pc_covered quiet

tp_case tls-sni
tp_traffic "$PC_CLI" "cut ClientHello" tls-cut "$PC_S4" 443 cut.example 60 0.3
tp_expect
expect_session 443 "tls cut.example"
pc_covered tls-sni

tp_summary
