#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# portcullis-dp confined (dp/svc/sandbox.h, dp/svc/broker.h): mode fwd,
# its state folder, policy, session log and control socket root's, 0600 or
# 0700, as the hook and an operator make them.
# - once ready, every thread of it runs as the user portcullis (nobody
#   where there is none), uid and gid not 0, with no capability (CapEff,
#   CapPrm, CapBnd: CAP_BPF alone before Linux 6.5, for the bypass map),
#   NoNewPrivs 1, Seccomp 2, its root a removed folder;
#   its broker runs as root with no capability, NoNewPrivs 1, Seccomp 2;
# - a state record written (0600) while it runs is read: portcullisctl
#   ports has its port;
# - traffic is still inspected: a UDP frame from that port to a denied port,
#   sent into vth-neuv, is logged as a violation naming the container;
# - SIGHUP reloads the policy (a frame to the newly denied port is logged
#   under the new rule) and reopens the rotated session log, which the
#   broker makes anew (root's); portcullisctl policy reload takes a
#   policy too, and the control socket still answers;
# - SIGTERM: exit 0, the control socket removed, the broker gone;
# - after portcullis-dp --prepare (the unit's ExecStartPre), set-up works
#   with only the capabilities of the unit's CapabilityBoundingSet=, and
#   fails without any one of them (CAP_BPF: only before Linux 6.5, where
#   the confined data plane keeps it for the bypass map).
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/traffic.sh"
. "$(dirname "$0")/lib/dpath.sh"
ti_dpath_init
DP=${PORTCULLIS_DP:-$(dirname "$HOOK")/portcullis-dp}
CTL=${PORTCULLISCTL:-$(dirname "$HOOK")/portcullisctl}
UNIT=$TI_ROOT/packaging/systemd/portcullis-dp.service
[ -x "$DP" ] || ti_fail "portcullis-dp not built: $DP"
[ -x "$CTL" ] || ti_fail "portcullisctl not built: $CTL"
command -v python3 >/dev/null || ti_skip "missing tool: python3 (sends the test frames)"
command -v setpriv >/dev/null || ti_skip "missing tool: setpriv (the unit's capabilities)"
T=$TI_TMP
LOG=$T/logs/sessions.log
UCMAC=02:70:c0:f1:7e:01
CID=c0f17e0000000000000000000000000000000000000000000000000000000001

# Before Linux 6.5 the confined data plane keeps CAP_BPF (only) for the
# session bypass map: its capability sets may hold that bit, no other.
IFS=. read -r major minor _ <<<"$(uname -r)"
OLD_BPF=0
[ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -ge 5 ]; } || OLD_BPF=1
caps_ok() { # CAPSET: none, or CAP_BPF alone where the kernel wants it
	[ "$1" = 0000000000000000 ] || { [ "$OLD_BPF" = 1 ] && [ "$1" = 0000008000000000 ]; }
}

# the user it should become
WANT_USER=portcullis
id -u "$WANT_USER" >/dev/null 2>&1 || WANT_USER=nobody
WANT_UID=$(id -u "$WANT_USER")
[ "$WANT_UID" -ne 0 ] || ti_fail "user $WANT_USER is root"

mkdir -m 0700 "$T/logs"
policy() { # RULE_ID PORT: deny UDP to PORT, root's and 0600
	printf '{"default": "allow", "rules": [{"id": %s, "from": "any", "to": "any", "ports": ["udp/%s"], "action": "deny"}]}\n' \
		"$1" "$2" >"$T/policy.new"
	chmod 0600 "$T/policy.new"
	mv "$T/policy.new" "$T/policy.json"
}
policy 40 5999
ti_dpath_config fwd open "\"policy\": \"$T/policy.json\", \"session_log\": \"$LOG\", \"workers\": 2"
SOCK=$(jq -r .ctl_socket "$TI_CFG")
BRIDGE_PORT=$(jq -r '.bridge_port // "vbr-neuv"' "$TI_CFG")

# ended PID: the process is gone, or a zombie
ended() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ]
}

# dp_start [WRAPPER...]: portcullis-dp in the foreground, pid in DP_PID;
# 0 once ready, 1 when it ended first, reaped (log in DP_LOG)
DP_N=0
dp_start() {
	DP_N=$((DP_N + 1))
	DP_LOG=$T/dp.$DP_N.log
	"$@" "$DP" --config "$TI_CFG" --foreground >"$DP_LOG" 2>&1 </dev/null &
	DP_PID=$!
	ti_on_cleanup "[ \"\$(cat /proc/$DP_PID/comm 2>/dev/null)\" = portcullis-dp ] && kill -9 $DP_PID"
	ti_wait_until 10 eval "grep -qs 'info: ready: ' '$DP_LOG' || ended $DP_PID" || true
	grep -q 'info: ready: ' "$DP_LOG" && return 0
	ended "$DP_PID" || kill -9 "$DP_PID" # neither ready nor ended: hung
	wait "$DP_PID" || true
	return 1
}

dp_stop() {
	local rc=0
	kill -TERM "$DP_PID"
	wait "$DP_PID" || rc=$?
	[ "$rc" -eq 0 ] || { cat "$DP_LOG" >&2; ti_fail "portcullis-dp exit $rc on SIGTERM"; }
}

# field PID KEY: the value of a /proc/PID/status line, blanks squeezed
field() { awk -v k="$2:" '$1 == k {$1 = ""; sub(/^ /, ""); print}' "/proc/$1/status"; }

# frame PORT: a UDP frame from the record's port (its UCMAC, 10.99.0.2)
# to 10.99.0.3:PORT, sent on bridge_port into the data plane's vth-neuv
cat >"$T/frame.py" <<'PY'
import socket, struct, sys
dev, smac, sip, dip, dport = sys.argv[1:6]
mac = lambda s: bytes(int(x, 16) for x in s.split(':'))
payload = b'portcullis confinement test'
udp = struct.pack('!HHHH', 40000, int(dport), 8 + len(payload), 0) + payload
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                 socket.inet_aton(sip), socket.inet_aton(dip))
s = sum(struct.unpack('!10H', ip))
s = (s & 0xffff) + (s >> 16)
ip = ip[:10] + struct.pack('!H', ~s & 0xffff) + ip[12:]
sk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sk.bind((dev, 0))
sk.send(mac('02:00:00:00:00:99') + mac(smac) + b'\x08\x00' + ip + udp)
PY
frame() {
	ip netns exec "$TI_ENF_NAME" python3 "$T/frame.py" "$BRIDGE_PORT" "$UCMAC" 10.99.0.2 10.99.0.3 "$1"
}
# violation FILE RULE PORT: the line of that violation in FILE, if any
violation() {
	jq -c "select(.event == \"violation\" and .rule == $2 and .dport == $3)" "$1" 2>/dev/null | head -n 1
}
wait_violation() { # FILE RULE PORT WHAT
	ti_wait_until 5 eval "[ -n \"\$(violation '$1' $2 $3)\" ]" ||
		ti_fail "$4: no violation of rule $2 (udp/$3) in $1: $(cat "$1" 2>/dev/null)"
}

ti_log "confined once ready"
dp_start || { cat "$DP_LOG" >&2; ti_fail "portcullis-dp did not start"; }
ti_log "$(grep 'sandbox:' "$DP_LOG")"
for t in /proc/"$DP_PID"/task/*; do
	t=${t#/proc/}
	ti_assert_eq "$WANT_UID $WANT_UID $WANT_UID $WANT_UID" "$(field "$t" Uid)" "uids of $t"
	read -r gid _ <<<"$(field "$t" Gid)"
	[ "$gid" -ne 0 ] || ti_fail "gid of $t: $(field "$t" Gid)"
	ti_assert_eq "" "$(field "$t" Groups)" "supplementary groups of $t"
	for c in CapEff CapPrm CapBnd; do
		caps_ok "$(field "$t" $c)" || ti_fail "$c of $t: $(field "$t" $c)"
	done
	for c in CapInh CapAmb; do
		ti_assert_eq 0000000000000000 "$(field "$t" $c)" "$c of $t"
	done
	ti_assert_eq 1 "$(field "$t" NoNewPrivs)" "NoNewPrivs of $t"
	ti_assert_eq 2 "$(field "$t" Seccomp)" "Seccomp mode of $t"
done
ROOT=$(readlink "/proc/$DP_PID/root")
[[ $ROOT == /tmp/portcullis-dp.*' (deleted)' ]] || ti_fail "its root: $ROOT, not a removed folder"
CHILDREN=$(cat "/proc/$DP_PID/task/$DP_PID/children")
ti_assert_eq 1 "$(wc -w <<<"$CHILDREN")" "children of portcullis-dp ($CHILDREN)"
read -r BROKER <<<"$CHILDREN"
ti_assert_eq pc-dp-broker "$(cat "/proc/$BROKER/comm")" "name of its child"
ti_assert_eq "0 0 0 0" "$(field "$BROKER" Uid)" "uids of the broker"
for c in CapEff CapPrm CapBnd; do
	ti_assert_eq 0000000000000000 "$(field "$BROKER" $c)" "$c of the broker"
done
ti_assert_eq 1 "$(field "$BROKER" NoNewPrivs)" "NoNewPrivs of the broker"
ti_assert_eq 2 "$(field "$BROKER" Seccomp)" "Seccomp mode of the broker"
"$CTL" --config "$TI_CFG" status >/dev/null || ti_fail "portcullisctl status"

ti_log "a state record written while it runs (0600 in a 0700 folder) is read"
ti_assert_eq 700 "$(stat -c %a "$TI_STATE_DIR")" "mode of the state folder"
cat >"$TI_STATE_DIR/.rec" <<JSON
{"netns_inode": 4026599999, "netns_path": "/run/netns/$TI_NS_PREFIX-none", "pid": 0, "mode": "fwd",
 "backend": "$(ti_dpath_backend)", "created": 1700000000,
 "containers": [{"id": "$CID", "name": "confined", "pid": 0, "group": "g1",
                 "k8s_pod": "", "k8s_namespace": "", "k8s_container": ""}],
 "ports": [{"name": "eth0", "ex_name": "vex9-0", "in_name": "vin9-0", "kind": "veth",
            "mac": "02:00:00:00:00:01", "ucmac": "$UCMAC", "ctr_ifindex": 2, "ex_ifindex": 3,
            "in_ifindex": 4, "addrs": ["10.99.0.2/24"]}]}
JSON
chmod 0600 "$TI_STATE_DIR/.rec"
mv "$TI_STATE_DIR/.rec" "$TI_STATE_DIR/netns-4026599999.json"
ti_wait_until 5 eval "'$CTL' --config '$TI_CFG' ports --json | jq -e '.ports[] | select(.ucmac == \"$UCMAC\")' >/dev/null" ||
	ti_fail "portcullisctl ports lacks $UCMAC: $("$CTL" --config "$TI_CFG" ports 2>&1)"

ti_log "traffic inspected: a denied frame is logged, naming the container"
frame 5999
wait_violation "$LOG" 40 5999 "frame to udp/5999"
ti_assert_eq "$CID" "$(violation "$LOG" 40 5999 | jq -r .container.id)" "container of the violation"

ti_log "SIGHUP: the policy reloaded, the rotated log made anew by the broker"
mv "$LOG" "$LOG.1"
policy 41 5998
kill -HUP "$DP_PID"
ti_wait_line "$DP_LOG" 'policy .* loaded: 1 rules' 5 "reload on SIGHUP"
ti_wait_until 5 test -f "$LOG" || ti_fail "no new session log after SIGHUP"
ti_assert_eq 0 "$(stat -c %u "$LOG")" "owner of the new session log (made by the broker)"
frame 5998
wait_violation "$LOG" 41 5998 "frame to udp/5998 after SIGHUP"
[ -n "$(violation "$LOG.1" 40 5999)" ] || ti_fail "the rotated log lost its line"
[ -n "$(violation "$LOG" 41 5998 | jq -r '.container.id // empty')" ] ||
	ti_fail "the violation after SIGHUP names no container"

ti_log "portcullisctl policy reload, and the control socket still answers"
policy 42 5997
"$CTL" --config "$TI_CFG" policy reload >/dev/null || ti_fail "portcullisctl policy reload"
ti_assert_eq "[42]" "$("$CTL" --config "$TI_CFG" policy show --json | jq -c '[.policy.rules[].id]')" \
	"rules after portcullisctl policy reload"
frame 5997
wait_violation "$LOG" 42 5997 "frame to udp/5997 after portcullisctl policy reload"
ti_assert_eq 2 "$(field "$DP_PID" Seccomp)" "Seccomp mode after the reloads"

ti_log "SIGTERM: exit 0, the control socket removed, the broker gone"
dp_stop
[ ! -e "$SOCK" ] || ti_fail "$SOCK still there after SIGTERM"
ti_wait_until 5 eval "[ \"\$(cat /proc/$BROKER/comm 2>/dev/null)\" != pc-dp-broker ]" ||
	ti_fail "the broker (pid $BROKER) outlived the data plane"

ti_log "the unit's capabilities suffice for set-up, and each one is needed"
CAPS=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
[ -n "$CAPS" ] || ti_fail "no CapabilityBoundingSet= in $UNIT"
bounding() { # CAP_...: the unit's set without that one, as setpriv takes it
	local c out=-all
	for c in $CAPS; do
		[ "$c" = "${1:-}" ] || out+=",+$(tr '[:upper:]' '[:lower:]' <<<"${c#CAP_}")"
	done
	printf '%s\n' "$out"
}
"$DP" --config "$TI_CFG" --prepare 2>"$T/prepare.log" || ti_fail "--prepare: $(cat "$T/prepare.log")"
dp_start setpriv --bounding-set="$(bounding)" --inh-caps=-all --no-new-privs ||
	{ cat "$DP_LOG" >&2; ti_fail "set-up failed with the unit's capabilities ($CAPS)"; }
caps_ok "$(field "$DP_PID" CapEff)" || ti_fail "CapEff under the unit's capabilities: $(field "$DP_PID" CapEff)"
"$CTL" --config "$TI_CFG" status >/dev/null || ti_fail "portcullisctl status under the unit's capabilities"
dp_stop
for c in $CAPS; do
	if dp_start setpriv --bounding-set="$(bounding "$c")" --inh-caps=-all --no-new-privs; then
		if [ "$c" = CAP_BPF ] && [ "$OLD_BPF" = 0 ]; then
			ti_log "without CAP_BPF: set-up works on Linux $major.$minor (needed before 6.5)"
			dp_stop
			continue
		fi
		dp_stop
		ti_fail "set-up worked without $c: the unit need not grant it"
	fi
	ti_log "without $c: $(grep -m1 'error:' "$DP_LOG")"
	[ ! -e "$SOCK" ] || ti_fail "$SOCK left by a failed start without $c"
done
