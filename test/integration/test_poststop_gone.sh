#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# poststop after the container netns is gone: the enforcer-side ports are
# deleted, which removes the host-side veth from the bridge; the state
# record goes.  The other container stays intercepted and keeps working.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/traffic.sh"
ti_init

ti_host_create
ti_ctr_create c1 1
ti_ctr_create c2 2
ti_ctr_start c1
P1=$TI_LAST_PID
ti_ctr_start c2
P2=$TI_LAST_PID
ID1="$(ti_cid gone-1)"
ID2="$(ti_cid gone-2)"

ti_prestart c1 "$ID1"
ti_expect_rc 0 "prestart c1"
ti_prestart c2 "$ID2"
ti_expect_rc 0 "prestart c2"
ti_assert_pulled c1 "$P1"
ti_assert_pulled c2 "$P2"
ti_reach c1 c2
[ "$(bridge -n "$TI_HOST" -j link show | jq -r '[.[] | select(.master == "br0") | .ifname] | sort | join(" ")')" = "h1 h2" ] ||
	ti_fail "bridge ports before: $(bridge -n "$TI_HOST" link show)"

ti_log "c1's process exits and its netns is deleted"
ti_ctr_destroy c1
[ ! -e "/run/netns/${CTR_NS[c1]}" ] || ti_fail "netns file of c1 still there"

ti_poststop c1 "$ID1"
ti_expect_rc 0 "poststop c1 (netns gone)"
ti_link_exists "$TI_ENF_NAME" "vex$P1-0" && ti_fail "vex$P1-0 still in the enforcer after poststop"
ti_wait_until 5 eval '! ti_link_exists "$TI_ENF_NAME" "vin$P1-0"' ||
	ti_fail "vin$P1-0 still in the enforcer 5 s after poststop"
ti_link_exists "$TI_HOST" h1 && ti_fail "host-side h1 still exists"
ti_assert_eq "h2" "$(bridge -n "$TI_HOST" -j link show | jq -r '[.[] | select(.master == "br0") | .ifname] | sort | join(" ")')" \
	"bridge ports after poststop c1"
ti_assert_eq "vex$P2-0 vin$P2-0 " "$(ti_enf_ports | tr '\n' ' ')" "enforcer ports after poststop c1"
ST=$(ti_status_json)
ti_assert_eq 1 "$(jq length <<<"$ST")" "records after poststop c1"
ti_assert_record "$ST" c2 "$P2" "$ID2"

ti_log "c2 still intercepted and working"
ti_assert_pulled c2 "$P2"
ti_ping "${CTR_NS[c2]}" "$TI_GW4"
ti_ping "${CTR_NS[c2]}" "$TI_GW6"

ti_log "c2 gone too"
ti_ctr_destroy c2
ti_poststop c2 "$ID2"
ti_expect_rc 0 "poststop c2 (netns gone)"
ti_assert_enf_clean "after both poststops"
ti_link_exists "$TI_HOST" h2 && ti_fail "host-side h2 still exists"
ti_assert_eq "" "$(bridge -n "$TI_HOST" -j link show | jq -r '[.[] | select(.master == "br0") | .ifname] | join(" ")')" \
	"bridge ports at the end"
