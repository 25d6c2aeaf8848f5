# SPDX-License-Identifier: Apache-2.0
# Helpers shared by the data-path benchmarks.  The sourcing script defines
# die() first.

# in_netns PID NETNS: wait until PID (started by `ip netns exec`) is inside NETNS.
in_netns() {
	local ino i
	ino=$(stat -L -c %i "/run/netns/$2")
	for ((i = 0; i < 200; i++)); do
		[ "$(stat -L -c %i "/proc/$1/ns/net" 2>/dev/null)" = "$ino" ] && return
		sleep 0.01
	done
	die "pid $1 did not enter $2"
}

# host_bridge NETNS CIDR: a "host" namespace with bridge br0 holding CIDR.
host_bridge() {
	ip netns add "$1"
	ip -n "$1" link set lo up
	ip -n "$1" link add br0 type bridge
	ip -n "$1" link set br0 up
	ip -n "$1" addr add "$2" dev br0
}

# bench_container HOSTNS NETNS HOSTIF CIDR: NETNS with eth0 (CIDR) whose
# peer HOSTIF is on HOSTNS's br0, and a process in it: its pid in CPID, also
# appended to PIDS.
bench_container() {
	ip netns add "$2"
	ip -n "$2" link set lo up
	ip -n "$1" link add "$3" type veth peer name eth0 netns "$2"
	ip -n "$1" link set "$3" master br0 up
	ip -n "$2" addr add "$4" dev eth0
	ip -n "$2" link set eth0 up
	ip netns exec "$2" sleep 100000 </dev/null >/dev/null 2>&1 &
	CPID=$!
	PIDS+=("$CPID")
	in_netns "$CPID" "$2"
}

# pc_stat MAPDIR NAME: a pc_stats counter (lib/dpath/bpf/dpath_common.h, same
# order) of the pinned maps in MAPDIR, summed over CPUs.
mapfile -t PC_STATS < <(sed -n '/^#define PC_STAT_NAMES/,/[^\\]$/p' \
	"$(dirname "${BASH_SOURCE[0]}")/../lib/dpath/bpf/dpath_common.h" | grep -o '"[a-z_]*"' | tr -d '"')
pc_stat() {
	local i
	[ ${#PC_STATS[@]} -gt 0 ] || die "no PC_STAT_NAMES in lib/dpath/bpf/dpath_common.h"
	for i in "${!PC_STATS[@]}"; do [ "${PC_STATS[$i]}" = "$2" ] && break; done
	[ "${PC_STATS[$i]}" = "$2" ] || die "no pc_stats counter $2"
	bpftool map lookup pinned "$1/pc_stats" key "$i" 0 0 0 -j | jq '
		def num: if type == "array" then reverse | map(ltrimstr("0x") | explode
			| map(if . >= 97 then . - 87 elif . >= 65 then . - 55 else . - 48 end)
			| .[0] * 16 + .[1]) | reduce .[] as $b (0; . * 256 + $b) else . end;
		[(.values // .formatted.values)[] | .value | num] | add'
}

# pair_setup PREFIX: two one-port containers c1 (10.79.0.11) and c2
# (10.79.0.12) on a bridge in a host namespace, all in namespaces named
# PREFIX<random>-*, and a hook configuration (backend bpf, mode pass) in
# WORK; defines hook, pull (both containers), set_mode MODE, stat NAME (a
# pc_stats counter) and a cleanup trap that removes every namespace, the
# pin folder and WORK.  Sets TAG HOST C1 C2 ENF WORK PIN CFG ID1 ID2 PIDS.
# Needs HOOK.
pair_setup() {
	TAG=$1$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
	HOST=$TAG-host C1=$TAG-c1 C2=$TAG-c2 ENF=$TAG-enf
	WORK=$(mktemp -d "/run/$TAG.XXXXXX")
	PIN=/sys/fs/bpf/$TAG
	CFG=$WORK/config.json
	PIDS=()

	cleanup() {
		set +e
		for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
		for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
		for ns in "$C1" "$C2" "$ENF" "$HOST"; do
			[ -e "/run/netns/$ns" ] || continue
			for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
			ip netns del "$ns" 2>/dev/null
		done
		rm -rf "$PIN" "$WORK"
	}
	trap cleanup EXIT
	trap 'exit 130' INT TERM

	host_bridge "$HOST" 10.79.0.1/24
	for i in 1 2; do
		bench_container "$HOST" "$TAG-c$i" "h$i" "10.79.0.1$i/24"
		eval "PID$i=$CPID"
	done
	printf '{"enforcer_netns": "/run/netns/%s", "state_dir": "%s/state", "bpf_pin_dir": "%s",
	 "backend": "bpf", "mode": "pass", "dp_down": "open", "on_failure": "closed", "log_level": "info",
	 "policy": "%s/no-policy.json", "session_log": "%s/sessions.log", "ctl_socket": "%s/dp.sock", "workers": 2}\n' \
		"$ENF" "$WORK" "$PIN" "$WORK" "$WORK" "$WORK" >"$CFG"
	ID1=$TAG-c1 ID2=$TAG-c2

	hook() { "$HOOK" --config "$CFG" "$@"; }

	pull() {
		local i pid
		for i in 1 2; do
			eval "pid=\$PID$i"
			printf '{"ociVersion":"1.0.2","id":"%s-c%d","status":"creating","pid":%d}' "$TAG" "$i" "$pid" |
				hook prestart || die "prestart of c$i failed"
		done
		local st
		st=$(hook status --json)
		[ "$(jq -r '[.[].backend] | unique | join(",")' <<<"$st")" = bpf ] ||
			die "the hook does not run backend bpf here: $(jq -c '[.[] | {backend, mode}]' <<<"$st")"
	}

	set_mode() {
		hook mode "$ID1" "$1" >/dev/null && hook mode "$ID2" "$1" >/dev/null || die "mode $1 failed"
		[ "$1" = off ] && return
		[ "$(hook status --json | jq -r '[.[].mode] | unique | join(",")')" = "$1" ] ||
			die "status does not show mode $1"
	}

	# stat NAME: a pc_stats counter of the pair's enforcer.
	stat() { pc_stat "$PIN/$ENF" "$1"; }
}

# dp_start [CONFIG]: portcullis-dp (DPBIN) on the pair's enforcer, with
# CONFIG (default CFG), until dp_stop.
dp_start() {
	"$DPBIN" --config "${1:-$CFG}" --foreground >"$WORK/dp.log" 2>&1 &
	DP_PID=$!
	PIDS+=("$DP_PID")
	for _ in $(seq 100); do grep -q 'ready:' "$WORK/dp.log" && return; sleep 0.05; done
	die "portcullis-dp did not start: $(cat "$WORK/dp.log")"
}

dp_stop() {
	kill "$DP_PID"
	wait "$DP_PID" || die "portcullis-dp failed: $(cat "$WORK/dp.log")"
	grep -q 'allowed=' "$WORK/dp.log" || die "portcullis-dp left no counters"
}
