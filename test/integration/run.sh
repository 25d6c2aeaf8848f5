#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs the integration tests: every test_*.sh here, or those whose name
# contains FILTER.  Each runs alone, under a timeout, with its output in a
# log; a failed test's log is printed.  Exit status of a test: 0 pass,
# 77 skip (the reason is its "SKIP:" line), anything else fail.
#
#     test/integration/run.sh [FILTER]
#
# Environment: PORTCULLIS_HOOK (the hook binary, default build/bin/
# portcullis-hook), TI_TIMEOUT (seconds per test, default 180),
# or the test's own "# ti-timeout: SECONDS" line when longer,
# TI_LOG_DIR (where the logs go, default a temporary folder, removed when
# everything passed), TI_DPATH_BACKEND (the data path's backend: bpf, the
# default, or tc-pedit), TI_DPATH_CHURN (containers of test_dpath_churn,
# default 200).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
filter=${1:-}
timeout_s=${TI_TIMEOUT:-180}
keep_logs=1
if [ -z "${TI_LOG_DIR:-}" ]; then
	TI_LOG_DIR=$(mktemp -d /tmp/pcti-logs.XXXXXX)
	keep_logs=0
fi
mkdir -p "$TI_LOG_DIR"

passed=0 failed=0 skipped=0
failed_names=()
start_all=$SECONDS

for t in "$here"/test_*.sh; do
	name=$(basename "$t" .sh)
	[ -n "$filter" ] && [[ $name != *"$filter"* ]] && continue
	log="$TI_LOG_DIR/$name.log"
	start=$SECONDS
	rc=0
	# a test that needs longer says so in a "# ti-timeout: SECONDS" line
	t_s=$(sed -n 's/^# ti-timeout: *\([0-9][0-9]*\)$/\1/p' "$t" | head -n 1)
	[ -n "$t_s" ] && [ "$t_s" -gt "$timeout_s" ] || t_s=$timeout_s
	timeout --kill-after=15 "$t_s" bash "$t" >"$log" 2>&1 </dev/null || rc=$?
	secs=$((SECONDS - start))
	case $rc in
	0)
		passed=$((passed + 1))
		printf 'PASS  %-24s %4ss\n' "$name" "$secs"
		;;
	77)
		skipped=$((skipped + 1))
		reason=$(grep -h '^SKIP:' "$log" | tail -n 1)
		printf 'SKIP  %-24s %4ss  %s\n' "$name" "$secs" "${reason#SKIP: }"
		;;
	*)
		failed=$((failed + 1))
		failed_names+=("$name")
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			reason="timed out after ${t_s}s"
		else
			reason=$(grep -h 'FAIL:' "$log" | tail -n 1)
			reason=${reason:-exit $rc}
		fi
		printf 'FAIL  %-24s %4ss  %s\n' "$name" "$secs" "$reason"
		printf -- '----- %s (last 60 lines of %s)\n' "$name" "$log"
		tail -n 60 "$log" | sed 's/^/    /'
		printf -- '-----\n'
		;;
	esac
done

total=$((passed + failed + skipped))
echo
printf 'integration: %d test(s) in %ss' "$total" "$((SECONDS - start_all))"
[ "$failed" -gt 0 ] && printf ', failed: %s' "${failed_names[*]}"
echo
if [ "$failed" -eq 0 ] && [ "$keep_logs" -eq 0 ]; then
	rm -rf "$TI_LOG_DIR"
else
	echo "logs: $TI_LOG_DIR"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$total" -gt 0 ] || { echo "no test matched '${filter}'" >&2; exit 1; }
[ "$failed" -eq 0 ]
