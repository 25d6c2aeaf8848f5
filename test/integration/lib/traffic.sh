# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# Traffic between namespaces: ping, a 1 MB TCP echo, a UDP echo, traffic
# that must be blocked, resolved neighbours; and the tools of the tests that
# serve web pages.

ti_lib_needs core netns

# ti_ping NS DEST: one echo answered within 3 s.
ti_ping() {
	ip netns exec "$1" ping -n -q -c 1 -w 3 "$2" >/dev/null 2>&1 ||
		ti_fail "ping $2 from $1 failed"
}

# ti_tcp SERVER_NS SERVER_ADDR CLIENT_NS PORT: 1 MB random data, echoed back
# by a socat server, must come back byte for byte.
ti_tcp() {
	local sns=$1 addr=$2 cns=$3 port=$4 proto=TCP4 listen=TCP4-LISTEN dst=$2
	case $addr in *:*) proto=TCP6 listen=TCP6-LISTEN dst="[$addr]" ;; esac
	head -c 1000000 /dev/urandom >"$TI_TMP/tcp.in"
	ip netns exec "$sns" timeout 20 socat -T 10 "$listen:$port,bind=$dst,reuseaddr" EXEC:cat \
		</dev/null >/dev/null 2>"$TI_TMP/tcp.srv" &
	local spid=$!
	TI_PIDS+=("$spid")
	ti_wait_until 5 ti_listening "$sns" "$port" || ti_fail "socat server on $addr:$port did not start"
	ip netns exec "$cns" timeout 20 socat -T 10 - "$proto:$dst:$port,shut-down" \
		<"$TI_TMP/tcp.in" >"$TI_TMP/tcp.out" 2>"$TI_TMP/tcp.cli" || {
		cat "$TI_TMP/tcp.cli" "$TI_TMP/tcp.srv" >&2
		ti_fail "TCP exchange $cns -> $addr:$port failed"
	}
	wait "$spid" 2>/dev/null || true
	cmp -s "$TI_TMP/tcp.in" "$TI_TMP/tcp.out" ||
		ti_fail "TCP exchange $cns -> $addr:$port: data differs ($(stat -c %s "$TI_TMP/tcp.out") of 1000000 bytes back)"
}

ti_listening() { [ -n "$(ip netns exec "$1" ss -Hltn "sport = :$2")" ]; }

# Full connectivity check of container NAME: gateway v4/v6 and, for each
# other container, v4/v6.
ti_reach() {
	local name=$1 other
	shift
	ti_ping "${CTR_NS[$name]}" "$TI_GW4"
	ti_ping "${CTR_NS[$name]}" "$TI_GW6"
	for other in "$@"; do
		ti_ping "${CTR_NS[$name]}" "${CTR_IP4[$other]}"
		ti_ping "${CTR_NS[$name]}" "${CTR_IP6[$other]}"
	done
}

# ti_no_ping NS DEST: two echoes within 2 s all go unanswered.
ti_no_ping() {
	if ip netns exec "$1" ping -n -q -c 2 -i 0.2 -w 2 "$2" >/dev/null 2>&1; then
		ti_fail "ping $2 from $1 was answered; expected it blocked"
	fi
}

# ti_udp SERVER_NS SERVER_ADDR CLIENT_NS PORT: a datagram echoed back.
ti_udp() {
	local sns=$1 addr=$2 cns=$3 port=$4 fam=4 dst=$2 tok got
	case $addr in *:*) fam=6 dst="[$addr]" ;; esac
	tok="pcti-$TI_ID-$RANDOM$RANDOM"
	ip netns exec "$sns" timeout 10 socat -T 5 "UDP$fam-LISTEN:$port,bind=$dst,reuseaddr" EXEC:cat \
		</dev/null >/dev/null 2>"$TI_TMP/udp.srv" &
	local spid=$!
	TI_PIDS+=("$spid")
	ti_wait_until 5 eval "[ -n \"\$(ip netns exec $sns ss -Hlun 'sport = :$port')\" ]" ||
		ti_fail "UDP server on $addr:$port did not start"
	got=$(printf '%s\n' "$tok" | ip netns exec "$cns" timeout 10 socat -T 3 - "UDP$fam:$dst:$port" 2>"$TI_TMP/udp.cli") || true
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	[ "$got" = "$tok" ] || {
		cat "$TI_TMP/udp.cli" "$TI_TMP/udp.srv" >&2
		ti_fail "UDP echo $cns -> $addr:$port: sent '$tok', got '$got'"
	}
}

# ti_tcp_blocked SERVER_NS SERVER_ADDR CLIENT_NS PORT: a listening TCP
# server cannot be reached (connect times out) and accepted nothing.
ti_tcp_blocked() {
	local sns=$1 addr=$2 cns=$3 port=$4 proto=TCP4 listen=TCP4-LISTEN dst=$2
	case $addr in *:*) proto=TCP6 listen=TCP6-LISTEN dst="[$addr]" ;; esac
	rm -f "$TI_TMP/blocked.srv.out"
	ip netns exec "$sns" timeout 15 socat -T 10 "$listen:$port,bind=$dst,reuseaddr" \
		"SYSTEM:echo accepted >>$TI_TMP/blocked.srv.out" </dev/null >/dev/null 2>&1 &
	local spid=$!
	TI_PIDS+=("$spid")
	ti_wait_until 5 ti_listening "$sns" "$port" || ti_fail "socat server on $addr:$port did not start"
	if ip netns exec "$cns" timeout 10 socat -T 3 - "$proto:$dst:$port,connect-timeout=3" \
		</dev/null >/dev/null 2>&1; then
		ti_fail "TCP $cns -> $addr:$port connected; expected it blocked"
	fi
	[ ! -s "$TI_TMP/blocked.srv.out" ] || ti_fail "TCP server $addr:$port accepted a connection"
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
}

# ti_neigh_is NS ADDR MAC: NS has resolved ADDR to MAC (any state but
# FAILED/INCOMPLETE).
ti_neigh_is() {
	local got
	got=$(ip -n "$1" -j neigh show to "$2" | jq -r '.[] | select(.lladdr != null) | .lladdr' | head -n 1)
	ti_assert_eq "$3" "$got" "neighbour entry for $2 in $1"
}

# ti_flush_neigh NS: drop the learned (non-permanent) neighbours of NS.
ti_flush_neigh() {
	ip -n "$1" -4 neigh flush all >/dev/null 2>&1 || true
	ip -n "$1" -6 neigh flush all >/dev/null 2>&1 || true
}

# ti_need_web: a web server and client for tests that serve pages between
# containers: PY (python3, for http.server) and curl, or the test is skipped.
ti_need_web() {
	PY=/usr/bin/python3
	[ -x "$PY" ] || PY=$(command -v python3) || ti_skip "no python3"
	command -v curl >/dev/null || ti_skip "missing tool: curl"
}
