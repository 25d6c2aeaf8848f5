#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Small packets through the data plane (see bench/README.md): pc-blast
# writes IPv4/UDP frames into vbr-neuv as if they came from c1's port (its
# UCMAC as source, fwd mode), towards the host bridge, many flows between
# one pair of addresses, so one worker gets them all.  The data plane
# (pinned to CPU 0, the sender to CPU 1) receives, decides and sends each
# back; vbr-neuv's return path delivers it to the host, which drops it.
# For each frame size, in the same run:
#   reflector     test/tools/pc-reflector: receive and send back, nothing else
#   portcullis-dp sessions, identification, policy on every frame
# Reported: frames per second the data plane sent back, its CPU time per
# frame (user + system of the whole process, /proc/PID/stat), and the ratio
# of portcullis-dp to the reflector.
#
#   bench/dp_pps.sh [--seconds N] [--sizes "64 1000"] [--flows N] [--build DIR] [--out FILE]
set -euo pipefail

SELF=$(readlink -f "$0")
REPO=$(dirname "$(dirname "$SELF")")
SECS=5 SIZES="64 1000" FLOWS=1000 BUILD=$REPO/build OUT=

die() { echo "dp_pps.sh: $*" >&2; exit 1; }
log() { echo "dp_pps.sh: $*" >&2; }
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) SECS=${2:?}; shift 2 ;;
	--sizes) SIZES=${2:?}; shift 2 ;;
	--flows) FLOWS=${2:?}; shift 2 ;;
	--build) BUILD=$(readlink -f "${2:?}"); shift 2 ;;
	--out) OUT=${2:?}; shift 2 ;;
	*) echo "usage: bench/dp_pps.sh [--seconds N] [--sizes \"64 1000\"] [--flows N] [--build DIR] [--out FILE]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
for c in jq ip bpftool taskset; do command -v "$c" >/dev/null || die "missing $c"; done
HOOK=$BUILD/bin/portcullis-hook DPBIN=$BUILD/bin/portcullis-dp CTL=$BUILD/bin/portcullisctl
BLAST=$BUILD/bin/pc-blast REFLECTOR=$BUILD/test/tools/pc-reflector
for b in "$HOOK" "$DPBIN" "$CTL" "$BLAST" "$REFLECTOR"; do [ -x "$b" ] || die "not built: $b"; done

. "$(dirname "$0")/lib.sh"
pair_setup pcdq
TICK=$(getconf CLK_TCK)

pull
set_mode fwd
UCMAC=$(hook status --json | jq -r --arg id "$ID1" '.[] | select(.containers[].id == $id) | .ports[0].ucmac')
BRMAC=$(ip -n "$HOST" -j link show br0 | jq -r '.[0].address')
[ -n "$UCMAC" ] && [ "$UCMAC" != null ] || die "no UCMAC for c1"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

refl_start() {
	"$REFLECTOR" -q -n "/run/netns/$ENF" -p "$PIN/$ENF/pc_dp" >"$WORK/refl.log" 2>&1 &
	RUN_PID=$!
	PIDS+=("$RUN_PID")
	for _ in $(seq 50); do grep -q ready "$WORK/refl.log" && return; sleep 0.05; done
	die "pc-reflector did not start: $(cat "$WORK/refl.log")"
}
refl_stop() {
	kill "$RUN_PID"; wait "$RUN_PID" || die "pc-reflector failed: $(cat "$WORK/refl.log")"
	TX=$(sed -n 's/.* tx=\([0-9]*\).*/\1/p' "$WORK/refl.log")
}
pdp_start() { dp_start; RUN_PID=$DP_PID; }
pdp_stop() {
	dp_stop
	TX=$(sed -n 's/.*worker [0-9]*: .* tx=\([0-9]*\).*/\1/p' "$WORK/dp.log" | awk '{s += $1} END {print s}')
}

# run NAME SIZE: start NAME's process pinned to CPU 0, blast SECS from CPU 1,
# stop it (which sets TX, the frames it sent back); appends "NAME SIZE frames_per_s cpu_ns_per_frame" to results.
run() {
	local name=$1 size=$2 c0 c1 out wall tx pps ns
	"${name}_start"
	taskset -a -p -c 0 "$RUN_PID" >/dev/null
	c0=$(cpu_ticks "$RUN_PID")
	out=$(ip netns exec "$ENF" "$BLAST" vbr-neuv "$UCMAC" "$BRMAC" 10.79.0.11 10.79.0.250 \
		"$size" "$FLOWS" "$SECS" 1) || die "pc-blast failed: $out"
	sleep 0.2
	c1=$(cpu_ticks "$RUN_PID")
	"${name}_stop"
	tx=$TX
	wall=$(sed -n 's/.*wall_ns=\([0-9]*\).*/\1/p' <<<"$out")
	[ "${tx:-0}" -gt 0 ] || die "$name: nothing came back (sender: $out)"
	pps=$((tx * 1000000000 / wall))
	ns=$(((c1 - c0) * 1000000000 / TICK / tx))
	echo "$name $size $pps $ns" >>"$WORK/results"
	log "$name, $size-byte frames: $pps frames/s sent back, $ns ns CPU per frame ($out)"
}

: >"$WORK/results"
for size in $SIZES; do
	run refl "$size"
	run pdp "$size"
done

{
	echo "| frame size | reflector, frames/s | portcullis-dp, frames/s | ratio | reflector, CPU ns/frame | portcullis-dp, CPU ns/frame |"
	echo "|---:|---:|---:|---:|---:|---:|"
	for size in $SIZES; do
		awk -v s="$size" '$2 == s {p[$1] = $3; n[$1] = $4}
			END {printf "| %d | %d | %d | %.2f | %d | %d |\n", s, p["refl"], p["pdp"], p["pdp"] / p["refl"], n["refl"], n["pdp"]}' "$WORK/results"
	done
	echo "(one worker takes every frame: one address pair, $FLOWS flows; data plane on CPU 0, sender on CPU 1; ${SECS} s each; frames of 512 bytes or less take the quick path, larger ones the ring; $(uname -r), $(nproc) CPUs, $(date -u +%Y-%m-%d))"
} | tee "${OUT:-/dev/null}"
