#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Per-packet cost of the bridge_port (vbr-neuv) return path with 1 and with
# 1000 intercepted ports (see bench/README.md).  A small AF_PACKET sender
# (C, built here from the source below) writes N 60-byte frames into
# dp_port (vth-neuv) from the enforcer namespace, destination = the UCMAC
# of one real intercepted port in mode fwd: each crosses to vbr-neuv, is
# classified on its ingress, gets the container MAC back and is redirected
# out of the port's inPort into the container, whose stack drops it (an
# unused ethertype).  Measured, with the sender pinned to one CPU: its
# thread CPU time plus that CPU's ksoftirqd time, per frame; wall time too.
#
#   bpf 1       the hook's pc_bridge_ingress, one entry in pc_ucmacs
#   bpf 1000    the same, with 999 more UCMACs in pc_ucmacs (and 1998 more
#               pc_ports entries): fake entries, written with bpftool; the
#               return path does one hash lookup keyed by MAC, and fake
#               entries are what a real port adds to that map
#   u32 1       the tc-pedit backend's return-path shape on a pair of our
#               own in the enforcer: one u32 filter per port matching the
#               destination UCMAC, mirred redirect to the inPort.  pedit
#               cannot be loaded on this kernel, so it is without the MAC
#               rewrite: a lower bound for tc-pedit
#   u32 1000    999 more such filters, the target port's last (worst case:
#               the walk is linear)
#   floor       the frames into a bare veth pair: send + veth + drop, no
#               classifier, no redirect
# The bpf rows have one more figure, free of the network path's noise: the
# program alone under BPF_PROG_TEST_RUN (`bpftool prog run ... repeat N`)
# on a frame for a test entry whose container MAC is its own UCMAC (so the
# rewrite leaves the frame as it was and every repetition takes the same
# hit path: lookup, rewrite, redirect); "1 port" has the real and the test
# entry in pc_ucmacs there.
# Each measurement is the least of REPS bursts of FRAMES frames (other load
# on the machine only ever adds).  Rounds interleave the variants, 1 and
# 1000 ports back to back in alternating order; the ratio is the median of
# the rounds' ratios (the machine's speed drifts more between rounds than
# 1000 map entries could change), the costs are medians of the rounds.  Target for bpf:
# 1000-port / 1-port <= 1.1.
#
#   bench/dp_vbr_cost.sh [--frames N] [--reps N] [--rounds N] [--build DIR] [--cpu N]
#                        [--out FILE]
#
# Root only; namespaces pcvc<random>-*, folders under /run and
# /sys/fs/bpf, all removed on exit.  kernel.bpf_stats_enabled is turned on
# for the run (the bpf rows also show the program's own run time per
# frame) and put back.
set -euo pipefail

SELF=$(readlink -f "$0")
REPO=$(dirname "$(dirname "$SELF")")
FRAMES=50000 REPS=5 ROUNDS=9 BUILD=$REPO/build OUT= CPU=1 PORTS=1000

die() { echo "dp_vbr_cost.sh: $*" >&2; exit 1; }
log() { echo "dp_vbr_cost.sh: $*" >&2; }

usage() {
	cat >&2 <<EOF
usage: bench/dp_vbr_cost.sh [--frames N] [--reps N] [--rounds N] [--build DIR] [--cpu N]
                            [--out FILE]
  --frames N   frames per burst (default 50000)
  --reps N     bursts per measurement, the least counts (default 5)
  --rounds N   rounds of all variants, interleaved (default 9)
  --build DIR  build folder with bin/portcullis-hook (default build/)
  --cpu N      CPU the sender is pinned to (default 1)
  --out FILE   also write the table to FILE
EOF
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--frames) FRAMES=${2:?}; shift 2 ;;
	--reps) REPS=${2:?}; shift 2 ;;
	--rounds) ROUNDS=${2:?}; shift 2 ;;
	--build) BUILD=$(readlink -f "${2:?}"); shift 2 ;;
	--cpu) CPU=${2:?}; shift 2 ;;
	--out) OUT=${2:?}; shift 2 ;;
	*) usage ;;
	esac
done
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
for c in jq ip tc bpftool cc; do
	command -v "$c" >/dev/null || die "missing $c (apt-get install jq iproute2 bpftool gcc)"
done
HOOK=$BUILD/bin/portcullis-hook
[ -x "$HOOK" ] || die "no hook at $HOOK (cmake -S . -B build && cmake --build build)"

TAG=pcvc$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
HOST=$TAG-host C1=$TAG-c1 ENF=$TAG-enf
WORK=$(mktemp -d "/run/$TAG.XXXXXX")
PIN=/sys/fs/bpf/$TAG
CFG=$WORK/config.json
PIDS=()
STATS_WAS=$(cat /proc/sys/kernel/bpf_stats_enabled)

cleanup() {
	set +e
	echo "$STATS_WAS" >/proc/sys/kernel/bpf_stats_enabled
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for ns in "$C1" "$ENF" "$HOST"; do
		[ -e "/run/netns/$ns" ] || continue
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$PIN" "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- the sender
cat >"$WORK/send.c" <<'EOF'
/* send IFNAME DST_MAC COUNT CPU: COUNT 60-byte frames (ethertype 0x88b5)
 * to DST_MAC out of IFNAME, sendmmsg batches, qdisc bypassed; prints
 * "sent= wall_ns= cpu_ns=" (cpu: this thread). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static unsigned long long ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return t.tv_sec * 1000000000ULL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	unsigned char f[60] = { 0 };
	struct mmsghdr m[256];
	struct iovec iov = { f, sizeof(f) };
	unsigned long long count, sent = 0, w0, c0;
	cpu_set_t set;
	int fd, one = 1;

	if (argc != 5)
		return 2;
	CPU_ZERO(&set);
	CPU_SET(atoi(argv[4]), &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		perror("sched_setaffinity");
	if (sscanf(argv[2], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", f, f + 1, f + 2, f + 3, f + 4, f + 5) != 6)
		return 2;
	memcpy(f + 6, "\x06\xbe\x00\x00\x00\x01\x88\xb5", 8);
	count = strtoull(argv[3], NULL, 10);
	sll.sll_ifindex = if_nametoindex(argv[1]);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0 || !sll.sll_ifindex || bind(fd, (void *)&sll, sizeof(sll)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0) {
		perror(argv[1]);
		return 1;
	}
	memset(m, 0, sizeof(m));
	for (int i = 0; i < 256; i++) {
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
	}
	w0 = ns(CLOCK_MONOTONIC);
	c0 = ns(CLOCK_THREAD_CPUTIME_ID);
	while (sent < count) {
		int n = count - sent < 256 ? (int)(count - sent) : 256;
		int r = sendmmsg(fd, m, n, 0);

		if (r < 0 && errno != ENOBUFS && errno != EAGAIN) {
			perror("sendmmsg");
			return 1;
		}
		sent += r > 0 ? r : 0;
	}
	printf("sent=%llu wall_ns=%llu cpu_ns=%llu\n", sent, ns(CLOCK_MONOTONIC) - w0,
	       ns(CLOCK_THREAD_CPUTIME_ID) - c0);
	return 0;
}
EOF
cc -O2 -Wall -o "$WORK/send" "$WORK/send.c" || die "cannot build the sender"

. "$(dirname "$0")/lib.sh"

# ---------------------------------------------------------------- set-up
host_bridge "$HOST" 10.79.1.1/24
ip netns add "$C1"
ip -n "$C1" link set lo up
ip -n "$HOST" link add h1 type veth peer name eth0 netns "$C1"
ip -n "$HOST" link set h1 master br0 up
ip -n "$C1" addr add 10.79.1.11/24 dev eth0
ip -n "$C1" link set eth0 up
ip netns exec "$C1" sleep 100000 </dev/null >/dev/null 2>&1 &
PID1=$!
PIDS+=("$PID1")
in_netns "$PID1" "$C1"
printf '{"enforcer_netns": "/run/netns/%s", "state_dir": "%s/state", "bpf_pin_dir": "%s",
 "backend": "bpf", "mode": "fwd", "dp_down": "open", "on_failure": "closed", "log_level": "warn"}\n' \
	"$ENF" "$WORK" "$PIN" >"$CFG"
printf '{"ociVersion":"1.0.2","id":"%s-c1","status":"creating","pid":%d}' "$TAG" "$PID1" |
	"$HOOK" --config "$CFG" prestart || die "prestart failed"
ST=$("$HOOK" --config "$CFG" status --json)
[ "$(jq -r '.[0].backend' <<<"$ST")/$(jq -r '.[0].mode' <<<"$ST")" = bpf/fwd ] ||
	die "the hook does not run backend bpf, mode fwd here: $(jq -c '[.[] | {backend, mode}]' <<<"$ST")"
UCMAC=$(jq -r '.[0].ports[0].ucmac' <<<"$ST")
VIN=$(jq -r '.[0].ports[0].in_name' <<<"$ST")
MAPS=$PIN/$ENF
PROG_ID=$(bpftool prog show pinned "$MAPS/pc_bridge_ingress" -j | jq .id)
log "port $VIN, UCMAC $UCMAC, pc_bridge_ingress id $PROG_ID"

# the u32 pair and the floor pair, in the enforcer
ip -n "$ENF" link add vbu type veth peer name vtu
ip -n "$ENF" link add vbf type veth peer name vtf
for d in vbu vtu vbf vtf; do ip -n "$ENF" link set "$d" up; done
tc -n "$ENF" qdisc add dev vbu ingress

hexmac() { echo "${1//:/ }"; }
le32() { printf '%02x %02x %02x %02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }
fake_mac() { printf '06:fa:%02x:%02x:%02x:%02x' $((($1 >> 24) & 255)) $((($1 >> 16) & 255)) $((($1 >> 8) & 255)) $(($1 & 255)); }

# bpftool batch files adding / deleting PORTS-1 fake ports
IN_IDX=$(jq -r '.[0].ports[0].in_ifindex' <<<"$ST")
for ((i = 1; i < PORTS; i++)); do
	m=$(hexmac "$(fake_mac "$i")")
	in=$((3000000 + 2 * i)) ex=$((3000001 + 2 * i))
	# struct pc_ucmac: in, ex, mode (fwd = 3), ctr_mac, pad
	echo "map update pinned $MAPS/pc_ucmacs key hex $m 00 00 value hex $(le32 $in) $(le32 $ex) 03 00 00 00 02 00 00 00 00 01 00 00" >>"$WORK/add"
	# struct pc_port: peer, side, mode, ctr_mac, ucmac
	echo "map update pinned $MAPS/pc_ports key hex $(le32 $in) value hex $(le32 $ex) 01 00 00 00 03 00 00 00 02 00 00 00 00 01 $m" >>"$WORK/add"
	echo "map update pinned $MAPS/pc_ports key hex $(le32 $ex) value hex $(le32 $in) 02 00 00 00 03 00 00 00 02 00 00 00 00 01 $m" >>"$WORK/add"
	echo "map delete pinned $MAPS/pc_ucmacs key hex $m 00 00" >>"$WORK/del"
	echo "map delete pinned $MAPS/pc_ports key hex $(le32 $in)" >>"$WORK/del"
	echo "map delete pinned $MAPS/pc_ports key hex $(le32 $ex)" >>"$WORK/del"
done
# u32 filters: PORTS-1 for other UCMACs, then the target's (walked last)
u32_line() { # MAC
	local h=${1//:/}
	# u32 keys are 4-byte aligned: bytes 0-1 of the MAC at -14, 2-5 at -12
	echo "filter add dev vbu ingress pref 1 protocol all u32 match u16 0x${h:0:4} 0xffff at -14 match u32 0x${h:4:8} 0xffffffff at -12 action mirred egress redirect dev $VIN"
}
for ((i = 1; i < PORTS; i++)); do u32_line "$(fake_mac "$i")"; done >"$WORK/u32.many"
u32_line "$UCMAC" >"$WORK/u32.one"

set_ports() { # bpf|u32 1|many
	case $1/$2 in
	bpf/1) [ "$(bpftool map dump pinned "$MAPS/pc_ucmacs" -j | jq length)" = 2 ] ||
		bpftool batch file "$WORK/del" >/dev/null ;;
	bpf/many) bpftool batch file "$WORK/add" >/dev/null ;;
	u32/1)
		tc -n "$ENF" filter del dev vbu ingress 2>/dev/null || true
		tc -n "$ENF" -batch "$WORK/u32.one" ;;
	u32/many)
		tc -n "$ENF" filter del dev vbu ingress 2>/dev/null || true
		tc -n "$ENF" -batch "$WORK/u32.many"
		tc -n "$ENF" -batch "$WORK/u32.one" ;;
	esac
}

stat() { pc_stat "$MAPS" "$1"; }
# the test entry and frame for prog_run
TEST_MAC=06:fb:00:00:00:01
echo "map update pinned $MAPS/pc_ucmacs key hex $(hexmac $TEST_MAC) 00 00 value hex $(le32 "$IN_IDX") $(le32 3999999) 03 00 00 00 $(hexmac $TEST_MAC) 00 00" >"$WORK/testentry"
printf "$(echo "$TEST_MAC 06:be:00:00:00:01 88:b5" | sed -E 's/([0-9a-f]{2})/\\x\1/g; s/[: ]//g')" >"$WORK/frame.bin"
head -c 46 /dev/zero >>"$WORK/frame.bin"
bpftool batch file "$WORK/testentry" >/dev/null
# prog_run: ns per run of pc_bridge_ingress on frame.bin (TEST_RUN, 1e6 repetitions)
prog_run() {
	local j i
	for ((i = 0; i < REPS; i++)); do
		j=$(bpftool prog run pinned "$MAPS/pc_bridge_ingress" data_in "$WORK/frame.bin" repeat 200000 -j) ||
			die "bpftool prog run failed"
		[ "$(jq .retval <<<"$j")" = 7 ] ||
			die "pc_bridge_ingress returned $(jq .retval <<<"$j") on the test frame, not TC_ACT_REDIRECT"
		jq .duration <<<"$j"
	done | sort -n | head -n 1
}
prog_stats() { bpftool prog show id "$PROG_ID" -j | jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"'; }
mirred_pkts() { tc -n "$ENF" -s -j filter show dev vbu ingress | jq '[.. | objects | select(.kind? == "mirred") | .stats.packets // 0] | add // 0'; }
ksoftirqd_ns() { awk '{print $1}' "/proc/$(pgrep -x "ksoftirqd/$CPU")/schedstat"; }

# run NAME DEV DST: one measurement; appends "NAME cpu_ns/frame wall_ns/frame prog_ns/frame".
# run_once NAME DEV DST: one burst of FRAMES; prints "cpu wall prog" per frame.
run_once() {
	local name=$1 dev=$2 dst=$3 out k0 k1 p0 p1 s0 s1 c0 c1 m0 m1 cpu wall prog=-
	k0=$(ksoftirqd_ns)
	read -r p0 s0 < <(prog_stats)
	c0=$(stat from_dp_to_ctr)
	m0=$(mirred_pkts)
	out=$(ip netns exec "$ENF" "$WORK/send" "$dev" "$dst" "$FRAMES" "$CPU") || die "sender failed on $dev"
	k1=$(ksoftirqd_ns)
	read -r p1 s1 < <(prog_stats)
	c1=$(stat from_dp_to_ctr)
	m1=$(mirred_pkts)
	eval "$out" # sent= wall_ns= cpu_ns=
	[ "$sent" = "$FRAMES" ] || die "$name: sent $sent of $FRAMES"
	case $name in
	bpf*) [ $((c1 - c0)) -eq "$FRAMES" ] || die "$name: pc_stats from_dp_to_ctr grew by $((c1 - c0)), not $FRAMES"
		[ $((s1 - s0)) -gt 0 ] && prog=$(echo "$p0 $p1 $s0 $s1" | awk '{printf "%.1f", ($2 - $1) / ($4 - $3)}') ;;
	u32*) [ $((m1 - m0)) -eq "$FRAMES" ] || die "$name: mirred redirected $((m1 - m0)), not $FRAMES" ;;
	esac
	cpu=$(echo "$cpu_ns $k0 $k1 $FRAMES" | awk '{printf "%.1f", ($1 + $3 - $2) / $4}')
	wall=$(echo "$wall_ns $FRAMES" | awk '{printf "%.1f", $1 / $2}')
	echo "$cpu $wall $prog"
}

# run NAME DEV DST: REPS bursts; the least of each figure (interference
# only ever adds) goes to the results as "NAME cpu wall prog round".
run() {
	local i best
	best=$(for ((i = 0; i < REPS; i++)); do run_once "$@" || exit 1; done |
		awk 'NR == 1 {c = $1; w = $2; p = $3}
		     {if ($1 < c) c = $1; if ($2 < w) w = $2; if ($3 != "-" && (p == "-" || $3 < p)) p = $3}
		     END {print c, w, p}')
	[ -n "$best" ] || die "$1: no measurement"
	echo "$1 $best ${ROUND:-0}" >>"$WORK/results"
	log "$(printf '%-9s %7s ns CPU/frame  %7s ns wall/frame  prog %s ns  (least of %s)' "$1" $best "$REPS")"
}

echo 1 >/proc/sys/kernel/bpf_stats_enabled
log "warm-up"
FR=$FRAMES
FRAMES=20000
run warmup vth-neuv "$UCMAC"
FRAMES=$FR
: >"$WORK/results"
# one variant: bpf|u32 1|many
variant() {
	set_ports "$1" "$2"
	if [ "$1/$2" = bpf/many ]; then
		[ "$(bpftool map dump pinned "$MAPS/pc_ucmacs" -j | jq length)" = $((PORTS + 1)) ] ||
			die "pc_ucmacs does not hold $PORTS entries and the test entry"
	fi
	case $1 in
	bpf)
		run "bpf-${2/many/$PORTS}" vth-neuv "$UCMAC"
		echo "trun-${2/many/$PORTS} $(prog_run) - - $ROUND" >>"$WORK/results" ;;
	u32) run "u32-${2/many/$PORTS}" vtu "$UCMAC" ;;
	esac
}
for ((r = 1; r <= ROUNDS; r++)); do
	ROUND=$r
	log "round $r of $ROUNDS ($FRAMES frames each)"
	run floor vtf "$UCMAC"
	# 1 and many back to back, in alternating order: the machine's speed
	# drifts, and each round's ratio is taken from a neighbouring pair
	if ((r % 2)); then
		variant bpf 1; variant bpf many; set_ports bpf 1
		variant u32 1; variant u32 many
	else
		variant bpf many; set_ports bpf 1; variant bpf 1
		variant u32 many; variant u32 1
	fi
done
echo "$STATS_WAS" >/proc/sys/kernel/bpf_stats_enabled

# ---------------------------------------------------------------- table
med() { # NAME COLUMN
	awk -v n="$1" -v c="$2" '$1 == n && $c != "-" {print $c}' "$WORK/results" | sort -n |
		awk '{v[NR] = $1} END {if (!NR) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
ratio() { echo "$1 $2" | awk '{printf "%.2f", $1 / $2}'; }
# pratio KIND COLUMN: median over rounds of that round's KIND-many / KIND-1
pratio() {
	awk -v a="$1-$PORTS" -v b="$1-1" -v c="$2" '
		$1 == a && $c != "-" {x[$5] = $c} $1 == b && $c != "-" {y[$5] = $c}
		END {for (r in x) if (r in y) printf "%.4f\n", x[r] / y[r]}' "$WORK/results" | sort -n |
		awk '{v[NR] = $1} END {if (!NR) print "-"; else if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
F=$(med floor 2)
{
	echo "| return path | intercepted ports | CPU ns/frame (median of $ROUNDS) | above floor | wall ns/frame | program ns/frame | ratio $PORTS/1 (CPU, median of the rounds' ratios) |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	printf '| floor: bare veth pair, no classifier | - | %s | - | %s | - | - |\n' "$F" "$(med floor 3)"
	for k in bpf u32; do
		one=$(med "$k-1" 2)
		many=$(med "$k-$PORTS" 2)
		case $k in
		bpf) what="bpf: pc_bridge_ingress, one hash lookup" ;;
		u32) what="u32 + mirred per port (tc-pedit shape, no pedit)" ;;
		esac
		printf '| %s | 1 | %s | %s | %s | %s | |\n' "$what" "$one" \
			"$(echo "$one $F" | awk '{printf "%.1f", $1 - $2}')" "$(med "$k-1" 3)" "$(med "$k-1" 4)"
		printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$what" "$PORTS" "$many" \
			"$(echo "$many $F" | awk '{printf "%.1f", $1 - $2}')" "$(med "$k-$PORTS" 3)" \
			"$(med "$k-$PORTS" 4)" "$(pratio "$k" 2)"
	done
	printf '| bpf program alone, BPF_PROG_TEST_RUN | 1 | - | - | - | %s | |\n' "$(med trun-1 2)"
	printf '| bpf program alone, BPF_PROG_TEST_RUN | %s | - | - | - | %s | %s |\n' "$PORTS" "$(med "trun-$PORTS" 2)" "$(pratio trun 2)"
	r=$(pratio bpf 2)
	echo "bpf: $PORTS-port / 1-port = $r (CPU per frame), $(pratio bpf 4) (the program's own run time), $(pratio trun 2) (the program alone, TEST_RUN); ratio of the medians $(ratio "$(med "bpf-$PORTS" 2)" "$(med bpf-1 2)"); target <= 1.1: $(awk -v r="$r" 'BEGIN {print (r <= 1.1 ? "met" : "NOT met")}')"
	echo "u32: $PORTS-port / 1-port = $(pratio u32 2) (CPU per frame)"
	echo "($(uname -r), $(nproc) CPUs, least of $REPS bursts of $FRAMES 60-byte frames per measurement, sender on CPU $CPU, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%d))"
} | tee "${OUT:-/dev/null}"
