#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A workload's io.portcullis.mode is its own word: without
# allow_mode_annotation (the default) mode=off is ignored, in the state's
# annotations and in the bundle's config.json, with a line naming the
# container, and the container is intercepted; with it, mode=off leaves the
# container alone.
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
ti_dump_to "$T/c1.before" "${CTR_NS[c1]}" strict

# pulled ID WHAT: mode=off was ignored, by name, and c1 is intercepted; then released
pulled() {
	ti_expect_rc 0 "$2"
	grep -q "container $1: annotation io.portcullis.mode=off ignored (allow_mode_annotation is false)" \
		<<<"$HOOK_ERR$HOOK_OUT" || { ti_hook_show; ti_fail "$2: no line naming the container"; }
	ti_assert_pulled c1 "$P1"
	ti_poststop c1 "$1"
	ti_expect_rc 0 "poststop after $2"
	ti_dump_to "$T/c1.after" "${CTR_NS[c1]}" strict
	ti_assert_same "$T/c1.before" "$T/c1.after" "c1 after $2"
	ti_assert_enf_clean "after $2"
}

ti_log "default configuration: mode=off in the state's annotations is ignored"
ID=$(ti_cid off-state)
ti_stage prestart "$(ti_state_pre "$ID" "$P1" "${CTR_BUNDLE[c1]}" '{"io.portcullis.mode": "off"}')"
pulled "$ID" "prestart with mode=off, not allowed"

ti_log "default configuration: mode=off in the bundle's config.json is ignored"
cp "${CTR_BUNDLE[c1]}/config.json" "$T/cfg.orig"
jq '.annotations = {"io.portcullis.mode": "off"}' "$T/cfg.orig" >"${CTR_BUNDLE[c1]}/config.json"
ID=$(ti_cid off-bundle)
ti_prestart c1 "$ID"
pulled "$ID" "prestart with mode=off in config.json, not allowed"
cp "$T/cfg.orig" "${CTR_BUNDLE[c1]}/config.json"

ti_log "allow_mode_annotation true: mode=off is honoured"
ti_config open '"allow_mode_annotation": true'
ti_stage prestart "$(ti_state_pre "$(ti_cid off-allowed)" "$P1" "${CTR_BUNDLE[c1]}" '{"io.portcullis.mode": "off"}')"
ti_expect_rc 0 "prestart with mode=off, allowed"
grep -q "left alone: its mode is off" <<<"$HOOK_ERR$HOOK_OUT" || { ti_hook_show; ti_fail "no line saying mode off"; }
ti_assert_no_interception "prestart with mode=off, allowed"
ti_dump_to "$T/c1.after" "${CTR_NS[c1]}" strict
ti_assert_same "$T/c1.before" "$T/c1.after" "c1 after mode=off, allowed"
