# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# Running portcullis-hook ($HOOK): OCI state documents for prestart and
# poststop, its exit status and output (HOOK_RC, HOOK_OUT, HOOK_ERR), and
# its status records.

ti_lib_needs core netns

# ti_cid TAG: a container id for this run, 64 hex digits as runtimes make them.
ti_cid() { printf '%s/%s' "$TI_ID" "$1" | sha256sum | cut -c1-64; }

# ti_state_pre ID PID [BUNDLE] [ANNOTATIONS_JSON]
ti_state_pre() {
	# (annotations: a JSON object, as it is given)
	if ti_json_plain "$1" "${3:-}" && [[ $2 =~ ^[0-9]+$ ]] && [[ ${4:-} =~ ^(\{[^$'\n']*\})?$ ]]; then
		printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":%s%s%s}\n' "$1" "$2" \
			"${3:+,\"bundle\":\"$3\"}" "${4:+,\"annotations\":$4}"
		return
	fi
	jq -cn --arg id "$1" --argjson pid "$2" --arg b "${3:-}" --argjson a "${4:-null}" \
		'{ociVersion: "1.0.2", id: $id, status: "creating", pid: $pid}
		 + (if $b != "" then {bundle: $b} else {} end)
		 + (if $a != null then {annotations: $a} else {} end)'
}

# ti_state_post ID [BUNDLE]
ti_state_post() {
	if ti_json_plain "$1" "${2:-}"; then
		printf '{"ociVersion":"1.0.2","id":"%s","status":"stopped"%s}\n' "$1" "${2:+,\"bundle\":\"$2\"}"
		return
	fi
	jq -cn --arg id "$1" --arg b "${2:-}" \
		'{ociVersion: "1.0.2", id: $id, status: "stopped"}
		 + (if $b != "" then {bundle: $b} else {} end)'
}

# ti_hook_in STDIN_FILE ARGS...: runs the hook, sets HOOK_RC, HOOK_OUT, HOOK_ERR.
ti_hook_in() {
	local in=$1
	shift
	HOOK_RC=0
	timeout "$TI_HOOK_TIMEOUT" "$HOOK" "$@" <"$in" >"$TI_TMP/hook.out" 2>"$TI_TMP/hook.err" || HOOK_RC=$?
	HOOK_OUT=$(cat "$TI_TMP/hook.out")
	HOOK_ERR=$(cat "$TI_TMP/hook.err")
	[ "$HOOK_RC" -ne 124 ] || ti_fail "hook timed out after ${TI_HOOK_TIMEOUT}s: $*"
}

# ti_hook ARGS...: no stdin, default config.
ti_hook() { ti_hook_in /dev/null --config "$TI_CFG" "$@"; }

# ti_stage STAGE JSON [CONFIG]
ti_stage() {
	printf '%s\n' "$2" >"$TI_TMP/state.json"
	ti_hook_in "$TI_TMP/state.json" --config "${3:-$TI_CFG}" "$1"
}

# ti_prestart NAME ID [PID]: prestart for a container (pid: its last sleep).
ti_prestart() {
	local pid=${3:-${CTR_PIDS[$1]##* }}
	ti_stage prestart "$(ti_state_pre "$2" "$pid" "${CTR_BUNDLE[$1]}")"
}

ti_poststop() { ti_stage poststop "$(ti_state_post "$2" "${CTR_BUNDLE[$1]}")"; }

ti_hook_show() {
	printf '  exit %s\n  stdout: %s\n  stderr: %s\n' "$HOOK_RC" "$HOOK_OUT" "$HOOK_ERR" >&2
}

# ti_expect_rc RC WHAT
ti_expect_rc() {
	if [ "$HOOK_RC" -ne "$1" ]; then
		ti_hook_show
		ti_fail "$2: expected exit $1, got $HOOK_RC"
	fi
}

# ti_expect_one_line WHAT: stderr is exactly one non-empty line.
ti_expect_one_line() {
	local n
	n=$(grep -c '' "$TI_TMP/hook.err" || true)
	if [ "$n" -ne 1 ] || [ -z "$HOOK_ERR" ]; then
		ti_hook_show
		ti_fail "$1: expected exactly one line on stderr, got $n"
	fi
}

ti_status_json() {
	ti_hook status --json
	ti_expect_rc 0 "status --json"
	[ -n "$HOOK_OUT" ] && jq -e 'type == "array"' <<<"$HOOK_OUT" >/dev/null ||
		ti_fail "status --json is not a JSON array: '$HOOK_OUT'"
	printf '%s\n' "$HOOK_OUT"
}

# ti_status_record NAME: the status record of container NAME (compact JSON).
ti_status_record() {
	jq -c --argjson ino "$(ti_netns_inode "${CTR_NS[$1]}")" \
		'.[] | select(.netns_inode == $ino)' <<<"$(ti_status_json)"
}
