#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A config file with an unknown key, a wrong type or no JSON: exit 2, one
# line on stderr naming the key, nothing changed.
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
ID="$(ti_cid badcfg)"
ti_dump_to "$T/before" "${CTR_NS[c1]}" strict
ti_state_pre "$ID" "$P1" "${CTR_BUNDLE[c1]}" >"$T/in"

# cfg_case WHAT KEY EXTRA_MEMBERS
cfg_case() {
	local what=$1 key=$2 stage
	ti_config open "$3"
	jq -e . "$TI_CFG" >/dev/null || ti_fail "test bug: $TI_CFG is not JSON"
	for stage in prestart status; do
		if [ "$stage" = status ]; then
			ti_hook_in /dev/null --config "$TI_CFG" status
		else
			ti_hook_in "$T/in" --config "$TI_CFG" prestart
		fi
		ti_expect_rc 2 "$what ($stage)"
		ti_expect_one_line "$what ($stage)"
		grep -q -- "$key" <<<"$HOOK_ERR" || ti_fail "$what ($stage): error does not name $key: $HOOK_ERR"
		[ ! -e "$TI_ENF" ] || ti_fail "$what: the enforcer netns was created"
		ti_assert_no_interception "$what"
	done
	ti_log "ok: $what -> $HOOK_ERR"
}

cfg_case "unknown key" frobnicate '"frobnicate": true'
cfg_case "string where a boolean is wanted" jumbo '"jumbo": "yes"'
cfg_case "number where a string is wanted" mode '"mode": 3'
cfg_case "string where a number is wanted" workers '"workers": "two"'
cfg_case "object where a string is wanted" backend '"backend": {"x": 1}'

printf '{"state_dir": "%s", "enforcer_netns": "%s",' "$TI_STATE_DIR" "$TI_ENF" >"$TI_CFG"
ti_hook_in "$T/in" --config "$TI_CFG" prestart
ti_expect_rc 2 "config that is not JSON"
ti_expect_one_line "config that is not JSON"
[ ! -e "$TI_ENF" ] || ti_fail "config that is not JSON: the enforcer netns was created"
ti_assert_no_interception "config that is not JSON"

ti_log "the config from PORTCULLIS_CONFIG is read too"
ti_config open '"frobnicate": true'
HOOK_RC=0
PORTCULLIS_CONFIG=$TI_CFG timeout 30 "$HOOK" prestart <"$T/in" >"$T/hook.out" 2>"$T/hook.err" || HOOK_RC=$?
HOOK_ERR=$(cat "$T/hook.err")
ti_expect_rc 2 "unknown key via PORTCULLIS_CONFIG"
grep -q frobnicate <<<"$HOOK_ERR" || ti_fail "error does not name frobnicate: $HOOK_ERR"
[ ! -e "$TI_ENF" ] || ti_fail "PORTCULLIS_CONFIG: the enforcer netns was created"
ti_assert_no_interception "PORTCULLIS_CONFIG"

ti_dump_to "$T/after" "${CTR_NS[c1]}" strict
ti_assert_same "$T/before" "$T/after" "c1 after the bad configs"

ti_log "a good config works"
ti_config open
ti_hook_in "$T/in" --config "$TI_CFG" prestart
ti_expect_rc 0 "prestart with a good config"
ti_assert_pulled c1 "$P1"
