# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# The test tools (test/tools/): pc-sniff, a frame counter and printer on
# an interface of a namespace, pc-reflector, a test data plane on the
# enforcer's dp_port that sends every frame back, and pc-frame, which
# sends crafted frames (what a hostile container would).  ti_tools_init finds or
# builds them; a test that uses them calls it after ti_dpath_init.

ti_lib_needs core dpath

# PC_SNIFF, PC_REFLECTOR and PC_FRAME: from $PORTCULLIS_TOOLS, else the
# build next to the hook (build/test/tools), else compiled from test/tools/
# into TI_TMP.
ti_tools_init() {
	local d src=$TI_ROOT/test/tools t
	for d in "${PORTCULLIS_TOOLS:-}" "$(dirname "$HOOK")/../test/tools"; do
		if [ -n "$d" ] && [ -x "$d/pc-sniff" ] && [ -x "$d/pc-reflector" ] && [ -x "$d/pc-frame" ]; then
			PC_SNIFF=$d/pc-sniff
			PC_REFLECTOR=$d/pc-reflector
			PC_FRAME=$d/pc-frame
			return
		fi
	done
	command -v cc >/dev/null || ti_skip "pc-sniff/pc-reflector/pc-frame not built and no cc"
	for t in pc-sniff pc-reflector pc-frame; do
		cc -O2 -Wall -D_GNU_SOURCE -I"$TI_ROOT" -o "$TI_TMP/$t" "$src/$t.c" -lbpf \
			2>"$TI_TMP/$t.cc" || { cat "$TI_TMP/$t.cc" >&2; ti_fail "cannot build $t"; }
	done
	PC_SNIFF=$TI_TMP/pc-sniff
	PC_REFLECTOR=$TI_TMP/pc-reflector
	PC_FRAME=$TI_TMP/pc-frame
}

# ti_sniff_start NETNS_NAME IFNAME OUT [pc-sniff args]: pid in TI_SNIFF_PID.
ti_sniff_start() {
	local ns=$1 dev=$2 out=$3
	shift 3
	"$PC_SNIFF" -n "/run/netns/$ns" -i "$dev" "$@" >"$out" 2>"$out.err" </dev/null &
	TI_SNIFF_PID=$!
	TI_PIDS+=("$TI_SNIFF_PID")
	ti_wait_line "$out" '^# pc-sniff: listening' 5 "pc-sniff on $dev in $ns"
}

# ti_sniff_stop PID OUT: stop it, check it summed up; summary in
# TI_SNIFF_SUMMARY.
ti_sniff_stop() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	TI_SNIFF_SUMMARY=$(grep '^# pc-sniff: frames=' "$2") ||
		{ cat "$2.err" >&2; ti_fail "pc-sniff ($2) ended without its summary"; }
}

# ti_sniff_sum KEY: value of KEY=N in TI_SNIFF_SUMMARY.
ti_sniff_sum() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$TI_SNIFF_SUMMARY"; }

# ti_sniff_tcp_keys FILE PORT SEL: the TCP frames of pc-sniff output FILE to
# or from PORT, as "saddr sport daddr dport flags seq ack plen" lines, sorted.
# SEL is an awk condition over $1 (dir), $2 (src MAC), $3 (dst MAC).
ti_sniff_tcp_keys() {
	awk -v port="$2" '
		$1 !~ /^#/ && $5 == "tcp" && ($7 == port || $9 == port) && ('"$3"') {
			f = s = a = p = "-"
			for (i = 10; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[1] == "flags") f = kv[2]
				else if (kv[1] == "seq") s = kv[2]
				else if (kv[1] == "ack") a = kv[2]
				else if (kv[1] == "plen") p = kv[2]
			}
			print $6, $7, $8, $9, f, s, a, p
		}' "$1" | sort
}

# ti_sniff_tcp_canon IN_A IN_B OUT_A OUT_B: two ti_sniff_tcp_keys lists in a
# form that does not depend on segmentation (a GSO super-frame on one side
# may be MSS-sized segments on the other): frames without payload stay as they
# are; payload ranges are grouped by flow and ack, split at every boundary
# either side has in that group, and printed one piece a line (sequence
# numbers relative to the group's first, so that a wrap does not matter).
# Equal outputs mean every byte range was seen as often on both sides.
ti_sniff_tcp_canon() {
	awk -v outa="$3" -v outb="$4" '
		# signed distance of sequence number s from the first one of group g
		function dist(s, g,  d) {
			d = (s - first[g] + 4294967296) % 4294967296
			return d >= 2147483648 ? d - 4294967296 : d
		}
		{
			side = (FILENAME == ARGV[1]) ? "a" : "b"
			out = side == "a" ? outa : outb
			if ($8 == 0) { print "ctl", $0 > out; next }
			g = $1 " " $2 " " $3 " " $4 " ack " $7
			if (!(g in first)) { first[g] = $6; low[g] = 0 }
			n++
			fs[n] = side; fg[n] = g; fb[n] = dist($6, g); fe[n] = fb[n] + $8
			if (fb[n] < low[g]) low[g] = fb[n]
		}
		END {
			for (i = 1; i <= n; i++) {
				g = fg[i]; fb[i] -= low[g]; fe[i] -= low[g]
				cuts[g, fb[i]] = 1; cuts[g, fe[i]] = 1
			}
			for (k in cuts) { split(k, p, SUBSEP); list[p[1]] = list[p[1]] " " p[2] }
			for (g in list) {
				m = split(list[g], c, " ")
				# sort the cut points of this group (insertion sort, small)
				for (i = 2; i <= m; i++) { v = c[i] + 0; j = i - 1
					while (j >= 1 && c[j] + 0 > v) { c[j + 1] = c[j]; j-- }
					c[j + 1] = v }
				for (i = 1; i <= m; i++) cs[g, i] = c[i] + 0
				cn[g] = m
			}
			for (i = 1; i <= n; i++) {
				g = fg[i]; out = fs[i] == "a" ? outa : outb
				for (j = 1; j < cn[g]; j++)
					if (cs[g, j] >= fb[i] && cs[g, j + 1] <= fe[i])
						printf "data %s %.0f %.0f\n", g, cs[g, j], cs[g, j + 1] > out
			}
		}' "$1" "$2"
	sort -o "$3" "$3"
	sort -o "$4" "$4"
}

# ti_reflector_start [pc-reflector args]: on the enforcer's dp_port with
# the heartbeat in this run's pc_dp (bpf; tc-pedit has no heartbeat); pid
# in TI_REFL_PID, log in TI_REFL_LOG.
TI_REFL_N=0
ti_reflector_start() {
	TI_REFL_N=$((TI_REFL_N + 1))
	TI_REFL_LOG=$TI_TMP/reflector.$TI_REFL_N.log
	local hb=()
	[ "$TI_DPATH_BACKEND" = bpf ] && hb=(-p "$(ti_dpath_pin)/pc_dp")
	"$PC_REFLECTOR" -n "$TI_ENF" "${hb[@]}" "$@" >"$TI_REFL_LOG" 2>&1 </dev/null &
	TI_REFL_PID=$!
	TI_PIDS+=("$TI_REFL_PID")
	ti_wait_line "$TI_REFL_LOG" '^pc-reflector: ready' 5 "pc-reflector"
	ti_log "pc-reflector${*:+ $*} running (pid $TI_REFL_PID)"
}

# ti_reflector_stop: SIGTERM, exit 0 and its counters line; counters in
# TI_REFL_COUNTS.
ti_reflector_stop() {
	local rc=0
	kill -TERM "$TI_REFL_PID" 2>/dev/null || true
	wait "$TI_REFL_PID" 2>/dev/null || rc=$?
	TI_REFL_COUNTS=$(grep '^pc-reflector: rx=' "$TI_REFL_LOG") || {
		cat "$TI_REFL_LOG" >&2
		ti_fail "pc-reflector ended without its counters (exit $rc)"
	}
	[ "$rc" -eq 0 ] || { cat "$TI_REFL_LOG" >&2; ti_fail "pc-reflector exit $rc on SIGTERM"; }
	ti_log "${TI_REFL_COUNTS}"
}

# ti_reflector_count KEY: value of KEY=N in TI_REFL_COUNTS.
ti_reflector_count() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<" $TI_REFL_COUNTS"; }
