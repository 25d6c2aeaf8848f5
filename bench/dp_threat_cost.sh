#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# What threat detection costs the data plane (see bench/README.md): the
# same runs with the config key threat_detection true and false, rounds
# interleaved, on one pair of containers in mode fwd:
#   pps  small frames through one worker, as bench/dp_pps.sh sends them
#        (pc-blast writes IPv4/UDP frames from c1's port, the data plane
#        pinned to CPU 0, the sender to CPU 1): frames per second sent
#        back and CPU time per frame
#   tcp  one iperf3 TCP stream c1 -> c2 through portcullis-dp
# Reported: the median of the rounds for each, and detection on / off.
# Target: on at least 0.85 of off, for both.
#
#   bench/dp_threat_cost.sh [--seconds N] [--rounds N] [--size BYTES] [--flows N]
#                           [--build DIR] [--out FILE]
#
# Root only.  Everything lives in namespaces named pcdx<random>-*, a state
# folder under /run and a pin folder under /sys/fs/bpf, all removed on exit.
set -euo pipefail

SELF=$(readlink -f "$0")
REPO=$(dirname "$(dirname "$SELF")")
SECS=5 ROUNDS=3 SIZE=64 FLOWS=1000 BUILD=$REPO/build OUT=

die() { echo "dp_threat_cost.sh: $*" >&2; exit 1; }
log() { echo "dp_threat_cost.sh: $*" >&2; }
usage() {
	echo "usage: bench/dp_threat_cost.sh [--seconds N] [--rounds N] [--size BYTES] [--flows N] [--build DIR] [--out FILE]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) SECS=${2:?}; shift 2 ;;
	--rounds) ROUNDS=${2:?}; shift 2 ;;
	--size) SIZE=${2:?}; shift 2 ;;
	--flows) FLOWS=${2:?}; shift 2 ;;
	--build) BUILD=$(readlink -f "${2:?}"); shift 2 ;;
	--out) OUT=${2:?}; shift 2 ;;
	*) usage ;;
	esac
done
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
for c in iperf3 jq ip bpftool taskset; do command -v "$c" >/dev/null || die "missing $c"; done
HOOK=$BUILD/bin/portcullis-hook DPBIN=$BUILD/bin/portcullis-dp BLAST=$BUILD/bin/pc-blast
for b in "$HOOK" "$DPBIN" "$BLAST"; do [ -x "$b" ] || die "not built: $b"; done

. "$(dirname "$0")/lib.sh"
pair_setup pcdx
TICK=$(getconf CLK_TCK)
CFG_ON=$WORK/config-on.json CFG_OFF=$WORK/config-off.json
jq '.threat_detection = true' "$CFG" >"$CFG_ON"
jq '.threat_detection = false' "$CFG" >"$CFG_OFF"

pull
set_mode fwd
UCMAC=$(hook status --json | jq -r --arg id "$ID1" '.[] | select(.containers[].id == $id) | .ports[0].ucmac')
BRMAC=$(ip -n "$HOST" -j link show br0 | jq -r '.[0].address')
[ -n "$UCMAC" ] && [ "$UCMAC" != null ] || die "no UCMAC for c1"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# dp_with on|off: portcullis-dp with threat detection on or off.
dp_with() {
	local keep=$CFG
	[ "$1" = on ] && CFG=$CFG_ON || CFG=$CFG_OFF
	dp_start
	CFG=$keep
}

# pps on|off: appends "pps MODE ROUND frames_per_s cpu_ns_per_frame" to results.
pps() {
	local c0 c1 out wall tx
	dp_with "$1"
	taskset -a -p -c 0 "$DP_PID" >/dev/null
	c0=$(cpu_ticks "$DP_PID")
	out=$(ip netns exec "$ENF" "$BLAST" vbr-neuv "$UCMAC" "$BRMAC" 10.79.0.11 10.79.0.250 \
		"$SIZE" "$FLOWS" "$SECS" 1) || die "pc-blast failed: $out"
	sleep 0.2
	c1=$(cpu_ticks "$DP_PID")
	dp_stop
	tx=$(sed -n 's/.*worker [0-9]*: .* tx=\([0-9]*\).*/\1/p' "$WORK/dp.log" | awk '{s += $1} END {print s}')
	wall=$(sed -n 's/.*wall_ns=\([0-9]*\).*/\1/p' <<<"$out")
	[ "${tx:-0}" -gt 0 ] || die "pps $1: nothing came back (sender: $out)"
	echo "pps $1 $ROUND $((tx * 1000000000 / wall)) $(((c1 - c0) * 1000000000 / TICK / tx))" >>"$WORK/results"
	log "pps, detection $1: $((tx * 1000000000 / wall)) frames/s"
}

# tcp on|off: appends "tcp MODE ROUND gbps retransmits" to results.
tcp() {
	local j srv gbps
	dp_with "$1"
	ip netns exec "$C2" iperf3 -s -1 -B 10.79.0.12 >/dev/null 2>&1 &
	srv=$!
	for _ in $(seq 50); do
		ip netns exec "$C2" ss -Hltn 'sport = :5201' | grep -q . && break
		sleep 0.05
	done
	j=$(ip netns exec "$C1" iperf3 -c 10.79.0.12 -t "$SECS" -J) || die "iperf3 ($1) failed: $j"
	wait "$srv" 2>/dev/null || true
	dp_stop
	gbps=$(jq '.end.sum_received.bits_per_second / 1e9' <<<"$j")
	printf 'tcp %s %s %.3f %s\n' "$1" "$ROUND" "$gbps" "$(jq '.end.sum_sent.retransmits // 0' <<<"$j")" >>"$WORK/results"
	log "$(printf 'tcp, detection %s: %.3f Gbit/s' "$1" "$gbps")"
}

: >"$WORK/results"
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
	log "round $ROUND of $ROUNDS"
	# alternate which goes first, so drift on a shared machine evens out
	if ((ROUND % 2)); then order="on off"; else order="off on"; fi
	for m in $order; do pps "$m"; done
	for m in $order; do tcp "$m"; done
done

median() { sort -n | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# med KIND MODE COLUMN: the median over rounds
med() { awk -v k="$1" -v m="$2" -v c="$3" '$1 == k && $2 == m {print $c}' "$WORK/results" | median; }
{
	echo "| measurement | detection on | detection off | on / off |"
	echo "|---|---:|---:|---:|"
	for row in "pps 4 frames/s ($SIZE-byte frames, one worker)" "pps 5 CPU ns/frame" "tcp 4 Gbit/s (one TCP stream, fwd)"; do
		read -r k c what <<<"$row"
		on=$(med "$k" on "$c") off=$(med "$k" off "$c")
		printf '| %s | %s | %s | %.2f |\n' "$what" "$on" "$off" "$(echo "$on $off" | awk '{print $2 ? $1 / $2 : 0}')"
	done
	echo "(medians of $ROUNDS rounds, ${SECS} s each; CPU ns/frame: lower is better; target for frames/s and Gbit/s: on / off >= 0.85; $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%d))"
} | tee "${OUT:-/dev/null}"
