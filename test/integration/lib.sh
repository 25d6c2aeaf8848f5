# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# Helpers for the portcullis integration tests.  Source it from a test:
#
#     . "$(dirname "$0")/lib.sh"
#     ti_init                  # root check, unique names, config, cleanup trap
#     ti_host_create           # "host" netns with bridge br0
#     ti_ctr_create c1 1       # "container" netns with eth0 into br0
#     ti_ctr_start c1          # a sleep inside it; its pid in TI_LAST_PID
#
# Everything a test creates is named after a per-run id (TI_ID) and
# registered for removal; ti_cleanup runs on EXIT, INT and TERM, whatever
# state the test is in.  Nothing here touches the interfaces of the root
# network namespace: the hook binary runs there, the test only reads it.
#
# Exit status of a test: 0 pass, 1 fail, 77 skip (see run.sh).

set -euo pipefail
set -E

TI_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TI_ROOT=$(cd "$TI_DIR/../.." && pwd)
HOOK=${PORTCULLIS_HOOK:-$TI_ROOT/build/bin/portcullis-hook}
TI_NAME=$(basename "${0%.sh}")
TI_HOOK_TIMEOUT=${TI_HOOK_TIMEOUT:-30}

# ---------------------------------------------------------------- messages

ti_log() { printf '[%s] %s\n' "$TI_NAME" "$*" >&2; }

ti_fail() {
	printf '[%s] FAIL: %s\n' "$TI_NAME" "$*" >&2
	exit 1
}

ti_skip() {
	printf 'SKIP: %s\n' "$*" >&2
	exit 77
}

ti_on_err() {
	# only the test's own shell reports; a failing command substitution is
	# reported by whoever checks its status
	[ "$BASH_SUBSHELL" -eq 0 ] || return 0
	printf '[%s] FAIL: command failed (status %s) at line %s: %s\n' \
		"$TI_NAME" "$1" "$2" "$3" >&2
}

# ---------------------------------------------------------------- set-up

# Root, tools, hook binary; unique names; config; cleanup trap.
ti_init() {
	[ "$(id -u)" -eq 0 ] || ti_skip "needs root (network namespaces)"
	local c
	for c in ip tc jq ethtool bridge timeout mktemp cksum ss nsenter; do
		command -v "$c" >/dev/null || ti_skip "missing tool: $c"
	done
	[ -x "$HOOK" ] || ti_fail "hook binary not built: $HOOK"

	TI_CLEANUP_CMDS=()
	TI_PIDS=()
	TI_NETNS=()
	TI_CLEANED=0
	trap 'ti_on_err $? $LINENO "$BASH_COMMAND"' ERR
	trap 'ti_cleanup' EXIT
	trap 'ti_log "interrupted"; exit 130' INT
	trap 'ti_log "terminated"; exit 143' TERM

	ti_make_id
	TI_T0=$(date +%s)
	TI_TMP=$(mktemp -d "/tmp/pcti-$TI_ID.XXXXXX")
	TI_STATE_DIR=$(mktemp -d "/tmp/pcti-$TI_ID-state.XXXXXX")
	TI_NS_PREFIX="pcti-$TI_ID"
	TI_ENF_NAME="$TI_NS_PREFIX-enf"
	TI_ENF="/run/netns/$TI_ENF_NAME"
	TI_BPF_DIR="/sys/fs/bpf/pcti-$TI_ID"
	TI_CFG="$TI_TMP/portcullis.json"
	ti_config open
	ti_addr_plan
	ti_log "run id $TI_ID, enforcer $TI_ENF, state $TI_STATE_DIR"
}

# A short id, unique on this machine: 6 base-36 characters, re-drawn while
# anything of that name exists.  Netns names are free-form; interface names
# created by the tests live only in the tests' own namespaces.
ti_make_id() {
	local digits=0123456789abcdefghijklmnopqrstuvwxyz n i id
	while :; do
		n=$(( ($$ * 32768 + RANDOM * 7919 + RANDOM + SECONDS) % 2176782336 ))
		id=
		for i in 1 2 3 4 5 6; do
			id+=${digits:$((n % 36)):1}
			n=$((n / 36))
		done
		if ! compgen -G "/run/netns/pcti-$id-*" >/dev/null &&
		   ! compgen -G "/tmp/pcti-$id*" >/dev/null; then
			TI_ID=$id
			return
		fi
	done
}

# Address ranges picked from the run id.  All of them are used only inside
# namespaces this run creates.
ti_addr_plan() {
	local h
	h=$(printf '%s' "$TI_ID" | cksum | cut -d' ' -f1)
	TI_A=$((16 + h % 200))                  # 10.A.x.y
	TI_V6=$(printf 'fd%02x:%04x:%04x' $(((h >> 8) % 256)) $(((h >> 16) % 65536)) $((h % 65536)))
	TI_NET4="10.$TI_A.1"                    # bridge subnet, /24
	TI_NET4B="10.$TI_A.2"                   # second-port subnet, /24
	TI_NET4M="10.$TI_A.3"                   # macvlan subnet, /24
	TI_GW4="$TI_NET4.1"
	TI_GW4B="$TI_NET4B.1"
	TI_GW4M="$TI_NET4M.1"
	TI_NET6="$TI_V6:1"                      # bridge subnet, /64
	TI_NET6B="$TI_V6:2"
	TI_NET6M="$TI_V6:3"
	TI_GW6="$TI_NET6::1"
	TI_GW6B="$TI_NET6B::1"
	TI_GW6M="$TI_NET6M::1"
}

# ti_config ON_FAILURE [EXTRA_JSON_MEMBERS] -> writes $TI_CFG
ti_config() {
	local extra=${2:-}
	printf '{"enforcer_netns": "%s", "state_dir": "%s", "bpf_pin_dir": "%s", "on_failure": "%s", "log_level": "info"%s}\n' \
		"$TI_ENF" "$TI_STATE_DIR" "$TI_BPF_DIR" "$1" "${extra:+, $extra}" >"$TI_CFG"
}

# Run CMD at cleanup (before namespaces go), last registered first.
ti_on_cleanup() { TI_CLEANUP_CMDS+=("$*"); }

ti_cleanup() {
	local rc=$? i pid ns
	[ "$TI_CLEANED" = 1 ] && return
	TI_CLEANED=1
	trap - ERR
	set +e
	for ((i = ${#TI_CLEANUP_CMDS[@]} - 1; i >= 0; i--)); do
		eval "${TI_CLEANUP_CMDS[$i]}" >/dev/null 2>&1
	done
	for pid in "${TI_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${TI_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	for ns in "${TI_NETNS[@]}" "$TI_ENF_NAME"; do
		[ -e "/run/netns/$ns" ] || continue
		# processes the hook or a test may have left inside
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null || { umount "/run/netns/$ns" 2>/dev/null; rm -f "/run/netns/$ns"; }
	done
	[ -n "${TI_BPF_DIR:-}" ] && [ -d "$TI_BPF_DIR" ] && rm -rf "$TI_BPF_DIR"
	[ -n "${TI_STATE_DIR:-}" ] && rm -rf "$TI_STATE_DIR"
	[ -n "${TI_TMP:-}" ] && rm -rf "$TI_TMP"
	if [ "$rc" -eq 0 ]; then
		ti_log "PASS"
	fi
	exit "$rc"
}

# ---------------------------------------------------------------- topology

ti_netns_add() {
	ip netns add "$1"
	TI_NETNS+=("$1")
	ip -n "$1" link set lo up
}

ti_netns_inode() { stat -L -c %i "/run/netns/$1"; }

# The "host": a netns with bridge br0 and the gateway addresses v4 and v6 of
# the subnets A and B.
ti_host_create() {
	TI_HOST="$TI_NS_PREFIX-host"
	ti_netns_add "$TI_HOST"
	# no IPv6 DAD on the host side: its veths see carrier changes at every
	# pull and release, and DAD is not what these tests are about
	ip netns exec "$TI_HOST" sysctl -q -w net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
	# a fixed MAC: otherwise the bridge takes the lowest of its ports' and
	# changes it when that port goes, and the containers' ARP entries for
	# the gateway go stale
	ip -n "$TI_HOST" link add br0 address "$(printf '02:%02x:00:00:00:01' "$TI_A")" type bridge
	ip -n "$TI_HOST" link set br0 up
	ip -n "$TI_HOST" addr add "$TI_GW4/24" dev br0
	ip -n "$TI_HOST" addr add "$TI_GW4B/24" dev br0
	ip -n "$TI_HOST" addr add "$TI_GW6/64" dev br0 nodad
	ip -n "$TI_HOST" addr add "$TI_GW6B/64" dev br0 nodad
}

declare -A CTR_NS CTR_PIDS CTR_IP4 CTR_IP6 CTR_HOSTIF CTR_HOSTIDX CTR_MAC CTR_BUNDLE

# ti_ctr_create NAME K [second]
# A "container" netns NAME with eth0 (veth, peer hK in br0), K in 1..99.
# IPv4 10.A.1.(10+K)/24 and a secondary 10.A.1.(100+K)/24 with finite
# lifetimes; IPv6 V6:1::(10+K)/64 and one with finite lifetimes; default
# routes v4/v6; a policy-routing table 100 with metric and src hint and its
# rules; an on-link route with a metric; permanent neighbours v4/v6;
# non-default per-device sysctls, MTU and txqueuelen (accept_dad=0 for odd K).
# With "second", a second port eth1 (peer gK in br0) in the subnets B.
# Fixed ifindexes: host peer 100+2K (eth1's: 300+2K), eth0 101+2K (eth1 301+2K),
# so that the host-side peer's index is free in the enforcer netns.
ti_ctr_create() {
	local name=$1 k=$2 second=${3:-}
	local ns="$TI_NS_PREFIX-$name"
	ti_netns_add "$ns"
	CTR_NS[$name]=$ns
	CTR_PIDS[$name]=
	CTR_IP4[$name]="$TI_NET4.$((10 + k))"
	CTR_IP6[$name]="$TI_NET6::$((10 + k))"
	CTR_HOSTIF[$name]="h$k"
	CTR_HOSTIDX[$name]=$((100 + 2 * k))
	CTR_MAC[$name]=$(printf '02:%02x:00:00:01:%02x' "$TI_A" "$k")
	ti_ctr_port "$ns" eth0 "h$k" $((100 + 2 * k)) $((101 + 2 * k)) "${CTR_MAC[$name]}" \
		"$TI_NET4" "$TI_NET6" "$k"
	if [ "$second" = second ]; then
		ti_ctr_port "$ns" eth1 "g$k" $((300 + 2 * k)) $((301 + 2 * k)) \
			"$(printf '02:%02x:00:00:02:%02x' "$TI_A" "$k")" "$TI_NET4B" "$TI_NET6B" "$k"
	fi
	ti_ctr_routes "$ns" "$k"
	ti_bundle "$name"
}

# ti_ctr_port NS DEV HOSTDEV HOSTIDX IDX MAC NET4 NET6 K
ti_ctr_port() {
	local ns=$1 dev=$2 hdev=$3 hidx=$4 idx=$5 mac=$6 n4=$7 n6=$8 k=$9
	ip -n "$TI_HOST" link add "$hdev" index "$hidx" mtu 1480 type veth \
		peer name "$dev" netns "$ns" index "$idx"
	ip -n "$TI_HOST" link set "$hdev" master br0 up
	ip -n "$ns" link set "$dev" address "$mac" mtu 1480 txqueuelen 500
	# DAD off on odd K only: the even ones keep the default, so that the
	# hook's handling of DAD on the new port is seen too
	ip netns exec "$ns" sysctl -q -w \
		"net.ipv6.conf.$dev.accept_dad=$((1 - k % 2))" \
		"net.ipv6.conf.$dev.accept_ra=0" \
		"net.ipv6.conf.$dev.autoconf=0" \
		"net.ipv4.conf.$dev.arp_ignore=1" \
		"net.ipv4.conf.$dev.rp_filter=2"
	ip -n "$ns" link set "$dev" up
	ip -n "$ns" addr add "$n4.$((10 + k))/24" dev "$dev"
	ip -n "$ns" addr add "$n4.$((100 + k))/24" dev "$dev" valid_lft 3600 preferred_lft 1800
	ip -n "$ns" addr add "$n6::$((10 + k))/64" dev "$dev" nodad
	ip -n "$ns" addr add "$n6::$((100 + k))/64" dev "$dev" nodad valid_lft 3600 preferred_lft 1800
	ip -n "$ns" addr add "$n6:0:1:0:$((10 + k))/64" dev "$dev" nodad noprefixroute
	ip -n "$ns" neigh add "$n4.250" lladdr "$(printf '02:00:00:fa:%02x:01' "$k")" dev "$dev" nud permanent
	ip -n "$ns" neigh add "$n6::250" lladdr "$(printf '02:00:00:fa:%02x:02' "$k")" dev "$dev" nud permanent
}

ti_ctr_routes() {
	local ns=$1 k=$2
	ip -n "$ns" route add default via "$TI_GW4" dev eth0
	ip -n "$ns" -6 route add default via "$TI_GW6" dev eth0
	ip -n "$ns" route add "10.$TI_A.200.0/24" via "$TI_GW4" dev eth0 table 100 metric 50 \
		src "$TI_NET4.$((10 + k))"
	ip -n "$ns" -6 route add "$TI_V6:200::/64" via "$TI_GW6" dev eth0 table 100 metric 50 \
		src "$TI_NET6::$((10 + k))"
	ip -n "$ns" route add "10.$TI_A.201.0/24" dev eth0 scope link metric 300
	ip -n "$ns" -6 route add "$TI_V6:201::/64" dev eth0 metric 300
	ip -n "$ns" rule add from "10.$TI_A.9.0/24" lookup 100 pref 1000
	ip -n "$ns" -6 rule add from "$TI_V6:9::/64" lookup 100 pref 1000
}

# A bundle directory whose config.json names the container netns, as runc
# and podman write it.
ti_bundle() {
	local name=$1 b="$TI_TMP/bundle-$1"
	mkdir -p "$b"
	if ti_json_plain "/run/netns/${CTR_NS[$name]}"; then
		printf '{"ociVersion":"1.0.2","linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"network","path":"%s"}]}}\n' \
			"/run/netns/${CTR_NS[$name]}" >"$b/config.json"
	else
		jq -n --arg p "/run/netns/${CTR_NS[$name]}" \
			'{ociVersion: "1.0.2", linux: {namespaces: [{type: "pid"}, {type: "mount"}, {type: "network", path: $p}]}}' \
			>"$b/config.json"
	fi
	CTR_BUNDLE[$name]=$b
}

# ti_json_plain STRING...: each STRING can go between JSON quotes as it is
# (then the state documents are written with printf: a jq start costs
# half a second in the QEMU guest, and the churn writes hundreds).
ti_json_plain() {
	local v
	for v in "$@"; do
		[[ $v =~ ^[A-Za-z0-9/._:+@=-]*$ ]] || return 1
	done
}

# ti_ctr_start NAME: a sleep inside the container netns; pid in TI_LAST_PID.
ti_ctr_start() {
	local name=$1 ns=${CTR_NS[$1]} pid ino i
	ip netns exec "$ns" sleep 900 </dev/null >/dev/null 2>&1 &
	pid=$!
	TI_PIDS+=("$pid")
	CTR_PIDS[$name]="${CTR_PIDS[$name]} $pid"
	ino=$(ti_netns_inode "$ns")
	for ((i = 0; i < 200; i++)); do
		[ "$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null)" = "$ino" ] && break
		sleep 0.01
	done
	[ "$(stat -L -c %i "/proc/$pid/ns/net")" = "$ino" ] || ti_fail "sleep $pid did not enter $ns"
	TI_LAST_PID=$pid
}

# ti_pid_start NETNS_NAME: a sleep in any netns (the enforcer, say).
ti_pid_start() {
	ip netns exec "$1" sleep 900 </dev/null >/dev/null 2>&1 &
	TI_PIDS+=("$!")
	TI_LAST_PID=$!
	local i ino
	ino=$(ti_netns_inode "$1")
	for ((i = 0; i < 200; i++)); do
		[ "$(stat -L -c %i "/proc/$TI_LAST_PID/ns/net" 2>/dev/null)" = "$ino" ] && return
		sleep 0.01
	done
	ti_fail "sleep $TI_LAST_PID did not enter $1"
}

# Kill one pid started by ti_*_start (the "container process exits").
ti_kill() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# Kill the processes of a container and delete its netns.
ti_ctr_destroy() {
	local name=$1 pid
	for pid in ${CTR_PIDS[$name]}; do
		ti_kill "$pid"
	done
	ip netns del "${CTR_NS[$name]}"
}

# ---------------------------------------------------------------- the hook

# ti_cid TAG: a container id for this run, 64 hex digits as runtimes make them.
ti_cid() { printf '%s/%s' "$TI_ID" "$1" | sha256sum | cut -c1-64; }

# ti_state_pre ID PID [BUNDLE] [ANNOTATIONS_JSON]
ti_state_pre() {
	# (annotations: a JSON object, as it is given)
	if ti_json_plain "$1" "${3:-}" && [[ $2 =~ ^[0-9]+$ ]] && [[ ${4:-} =~ ^(\{[^$'\n']*\})?$ ]]; then
		printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":%s%s%s}\n' "$1" "$2" \
			"${3:+,\"bundle\":\"$3\"}" "${4:+,\"annotations\":$4}"
		return
	fi
	jq -cn --arg id "$1" --argjson pid "$2" --arg b "${3:-}" --argjson a "${4:-null}" \
		'{ociVersion: "1.0.2", id: $id, status: "creating", pid: $pid}
		 + (if $b != "" then {bundle: $b} else {} end)
		 + (if $a != null then {annotations: $a} else {} end)'
}

# ti_state_post ID [BUNDLE]
ti_state_post() {
	if ti_json_plain "$1" "${2:-}"; then
		printf '{"ociVersion":"1.0.2","id":"%s","status":"stopped"%s}\n' "$1" "${2:+,\"bundle\":\"$2\"}"
		return
	fi
	jq -cn --arg id "$1" --arg b "${2:-}" \
		'{ociVersion: "1.0.2", id: $id, status: "stopped"}
		 + (if $b != "" then {bundle: $b} else {} end)'
}

# ti_hook_in STDIN_FILE ARGS...: runs the hook, sets HOOK_RC, HOOK_OUT, HOOK_ERR.
ti_hook_in() {
	local in=$1
	shift
	HOOK_RC=0
	timeout "$TI_HOOK_TIMEOUT" "$HOOK" "$@" <"$in" >"$TI_TMP/hook.out" 2>"$TI_TMP/hook.err" || HOOK_RC=$?
	HOOK_OUT=$(cat "$TI_TMP/hook.out")
	HOOK_ERR=$(cat "$TI_TMP/hook.err")
	[ "$HOOK_RC" -ne 124 ] || ti_fail "hook timed out after ${TI_HOOK_TIMEOUT}s: $*"
}

# ti_hook ARGS...: no stdin, default config.
ti_hook() { ti_hook_in /dev/null --config "$TI_CFG" "$@"; }

# ti_stage STAGE JSON [CONFIG]
ti_stage() {
	printf '%s\n' "$2" >"$TI_TMP/state.json"
	ti_hook_in "$TI_TMP/state.json" --config "${3:-$TI_CFG}" "$1"
}

# ti_prestart NAME ID [PID]: prestart for a container (pid: its last sleep).
ti_prestart() {
	local pid=${3:-${CTR_PIDS[$1]##* }}
	ti_stage prestart "$(ti_state_pre "$2" "$pid" "${CTR_BUNDLE[$1]}")"
}

ti_poststop() { ti_stage poststop "$(ti_state_post "$2" "${CTR_BUNDLE[$1]}")"; }

ti_hook_show() {
	printf '  exit %s\n  stdout: %s\n  stderr: %s\n' "$HOOK_RC" "$HOOK_OUT" "$HOOK_ERR" >&2
}

# ti_expect_rc RC WHAT
ti_expect_rc() {
	if [ "$HOOK_RC" -ne "$1" ]; then
		ti_hook_show
		ti_fail "$2: expected exit $1, got $HOOK_RC"
	fi
}

# ti_expect_one_line WHAT: stderr is exactly one non-empty line.
ti_expect_one_line() {
	local n
	n=$(grep -c '' "$TI_TMP/hook.err" || true)
	if [ "$n" -ne 1 ] || [ -z "$HOOK_ERR" ]; then
		ti_hook_show
		ti_fail "$1: expected exactly one line on stderr, got $n"
	fi
}

ti_status_json() {
	ti_hook status --json
	ti_expect_rc 0 "status --json"
	[ -n "$HOOK_OUT" ] && jq -e 'type == "array"' <<<"$HOOK_OUT" >/dev/null ||
		ti_fail "status --json is not a JSON array: '$HOOK_OUT'"
	printf '%s\n' "$HOOK_OUT"
}

# ---------------------------------------------------------------- pictures

# Wait (bounded) until no IPv6 address in NS is tentative (DAD running).
ti_wait_dad() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -z "$(ip -n "$1" -6 addr show tentative)" ] && return 0
		sleep 0.05
	done
	ti_log "warning: tentative addresses in $1 after 5s"
}

# ti_dump NS [MODE] [PORTS...]: a normalized picture of a netns on stdout.
# MODE strict: everything but counters.  pulled: also masks what a new veth
# cannot keep - its own ifindex, and its peer's index and netns id (the peer
# index is checked separately).  kind: like pulled, and for the named PORTS
# also what belongs to the link kind (used when a macvlan becomes a veth).
# Addresses are kept in the kernel's order (it decides the primary IPv4
# address and is what `ip addr` shows).
# Finite address lifetimes and route expiries count down: they are shown as
# "remaining + seconds since the test started" rounded to 100 s, a constant
# for a lifetime set at the start of the test and carried over; bridge
# timers (gc_timer, forward_delay_timer, ...) are left out.
ti_dump() {
	local ns=$1 mode=${2:-strict}
	shift $(($# >= 2 ? 2 : $#))
	local ports
	ports=$(printf '%s\n' "$@" | jq -Rsc 'split("\n") | map(select(. != ""))')
	ti_wait_dad "$ns"
	local el=$(($(date +%s) - TI_T0))
	echo "## links"
	ip -n "$ns" -d -j link show | jq -S --arg mode "$mode" --argjson ports "$ports" '
		[ .[] | del(.stats, .stats64)
		  | walk(if type == "object" then with_entries(select(.key | endswith("_timer") | not)) else . end)
		  | if $mode != "strict" then del(.ifindex, .link_index, .link_netnsid, .link) else . end
		  | if $mode == "kind" and (.ifname as $n | $ports | index($n)) then
		      del(.linkinfo, .num_tx_queues, .num_rx_queues, .max_mtu, .min_mtu,
		          .tso_max_size, .tso_max_segs, .gso_max_size, .gso_max_segs,
		          .gro_max_size, .gso_ipv4_max_size, .gro_ipv4_max_size)
		    else . end
		] | sort_by(.ifname)'
	echo "## addresses"
	ip -n "$ns" -j addr show | jq -S --argjson el "$el" '
		def r: if . == 4294967295 then . else (((. + $el) / 100) | round) * 100 end;
		[ .[] | {ifname, addr_info: ([.addr_info[]
		      | .valid_life_time |= r | .preferred_life_time |= r])} ]
		  | sort_by(.ifname)'
	echo "## routes"
	{
		ip -n "$ns" -d -4 route show table all
		ip -n "$ns" -d -6 route show table all
	} | awk -v el="$el" '{ for (i = 1; i < NF; i++) if ($i == "expires") { v = $(i + 1); sub(/sec$/, "", v); $(i + 1) = int((v + el + 50) / 100) * 100 "s~" } print }' | sort
	echo "## rules"
	ip -n "$ns" -4 rule show
	ip -n "$ns" -6 rule show
	echo "## permanent neighbours"
	{
		ip -n "$ns" -4 neigh show nud permanent
		ip -n "$ns" -6 neigh show nud permanent
	} | sort
	# per-device sysctls and offload features, one process for all devices
	local devs noeth=
	devs=$(ip -n "$ns" -j link show | jq -r '.[].ifname | select(. != "lo")' | sort)
	[ "$mode" = kind ] && noeth=" $* "
	# shellcheck disable=SC2086
	NOETH=$noeth ip netns exec "$ns" bash -c '
		for dev in "$@"; do
			echo "## sysctls $dev"
			for d in /proc/sys/net/ipv4/conf/$dev /proc/sys/net/ipv6/conf/$dev; do
				[ -d "$d" ] || continue
				for f in "$d"/*; do
					case $f in */stable_secret) continue ;; esac
					IFS= read -r v <"$f" 2>/dev/null || v="<unreadable>"
					printf "%s=%s\n" "${f#/proc/sys/net/}" "$v"
				done
			done
			case $NOETH in *" $dev "*) continue ;; esac
			echo "## ethtool -k $dev"
			ethtool -k "$dev" 2>&1 | sed 1d
		done' _ $devs
}

# ti_dump_to FILE NS [MODE] [PORTS...]
ti_dump_to() {
	local f=$1
	shift
	ti_dump "$@" >"$f"
}

# ti_assert_same A B WHAT: two dump files are equal, else diff -u and fail.
ti_assert_same() {
	if ! diff -u "$1" "$2" >"$TI_TMP/diff.txt"; then
		cat "$TI_TMP/diff.txt" >&2
		ti_fail "$3: pictures differ (diff above: - expected, + actual)"
	fi
}

# ti_assert_eq EXPECTED ACTUAL WHAT
ti_assert_eq() {
	[ "$1" = "$2" ] || ti_fail "$3: expected '$1', got '$2'"
}

ti_link_exists() { ip -n "$1" link show dev "$2" >/dev/null 2>&1; }

# Interface names in NS matching an extended regex, one a line, sorted.
ti_links() {
	ip -n "$1" -j link show | jq -r '.[].ifname' | { grep -E "$2" || true; } | sort
}

# Enforcer ports (vex*/vin*), empty when the enforcer netns does not exist.
ti_enf_ports() {
	[ -e "$TI_ENF" ] || return 0
	ti_links "$TI_ENF_NAME" '^v(ex|in)'
}

# ti_wait_until SECONDS CMD...: poll CMD (every 50 ms) until it succeeds.
ti_wait_until() {
	local t=$1 i
	shift
	for ((i = 0; i < t * 20; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	"$@"
}

ti_no_enf_ports() { [ -z "$(ti_enf_ports)" ]; }

ti_state_files() { find "$TI_STATE_DIR" -maxdepth 1 -name 'netns-*.json' -printf '%f\n' | sort; }

# The enforcer netns holds only lo, vbr-neuv and vth-neuv; no state records.
ti_assert_enf_clean() {
	ti_wait_until 5 ti_no_enf_ports || ti_fail "$1: enforcer still has ports: $(ti_enf_ports | tr '\n' ' ')"
	if [ -e "$TI_ENF" ]; then
		local l
		l=$(ti_links "$TI_ENF_NAME" . | tr '\n' ' ')
		ti_assert_eq "lo vbr-neuv vth-neuv " "$l" "$1: enforcer links"
	fi
	[ -z "$(ti_state_files)" ] || ti_fail "$1: state records left: $(ti_state_files | tr '\n' ' ')"
}

# No vex*/vin* in the enforcer netns and no state record (after a refusal,
# a bad input or a rolled-back pull).
ti_assert_no_interception() {
	ti_wait_until 5 ti_no_enf_ports || ti_fail "$1: enforcer has ports: $(ti_enf_ports | tr '\n' ' ')"
	[ -z "$(ti_state_files)" ] || ti_fail "$1: state records: $(ti_state_files | tr '\n' ' ')"
}

# JSON of a link in a netns.
ti_link_json() { ip -n "$1" -d -j link show dev "$2" | jq -c '.[0]'; }

# ti_assert_up NS DEV: admin up and carrier.
ti_assert_up() {
	local j
	j=$(ti_link_json "$1" "$2") || ti_fail "$2 missing in $1"
	jq -e '(.flags | index("UP")) and (.flags | index("LOWER_UP"))' <<<"$j" >/dev/null ||
		ti_fail "$2 in $1 is not up with carrier: $(jq -c .flags <<<"$j")"
}

# ---------------------------------------------------------------- traffic

# ti_ping NS DEST: one echo answered within 3 s.
ti_ping() {
	ip netns exec "$1" ping -n -q -c 1 -w 3 "$2" >/dev/null 2>&1 ||
		ti_fail "ping $2 from $1 failed"
}

# ti_tcp SERVER_NS SERVER_ADDR CLIENT_NS PORT: 1 MB random data, echoed back
# by a socat server, must come back byte for byte.
ti_tcp() {
	local sns=$1 addr=$2 cns=$3 port=$4 proto=TCP4 listen=TCP4-LISTEN dst=$2
	case $addr in *:*) proto=TCP6 listen=TCP6-LISTEN dst="[$addr]" ;; esac
	head -c 1000000 /dev/urandom >"$TI_TMP/tcp.in"
	ip netns exec "$sns" timeout 20 socat -T 10 "$listen:$port,bind=$dst,reuseaddr" EXEC:cat \
		</dev/null >/dev/null 2>"$TI_TMP/tcp.srv" &
	local spid=$!
	TI_PIDS+=("$spid")
	ti_wait_until 5 ti_listening "$sns" "$port" || ti_fail "socat server on $addr:$port did not start"
	ip netns exec "$cns" timeout 20 socat -T 10 - "$proto:$dst:$port,shut-down" \
		<"$TI_TMP/tcp.in" >"$TI_TMP/tcp.out" 2>"$TI_TMP/tcp.cli" || {
		cat "$TI_TMP/tcp.cli" "$TI_TMP/tcp.srv" >&2
		ti_fail "TCP exchange $cns -> $addr:$port failed"
	}
	wait "$spid" 2>/dev/null || true
	cmp -s "$TI_TMP/tcp.in" "$TI_TMP/tcp.out" ||
		ti_fail "TCP exchange $cns -> $addr:$port: data differs ($(stat -c %s "$TI_TMP/tcp.out") of 1000000 bytes back)"
}

ti_listening() { [ -n "$(ip netns exec "$1" ss -Hltn "sport = :$2")" ]; }

# Full connectivity check of container NAME: gateway v4/v6 and, for each
# other container, v4/v6.
ti_reach() {
	local name=$1 other
	shift
	ti_ping "${CTR_NS[$name]}" "$TI_GW4"
	ti_ping "${CTR_NS[$name]}" "$TI_GW6"
	for other in "$@"; do
		ti_ping "${CTR_NS[$name]}" "${CTR_IP4[$other]}"
		ti_ping "${CTR_NS[$name]}" "${CTR_IP6[$other]}"
	done
}

# ---------------------------------------------------------------- pulled picture

# ti_ifindex NS DEV
ti_ifindex() { ip -n "$1" -j link show dev "$2" | jq -r '.[0].ifindex'; }

# The vbr-neuv/vth-neuv pair: ifindex 10000000/10000001 (free in a fresh
# enforcer netns), peers of each other, MTU 1500, up.
ti_assert_enf_pair() {
	[ -e "$TI_ENF" ] || ti_fail "enforcer netns $TI_ENF does not exist"
	local vbr vth
	vbr=$(ti_link_json "$TI_ENF_NAME" vbr-neuv) || ti_fail "no vbr-neuv in the enforcer"
	vth=$(ti_link_json "$TI_ENF_NAME" vth-neuv) || ti_fail "no vth-neuv in the enforcer"
	ti_assert_eq 10000000 "$(jq -r .ifindex <<<"$vbr")" "vbr-neuv ifindex"
	ti_assert_eq 10000001 "$(jq -r .ifindex <<<"$vth")" "vth-neuv ifindex"
	# a veth peer in the same netns is shown by name
	ti_assert_eq vth-neuv "$(jq -r .link <<<"$vbr")" "vbr-neuv peer"
	ti_assert_eq vbr-neuv "$(jq -r .link <<<"$vth")" "vth-neuv peer"
	ti_assert_eq "veth veth" "$(jq -r .linkinfo.info_kind <<<"$vbr") $(jq -r .linkinfo.info_kind <<<"$vth")" "pair kind"
	ti_assert_eq "1500 1500" "$(jq -r .mtu <<<"$vbr") $(jq -r .mtu <<<"$vth")" "pair MTU"
	ti_assert_up "$TI_ENF_NAME" vbr-neuv
	ti_assert_up "$TI_ENF_NAME" vth-neuv
}

# ti_assert_tc_redirect DEV PEER: DEV's ingress steers to PEER: a u32+mirred
# redirect (tc-pedit backend), or the bpf backend's program with DEV's map
# entry naming PEER.
ti_assert_tc_redirect() {
	local out peer
	out=$(tc -n "$TI_ENF_NAME" filter show dev "$1" ingress)
	if grep -q "pc_port_ingress" <<<"$out"; then
		peer=$(ip -n "$TI_ENF_NAME" -j link show dev "$2" | jq -r '.[0].ifindex')
		ti_bpf_port_peer "$1" | grep -qx "$peer" ||
			ti_fail "bpf: $1's pc_ports entry does not name $2 (ifindex $peer)"
		return
	fi
	grep -q "Redirect to device $2" <<<"$out" ||
		ti_fail "no ingress redirect $1 -> $2 in the enforcer; tc filter show: $out"
}

# ti_bpf_port_entry DEV: DEV's pc_ports entry as bpftool prints it (JSON).
ti_bpf_port_entry() {
	local idx key
	idx=$(ip -n "$TI_ENF_NAME" -j link show dev "$1" | jq -r '.[0].ifindex')
	key=$(printf '%08x' "$idx" | sed -E 's/(..)(..)(..)(..)/0x\4 0x\3 0x\2 0x\1/')
	bpftool -j map lookup pinned "$TI_BPF_DIR/$TI_ENF_NAME/pc_ports" key $key 2>/dev/null
}

# ti_bpf_port_peer DEV: the peer ifindex in DEV's pc_ports entry (bpftool).
ti_bpf_port_peer() {
	ti_bpf_port_entry "$1" | jq -r '.formatted.value.peer_ifindex // empty'
}

# ti_bpf_port_to_peer DEV: how DEV's pc_ports entry forwards to its peer:
# direct (PC_PORT_PEER_DIRECT: into the peer's far end) or xmit.  Reads
# the flags byte (the 6th) when bpftool prints no BTF-formatted value.
ti_bpf_port_to_peer() {
	ti_bpf_port_entry "$1" | jq -r '(.formatted.value.flags // (.value[5] | ltrimstr("0x") | tonumber))
		| if . % 2 == 1 then "direct" else "xmit" end'
}

# ti_kernel_redirects_peer_well: whether this kernel is one on which the
# hook forwards into a veth's far end (6.15 and later, lib/dpath/dpath_bpf.c).
ti_kernel_redirects_peer_well() {
	local v
	v=$(uname -r | cut -d. -f1-2)
	[ "${v%%.*}" -gt 6 ] || { [ "${v%%.*}" -eq 6 ] && [ "${v#*.}" -ge 15 ]; }
}

# ti_assert_port_pulled NS DEV HOSTDEV HOSTIDX MAC EX IN [KIND]
# The container port DEV is a new veth with the original MAC whose peer IN
# (in the enforcer) has ifindex HOSTIDX; the original port EX is in the
# enforcer, still the peer of HOSTDEV in the host netns (for a veth), both
# up and forwarding to each other.
ti_assert_port_pulled() {
	local ns=$1 dev=$2 hdev=$3 hidx=$4 mac=$5 ex=$6 in=$7 kind=${8:-veth}
	local c e i h
	c=$(ti_link_json "$ns" "$dev") || ti_fail "$dev missing in $ns after the pull"
	e=$(ti_link_json "$TI_ENF_NAME" "$ex") || ti_fail "$ex missing in the enforcer; has: $(ti_links "$TI_ENF_NAME" . | tr '\n' ' ')"
	i=$(ti_link_json "$TI_ENF_NAME" "$in") || ti_fail "$in missing in the enforcer; has: $(ti_links "$TI_ENF_NAME" . | tr '\n' ' ')"
	ti_assert_eq veth "$(jq -r .linkinfo.info_kind <<<"$c")" "$ns $dev kind after the pull"
	ti_assert_eq "$mac" "$(jq -r .address <<<"$c")" "$ns $dev MAC after the pull"
	ti_assert_eq "$mac" "$(jq -r .address <<<"$e")" "$ex MAC"
	ti_assert_eq "$kind" "$(jq -r .linkinfo.info_kind <<<"$e")" "$ex kind"
	ti_assert_eq veth "$(jq -r .linkinfo.info_kind <<<"$i")" "$in kind"
	# iflink of the new port = its peer's ifindex = the host peer's old index
	ti_assert_eq "$(jq -r .ifindex <<<"$i")" "$(jq -r .link_index <<<"$c")" "$ns $dev iflink vs $in ifindex"
	ti_assert_eq "$hidx" "$(jq -r .ifindex <<<"$i")" "$in ifindex (the host-side peer's)"
	ti_assert_eq "$(jq -r .ifindex <<<"$c")" "$(jq -r .link_index <<<"$i")" "$in iflink"
	if [ "$kind" = veth ]; then
		h=$(ti_link_json "$TI_HOST" "$hdev") || ti_fail "host-side $hdev vanished"
		ti_assert_eq "$(jq -r .ifindex <<<"$e")" "$(jq -r .link_index <<<"$h")" "$hdev peer is $ex"
		ti_assert_eq br0 "$(jq -r .master <<<"$h")" "$hdev master"
		ti_assert_up "$TI_HOST" "$hdev"
	fi
	ti_assert_up "$ns" "$dev"
	ti_assert_up "$TI_ENF_NAME" "$ex"
	ti_assert_up "$TI_ENF_NAME" "$in"
	ti_assert_tc_redirect "$ex" "$in"
	ti_assert_tc_redirect "$in" "$ex"
}

# ti_assert_pulled NAME PID: eth0 of a one-port container, named vexPID-0/vinPID-0.
ti_assert_pulled() {
	local name=$1 pid=$2
	ti_assert_port_pulled "${CTR_NS[$name]}" eth0 "${CTR_HOSTIF[$name]}" "${CTR_HOSTIDX[$name]}" \
		"${CTR_MAC[$name]}" "vex$pid-0" "vin$pid-0"
}

# ti_assert_record JSON NAME PID IDS...: the status record of a container
# netns: inode, first pid, the container ids (in order), and for each port
# the names and indexes as they are in the namespaces now.
ti_assert_record() {
	local all=$1 name=$2 pid=$3 ino rec
	shift 3
	ino=$(ti_netns_inode "${CTR_NS[$name]}")
	rec=$(jq -c --argjson ino "$ino" '[.[] | select(.netns_inode == $ino)]' <<<"$all")
	ti_assert_eq 1 "$(jq length <<<"$rec")" "status records for $name (inode $ino)"
	rec=$(jq -c '.[0]' <<<"$rec")
	ti_assert_eq "$pid" "$(jq -r .pid <<<"$rec")" "$name record pid"
	ti_assert_eq "$*" "$(jq -r '[.containers[].id] | join(" ")' <<<"$rec")" "$name record containers"
	[ -f "$TI_STATE_DIR/netns-$ino.json" ] || ti_fail "no state file netns-$ino.json; have: $(ti_state_files | tr '\n' ' ')"
	local n p ctr ex in
	n=$(jq '.ports | length' <<<"$rec")
	[ "$n" -ge 1 ] || ti_fail "$name record has no ports"
	for ((p = 0; p < n; p++)); do
		local port
		port=$(jq -c ".ports[$p]" <<<"$rec")
		ctr=$(jq -r .name <<<"$port")
		ex=$(jq -r .ex_name <<<"$port")
		in=$(jq -r .in_name <<<"$port")
		[[ $ex =~ ^vex$pid-[0-9a-z]+$ ]] || ti_fail "$name ex_name '$ex' is not vex$pid-<ordinal>"
		[[ $in =~ ^vin$pid-[0-9a-z]+$ ]] || ti_fail "$name in_name '$in' is not vin$pid-<ordinal>"
		ti_assert_eq "$(ti_ifindex "${CTR_NS[$name]}" "$ctr")" "$(jq -r .ctr_ifindex <<<"$port")" "$name $ctr ctr_ifindex"
		ti_assert_eq "$(ti_ifindex "$TI_ENF_NAME" "$ex")" "$(jq -r .ex_ifindex <<<"$port")" "$name $ex ex_ifindex"
		ti_assert_eq "$(ti_ifindex "$TI_ENF_NAME" "$in")" "$(jq -r .in_ifindex <<<"$port")" "$name $in in_ifindex"
		ti_assert_eq "$(ip -n "${CTR_NS[$name]}" -j link show dev "$ctr" | jq -r '.[0].address')" \
			"$(jq -r .mac <<<"$port")" "$name $ctr mac in the record"
	done
}

# ================================================================ data path
# Helpers of the data-path tests (test_dp_*.sh): modes tap and fwd, the test
# data plane pc-reflector and the frame counter pc-sniff (test/tools/).
# Everything below only adds to what is above.
#
# The backend is TI_DP_BACKEND: bpf (the default) or tc-pedit (the one
# test/qemu/run.sh runs in its guest; this host's kernel has no act_pedit).
# The same tests run with either; where they look at the backend's own
# counters they ask ti_dp_backend which one runs: bpf's pc_stats map
# (ti_dp_stat) or the statistics of the tc actions of the tc-pedit filters
# (ti_dp_tc_stat).
TI_DP_BACKEND=${TI_DP_BACKEND:-bpf}

# ti_need_web: a web server and client for tests that serve pages between
# containers: PY (python3, for http.server) and curl, or the test is skipped.
ti_need_web() {
	PY=/usr/bin/python3
	[ -x "$PY" ] || PY=$(command -v python3) || ti_skip "no python3"
	command -v curl >/dev/null || ti_skip "missing tool: curl"
}

# ti_dp_init: ti_init, plus the tools the data-path tests need.
ti_dp_init() {
	ti_init
	local c tools=(socat awk sort)
	case $TI_DP_BACKEND in
	bpf) tools+=(bpftool) ;;
	tc-pedit) ;;
	*) ti_fail "TI_DP_BACKEND '$TI_DP_BACKEND': not bpf nor tc-pedit" ;;
	esac
	for c in "${tools[@]}"; do
		command -v "$c" >/dev/null || ti_skip "missing tool: $c"
	done
	ti_dp_tools
	ti_log "data-path backend $TI_DP_BACKEND"
}

# ti_dp_backend: the backend these tests run (TI_DP_BACKEND).
ti_dp_backend() { printf '%s\n' "$TI_DP_BACKEND"; }

# PC_SNIFF and PC_REFLECTOR: from $PORTCULLIS_TOOLS, else the build next to
# the hook (build/test/tools), else compiled from test/tools/ into TI_TMP.
ti_dp_tools() {
	local d src=$TI_ROOT/test/tools t
	for d in "${PORTCULLIS_TOOLS:-}" "$(dirname "$HOOK")/../test/tools"; do
		if [ -n "$d" ] && [ -x "$d/pc-sniff" ] && [ -x "$d/pc-reflector" ]; then
			PC_SNIFF=$d/pc-sniff
			PC_REFLECTOR=$d/pc-reflector
			return
		fi
	done
	command -v cc >/dev/null || ti_skip "pc-sniff/pc-reflector not built and no cc"
	for t in pc-sniff pc-reflector; do
		cc -O2 -Wall -D_GNU_SOURCE -I"$TI_ROOT" -o "$TI_TMP/$t" "$src/$t.c" -lbpf \
			2>"$TI_TMP/$t.cc" || { cat "$TI_TMP/$t.cc" >&2; ti_fail "cannot build $t"; }
	done
	PC_SNIFF=$TI_TMP/pc-sniff
	PC_REFLECTOR=$TI_TMP/pc-reflector
}

# ti_dp_config MODE [DP_DOWN] [EXTRA_JSON_MEMBERS]: backend TI_DP_BACKEND,
# on_failure closed (a data path that cannot be set up fails the hook,
# visibly); the data plane's control socket in TI_TMP unless EXTRA names one.
ti_dp_config() {
	local extra=${3:-}
	[[ $extra == *'"ctl_socket"'* ]] || extra="\"ctl_socket\": \"$TI_TMP/dp.sock\"${extra:+, $extra}"
	ti_config closed "\"backend\": \"$TI_DP_BACKEND\", \"mode\": \"$1\", \"dp_down\": \"${2:-open}\", $extra"
}

# The pin folder of this run's enforcer namespace (bpf).
ti_dp_pin() { printf '%s/%s\n' "$TI_BPF_DIR" "$TI_ENF_NAME"; }

# ti_dp_require_backend WHAT [MODE]: after a pull of the first container
# (in MODE, default the config's), the hook must run the configured backend
# in that mode.  When it cannot (the hook failed naming the backend, or it
# recorded another backend or mode: tc-pedit without act_pedit runs tap and
# fwd as pass), the test skips (77) only if the other backend cannot run
# here either; if the other one can, it fails: this machine should test
# with that one (TI_DP_BACKEND).
ti_dp_require_backend() {
	local what=$1 want st why= other
	want=${2:-$(jq -r .mode "$TI_CFG")}
	if [ "$HOOK_RC" -ne 0 ]; then
		grep -q "backend $TI_DP_BACKEND" <<<"$HOOK_ERR" || { ti_hook_show; ti_fail "$what failed"; }
		why=$(grep "backend $TI_DP_BACKEND" <<<"$HOOK_ERR" | tail -n 1 | sed "s/.*\(backend $TI_DP_BACKEND\)/\1/")
	else
		st=$(ti_status_json)
		[ "$(jq length <<<"$st")" -ge 1 ] || ti_fail "$what: no status record (hook output: $HOOK_ERR)"
		if [ "$(jq -r '.[0].backend' <<<"$st")" != "$TI_DP_BACKEND" ]; then
			why="status shows backend '$(jq -r '.[0].backend' <<<"$st")' for a config with backend $TI_DP_BACKEND"
		elif [ "$(jq -r '.[0].mode' <<<"$st")" != "$want" ]; then
			why="the hook runs mode '$(jq -r '.[0].mode' <<<"$st")' for mode '$want' with backend $TI_DP_BACKEND"
			# the hook's warning says why
			if grep -q ': warn: ' <<<"$HOOK_ERR"; then
				why+=" ($(grep ': warn: ' <<<"$HOOK_ERR" | head -n 1))"
			fi
		fi
	fi
	[ -n "$why" ] || return 0
	other=bpf
	[ "$TI_DP_BACKEND" = bpf ] && other=tc-pedit
	if ti_dp_backend_runs "$other"; then
		ti_fail "backend $TI_DP_BACKEND cannot run here ($why), backend $other can: run with TI_DP_BACKEND=$other"
	fi
	ti_skip "neither data-path backend can run here: $why; backend $other: $TI_DP_RUNS_WHY"
}

# ti_dp_backend_runs BACKEND: whether this kernel can run BACKEND (why not
# in TI_DP_RUNS_WHY).  tc-pedit: a pedit action can be created (in a
# namespace of this run); bpf: bpftool finds cls_bpf programs available.
ti_dp_backend_runs() {
	TI_DP_RUNS_WHY=
	case $1 in
	tc-pedit)
		local ns="$TI_NS_PREFIX-probe"
		[ -e "/run/netns/$ns" ] || ti_netns_add "$ns"
		if ! tc -n "$ns" actions add action pedit ex munge eth dst set 02:00:00:00:00:01 >/dev/null 2>&1; then
			TI_DP_RUNS_WHY="no pedit action in this kernel"
			return 1
		fi
		;;
	bpf)
		command -v bpftool >/dev/null || { TI_DP_RUNS_WHY="cannot tell (no bpftool)"; return 1; }
		# (all of the output first: grep -q would end bpftool with SIGPIPE)
		local probe
		probe=$(bpftool feature probe kernel 2>/dev/null) || true
		grep -q 'program_type sched_cls is available' <<<"$probe" ||
			{ TI_DP_RUNS_WHY="no sched_cls programs in this kernel"; return 1; }
		;;
	esac
}

# ti_dp_record NAME: the status record of container NAME (compact JSON).
ti_dp_record() {
	jq -c --argjson ino "$(ti_netns_inode "${CTR_NS[$1]}")" \
		'.[] | select(.netns_inode == $ino)' <<<"$(ti_status_json)"
}

# ti_dp_ucmac NAME: the UCMAC of eth0 of container NAME, lower case.
ti_dp_ucmac() {
	local m
	m=$(jq -r '.ports[] | select(.name == "eth0") | .ucmac // empty' <<<"$(ti_dp_record "$1")")
	[[ $m =~ ^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$ ]] || ti_fail "no UCMAC for $1 in status: '$m'"
	# locally administered unicast
	(((0x${m:0:2} & 3) == 2)) || ti_fail "UCMAC $m of $1 is not locally administered unicast"
	printf '%s\n' "${m,,}"
}

# ti_dp_mode NAME ID MODE: switch a live container, check status shows it.
ti_dp_mode() {
	ti_hook mode "$2" "$3"
	ti_expect_rc 0 "mode $3 for $1"
	[ "$3" = off ] && return 0
	ti_assert_eq "$3" "$(jq -r .mode <<<"$(ti_dp_record "$1")")" "status mode of $1 after 'mode $3'"
}

# ti_dp_map_count MAP: number of entries of a pinned map of this run.
ti_dp_map_count() {
	local p
	p="$(ti_dp_pin)/$1"
	[ -e "$p" ] || { echo 0; return; }
	bpftool map dump pinned "$p" -j | jq length
}

# ti_dp_stat_names: the pc_stats counters' names in index order, as
# lib/dpath/bpf/dpath_common.h lists them (PC_STAT_NAMES; bpf runs only on the
# host, where the tree is).
ti_dp_stat_names() {
	local h=$TI_ROOT/lib/dpath/bpf/dpath_common.h names
	names=$(sed -n '/^#define PC_STAT_NAMES/,/[^\\]$/p' "$h" | grep -o '"[a-z_]*"' | tr -d '"')
	[ -n "$names" ] || ti_fail "no PC_STAT_NAMES in $h"
	printf '%s\n' "$names"
}

# ti_dp_stat NAME: a pc_stats counter summed over CPUs; bpftool prints the
# values formatted (BTF) or as little-endian hex bytes.
ti_dp_stat() {
	local i
	i=$(ti_dp_stat_names | grep -nx -- "$1" | cut -d: -f1)
	[ -n "$i" ] || ti_fail "no pc_stats counter $1"
	bpftool map lookup pinned "$(ti_dp_pin)/pc_stats" key $((i - 1)) 0 0 0 -j | jq '
		def num: if type == "array" then reverse | map(ltrimstr("0x") | explode
			| map(if . >= 97 then . - 87 elif . >= 65 then . - 55 else . - 48 end)
			| .[0] * 16 + .[1]) | reduce .[] as $b (0; . * 256 + $b) else . end;
		[(.values // .formatted.values)[] | .value | num] | add'
}

# ti_dp_stats: all pc_stats counters on one line (for logs).
ti_dp_stats() {
	local n out=
	for n in $(ti_dp_stat_names); do
		out+="$n=$(ti_dp_stat "$n") "
	done
	printf '%s\n' "$out"
}

# ti_dp_tc_count NS DEV: tc filter lines on DEV's ingress (0 when DEV is gone).
ti_dp_tc_count() {
	{ tc -n "$1" filter show dev "$2" ingress 2>/dev/null || true; } | grep -c '^filter' || true
}

# ti_dp_tc_stat NAME (tc-pedit): what the statistics of the tc actions on
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
TI_DP_TC_STATS=(tap_copies to_dp passed from_dp_to_ctr from_dp_to_host action_drops)
ti_dp_tc_stat() {
	local out
	case " ${TI_DP_TC_STATS[*]} " in *" $1 "*) ;; *) ti_fail "no tc-pedit counter $1" ;; esac
	out=$(ti_dp_tc_stats)
	sed -n "s/.*\\<$1=\\([0-9]*\\).*/\\1/p" <<<"$out"
}

# ti_dp_tc_stats: all of them on one line, NAME=N ... (one jq for all: a jq
# start costs half a second in the QEMU guest).
ti_dp_tc_stats() {
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
		    "passed=\(sum($ports[] | select(.fh | test("::[45]$"))
		      | select(all(.actions[]; .to_dev != "vbr-neuv")) | redirects | .stats.packets))",
		    "from_dp_to_ctr=\(sum($vbr[] | redirects | select(.to_dev | startswith("vin")) | .stats.packets))",
		    "from_dp_to_host=\(sum($vbr[] | redirects | select(.to_dev | startswith("vex")) | .stats.packets))",
		    "action_drops=\(sum($k[] | .actions[] | .stats.drops))" ] | join(" ")' ||
		ti_fail "tc -s -j filter show in the enforcer: not the JSON expected"
}

# ti_dp_counters: the backend's counters on one line (for logs).
ti_dp_counters() {
	if [ "$TI_DP_BACKEND" = bpf ]; then
		printf 'pc_stats: %s\n' "$(ti_dp_stats)"
	else
		printf 'tc-pedit actions: %s\n' "$(ti_dp_tc_stats)"
	fi
}

# ti_dp_tc_knodes DEV (tc-pedit): u32 knodes (with actions) on DEV's ingress
# in the enforcer, 0 when DEV is gone.
ti_dp_tc_knodes() {
	{ tc -j -n "$TI_ENF_NAME" filter show dev "$1" ingress 2>/dev/null || true; } |
		jq -s '[(.[0] // [])[] | select(.options.actions != null)] | length'
}

# ti_dp_tc_actions KIND (tc-pedit): KIND actions (pedit, mirred) in the
# enforcer's action table, those the filters hold included.
ti_dp_tc_actions() {
	[ -e "$TI_ENF" ] || { echo 0; return; }
	{ tc -n "$TI_ENF_NAME" actions ls action "$1" 2>/dev/null || true; } | grep -c 'index' || true
}

# ti_dp_assert_released WHAT: nothing of the backend is left for released
# ports: bpf, no pc_ports or pc_ucmacs entry; tc-pedit, no knode on
# vbr-neuv and no pedit or mirred action in the enforcer.
ti_dp_assert_released() {
	if [ "$TI_DP_BACKEND" = bpf ]; then
		ti_assert_eq 0 "$(ti_dp_map_count pc_ports)" "pc_ports entries $1"
		ti_assert_eq 0 "$(ti_dp_map_count pc_ucmacs)" "pc_ucmacs entries $1"
	else
		ti_assert_eq 0 "$(ti_dp_tc_knodes vbr-neuv)" "knodes on vbr-neuv $1"
		ti_assert_eq 0 "$(ti_dp_tc_actions pedit)" "pedit actions in the enforcer $1"
		ti_assert_eq 0 "$(ti_dp_tc_actions mirred)" "mirred actions in the enforcer $1"
	fi
}

# ti_dp_wait_line FILE REGEX SECONDS WHAT: wait until FILE has a matching line.
ti_dp_wait_line() {
	ti_wait_until "$3" grep -qE "$2" "$1" 2>/dev/null || {
		cat "$1" >&2 2>/dev/null
		ti_fail "$4: no line /$2/ in $1 after $3 s"
	}
}

# ti_dp_sniff_start NETNS_NAME IFNAME OUT [pc-sniff args]: pid in TI_DP_SNIFF_PID.
ti_dp_sniff_start() {
	local ns=$1 dev=$2 out=$3
	shift 3
	"$PC_SNIFF" -n "/run/netns/$ns" -i "$dev" "$@" >"$out" 2>"$out.err" </dev/null &
	TI_DP_SNIFF_PID=$!
	TI_PIDS+=("$TI_DP_SNIFF_PID")
	ti_dp_wait_line "$out" '^# pc-sniff: listening' 5 "pc-sniff on $dev in $ns"
}

# ti_dp_sniff_stop PID OUT: stop it, check it summed up; summary in TI_DP_SUMMARY.
ti_dp_sniff_stop() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	TI_DP_SUMMARY=$(grep '^# pc-sniff: frames=' "$2") ||
		{ cat "$2.err" >&2; ti_fail "pc-sniff ($2) ended without its summary"; }
}

# ti_dp_sum KEY: value of KEY=N in TI_DP_SUMMARY.
ti_dp_sum() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$TI_DP_SUMMARY"; }

# ti_dp_reflector_start [pc-reflector args]: on the enforcer's dp_port with
# the heartbeat in this run's pc_dp (bpf; tc-pedit has no heartbeat); pid in TI_DP_REFL_PID, log in TI_DP_REFL_LOG.
TI_DP_REFL_N=0
ti_dp_reflector_start() {
	TI_DP_REFL_N=$((TI_DP_REFL_N + 1))
	TI_DP_REFL_LOG=$TI_TMP/reflector.$TI_DP_REFL_N.log
	local hb=()
	[ "$TI_DP_BACKEND" = bpf ] && hb=(-p "$(ti_dp_pin)/pc_dp")
	"$PC_REFLECTOR" -n "$TI_ENF" "${hb[@]}" "$@" >"$TI_DP_REFL_LOG" 2>&1 </dev/null &
	TI_DP_REFL_PID=$!
	TI_PIDS+=("$TI_DP_REFL_PID")
	ti_dp_wait_line "$TI_DP_REFL_LOG" '^pc-reflector: ready' 5 "pc-reflector"
	ti_log "pc-reflector${*:+ $*} running (pid $TI_DP_REFL_PID)"
}

# ti_dp_reflector_stop: SIGTERM, exit 0 and its counters line; counters in TI_DP_REFL_COUNTS.
ti_dp_reflector_stop() {
	local rc=0
	kill -TERM "$TI_DP_REFL_PID" 2>/dev/null || true
	wait "$TI_DP_REFL_PID" 2>/dev/null || rc=$?
	TI_DP_REFL_COUNTS=$(grep '^pc-reflector: rx=' "$TI_DP_REFL_LOG") || {
		cat "$TI_DP_REFL_LOG" >&2
		ti_fail "pc-reflector ended without its counters (exit $rc)"
	}
	[ "$rc" -eq 0 ] || { cat "$TI_DP_REFL_LOG" >&2; ti_fail "pc-reflector exit $rc on SIGTERM"; }
	ti_log "${TI_DP_REFL_COUNTS}"
}

# ti_dp_refl_count KEY: value of KEY=N in TI_DP_REFL_COUNTS.
ti_dp_refl_count() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<" $TI_DP_REFL_COUNTS"; }

# ti_dp_no_ping NS DEST: two echoes within 2 s all go unanswered.
ti_dp_no_ping() {
	if ip netns exec "$1" ping -n -q -c 2 -i 0.2 -w 2 "$2" >/dev/null 2>&1; then
		ti_fail "ping $2 from $1 was answered; expected it blocked"
	fi
}

# ti_dp_neigh_is NS ADDR MAC: NS has resolved ADDR to MAC (any state but
# FAILED/INCOMPLETE).
ti_dp_neigh_is() {
	local got
	got=$(ip -n "$1" -j neigh show to "$2" | jq -r '.[] | select(.lladdr != null) | .lladdr' | head -n 1)
	ti_assert_eq "$3" "$got" "neighbour entry for $2 in $1"
}

# ti_dp_flush_neigh NS: drop the learned (non-permanent) neighbours of NS.
ti_dp_flush_neigh() {
	ip -n "$1" -4 neigh flush all >/dev/null 2>&1 || true
	ip -n "$1" -6 neigh flush all >/dev/null 2>&1 || true
}

# ti_dp_udp SERVER_NS SERVER_ADDR CLIENT_NS PORT: a datagram echoed back.
ti_dp_udp() {
	local sns=$1 addr=$2 cns=$3 port=$4 fam=4 dst=$2 tok got
	case $addr in *:*) fam=6 dst="[$addr]" ;; esac
	tok="pcti-$TI_ID-$RANDOM$RANDOM"
	ip netns exec "$sns" timeout 10 socat -T 5 "UDP$fam-LISTEN:$port,bind=$dst,reuseaddr" EXEC:cat \
		</dev/null >/dev/null 2>"$TI_TMP/udp.srv" &
	local spid=$!
	TI_PIDS+=("$spid")
	ti_wait_until 5 eval "[ -n \"\$(ip netns exec $sns ss -Hlun 'sport = :$port')\" ]" ||
		ti_fail "UDP server on $addr:$port did not start"
	got=$(printf '%s\n' "$tok" | ip netns exec "$cns" timeout 10 socat -T 3 - "UDP$fam:$dst:$port" 2>"$TI_TMP/udp.cli") || true
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	[ "$got" = "$tok" ] || {
		cat "$TI_TMP/udp.cli" "$TI_TMP/udp.srv" >&2
		ti_fail "UDP echo $cns -> $addr:$port: sent '$tok', got '$got'"
	}
}

# ti_dp_tcp_blocked SERVER_NS SERVER_ADDR CLIENT_NS PORT: a listening TCP
# server cannot be reached (connect times out) and accepted nothing.
ti_dp_tcp_blocked() {
	local sns=$1 addr=$2 cns=$3 port=$4 proto=TCP4 listen=TCP4-LISTEN dst=$2
	case $addr in *:*) proto=TCP6 listen=TCP6-LISTEN dst="[$addr]" ;; esac
	rm -f "$TI_TMP/blocked.srv.out"
	ip netns exec "$sns" timeout 15 socat -T 10 "$listen:$port,bind=$dst,reuseaddr" \
		"SYSTEM:echo accepted >>$TI_TMP/blocked.srv.out" </dev/null >/dev/null 2>&1 &
	local spid=$!
	TI_PIDS+=("$spid")
	ti_wait_until 5 ti_listening "$sns" "$port" || ti_fail "socat server on $addr:$port did not start"
	if ip netns exec "$cns" timeout 10 socat -T 3 - "$proto:$dst:$port,connect-timeout=3" \
		</dev/null >/dev/null 2>&1; then
		ti_fail "TCP $cns -> $addr:$port connected; expected it blocked"
	fi
	[ ! -s "$TI_TMP/blocked.srv.out" ] || ti_fail "TCP server $addr:$port accepted a connection"
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
}

# ti_dp_tcp_keys FILE PORT SEL: the TCP frames of pc-sniff output FILE to or
# from PORT, as "saddr sport daddr dport flags seq ack plen" lines, sorted.
# SEL is an awk condition over $1 (dir), $2 (src MAC), $3 (dst MAC).
ti_dp_tcp_keys() {
	awk -v port="$2" '
		$1 !~ /^#/ && $5 == "tcp" && ($7 == port || $9 == port) && ('"$3"') {
			f = s = a = p = "-"
			for (i = 10; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[1] == "flags") f = kv[2]
				else if (kv[1] == "seq") s = kv[2]
				else if (kv[1] == "ack") a = kv[2]
				else if (kv[1] == "plen") p = kv[2]
			}
			print $6, $7, $8, $9, f, s, a, p
		}' "$1" | sort
}

# ti_dp_tcp_canon IN_A IN_B OUT_A OUT_B: two ti_dp_tcp_keys lists in a form
# that does not depend on segmentation (a GSO super-frame on one side may be
# MSS-sized segments on the other): frames without payload stay as they
# are; payload ranges are grouped by flow and ack, split at every boundary
# either side has in that group, and printed one piece a line (sequence
# numbers relative to the group's first, so that a wrap does not matter).
# Equal outputs mean every byte range was seen as often on both sides.
ti_dp_tcp_canon() {
	awk -v outa="$3" -v outb="$4" '
		# signed distance of sequence number s from the first one of group g
		function dist(s, g,  d) {
			d = (s - first[g] + 4294967296) % 4294967296
			return d >= 2147483648 ? d - 4294967296 : d
		}
		{
			side = (FILENAME == ARGV[1]) ? "a" : "b"
			out = side == "a" ? outa : outb
			if ($8 == 0) { print "ctl", $0 > out; next }
			g = $1 " " $2 " " $3 " " $4 " ack " $7
			if (!(g in first)) { first[g] = $6; low[g] = 0 }
			n++
			fs[n] = side; fg[n] = g; fb[n] = dist($6, g); fe[n] = fb[n] + $8
			if (fb[n] < low[g]) low[g] = fb[n]
		}
		END {
			for (i = 1; i <= n; i++) {
				g = fg[i]; fb[i] -= low[g]; fe[i] -= low[g]
				cuts[g, fb[i]] = 1; cuts[g, fe[i]] = 1
			}
			for (k in cuts) { split(k, p, SUBSEP); list[p[1]] = list[p[1]] " " p[2] }
			for (g in list) {
				m = split(list[g], c, " ")
				# sort the cut points of this group (insertion sort, small)
				for (i = 2; i <= m; i++) { v = c[i] + 0; j = i - 1
					while (j >= 1 && c[j] + 0 > v) { c[j + 1] = c[j]; j-- }
					c[j + 1] = v }
				for (i = 1; i <= m; i++) cs[g, i] = c[i] + 0
				cn[g] = m
			}
			for (i = 1; i <= n; i++) {
				g = fg[i]; out = fs[i] == "a" ? outa : outb
				for (j = 1; j < cn[g]; j++)
					if (cs[g, j] >= fb[i] && cs[g, j + 1] <= fe[i])
						printf "data %s %.0f %.0f\n", g, cs[g, j], cs[g, j + 1] > out
			}
		}' "$1" "$2"
	sort -o "$3" "$3"
	sort -o "$4" "$4"
}

# ---------------------------------------------------------------- data plane

# ti_plane_start: portcullis-dp --foreground with TI_CFG (its binary from
# $PORTCULLIS_DP, else beside the hook), waiting for its "ready" line; pid
# in DP_PID, log in DP_LOG.  Once ready it must run confined: no
# capability left and a seccomp filter on every thread.
TI_PLANE_N=0
ti_plane_start() {
	local dp=${PORTCULLIS_DP:-$(dirname "$HOOK")/portcullis-dp} t
	[ -x "$dp" ] || ti_fail "portcullis-dp not built: $dp"
	TI_PLANE_N=$((TI_PLANE_N + 1))
	DP_LOG=$TI_TMP/dp.$TI_PLANE_N.log
	"$dp" --config "$TI_CFG" --foreground >"$DP_LOG" 2>&1 </dev/null &
	DP_PID=$!
	TI_PIDS+=("$DP_PID")
	ti_dp_wait_line "$DP_LOG" 'info: ready: ' 10 "portcullis-dp"
	ti_log "portcullis-dp running (pid $DP_PID): $(grep 'ready:' "$DP_LOG")"
	for t in /proc/"$DP_PID"/task/*; do
		ti_assert_eq 0000000000000000 "$(awk '$1 == "CapEff:" {print $2}' "$t/status")" "CapEff of $t"
		ti_assert_eq 2 "$(awk '$1 == "Seccomp:" {print $2}' "$t/status")" "Seccomp mode of $t"
	done
}

# ti_plane_stop: SIGTERM; it must exit 0.
ti_plane_stop() {
	local rc=0
	kill -TERM "$DP_PID"
	wait "$DP_PID" || rc=$?
	[ "$rc" -eq 0 ] || { cat "$DP_LOG" >&2; ti_fail "portcullis-dp exit $rc on SIGTERM"; }
}
