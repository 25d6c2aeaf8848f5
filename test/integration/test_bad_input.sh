#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Bad input and bad invocation: exit 2, exactly one line on stderr, and no
# change anywhere (no state record, no enforcer netns, the container as it
# was).  Every case names a live container where a pid is wanted, so a hook
# that went ahead would change something.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/picture.sh"
. "$(dirname "$0")/lib/pull.sh"
ti_init
T=$TI_TMP

ti_host_create
ti_ctr_create c1 1
ti_ctr_start c1
P1=$TI_LAST_PID
ID="$(ti_cid bad)"
ti_dump_to "$T/before" "${CTR_NS[c1]}" strict

# bad_case WHAT ARGS... (stdin from $T/in)
bad_case() {
	local what=$1
	shift
	ti_hook_in "$T/in" "$@"
	ti_expect_rc 2 "$what"
	ti_expect_one_line "$what"
	[ ! -e "$TI_ENF" ] || ti_fail "$what: the enforcer netns was created"
	ti_assert_no_interception "$what"
	ti_log "ok: $what -> $HOOK_ERR"
}

# stdin_case WHAT STAGE  (stdin prepared in $T/in)
stdin_case() { bad_case "$1" --config "$TI_CFG" "$2"; }

: >"$T/in"
stdin_case "empty stdin" prestart
stdin_case "empty stdin (poststop)" poststop

printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":%s' "$ID" "$P1" >"$T/in"
stdin_case "truncated JSON" prestart

printf 'ociVersion 1.0.2 id %s pid %s\n' "$ID" "$P1" >"$T/in"
stdin_case "not JSON" prestart

printf '[{"id":"%s","pid":%s}]\n' "$ID" "$P1" >"$T/in"
stdin_case "JSON that is not an object" prestart

{
	printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":%s,"annotations":{"pad":"' "$ID" "$P1"
	head -c 1100000 /dev/zero | tr '\0' a
	printf '"}}\n'
} >"$T/in"
jq -e ".pid == $P1" "$T/in" >/dev/null || ti_fail "the large state is not valid JSON"
stdin_case "stdin over 1 MiB" prestart

printf '{"ociVersion":"1.0.2","id":"%s","status":"creating"}\n' "$ID" >"$T/in"
stdin_case "missing pid" prestart

printf '{"ociVersion":"1.0.2","status":"creating","pid":%s}\n' "$P1" >"$T/in"
stdin_case "missing id" prestart

printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":"abc"}\n' "$ID" >"$T/in"
stdin_case "non-numeric pid" prestart

printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":"%s"}\n' "$ID" "$P1" >"$T/in"
stdin_case "pid as a string" prestart

printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":%s.5}\n' "$ID" "$P1" >"$T/in"
stdin_case "fractional pid" prestart

printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":-%s}\n' "$ID" "$P1" >"$T/in"
stdin_case "negative pid" prestart

sh -c 'exit 0' &
GONE=$!
wait "$GONE" || true
[ ! -e "/proc/$GONE" ] || ti_fail "pid $GONE should have exited"
ti_state_pre "$ID" "$GONE" >"$T/in"
stdin_case "a pid that has exited" prestart

ti_state_pre "$ID" "$P1" "${CTR_BUNDLE[c1]}" >"$T/in"
bad_case "unknown subcommand" --config "$TI_CFG" frobnicate
bad_case "no stage" --config "$TI_CFG"
bad_case "unknown option" --config "$TI_CFG" --bogus-option prestart
bad_case "--config without a file" --config
bad_case "mode with a bad value" --config "$TI_CFG" mode "$ID" sideways
bad_case "restore without an id" --config "$TI_CFG" restore
bad_case "status with an unknown option" --config "$TI_CFG" status --bogus
bad_case "gc with an argument" --config "$TI_CFG" gc extra

ti_dump_to "$T/after" "${CTR_NS[c1]}" strict
ti_assert_same "$T/before" "$T/after" "c1 after all the bad inputs"

ti_log "the same valid state works"
ti_state_pre "$ID" "$P1" "${CTR_BUNDLE[c1]}" >"$T/in"
ti_hook_in "$T/in" --config "$TI_CFG" prestart
ti_expect_rc 0 "prestart with the valid state"
ti_assert_pulled c1 "$P1"
ti_poststop c1 "$ID"
ti_expect_rc 0 "poststop"
ti_dump_to "$T/after" "${CTR_NS[c1]}" strict
ti_assert_same "$T/before" "$T/after" "c1 after poststop"
