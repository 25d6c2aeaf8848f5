#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Fragments against a live data plane: one worker, mode fwd, a policy that
# allows everything; a UDP server in c1 counts the datagrams it receives.
# - c2 sends 30 UDP datagrams of 2000 bytes in two fragments, the second
#   200 ms after the first, while c3 sprays first fragments (a new IP id
#   each, 5000 a second: about 1000 between a datagram's fragments) to
#   an address that never answers.  A later fragment follows its first
#   fragment's verdict, kept in the worker's fragment table; the old
#   table (1024 direct-mapped slots, an unkeyed hash) lost most datagrams'
#   verdicts to the spray, and their second fragments were dropped as
#   orphans.  All 30 arrive now, but for any whose fragments a busy
#   machine sent more than 450 ms apart (the spray never bursts to catch
#   up, so such a gap still meets at most a few thousand first fragments);
# - with no spray, datagrams whose last fragment is small (at most
#   quick_max) arrive too: such a fragment no longer takes the quick path
#   ahead of its first fragment.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/traffic.sh"
. "$(dirname "$0")/lib/dpath.sh"
. "$(dirname "$0")/lib/dp.sh"
. "$(dirname "$0")/lib/attack.sh"
ti_dpath_init
at_init
T=$TI_TMP
AT_LOG=$T/sessions.log

ti_host_create
ti_ctr_create c1 1
ti_ctr_create c2 2
ti_ctr_create c3 3
ti_ctr_start c1
ti_ctr_start c2
ti_ctr_start c3
ID1=$(ti_cid attack-frag-1)
ID2=$(ti_cid attack-frag-2)
ID3=$(ti_cid attack-frag-3)
NS1=${CTR_NS[c1]}
NS2=${CTR_NS[c2]}
NS3=${CTR_NS[c3]}
IP1=${CTR_IP4[c1]}
SILENT=$TI_NET4.250

echo '{"default": "allow"}' >"$T/policy.json"
ti_dpath_config fwd closed "\"policy\": \"$T/policy.json\", \"session_log\": \"$AT_LOG\", \"workers\": 1"
ti_prestart c1 "$ID1"
ti_dpath_require_backend "prestart c1"
ti_prestart c2 "$ID2"
ti_expect_rc 0 "prestart c2"
ti_prestart c3 "$ID3"
ti_expect_rc 0 "prestart c3"
at_silent "$NS3" "$SILENT"

at_py_bg "$NS1" udp-count "$IP1" 7000 "$T/got"
got() { cat "$T/got" 2>/dev/null || echo 0; }
ti_dp_start
ti_ping "$NS2" "$IP1"

ti_log "30 datagrams from c2, each second fragment 200 ms late, while c3 sprays first fragments"
at_py_bg "$NS3" fragspray "$SILENT" 8 5000
SPRAY=$AT_PID
sleep 1
out=$(at_py "$NS2" fraglegit "$IP1" 7000 30 200 2000)
echo "$out" >&2
wait "$SPRAY" || ti_fail "the spray failed"
sleep 0.5
late=$(sed -n 's/.*late=\([0-9]*\)$/\1/p' <<<"$out")
[ -n "$late" ] || ti_fail "fraglegit said nothing of late fragments: $out"
ti_log "c1 received $(got) of 30 ($late sent late by a busy machine); fragment table: $(at_stat inspect.frag_evicted) evicted, $(at_stat inspect.frag_orphans) orphans"
[ "$(at_stat inspect.frames)" -gt 30000 ] || ti_fail "the spray was too weak to test anything: $(at_stat inspect.frames) frames"
# A datagram whose fragments were more than 450 ms apart met more than
# 2000 sprayed first fragments: its verdict may honestly have been pushed
# out.  Every other one must arrive, and most must be on time.
[ "$late" -le 10 ] || ti_fail "$late of 30 datagrams were sent late: the machine was too busy to test anything"
[ "$(got)" -ge $((30 - late)) ] || ti_fail "datagrams received through the spray: $(got) of 30, $late of them late"

ti_log "small last fragments, no spray"
BASE=$(got)
at_py "$NS2" fraglegit "$IP1" 7000 20 0 1500 >&2
sleep 0.5
ti_assert_eq $((BASE + 20)) "$(got)" "datagrams received whose last fragment is small"
ti_dp_stop

for c in c1 c2 c3; do
	id=ID${c#c}
	ti_poststop "$c" "${!id}"
	ti_expect_rc 0 "poststop $c"
done
ti_assert_enf_clean "after poststop"
