# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# The data path (lib/dpath): modes tap and fwd, the backend's state and
# counters, the hook's configuration for them.
#
# The backend is TI_DPATH_BACKEND: bpf (the default) or tc-pedit (the one
# test/qemu/run.sh runs in its guest; this host's kernel has no act_pedit).
# The same tests run with either; where they look at the backend's own
# counters they ask ti_dpath_backend which one runs: bpf's pc_stats map
# (ti_dpath_stat) or the statistics of the tc actions of the tc-pedit
# filters (ti_dpath_tc_stat).

ti_lib_needs core netns hook pull

TI_DPATH_BACKEND=${TI_DPATH_BACKEND:-bpf}

# ti_dpath_init: ti_init, plus the tools the data-path tests need.
ti_dpath_init() {
	ti_init
	local c tools=(socat awk sort)
	case $TI_DPATH_BACKEND in
	bpf) tools+=(bpftool) ;;
	tc-pedit) ;;
	*) ti_fail "TI_DPATH_BACKEND '$TI_DPATH_BACKEND': not bpf nor tc-pedit" ;;
	esac
	for c in "${tools[@]}"; do
		command -v "$c" >/dev/null || ti_skip "missing tool: $c"
	done
	ti_log "data-path backend $TI_DPATH_BACKEND"
}

# ti_dpath_backend: the backend these tests run (TI_DPATH_BACKEND).
ti_dpath_backend() { printf '%s\n' "$TI_DPATH_BACKEND"; }

# ti_dpath_config MODE [DP_DOWN] [EXTRA_JSON_MEMBERS]: backend
# TI_DPATH_BACKEND, on_failure closed (a data path that cannot be set up
# fails the hook, visibly); the data plane's control socket in TI_TMP unless
# EXTRA names one.
ti_dpath_config() {
	local extra=${3:-}
	[[ $extra == *'"ctl_socket"'* ]] || extra="\"ctl_socket\": \"$TI_TMP/dp.sock\"${extra:+, $extra}"
	ti_config closed "\"backend\": \"$TI_DPATH_BACKEND\", \"mode\": \"$1\", \"dp_down\": \"${2:-open}\", $extra"
}

# The pin folder of this run's enforcer namespace (bpf).
ti_dpath_pin() { printf '%s/%s\n' "$TI_BPF_DIR" "$TI_ENF_NAME"; }

# ti_dpath_require_backend WHAT [MODE]: after a pull of the first container
# (in MODE, default the config's), the hook must run the configured backend
# in that mode.  When it cannot (the hook failed naming the backend, or it
# recorded another backend or mode: tc-pedit without act_pedit runs tap and
# fwd as pass), the test skips (77) only if the other backend cannot run
# here either; if the other one can, it fails: this machine should test
# with that one (TI_DPATH_BACKEND).
ti_dpath_require_backend() {
	local what=$1 want st why= other
	want=${2:-$(jq -r .mode "$TI_CFG")}
	if [ "$HOOK_RC" -ne 0 ]; then
		grep -q "backend $TI_DPATH_BACKEND" <<<"$HOOK_ERR" || { ti_hook_show; ti_fail "$what failed"; }
		why=$(grep "backend $TI_DPATH_BACKEND" <<<"$HOOK_ERR" | tail -n 1 | sed "s/.*\(backend $TI_DPATH_BACKEND\)/\1/")
	else
		st=$(ti_status_json)
		[ "$(jq length <<<"$st")" -ge 1 ] || ti_fail "$what: no status record (hook output: $HOOK_ERR)"
		if [ "$(jq -r '.[0].backend' <<<"$st")" != "$TI_DPATH_BACKEND" ]; then
			why="status shows backend '$(jq -r '.[0].backend' <<<"$st")' for a config with backend $TI_DPATH_BACKEND"
		elif [ "$(jq -r '.[0].mode' <<<"$st")" != "$want" ]; then
			why="the hook runs mode '$(jq -r '.[0].mode' <<<"$st")' for mode '$want' with backend $TI_DPATH_BACKEND"
			# the hook's warning says why
			if grep -q ': warn: ' <<<"$HOOK_ERR"; then
				why+=" ($(grep ': warn: ' <<<"$HOOK_ERR" | head -n 1))"
			fi
		fi
	fi
	[ -n "$why" ] || return 0
	other=bpf
	[ "$TI_DPATH_BACKEND" = bpf ] && other=tc-pedit
	if ti_dpath_backend_runs "$other"; then
		ti_fail "backend $TI_DPATH_BACKEND cannot run here ($why), backend $other can: run with TI_DPATH_BACKEND=$other"
	fi
	ti_skip "neither data-path backend can run here: $why; backend $other: $TI_DPATH_RUNS_WHY"
}

# ti_dpath_backend_runs BACKEND: whether this kernel can run BACKEND (why
# not in TI_DPATH_RUNS_WHY).  tc-pedit: a pedit action can be created (in a
# namespace of this run); bpf: bpftool finds cls_bpf programs available.
ti_dpath_backend_runs() {
	TI_DPATH_RUNS_WHY=
	case $1 in
	tc-pedit)
		local ns="$TI_NS_PREFIX-probe"
		[ -e "/run/netns/$ns" ] || ti_netns_add "$ns"
		if ! tc -n "$ns" actions add action pedit ex munge eth dst set 02:00:00:00:00:01 >/dev/null 2>&1; then
			TI_DPATH_RUNS_WHY="no pedit action in this kernel"
			return 1
		fi
		;;
	bpf)
		command -v bpftool >/dev/null || { TI_DPATH_RUNS_WHY="cannot tell (no bpftool)"; return 1; }
		# (all of the output first: grep -q would end bpftool with SIGPIPE)
		local probe
		probe=$(bpftool feature probe kernel 2>/dev/null) || true
		grep -q 'program_type sched_cls is available' <<<"$probe" ||
			{ TI_DPATH_RUNS_WHY="no sched_cls programs in this kernel"; return 1; }
		;;
	esac
}

# ti_dpath_ucmac NAME: the UCMAC of eth0 of container NAME, lower case.
ti_dpath_ucmac() {
	local m
	m=$(jq -r '.ports[] | select(.name == "eth0") | .ucmac // empty' <<<"$(ti_status_record "$1")")
	[[ $m =~ ^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$ ]] || ti_fail "no UCMAC for $1 in status: '$m'"
	# locally administered unicast
	(((0x${m:0:2} & 3) == 2)) || ti_fail "UCMAC $m of $1 is not locally administered unicast"
	printf '%s\n' "${m,,}"
}

# ti_dpath_mode NAME ID MODE: switch a live container, check status shows it.
ti_dpath_mode() {
	ti_hook mode "$2" "$3"
	ti_expect_rc 0 "mode $3 for $1"
	[ "$3" = off ] && return 0
	ti_assert_eq "$3" "$(jq -r .mode <<<"$(ti_status_record "$1")")" "status mode of $1 after 'mode $3'"
}

# ti_dpath_map_count MAP: number of entries of a pinned map of this run.
ti_dpath_map_count() {
	local p
	p="$(ti_dpath_pin)/$1"
	[ -e "$p" ] || { echo 0; return; }
	bpftool map dump pinned "$p" -j | jq length
}

# ti_dpath_names MACRO: the names a list macro of lib/dpath/bpf/dpath_common.h
# gives, in index order (PC_STAT_NAMES, PC_DROP_NAMES; the QEMU guest gets a
# copy of that file where the tree has it).
ti_dpath_names() {
	local h=$TI_ROOT/lib/dpath/bpf/dpath_common.h names
	names=$(sed -n "/^#define $1/,/[^\\]\$/p" "$h" | grep -o '"[a-z_]*"' | tr -d '"')
	[ -n "$names" ] || ti_fail "no $1 in $h"
	printf '%s\n' "$names"
}

ti_dpath_stat_names() { ti_dpath_names PC_STAT_NAMES; }

# ti_dpath_percpu MAP MACRO NAME: counter NAME of a pinned per-CPU array
# whose indexes MACRO names, summed over CPUs; bpftool prints the values
# formatted (BTF) or as little-endian hex bytes.
ti_dpath_percpu() {
	local i
	i=$(ti_dpath_names "$2" | grep -nx -- "$3" | cut -d: -f1)
	[ -n "$i" ] || ti_fail "no $1 counter $3"
	bpftool map lookup pinned "$(ti_dpath_pin)/$1" key $((i - 1)) 0 0 0 -j | jq '
		def num: if type == "array" then reverse | map(ltrimstr("0x") | explode
			| map(if . >= 97 then . - 87 elif . >= 65 then . - 55 else . - 48 end)
			| .[0] * 16 + .[1]) | reduce .[] as $b (0; . * 256 + $b) else . end;
		[(.values // .formatted.values)[] | .value | num] | add'
}

# ti_dpath_stat NAME: a pc_stats counter summed over CPUs.
ti_dpath_stat() { ti_dpath_percpu pc_stats PC_STAT_NAMES "$1"; }

# ti_dpath_drop NAME: a pc_drops counter (frames the ports' checks dropped);
# tc-pedit: what the drop knodes of that reason on the enforcer's ports
# dropped (their classid is 7063:3XX, XX the reason's index in hex;
# lib/dpath/tc_guard.h).
ti_dpath_drop() {
	local i dev
	if [ "$TI_DPATH_BACKEND" = bpf ]; then
		ti_dpath_percpu pc_drops PC_DROP_NAMES "$1"
		return
	fi
	i=$(ti_dpath_names PC_DROP_NAMES | grep -nx -- "$1" | cut -d: -f1)
	[ -n "$i" ] || ti_fail "no drop counter $1"
	for dev in $(ti_enf_ports); do
		tc -s -j -n "$TI_ENF_NAME" filter show dev "$dev" ingress 2>/dev/null | grep . || printf '[]'
	done | jq -s --arg id "$(printf '7063:3%02x' $((i - 1)))" \
		'[.[][] | .options // {} | select(.flowid == $id) | .actions[]? | .stats.packets] | add // 0'
}

# ti_dpath_mark_drops: remember every drop counter (in TI_DPATH_MARK) for
# ti_dpath_expect_drop and ti_dpath_drops_since.
declare -A TI_DPATH_MARK
ti_dpath_mark_drops() {
	local n
	for n in $(ti_dpath_names PC_DROP_NAMES); do TI_DPATH_MARK[$n]=$(ti_dpath_drop "$n"); done
}

# ti_dpath_drops_since NAME: how much drop counter NAME grew since the mark.
ti_dpath_drops_since() { echo $(($(ti_dpath_drop "$1") - TI_DPATH_MARK[$1])); }

# ti_dpath_expect_drop NAME MIN WHAT: drop counter NAME grew by at least
# MIN since ti_dpath_mark_drops.
ti_dpath_expect_drop() {
	local got
	got=$(ti_dpath_drops_since "$1")
	[ "$got" -ge "$2" ] || ti_fail "$3: drop counter $1 grew by $got, not by $2 ($(ti_dpath_drops))"
}

# ti_dpath_drops: all pc_drops counters on one line (for logs).
ti_dpath_drops() {
	local n out=
	for n in $(ti_dpath_names PC_DROP_NAMES); do
		out+="$n=$(ti_dpath_drop "$n") "
	done
	printf '%s\n' "$out"
}

# ti_dpath_stats: all pc_stats counters on one line (for logs).
ti_dpath_stats() {
	local n out=
	for n in $(ti_dpath_stat_names); do
		out+="$n=$(ti_dpath_stat "$n") "
	done
	printf '%s\n' "$out"
}

# ti_dpath_tc_count NS DEV: tc filter lines on DEV's ingress (0 when DEV is
# gone).
ti_dpath_tc_count() {
	{ tc -n "$1" filter show dev "$2" ingress 2>/dev/null || true; } | grep -c '^filter' || true
}

# ti_dpath_tc_stat NAME (tc-pedit): what the statistics of the tc actions on
# the enforcer's ports (vex*/vin*) and on vbr-neuv count, with the meaning
# of the pc_stats counter of that name where there is one:
#   tap_copies       frames a tap knode (mirror to the peer + pedit + redirect
#                    to vbr-neuv) sent to the data plane
#   to_dp            frames a fwd knode (pedit + redirect to vbr-neuv, no
#                    mirror) sent to the data plane
#   passed           frames the IP knodes (800::4, 800::5) of a port in pass
#                    mode redirected to the peer
#   from_dp_to_ctr   frames from the data plane vbr-neuv's knodes redirected
#                    to an inPort (towards the container)
#   from_dp_to_host  ... to an exPort (towards the host)
#   action_drops     frames any of those actions dropped
# Action statistics belong to the action: a mode change replaces the
# knode's actions, and their counts start again at 0.
TI_DPATH_TC_STATS=(tap_copies to_dp passed from_dp_to_ctr from_dp_to_host action_drops)
ti_dpath_tc_stat() {
	local out
	case " ${TI_DPATH_TC_STATS[*]} " in *" $1 "*) ;; *) ti_fail "no tc-pedit counter $1" ;; esac
	out=$(ti_dpath_tc_stats)
	sed -n "s/.*\\<$1=\\([0-9]*\\).*/\\1/p" <<<"$out"
}

# ti_dpath_tc_stats: all of them on one line, NAME=N ... (one jq for all: a
# jq start costs half a second in the QEMU guest).
ti_dpath_tc_stats() {
	local dev
	for dev in vbr-neuv $(ti_enf_ports); do
		printf '{"dev": "%s", "filters": ' "$dev"
		tc -s -j -n "$TI_ENF_NAME" filter show dev "$dev" ingress 2>/dev/null | grep . || printf '[]'
		printf '}\n'
	done | jq -rs '
		def redirects: .actions[] | select(.kind == "mirred" and .mirred_action == "redirect");
		def sum(f): [f] | add // 0;
		[ .[] | .dev as $d | .filters[] | .options // {} | select(.actions != null) | . + {dev: $d} ] as $k
		| ($k | map(select(.dev != "vbr-neuv"))) as $ports
		| ($k | map(select(.dev == "vbr-neuv"))) as $vbr
		| [ "tap_copies=\(sum($ports[] | select(any(.actions[]; .mirred_action == "mirror"))
		      | redirects | select(.to_dev == "vbr-neuv") | .stats.packets))",
		    "to_dp=\(sum($ports[] | select(all(.actions[]; .mirred_action != "mirror"))
		      | redirects | select(.to_dev == "vbr-neuv") | .stats.packets))",
		    "passed=\(sum($ports[] | select(.flowid == "7063:100")
		      | select(all(.actions[]; .to_dev != "vbr-neuv")) | redirects | .stats.packets))",
		    "from_dp_to_ctr=\(sum($vbr[] | redirects | select(.to_dev | startswith("vin")) | .stats.packets))",
		    "from_dp_to_host=\(sum($vbr[] | redirects | select(.to_dev | startswith("vex")) | .stats.packets))",
		    "action_drops=\(sum($k[] | .actions[] | .stats.drops))" ] | join(" ")' ||
		ti_fail "tc -s -j filter show in the enforcer: not the JSON expected"
}

# ti_dpath_counters: the backend's counters on one line (for logs).
ti_dpath_counters() {
	if [ "$TI_DPATH_BACKEND" = bpf ]; then
		printf 'pc_stats: %s\n' "$(ti_dpath_stats)"
	else
		printf 'tc-pedit actions: %s\n' "$(ti_dpath_tc_stats)"
	fi
}

# ti_dpath_tc_knodes DEV (tc-pedit): u32 knodes (with actions) on DEV's
# ingress in the enforcer, 0 when DEV is gone.
ti_dpath_tc_knodes() {
	{ tc -j -n "$TI_ENF_NAME" filter show dev "$1" ingress 2>/dev/null || true; } |
		jq -s '[(.[0] // [])[] | select(.options.actions != null)] | length'
}

# ti_dpath_tc_actions KIND (tc-pedit): KIND actions (pedit, mirred) in the
# enforcer's action table, those the filters hold included.
ti_dpath_tc_actions() {
	[ -e "$TI_ENF" ] || { echo 0; return; }
	{ tc -n "$TI_ENF_NAME" actions ls action "$1" 2>/dev/null || true; } | grep -c 'index' || true
}

# ti_dpath_assert_released WHAT: nothing of the backend is left for released
# ports: bpf, no pc_ports or pc_ucmacs entry; tc-pedit, no knode on
# vbr-neuv and no pedit or mirred action in the enforcer.
ti_dpath_assert_released() {
	if [ "$TI_DPATH_BACKEND" = bpf ]; then
		ti_assert_eq 0 "$(ti_dpath_map_count pc_ports)" "pc_ports entries $1"
		ti_assert_eq 0 "$(ti_dpath_map_count pc_ucmacs)" "pc_ucmacs entries $1"
	else
		ti_assert_eq 0 "$(ti_dpath_tc_knodes vbr-neuv)" "knodes on vbr-neuv $1"
		ti_assert_eq 0 "$(ti_dpath_tc_actions pedit)" "pedit actions in the enforcer $1"
		ti_assert_eq 0 "$(ti_dpath_tc_actions mirred)" "mirred actions in the enforcer $1"
	fi
}
