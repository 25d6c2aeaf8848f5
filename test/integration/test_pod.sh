#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A pod: two containers (two processes, two ids) share one netns.  The second
# prestart only records the container; the first poststop keeps the
# interception; the last one releases and the exact picture comes back.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/picture.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/traffic.sh"
ti_init

ti_host_create
ti_ctr_create pod 1
ti_ctr_create peer 2
ti_ctr_start pod
PA=$TI_LAST_PID
ti_ctr_start pod
PB=$TI_LAST_PID
ti_ctr_start peer
IDA="$(ti_cid pod-infra)"
IDB="$(ti_cid pod-app)"
NS=${CTR_NS[pod]}
T=$TI_TMP

ti_dump_to "$T/strict" "$NS" strict
ti_dump_to "$T/pulled" "$NS" pulled

ti_log "prestart A (pid $PA)"
ti_prestart pod "$IDA" "$PA"
ti_expect_rc 0 "prestart A"
ti_assert_pulled pod "$PA"
ti_dump_to "$T/after-a" "$NS" pulled
ti_assert_same "$T/pulled" "$T/after-a" "pod after prestart A"
ENF_A=$(ti_enf_ports | tr '\n' ' ')
IDX_A=$(ti_ifindex "$NS" eth0)

ti_log "prestart B (pid $PB, same netns)"
ti_prestart pod "$IDB" "$PB"
ti_expect_rc 0 "prestart B"
ti_assert_eq "$ENF_A" "$(ti_enf_ports | tr '\n' ' ')" "enforcer ports after prestart B"
ti_assert_eq "$IDX_A" "$(ti_ifindex "$NS" eth0)" "eth0 ifindex after prestart B (pulled twice?)"
ST=$(ti_status_json)
ti_assert_eq 1 "$(jq length <<<"$ST")" "records after prestart B"
ti_assert_record "$ST" pod "$PA" "$IDA" "$IDB"
ti_assert_eq "$PA $PB" "$(jq -r '[.[0].containers[].pid] | map(tostring) | join(" ")' <<<"$ST")" "container pids"
ti_reach pod peer

ti_log "poststop A: B still runs, interception stays"
ti_kill "$PA"
ti_poststop pod "$IDA"
ti_expect_rc 0 "poststop A"
ti_assert_eq "$ENF_A" "$(ti_enf_ports | tr '\n' ' ')" "enforcer ports after poststop A"
ti_assert_pulled pod "$PA"
ST=$(ti_status_json)
ti_assert_eq "$IDB" "$(jq -r '[.[].containers[].id] | join(" ")' <<<"$ST")" "containers after poststop A"
ti_reach pod peer

ti_log "poststop B: released"
ti_kill "$PB"
ti_poststop pod "$IDB"
ti_expect_rc 0 "poststop B"
ti_dump_to "$T/back" "$NS" strict
ti_assert_same "$T/strict" "$T/back" "pod after the last poststop"
ti_assert_enf_clean "after the last poststop"
ti_reach pod peer
