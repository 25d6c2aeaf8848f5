#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A SYN flood spread over the workers, against a live data plane: two
# workers, mode fwd, a policy that allows everything with syn_flood_pps
# 600; c1 is intercepted with a server on port 80; the attacker is c3, a
# peer container that is not intercepted, whose SYNs carry random
# (spoofed) source addresses.
# - The fanout sends a frame to the worker of source XOR destination, so
#   each burst of 1000 SYNs is split between the two workers, about 500
#   each, under the limit for either: with per-worker counts the flood was
#   never seen.  Bursts of 1000 within a second are now a flood of the
#   data plane: a syn_flood line for c1:80 in the session log and
#   inspect.threats.syn_flood counted, though each worker saw fewer SYNs
#   than the limit.
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
ti_ctr_create c3 3
ti_ctr_start c1
ti_ctr_start c3
ID1=$(ti_cid attack-flood-1)
NS1=${CTR_NS[c1]}
NS3=${CTR_NS[c3]}
IP1=${CTR_IP4[c1]}

echo '{"default": "allow", "threats": {"syn_flood_pps": 600}}' >"$T/policy.json"
ti_dpath_config fwd closed "\"policy\": \"$T/policy.json\", \"session_log\": \"$AT_LOG\", \"workers\": 2"
ti_prestart c1 "$ID1"
ti_dpath_require_backend "prestart c1"
ip netns exec "$NS1" timeout 60 socat "TCP4-LISTEN:80,bind=$IP1,reuseaddr,fork" SYSTEM:true \
	</dev/null >/dev/null 2>&1 &
TI_PIDS+=("$!")
ti_wait_until 5 ti_listening "$NS1" 80 || ti_fail "server on port 80 did not start"
ti_dp_start
ti_ping "$NS3" "$IP1" # c3 knows c1's MAC

F0=$(at_worker_stat 0 inspect.frames)
F1=$(at_worker_stat 1 inspect.frames)
ti_log "three bursts of 1000 SYNs from random sources, 1.1 s apart"
OUT=$(at_py "$NS3" synflood "$IP1" 80 1000 3)
ti_log "$OUT"
sleep 1
D0=$(($(at_worker_stat 0 inspect.frames) - F0))
D1=$(($(at_worker_stat 1 inspect.frames) - F1))
ti_log "worker 0 saw $D0 frames, worker 1 saw $D1 (SYNs, and c1's answers)"
{ [ "$D0" -ge 900 ] && [ "$D1" -ge 900 ]; } || ti_fail "the fanout did not spread the flood over both workers"
MOST=$(sed -n 's/.*one got at most \([0-9]*\) of a burst.*/\1/p' <<<"$OUT")
{ [ -n "$MOST" ] && [ "$MOST" -lt 600 ]; } ||
	ti_fail "a worker got $MOST SYNs of a burst: it alone crossed the limit, not the case to test"
N=$(at_stat inspect.threats.syn_flood)
L=$(at_log_lines ".threat == \"syn_flood\" and .dst == \"$IP1\" and .dport == 80")
{ [ "$N" -ge 1 ] && [ -n "$L" ]; } || ti_fail "no syn_flood detected ($N) for bursts of 1000 against a limit of 600"
[ "$N" -le 3 ] || ti_fail "syn_flood counted $N times for three bursts: not once per destination and second"
ti_log "detected $N times: $(head -n 1 <<<"$L")"
ti_dp_stop

ti_poststop c1 "$ID1"
ti_expect_rc 0 "poststop c1"
ti_assert_enf_clean "after poststop"
