#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Added latency of the data plane (see bench/README.md): small TCP
# request/response exchanges container -> container at a low, fixed rate,
# sockperf ping-pong (full round trips), in the same run and on the same two
# containers:
#   none    no interception
#   pass    both intercepted, backend bpf, mode pass
#   dp-tap  mode tap with portcullis-dp running
#   dp-fwd  mode fwd through portcullis-dp: each round trip crosses the data
#           plane four times (out of c1, into c2, out of c2, into c1)
# The table has p50 and p99 round trip in microseconds (median over rounds)
# and what each configuration adds to "none" at p50 and p99.
# Target: dp-fwd adds at most 200 us at p50.
#
#   bench/dp_latency.sh [--seconds N] [--rounds N] [--mps N] [--msg BYTES]
#                       [--build DIR] [--out FILE]
#
# Root only; namespaces pcdl<random>-*, removed on exit.
set -euo pipefail

SELF=$(readlink -f "$0")
REPO=$(dirname "$(dirname "$SELF")")
SECS=5 ROUNDS=3 MPS=1000 MSG=64 BUILD=$REPO/build OUT=

die() { echo "dp_latency.sh: $*" >&2; exit 1; }
log() { echo "dp_latency.sh: $*" >&2; }
usage() {
	cat >&2 <<EOF2
usage: bench/dp_latency.sh [--seconds N] [--rounds N] [--mps N] [--msg BYTES] [--build DIR] [--out FILE]
  --seconds N   length of each sockperf run (default 5)
  --rounds N    every configuration N times, interleaved (default 3)
  --mps N       request/response exchanges per second (default 1000: a low rate)
  --msg BYTES   message size (default 64)
  --build DIR   build folder with bin/portcullis-hook and bin/portcullis-dp (default build/)
  --out FILE    also write the table to FILE
EOF2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) SECS=${2:?}; shift 2 ;;
	--rounds) ROUNDS=${2:?}; shift 2 ;;
	--mps) MPS=${2:?}; shift 2 ;;
	--msg) MSG=${2:?}; shift 2 ;;
	--build) BUILD=$(readlink -f "${2:?}"); shift 2 ;;
	--out) OUT=${2:?}; shift 2 ;;
	*) usage ;;
	esac
done
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
command -v sockperf >/dev/null || die "missing sockperf (apt-get install sockperf)"
for c in jq ip bpftool; do command -v "$c" >/dev/null || die "missing $c"; done
HOOK=$BUILD/bin/portcullis-hook DPBIN=$BUILD/bin/portcullis-dp
[ -x "$HOOK" ] && [ -x "$DPBIN" ] || die "build first (cmake -S . -B build && cmake --build build)"

. "$(dirname "$0")/lib.sh"
pair_setup pcdl

# measure NAME: one sockperf ping-pong c1 -> c2; appends "NAME p50 p99 round" to results.
measure() {
	local name=$1 out p50 p99
	ip netns exec "$C2" timeout $((SECS + 10)) sockperf server --tcp -i 10.79.0.12 -p 11111 \
		>/dev/null 2>&1 &
	local srv=$!
	PIDS+=("$srv")
	for _ in $(seq 50); do
		ip netns exec "$C2" ss -Hltn 'sport = :11111' | grep -q . && break
		sleep 0.05
	done
	out=$(ip netns exec "$C1" sockperf ping-pong --tcp -i 10.79.0.12 -p 11111 -t "$SECS" \
		--mps "$MPS" -m "$MSG" --full-rtt 2>&1) || die "sockperf ($name) failed: $out"
	kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null || true
	p50=$(sed -n 's/.*percentile 50.000 = *\([0-9.]*\).*/\1/p' <<<"$out")
	p99=$(sed -n 's/.*percentile 99.000 = *\([0-9.]*\).*/\1/p' <<<"$out")
	[ -n "$p50" ] && [ -n "$p99" ] || die "no percentiles from sockperf ($name): $out"
	echo "$name $p50 $p99 ${ROUND:-0}" >>"$WORK/results"
	log "$(printf '%-7s p50 %8.1f us  p99 %8.1f us' "$name" "$p50" "$p99")"
}

SECS_SAVED=$SECS SECS=1
measure warmup
SECS=$SECS_SAVED
: >"$WORK/results"
for ((r = 1; r <= ROUNDS; r++)); do
	ROUND=$r
	log "round $r of $ROUNDS"
	measure none
	pull
	measure pass
	dp_start
	set_mode tap
	measure dp-tap
	set_mode fwd
	f0=$(stat to_dp)
	measure dp-fwd
	[ "$(stat to_dp)" -gt "$f0" ] || die "dp-fwd: nothing was sent to the data plane"
	dp_stop
	log "$(grep 'worker [0-9]:' "$WORK/dp.log" | sed 's/.*\(worker [0-9]*\): frames=\([0-9]*\) quick=\([0-9]*\).*/\1 frames=\2 quick=\3/' | tr '\n' ' ')"
	set_mode off
done

median() { sort -n | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
col() { awk -v c="$1" -v k="$2" '$1 == c {print $k}' "$WORK/results" | median; }
b50=$(col none 2) b99=$(col none 3)
{
	echo "| configuration | p50 round trip, us | p99 round trip, us | added at p50, us | added at p99, us |"
	echo "|---|---:|---:|---:|---:|"
	for c in none pass dp-tap dp-fwd; do
		case $c in
		none) what="no interception" ;;
		pass) what="pass (bpf)" ;;
		dp-tap) what="tap, portcullis-dp running" ;;
		dp-fwd) what="fwd through portcullis-dp" ;;
		esac
		m50=$(col "$c" 2) m99=$(col "$c" 3)
		echo "$what $m50 $m99 $b50 $b99" | awk '{n = NF; printf "| %s", $1; for (i = 2; i <= n - 4; i++) printf " %s", $i;
			printf " | %.1f | %.1f | %.1f | %.1f |\n", $(n-3), $(n-2), $(n-3) - $(n-1), $(n-2) - $n}'
	done
	a50=$(echo "$(col dp-fwd 2) $b50" | awk '{printf "%.1f", $1 - $2}')
	echo "dp-fwd adds $a50 us at p50; target <= 200: $(awk -v a="$a50" 'BEGIN {print (a <= 200 ? "met" : "NOT met")}')"
	echo "($(uname -r), $(nproc) CPUs, sockperf ping-pong TCP, $MSG-byte messages at $MPS/s, ${SECS} s per run, $ROUNDS rounds, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%d))"
} | tee "${OUT:-/dev/null}"
