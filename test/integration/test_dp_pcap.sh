#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# portcullis-dp --read-pcap over a capture of real Debian clients talking
# to real Debian servers across a veth pair between two namespaces:
# - HTTP/1.1 (curl -> python3 http.server on 80; curl -> busybox httpd on
#   8080 over IPv6), HTTP/2 cleartext (curl --http2-prior-knowledge ->
#   nghttpd), TLS with SNI (curl -> openssl s_server, and openssl s_client
#   -tls1_2 over IPv6), SSH (OpenSSH client -> sshd), DNS over UDP and TCP
#   (dig -> dnsmasq), DHCP (busybox udhcpc -> dnsmasq), Redis (redis-cli ->
#   redis-server, IPv4 and IPv6), memcached (socat -> memcached, text;
#   memcstat --binary -> memcached, binary), NTP (ntpdig -> chronyd);
# - Kafka (kcat) and MongoDB (python3-pymongo): Debian has their clients
#   but no server, so the clients talk to a listener that reads and says
#   nothing, and the client's own bytes must name the protocol;
# - 4 KiB of random bytes to TCP 80 and 443 are "unknown";
# - each session has the opener as src, the server as dst/dport, the app,
#   the SNI, and packets and bytes equal to what the capture holds for its
#   5-tuple; verdict allow, rule 0;
# - with a policy denying redis to the IPv4 server (rule 7) that session is
#   deny/7 and every other one is still allow/0;
# - no threat line: all of it is ordinary traffic;
# - the capture cut in the middle of a record: one error line naming it,
#   exit 1.
# PostgreSQL and MariaDB are in test_dp_pcap_db.sh, bad files in
# test_dp_pcap_bad.sh.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/traffic.sh"
. "$(dirname "$0")/lib/dp_pcap.sh"
pc_init
T=$TI_TMP

# ---------------------------------------------------------------- servers

mkdir -p "$T/www"
echo "portcullis pcap test $TI_ID" >"$T/www/index.html"

start_http() {
	pc_bg "$PC_SRV" "$T/http.log" "$PY" -m http.server 80 --bind "$PC_S4" --directory "$T/www"
	pc_bg "$PC_SRV" "$T/httpd.log" busybox httpd -f -p 8080 -h "$T/www"
	pc_wait_port "$PC_SRV" tcp 80 10 "python3 http.server" "$T/http.log"
	pc_wait_port "$PC_SRV" tcp 8080 10 "busybox httpd" "$T/httpd.log"
}

HAVE_H2=0
start_h2c() {
	pc_need nghttp2-server nghttpd || { pc_sub_skip http2 "nghttp2-server cannot be installed"; return 0; }
	pc_bg "$PC_SRV" "$T/nghttpd.log" nghttpd --no-tls -d "$T/www" 8081
	pc_wait_port "$PC_SRV" tcp 8081 10 "nghttpd" "$T/nghttpd.log"
	HAVE_H2=1
}

start_tls() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
		-subj /CN=a.example -keyout "$T/tls.key" -out "$T/tls.crt" >"$T/tls.gen" 2>&1 ||
		{ cat "$T/tls.gen" >&2; ti_fail "openssl req"; }
	# one server per family: s_server's [::] is IPv6 only
	pc_bg "$PC_SRV" "$T/tls4.log" openssl s_server -quiet -www -accept "$PC_S4:443" \
		-cert "$T/tls.crt" -key "$T/tls.key"
	pc_bg "$PC_SRV" "$T/tls6.log" openssl s_server -quiet -www -accept "[$PC_S6]:443" \
		-cert "$T/tls.crt" -key "$T/tls.key"
	ti_wait_until 10 eval '[ "$(ip netns exec "$PC_SRV" ss -Hltn "sport = :443" | wc -l)" -eq 2 ]' ||
		{ cat "$T/tls4.log" "$T/tls6.log" >&2; ti_fail "openssl s_server is not listening on 443"; }
}

HAVE_SSH=0
start_ssh() {
	pc_need openssh-server /usr/sbin/sshd || { pc_sub_skip ssh "openssh-server cannot be installed"; return 0; }
	pc_need openssh-client ssh || { pc_sub_skip ssh "openssh-client cannot be installed"; return 0; }
	if [ ! -d /run/sshd ]; then
		# sshd's privilege separation directory, there while sshd runs
		mkdir -m 755 /run/sshd
		ti_on_cleanup "rmdir /run/sshd"
	fi
	ssh-keygen -q -t ed25519 -N '' -f "$T/ssh_host_key" >/dev/null
	pc_bg "$PC_SRV" "$T/sshd.log" /usr/sbin/sshd -D -e -f /dev/null -h "$T/ssh_host_key" \
		-p 2222 -o "PidFile=$T/sshd.pid" -o ListenAddress=0.0.0.0 -o ListenAddress=::
	pc_wait_port "$PC_SRV" tcp 2222 10 "sshd" "$T/sshd.log"
	HAVE_SSH=1
}

HAVE_DNSMASQ=0
start_dnsmasq() {
	pc_need dnsmasq-base dnsmasq || { pc_sub_skip "dns dhcp" "dnsmasq-base cannot be installed"; return 0; }
	pc_bg "$PC_SRV" "$T/dnsmasq.log" dnsmasq --no-daemon --conf-file=/dev/null \
		--user=root --group=root --pid-file --log-facility=- \
		--interface=s0 --bind-interfaces --no-resolv --no-hosts \
		--address=/a.example/192.0.2.7 \
		--dhcp-range="$TI_NET4.100,$TI_NET4.150,1h" --dhcp-leasefile="$T/dnsmasq.leases"
	pc_wait_port "$PC_SRV" udp 53 10 "dnsmasq" "$T/dnsmasq.log"
	pc_wait_port "$PC_SRV" tcp 53 10 "dnsmasq" "$T/dnsmasq.log"
	HAVE_DNSMASQ=1
}

HAVE_REDIS=0
start_redis() {
	pc_need redis-server redis-server || { pc_sub_skip redis "redis-server cannot be installed"; return 0; }
	pc_need redis-tools redis-cli || { pc_sub_skip redis "redis-tools cannot be installed"; return 0; }
	pc_bg "$PC_SRV" "$T/redis.log" redis-server --port 6379 --bind "$PC_S4 $PC_S6" \
		--protected-mode no --save '' --appendonly no --dir "$T" --daemonize no
	pc_wait_port "$PC_SRV" tcp 6379 10 "redis-server" "$T/redis.log"
	HAVE_REDIS=1
}

HAVE_MC=0 HAVE_MC_BIN=1
start_memcached() {
	pc_need memcached memcached || { pc_sub_skip memcached "memcached cannot be installed"; return 0; }
	pc_bg "$PC_SRV" "$T/memcached.log" memcached -u nobody -l "$PC_S4,$PC_S4B" -p 11211 -U 0
	pc_wait_port "$PC_SRV" tcp 11211 10 "memcached" "$T/memcached.log"
	HAVE_MC=1
}

HAVE_NTP=0
start_ntp() {
	pc_need chrony chronyd || { pc_sub_skip ntp "chrony cannot be installed"; return 0; }
	pc_need ntpsec-ntpdig ntpdig || { pc_sub_skip ntp "ntpsec-ntpdig cannot be installed"; return 0; }
	# a server of its own local clock; -x: it never touches the system clock
	cat >"$T/chrony.conf" <<-EOF
		port 123
		bindaddress $PC_S4
		allow all
		local stratum 8
		cmdport 0
		pidfile $T/chronyd.pid
	EOF
	pc_bg "$PC_SRV" "$T/chronyd.log" chronyd -d -x -u root -f "$T/chrony.conf"
	pc_wait_port "$PC_SRV" udp 123 10 "chronyd" "$T/chronyd.log"
	HAVE_NTP=1
}

# listeners that read and say nothing: what comes is only the client's
HAVE_KAFKA=0 HAVE_MONGO=0
start_sinks() {
	local p ports="80 443"
	if pc_need kcat kcat; then
		HAVE_KAFKA=1 ports+=" 9092"
	else
		pc_sub_skip kafka "kcat cannot be installed"
	fi
	if pc_need python3-pymongo /usr/lib/python3/dist-packages/pymongo/__init__.py; then
		HAVE_MONGO=1 ports+=" 27017"
	else
		pc_sub_skip mongodb "python3-pymongo cannot be installed"
	fi
	for p in $ports; do
		pc_bg "$PC_SRV" "$T/sink$p.log" socat -u "TCP4-LISTEN:$p,bind=$PC_S4B,reuseaddr,fork" \
			"SYSTEM:cat >/dev/null"
		pc_wait_port "$PC_SRV" tcp "$p" 10 "socat sink on $PC_S4B:$p" "$T/sink$p.log"
	done
}

start_http
start_h2c
start_tls
start_ssh
start_dnsmasq
start_redis
start_memcached
start_ntp
start_sinks

# ---------------------------------------------------------------- traffic

pc_capture_start

pc_cli "http" curl -sSf --http1.1 "http://$PC_S4/"
grep -q "$TI_ID" "$T/cli.out" || ti_fail "http: curl did not get the page"
pc_cli "http on 8080, IPv6" curl -sSf --http1.1 "http://[$PC_S6]:8080/"
grep -q "$TI_ID" "$T/cli.out" || ti_fail "http 8080: curl did not get the page"
if [ "$HAVE_H2" = 1 ]; then
	pc_cli "h2c" curl -sSf --http2-prior-knowledge "http://$PC_S4:8081/"
	grep -q "$TI_ID" "$T/cli.out" || ti_fail "h2c: curl did not get the page"
fi
pc_cli "tls" curl -sSf -k --resolve "a.example:443:$PC_S4" "https://a.example/"
grep -qi 'cipher' "$T/cli.out" || ti_fail "tls: curl did not get the s_server page"
pc_cli "tls 1.2, IPv6" sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -quiet -tls1_2 \
	-servername b.example -connect '[$PC_S6]:443'"
grep -qi 'cipher' "$T/cli.out" || ti_fail "tls 1.2: s_client did not get the s_server page"
if [ "$HAVE_SSH" = 1 ]; then
	pc_cli_any ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 -p 2222 "nobody@$PC_S4" true
	grep -q 'Permission denied' "$T/cli.out" ||
		{ cat "$T/cli.out" >&2; ti_fail "ssh: no authentication exchange with sshd"; }
fi
if [ "$HAVE_DNSMASQ" = 1 ]; then
	pc_cli "dns udp" dig +short +tries=1 +time=3 -p 53 "@$PC_S4" a.example A
	grep -qx 192.0.2.7 "$T/cli.out" || ti_fail "dns udp: dig got '$(cat "$T/cli.out")'"
	pc_cli "dns tcp" dig +short +tcp +tries=1 +time=3 -p 53 "@$PC_S4" a.example A
	grep -qx 192.0.2.7 "$T/cli.out" || ti_fail "dns tcp: dig got '$(cat "$T/cli.out")'"
	pc_cli "dhcp" busybox udhcpc -i c0 -f -q -n -t 3 -T 2 -s /bin/true
	grep -q 'lease of' "$T/cli.out" || { cat "$T/cli.out" >&2; ti_fail "dhcp: udhcpc got no lease"; }
fi
if [ "$HAVE_REDIS" = 1 ]; then
	pc_cli "redis" redis-cli -h "$PC_S4" -p 6379 PING
	grep -qx PONG "$T/cli.out" || ti_fail "redis: PING got '$(cat "$T/cli.out")'"
	pc_cli "redis IPv6" redis-cli -h "$PC_S6" -p 6379 SET k "$TI_ID"
	grep -qx OK "$T/cli.out" || ti_fail "redis: SET got '$(cat "$T/cli.out")'"
fi
if [ "$HAVE_MC" = 1 ]; then
	pc_cli "memcached" sh -c "printf 'set k 0 0 6\r\n$TI_ID\r\nget k\r\nversion\r\nquit\r\n' |
		socat -t 3 - TCP4:$PC_S4:11211"
	grep -q "^VERSION" "$T/cli.out" || ti_fail "memcached: got '$(cat "$T/cli.out")'"
	if pc_need libmemcached-tools memcstat; then
		pc_cli "memcached binary" memcstat --binary "--servers=$PC_S4B:11211"
		grep -q 'pid:' "$T/cli.out" || ti_fail "memcstat: got '$(head -n 3 "$T/cli.out")'"
	else
		pc_sub_skip memcached-binary "libmemcached-tools cannot be installed"
		HAVE_MC_BIN=0
	fi
fi
if [ "$HAVE_NTP" = 1 ]; then
	pc_cli "ntp" ntpdig -t 3 "$PC_S4"
fi
if [ "$HAVE_KAFKA" = 1 ]; then
	# librdkafka's first request (ApiVersions), then it gives up on the broker
	pc_cli_any kcat -b "$PC_S4B:9092" -L -m 2
fi
if [ "$HAVE_MONGO" = 1 ]; then
	# pymongo's handshake (isMaster), then it gives up on the server
	pc_cli_any "$PY" -c "import pymongo; pymongo.MongoClient('$PC_S4B', 27017,
		serverSelectionTimeoutMS=1500, connectTimeoutMS=1500).admin.command('ping')"
fi
head -c 4096 /dev/urandom >"$T/random.bin"
for p in 80 443; do
	pc_cli "random bytes to $p" socat -u "FILE:$T/random.bin" "TCP4:$PC_S4B:$p"
done

pc_capture_stop

# ---------------------------------------------------------------- checks

O=$T/out.json
pc_read "$PC_PCAP" "$O"
# none of this ordinary traffic (random bytes to 80 and 443 included) is a threat
pc_expect_no_threat "$O"
pc_covered no-threat

check() {
	local name=$1
	shift
	pc_expect "$O" "$@"
	pc_covered "$name"
}
check http tcp "$PC_C4" "$PC_S4" 80 http
check http-8080-v6 tcp "$PC_C6" "$PC_S6" 8080 http
[ "$HAVE_H2" = 0 ] || check h2c tcp "$PC_C4" "$PC_S4" 8081 http2
check tls13-sni tcp "$PC_C4" "$PC_S4" 443 tls a.example
check tls12-sni-v6 tcp "$PC_C6" "$PC_S6" 443 tls b.example
[ "$HAVE_SSH" = 0 ] || check ssh tcp "$PC_C4" "$PC_S4" 2222 ssh
if [ "$HAVE_DNSMASQ" = 1 ]; then
	check dns-udp udp "$PC_C4" "$PC_S4" 53 dns
	check dns-tcp tcp "$PC_C4" "$PC_S4" 53 dns
	check dhcp udp 0.0.0.0 255.255.255.255 67 dhcp
fi
if [ "$HAVE_REDIS" = 1 ]; then
	check redis tcp "$PC_C4" "$PC_S4" 6379 redis
	check redis-v6 tcp "$PC_C6" "$PC_S6" 6379 redis
fi
if [ "$HAVE_MC" = 1 ]; then
	check memcached tcp "$PC_C4" "$PC_S4" 11211 memcached
	[ "$HAVE_MC_BIN" = 0 ] || check memcached-binary tcp "$PC_C4" "$PC_S4B" 11211 memcached
fi
[ "$HAVE_KAFKA" = 0 ] || check kafka-client tcp "$PC_C4" "$PC_S4B" 9092 kafka
if [ "$HAVE_MONGO" = 1 ]; then
	# pymongo may open a monitoring connection beside the one it asks on,
	# and give up on it before it sends a byte: one or more sessions, at
	# least one identified, none as anything else
	apps=$(jq -r --arg s "$PC_C4" --arg d "$PC_S4B" 'select(.threat == null and
		.transport == "tcp" and .src == $s and .dst == $d and .dport == 27017) | .app' "$O")
	grep -qx mongodb <<<"$apps" || ti_fail "no session to 27017 identified as mongodb: $apps"
	! grep -vqx 'mongodb\|unknown' <<<"$apps" || ti_fail "sessions to 27017 identified as: $apps"
	pc_covered mongodb-client
fi
[ "$HAVE_NTP" = 0 ] || check ntp udp "$PC_C4" "$PC_S4" 123 ntp
check random-80-unknown tcp "$PC_C4" "$PC_S4B" 80 unknown
check random-443-unknown tcp "$PC_C4" "$PC_S4B" 443 unknown
if [ "$HAVE_KAFKA$HAVE_MONGO" != 00 ]; then
	ti_log "note: Kafka and MongoDB servers are not in Debian 12: only their clients' bytes are checked"
fi

# ---------------------------------------------------------------- policy

if [ "$HAVE_REDIS" = 1 ]; then
	printf '{"default":"allow","rules":[{"id":7,"from":"any","to":"cidr:%s/32","ports":["tcp/6379"],"apps":["redis"],"action":"deny"}]}\n' \
		"$PC_S4" >"$T/policy.json"
	P=$T/out-policy.json
	pc_read "$PC_PCAP" "$P" --policy "$T/policy.json"
	pc_expect_no_threat "$P"
	pc_expect "$P" tcp "$PC_C4" "$PC_S4" 6379 redis "" deny 7
	pc_expect "$P" tcp "$PC_C6" "$PC_S6" 6379 redis "" allow 0
	bad=$(jq -c --arg s "$PC_S4" 'select(.verdict != "allow" or .rule != 0)
		| select((.dst == $s and .dport == 6379 and .transport == "tcp") | not)' "$P")
	[ -z "$bad" ] || ti_fail "policy: other sessions not allow/0: $bad"
	# apart from the verdict, the same sessions
	ti_assert_eq "$(jq -c 'del(.verdict, .rule, .event)' "$O" | sort)" \
		"$(jq -c 'del(.verdict, .rule, .event)' "$P" | sort)" "sessions with and without the policy"
	pc_covered policy-deny-rule7
else
	pc_sub_skip policy-deny "needs redis"
fi

# ---------------------------------------------------------------- a cut capture

size=$(stat -c %s "$PC_PCAP")
head -c $((size - 7)) "$PC_PCAP" >"$T/cut.pcap"
rc=0
"$DP" --config "$TI_CFG" --read-pcap "$T/cut.pcap" >"$T/cut.out" 2>"$T/cut.err" || rc=$?
ti_assert_eq 1 "$rc" "exit status over a cut capture"
grep -v '^portcullis-dp: info: ' "$T/cut.err" >"$T/cut.err1" || true
ti_assert_eq 1 "$(grep -c '' "$T/cut.err1")" "error lines over a cut capture"
# the last record is the one cut
nrec=$("$PY" -c '
import struct, sys
d = open(sys.argv[1], "rb").read()
e = "<" if d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
o, n = 24, 0
while o < len(d):
    o += 16 + struct.unpack(e + "I", d[o + 8:o + 12])[0]
    n += 1
print(n)' "$PC_PCAP")
grep -qE "^portcullis-dp: .*cut\.pcap: record $nrec: (data|header) cut short" "$T/cut.err1" ||
	ti_fail "cut capture: error does not name record $nrec: $(cat "$T/cut.err1")"
[ ! -s "$T/cut.out" ] || ti_fail "cut capture: sessions printed before the error"
ti_log "cut capture: $(cat "$T/cut.err1")"
pc_covered cut-capture

pc_summary
