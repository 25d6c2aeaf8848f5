#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Churn with backend TI_DPATH_BACKEND (bpf, or tc-pedit in the QEMU guest):
# TI_DPATH_CHURN (default 200) one-port containers (netns + veth into the host
# bridge), in batches of 25, modes pass/tap/fwd in turn, each pulled by
# prestart and released by poststop: the even ones with their netns alive
# (the port goes back), the odd ones after their netns is gone (the
# enforcer side is deleted).  Container 0 (tap) is a warm-up.  After every
# batch's pulls the backend holds exactly what the live ports need: bpf,
# two pc_ports entries and one pc_ucmacs entry per port pair; tc-pedit, a
# filter on each of the pair's two ports and two knodes on vbr-neuv per
# port in fwd.  After its releases, and at the end, the backend's state
# (bpf: the pinned maps' entry counts and the pinned objects; tc-pedit: the
# pedit and mirred actions and the knodes on vbr-neuv), the tc filters on
# vbr-neuv (and on every enforcer link), the enforcer's links and the state
# records are back to their starting values (taken after one warm-up pull
# and release, which creates the pins).
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/dpath.sh"
ti_dpath_init
N=${TI_DPATH_CHURN:-200}
BATCH=25
MODES=(pass tap fwd)

ti_host_create
ti_dpath_config fwd open '"allow_mode_annotation": true'

# churn_ctr I: container kI: netns, veth (host side kI in br0), an IPv4
# address in 10.A.100.0/16 space, a sleep; its pid in CHURN_PID[I].
declare -A CHURN_PID
churn_ctr() {
	local i=$1 ns="$TI_NS_PREFIX-k$1"
	ti_netns_add "$ns"
	ip -n "$TI_HOST" link add "k$i" type veth peer name eth0 netns "$ns"
	ip -n "$TI_HOST" link set "k$i" master br0 up
	ip -n "$ns" link set eth0 up
	ip -n "$ns" addr add "10.$TI_A.$((100 + i / 200)).$((i % 200 + 20))/16" dev eth0
	CTR_NS[k$i]=$ns
	CTR_PIDS[k$i]=
	ti_bundle "k$i"
	ti_ctr_start "k$i"
	CHURN_PID[$i]=$TI_LAST_PID
}

# churn_pull I [nocheck]
churn_pull() {
	local i=$1 mode=${MODES[$((($1 + 1) % 3))]}
	ti_stage prestart "$(ti_state_pre "$(ti_cid "churn-$i")" "${CHURN_PID[$i]}" "${CTR_BUNDLE[k$i]}" \
		"{\"io.portcullis.mode\": \"$mode\"}")"
	[ "$HOOK_RC" -eq 0 ] || [ "${2:-}" = nocheck ] || { ti_hook_show; ti_fail "prestart of container $i"; }
}

churn_release() {
	local i=$1
	if ((i % 2)); then
		ti_kill "${CHURN_PID[$i]}"
		ip netns del "${CTR_NS[k$i]}"
	fi
	ti_poststop "k$i" "$(ti_cid "churn-$i")"
	[ "$HOOK_RC" -eq 0 ] || { ti_hook_show; ti_fail "poststop of container $i"; }
	if ((i % 2 == 0)); then
		ti_kill "${CHURN_PID[$i]}"
		ip netns del "${CTR_NS[k$i]}"
	fi
}

# The picture that must come back: the backend's state, filters on
# vbr-neuv and on all enforcer links, enforcer links, records.
backend_picture() {
	if [ "$(ti_dpath_backend)" = bpf ]; then
		printf 'pc_ports=%s pc_ucmacs=%s pins=%s' \
			"$(ti_dpath_map_count pc_ports)" "$(ti_dpath_map_count pc_ucmacs)" \
			"$(find "$(ti_dpath_pin)" -mindepth 1 -printf '%f,' | tr ',' '\n' | sort | paste -sd, -)"
	else
		printf 'pedit=%s mirred=%s vbr_knodes=%s' "$(ti_dpath_tc_actions pedit)" \
			"$(ti_dpath_tc_actions mirred)" "$(ti_dpath_tc_knodes vbr-neuv)"
	fi
}
picture() {
	local dev all=0
	for dev in $(ti_links "$TI_ENF_NAME" .); do
		all=$((all + $(ti_dpath_tc_count "$TI_ENF_NAME" "$dev")))
	done
	printf '%s vbr_filters=%s enf_filters=%s enf_links=%s records=%s\n' \
		"$(backend_picture)" "$(ti_dpath_tc_count "$TI_ENF_NAME" vbr-neuv)" "$all" \
		"$(ti_links "$TI_ENF_NAME" . | paste -sd, -)" "$(ti_state_files | wc -l)"
}

# pulled_check B LAST: what the backend holds with containers B..LAST pulled.
pulled_check() {
	local b=$1 last=$2 n=$(($2 - $1 + 1)) i nfwd=0 dev
	if [ "$(ti_dpath_backend)" = bpf ]; then
		ti_assert_eq "$((P0 + 2 * n)) $((U0 + n))" \
			"$(ti_dpath_map_count pc_ports) $(ti_dpath_map_count pc_ucmacs)" \
			"pc_ports and pc_ucmacs entries with containers $b-$last pulled"
		return
	fi
	for ((i = b; i <= last; i++)); do
		[ "${MODES[$(((i + 1) % 3))]}" = fwd ] && nfwd=$((nfwd + 1))
	done
	ti_assert_eq "$((K0 + 2 * nfwd))" "$(ti_dpath_tc_knodes vbr-neuv)" \
		"knodes on vbr-neuv with containers $b-$last pulled ($nfwd in fwd)"
	ti_assert_eq "$((2 * n))" "$(ti_enf_ports | wc -l)" "enforcer ports with containers $b-$last pulled"
	for dev in $(ti_enf_ports); do
		[ "$(ti_dpath_tc_knodes "$dev")" -gt 0 ] || ti_fail "no knode on $dev with containers $b-$last pulled"
	done
}

ti_log "warm-up: one pull and release"
churn_ctr 0
churn_pull 0 nocheck
ti_dpath_require_backend "prestart of container 0" tap
churn_release 0
BEFORE=$(picture)
ti_log "before: $BEFORE"
if [ "$(ti_dpath_backend)" = bpf ]; then
	P0=$(ti_dpath_map_count pc_ports)
	U0=$(ti_dpath_map_count pc_ucmacs)
else
	K0=$(ti_dpath_tc_knodes vbr-neuv)
fi

START=$SECONDS
for ((b = 1; b <= N; b += BATCH)); do
	last=$((b + BATCH - 1 < N ? b + BATCH - 1 : N))
	for ((i = b; i <= last; i++)); do
		churn_ctr "$i"
	done
	for ((i = b; i <= last; i++)); do
		churn_pull "$i"
	done
	n=$((last - b + 1))
	pulled_check "$b" "$last"
	ti_assert_eq "$n" "$(ti_state_files | wc -l)" "state records with containers $b-$last pulled"
	for ((i = b; i <= last; i++)); do
		churn_release "$i"
	done
	ti_assert_eq "$BEFORE" "$(picture)" "after releasing containers $b-$last"
	ti_log "containers $b-$last pulled and released ($((SECONDS - START)) s)"
done

AFTER=$(picture)
ti_log "after $N containers: $AFTER"
ti_assert_eq "$BEFORE" "$AFTER" "after $N containers"
ti_assert_enf_clean "after the churn"
LEFT=$(ti_links "$TI_HOST" '^k[0-9]+$' | paste -sd' ' -)
[ -z "$LEFT" ] || ti_fail "host-side veths left in the bridge: $LEFT"
