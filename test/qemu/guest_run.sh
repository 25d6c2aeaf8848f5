#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs the tests of the QEMU guest of test/qemu/run.sh (its /init calls it):
# first the checks of test/qemu/guest_test.sh that only this backend has
# (act_pedit autoload, the u32 layout, ...), then the data-path integration
# tests test/integration/test_dpath_*.sh, the same scripts the host runs, here
# with backend tc-pedit, and those of PC_QEMU_BPF_TESTS again with backend
# bpf (named NAME[bpf]).  One line per test, "PASS NAME (N s)" or
# "FAIL NAME (N s)" followed by the end of its log; a test that skips
# (exit 77) counts as failed here, as the guest exists to run these tests
# with this backend.  The last line is "pc-qemu: P passed, F failed".
#
# /test/env (written by run.sh): PC_QEMU_TESTS (only the integration tests
# whose name contains it, and then no guest_test.sh checks), TI_DPATH_CHURN,
# PC_QEMU_TEST_TIMEOUT, PC_QEMU_BPF_TESTS.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
PC_QEMU_TESTS= TI_DPATH_CHURN=30 PC_QEMU_TEST_TIMEOUT=300 PC_QEMU_VERBOSE= PC_QEMU_BPF_TESTS=
# shellcheck disable=SC1091
[ -r /test/env ] && . /test/env
export TI_DPATH_CHURN
export PORTCULLIS_HOOK=/usr/bin/portcullis-hook PORTCULLIS_TOOLS=/usr/lib/pc-tools
passed=0 failed=0

if [ -z "$PC_QEMU_TESTS" ]; then
	/bin/sh /test/guest_test.sh | tee /tmp/guest_test.out
	read -r p f < <(sed -nE 's/^guest_test: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' /tmp/guest_test.out)
	if [ -z "${p:-}" ]; then
		echo "FAIL guest_test.sh (ended without its summary)"
		p=0 f=1
	fi
	passed=$((passed + p)) failed=$((failed + f))
fi

# run_test NAME BACKEND: one integration test, its PASS or FAIL line
run_test() {
	local name=$1 label=$1 log rc=0 start=$SECONDS secs why
	[ "$2" = tc-pedit ] || label="$1[$2]"
	log=/tmp/$name.$2.log
	TI_DPATH_BACKEND=$2 timeout --kill-after=15 "$PC_QEMU_TEST_TIMEOUT" \
		bash "/test/integration/$name.sh" >"$log" 2>&1 </dev/null || rc=$?
	secs=$((SECONDS - start))
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
		echo "PASS $label ($secs s)"
		grep -E '^\[[^]]*\] (pc_stats|tc-pedit actions|vth-neuv|frames through|TCP frames|after [0-9]+ containers|before|drops):' "$log" | sed 's/^/    /'
		[ -n "${PC_QEMU_VERBOSE:-}" ] && sed "s/^/    /" "$log"
	else
		failed=$((failed + 1))
		case $rc in
		77) why="skipped: $(grep '^SKIP:' "$log" | tail -n 1)" ;;
		124 | 137) why="timed out after ${PC_QEMU_TEST_TIMEOUT}s" ;;
		*) why="exit $rc" ;;
		esac
		echo "FAIL $label ($secs s, $why)"
		tail -n 60 "$log" | sed 's/^/    /'
	fi
}

for t in /test/integration/test_dpath_*.sh; do
	name=$(basename "$t" .sh)
	[ -n "$PC_QEMU_TESTS" ] && [[ $name != *"$PC_QEMU_TESTS"* ]] && continue
	run_test "$name" tc-pedit
done
# this kernel's verifier on the BPF programs, and the programs at work
for name in $PC_QEMU_BPF_TESTS; do
	[ -n "$PC_QEMU_TESTS" ] && [[ $name != *"$PC_QEMU_TESTS"* ]] && continue
	run_test "$name" bpf
done
echo "pc-qemu: $passed passed, $failed failed"
