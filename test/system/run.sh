#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The system tests: the Debian package (package.sh) and the front door on
# a fresh Debian 12 root (fresh_machine.sh).  One PASS/FAIL/SKIP line
# each, a failed test's output, and "N passed, N failed, N skipped".
#
#     test/system/run.sh [BUILD]     (root; BUILD default build)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
logs=$(mktemp -d /tmp/pcsys-logs.XXXXXX)
trap 'rm -rf "$logs"' EXIT
passed=0 failed=0 skipped=0
for t in package fresh_machine; do
	start=$SECONDS
	rc=0
	if [ "$t" = package ]; then
		"$here/$t.sh" "$build" >"$logs/$t.log" 2>&1 </dev/null || rc=$?
	else
		"$here/$t.sh" >"$logs/$t.log" 2>&1 </dev/null || rc=$?
	fi
	secs=$((SECONDS - start))
	case $rc in
	0)
		passed=$((passed + 1))
		printf 'PASS  %-16s %4ss\n' "$t" "$secs"
		grep -E '^(package|fresh): |^    [WEIN]: ' "$logs/$t.log" | sed 's/^/    /'
		;;
	77)
		skipped=$((skipped + 1))
		printf 'SKIP  %-16s %4ss  %s\n' "$t" "$secs" "$(grep -h 'SKIP:' "$logs/$t.log" | tail -n 1)"
		;;
	*)
		failed=$((failed + 1))
		printf 'FAIL  %-16s %4ss  exit %s\n' "$t" "$secs" "$rc"
		sed 's/^/    /' "$logs/$t.log"
		;;
	esac
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
