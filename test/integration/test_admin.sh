#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The debugging subcommands: status [--json], mode ID off|pass, restore ID
# (undo one container's interception with its netns alive) and gc (drop
# records and enforcer ports whose netns is gone, keep the others).
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/picture.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/traffic.sh"
ti_init
T=$TI_TMP

ti_host_create
ti_ctr_create c1 1
ti_ctr_create c2 2
ti_ctr_create c3 3
for c in c1 c2 c3; do
	ti_ctr_start $c
	declare "P${c#c}=$TI_LAST_PID"
	ti_dump_to "$T/$c.strict" "${CTR_NS[$c]}" strict
done
# ids sharing an 8-digit prefix, for the prefix cases of restore
COMMON=$(ti_cid admin | cut -c1-8)
ID1=$COMMON$(ti_cid admin-1 | cut -c1-56)
ID2=$COMMON$(ti_cid admin-2 | cut -c1-56)
ID3=$COMMON$(ti_cid admin-3 | cut -c1-56)

ti_log "status with nothing intercepted"
ST=$(ti_status_json)
ti_assert_eq "[]" "$(jq -c . <<<"$ST")" "status --json before any pull"
ti_hook status
ti_expect_rc 0 "status before any pull"

ti_prestart c1 "$ID1"
ti_expect_rc 0 "prestart c1"
ti_prestart c2 "$ID2"
ti_expect_rc 0 "prestart c2"
ti_prestart c3 "$ID3"
ti_expect_rc 0 "prestart c3"

ti_log "status"
ST=$(ti_status_json)
ti_assert_eq 3 "$(jq length <<<"$ST")" "records"
ti_assert_record "$ST" c1 "$P1" "$ID1"
ti_assert_record "$ST" c2 "$P2" "$ID2"
ti_assert_record "$ST" c3 "$P3" "$ID3"
jq -e 'all(.[]; (.netns_path | type) == "string" and (.mode | type) == "string"
	and (.backend | type) == "string" and (.created | type) == "number")' <<<"$ST" >/dev/null ||
	ti_fail "status records lack netns_path/mode/backend/created: $ST"
# the config's mode is fwd; until the data plane exists the hook may record
# the mode it really runs (pass)
[[ "$(jq -r '[.[].mode] | unique | join(" ")' <<<"$ST")" =~ ^(fwd|pass)$ ]] ||
	ti_fail "mode of new containers: $(jq -c '[.[].mode]' <<<"$ST")"
ti_hook status
ti_expect_rc 0 "status"
for id in "$ID1" "$ID2" "$ID3"; do
	grep -q "${id:0:12}" <<<"$HOOK_OUT" || ti_fail "status does not name ${id:0:12}: $HOOK_OUT"
done

mode_of() { jq -r --argjson i "$(ti_netns_inode "${CTR_NS[$1]}")" '.[] | select(.netns_inode == $i) | .mode' <<<"$(ti_status_json)"; }

ti_log "mode"
M1=$(mode_of c1)
ti_hook mode "$ID2" pass
ti_expect_rc 0 "mode $ID2 pass"
ti_assert_eq pass "$(mode_of c2)" "c2 mode after 'mode pass'"
ti_assert_eq "$M1" "$(mode_of c1)" "c1 mode after 'mode $ID2 pass'"
ti_reach c2 c1 c3
ti_assert_pulled c2 "$P2"
ti_hook mode "$(ti_cid nosuch)" pass
ti_expect_rc 1 "mode of an unknown container"
ti_expect_one_line "mode of an unknown container"

ti_log "restore with an ambiguous id prefix changes nothing"
PORTS_BEFORE=$(ti_enf_ports | tr '\n' ' ')
ti_hook restore "$COMMON"
ti_expect_rc 1 "restore with an ambiguous prefix"
ti_expect_one_line "restore with an ambiguous prefix"
ti_assert_eq 3 "$(jq length <<<"$(ti_status_json)")" "records after the ambiguous restore"
ti_assert_eq "$PORTS_BEFORE" "$(ti_enf_ports | tr '\n' ' ')" "enforcer ports after the ambiguous restore"

ti_log "restore c1 (netns alive)"
ti_hook restore "$ID1"
ti_expect_rc 0 "restore $ID1"
ti_dump_to "$T/c1.back" "${CTR_NS[c1]}" strict
ti_assert_same "$T/c1.strict" "$T/c1.back" "c1 after restore"
ST=$(ti_status_json)
ti_assert_eq "$(printf '%s\n' "$ID2" "$ID3" | sort | tr '\n' ' ')" \
	"$(jq -r '.[].containers[].id' <<<"$ST" | sort | tr '\n' ' ')" "containers after restore"
ti_assert_eq "$(printf '%s\n' "vex$P2-0" "vex$P3-0" "vin$P2-0" "vin$P3-0" | sort | tr '\n' ' ')" \
	"$(ti_enf_ports | tr '\n' ' ')" "enforcer ports after restore"
ti_reach c1 c2 c3
ti_hook restore "$ID1"
ti_expect_rc 1 "restore of a container no longer intercepted"
ti_expect_one_line "restore of a container no longer intercepted"
ti_hook restore "$(ti_cid nosuch)"
ti_expect_rc 1 "restore of an unknown container"
ti_expect_one_line "restore of an unknown container"
# the poststop that follows a restore finds nothing to do
ti_poststop c1 "$ID1"
ti_expect_rc 0 "poststop after restore"
ti_dump_to "$T/c1.back" "${CTR_NS[c1]}" strict
ti_assert_same "$T/c1.strict" "$T/c1.back" "c1 after poststop following restore"

ti_log "gc with every netns alive changes nothing"
ST_BEFORE=$(ti_status_json)
PORTS_BEFORE=$(ti_enf_ports | tr '\n' ' ')
ti_hook gc
ti_expect_rc 0 "gc"
ti_assert_eq "$ST_BEFORE" "$(ti_status_json)" "status after a gc with nothing gone"
ti_assert_eq "$PORTS_BEFORE" "$(ti_enf_ports | tr '\n' ' ')" "enforcer ports after a gc with nothing gone"

ti_log "gc after c3's netns is gone (poststop never ran)"
ti_ctr_destroy c3
ti_hook gc
ti_expect_rc 0 "gc"
ST=$(ti_status_json)
ti_assert_eq "$ID2" "$(jq -r '[.[].containers[].id] | join(" ")' <<<"$ST")" "containers after gc"
ti_wait_until 5 eval '[ "$(ti_enf_ports | tr "\n" " ")" = "vex$P2-0 vin$P2-0 " ]' ||
	ti_fail "enforcer ports after gc: $(ti_enf_ports | tr '\n' ' ')"
ti_link_exists "$TI_HOST" h3 && ti_fail "host-side h3 still exists after gc"
ti_assert_pulled c2 "$P2"
ti_reach c2 c1

ti_log "restore by a unique id prefix"
ti_hook restore "$COMMON"
ti_expect_rc 0 "restore $COMMON (the only record left)"
ti_dump_to "$T/c2.back" "${CTR_NS[c2]}" strict
ti_assert_same "$T/c2.strict" "$T/c2.back" "c2 after restore by prefix"
ti_assert_enf_clean "after the last restore"
ti_reach c2 c1

ti_log "mode off on a running container"
ti_prestart c1 "$ID1"
ti_expect_rc 0 "prestart c1 again"
ti_assert_pulled c1 "$P1"
ti_hook mode "$ID1" off
ti_expect_rc 0 "mode $ID1 off"
M1=$(mode_of c1)
if [ -z "$M1" ]; then
	# off means not intercepted: the ports went back
	ti_log "mode off released the container"
	ti_dump_to "$T/c1.back" "${CTR_NS[c1]}" strict
	ti_assert_same "$T/c1.strict" "$T/c1.back" "c1 after mode off"
	ti_assert_enf_clean "after mode off"
else
	ti_assert_eq off "$M1" "c1 mode after 'mode off'"
	ti_assert_pulled c1 "$P1"
fi
ti_reach c1 c2
ti_poststop c1 "$ID1"
ti_expect_rc 0 "poststop c1"
ti_dump_to "$T/c1.back" "${CTR_NS[c1]}" strict
ti_assert_same "$T/c1.strict" "$T/c1.back" "c1 after the last poststop"
ti_assert_enf_clean "at the end"
