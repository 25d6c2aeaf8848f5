#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Threat detection in portcullis-dp --read-pcap must stay silent over
# ordinary traffic that looks like the threats of test_threat_pcap_app.sh
# and test_threat_pcap_net.sh: one capture per case (see
# lib/threat_pcap.sh), read with the default thresholds and with the low
# ones those tests use for floods (200 SYN/s, 200 ICMP/s), and not one
# threat line in any of them:
# - an apostrophe in a query (curl /?name=O%27Brien) and an ordinary form
#   POST, to nginx;
# - a 20 MB download from nginx, a 1 MB upload (POST), and 1 MB down to a
#   client whose window scale is 14 (tcp_rmem up to 1 GiB), so its window
#   field says 4 to 10;
# - TLS 1.3 as openssl and curl do it by default, to openssl s_server;
# - dig A, AAAA and MX over UDP, and A over TCP, to dnsmasq;
# - ping, and ping -s 1400;
# - OpenSSH's client to sshd (SSH-2.0; the login itself fails);
# - 30 keep-alive connections to nginx idle 4 s between two requests, and
#   one client that writes its request headers a line every 2 s.
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
head -c 20000000 /dev/urandom >"$T/www/big.bin"
head -c 1000000 /dev/urandom >"$T/www/1m.bin"

quiet() {
	tp_expect
	tp_expect --threats "$TP_LOW"
	pc_covered "$TP_CASE"
}

tp_case http-apostrophe
pc_cli "apostrophe" curl -sSf --max-time 5 "http://$PC_S4/?name=O%27Brien"
grep -q "$TI_ID" "$T/cli.out" || ti_fail "apostrophe: nginx did not serve the page: $(cat "$T/cli.out")"
quiet

tp_case http-form
pc_cli "form" curl -sSf --max-time 5 --data-urlencode "name=Jane Doe" \
	--data-urlencode "email=jane@example.com" --data-urlencode "message=A table for 2 at 7pm, thanks!" \
	"http://$PC_S4/login"
grep -qx welcome "$T/cli.out" || ti_fail "form: nginx did not answer: $(cat "$T/cli.out")"
quiet

tp_case http-download
pc_cli "download" curl -sSf --max-time 15 -o /dev/null -w '%{size_download}\n' "http://$PC_S4/big.bin"
grep -qx 20000000 "$T/cli.out" || ti_fail "download: curl got $(cat "$T/cli.out") bytes of 20000000"
quiet

tp_case http-upload
pc_cli "upload" curl -sSf --max-time 15 --data-binary "@$T/www/1m.bin" "http://$PC_S4/login"
grep -qx welcome "$T/cli.out" || ti_fail "upload: nginx did not answer: $(cat "$T/cli.out")"
quiet

# a client tuned for long fat networks: a receive buffer of up to 1 GiB
# makes Linux scale its window by 2^14, so a 128 KiB window is "8" in the
# header of every segment
tp_case http-wscale14
RMEM=$(ip netns exec "$PC_CLI" sysctl -n net.ipv4.tcp_rmem)
ip netns exec "$PC_CLI" sysctl -q -w net.ipv4.tcp_rmem="4096 131072 1073741824"
pc_cli "wscale 14" curl -sSf --max-time 10 -o /dev/null -w '%{size_download}\n' "http://$PC_S4/1m.bin"
ip netns exec "$PC_CLI" sysctl -q -w net.ipv4.tcp_rmem="$RMEM"
grep -qx 1000000 "$T/cli.out" || ti_fail "wscale 14: curl got $(cat "$T/cli.out") bytes of 1000000"
quiet
tcpdump -nr "$PC_PCAP" "tcp[13] == 2" 2>/dev/null | grep -q 'wscale 14' ||
	ti_fail "wscale 14: the client's SYN does not scale its window by 2^14"

tp_case tls13
pc_cli "tls 1.3 curl" curl -sSf -k --max-time 5 --resolve "a.example:443:$PC_S4" "https://a.example/"
grep -q 'TLSv1.3' "$T/cli.out" || ti_fail "tls 1.3: s_server's page does not say TLSv1.3"
pc_cli "tls 1.3 s_client" sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -quiet \
	-servername a.example -connect $PC_S4:443"
grep -q 'TLSv1.3' "$T/cli.out" || ti_fail "tls 1.3: s_client did not get TLS 1.3"
quiet

tp_case dns
for q in "www.a.example A" "www.a.example AAAA" "a.example MX" "+tcp www.a.example A"; do
	# shellcheck disable=SC2086
	pc_cli "dig $q" dig +tries=1 +time=3 -p 53 "@$PC_S4" $q
	grep -q 'status: NOERROR' "$T/cli.out" || ti_fail "dig $q: $(cat "$T/cli.out")"
	grep -q 'ANSWER: [1-9]' "$T/cli.out" || ti_fail "dig $q: no answer"
done
quiet

tp_case ping
pc_cli "ping" ping -n -c 4 -i 0.2 "$PC_S4"
pc_cli "ping -s 1400" ping -n -c 10 -i 0.2 -s 1400 "$PC_S4"
grep -q '10 received' "$T/cli.out" || ti_fail "ping -s 1400: $(tail -n 2 "$T/cli.out")"
quiet

tp_case http-keepalive
tp_traffic "$PC_CLI" keepalive keepalive "$PC_S4" 80 30 4
quiet

tp_case http-slow-client
tp_traffic "$PC_CLI" slow-client slowloris "$PC_S4" 80 1 6 2
quiet

tp_case ssh
pc_need openssh-client ssh || ti_skip "openssh-client cannot be installed"
pc_cli_any ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no \
	-o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 -p 2222 "nobody@$PC_S4" true
grep -q 'Permission denied' "$T/cli.out" ||
	{ cat "$T/cli.out" >&2; ti_fail "ssh: no authentication exchange with sshd"; }
quiet

tp_summary
