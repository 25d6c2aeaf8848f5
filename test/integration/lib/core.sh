# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# The core of the integration tests' helpers: every test sources it first,
# then the files of lib/ it needs (each says which others it needs, and
# checks they were sourced before it):
#
#     . "$(dirname "$0")/lib/core.sh"
#     . "$(dirname "$0")/lib/netns.sh"
#     ti_init                  # root check, unique names, config, cleanup trap
#     ti_host_create           # "host" netns with bridge br0
#     ti_ctr_create c1 1       # "container" netns with eth0 into br0
#     ti_ctr_start c1          # a sleep inside it; its pid in TI_LAST_PID
#
#   core.sh     messages, set-up and cleanup, waiting, assertions
#   netns.sh    namespaces, the host bridge, containers, their links
#   hook.sh     running portcullis-hook, OCI state documents, its status
#   picture.sh  normalized pictures of a namespace, compared
#   pull.sh     what a pull leaves: the enforcer's ports, steering, records
#   traffic.sh  ping, TCP and UDP exchanges, blocked traffic, neighbours
#   dpath.sh    the data path: backend, mode, config, pinned maps, counters
#   tools.sh    the test tools pc-sniff and pc-reflector (test/tools/)
#   dp.sh       the data plane: portcullis-dp started and stopped
#
# Everything a test creates is named after a per-run id (TI_ID) and
# registered for removal; ti_cleanup runs on EXIT, INT and TERM, whatever
# state the test is in.  Nothing here touches the interfaces of the root
# network namespace: the hook binary runs there, the test only reads it.
#
# Exit status of a test: 0 pass, 1 fail, 77 skip (see run.sh).

set -euo pipefail
set -E

TI_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TI_DIR=$(cd "$TI_LIB/.." && pwd)
TI_ROOT=$(cd "$TI_DIR/../.." && pwd)
HOOK=${PORTCULLIS_HOOK:-$TI_ROOT/build/bin/portcullis-hook}
TI_NAME=$(basename "${0%.sh}")
TI_HOOK_TIMEOUT=${TI_HOOK_TIMEOUT:-30}

# ti_lib_needs LIB...: the file of lib/ being sourced builds on lib/LIB.sh;
# fail (naming both) unless the test sourced that one before.
declare -A TI_LIBS=([core]=1)
ti_lib_needs() {
	local lib me
	me=$(basename "${BASH_SOURCE[1]}" .sh)
	for lib in "$@"; do
		[ -n "${TI_LIBS[$lib]:-}" ] ||
			{ printf '[%s] FAIL: lib/%s.sh needs lib/%s.sh sourced before it\n' "$TI_NAME" "$me" "$lib" >&2; exit 1; }
	done
	TI_LIBS[$me]=1
}

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

# ---------------------------------------------------------------- waiting, asserting

# ti_json_plain STRING...: each STRING can go between JSON quotes as it is
# (then the state documents are written with printf: a jq start costs
# half a second in the QEMU guest, and the churn writes hundreds).
ti_json_plain() {
	local v
	for v in "$@"; do
		[[ $v =~ ^[A-Za-z0-9/._:+@=-]*$ ]] || return 1
	done
}

# ti_assert_eq EXPECTED ACTUAL WHAT
ti_assert_eq() {
	[ "$1" = "$2" ] || ti_fail "$3: expected '$1', got '$2'"
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

# ti_wait_line FILE REGEX SECONDS WHAT: wait until FILE has a matching line.
ti_wait_line() {
	ti_wait_until "$3" grep -qE "$2" "$1" 2>/dev/null || {
		cat "$1" >&2 2>/dev/null
		ti_fail "$4: no line /$2/ in $1 after $3 s"
	}
}
