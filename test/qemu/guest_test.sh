#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Checks of the tc-pedit backend that only it has, run inside the QEMU guest
# of test/qemu/run.sh (busybox sh, iproute2's ip and tc, pc-guest, the hook)
# before the data-path integration tests (test/integration/test_dpath_*.sh,
# which guest_run.sh runs there with this backend): a kernel without
# act_pedit (tap runs as pass), the hook's probe loading act_pedit, the
# layout of the u32 knodes, tap copies a data plane sends back reaching no
# one, pass <-> tap switches losing no frame, and no action left behind.
# A "host" namespace with bridge br0 and containers c1, c2 (namespaces with
# a veth into br0, IPv4 and IPv6); the hook runs with backend tc-pedit.
# Each test prints PASS/FAIL NAME (a failure with its log); the last line
# is "guest_test: N passed, N failed".  What it made is removed at the end.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

# busybox sh (and its timeout) run busybox's own applets before looking at
# PATH: iproute2 by its path, and $IP for what runs in the background (so
# that $! is the process itself, not a subshell running a function)
IP=/usr/sbin/ip
ip() { $IP "$@"; }
tc() { /usr/sbin/tc "$@"; }

HOOK=/usr/bin/portcullis-hook
T=/tmp/pcq
ENF=pcq
CFG=$T/portcullis.json
STATE=$T/state
GW4=10.9.1.1
GW6=fd09:1::1
GWMAC=02:09:00:00:00:01
PASSED=0
FAILED=0

# ---------------------------------------------------------------- helpers

fail() {
	echo "FAIL: $*"
	exit 1
}
note() { echo "note: $*"; }

want_eq() {
	[ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

# bg NAME CMD...: CMD in the background, output in $T/NAME.out.
bg() {
	local name=$1
	shift
	"$@" >"$T/$name.out" 2>&1 </dev/null &
	echo $! >"$T/pids/$name"
}

# bg_wait NAME: its exit status (after it ended by itself).
bg_wait() {
	local pid rc=0
	pid=$(cat "$T/pids/$1")
	wait "$pid" || rc=$?
	rm -f "$T/pids/$1"
	return $rc
}

bg_stop() {
	kill -TERM "$(cat "$T/pids/$1")" 2>/dev/null || true
	bg_wait "$1" || true
}

# What a failed test left running.
bg_stop_all() {
	local f
	for f in "$T"/pids/*; do
		[ -e "$f" ] || continue
		kill -9 "$(cat "$f")" 2>/dev/null
		rm -f "$f"
	done
}

# wait_line FILE REGEX: up to 10 s.
wait_line() {
	local i=0
	while [ $i -lt 100 ]; do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	cat "$1" 2>/dev/null
	fail "no line /$2/ in $1"
}

# run NAME FUNCTION: the test in a subshell that stops at the first failure.
run() {
	local name=$1 rc t0
	shift
	t0=$(date +%s)
	(
		set -e
		"$@"
	) >"$T/test.log" 2>&1
	rc=$?
	bg_stop_all
	if [ $rc -eq 0 ]; then
		PASSED=$((PASSED + 1))
		echo "PASS $name ($(($(date +%s) - t0)) s)"
		grep '^note:' "$T/test.log" | sed 's/^/    /'
	else
		FAILED=$((FAILED + 1))
		echo "FAIL $name ($(($(date +%s) - t0)) s)"
		tail -n 60 "$T/test.log" | sed 's/^/    /'
	fi
}

# ---------------------------------------------------------------- topology

ctr_create() { # NAME K
	local n=$1 k=$2 pid i=0
	ip netns add "$n"
	ip -n "$n" link set lo up
	ip -n host link add "h$k" type veth peer name eth0 netns "$n"
	ip -n host link set "h$k" master br0 up
	ip -n "$n" link set eth0 address "02:09:00:00:01:0$k"
	ip netns exec "$n" sysctl -qw net.ipv6.conf.eth0.accept_dad=0 net.ipv6.conf.eth0.accept_ra=0
	ip -n "$n" link set eth0 up
	ip -n "$n" addr add "10.9.1.1$k/24" dev eth0
	ip -n "$n" addr add "fd09:1::1$k/64" dev eth0 nodad
	ip -n "$n" route add default via $GW4
	ip -n "$n" -6 route add default via $GW6
	mkdir -p "$T/bundle-$n"
	printf '{"ociVersion":"1.0.2","linux":{"namespaces":[{"type":"network","path":"/run/netns/%s"}]}}\n' \
		"$n" >"$T/bundle-$n/config.json"
	$IP netns exec "$n" sleep 100000 </dev/null >/dev/null 2>&1 &
	pid=$!
	echo $pid >"$T/pid-$n"
	while [ "$(stat -L -c %i /proc/$pid/ns/net 2>/dev/null)" != "$(stat -L -c %i /run/netns/$n)" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || return 1
		sleep 0.05
	done
}

setup() {
	mkdir -p "$T/pids" "$STATE"
	printf '{"enforcer_netns": "/run/netns/%s", "state_dir": "%s", "backend": "tc-pedit", "mode": "tap", "on_failure": "closed", "dp_down": "closed", "log_level": "info", "allow_mode_annotation": true}\n' \
		$ENF "$STATE" >"$CFG"
	ip netns add host
	ip -n host link set lo up
	ip netns exec host sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	ip -n host link add br0 address $GWMAC type bridge
	ip -n host link set br0 up
	ip -n host addr add $GW4/24 dev br0
	ip -n host addr add $GW6/64 dev br0 nodad
	for k in 1 2; do
		ctr_create "c$k" $k
	done
	# a TCP echo server of the host, IPv4 and IPv6
	for port in 80; do
		$IP netns exec host pc-guest echo-server :: $port </dev/null >/dev/null 2>&1 &
		echo $! >>"$T/echo-servers"
	done
	sleep 0.3
}

# ---------------------------------------------------------------- the hook

prestart() { # NAME [MODE]
	local ann=
	[ -n "${2:-}" ] && ann=",\"annotations\":{\"io.portcullis.mode\":\"$2\"}"
	printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":%s,"bundle":"%s"%s}\n' \
		"$1" "$(cat "$T/pid-$1")" "$T/bundle-$1" "$ann" | $HOOK --config "$CFG" prestart
}

poststop() {
	printf '{"ociVersion":"1.0.2","id":"%s","status":"stopped","bundle":"%s"}\n' \
		"$1" "$T/bundle-$1" | $HOOK --config "$CFG" poststop
}

setmode() {
	$HOOK --config "$CFG" mode "$1" "$2" || fail "mode $1 $2"
	want_eq "$2" "$(rec_field "$1" mode)" "recorded mode of $1"
	note "$1 switched to $2"
}

rec_file() { echo "$STATE/netns-$(stat -L -c %i "/run/netns/$1").json"; }

# rec_field NAME FIELD: the first string FIELD in the state record of NAME.
rec_field() {
	tr ',{}[' '\n\n\n\n' <"$(rec_file "$1")" | sed -n "s/^ *\"$2\": *\"\([^\"]*\)\".*/\1/p" | head -n 1
}

# ---------------------------------------------------------------- checks

tcf() { tc -n $ENF filter show dev "$1" ingress; }

# u32 knodes on DEV ("fh 800::1", not the table "fh 800:" nor actions)
knodes() { tcf "$1" | grep -c ' fh [0-9a-f]*:[0-9a-f]*:[0-9a-f]* ' || true; }

has_ingress_qdisc() { tc -n "$1" qdisc show dev "$2" | grep -q ingress; }

ping4() { # NS DEST [COUNT]
	ip netns exec "$1" ping -c "${3:-2}" -i 0.2 -W 3 "$2" >"$T/ping.out" 2>&1 ||
		{ cat "$T/ping.out"; fail "ping $2 from $1"; }
	! grep -q DUP "$T/ping.out" || { cat "$T/ping.out"; fail "duplicate replies: ping $2 from $1"; }
}

ping6() {
	ip netns exec "$1" ping -6 -c "${3:-2}" -i 0.2 -W 3 "$2" >"$T/ping.out" 2>&1 ||
		{ cat "$T/ping.out"; fail "ping -6 $2 from $1"; }
	! grep -q DUP "$T/ping.out" || { cat "$T/ping.out"; fail "duplicate replies: ping -6 $2 from $1"; }
}

echo_ok() { # NS ADDR PORT COUNT
	ip netns exec "$1" pc-guest echo-client "$2" "$3" "$4" 20 >"$T/echo.out" 2>&1 ||
		{ cat "$T/echo.out"; fail "TCP echo $2 port $3 from $1"; }
}

# ---------------------------------------------------------------- tests

pedit_loaded() { grep -q '^act_pedit ' /proc/modules; }

# A kernel without act_pedit (module loading disabled, act_pedit not yet
# loaded): the probe says so, tap runs as pass, nothing of tap is set up.
t_no_pedit() {
	trap 'echo /sbin/modprobe >/proc/sys/kernel/modprobe' EXIT
	echo /bin/false >/proc/sys/kernel/modprobe
	! pedit_loaded || fail "act_pedit is loaded before the test"
	prestart c1 >"$T/h1.out" 2>&1 || { cat "$T/h1.out"; fail "prestart c1"; }
	cat "$T/h1.out"
	grep -q 'mode tap is not available with backend tc-pedit; using pass' "$T/h1.out" ||
		fail "no warning about tap running as pass"
	! grep -q 'running pass mode only' "$T/h1.out" || fail "the probe failed instead of saying no"
	want_eq pass "$(rec_field c1 mode)" "c1 mode"
	! tcf "$(rec_field c1 in_name)" | grep -q -e pedit -e vbr-neuv || fail "tap filters without pedit"
	if $HOOK --config "$CFG" mode c1 tap; then
		fail "mode c1 tap succeeded without act_pedit"
	fi
	ping4 c1 $GW4
	poststop c1 || fail "poststop c1"
	! pedit_loaded || fail "act_pedit got loaded"
	note "without act_pedit: tap runs as pass, mode tap refused"
}

t_attach() {
	! pedit_loaded || fail "act_pedit is loaded before the hook ran"
	prestart c1 >"$T/h1.out" 2>&1 || { cat "$T/h1.out"; fail "prestart c1 (mode tap)"; }
	prestart c2 pass >"$T/h2.out" 2>&1 || { cat "$T/h2.out"; fail "prestart c2 (mode pass)"; }
	cat "$T/h1.out" "$T/h2.out"
	! grep -q -e ': warn: ' -e ': error: ' "$T/h1.out" "$T/h2.out" || fail "warnings or errors from the hook"
	pedit_loaded || fail "the hook's probe did not load act_pedit"
	want_eq tc-pedit "$(rec_field c1 backend)" "c1 backend"
	want_eq tap "$(rec_field c1 mode)" "c1 mode"
	want_eq pass "$(rec_field c2 mode)" "c2 mode"
	# the checks at the ports: dozens of knodes, those that drop with a
	# classid 7063:3xx and, in tap, a pedit that drops
	for d in $(rec_field c1 in_name) $(rec_field c1 ex_name); do
		[ "$(knodes "$d")" -ge 8 ] || fail "only $(knodes "$d") knodes on $d"
		tcf "$d" | grep -q 'flowid 7063:3' || fail "no knode that drops on $d"
		tcf "$d" | grep -q 'pedit action drop' || fail "no dropping pedit on $d"
		tcf "$d" | grep -q pedit || fail "no pedit on $d"
		tcf "$d" | grep -q 'Egress Redirect to device vbr-neuv' || fail "$d: no redirect to vbr-neuv"
		tcf "$d" | grep -q 'Egress Mirror to device' || fail "$d: no mirror to its peer"
	done
	for d in $(rec_field c2 in_name) $(rec_field c2 ex_name); do
		[ "$(knodes "$d")" -ge 8 ] || fail "only $(knodes "$d") knodes on $d"
		! tcf "$d" | grep -q -e pedit -e vbr-neuv || fail "pass mode port $d goes to vbr-neuv"
	done
	want_eq 0 "$(knodes vbr-neuv)" "knodes on vbr-neuv with no port in fwd"
	note "c1 tap, c2 pass; UCMAC of c1 $(rec_field c1 ucmac)"
}

# A data plane that sends tap copies back: they must not reach anyone.
t_tap_returns_dropped() {
	local rx
	bg refl $IP netns exec $ENF pc-guest reflect vth-neuv
	wait_line "$T/refl.out" '^# reflecting'
	ping4 c1 $GW4 5
	grep -qE ' 5 (packets )?received' "$T/ping.out" || { cat "$T/ping.out"; fail "ping c1 -> gw"; }
	ping6 host fd09:1::11 5
	grep -qE ' 5 (packets )?received' "$T/ping.out" || { cat "$T/ping.out"; fail "ping host -> c1"; }
	echo_ok c1 $GW4 80 5
	bg_stop refl
	cat "$T/refl.out"
	rx=$(sed -n 's/.* rx=\([0-9]*\) tx=\([0-9]*\).*/\2/p' "$T/refl.out")
	[ "${rx:-0}" -ge 20 ] || fail "the reflector sent back only ${rx:-0} frames"
	note "reflector sent ${rx} tap copies back; no duplicate reached c1 or the host"
}

# pass <-> tap while a ping every 20 ms crosses: the knodes are replaced in
# place, so not one echo may get lost.
t_switch_no_loss() {
	bg png $IP netns exec host ping -c 150 -i 0.02 -W 3 10.9.1.12
	sleep 0.3
	for mode in tap pass tap pass; do
		setmode c2 $mode
		sleep 0.4
	done
	bg_wait png || true
	tail -n 3 "$T/png.out"
	grep -qE '150 packets transmitted, 150 (packets )?received' "$T/png.out" || fail "echoes lost while c2 switched modes"
	! grep -q DUP "$T/png.out" || fail "duplicate echo replies"
}

t_poststop() {
	local n
	poststop c1 || fail "poststop c1"
	poststop c2 || fail "poststop c2"
	n=$(ip -n $ENF -o link show | grep -c -e ' vex' -e ' vin' || true)
	want_eq 0 "$n" "vex/vin ports left in the enforcer"
	want_eq 0 "$(knodes vbr-neuv)" "knodes left on vbr-neuv"
	for c in c1 c2; do
		! has_ingress_qdisc $c eth0 || fail "$c's eth0 came back with an ingress qdisc"
		ping4 $c $GW4
		ping6 $c $GW6
	done
	n=$(ls "$STATE" | grep -c '^netns-' || true)
	want_eq 0 "$n" "state records left"
	# actions live apart from filters; none of the filters' (nor the probe's) remain
	for a in pedit mirred; do
		n=$(tc -n $ENF actions ls action $a | grep -c 'index' || true)
		want_eq 0 "$n" "$a actions left in the enforcer"
	done
}

echo "pc-qemu: $(tc -V 2>&1 | head -n 1); $($HOOK --help 2>&1 | head -n 1)"
(
	set -ex
	setup
) >"$T.setup.log" 2>&1
if [ $? -eq 0 ]; then
	run no-pedit-runs-pass t_no_pedit
	run attach-tap-and-pass t_attach
	run tap-returns-dropped t_tap_returns_dropped
	run pass-tap-switch-loses-nothing t_switch_no_loss
	run poststop-leaves-nothing t_poststop
else
	echo "FAIL setup"
	sed 's/^/    /' "$T.setup.log"
	FAILED=$((FAILED + 1))
fi
# what the tests made goes (the integration tests run next)
bg_stop_all
for n in c1 c2; do
	[ -e "$T/pid-$n" ] && kill "$(cat "$T/pid-$n")" 2>/dev/null
done
[ -e "$T/echo-servers" ] && kill $(cat "$T/echo-servers") 2>/dev/null
for n in c1 c2 host $ENF; do
	ip netns del "$n" 2>/dev/null
done
rm -rf "$T"
echo "guest_test: $PASSED passed, $FAILED failed"
