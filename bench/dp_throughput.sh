#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Data-path throughput (see bench/README.md): one TCP stream container ->
# container, iperf3, in the same run and on the same two containers:
#   none   no interception
#   pass   both containers intercepted, backend bpf, mode pass
#   tap    the same, switched live to mode tap (no data plane running)
#   fwd    (--fwd) mode fwd with test/tools' pc-reflector as data plane
#   dp-tap (--dp) mode tap with portcullis-dp (policy: allow all, two
#          workers, its defaults): it inspects the copies of the session's
#          first bypass_after_kb (1 MiB), then bypasses it (dp/flow/bypass.h):
#          the kernel forwards and counts its frames, no more copies
#   dp-fwd (--dp) mode fwd through portcullis-dp, the same defaults: the
#          session crosses the data plane for its first MiB, then the
#          kernel forwards it
#   dp-tap-all, dp-fwd-inline (--dp) the same two with bypass_after_kb 0:
#          every frame copied to the data plane (tap) or crossing it (fwd)
#   tap-1  (--one-end) tap on c1 only, c2 in pass: every packet copied once
#          instead of twice (once where it leaves c1, once where it reaches
#          c2), to show what each copy costs
#   tap+x  (--pair-offloads) tap again with the offloads of vbr-neuv/
#          vth-neuv switched the other way from how the hook made them
#          (TSO, GSO, checksum, SG), to show what software segmentation and
#          checksumming of the copies costs
# Rounds interleave the configurations; the table has the median Gbit/s of
# the rounds and its ratio to "none".  Target: pass and tap >= 0.90.
# iperf3's client runs on CPU 0 and its server on CPU 1 (iperf3 -A), so
# that the scheduler does not move them between runs (--no-pin: anywhere).
#
#   bench/dp_throughput.sh [--seconds N] [--rounds N] [--build DIR] [--fwd]
#                          [--dp [--fwd-first]] [--one-end] [--pair-offloads]
#                          [--no-pin] [--out FILE]
#
# Root only.  Everything lives in namespaces named pcdt<random>-*, a state
# folder under /run and a pin folder under /sys/fs/bpf, all removed on exit.
set -euo pipefail

SELF=$(readlink -f "$0")
REPO=$(dirname "$(dirname "$SELF")")
SECS=10 ROUNDS=3 BUILD=$REPO/build OUT='' FWD=0 OFFL=0 DP=0 FWD_FIRST=0 PIN_CPUS=1 ONE=0

die() { echo "dp_throughput.sh: $*" >&2; exit 1; }
log() { echo "dp_throughput.sh: $*" >&2; }

usage() {
	cat >&2 <<EOF
usage: bench/dp_throughput.sh [--seconds N] [--rounds N] [--build DIR] [--fwd]
                              [--dp [--fwd-first]] [--one-end] [--pair-offloads]
                              [--no-pin] [--out FILE]
  --seconds N   length of each iperf3 run (default 10)
  --rounds N    measure every configuration N times, interleaved (default 3)
  --build DIR   build folder with bin/portcullis-hook (and test/tools/pc-reflector
                for --fwd); default build/
  --fwd         also measure mode fwd through pc-reflector (informational)
  --dp          also measure tap and fwd with portcullis-dp running
  --fwd-first   with --dp: measure dp-fwd before dp-tap after the data plane starts
  --one-end     also measure tap on the sending container only (informational)
  --pair-offloads  also measure tap with the pair's offloads flipped (informational)
  --no-pin      let iperf3's client and server run on any CPU (default: client
                on CPU 0, server on CPU 1)
  --out FILE    also write the table to FILE
EOF
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--seconds) SECS=${2:?}; shift 2 ;;
	--rounds) ROUNDS=${2:?}; shift 2 ;;
	--build) BUILD=$(readlink -f "${2:?}"); shift 2 ;;
	--fwd) FWD=1; shift ;;
	--dp) DP=1; shift ;;
	--fwd-first) FWD_FIRST=1; shift ;;
	--one-end) ONE=1; shift ;;
	--pair-offloads) OFFL=1; shift ;;
	--no-pin) PIN_CPUS=0; shift ;;
	--out) OUT=${2:?}; shift 2 ;;
	*) usage ;;
	esac
done
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
[ "$(nproc)" -ge 2 ] || PIN_CPUS=0
SRV_CPU='' CLI_CPU='' PINNED="any CPU"
[ "$PIN_CPUS" = 0 ] || SRV_CPU="-A 1" CLI_CPU="-A 0" PINNED="client on CPU 0, server on CPU 1"
for c in iperf3 jq ip bpftool ethtool; do
	command -v "$c" >/dev/null || die "missing $c (apt-get install iperf3 jq iproute2 bpftool)"
done
HOOK=$BUILD/bin/portcullis-hook
[ -x "$HOOK" ] || die "no hook at $HOOK (cmake -S . -B build && cmake --build build)"
REFLECTOR=
if [ "$FWD" = 1 ]; then
	for r in "$BUILD/test/tools/pc-reflector" "${PORTCULLIS_TOOLS:-/nonexistent}/pc-reflector"; do
		[ -x "$r" ] && REFLECTOR=$r && break
	done
	[ -n "$REFLECTOR" ] || die "--fwd needs pc-reflector (build test/tools)"
fi

DPBIN=$BUILD/bin/portcullis-dp
[ "$DP" = 0 ] || [ -x "$DPBIN" ] || die "--dp needs $DPBIN"

. "$(dirname "$0")/lib.sh"
pair_setup pcdt

pair_offloads() {
	local d
	for d in vbr-neuv vth-neuv; do
		ip netns exec "$ENF" ethtool -K "$d" sg "$1" tx "$1" tso "$1" gso "$1" >/dev/null 2>&1 ||
			die "ethtool -K $d ... $1"
	done
}

# measure NAME: one iperf3 run c1 -> c2; appends "NAME gbps retransmits" to results.
measure() {
	local name=$1 j gbps rtx
	# shellcheck disable=SC2086 # -A N or nothing
	ip netns exec "$C2" iperf3 -s -1 -B 10.79.0.12 $SRV_CPU >/dev/null 2>&1 &
	local srv=$!
	for _ in $(seq 50); do
		ip netns exec "$C2" ss -Hltn 'sport = :5201' | grep -q . && break
		sleep 0.05
	done
	# shellcheck disable=SC2086
	j=$(ip netns exec "$C1" iperf3 -c 10.79.0.12 -t "$SECS" $CLI_CPU -J) ||
		die "iperf3 ($name) failed: $j"
	wait "$srv" 2>/dev/null || true
	gbps=$(jq '.end.sum_received.bits_per_second / 1e9' <<<"$j")
	rtx=$(jq '.end.sum_sent.retransmits // 0' <<<"$j")
	printf '%s %.3f %s %s\n' "$name" "$gbps" "$rtx" "${ROUND:-0}" >>"$WORK/results"
	log "$(printf '%-6s %7.3f Gbit/s  %s retransmits' "$name" "$gbps" "$rtx")"
}

# ---------------------------------------------------------------- rounds
dp_tap() {
	set_mode tap
	b0=$(stat bypassed) t0=$(stat tap_copies)
	measure dp-tap
	b1=$(stat bypassed) t1=$(stat tap_copies)
	[ $((b1 - b0)) -gt $((t1 - t0)) ] ||
		die "dp-tap: $((t1 - t0)) copies for $((b1 - b0)) bypassed frames: the session was not bypassed"
	log "dp-tap: $((b1 - b0)) frames bypassed, $((t1 - t0)) copied"
}

dp_fwd() {
	set_mode fwd
	f0=$(stat to_dp) b0=$(stat bypassed)
	measure dp-fwd
	[ "$(stat to_dp)" -gt "$f0" ] || die "dp-fwd: nothing was sent to the data plane"
	[ "$(stat bypassed)" -gt "$b0" ] || die "dp-fwd: the session was never bypassed"
}

log "warm-up (2 s, not counted)"
SECS_SAVED=$SECS SECS=2
measure warmup
SECS=$SECS_SAVED
: >"$WORK/results"
for ((r = 1; r <= ROUNDS; r++)); do
	ROUND=$r
	log "round $r of $ROUNDS"
	measure none
	pull
	p0=$(stat passed)
	measure pass
	[ "$(stat passed)" -gt "$p0" ] || die "pass: pc_stats passed did not grow"
	set_mode tap
	t0=$(stat tap_copies)
	measure tap
	[ "$(stat tap_copies)" -gt "$t0" ] || die "tap: no tap copies were made"
	if [ "$ONE" = 1 ]; then
		hook mode "$ID2" pass >/dev/null || die "mode pass for c2 failed"
		[ "$(hook status --json | jq -r '[.[].mode] | sort | join(",")')" = pass,tap ] ||
			die "tap-1: status does not show c1 in tap and c2 in pass"
		t0=$(stat tap_copies)
		measure tap-1
		[ "$(stat tap_copies)" -gt "$t0" ] || die "tap-1: no tap copies were made"
		set_mode tap
	fi
	if [ "$OFFL" = 1 ]; then
		PAIR_WAS=$(ip netns exec "$ENF" ethtool -k vbr-neuv | awk '$1 == "tcp-segmentation-offload:" {print $2}')
		PAIR_FLIP=$([ "$PAIR_WAS" = on ] && echo off || echo on)
		pair_offloads "$PAIR_FLIP"
		t0=$(stat tap_copies)
		measure tap+x
		[ "$(stat tap_copies)" -gt "$t0" ] || die "tap+x: no tap copies were made"
		pair_offloads "$PAIR_WAS"
	fi
	if [ "$FWD" = 1 ]; then
		"$REFLECTOR" -q -n "/run/netns/$ENF" -p "$PIN/$ENF/pc_dp" >"$WORK/refl.log" 2>&1 &
		rp=$!
		PIDS+=("$rp")
		for _ in $(seq 50); do grep -q ready "$WORK/refl.log" && break; sleep 0.05; done
		set_mode fwd
		f0=$(stat to_dp)
		measure fwd
		[ "$(stat to_dp)" -gt "$f0" ] || die "fwd: nothing was sent to the data plane"
		kill "$rp"; wait "$rp" || true
	fi
	if [ "$DP" = 1 ]; then
		dp_start
		if [ "$FWD_FIRST" = 1 ]; then dp_fwd; dp_tap; else dp_tap; dp_fwd; fi
		dp_stop
		log "$(grep 'worker [0-9]:' "$WORK/dp.log" | tr '\n' ' ')"
		jq '.bypass_after_kb = 0' "$CFG" >"$WORK/inline.json"
		dp_start "$WORK/inline.json"
		set_mode tap
		b0=$(stat bypassed) t0=$(stat tap_copies)
		measure dp-tap-all
		[ "$(stat tap_copies)" -gt "$t0" ] || die "dp-tap-all: no tap copies were made"
		[ "$(stat bypassed)" = "$b0" ] || die "dp-tap-all: frames were bypassed"
		set_mode fwd
		b0=$(stat bypassed) f0=$(stat to_dp)
		measure dp-fwd-inline
		[ "$(stat to_dp)" -gt "$f0" ] || die "dp-fwd-inline: nothing was sent to the data plane"
		[ "$(stat bypassed)" = "$b0" ] || die "dp-fwd-inline: frames were bypassed"
		dp_stop
	fi
	set_mode off
done

# ---------------------------------------------------------------- table
median() { sort -n | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# vals CONF [FIELD]: CONF's Gbit/s (or FIELD: 3 retransmits) of every round
vals() { awk -v c="$1" -v f="${2:-2}" '$1 == c {print $f}' "$WORK/results"; }
base=$(vals none | median)
# rratios CONF: each round's CONF / none
rratios() {
	awk -v c="$1" '$1 == "none" {b[$4] = $2} $1 == c {x[$4] = $2}
		END {for (r in x) if (r in b) printf "%.4f\n", x[r] / b[r]}' "$WORK/results"
}
# pratio CONF: median over rounds of that round's CONF / none
pratio() { rratios "$1" | median; }
# ci95: the rounds' values (stdin) at the two order statistics that bracket
# their median with at least 95% confidence, whatever their distribution
# (binomial, p = 1/2), as "lo hi"; "- -" for fewer than 6 rounds
ci95() {
	sort -n | awk '{v[NR] = $1}
		END {n = NR; k = 0; p = 0.5 ^ n; t = 0
			for (j = 0; j < n; j++) {
				if (j > 0) p = p * (n - j + 1) / j
				t += p
				if (2 * t > 0.05) break
				k = j + 1
			}
			if (k < 1) print "- -"; else print v[k], v[n - k + 1]}'
}
# verdict CONF TARGET: whether the rounds' ratios show CONF >= TARGET
verdict() {
	local m
	m=$(vals "$1" | median)
	echo "$m $base $1 $(pratio "$1") $(rratios "$1" | ci95) $2" | awk '
		{r = $1 / $2; lo = $5; hi = $6; t = $7
		printf "%s: %.2f of no interception (median of the rounds: %.2f", $3, r, $4
		if (lo == "-") {
			printf "), target >= %.2f: %s\n", t, (r >= t && $4 >= t ? "met" : "NOT met")
			next
		}
		printf ", 95%% interval %.3f-%.3f), target >= %.2f: %s\n", lo, hi, t,
			(lo >= t ? "met" : hi < t ? "NOT met" : "not settled at this noise: the interval spans it")}'
}
confs="none pass tap"
[ "$ONE" = 1 ] && confs="$confs tap-1"
[ "$OFFL" = 1 ] && confs="$confs tap+x"
[ "$FWD" = 1 ] && confs="$confs fwd"
[ "$DP" = 1 ] && confs="$confs dp-tap dp-tap-all dp-fwd dp-fwd-inline"
{
	echo "| configuration | Gbit/s (median of $ROUNDS) | per round | ratio to none (medians) | ratio to none (median of the rounds' ratios) | 95% interval of that median | retransmits (median) |"
	echo "|---|---:|---|---:|---:|---:|---:|"
	for c in $confs; do
		m=$(vals "$c" | median)
		all=$(awk -v c="$c" '$1 == c {printf "%s%s", sep, $2; sep = ", "}' "$WORK/results")
		rt=$(vals "$c" 3 | median)
		case $c in
		none) what="no interception" ;;
		pass) what="pass (bpf)" ;;
		tap) what="tap (bpf, no data plane${PAIR_WAS:+, pair offloads $PAIR_WAS})" ;;
		tap-1) what="tap on the sending container only, the other in pass (no data plane)" ;;
		tap+x) what="tap, vbr-neuv/vth-neuv offloads $PAIR_FLIP (hook: $PAIR_WAS)" ;;
		fwd) what="fwd (bpf, pc-reflector)" ;;
		dp-tap) what="tap, portcullis-dp inspecting (session bypass after 1 MiB, the default)" ;;
		dp-tap-all) what="tap, portcullis-dp inspecting every frame's copy (bypass_after_kb 0)" ;;
		dp-fwd) what="fwd through portcullis-dp (session bypass after 1 MiB, the default)" ;;
		dp-fwd-inline) what="fwd through portcullis-dp, every frame (bypass_after_kb 0)" ;;
		esac
		ci=$(rratios "$c" | ci95 | awk '$1 == "-" {print "-"; next} {printf "%.2f-%.2f\n", $1, $2}')
		printf '| %s | %.2f | %s | %.2f | %.2f | %s | %.0f |\n' "$what" "$m" "$all" "$(echo "$m $base" | awk '{print $1 / $2}')" "$(pratio "$c")" "$ci" "$rt"
	done
	verdict pass 0.90
	verdict tap 0.90
	if [ "$DP" = 1 ]; then
		verdict dp-tap 0.90
		verdict dp-fwd 0.50
	fi
	echo "($(uname -r), $(nproc) CPUs, iperf3 one TCP stream ($PINNED), ${SECS} s per run, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%d))"
} | tee "${OUT:-/dev/null}"
