#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Bounded fuzzing of the parsers of untrusted input: builds the libFuzzer
# harnesses with clang in BUILD (default build-fuzz) and runs each for
# SECONDS (default 20) from a scratch copy of its seed corpus.  Prints one
# PASS/FAIL line per harness and "N passed, N failed"; exit 1 on a crash.
#
#     test/fuzz/run.sh [SECONDS] [BUILD]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-20}
build=${2:-build-fuzz}

CC=clang cmake -S . -B "$build" -DPORTCULLIS_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
harnesses="oci_state:oci config:config policy:policy app:app decode:decode threat:threat reasm:reasm
	bundle:bundle ctrname:ctrname state:state journal:journal ctl:ctl pcap:pcap slog:slog"
targets=$(for h in $harnesses; do printf 'fuzz_%s ' "${h%%:*}"; done)
# shellcheck disable=SC2086 # one target per word
cmake --build "$build" -j2 --target $targets >/dev/null

work=$(mktemp -d /tmp/portcullis-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
for h in $harnesses; do
	name=${h%%:*} corpus=${h##*:}
	mkdir -p "$work/$name"
	cp test/fuzz/corpus/"$corpus"/* "$work/$name/"
	if "$build/test/fuzz_$name" -max_total_time="$secs" -rss_limit_mb=2048 \
		-artifact_prefix="$work/" "$work/$name" >"$work/$name.log" 2>&1; then
		echo "PASS  fuzz_$name ($(grep -Eo 'Done [0-9]+ runs' "$work/$name.log" || echo '?'))"
		passed=$((passed + 1))
	else
		echo "FAIL  fuzz_$name"
		tail -n 30 "$work/$name.log"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
