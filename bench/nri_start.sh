#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Pod start-up on a Kubernetes node, through CRI, with portcullis-nri and
# without: the private containerd 1.7 of the NRI tests
# (test/integration/lib/containerd.sh), portcullis-dp running, mode fwd.
#
#   single   one pod at a time, from RunPodSandbox to its one container's
#            StartContainer returning; median of RUNS (default 20) each way
#   burst    BURST pods (default 30) created at once, a CRI call each in
#            parallel, until the last container has started; ROUNDS
#            (default 3) each way, median
#
# With and without alternate in blocks of 5 single starts, and burst by
# burst, so that both see the same machine: "without" is the plugin
# stopped (SIGTERM: the runtime carries on without it), "with" is the
# plugin started again (and past its Synchronize).  Every pod is stopped
# and removed before the next block.
#
#   bench/nri_start.sh [--runs N] [--burst N] [--rounds N] [--build DIR]
#
# Root only; containerd, its pods, the enforcer and everything else this
# makes are named after the run and removed on exit.
set -euo pipefail

SELF=$(readlink -f "$0")
REPO=$(dirname "$(dirname "$SELF")")
RUNS=20 BURST=30 ROUNDS=3 BUILD=$REPO/build
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=$2; shift 2 ;;
	--burst) BURST=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--build) BUILD=$2; shift 2 ;;
	*) echo "usage: bench/nri_start.sh [--runs N] [--burst N] [--rounds N] [--build DIR]" >&2
	   exit 2 ;;
	esac
done
for v in "$RUNS" "$BURST" "$ROUNDS"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || { echo "nri_start.sh: counts are positive integers" >&2; exit 2; }
done
[ $((RUNS % 5)) -eq 0 ] || { echo "nri_start.sh: --runs: a multiple of 5" >&2; exit 2; }
export PORTCULLIS_HOOK=$BUILD/bin/portcullis-hook

. "$REPO/test/integration/lib/core.sh"
. "$REPO/test/integration/lib/containerd.sh"
. "$REPO/test/integration/lib/nri.sh"

nri_init
nri_config fwd closed
nri_dp_start
NS=bench-$TI_ID
CMD=(sleep 3600)
plugin_on=0
plugin() { # on|off
	if [ "$1" = on ] && [ "$plugin_on" = 0 ]; then
		nri_start
		plugin_on=1
	elif [ "$1" = off ] && [ "$plugin_on" = 1 ]; then
		nri_stop
		plugin_on=0
	fi
}
cri() { nri_cri_long "$@" || ti_fail "CRI client: $*"; }

with=() without=()
for ((b = 0; b < RUNS / 5; b++)); do
	for kind in without with; do
		[ "$kind" = with ] && plugin on || plugin off
		out=$(cri startup 5 "s$b$kind-$TI_ID" "$NS" "$CD_IMAGE" "${CMD[@]}")
		mapfile -t -O "$(eval "echo \${#$kind[@]}")" "$kind" < <(jq -r '.ms[]' <<<"$out")
	done
done
burst_with=() burst_without=()
for ((r = 0; r < ROUNDS; r++)); do
	for kind in without with; do
		[ "$kind" = with ] && plugin on || plugin off
		out=$(cri burst "$BURST" "b$r$kind-$TI_ID" "$NS" "$CD_IMAGE" "${CMD[@]}")
		eval "burst_$kind+=($(jq -r .ms <<<"$out"))"
	done
done
# every pod started with the plugin, and none of the others, was
# intercepted (the plugin logs each)
want=$((RUNS + BURST * ROUNDS))
n=$(cat "$TI_TMP"/nri.*.log | grep -c '): intercepted, mode fwd' || true)
[ "$n" -eq "$want" ] || ti_fail "$n pods were intercepted by the plugin, not $want"

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
m0=$(median "${without[@]}") m1=$(median "${with[@]}")
b0=$(median "${burst_without[@]}") b1=$(median "${burst_with[@]}")
printf '\n| pod start (CRI, containerd %s) | without plugin | with portcullis-nri | ratio |\n' "$CD_VERSION"
printf '|---|---|---|---|\n'
awk -v a="$m0" -v b="$m1" -v n="$RUNS" 'BEGIN { printf "| one pod + container, median of %d | %.0f ms | %.0f ms | %.2fx |\n", n, a, b, b / a }'
awk -v a="$b0" -v b="$b1" -v n="$BURST" -v r="$ROUNDS" 'BEGIN { printf "| %d pods at once, all running, median of %d | %.0f ms | %.0f ms | %.2fx |\n", n, r, a, b, b / a }'
echo "single without: ${without[*]}"
echo "single with:    ${with[*]}"
echo "burst without:  ${burst_without[*]}"
echo "burst with:     ${burst_with[*]}"
