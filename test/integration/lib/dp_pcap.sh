# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# Helpers of the --read-pcap tests (test_dp_pcap*.sh, test_threat_pcap_*.sh):
# two namespaces "srv"
# and "cli" joined by one veth pair (s0 <-> c0), a tcpdump capture on c0,
# real Debian servers in srv and real clients in cli, then
# `portcullis-dp --read-pcap` over the capture and jq over its lines.
#
#     . "$(dirname "$0")/lib/core.sh"
#     . "$(dirname "$0")/lib/netns.sh"
#     . "$(dirname "$0")/lib/traffic.sh"
#     . "$(dirname "$0")/lib/dp_pcap.sh"
#     pc_init                       # ti_init, tools, topology
#     pc_capture_start; ...traffic...; pc_capture_stop
#     pc_read "$PC_PCAP" out.json   # runs portcullis-dp --read-pcap
#     pc_expect out.json tcp "$PC_C4" "$PC_S4" 80 http
#
# A protocol whose software cannot be had is skipped visibly: pc_sub_skip
# logs the reason and counts it; pc_summary prints what was covered.

ti_lib_needs core netns traffic

DP=${PORTCULLIS_DP:-$(dirname "$HOOK")/portcullis-dp}
PY=/usr/bin/python3
PC_COVERED=()
PC_SKIPPED=()
PC_APT_UPDATED=0

# pc_need PACKAGE CMD: CMD on PATH (or a file, given by its path),
# installing PACKAGE with apt-get when it is missing; status 1 when it
# cannot be had.
pc_have() {
	case $1 in
	*/*) [ -e "$1" ] ;;
	*) command -v "$1" >/dev/null 2>&1 ;;
	esac
}

pc_need() {
	local pkg=$1 cmd=$2
	pc_have "$cmd" && return 0
	ti_log "installing $pkg (for $cmd)"
	export DEBIAN_FRONTEND=noninteractive
	if [ "$PC_APT_UPDATED" = 0 ]; then
		apt-get update -q >"$TI_TMP/apt.log" 2>&1 || true
		PC_APT_UPDATED=1
	fi
	apt-get install -y -q --no-install-recommends "$pkg" >>"$TI_TMP/apt.log" 2>&1 || true
	pc_have "$cmd"
}

# pc_sub_skip WHAT WHY: a sub-check that could not run, logged and counted.
pc_sub_skip() {
	PC_SKIPPED+=("$1")
	ti_log "SKIP (sub-check) $1: $2"
}

pc_covered() { PC_COVERED+=("$@"); }

pc_summary() {
	ti_log "covered ${#PC_COVERED[@]}: ${PC_COVERED[*]}"
	ti_log "skipped ${#PC_SKIPPED[@]}: ${PC_SKIPPED[*]:-none}"
	[ "${#PC_COVERED[@]}" -gt 0 ] || ti_fail "no protocol could be exercised"
}

# ti_init, the tools every --read-pcap test needs, and the two namespaces:
# srv has PC_S4/PC_S4B and PC_S6 on s0, cli has PC_C4 and PC_C6 on c0.
pc_init() {
	ti_init
	[ -x "$DP" ] || ti_fail "portcullis-dp not built: $DP"
	pc_need tcpdump tcpdump || ti_skip "tcpdump cannot be installed"
	pc_need python3 "$PY" || ti_skip "python3 cannot be installed"
	pc_need socat socat || ti_skip "socat cannot be installed"
	# the servers run as unprivileged users in places: let them through
	chmod 711 "$TI_TMP"
	PC_SRV="$TI_NS_PREFIX-srv"
	PC_CLI="$TI_NS_PREFIX-cli"
	ti_netns_add "$PC_SRV"
	ti_netns_add "$PC_CLI"
	ip -n "$PC_SRV" link add s0 type veth peer name c0 netns "$PC_CLI"
	PC_S4="$TI_NET4.1" PC_S4B="$TI_NET4.3" PC_C4="$TI_NET4.2"
	# as inet_ntop writes them (TI_NET6 may have leading zeros in a group)
	PC_S6=$("$PY" -c 'import ipaddress, sys; print(ipaddress.ip_address(sys.argv[1]))' "$TI_NET6::1")
	PC_C6=$("$PY" -c 'import ipaddress, sys; print(ipaddress.ip_address(sys.argv[1]))' "$TI_NET6::2")
	ip -n "$PC_SRV" addr add "$PC_S4/24" dev s0
	ip -n "$PC_SRV" addr add "$PC_S4B/24" dev s0
	ip -n "$PC_SRV" addr add "$PC_S6/64" dev s0 nodad
	ip -n "$PC_CLI" addr add "$PC_C4/24" dev c0
	ip -n "$PC_CLI" addr add "$PC_C6/64" dev c0 nodad
	ip -n "$PC_SRV" link set s0 up
	ip -n "$PC_CLI" link set c0 up
	ti_wait_dad "$PC_CLI"
	ti_ping "$PC_CLI" "$PC_S4"
	ti_ping "$PC_CLI" "$PC_S6"
	ti_log "srv $PC_SRV ($PC_S4 $PC_S4B $PC_S6), cli $PC_CLI ($PC_C4 $PC_C6)"
}

# pc_bg NETNS LOG CMD...: a server in NETNS; its pid in PC_PID (TI_PIDS).
pc_bg() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$@" </dev/null >"$log" 2>&1 &
	PC_PID=$!
	TI_PIDS+=("$PC_PID")
}

# pc_stop PID: stop a server started by pc_bg, and wait for it.
pc_stop() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# pc_wait_port NETNS PROTO PORT SECONDS WHAT [LOG]: a listener is there.
pc_wait_port() {
	local ns=$1 proto=$2 port=$3 t=$4 what=$5 log=${6:-}
	ti_wait_until "$t" pc_has_port "$ns" "$proto" "$port" && return 0
	[ -n "$log" ] && tail -n 20 "$log" >&2
	ti_fail "$what is not listening on $proto/$port"
}

pc_has_port() {
	local flag=-Hltn
	[ "$2" = udp ] && flag=-Hlun
	[ -n "$(ip netns exec "$1" ss "$flag" "sport = :$3")" ]
}

# pc_cli WHAT CMD...: a client in cli, bounded; its output in $TI_TMP/cli.out.
pc_cli() {
	local what=$1
	shift
	if ! ip netns exec "$PC_CLI" timeout 20 "$@" >"$TI_TMP/cli.out" 2>&1 </dev/null; then
		tail -n 20 "$TI_TMP/cli.out" >&2
		ti_fail "$what: client failed: $*"
	fi
}

# pc_cli_any CMD...: a client whose exit status does not matter (it talks,
# then fails on something the test does not set up, like ssh's auth).
pc_cli_any() {
	ip netns exec "$PC_CLI" timeout 20 "$@" >"$TI_TMP/cli.out" 2>&1 </dev/null || true
}

# pc_capture_start [FILE]: tcpdump on c0 (Ethernet, whole frames, written
# per packet); PC_PCAP is the file.  --immediate-mode: without it libpcap's
# TPACKET_V3 ring hands frames over a block at a time, and tcpdump stopping
# leaves the last second or so of traffic out of the file.  -B 32768: in
# immediate mode every ring slot is as large as the snapshot (256 KiB),
# and the default 2 MiB ring, 8 slots, loses frames of any burst (30
# connections opened at once, a flood).  PC_SNAPLEN (default 0, whole
# frames of any size) can make the slots smaller where no frame is larger.
pc_capture_start() {
	PC_PCAP=${1:-$TI_TMP/capture.pcap}
	local log=$PC_PCAP.log
	ip netns exec "$PC_CLI" tcpdump -i c0 -n -U --immediate-mode -B 32768 -s "${PC_SNAPLEN:-0}" \
		-y EN10MB -w "$PC_PCAP" \
		</dev/null >"$log" 2>&1 &
	PC_TCPDUMP=$!
	TI_PIDS+=("$PC_TCPDUMP")
	ti_wait_until 10 grep -qs 'listening on' "$log" ||
		{ cat "$log" >&2; ti_fail "tcpdump did not start"; }
}

# pc_capture_stop: let the last frames in, stop tcpdump, check it wrote.
pc_capture_stop() {
	sleep 0.3
	kill -INT "$PC_TCPDUMP" 2>/dev/null || true
	wait "$PC_TCPDUMP" 2>/dev/null || true
	[ -s "$PC_PCAP" ] || ti_fail "tcpdump wrote nothing"
	ti_log "capture: $(grep -h 'packets captured' "$PC_PCAP.log" || echo '?') ($(stat -c %s "$PC_PCAP") bytes)"
	! grep -E '^[1-9][0-9]* packets dropped by kernel' "$PC_PCAP.log" >&2 ||
		ti_fail "tcpdump lost frames: the capture is incomplete"
}

# pc_read PCAP OUT [--policy FILE]: portcullis-dp --read-pcap, exit 0 and
# no warning or error on stderr; every output line a JSON object.  The
# capture's own count of its flows goes to OUT.flows (see pc_flows).
pc_read() {
	local pcap=$1 out=$2 rc=0
	shift 2
	timeout 60 "$DP" --config "$TI_CFG" --read-pcap "$pcap" "$@" >"$out" 2>"$out.err" || rc=$?
	[ "$rc" -eq 0 ] || { cat "$out.err" >&2; ti_fail "portcullis-dp --read-pcap $pcap $*: exit $rc"; }
	! grep -v '^portcullis-dp: info: ' "$out.err" >&2 ||
		ti_fail "portcullis-dp --read-pcap: more than information on stderr (above)"
	[ -s "$out" ] || ti_fail "portcullis-dp --read-pcap $pcap printed no session"
	jq -e -s 'all(type == "object")' "$out" >/dev/null || ti_fail "--read-pcap output is not JSON lines"
	pc_flows "$pcap" "$out.flows"
	ti_log "--read-pcap $*: $(wc -l <"$out") sessions:"
	sed 's/^/    /' "$out" >&2
}

# pc_flows PCAP OUT: per TCP/UDP flow of the capture, counted independently
# of portcullis: "proto addr1 port1 addr2 port2 packets bytes" (endpoints in
# sorted order, bytes = captured frame lengths).
pc_flows() {
	"$PY" - "$1" >"$2" <<'PY'
import ipaddress, struct, sys
data = open(sys.argv[1], 'rb').read()
magic = struct.unpack('<I', data[:4])[0]
end = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
off, flows = 24, {}
while off + 16 <= len(data):
    _, _, caplen, _ = struct.unpack(end + 'IIII', data[off:off + 16])
    f = data[off + 16:off + 16 + caplen]
    off += 16 + caplen
    et, l3 = struct.unpack('>H', f[12:14])[0], 14
    if et == 0x0800:
        proto, src, dst = f[l3 + 9], f[l3 + 12:l3 + 16], f[l3 + 16:l3 + 20]
        frag = struct.unpack('>H', f[l3 + 6:l3 + 8])[0] & 0x1fff
        l4 = l3 + (f[l3] & 15) * 4
        if frag:
            continue
    elif et == 0x86dd:
        proto, src, dst, l4 = f[l3 + 6], f[l3 + 8:l3 + 24], f[l3 + 24:l3 + 40], l3 + 40
    else:
        continue
    if proto not in (6, 17):
        continue
    sp, dp = struct.unpack('>HH', f[l4:l4 + 4])
    a, b = (ipaddress.ip_address(src), sp), (ipaddress.ip_address(dst), dp)
    if (a[0].packed, a[1]) > (b[0].packed, b[1]):
        a, b = b, a
    k = ('tcp' if proto == 6 else 'udp', str(a[0]), a[1], str(b[0]), b[1])
    n = flows.setdefault(k, [0, 0])
    n[0] += 1
    n[1] += caplen
for k, n in sorted(flows.items()):
    print(*k, *n)
PY
}

# pc_session OUT TRANSPORT SRC DST DPORT: the one session line of that
# opener and server (any source port), or fail.
pc_session() {
	local out=$1 t=$2 src=$3 dst=$4 dport=$5 got n
	got=$(jq -c --arg t "$t" --arg s "$src" --arg d "$dst" --argjson p "$dport" \
		'select(.threat == null and .transport == $t and .src == $s and .dst == $d and .dport == $p)' "$out")
	n=$(grep -c '' <<<"$got" || true)
	if [ -z "$got" ]; then
		ti_log "the capture's flows:"
		sed 's/^/    /' "$out.flows" >&2
		ti_fail "no $t session $src -> $dst:$dport"
	fi
	[ "$n" -eq 1 ] || { printf '%s\n' "$got" >&2; ti_fail "$n $t sessions $src -> $dst:$dport, expected one"; }
	printf '%s\n' "$got"
}

# pc_expect OUT TRANSPORT SRC DST DPORT APP [SNI [VERDICT RULE]]: that
# session exists once, with app, sni (absent when SNI is ""), verdict and
# rule (default allow 0), packets > 0, and packets and bytes equal to what
# the capture holds for its 5-tuple.
pc_expect() {
	local out=$1 t=$2 src=$3 dst=$4 dport=$5 app=$6 sni=${7:-} verdict=${8:-allow} rule=${9:-0}
	local s what sport key
	s=$(pc_session "$out" "$t" "$src" "$dst" "$dport") || exit 1
	what="$t $src -> $dst:$dport"
	ti_assert_eq "$app" "$(jq -r .app <<<"$s")" "$what app"
	ti_assert_eq "$sni" "$(jq -r '.sni // ""' <<<"$s")" "$what sni"
	ti_assert_eq "$verdict" "$(jq -r .verdict <<<"$s")" "$what verdict"
	ti_assert_eq "$rule" "$(jq -r .rule <<<"$s")" "$what rule"
	jq -e '.packets > 0 and .bytes > 0 and .sport > 0' <<<"$s" >/dev/null ||
		ti_fail "$what: packets/bytes/sport not positive: $s"
	sport=$(jq -r .sport <<<"$s")
	key=$(printf '%s\n' "$t $src $sport" "$t $dst $dport" | sort_endpoints)
	local counted
	counted=$(awk -v k="$key" '$1 " " $2 " " $3 " " $4 " " $5 == k { print $6, $7 }' "$out.flows")
	[ -n "$counted" ] || ti_fail "$what: flow $key not in the capture's own count"
	ti_assert_eq "$counted" "$(jq -r '"\(.packets) \(.bytes)"' <<<"$s")" "$what packets and bytes (capture's count first)"
	ti_log "ok: $what app=$app${sni:+ sni=$sni} $verdict/$rule $(jq -r '"\(.packets) packets, \(.bytes) bytes"' <<<"$s")"
}

# two "proto addr port" lines -> "proto a1 p1 a2 p2" in pc_flows' order
sort_endpoints() {
	"$PY" -c '
import ipaddress, sys
e = [l.split() for l in sys.stdin.read().splitlines()]
e.sort(key=lambda x: (ipaddress.ip_address(x[1]).packed, int(x[2])))
print(e[0][0], e[0][1], e[0][2], e[1][1], e[1][2])'
}

# ---------------------------------------------------------------- threat lines
#
# A detection is a line with a "threat" member, printed as detected, so
# before the session lines that --read-pcap prints at the end of the file:
#     {"threat":"sql_injection","severity":"high","transport":"tcp",
#      "src":...,"sport":...,"dst":...,"dport":80,"app":"http",
#      "action":"alert","evidence":"..."}

# pc_threat_lines OUT: the threat lines of a --read-pcap output, compact.
pc_threat_lines() { jq -c 'select(.threat != null)' "$1"; }

# pc_has_threat OUT NAME TRANSPORT DST DPORT [ACTION]: status 0 when a
# threat line names NAME, TRANSPORT and DST (and DPORT, unless it is "-":
# ICMP and fragments need not name one), with ACTION (default alert) and
# evidence a non-empty string.
pc_has_threat() {
	local out=$1 name=$2 t=$3 dst=$4 dport=$5 action=${6:-alert}
	jq -e -s --arg n "$name" --arg t "$t" --arg d "$dst" --arg p "$dport" --arg a "$action" '
		any(.[]; .threat == $n and .transport == $t and .dst == $d
			and ($p == "-" or .dport == ($p | tonumber)) and .action == $a
			and (.evidence | type == "string" and length > 0))' "$out" >/dev/null
}

# pc_threats_first OUT: no threat line after the first session line.
pc_threats_first() {
	jq -e -s '(map(.threat != null) | rindex(true)) as $t
		| (map(.threat == null) | index(true)) as $s
		| $t == null or $s == null or $t < $s' "$1" >/dev/null
}

# pc_expect_threat OUT NAME TRANSPORT DST DPORT [ACTION]: that threat line
# is there (see pc_has_threat), before the session lines, or fail.
pc_expect_threat() {
	local out=$1
	if ! pc_has_threat "$@"; then
		pc_threat_lines "$out" | sed 's/^/    /' >&2
		ti_fail "no threat line $2 ${3}${5:+ to $4:$5} with action ${6:-alert} and evidence"
	fi
	pc_threats_first "$out" || ti_fail "threat lines after session lines in $out"
}

# pc_expect_no_threat OUT: no threat line at all, or fail naming them.
pc_expect_no_threat() {
	local got
	got=$(pc_threat_lines "$1")
	[ -z "$got" ] || { printf '%s\n' "$got" | sed 's/^/    /' >&2; ti_fail "threat lines over ordinary traffic (above)"; }
}
