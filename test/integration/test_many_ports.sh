#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# No small port limit: a network namespace with 200 ports (veths, each
# with a global address) is intercepted whole, recorded with 200 ports,
# and released with every port back.  One with more ports than portcullis
# intercepts (STATE_MAX_PORTS, 1024) is refused even with on_failure open,
# before anything is changed: a workload must not be able to start
# unintercepted by adding ports to a namespace it shares.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/pull.sh"
ti_init
N=200
LIMIT=1024

ti_host_create

# ports NS COUNT TAG: COUNT veths pTAG-I in NS, peers qTAG-I in the host, each up with a /32
ports() {
	local i
	for ((i = 0; i < $2; i++)); do
		printf 'link add p%s-%d type veth peer name q%s-%d netns %s\n' "$3" "$i" "$3" "$i" "$TI_HOST"
		printf 'link set p%s-%d up\n' "$3" "$i"
		printf 'addr add 10.%d.%d.%d/32 dev p%s-%d\n' "$TI_A" $((100 + i / 250)) $((i % 250 + 1)) "$3" "$i"
	done | ip -n "$1" -batch - || ti_fail "could not make $2 ports in $1"
}

# The ports of NS as "name mac" lines, sorted.
ns_ports() { ip -n "$1" -j link show type veth | jq -r '.[] | "\(.ifname) \(.address)"' | sort; }

ti_log "a namespace with $N ports"
NS="$TI_NS_PREFIX-many"
ti_netns_add "$NS"
t0=$SECONDS
ports "$NS" "$N" a
ti_log "made in $((SECONDS - t0)) s"
ti_pid_start "$NS"
PID=$TI_LAST_PID
BEFORE=$(ns_ports "$NS")
ti_assert_eq "$N" "$(wc -l <<<"$BEFORE")" "ports before the pull"

ti_config open
ID=$(ti_cid many)
t0=$(date +%s%N)
ti_stage prestart "$(ti_state_pre "$ID" "$PID")"
ti_log "prestart of $N ports: $((($(date +%s%N) - t0) / 1000000)) ms"
ti_expect_rc 0 "prestart of $N ports"
grep -q "container $ID: $N port(s) intercepted" <<<"$HOOK_ERR" || { ti_hook_show; ti_fail "not $N ports intercepted"; }
ti_assert_eq "$N" "$(ti_enf_ports | grep -c '^vex')" "original ports in the enforcer"
ti_assert_eq "$N" "$(ti_enf_ports | grep -c '^vin')" "new pairs' peers in the enforcer"
CTR_NS[many]=$NS
REC=$(ti_status_record many)
ti_assert_eq "$N" "$(jq '.ports | length' <<<"$REC")" "ports in the record"
ti_assert_eq "$BEFORE" "$(ns_ports "$NS")" "the container's ports (names, MACs) after the pull"

t0=$(date +%s%N)
ti_stage poststop "$(ti_state_post "$ID")"
ti_log "poststop of $N ports: $((($(date +%s%N) - t0) / 1000000)) ms"
ti_expect_rc 0 "poststop of $N ports"
ti_assert_enf_clean "after poststop"
ti_assert_eq "" "$(ti_state_files)" "records after poststop"
ti_assert_eq "$BEFORE" "$(ns_ports "$NS")" "the container's ports after poststop"
ti_kill "$PID"
ip netns del "$NS"

ti_log "a namespace with $((LIMIT + 1)) ports, on_failure open: refused"
NS2="$TI_NS_PREFIX-toomany"
ti_netns_add "$NS2"
t0=$SECONDS
ports "$NS2" $((LIMIT + 1)) b
ti_log "made in $((SECONDS - t0)) s"
ti_pid_start "$NS2"
PID2=$TI_LAST_PID
BEFORE2=$(ns_ports "$NS2")
ti_stage prestart "$(ti_state_pre "$(ti_cid toomany)" "$PID2")"
ti_expect_rc 1 "prestart of $((LIMIT + 1)) ports with on_failure open"
grep -q "not started: $((LIMIT + 1)) ports in its network namespace, more than the $LIMIT portcullis intercepts (refused whatever on_failure says)" \
	<<<"$HOOK_ERR" || { ti_hook_show; ti_fail "no line saying why the container was refused"; }
ti_assert_no_interception "refused namespace"
ti_assert_eq "$BEFORE2" "$(ns_ports "$NS2")" "the refused namespace's ports"
