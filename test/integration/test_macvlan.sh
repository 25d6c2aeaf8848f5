#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A container whose port is a macvlan (bridge mode, on a veth in the host
# netns - this kernel has no dummy; the gateway is a second macvlan on the
# same lower device).  Either the
# hook pulls it - a new veth eth0 in the container with everything the
# macvlan had, the macvlan in the enforcer as vex, traffic flowing, and the
# macvlan back exactly as it was after poststop - or it says it does not
# support it, and then the container is untouched and its network works.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/picture.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/traffic.sh"
ti_init
T=$TI_TMP

ti_host_create
H=$TI_HOST
ip -n "$H" link add dm0 index 50 type veth peer name dm1 index 49
ip -n "$H" link set dm1 up
ip -n "$H" link set dm0 up
ip -n "$H" link add mvgw index 51 link dm0 type macvlan mode bridge
ip -n "$H" link set mvgw up
ip -n "$H" addr add "$TI_GW4M/24" dev mvgw
ip -n "$H" addr add "$TI_GW6M/64" dev mvgw nodad

NS="$TI_NS_PREFIX-mv"
ti_netns_add "$NS"
CTR_NS[mv]=$NS
CTR_PIDS[mv]=
MAC=$(printf '02:%02x:00:00:03:01' "$TI_A")
ip -n "$H" link add mveth index 61 link dm0 type macvlan mode bridge
ip -n "$H" link set mveth netns "$NS"
ip -n "$NS" link set mveth name eth0
ip -n "$NS" link set eth0 address "$MAC" mtu 1480 txqueuelen 500
ip netns exec "$NS" sysctl -q -w net.ipv6.conf.eth0.accept_dad=0 net.ipv6.conf.eth0.accept_ra=0 \
	net.ipv6.conf.eth0.autoconf=0 net.ipv4.conf.eth0.arp_ignore=1
ip -n "$NS" link set eth0 up
ip -n "$NS" addr add "$TI_NET4M.11/24" dev eth0
ip -n "$NS" addr add "$TI_NET4M.101/24" dev eth0 valid_lft 3600 preferred_lft 1800
ip -n "$NS" addr add "$TI_NET6M::11/64" dev eth0 nodad
ip -n "$NS" route add default via "$TI_GW4M" dev eth0
ip -n "$NS" -6 route add default via "$TI_GW6M" dev eth0
ip -n "$NS" route add "10.$TI_A.200.0/24" via "$TI_GW4M" dev eth0 table 100 metric 50 src "$TI_NET4M.11"
ip -n "$NS" neigh add "$TI_NET4M.250" lladdr 02:00:00:fa:03:01 dev eth0 nud permanent
ti_bundle mv
ti_ctr_start mv
P=$TI_LAST_PID
ID=$(ti_cid macvlan)

IFLINK=$(ip -n "$NS" -j link show dev eth0 | jq -r '.[0].link_index')
ti_assert_eq 50 "$IFLINK" "macvlan eth0 iflink (dm0)"
ti_ping "$NS" "$TI_GW4M"
ti_ping "$NS" "$TI_GW6M"
ti_dump_to "$T/strict" "$NS" strict
ti_dump_to "$T/kind" "$NS" kind eth0

ti_prestart mv "$ID"
ti_expect_rc 0 "prestart of a macvlan container (on_failure=open)"
if [ -z "$(ti_state_files)" ]; then
	ti_log "the hook did not pull the macvlan: $HOOK_ERR"
	grep -qi macvlan <<<"$HOOK_ERR" || ti_fail "no record and no word about the macvlan on stderr: $HOOK_ERR"
	ti_dump_to "$T/after" "$NS" strict
	ti_assert_same "$T/strict" "$T/after" "macvlan container after an unsupported pull"
	ti_assert_no_interception "unsupported macvlan"
	ti_ping "$NS" "$TI_GW4M"
	ti_ping "$NS" "$TI_GW6M"
	ti_tcp "$H" "$TI_GW4M" "$NS" 5020
	exit 0
fi

ti_log "pulled: the container picture"
ti_dump_to "$T/after" "$NS" kind eth0
ti_assert_same "$T/kind" "$T/after" "macvlan container after the pull"
ti_log "pulled: the enforcer picture"
ti_assert_enf_pair
ti_assert_port_pulled "$NS" eth0 - "$IFLINK" "$MAC" "vex$P-0" "vin$P-0" macvlan
ti_assert_eq macvlan "$(ip -n "$TI_ENF_NAME" -d -j link show dev "vex$P-0" | jq -r '.[0].linkinfo.info_kind')" "vex kind"
ST=$(ti_status_json)
ti_assert_record "$ST" mv "$P" "$ID"
ti_assert_eq macvlan "$(jq -r '.[0].ports[0].kind' <<<"$ST")" "port kind in the record"
if [ "$(jq -r '.[0].backend' <<<"$ST")" = bpf ]; then
	# bpf_redirect_peer works only into a veth's far end
	ti_assert_eq xmit "$(ti_bpf_port_to_peer "vin$P-0")" "inPort -> macvlan exPort forwarding"
	WANT=xmit
	ti_kernel_redirects_peer_well && WANT=direct
	ti_assert_eq "$WANT" "$(ti_bpf_port_to_peer "vex$P-0")" "macvlan exPort -> inPort forwarding"
fi
ti_log "pulled: traffic"
ti_ping "$NS" "$TI_GW4M"
ti_ping "$NS" "$TI_GW6M"
ti_tcp "$H" "$TI_GW4M" "$NS" 5021
ti_tcp "$NS" "$TI_NET6M::11" "$H" 5022

ti_log "poststop: the macvlan comes back"
ti_kill "$P"
ti_poststop mv "$ID"
ti_expect_rc 0 "poststop"
ti_dump_to "$T/back" "$NS" strict
ti_assert_same "$T/strict" "$T/back" "macvlan container after poststop"
ti_assert_enf_clean "after poststop"
ti_ping "$NS" "$TI_GW4M"
