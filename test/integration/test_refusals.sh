#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Deliberate skips exit 0 and change nothing: the host's own netns (the
# pid of a process in the root netns), a netns without a port holding a
# global address, a container annotated io.portcullis.mode=off (with
# allow_mode_annotation; test_untrusted has it ignored without), a stage the
# hook does not act on, --dry-run, and the enforcer netns itself.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/picture.sh"
. "$(dirname "$0")/lib/pull.sh"
ti_init
T=$TI_TMP

root_links() { ip -d -j link show | jq -c '[.[] | {ifindex, ifname, address, flags, mtu}]'; }

# ti_refused WHAT: exit 0, no enforcer netns, no state record
ti_refused() {
	ti_expect_rc 0 "$1"
	[ ! -e "$TI_ENF" ] || ti_fail "$1: the enforcer netns was created"
	ti_assert_no_interception "$1"
}

ti_host_create
ti_ctr_create c1 1
ti_ctr_start c1
P1=$TI_LAST_PID

ti_log "host netns: pid $$ (this shell, root netns)"
[ "$(stat -L -c %i /proc/$$/ns/net)" = "$(stat -L -c %i /proc/self/ns/net)" ] || ti_fail "test shell not in the hook's netns"
ROOT_BEFORE=$(root_links)
ti_stage prestart "$(ti_state_pre "$(ti_cid hostns)" $$)"
ti_refused "prestart with a pid in the host netns"
ti_assert_eq "$ROOT_BEFORE" "$(root_links)" "root netns links"
if [ "$(stat -L -c %i /proc/1/ns/net 2>/dev/null)" = "$(stat -L -c %i /proc/self/ns/net)" ]; then
	ti_stage prestart "$(ti_state_pre "$(ti_cid pid1)" 1)"
	ti_refused "prestart with pid 1"
	ti_assert_eq "$ROOT_BEFORE" "$(root_links)" "root netns links"
fi

ti_log "a netns whose only port has no global address"
NG="$TI_NS_PREFIX-noglobal"
ti_netns_add "$NG"
ip -n "$TI_HOST" link add h9 type veth peer name eth0 netns "$NG"
ip -n "$TI_HOST" link set h9 master br0 up
ip -n "$NG" link set eth0 up
ip -n "$NG" addr add 169.254.9.9/16 dev eth0 scope link
ip -n "$NG" addr add "10.$TI_A.1.99/32" dev lo
ip -n "$NG" addr add "$TI_NET6::99/128" dev lo
ti_pid_start "$NG"
PNG=$TI_LAST_PID
ti_dump_to "$T/ng.before" "$NG" strict
ti_stage prestart "$(ti_state_pre "$(ti_cid noglobal)" "$PNG")"
ti_refused "prestart of a netns without global addresses on its ports"
ti_dump_to "$T/ng.after" "$NG" strict
ti_assert_same "$T/ng.before" "$T/ng.after" "netns without global addresses"

ti_log "annotation io.portcullis.mode=off, allow_mode_annotation true"
ti_config open '"allow_mode_annotation": true'
ti_dump_to "$T/c1.before" "${CTR_NS[c1]}" strict
ti_stage prestart "$(ti_state_pre "$(ti_cid off)" "$P1" "${CTR_BUNDLE[c1]}" '{"io.portcullis.mode": "off"}')"
ti_refused "prestart with io.portcullis.mode=off"
ti_dump_to "$T/c1.after" "${CTR_NS[c1]}" strict
ti_assert_same "$T/c1.before" "$T/c1.after" "c1 after mode=off"

ti_log "annotation io.portcullis.mode=off in the bundle's config.json"
jq '.annotations = {"io.portcullis.mode": "off"}' "${CTR_BUNDLE[c1]}/config.json" >"$T/cfg.json"
cp "${CTR_BUNDLE[c1]}/config.json" "$T/cfg.orig"
cp "$T/cfg.json" "${CTR_BUNDLE[c1]}/config.json"
ti_prestart c1 "$(ti_cid off2)"
ti_refused "prestart with io.portcullis.mode=off in config.json"
cp "$T/cfg.orig" "${CTR_BUNDLE[c1]}/config.json"
ti_config open

ti_log "stages the hook does not act on"
for stage in createContainer startContainer poststart; do
	ti_stage "$stage" "$(ti_state_pre "$(ti_cid "$stage")" "$P1" "${CTR_BUNDLE[c1]}")"
	ti_refused "stage $stage"
done
ti_dump_to "$T/c1.after" "${CTR_NS[c1]}" strict
ti_assert_same "$T/c1.before" "$T/c1.after" "c1 after the other stages"

ti_log "--dry-run"
ti_state_pre "$(ti_cid dry)" "$P1" "${CTR_BUNDLE[c1]}" >"$T/dry.json"
ti_hook_in "$T/dry.json" --config "$TI_CFG" --dry-run prestart
ti_refused "prestart --dry-run"
ti_dump_to "$T/c1.after" "${CTR_NS[c1]}" strict
ti_assert_same "$T/c1.before" "$T/c1.after" "c1 after prestart --dry-run"

ti_log "the enforcer netns itself"
ti_prestart c1 "$(ti_cid c1)"
ti_expect_rc 0 "prestart c1"
ti_assert_pulled c1 "$P1"
ti_pid_start "$TI_ENF_NAME"
PE=$TI_LAST_PID
ti_dump_to "$T/enf.before" "$TI_ENF_NAME" strict
STATE_BEFORE=$(cat "$TI_STATE_DIR"/netns-*.json)
ti_stage prestart "$(ti_state_pre "$(ti_cid enf)" "$PE")"
ti_expect_rc 0 "prestart with a pid in the enforcer netns"
ti_dump_to "$T/enf.after" "$TI_ENF_NAME" strict
ti_assert_same "$T/enf.before" "$T/enf.after" "enforcer netns after the refused prestart"
ti_assert_eq "$STATE_BEFORE" "$(cat "$TI_STATE_DIR"/netns-*.json)" "state after the refused prestart"
ST=$(ti_status_json)
ti_assert_eq "$(ti_cid c1)" "$(jq -r '[.[].containers[].id] | join(" ")' <<<"$ST")" "containers in the state"
ti_poststop c1 "$(ti_cid c1)"
ti_expect_rc 0 "poststop c1"
ti_dump_to "$T/c1.after" "${CTR_NS[c1]}" strict
ti_assert_same "$T/c1.before" "$T/c1.after" "c1 after poststop"
ti_assert_enf_clean "after poststop c1"
