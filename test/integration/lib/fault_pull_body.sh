# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# The body of test_fault_open.sh and test_fault_closed.sh (FAULT_MODE set by
# the caller): a two-port container is pulled with PORTCULLIS_FAIL_STEP=N
# for N = 1, 2, ... until a run in which no fault fires.  After every
# injected fault the container and the host are exactly as before and the
# enforcer holds nothing of the container; on_failure decides the exit code.
# A second container, pulled before the loop, stays intercepted and working
# throughout (and makes every iteration start from the same enforcer).
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/picture.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/traffic.sh"
ti_init
T=$TI_TMP
ti_config "$FAULT_MODE"
case $FAULT_MODE in
open) WANT_RC=0 ;;
closed) WANT_RC=1 ;;
esac

ti_host_create
ti_ctr_create c1 1 second
ti_ctr_create c2 2
ti_ctr_start c1
P1=$TI_LAST_PID
ti_ctr_start c2
P2=$TI_LAST_PID
ID="$(ti_cid fault)"
NS=${CTR_NS[c1]}

ti_prestart c2 "$(ti_cid other)"
ti_expect_rc 0 "prestart c2"
ti_assert_pulled c2 "$P2"
OTHER_PORTS=$(ti_enf_ports | tr '\n' ' ')
OTHER_STATE=$(ti_state_files | tr '\n' ' ')
OTHER_CLAIMS=$(ti_claims | tr '\n' ' ')
[ -n "$OTHER_CLAIMS" ] || ti_fail "c2's pull left no UCMAC claim"

ti_dump_to "$T/strict" "$NS" strict
ti_dump_to "$T/pulled" "$NS" pulled
ti_dump_to "$T/host" "$TI_HOST" strict

MAX=300
n=1
while :; do
	[ "$n" -le "$MAX" ] || ti_fail "faults still fire at step $MAX"
	PORTCULLIS_FAIL_STEP=$n ti_prestart c1 "$ID"
	if ! grep -q "fault injected at step $n\b" <<<"$HOOK_ERR"; then
		break
	fi
	ti_expect_rc "$WANT_RC" "fault at step $n with on_failure=$FAULT_MODE"
	case $FAULT_MODE in
	open) said="starts unintercepted" ;;
	*) said="not started" ;;
	esac
	grep -q "$said: .*fault injected at step $n\b" <<<"$HOOK_ERR" ||
		{ ti_hook_show; ti_fail "fault at step $n: the hook did not say \"$said\" with the cause"; }
	ti_dump_to "$T/ctr.$n" "$NS" strict
	ti_assert_same "$T/strict" "$T/ctr.$n" "container after the rolled-back fault at step $n"
	ti_dump_to "$T/host.$n" "$TI_HOST" strict
	ti_assert_same "$T/host" "$T/host.$n" "host netns after the rolled-back fault at step $n"
	ti_assert_eq "$OTHER_PORTS" "$(ti_enf_ports | tr '\n' ' ')" "enforcer ports after the fault at step $n"
	ti_assert_eq "$OTHER_STATE" "$(ti_state_files | tr '\n' ' ')" "state records after the fault at step $n"
	ti_assert_eq "$OTHER_CLAIMS" "$(ti_claims | tr '\n' ' ')" "UCMAC claims after the fault at step $n"
	if [ $((n % 5)) -eq 1 ]; then
		ti_ping "$NS" "$TI_GW4"
		ti_ping "$NS" "${CTR_IP6[c2]}"
	fi
	ti_log "step $n: fault injected, rolled back (exit $HOOK_RC)"
	n=$((n + 1))
done
FAULTS=$((n - 1))
ti_log "no fault fired at step $n: $FAULTS steps were failed and rolled back"
[ "$FAULTS" -ge 8 ] || ti_fail "only $FAULTS steps could be failed; the pull of two ports has more"
ti_expect_rc 0 "prestart with PORTCULLIS_FAIL_STEP=$n beyond the last step"

ti_log "the run without a fault pulled both ports"
ti_dump_to "$T/after" "$NS" pulled
ti_assert_same "$T/pulled" "$T/after" "container after the pull"
ST=$(ti_status_json)
ti_assert_record "$ST" c1 "$P1" "$ID"
ST=$(jq -c --argjson i "$(ti_netns_inode "$NS")" '[.[] | select(.netns_inode == $i)]' <<<"$ST")
ti_assert_eq "eth0 eth1" "$(jq -r '[.[0].ports[].name] | sort | join(" ")' <<<"$ST")" "pulled ports"
for dev in eth0 eth1; do
	port=$(jq -c --arg d "$dev" '.[0].ports[] | select(.name == $d)' <<<"$ST")
	if [ $dev = eth0 ]; then hdev=h1 hidx=102; else hdev=g1 hidx=302; fi
	ti_assert_port_pulled "$NS" "$dev" "$hdev" "$hidx" "$(jq -r .mac <<<"$port")" \
		"$(jq -r .ex_name <<<"$port")" "$(jq -r .in_name <<<"$port")"
done
ti_reach c1 c2
ti_ping "$NS" "$TI_GW4B"
ti_ping "$NS" "$TI_GW6B"

ti_poststop c1 "$ID"
ti_expect_rc 0 "poststop"
ti_dump_to "$T/back" "$NS" strict
ti_assert_same "$T/strict" "$T/back" "container after poststop"
ti_assert_eq "$OTHER_PORTS" "$(ti_enf_ports | tr '\n' ' ')" "enforcer ports after poststop"
ti_assert_pulled c2 "$P2"
ti_poststop c2 "$(ti_cid other)"
ti_expect_rc 0 "poststop c2"
ti_assert_enf_clean "after poststop"
