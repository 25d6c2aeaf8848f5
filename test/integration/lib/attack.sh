# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# Attacks on the data plane played for real (test_attack_*.sh): the
# hostile traffic comes from inside container namespaces, made by
# lib/attack.py (scapy, or plain sockets where the kernel must speak TCP)
# and by test/tools' pc-frame (crafted frames through an AF_PACKET socket),
# against a live portcullis-dp; the data plane's counters are read through
# portcullisctl.
#
#     . "$(dirname "$0")/lib/core.sh" ... "$(dirname "$0")/lib/dp.sh"
#     . "$(dirname "$0")/lib/attack.sh"
#     ti_dpath_init
#     at_init                        # scapy, socat, portcullisctl, pc-frame
#     at_py NS acks DST PORT N       # lib/attack.py CMD ARGS... inside NS
#     ip netns exec NS "$AT_FRAME" vlan0 eth0 DST_IP DST_MAC PORT
#     at_stat inspect.no_session     # a counter of every worker, summed
#     at_silent NS ADDR              # ADDR answers nobody, but NS sends to it

ti_lib_needs core netns traffic dpath dp

AT_PY=/usr/bin/python3
AT_SCRIPT=$TI_LIB/attack.py
AT_CTL=${PORTCULLISCTL:-$(dirname "$HOOK")/portcullisctl}
# pc-frame, where lib/tools.sh looks for the test tools: $PORTCULLIS_TOOLS,
# else the build beside the hook
AT_FRAME=${PORTCULLIS_TOOLS:-$(dirname "$HOOK")/../test/tools}/pc-frame

# at_init: python3 with scapy (installed when missing), socat, portcullisctl,
# pc-frame.
at_init() {
	[ -x "$AT_CTL" ] || ti_fail "portcullisctl not built: $AT_CTL"
	[ -x "$AT_FRAME" ] || ti_fail "pc-frame not built: $AT_FRAME"
	command -v socat >/dev/null || ti_skip "missing tool: socat"
	[ -x "$AT_PY" ] || ti_skip "no $AT_PY"
	if ! "$AT_PY" -c 'import scapy.all' >/dev/null 2>&1; then
		ti_log "installing python3-scapy"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			python3-scapy >"$TI_TMP/apt.log" 2>&1 || true
		"$AT_PY" -c 'import scapy.all' >/dev/null 2>&1 || ti_skip "python3-scapy cannot be installed"
	fi
}

# at_py NS CMD ARGS...: lib/attack.py inside netns NS, bounded to 120 s.
at_py() {
	local ns=$1
	shift
	ip netns exec "$ns" timeout 120 "$AT_PY" "$AT_SCRIPT" "$@"
}

# at_py_bg NS CMD ARGS...: the same in the background, its pid in AT_PID.
at_py_bg() {
	local ns=$1
	shift
	ip netns exec "$ns" timeout 120 "$AT_PY" "$AT_SCRIPT" "$@" &
	AT_PID=$!
	TI_PIDS+=("$AT_PID")
}

# at_ctl ARGS...: portcullisctl --json through the test's configuration.
at_ctl() { "$AT_CTL" --config "$TI_CFG" --json "$@"; }

# at_stat PATH: the counter at PATH (e.g. inspect.no_session, sessions.evicted)
# in the data plane's total.
at_stat() { at_ctl stats | jq -r ".total.$1"; }

# at_worker_stat INDEX PATH: the same counter of one worker.
at_worker_stat() { at_ctl stats | jq -r ".workers[] | select(.index == $1) | .$2"; }

# at_silent NS ADDR: a neighbour entry in NS for ADDR, which nothing holds,
# so that NS's frames to it leave through its port and get no answer: they
# go to the host's bridge, which forwards nothing (rather than to a MAC the
# bridge would flood to every port).
at_silent() {
	ip -n "$1" neigh replace "$2" lladdr "$(ip -n "$TI_HOST" -j link show br0 | jq -r '.[0].address')" \
		dev eth0 nud permanent
}

# at_log_lines JQ_FILTER: the session log's lines that the filter selects
# (every line must be JSON).
at_log_lines() {
	jq -e . "$AT_LOG" >/dev/null || ti_fail "session log lines are not all JSON"
	jq -c "select($1)" "$AT_LOG"
}
