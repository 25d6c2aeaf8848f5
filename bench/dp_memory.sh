#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Memory of the data plane with many live sessions (see bench/README.md):
# portcullis-dp in fwd mode on two intercepted containers; c1 sends UDP
# datagrams to many ports of c2 (python3), each a new session at both
# containers' ports, until portcullisctl status counts N live sessions.
# Prints portcullis-dp's resident set (VmRSS, VmHWM from /proc) with no
# session and with N, and the bytes per session.  Target: under 64 MiB for
# the whole process at 100,000 sessions.
#
#   bench/dp_memory.sh [--sessions N] [--build DIR] [--out FILE]
#
# Root only; namespaces pcdm<random>-*, removed on exit.
set -euo pipefail

SELF=$(readlink -f "$0")
REPO=$(dirname "$(dirname "$SELF")")
N=100000 BUILD=$REPO/build OUT=

die() { echo "dp_memory.sh: $*" >&2; exit 1; }
log() { echo "dp_memory.sh: $*" >&2; }
while [ $# -gt 0 ]; do
	case $1 in
	--sessions) N=${2:?}; shift 2 ;;
	--build) BUILD=$(readlink -f "${2:?}"); shift 2 ;;
	--out) OUT=${2:?}; shift 2 ;;
	*) echo "usage: bench/dp_memory.sh [--sessions N] [--build DIR] [--out FILE]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
for c in python3 jq ip bpftool; do command -v "$c" >/dev/null || die "missing $c"; done
HOOK=$BUILD/bin/portcullis-hook DPBIN=$BUILD/bin/portcullis-dp CTL=$BUILD/bin/portcullisctl
[ -x "$HOOK" ] && [ -x "$DPBIN" ] && [ -x "$CTL" ] || die "build first"

. "$(dirname "$0")/lib.sh"
pair_setup pcdm

rss() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$DP_PID/status"; } # kB
live() { "$CTL" --config "$CFG" --json status | jq '.sessions'; }

pull
set_mode fwd
dp_start
sleep 0.5
RSS0=$(rss VmRSS)
log "no session: VmRSS $RSS0 kB"

# each datagram is a session at c1's port and one at c2's: N/2 datagrams,
# sent in batches so the data plane's queues keep up; ports not listening
# answer with ICMP errors, which are one session per pair of addresses
batch=0
while [ "$(live)" -lt "$N" ]; do
	[ "$batch" -lt 40 ] || die "only $(live) live sessions after $batch batches"
	ip netns exec "$C1" python3 -c '
import socket, sys
first, count = int(sys.argv[1]), int(sys.argv[2])
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(4)]
for i in range(first, first + count):
    socks[i % 4].sendto(b"x", ("10.79.0.12", 1024 + (i // 4) % 64000))
' $((batch * 10000)) 10000
	batch=$((batch + 1))
	sleep 0.3
done
L=$(live)
RSS1=$(rss VmRSS) HWM=$(rss VmHWM)
dp_stop
{
	echo "| portcullis-dp | live sessions | VmRSS | VmHWM |"
	echo "|---|---:|---:|---:|"
	echo "$RSS0" | awk '{printf "| idle | 0 | %.1f MiB | |\n", $1 / 1024}'
	echo "$L $RSS1 $HWM" | awk '{printf "| loaded | %d | %.1f MiB | %.1f MiB |\n", $1, $2 / 1024, $3 / 1024}'
	echo "$RSS0 $RSS1 $L $N" | awk '{per = ($2 - $1) * 1024 / $3; r = ($1 * 1024 + per * $4) / 1048576;
		printf "%.0f bytes per session; at %d sessions %.1f MiB, target < 64 MiB: %s\n", per, $4, r, (r < 64 ? "met" : "NOT met")}'
	echo "($(uname -r), $(nproc) CPUs, 2 workers, ring 32 x 256 KiB per worker, $(date -u +%Y-%m-%d))"
} | tee "${OUT:-/dev/null}"
