#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Threat detection in portcullis-dp --read-pcap, application level: real
# servers in the srv namespace (nginx, dnsmasq, openssl s_server, sshd),
# clients in cli, one capture per case (see lib/threat_pcap.sh), and in
# each capture exactly the threat it was made for (action alert, and drop
# with a policy saying drop), to the server's address and port:
# - sql_injection: curl GET /item?id=1%27%20OR%201%3D1-- (URL-encoded), and
#   a form POST (curl --data-urlencode) whose field is admin' OR '1'='1' --;
# - http_smuggling: Content-Length with Transfer-Encoding: chunked, and two
#   different Content-Length headers (each its own case);
# - http_negative_length: Content-Length: -1;
# - http_slowloris: 30 connections whose header lines never end, a header
#   line every 2 s on each, and a capture of 5 s from the first SYN;
# - dns_zone_transfer: dig AXFR (TCP) of the zone dnsmasq serves;
#   dns_type_null: dig NULL; dns_tunneling: 40 TXT queries of long random
#   base32 labels under one domain within a few seconds;
# - tls_old_version: openssl s_client -tls1 and -tls1_1 against s_server
#   restricted to them (SECLEVEL=0), both sessions;
# - tls_heartbleed: a TLS 1.2 ClientHello with the heartbeat extension,
#   then after ServerHelloDone a heartbeat record (type 24, version 0x0302,
#   3 bytes) whose payload_length says 0x4000;
# - ssh_v1: "SSH-1.5-client" to OpenSSH's sshd.
# The look-alikes (no threat at all) are in test_threat_pcap_quiet.sh, the
# network-level threats in test_threat_pcap_net.sh.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/traffic.sh"
. "$(dirname "$0")/lib/dp_pcap.sh"
. "$(dirname "$0")/lib/threat_pcap.sh"
tp_init

tp_nginx_start
tp_dnsmasq_start
tp_sshd_start
tp_tls_start 443
tp_tls_start 4443 -tls1 -cipher DEFAULT@SECLEVEL=0
tp_tls_start 4444 -tls1_1 -cipher DEFAULT@SECLEVEL=0

# raw HTTP/1.1 bytes to nginx on port 80; nginx's answer in cli.out
http_raw() {
	local what=$1 req=$2
	printf '%b' "$req" >"$T/req.bin"
	ip netns exec "$PC_CLI" timeout 10 socat -t 3 - "TCP4:$PC_S4:80" <"$T/req.bin" >"$T/cli.out" 2>&1 ||
		ti_fail "$what: socat failed: $(cat "$T/cli.out")"
	grep -q '^HTTP/1.1 ' "$T/cli.out" || ti_fail "$what: nginx did not answer: $(head -c 300 "$T/cli.out")"
	ti_log "$what: nginx said $(head -n 1 "$T/cli.out" | tr -d '\r')"
}

# ---------------------------------------------------------------- HTTP

tp_case sqli-get
pc_cli "sqli GET" curl -sS --max-time 5 "http://$PC_S4/item?id=1%27%20OR%201%3D1--"
grep -qx item "$T/cli.out" || ti_fail "sqli GET: nginx did not answer: $(cat "$T/cli.out")"
tp_expect "sql_injection tcp $PC_S4 80"
pc_covered sqli-get

tp_case sqli-post
pc_cli "sqli POST" curl -sS --max-time 5 --data-urlencode "user=admin' OR '1'='1' -- " \
	--data-urlencode "password=x" "http://$PC_S4/login"
grep -qx welcome "$T/cli.out" || ti_fail "sqli POST: nginx did not answer: $(cat "$T/cli.out")"
tp_expect "sql_injection tcp $PC_S4 80"
pc_covered sqli-post

tp_case smuggling-cl-te
http_raw "CL + TE" 'POST /login HTTP/1.1\r\nHost: a.example\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG'
tp_expect "http_smuggling tcp $PC_S4 80"
pc_covered smuggling-cl-te

tp_case smuggling-cl-cl
http_raw "CL + CL" 'POST /login HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5\r\nContent-Length: 11\r\n\r\nhello world'
tp_expect "http_smuggling tcp $PC_S4 80"
pc_covered smuggling-cl-cl

tp_case negative-length
http_raw "CL -1" 'POST /login HTTP/1.1\r\nHost: a.example\r\nContent-Length: -1\r\n\r\nx'
tp_expect "http_negative_length tcp $PC_S4 80"
pc_covered negative-length

# the classic tools' pace, a header line every 2 s, and a capture of 5 s
# only: what is in it must be enough to detect the attack
tp_case slowloris
tp_traffic "$PC_CLI" slowloris slowloris "$PC_S4" 80 30 5 2
tp_expect "http_slowloris tcp $PC_S4 80"
pc_covered slowloris

# ---------------------------------------------------------------- DNS

tp_case dns-axfr
pc_cli "dig AXFR" dig +tries=1 +time=3 -p 53 "@$PC_S4" a.example AXFR
grep -q 'www.a.example' "$T/cli.out" || ti_fail "AXFR: no zone from dnsmasq: $(cat "$T/cli.out")"
tp_expect "dns_zone_transfer tcp $PC_S4 53"
pc_covered dns-axfr

tp_case dns-null
pc_cli "dig NULL" dig +tries=1 +time=3 -p 53 "@$PC_S4" www.a.example NULL
grep -q 'status: NOERROR\|status: NXDOMAIN' "$T/cli.out" || ti_fail "NULL: no answer: $(cat "$T/cli.out")"
tp_expect "dns_type_null udp $PC_S4 53"
pc_covered dns-null

tp_case dns-tunnel
"$PY" - "$T/tunnel.batch" <<'PY'
import base64, os, sys
with open(sys.argv[1], "w") as f:
    for i in range(40):
        label = base64.b32encode(os.urandom(35)).decode().rstrip("=").lower()
        f.write(f"{label}.{i:04d}.t.example TXT\n")
PY
pc_cli "dig tunnel" dig +tries=1 +time=2 -p 53 "@$PC_S4" -f "$T/tunnel.batch"
n=$(grep -c 'status: NXDOMAIN' "$T/cli.out" || true)
[ "$n" -eq 40 ] || ti_fail "tunnel: $n of 40 queries answered NXDOMAIN"
tp_expect "dns_tunneling udp $PC_S4 53"
pc_covered dns-tunnel

# ---------------------------------------------------------------- TLS and SSH

tp_case tls-old
for v in 1:4443 1_1:4444; do
	pc_cli "TLS 1${v%%:*}" sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -quiet \
		-tls${v%%:*} -cipher DEFAULT@SECLEVEL=0 -connect $PC_S4:${v#*:}"
	grep -qi 'cipher' "$T/cli.out" ||
		ti_fail "TLS ${v%%:*}: no page from s_server: $(head -n 5 "$T/cli.out")"
done
tp_expect "tls_old_version tcp $PC_S4 4443" "tls_old_version tcp $PC_S4 4444"
pc_covered tls1.0 tls1.1

tp_case heartbleed
tp_traffic "$PC_CLI" heartbleed heartbleed "$PC_S4" 443
tp_expect "tls_heartbleed tcp $PC_S4 443"
pc_covered heartbleed

tp_case ssh-v1
pc_cli_any sh -c "printf 'SSH-1.5-client\r\n' | socat -t 3 - TCP4:$PC_S4:2222"
grep -q '^SSH-2.0-' "$T/cli.out" || ti_fail "ssh v1: sshd did not answer: $(cat "$T/cli.out")"
ti_log "sshd said: $(tr -d '\r' <"$T/cli.out" | tr '\n' ' ')"
tp_expect "ssh_v1 tcp $PC_S4 2222"
pc_covered ssh-v1

tp_summary
