#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Ten containers pulled by ten hooks started at once, into an enforcer netns
# that none of them finds existing: all succeed, every name is distinct,
# every container reaches every other one; then ten concurrent poststops put
# everything back.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/picture.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/traffic.sh"
ti_init
T=$TI_TMP
N=10

ti_host_create
CS=()
for ((k = 1; k <= N; k++)); do
	ti_ctr_create "c$k" "$k"
	ti_ctr_start "c$k"
	CS+=("c$k")
done
for c in "${CS[@]}"; do
	ti_dump_to "$T/$c.strict" "${CTR_NS[$c]}" strict
	ti_dump_to "$T/$c.pulled" "${CTR_NS[$c]}" pulled
done

# run_all STAGE: one hook per container, all at once; fails on any non-zero exit
run_all() {
	local stage=$1 c pids=() i bad=0
	for c in "${CS[@]}"; do
		if [ "$stage" = prestart ]; then
			ti_state_pre "$(ti_cid "$c")" "${CTR_PIDS[$c]## }" "${CTR_BUNDLE[$c]}"
		else
			ti_state_post "$(ti_cid "$c")" "${CTR_BUNDLE[$c]}"
		fi >"$T/$c.$stage.in"
	done
	for c in "${CS[@]}"; do
		timeout 60 "$HOOK" --config "$TI_CFG" "$stage" <"$T/$c.$stage.in" \
			>"$T/$c.$stage.out" 2>"$T/$c.$stage.err" &
		pids+=($!)
	done
	for i in "${!CS[@]}"; do
		c=${CS[$i]}
		if ! wait "${pids[$i]}"; then
			ti_log "$stage $c failed: $(cat "$T/$c.$stage.err")"
			bad=$((bad + 1))
		fi
	done
	[ "$bad" -eq 0 ] || ti_fail "$bad of $N concurrent ${stage}s failed"
}

ti_log "$N concurrent prestarts"
SECONDS=0
run_all prestart
ti_log "done in ${SECONDS}s"

ti_assert_enf_pair
for c in "${CS[@]}"; do
	ti_dump_to "$T/$c.after" "${CTR_NS[$c]}" pulled
	ti_assert_same "$T/$c.pulled" "$T/$c.after" "$c after the concurrent prestarts"
	ti_assert_pulled "$c" "${CTR_PIDS[$c]## }"
done
ST=$(ti_status_json)
ti_assert_eq "$N" "$(jq length <<<"$ST")" "records"
ti_assert_eq "$((2 * N))" "$(jq '[.[].ports[] | .ex_name, .in_name] | unique | length' <<<"$ST")" "distinct port names in the state"
ti_assert_eq "$((2 * N))" "$(ti_enf_ports | sort -u | wc -l)" "distinct vex/vin ports in the enforcer"
for c in "${CS[@]}"; do
	ti_assert_record "$ST" "$c" "${CTR_PIDS[$c]## }" "$(ti_cid "$c")"
done

ti_log "everyone reaches everyone (v4), ring v6, gateway"
for ((a = 1; a <= N; a++)); do
	for ((b = 1; b <= N; b++)); do
		[ "$a" -eq "$b" ] || ti_ping "${CTR_NS[c$a]}" "${CTR_IP4[c$b]}"
	done
	ti_ping "${CTR_NS[c$a]}" "${CTR_IP6[c$((a % N + 1))]}"
	ti_ping "${CTR_NS[c$a]}" "$TI_GW6"
done
ti_tcp "${CTR_NS[c1]}" "${CTR_IP4[c1]}" "${CTR_NS[c$N]}" 5010

ti_log "$N concurrent poststops"
run_all poststop
for c in "${CS[@]}"; do
	ti_dump_to "$T/$c.back" "${CTR_NS[$c]}" strict
	ti_assert_same "$T/$c.strict" "$T/$c.back" "$c after the concurrent poststops"
done
ti_assert_enf_clean "after the concurrent poststops"
ti_reach c1 c2 "c$N"
