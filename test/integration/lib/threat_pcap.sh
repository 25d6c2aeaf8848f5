# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# Helpers of the threat tests (test_threat_pcap_*.sh), on top of
# lib/dp_pcap.sh: the servers (nginx, dnsmasq, sshd, openssl s_server),
# one capture per case, and checks that go on after a miss so that one run
# reports every detector that missed or raised a false alarm.
#
#     tp_init
#     tp_nginx_start
#     tp_case sqli-get                       # capture $T/sqli-get.pcap
#     pc_cli "..." curl ...
#     tp_expect "sql_injection tcp $PC_S4 80"
#     ...
#     tp_summary                             # fails if any case failed
#
# tp_expect reads the capture twice: with the case's policy (actions
# alert) and with that policy turning every expected threat to drop; both
# must have exactly the expected threats (names, transport, dst, dport,
# action, evidence a non-empty string) and no other threat line.  With no
# expectation, no threat line at all.  The capture of a failed case is
# kept under $PORTCULLIS_KEEP_CAPTURES (default /tmp/threat-captures).

ti_lib_needs core dp_pcap

TP_TRAFFIC="$(dirname "${BASH_SOURCE[0]}")/threat_traffic.py"
TP_KEEP=${PORTCULLIS_KEEP_CAPTURES:-/tmp/threat-captures}
TP_FAILED=()
TP_PASSED=()
TP_CAPTURING=0
# low flood thresholds, so that a short bounded burst is a flood
# shellcheck disable=SC2034 # (used by the tests)
TP_LOW='{"syn_flood_pps": 200, "icmp_flood_pps": 200}'

# pc_init, scapy, and no segmentation offload on the veth pair: frames
# are at most 1514 bytes as on a wire (a server's segments as its MSS
# cuts them, not merged), so tcpdump's ring slots can be 2 KiB and hold
# the bursts of the cases (thousands of frames) without loss.
tp_init() {
	pc_init
	T=$TI_TMP
	ip netns exec "$PC_SRV" ethtool -K s0 tso off gso off gro off >/dev/null
	ip netns exec "$PC_CLI" ethtool -K c0 tso off gso off gro off >/dev/null
	# shellcheck disable=SC2034 # (read by pc_capture_start)
	PC_SNAPLEN=2048
	pc_need python3-scapy /usr/lib/python3/dist-packages/scapy/__init__.py ||
		ti_skip "python3-scapy cannot be installed"
	chmod 755 "$TP_TRAFFIC" 2>/dev/null || true
}

# tp_case NAME: a new case; its capture starts.
tp_case() {
	TP_CASE=$1
	TP_READS=0
	ti_log "---- case $TP_CASE"
	pc_capture_start "$T/$TP_CASE.pcap"
	TP_CAPTURING=1
}

# tp_case_of NAME PCAP: a new case read from PCAP, a capture made before
# (an earlier case's, rewritten); no capture starts.
tp_case_of() {
	TP_CASE=$1
	TP_READS=0
	ti_log "---- case $TP_CASE (capture $(basename "$2"))"
	PC_PCAP=$2
	pc_flows "$PC_PCAP" "$PC_PCAP.flows"
	TP_CAPTURING=0
}

# tp_policy THREATS_JSON LABEL DROP_NAMES...: a policy file, its path on
# stdout: default allow, no rule, THREATS_JSON as "threats" plus actions
# drop for DROP_NAMES.
tp_policy() {
	local base=$1 f="$T/$TP_CASE.$TP_READS.policy.$2.json"
	shift 2
	jq -cn --argjson b "$base" --args '{default: "allow", rules: [],
		threats: ($b + (if $ARGS.positional == [] then {} else
			{actions: ($ARGS.positional | map({(.): "drop"}) | add)} end))}' "$@" >"$f"
	printf '%s\n' "$f"
}

# tp_expect [--threats JSON] ["NAME TRANSPORT DST DPORT"]...: stop the
# capture (the first time), read it, check (see the top of this file).
# Called again in a case, it reads the same capture with other settings.
tp_expect() {
	local base='{}' spec names=() pol out bad=() n what
	if [ "${1:-}" = --threats ]; then
		base=$2
		shift 2
	fi
	for spec in "$@"; do
		read -r n _ <<<"$spec"
		names+=("$n")
	done
	if [ "$TP_CAPTURING" = 1 ]; then
		pc_capture_stop
		TP_CAPTURING=0
	fi
	TP_READS=$((TP_READS + 1))
	what=$TP_CASE
	[ "$TP_READS" -eq 1 ] || what+="#$TP_READS"
	pol=$(tp_policy "$base" alert)
	out="$T/$TP_CASE.$TP_READS.alert.json"
	pc_read "$PC_PCAP" "$out" --policy "$pol"
	tp_check "$out" alert "$@" || bad+=("alert")
	if [ "$#" -gt 0 ]; then
		pol=$(tp_policy "$base" drop "${names[@]}")
		out="$T/$TP_CASE.$TP_READS.drop.json"
		pc_read "$PC_PCAP" "$out" --policy "$pol"
		tp_check "$out" drop "$@" || bad+=("drop")
	fi
	if [ "${#bad[@]}" -eq 0 ]; then
		TP_PASSED+=("$what")
		ti_log "ok: $what with threats $base: ${*:-no threat}"
		return 0
	fi
	TP_FAILED+=("$what")
	tp_keep
}

# tp_check OUT ACTION SPEC...: problems logged, status 1 if any.
tp_check() {
	local out=$1 action=$2 spec ok=0 other
	shift 2
	local -a want=()
	for spec in "$@"; do
		# shellcheck disable=SC2086
		set -- $spec
		want+=("$1")
		pc_has_threat "$out" "$1" "$2" "$3" "$4" "$action" && continue
		ti_log "MISS ($TP_CASE, $action): no threat line $1 $2 to $3:$4 with action $action and evidence"
		ok=1
	done
	other=$(jq -c --args 'select(.threat != null and (.threat as $n | $ARGS.positional | index($n) | not))' \
		"${want[@]}" <"$out")
	if [ -n "$other" ]; then
		ti_log "FALSE ALARM ($TP_CASE, $action): threat lines beyond ${want[*]:-none}:"
		printf '%s\n' "$other" | sed 's/^/    /' >&2
		ok=1
	fi
	if ! pc_threats_first "$out"; then
		ti_log "ORDER ($TP_CASE, $action): threat lines after session lines"
		ok=1
	fi
	[ "$ok" -eq 0 ] || { ti_log "threat lines of $TP_CASE ($action):"; pc_threat_lines "$out" | sed 's/^/    /' >&2; }
	return "$ok"
}

# keep the capture (and what portcullis-dp printed) of a failed case
tp_keep() {
	local f
	mkdir -p "$TP_KEEP"
	cp "$PC_PCAP" "$TP_KEEP/$TI_NAME-$TP_CASE.pcap"
	for f in "$T/$TP_CASE".[0-9]*.json; do
		cp "$f" "$TP_KEEP/$TI_NAME-$(basename "$f")"
	done
	ti_log "FAIL ($TP_CASE): capture kept as $TP_KEEP/$TI_NAME-$TP_CASE.pcap"
}

tp_summary() {
	ti_log "cases passed ${#TP_PASSED[@]}: ${TP_PASSED[*]:-none}"
	ti_log "cases failed ${#TP_FAILED[@]}: ${TP_FAILED[*]:-none}"
	pc_summary
	[ "${#TP_FAILED[@]}" -eq 0 ] || ti_fail "${#TP_FAILED[@]} case(s) failed: ${TP_FAILED[*]}"
}

# tp_traffic NETNS WHAT ARGS...: threat_traffic.py in NETNS, bounded; its
# one line logged.
tp_traffic() {
	local ns=$1 what=$2
	shift 2
	ip netns exec "$ns" timeout 30 "$PY" "$TP_TRAFFIC" "$@" >"$T/traffic.out" 2>&1 </dev/null ||
		{ cat "$T/traffic.out" >&2; ti_fail "$what: threat_traffic.py $* failed"; }
	ti_log "$(cat "$T/traffic.out")"
}

# ---------------------------------------------------------------- servers

# tp_nginx_start: nginx on PC_S4:80 in srv, its own config and prefix in
# $T/nginx, in the foreground (no daemon, no system service), serving
# $T/www; /item and /login answer any method with a short 200.
tp_nginx_start() {
	local d=$T/nginx
	pc_need nginx nginx || ti_skip "nginx cannot be installed"
	mkdir -p "$d" "$T/www"
	echo "portcullis threat test $TI_ID" >"$T/www/index.html"
	cat >"$d/nginx.conf" <<-EOF
		daemon off;
		master_process off;
		worker_processes 1;
		pid $d/nginx.pid;
		error_log $d/error.log info;
		events { worker_connections 512; }
		http {
		    access_log $d/access.log;
		    client_body_temp_path $d/body;
		    proxy_temp_path $d/proxy;
		    fastcgi_temp_path $d/fastcgi;
		    uwsgi_temp_path $d/uwsgi;
		    scgi_temp_path $d/scgi;
		    default_type application/octet-stream;
		    server {
		        listen $PC_S4:80;
		        root $T/www;
		        location = /item { return 200 "item\n"; }
		        location = /login { return 200 "welcome\n"; }
		    }
		}
	EOF
	pc_bg "$PC_SRV" "$d/stderr.log" nginx -e "$d/error.log" -p "$d" -c "$d/nginx.conf"
	pc_wait_port "$PC_SRV" tcp 80 10 "nginx" "$d/error.log"
}

# tp_dnsmasq_start: dnsmasq on PC_S4:53 in srv, no system configuration:
# authoritative for a.example (www, mail, an MX; zone transfers allowed to
# PC_C4) and for t.example, which holds no name (NXDOMAIN, as for the
# queries of a tunnel whose server is not there).
tp_dnsmasq_start() {
	pc_need dnsmasq-base dnsmasq || ti_skip "dnsmasq-base cannot be installed"
	pc_need bind9-dnsutils dig || ti_skip "bind9-dnsutils cannot be installed"
	pc_bg "$PC_SRV" "$T/dnsmasq.log" dnsmasq --no-daemon --conf-file=/dev/null \
		--user=root --group=root --pid-file --log-facility=- --log-queries \
		--interface=s0 --bind-interfaces --no-resolv --no-hosts \
		--auth-server=ns.a.example,s0 --auth-zone=a.example --auth-peer="$PC_C4" \
		--host-record=www.a.example,192.0.2.7,2001:db8::7 \
		--auth-zone=t.example \
		--host-record=mail.a.example,192.0.2.8 --mx-host=a.example,mail.a.example,10
	pc_wait_port "$PC_SRV" udp 53 10 "dnsmasq" "$T/dnsmasq.log"
	pc_wait_port "$PC_SRV" tcp 53 10 "dnsmasq" "$T/dnsmasq.log"
}

# tp_sshd_start: OpenSSH's sshd on PC_S4:2222 in srv, a host key of its own.
tp_sshd_start() {
	pc_need openssh-server /usr/sbin/sshd || ti_skip "openssh-server cannot be installed"
	if [ ! -d /run/sshd ]; then
		# sshd's privilege separation directory, there while sshd runs
		mkdir -m 755 /run/sshd
		ti_on_cleanup "rmdir /run/sshd"
	fi
	ssh-keygen -q -t ed25519 -N '' -f "$T/ssh_host_key" >/dev/null
	pc_bg "$PC_SRV" "$T/sshd.log" /usr/sbin/sshd -D -e -f /dev/null -h "$T/ssh_host_key" \
		-p 2222 -o "PidFile=$T/sshd.pid" -o "ListenAddress=$PC_S4"
	pc_wait_port "$PC_SRV" tcp 2222 10 "sshd" "$T/sshd.log"
}

# tp_tls_start PORT [S_SERVER_OPTIONS...]: openssl s_server -www on
# PC_S4:PORT with a certificate for a.example.
tp_tls_start() {
	local port=$1
	shift
	if [ ! -s "$T/tls.crt" ]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
			-subj /CN=a.example -keyout "$T/tls.key" -out "$T/tls.crt" >"$T/tls.gen" 2>&1 ||
			{ cat "$T/tls.gen" >&2; ti_fail "openssl req"; }
	fi
	pc_bg "$PC_SRV" "$T/tls$port.log" openssl s_server -quiet -www -accept "$PC_S4:$port" \
		-cert "$T/tls.crt" -key "$T/tls.key" "$@"
	pc_wait_port "$PC_SRV" tcp "$port" 10 "openssl s_server" "$T/tls$port.log"
}
