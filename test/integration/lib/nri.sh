# shellcheck shell=bash disable=SC2034 # POD_IP, NRI_RUNP_MS...: read by the tests
# SPDX-License-Identifier: Apache-2.0
#
# portcullis-nri against the private containerd of lib/containerd.sh, with
# portcullis-dp as the data plane, for the tests of pod interception.
#
#     . "$(dirname "$0")/lib/core.sh"
#     . "$(dirname "$0")/lib/containerd.sh"
#     . "$(dirname "$0")/lib/nri.sh"
#     nri_init                        # cd_init, tools, NRI binary
#     nri_config fwd closed [JSON]    # TI_CFG: this run's enforcer, state, pins
#     nri_dp_start; nri_start         # portcullis-dp, then the plugin
#     nri_pod web ns-x --annotation io.portcullis.group=web -- sh -c '...'
#     ... POD_ID[web], POD_NS[web], CTR_ID[web], POD_IP[web]
#
# Only the core helpers of lib/core.sh are used here (ti_log, ti_fail, ti_skip,
# ti_on_cleanup, ti_wait_until, ti_assert_eq and the TI_* names of ti_init).

ti_lib_needs core containerd

NRI_BIN=${PORTCULLIS_NRI:-$(dirname "$HOOK")/portcullis-nri}
NRI_DP_BIN=${PORTCULLIS_DP:-$(dirname "$HOOK")/portcullis-dp}
declare -A POD_ID POD_NS POD_IP CTR_ID

# nri_init: containerd (cd_init) and what these tests run.
nri_init() {
	cd_init
	[ -x "$NRI_BIN" ] || ti_fail "portcullis-nri not built: $NRI_BIN"
	[ -x "$NRI_DP_BIN" ] || ti_fail "portcullis-dp not built: $NRI_DP_BIN"
	command -v bpftool >/dev/null || ti_skip "missing tool: bpftool"
	NRI_N=0
}

# nri_config MODE ON_FAILURE [EXTRA_JSON_MEMBERS]: this run's enforcer,
# state and pins, backend bpf, the data plane's socket, policy and session
# log in TI_TMP.
nri_config() {
	local extra=${3:-}
	NRI_POLICY=$TI_TMP/policy.json
	NRI_SLOG=$TI_TMP/sessions.log
	NRI_CTL=$TI_TMP/dp.sock
	[ -f "$NRI_POLICY" ] || echo '{"default": "allow", "rules": []}' >"$NRI_POLICY"
	jq -n --arg enf "$TI_ENF" --arg st "$TI_STATE_DIR" --arg bpf "$TI_BPF_DIR" \
		--arg mode "$1" --arg fail "$2" --arg pol "$NRI_POLICY" --arg slog "$NRI_SLOG" \
		--arg ctl "$NRI_CTL" --argjson extra "{${extra}}" \
		'{enforcer_netns: $enf, state_dir: $st, bpf_pin_dir: $bpf, backend: "bpf",
		  mode: $mode, on_failure: $fail, dp_down: "open", policy: $pol,
		  session_log: $slog, ctl_socket: $ctl, log_level: "info"} + $extra' >"$TI_CFG"
}

# nri_wait_log FILE REGEX SECONDS WHAT
nri_wait_log() {
	ti_wait_until "$3" grep -q -- "$2" "$1" || { cat "$1" >&2; ti_fail "$4: no '$2' in $1"; }
}

# nri_dp_start: portcullis-dp in the foreground (DP_PID, DP_LOG), ready.
nri_dp_start() {
	NRI_N=$((NRI_N + 1))
	DP_LOG=$TI_TMP/dp.$NRI_N.log
	"$NRI_DP_BIN" --config "$TI_CFG" --foreground >"$DP_LOG" 2>&1 </dev/null &
	DP_PID=$!
	TI_PIDS+=("$DP_PID")
	nri_wait_log "$DP_LOG" 'info: ready: ' 10 "portcullis-dp"
}

nri_dp_stop() {
	local rc=0
	kill -TERM "$DP_PID"
	wait "$DP_PID" || rc=$?
	[ "$rc" -eq 0 ] || { cat "$DP_LOG" >&2; ti_fail "portcullis-dp exit $rc on SIGTERM"; }
}

# nri_stamp: each line of stdin with the time it came (seconds since the
# epoch, microseconds) in front.
nri_stamp() {
	local l
	while IFS= read -r l; do
		printf '%s %s\n' "$EPOCHREALTIME" "$l"
	done
}

# nri_start [ARGS...]: portcullis-nri on this run's NRI socket (NRI_PID;
# NRI_LOG, each line stamped with its time), registered and past its first
# Synchronize.
# shellcheck disable=SC2120 # the arguments are optional
nri_start() {
	NRI_N=$((NRI_N + 1))
	NRI_LOG=$TI_TMP/nri.$NRI_N.log
	: >"$NRI_LOG"
	"$NRI_BIN" --config "$TI_CFG" --socket "$CD_NRI_SOCK" "$@" > >(nri_stamp >"$NRI_LOG") 2>&1 \
		</dev/null &
	NRI_PID=$!
	TI_PIDS+=("$NRI_PID")
	nri_wait_log "$NRI_LOG" 'info: synchronize: ' 10 "portcullis-nri"
}

# nri_log_time TEXT: the stamp of the first line of NRI_LOG holding TEXT.
nri_log_time() { grep -m 1 -F -- "$1" "$NRI_LOG" | cut -d' ' -f1; }

# cd_log_time TEXT: the time of the first line of containerd's log holding
# TEXT, in seconds since the epoch.
cd_log_time() {
	local t
	t=$(grep -m 1 -F -- "$1" "$CD_DIR/containerd.log" | sed -n 's/^time="\([^"]*\)".*/\1/p')
	[ -n "$t" ] && date -d "$t" +%s.%N
}

# nri_ms_between T0 T1: whole milliseconds from T0 to T1 (seconds, may be negative)
nri_ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d\n", (b - a) * 1000 }'; }

# nri_stop: SIGTERM ends it, exit 0.
nri_stop() {
	local rc=0
	kill -TERM "$NRI_PID"
	wait "$NRI_PID" || rc=$?
	[ "$rc" -eq 0 ] || { cat "$NRI_LOG" >&2; ti_fail "portcullis-nri exit $rc on SIGTERM"; }
}

# nri_cri_long ARGS...: the CRI client as cd_cri runs it, allowed 10 minutes
nri_cri_long() {
	timeout 600 "$CD_PY" "$CD_CLIENT" --stubs "$CD_STUBS" --endpoint "$CD_SOCK" \
		--log-dir "$CD_DIR/logs" --cgroup-parent "/$CD_CGROUP" "$@"
}

# nri_stats FIELD < JSON: "median M ms, p90 P ms" of the array FIELD
nri_stats() {
	jq -r --arg f "$1" '.[$f] | sort | "median \(.[length / 2 | floor]) ms, p90 \(.[length * 9 / 10 | floor]) ms"'
}

# nri_proc PID: "fds=N rss_kb=M" of a process
nri_proc() {
	echo "fds=$(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l)" \
		"rss_kb=$(awk '$1 == "VmRSS:" {print $2}' "/proc/$1/status")"
}

# nri_runp KEY NAME NAMESPACE [CRI OPTIONS...]: a pod through CRI; POD_ID,
# POD_NS (its netns) under KEY; noted for containerd_lib's cleanup.
nri_runp() {
	local key=$1 name=$2 ns=$3 out
	shift 3
	out=$(cd_cri "$@" runp "$name" "$ns" "uid-$name") || return 1
	POD_ID[$key]=$(jq -r .id <<<"$out")
	POD_NS[$key]=$(jq -r .netns <<<"$out")
	printf '%s\n' "${POD_ID[$key]}" >>"$CD_DIR/pods.list"
	printf '%s\n' "${POD_NS[$key]}" >>"$CD_DIR/netns.list"
	NRI_RUNP_MS=$(jq -r .ms <<<"$out")
}

# nri_pod KEY NAME NAMESPACE [CRI OPTIONS...] -- CMD...: a pod and its one
# container NAME-c running CMD; CTR_ID and POD_IP (eth0's IPv4) under KEY.
nri_pod() {
	local key=$1 name=$2 ns=$3 opts=() out
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	nri_runp "$key" "$name" "$ns" "${opts[@]}" || ti_fail "RunPodSandbox $name failed"
	out=$(cd_cri "${opts[@]}" create-start "${POD_ID[$key]}" "$name" "$ns" "uid-$name" \
		"$CD_IMAGE" "$@") || ti_fail "CreateContainer/StartContainer $name failed"
	CTR_ID[$key]=$(jq -r .id <<<"$out")
	POD_IP[$key]=$(ip -n "$(basename "${POD_NS[$key]}")" -4 -j addr show dev eth0 |
		jq -r '.[0].addr_info[0].local')
}

# nri_exec KEY CMD...: CMD in KEY's container; its stdout, status as its own.
nri_exec() {
	local key=$1 out
	shift
	out=$(cd_cri exec "${CTR_ID[$key]}" "$@") || return 2
	printf '%s' "$(jq -r .stdout <<<"$out")"
	return "$(jq -r .exit <<<"$out")"
}

# nri_record NETNS_PATH: the state record of that namespace, "" when none.
nri_record() {
	local ino
	ino=$(stat -L -c %i "$1" 2>/dev/null) || return 0
	cat "$TI_STATE_DIR/netns-$ino.json" 2>/dev/null || true
}

# nri_pulled KEY: the pod's namespace is intercepted: a record names the
# pod's sandbox, and the peer of the pod's eth0 is that record's inPort in
# the enforcer.
nri_pulled() {
	local rec in_name
	rec=$(nri_record "${POD_NS[$1]}")
	[ -n "$rec" ] || return 1
	jq -e --arg id "${POD_ID[$1]}" \
		'.containers | any(.id == $id and .sandbox == true)' <<<"$rec" >/dev/null || return 1
	in_name=$(jq -r '.ports[] | select(.name == "eth0") | .in_name' <<<"$rec")
	[ -n "$in_name" ] && ip -n "$TI_ENF_NAME" link show dev "$in_name" >/dev/null 2>&1
}

# nri_unpulled KEY: no record, and eth0's peer is not in the enforcer.
nri_unpulled() {
	local ns ifl
	[ -z "$(nri_record "${POD_NS[$1]}")" ] || return 1
	ns=$(basename "${POD_NS[$1]}")
	ifl=$(ip -n "$ns" -j link show dev eth0 | jq -r '.[0].link_netnsid // empty')
	# a peer in the enforcer would make its netnsid that of the enforcer
	[ -z "$ifl" ] || [ "$ifl" != "$(ip -n "$ns" -j netns list-id 2>/dev/null |
		jq -r --arg n "$TI_ENF_NAME" '.[] | select(.name == $n) | .nsid')" ]
}

# nri_counts: what interception and pods leave on the host, one "name=N" each.
nri_counts() {
	local enf=0 recs journals bports results ipam netns
	if [ -e "$TI_ENF" ]; then
		enf=$(ip -n "$TI_ENF_NAME" -o link show | awk -F': ' '{print $2}' |
			grep -cv '^\(lo\|vbr-neuv\|vth-neuv\)\(@.*\)\?$' || true)
	fi
	recs=$(find "$TI_STATE_DIR" -maxdepth 1 -name 'netns-*.json' 2>/dev/null | wc -l)
	journals=$(find "$TI_STATE_DIR" -maxdepth 1 -name 'pull-*' 2>/dev/null | wc -l)
	bports=$(ip -j link show master "$CD_BRIDGE" 2>/dev/null | jq length 2>/dev/null || echo 0)
	results=$(find /var/lib/cni/results -maxdepth 1 -name "$CD_NET-*" 2>/dev/null | wc -l)
	ipam=$(find "$CD_DIR/ipam" -type f ! -name 'last_reserved_ip*' ! -name lock 2>/dev/null | wc -l)
	netns=0
	[ -f "$CD_DIR/netns.list" ] && netns=$(sort -u "$CD_DIR/netns.list" |
		while read -r n; do [ -e "$n" ] && echo "$n"; done | wc -l)
	echo "enforcer_ports=$enf records=$recs journals=$journals bridge_ports=$bports" \
		"cni_results=$results ipam=$ipam netns=$netns"
}

# nri_cd_restart: containerd stopped (SIGTERM; the pods' shims go on) and
# started again with the same configuration; its earlier log is kept as
# containerd.log.N.
nri_cd_restart() {
	local had_run=$CD_HAD_RUN had_cni=$CD_HAD_CNI i
	kill -TERM "$CD_PID"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$CD_PID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$CD_PID" 2>/dev/null || true
	NRI_CD_N=$((${NRI_CD_N:-0} + 1))
	mv "$CD_DIR/containerd.log" "$CD_DIR/containerd.log.$NRI_CD_N"
	cd_start
	# what was there before this run, not before this start
	CD_HAD_RUN=$had_run
	CD_HAD_CNI=$had_cni
}

# nri_stop_pod KEY: StopPodSandbox and RemovePodSandbox.
nri_stop_pod() {
	cd_cri stopp "${POD_ID[$1]}" >/dev/null || ti_fail "StopPodSandbox $1 failed"
	cd_cri rmp "${POD_ID[$1]}" >/dev/null || ti_fail "RemovePodSandbox $1 failed"
}
