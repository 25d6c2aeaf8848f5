#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# A pull's cost on a busy node: COUNT one-port containers (default 60) are
# pulled one after another, as pods arrive on a node, each while all the
# earlier ones stay intercepted.  Prints each pull's time (the whole
# `portcullis-hook prestart` process), the mean of the first 10 and of the
# last 10, and their ratio; a pull's cost should not depend on how many
# containers are already intercepted.  With strace installed, one more pull
# is traced and its read() calls counted.
#
#   bench/hook_scale.sh [--count N] [--build DIR]
#
# Root only.  Everything happens in namespaces this script creates under
# unique names (a "host" namespace with a bridge, the containers, the
# enforcer) and is removed on exit, whatever happens.
set -euo pipefail

SELF=$(readlink -f "$0")
REPO=$(dirname "$(dirname "$SELF")")
COUNT=60
BUILD=$REPO/build
while [ $# -gt 0 ]; do
	case $1 in
	--count) COUNT=$2; shift 2 ;;
	--build) BUILD=$2; shift 2 ;;
	*) echo "usage: bench/hook_scale.sh [--count N] [--build DIR]" >&2; exit 2 ;;
	esac
done
die() { echo "hook_scale.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root"
[[ $COUNT =~ ^[0-9]+$ ]] && [ "$COUNT" -ge 20 ] && [ "$COUNT" -le 250 ] ||
	die "--count: 20 to 250"
HOOK=$BUILD/bin/portcullis-hook
[ -x "$HOOK" ] || die "no $HOOK: build first"
. "$REPO/bench/lib.sh"

TAG=pcs$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
HOST=$TAG-host ENF=$TAG-enf
WORK=$(mktemp -d "/run/$TAG.XXXXXX")
PIN=/sys/fs/bpf/$TAG
CFG=$WORK/config.json
PIDS=()
NSS=()
PULLED=()
cleanup() {
	set +e
	for id in "${PULLED[@]}"; do
		printf '{"ociVersion":"1.0.2","id":"%s","status":"stopped"}' "$id" |
			"$HOOK" --config "$CFG" poststop 2>/dev/null
	done
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for ns in "${NSS[@]}" "$ENF" "$HOST"; do
		[ -e "/run/netns/$ns" ] && ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$PIN" "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

host_bridge "$HOST" 10.78.0.1/16
printf '{"enforcer_netns": "/run/netns/%s", "state_dir": "%s/state", "bpf_pin_dir": "%s",
 "backend": "bpf", "mode": "pass", "on_failure": "closed", "log_level": "warn"}\n' \
	"$ENF" "$WORK" "$PIN" >"$CFG"

# container I: a namespace with eth0 on the host bridge and a process in it
# (CPID).
container() {
	NSS+=("$TAG-c$1")
	bench_container "$HOST" "$TAG-c$1" "h$1" "10.78.$(($1 / 250)).$(($1 % 250 + 2))/16"
}

# pull I: prestart of container I; its time in microseconds in T.
pull() {
	local doc t0 t1
	doc=$(printf '{"ociVersion":"1.0.2","id":"%s-%d","status":"creating","pid":%d}' "$TAG" "$1" "$CPID")
	t0=${EPOCHREALTIME/./}
	"$HOOK" --config "$CFG" prestart <<<"$doc" || die "prestart of container $1 failed"
	t1=${EPOCHREALTIME/./}
	PULLED+=("$TAG-$1")
	T=$((t1 - t0))
}

times=()
for ((i = 1; i <= COUNT; i++)); do
	container "$i"
	pull "$i"
	times+=("$T")
done
n=$(jq length <<<"$("$HOOK" --config "$CFG" status --json)")
[ "$n" -eq "$COUNT" ] || die "status shows $n intercepted namespaces, not $COUNT"

printf '%s\n' "${times[@]}" | awk -v n="$COUNT" '
	{ t[NR] = $1 / 1000 }
	END {
		for (i = 1; i <= 10; i++) { a += t[i]; b += t[n - 10 + i] }
		printf "pulls: %d one after another\n", n
		printf "pull times (ms):"
		for (i = 1; i <= n; i++) printf " %.1f", t[i]
		printf "\nfirst 10: mean %.1f ms\nlast 10:  mean %.1f ms\nlast/first: %.2fx\n", a / 10, b / 10, b / a
	}'

if command -v strace >/dev/null; then
	i=$((COUNT + 1))
	container "$i"
	doc=$(printf '{"ociVersion":"1.0.2","id":"%s-%d","status":"creating","pid":%d}' "$TAG" "$i" "$CPID")
	strace -f -c -e trace=read -o "$WORK/strace" "$HOOK" --config "$CFG" prestart <<<"$doc" ||
		die "traced prestart failed"
	PULLED+=("$TAG-$i")
	echo "read() calls of pull $i: $(awk '$NF == "read" { print $4 }' "$WORK/strace")"
fi
