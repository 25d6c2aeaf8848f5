#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The pull benchmark (see bench/README.md): on a fresh one-port container each
# run, hyperfine times
#   hook      portcullis-hook prestart, the whole process
#   floor     portcullis-bench-move: one bare RTM_NEWLINK + IFLA_NET_NS_FD
#   iproute2  bench/pull_iproute2.sh, the same pull with one ip/tc command per step
# and prints a markdown table of the medians and their ratios.
#
#   bench/hook_pull.sh [--runs N] [--rounds N] [--warmup N] [--build DIR]
#                      [--out FILE] [--json FILE] [--settle SECONDS] [--profile N]
#
# (--help says what each does.)
# Root only. Everything happens in namespaces this script creates under
# unique names (a "host" namespace with a bridge, the container, the
# enforcer) and is removed on exit, whatever happens.
set -euo pipefail

SELF=$(readlink -f "$0")
BENCH=$(dirname "$SELF")
REPO=$(dirname "$BENCH")
SUBNET4=10.77.0 SUBNET6=fd77:: # inside our own namespaces only

die() { echo "hook_pull.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------
# hyperfine's --prepare / --cleanup: `hook_pull.sh __prepare KIND WORKDIR`.
# Checks and removes what the previous run left (its pull must be there),
# then builds a fresh container for KIND (hook, floor, iproute2; none = only
# clean up).
# ---------------------------------------------------------------------------
prev_check() { # kind pid: did the timed run before this one do its job?
	local kind=$1 pid=$2
	case $kind in
	floor)
		ip -n "$ENF" link show dev eth0 >/dev/null 2>&1 ||
			die "floor run (pid $pid): eth0 is not in $ENF" ;;
	hook | iproute2)
		ip -n "$ENF" link show dev "vex$pid-0" >/dev/null 2>&1 &&
			ip -n "$ENF" link show dev "vin$pid-0" >/dev/null 2>&1 ||
			die "$kind run (pid $pid): vex$pid-0/vin$pid-0 are not in $ENF"
		[[ $(ip -n "$CTR" -o addr show dev eth0) == *"inet6 ${SUBNET6}2/64"* ]] ||
			die "$kind run (pid $pid): the container's eth0 lost its addresses"
		ip netns exec "$CTR" ping -c1 -W2 -q "${SUBNET4}.1" >/dev/null ||
			die "$kind run (pid $pid): no IPv4 to the gateway through the enforcer"
		ip netns exec "$CTR" ping -6 -c1 -W2 -q "${SUBNET6}1" >/dev/null ||
			die "$kind run (pid $pid): no IPv6 to the gateway through the enforcer" ;;
	esac
}

clean_previous() {
	local kind pid id n l
	[ -s "$WORK/last" ] || return 0
	read -r kind pid id n <"$WORK/last"
	prev_check "$kind" "$pid"
	if [ "$kind" = hook ]; then
		printf '{"ociVersion":"1.0.2","id":"%s","status":"stopped"}' "$id" |
			"$HOOK" --config "$WORK/config.json" poststop ||
			die "hook poststop of $id failed"
		! compgen -G "$WORK/state/netns-*" >/dev/null ||
			die "hook poststop of $id left a state record"
	fi
	kill -9 "$pid" 2>/dev/null || true
	# everything but the enforcer's own pair goes (this takes the host-side peers along)
	while read -r l; do
		case $l in lo | vbr-neuv | vth-neuv) ;; *) ip -n "$ENF" link del dev "$l" ;; esac
	done < <(ip -n "$ENF" -o link show | sed -E 's/^[0-9]+: ([^:@]+).*/\1/')
	ip -n "$CTR" link del dev eth0 2>/dev/null || true
	ip netns del "$CTR"
	# its namespace is free once the sleep has exited (a zombie counts: nothing may reap it)
	while [ -e "/proc/$pid" ] && ! [[ $(cat "/proc/$pid/stat" 2>/dev/null) =~ ^[0-9]+\ \(.*\)\ Z ]]; do
		sleep 0.01
	done
	rm -f "$WORK/last"
}

make_container() { # kind
	local kind=$1 n=0 pid
	[ -s "$WORK/count" ] && read -r n <"$WORK/count"
	n=$((n + 1))
	echo "$n" >"$WORK/count"
	ip netns add "$CTR"
	ip -n "$CTR" link set dev lo up
	ip -n "$HOST" link add "${TAG}p$n" type veth peer name eth0 netns "$CTR"
	ip -n "$HOST" link set dev "${TAG}p$n" master br0 up
	ip -n "$CTR" addr add "${SUBNET4}.2/24" dev eth0
	ip -n "$CTR" -6 addr add "${SUBNET6}2/64" dev eth0 nodad
	ip -n "$CTR" link set dev eth0 up
	ip -n "$CTR" route add default via "${SUBNET4}.1"
	ip -n "$CTR" -6 route add default via "${SUBNET6}1"
	ip netns exec "$CTR" sleep 100000 </dev/null >/dev/null 2>&1 &
	pid=$!
	echo "$pid" >"$WORK/pid"
	printf '{"ociVersion":"1.0.2","id":"%s-%d","status":"creating","pid":%d}\n' \
		"$TAG" "$n" "$pid" >"$WORK/state.json"
	echo "$kind $pid $TAG-$n $n" >"$WORK/last"
	[ "$SETTLE" = 0 ] || sleep "$SETTLE"
}

if [ "${1:-}" = __prepare ]; then
	kind=$2 WORK=$3
	. "$WORK/env"
	exec 2>>"$WORK/prepare.log"
	clean_previous
	[ "$kind" = none ] || make_container "$kind"
	exit 0
fi

# ---------------------------------------------------------------------------
# the driver
# ---------------------------------------------------------------------------
RUNS=20 ROUNDS=3 WARMUP=2 BUILD=$REPO/build OUT= JSON= SETTLE=0.1 PROFILE=0
usage() {
	cat >&2 <<EOF
usage: bench/hook_pull.sh [--runs N] [--rounds N] [--warmup N] [--build DIR]
                          [--out FILE] [--json FILE] [--settle SECONDS] [--profile N]
  --runs N        timed runs per command and round, at least 20 (default 20)
  --rounds N      run the three benchmarks N times in turn and pool the runs,
                  so that a noisy moment hits all three alike (default 3)
  --warmup N      untimed runs per command first (default 2)
  --build DIR     build directory holding bin/portcullis-hook (default: build/)
  --out FILE      also write the result table(s) to FILE
  --json FILE     keep hyperfine's JSON export (of the last round)
  --settle S      pause after each fresh container, untimed (default 0.1)
  --profile N     then N more hook prestarts under strace (--seccomp-bpf), and
                  N floor moves timed by the floor program itself: where the
                  hook's time goes, median per part
EOF
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--warmup) WARMUP=$2; shift 2 ;;
	--build) BUILD=$(readlink -f "$2"); shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--json) JSON=$2; shift 2 ;;
	--settle) SETTLE=$2; shift 2 ;;
	--profile) PROFILE=$2; shift 2 ;;
	-h | --help) usage ;;
	*) echo "unknown argument: $1" >&2; usage ;;
	esac
done
[[ $RUNS =~ ^[0-9]+$ ]] && [ "$RUNS" -ge 20 ] || die "--runs must be at least 20"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive number"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "--warmup must be a number"
[[ $PROFILE =~ ^[0-9]+$ ]] || die "--profile must be a number"
[[ $SETTLE =~ ^[0-9.]+$ ]] || die "--settle must be a number of seconds"
[ "$(id -u)" = 0 ] || die "run as root (it creates network namespaces)"

missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
command -v jq >/dev/null || missing+=(jq)
command -v tc >/dev/null && command -v ip >/dev/null || missing+=(iproute2)
command -v ping >/dev/null || missing+=(iputils-ping)
[ "$PROFILE" = 0 ] || command -v strace >/dev/null || missing+=(strace)
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing ${missing[*]}" >&2
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# the state directory lives where the default one does (/run), on that file system
WORK=$(mktemp -d /run/portcullis-bench.XXXXXX)
for _ in 1 2 3 4 5 6 7 8; do
	TAG=pcb$(printf '%04x' $((RANDOM ^ $$ & 0xffff)))
	compgen -G "/run/netns/$TAG-*" >/dev/null || break
done
HOST=$TAG-host CTR=$TAG-ctr ENF=$TAG-enf
HOOK=$BUILD/bin/portcullis-hook
FLOOR=$BUILD/bin/portcullis-bench-move

cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	[ -s "$WORK/pid" ] && read -r pid <"$WORK/pid" && kill -9 "$pid" 2>/dev/null
	for ns in "$CTR" "$ENF" "$HOST"; do
		[ -e "/run/netns/$ns" ] && ip netns del "$ns" 2>/dev/null
	done
	[ -d "/sys/fs/bpf/$TAG" ] && rm -rf "/sys/fs/bpf/$TAG"
	if [ $rc -ne 0 ] && [ -s "$WORK/prepare.log" ]; then
		echo "--- prepare log:" >&2
		tail -20 "$WORK/prepare.log" >&2
	fi
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# the binaries: the hook from the build dir (built if missing), the floor
# from there too, or built on its own when the top level does not include bench/
if [ ! -x "$HOOK" ]; then
	echo "building portcullis into $BUILD" >&2
	cmake -S "$REPO" -B "$BUILD" >/dev/null && cmake --build "$BUILD" -j2 >/dev/null
fi
if [ ! -x "$FLOOR" ]; then
	cmake -S "$BENCH" -B "$WORK/floor" >/dev/null && cmake --build "$WORK/floor" >/dev/null
	FLOOR=$WORK/floor/bin/portcullis-bench-move
fi
[ -x "$HOOK" ] && [ -x "$FLOOR" ] || die "no portcullis-hook or portcullis-bench-move"

mkdir -p "$WORK/state"
cat >"$WORK/config.json" <<EOF
{"enforcer_netns": "/run/netns/$ENF", "state_dir": "$WORK/state",
 "bpf_pin_dir": "/sys/fs/bpf/$TAG", "mode": "pass", "on_failure": "closed", "log_level": "warn"}
EOF
cat >"$WORK/env" <<EOF
TAG=$TAG HOST=$HOST CTR=$CTR ENF=$ENF HOOK=$HOOK SETTLE=$SETTLE SUBNET4=$SUBNET4 SUBNET6=$SUBNET6
EOF

# the "host": a bridge with the containers' gateway addresses
ip netns add "$HOST"
ip -n "$HOST" link set dev lo up
ip -n "$HOST" link add br0 type bridge
ip -n "$HOST" addr add "${SUBNET4}.1/24" dev br0
ip -n "$HOST" -6 addr add "${SUBNET6}1/64" dev br0 nodad
ip -n "$HOST" link set dev br0 up

# one untimed pull: the hook makes the enforcer namespace and its pair, as on
# a host where portcullis already runs
"$SELF" __prepare hook "$WORK"
"$HOOK" --config "$WORK/config.json" prestart <"$WORK/state.json" || die "priming prestart failed"
"$SELF" __prepare none "$WORK"
[ -e "/run/netns/$ENF" ] || die "the hook made no enforcer namespace"

echo "benchmark $TAG: $ROUNDS x $RUNS runs each, $WARMUP warm-up, hook $HOOK, floor $FLOOR" >&2
for round in $(seq "$ROUNDS"); do
	[ "$ROUNDS" = 1 ] || echo "--- round $round of $ROUNDS" >&2
	hyperfine --style basic --runs "$RUNS" --warmup "$WARMUP" --time-unit millisecond \
		--export-json "$WORK/hyperfine.$round.json" \
		--prepare "'$SELF' __prepare hook '$WORK'" \
		--prepare "'$SELF' __prepare floor '$WORK'" \
		--prepare "'$SELF' __prepare iproute2 '$WORK'" \
		--cleanup "'$SELF' __prepare none '$WORK'" \
		-n hook -n floor -n iproute2 \
		"exec '$HOOK' --config '$WORK/config.json' prestart < '$WORK/state.json'" \
		"exec '$FLOOR' -s '/run/netns/$CTR' eth0 '/run/netns/$ENF'" \
		"read p < '$WORK/pid'; exec '$BENCH/pull_iproute2.sh' '$CTR' '$ENF' \$p" >&2
done
[ -z "$JSON" ] || cp "$WORK/hyperfine.$ROUNDS.json" "$JSON"

# medians in ms of every timed run (wall clock, hyperfine's shell start subtracted)
median() { # numbers on stdin
	sort -g | awk '{ a[NR] = $1 } END { if (NR) printf "%.3f", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
times_of() {
	jq -r --arg n "$1" '.results[] | select(.command == $n) | .times[] * 1000' "$WORK"/hyperfine.*.json
}
cpu_of() { # mean user+system ms over all rounds (the shell hyperfine starts included)
	jq -r --arg n "$1" '.results[] | select(.command == $n) | (.user + .system) * 1000' "$WORK"/hyperfine.*.json |
		awk '{ s += $1 } END { printf "%.1f", s / NR }'
}
H=$(times_of hook | median) F=$(times_of floor | median) I=$(times_of iproute2 | median)
N=$(times_of hook | wc -l)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ms() { awk -v a="$1" 'BEGIN { printf "%.2f", a }'; }
verdict() { awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN {
	ok = op == "<=" ? a <= b : a >= b; printf "%s", ok ? "met" : "NOT met" }'; }
HF=$(ratio "$H" "$F") IH=$(ratio "$I" "$H")

table=$(cat <<EOF
Pull benchmark, $(date -u +%Y-%m-%dT%H:%MZ), kernel $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); median of $N runs each, every run on a fresh one-port container (veth to a bridge, IPv4+IPv6, default routes)

| what | median ms | ratio to floor | CPU ms (user+sys, mean) |
|---|---:|---:|---:|
| hook: portcullis-hook prestart, whole process | $(ms "$H") | $HF | $(cpu_of hook) |
| floor: one bare link move, whole process (portcullis-bench-move) | $(ms "$F") | 1.00 | $(cpu_of floor) |
| iproute2: bench/pull_iproute2.sh, one ip/tc command per step | $(ms "$I") | $(ratio "$I" "$F") | $(cpu_of iproute2) |

hook vs iproute2: the hook is ${IH}x faster.
targets: hook <= 1.3x floor: $(verdict "$HF" "<=" 1.3) ($HF); hook >= 3x faster than iproute2: $(verdict "$IH" ">=" 3) (${IH}x)
EOF
)
echo "$table"
[ -z "$OUT" ] || echo "$table" >"$OUT"
[ "$PROFILE" = 0 ] && exit 0

# ---------------------------------------------------------------------------
# --profile: where the hook's time goes
# ---------------------------------------------------------------------------
# strace stops only at the calls named (seccomp-bpf), so the other calls run
# at full speed; each traced call still costs a few tens of microseconds.
# sendmsg on rtnetlink does the whole request in the kernel before it
# returns, so its duration is the request's; the time between traced calls
# goes to the part named after the call before it.
PROFILE_AWK='
BEGIN {
	split("RTM_NEWLINK 0x10 RTM_GETLINK 0x12 RTM_NEWADDR 0x14 RTM_GETADDR 0x16 RTM_NEWROUTE 0x18 RTM_GETROUTE 0x1a RTM_NEWNEIGH 0x1c RTM_GETNEIGH 0x1e RTM_NEWQDISC 0x24 RTM_NEWTFILTER 0x2c", m, " ")
	for (i = 1; i in m; i += 2) rtm[m[i]] = m[i + 1]
}
function add(c, sec) { if (sec < 0) sec = 0; ms[c] += sec * 1000 }
{
	ts = $2 + 0; dur = 0
	if (match($0, /<[0-9.]+>$/)) dur = substr($0, RSTART + 1, RLENGTH - 2) + 0
	name = $3; sub(/\(.*/, "", name)
	if (name == "execve") { t0 = ts; end = ts + dur; add("startup", dur); gap = "startup"; next }
	if (!t0) next
	if ($3 == "+++") { add(gap, ts - end); next }
	add(gap, ts - end)
	end = ts + dur; gap = "user"
	if (name == "sendmsg") {
		# strace shows types and flags as numbers, or by name when it knows the protocol
		type = ""; if (match($0, /nlmsg_type=[0-9A-Za-z_]+/)) type = substr($0, RSTART + 11, RLENGTH - 11)
		if (type in rtm) type = rtm[type]
		len = 0; if (match($0, /nlmsg_len=[0-9]+/)) len = substr($0, RSTART + 10, RLENGTH - 10) + 0
		flags = ""; if (match($0, /nlmsg_flags=[^,]*/)) flags = substr($0, RSTART, RLENGTH)
		dump = flags ~ /0x300|NLM_F_DUMP|NLM_F_ROOT/
		create = flags ~ /0x600|NLM_F_CREATE/
		if (dump || type == "0x12") c = moved ? "lookup" : "dump"
		else if (type == "0x10" && create) { c = "veth"; gap = "sysctl_write" }
		else if (type == "0x10" && len > 32) { c = "move"; moved = 1 }
		else if (type == "0x10") c = !moved ? "down" : tc ? "up" : "config"
		else if (type == "0x14" || type == "0x18" || type == "0x1c") c = "config"
		else if (type == "0x24" || type == "0x2c") { c = "tc"; tc = 1 }
		else c = "other_nl"
		add(c, dur); n[c]++
		if (c == "up") gap = "state"
	} else if (name == "ioctl") {
		add("ethtool", dur); n["ethtool"]++
		if (!moved) gap = "sysctl_read"
	} else if (name == "fsync" || name == "rename") {
		add("state", dur); gap = "state"
	} else if (name == "exit_group") gap = "exit"
}
END { for (c in ms) { printf "%s %.3f %d\n", c, ms[c], n[c]; t += ms[c] }; printf "total %.3f 0\n", t }'

echo "profiling: $PROFILE hook prestarts under strace, $PROFILE floor moves" >&2
: >"$WORK/profile" && : >"$WORK/floor-request"
for i in $(seq "$PROFILE"); do
	"$SELF" __prepare hook "$WORK"
	strace -f --seccomp-bpf -ttt -T -o "$WORK/strace" \
		-e trace=execve,sendmsg,ioctl,fsync,rename,exit_group \
		"$HOOK" --config "$WORK/config.json" prestart <"$WORK/state.json" || die "profiled prestart failed"
	awk "$PROFILE_AWK" "$WORK/strace" >>"$WORK/profile"
	"$SELF" __prepare floor "$WORK"
	"$FLOOR" -t -s "/run/netns/$CTR" eth0 "/run/netns/$ENF" >>"$WORK/floor-request"
done
"$SELF" __prepare none "$WORK"

part() { awk -v c="$1" '$1 == c { print $2 }' "$WORK/profile" | median; }
count() { awk -v c="$1" '$1 == c { print $3 }' "$WORK/profile" | median | cut -d. -f1; }
row() { # key label
	local m n
	m=$(part "$1")
	[ -n "$m" ] || return 0
	n=$(count "$1")
	printf '| %s | %s | %s |\n' "$2" "$(ms "$m")" "${n/#0/-}"
}
FR=$(awk '{ print $1 / 1000 }' "$WORK/floor-request" | median)
profile=$(cat <<EOF

Where the hook's time goes: median of $PROFILE prestarts under strace --seccomp-bpf (traced calls: execve, sendmsg, ioctl, fsync, rename, exit_group); medians per part do not add up to the median total

| part | median ms | calls |
|---|---:|---:|
$(row startup "process start to the first request: exec, ld.so, config, OCI state, netns checks")
$(row dump "rtnetlink dumps and lookups before the pull (sendmsg only)")
$(row sysctl_read "snapshot of the per-port sysctls (/proc/sys reads)")
$(row down "link down")
$(row move "the link move into the enforcer (RTM_NEWLINK + IFLA_NET_NS_FD)")
$(row lookup "lookup of the moved port")
$(row veth "veth create, peer born in the enforcer")
$(row sysctl_write "per-port sysctls written on the new port")
$(row ethtool "ethtool ioctls")
$(row config "new port: flags, addresses, routes, neighbours")
$(row tc "tc: ingress qdiscs and u32/mirred filters")
$(row up "enforcer ports up")
$(row state "state record: build, write, fsync, rename, fsync dir")
$(row user "userspace between requests (recv, libnl, setns, other untraced calls)")
$(row exit "exit")
$(row total "total (traced)")

floor: the move request alone, timed inside portcullis-bench-move (untraced): median $(ms "$FR") ms of $PROFILE
EOF
)
echo "$profile"
[ -z "$OUT" ] || echo "$profile" >>"$OUT"
