#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The hook's share of a container's start-up: the time from `podman run` to
# the workload's first instruction, with the hook and without, medians of
# RUNS (default 20), interleaved so that both see the same machine:
#
#   none      no hooks.d entry at all
#   hook      the installed hooks.d entry, mode fwd (the default): the hook
#             pulls the container's port before the workload starts
#   off       the hook runs, the container is annotated io.portcullis.mode=off
#
# The workload's first instruction is a write to a FIFO that the script
# waits on: `podman run ... sh -c 'echo > /s/f; ...'`.  Each container is
# removed (and its port released) before the next one starts.  With
# hyperfine installed, the whole `podman run --rm` of each kind is timed by
# hyperfine too.
#
#   bench/podman_start.sh [--runs N] [--build DIR]
#
# Root only; a podman set-up of its own (scripts/lib/podman_env.sh) under a
# temporary folder, its own bridge, enforcer namespace and state directory,
# all removed on exit.
set -euo pipefail

SELF=$(readlink -f "$0")
REPO=$(dirname "$(dirname "$SELF")")
RUNS=20
BUILD=$REPO/build
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=$2; shift 2 ;;
	--build) BUILD=$2; shift 2 ;;
	*) echo "usage: bench/podman_start.sh [--runs N] [--build DIR]" >&2; exit 2 ;;
	esac
done
die() { echo "podman_start.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root"
command -v podman >/dev/null || die "podman is not installed (apt-get install podman)"
. "$REPO/scripts/lib/podman_env.sh"

TAG=pcb$$
W=$(mktemp -d "/tmp/$TAG.XXXXXX")
PD=$W/podman
ENF=$TAG-enf
PIN=/sys/fs/bpf/$TAG
cleanup() {
	set +e
	pe_cleanup "$PD" "$TAG" "$TAG"
	ip netns del "$ENF" 2>/dev/null
	rm -rf "$PIN" "$W"
}
trap cleanup EXIT

cmake --install "$BUILD" --prefix "$W/prefix" >/dev/null || die "cmake --install $BUILD failed"
printf '{"enforcer_netns": "/run/netns/%s", "state_dir": "%s/state", "bpf_pin_dir": "%s", "mode": "fwd", "on_failure": "closed", "allow_mode_annotation": true}\n' \
	"$ENF" "$W" "$PIN" >"$W/config.json"
pe_conf "$PD" "$TAG" "$TAG" "10.$((16 + $$ % 200)).250"
pe_rootfs "$PD/rootfs"
IMAGE=localhost/$TAG:latest
pe_image "$PD" "$IMAGE"
mkdir -p "$W/hooks-none" "$W/s"
jq --arg c "PORTCULLIS_CONFIG=$W/config.json" '.hook.env = [$c]' \
	"$W/prefix/share/containers/oci/hooks.d/portcullis.json" >"$PD/hooks.d/portcullis.json"
mkfifo "$W/s/f"

# start KIND: one container; prints the ms from `podman run` to the workload's write
start() {
	local hooks=$PD/hooks.d ann=() t0 t1 pid
	case $1 in
	none) hooks=$W/hooks-none ;;
	off) ann=(--annotation io.portcullis.mode=off) ;;
	esac
	t0=$(date +%s%N)
	pe_podman "$PD" --hooks-dir "$hooks" run --rm "${ann[@]}" -v "$W/s:/s" "$IMAGE" \
		sh -c 'echo > /s/f' >/dev/null 2>"$W/err" &
	pid=$!
	read -r _ <"$W/s/f"
	t1=$(date +%s%N)
	wait "$pid" || { cat "$W/err" >&2; die "podman run ($1) failed"; }
	echo $(((t1 - t0) / 1000))
}

median() { sort -n | awk '{ v[NR] = $1 } END { m = int((NR + 1) / 2); print (NR % 2) ? v[m] : (v[m] + v[m + 1]) / 2 }'; }

# one warm-up of each (image layers, the enforcer namespace and its pins)
for k in none hook off; do start "$k" >/dev/null; done
for ((i = 0; i < RUNS; i++)); do
	for k in none hook off; do start "$k" >>"$W/$k.us"; done
done
n=$(median <"$W/none.us")
h=$(median <"$W/hook.us")
o=$(median <"$W/off.us")
echo
echo "podman run to the workload's first instruction, median of $RUNS (ms):"
echo
echo "| hooks.d | median ms | vs none | hook's share |"
echo "|---|---|---|---|"
awk -v n="$n" -v h="$h" -v o="$o" 'BEGIN {
	printf "| none | %.1f | 1.00 | - |\n", n / 1000
	printf "| portcullis, mode fwd (port pulled) | %.1f | %.2f | %.0f%% |\n", h / 1000, h / n, (h - n) * 100 / h
	printf "| portcullis, io.portcullis.mode=off | %.1f | %.2f | %.0f%% |\n", o / 1000, o / n, (o - n) * 100 / o
}'

if command -v hyperfine >/dev/null; then
	pe_argv "$PD"
	echo
	echo "the whole podman run --rm (start, workload, stop, removal), hyperfine:"
	hyperfine -N --warmup 2 --runs "$RUNS" --style basic \
		-n none "${PE_ARGV[*]} --hooks-dir $W/hooks-none run --rm $IMAGE true" \
		-n hook "${PE_ARGV[*]} run --rm $IMAGE true" \
		2>&1 | grep -E '^(Benchmark|  Time|Summary|  [0-9. ]+ ±| +none|  hook)' || true
fi
