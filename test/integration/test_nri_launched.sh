#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# portcullis-nri launched by containerd from its plugin folder (NRI's
# pre-installed plugins: 10-portcullis, started by containerd with the
# connection on fd 3 and NRI_PLUGIN_SOCKET, NRI_PLUGIN_NAME, NRI_PLUGIN_IDX
# in its environment):
#  - it registers over the connection it was handed, under the name and
#    index containerd gave it (containerd 1.7.24 sends no Synchronize to a
#    plugin it launches);
#  - a pod is intercepted, and released at its stop;
#  - when containerd stops, the plugin exits (a launched plugin does not
#    connect again: containerd launches it anew), and after containerd's
#    restart a new one serves new pods, and releases an older pod (which
#    gets no stop event) once its namespace is gone, from its record.
#
# ti-timeout: 300
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/containerd.sh"
. "$(dirname "$0")/lib/nri.sh"

nri_init
NS=launch-$TI_ID
nri_config fwd closed
before=$(nri_counts)
LOG=$TI_TMP/launched.log
: >"$LOG"
# the plugin as containerd finds it: NN-NAME in plugin_path, executable
cat >"$CD_DIR/nri/plugins/10-portcullis" <<EOF
#!/bin/sh
echo "launched: pid \$\$ NRI_PLUGIN_SOCKET=\$NRI_PLUGIN_SOCKET NRI_PLUGIN_NAME=\$NRI_PLUGIN_NAME NRI_PLUGIN_IDX=\$NRI_PLUGIN_IDX" >>"$LOG"
exec "$NRI_BIN" --config "$TI_CFG" 2>>"$LOG"
EOF
chmod +x "$CD_DIR/nri/plugins/10-portcullis"
# shellcheck disable=SC2317 # called through ti_wait_until
registered() { [ "$(grep -c 'info: registered as plugin 10-portcullis$' "$LOG")" -ge "$1" ]; }
nri_dp_start
nri_cd_restart
ti_wait_until 15 registered 1 || ti_fail "the launched plugin did not register: $(cat "$LOG")"
grep -q 'launched: pid [0-9]* NRI_PLUGIN_SOCKET=3 NRI_PLUGIN_NAME=portcullis NRI_PLUGIN_IDX=10' "$LOG" ||
	ti_fail "not launched as NRI says: $(cat "$LOG")"
pid=$(sed -n 's/^launched: pid \([0-9]*\) .*/\1/p' "$LOG" | tail -n 1)
kill -0 "$pid" || ti_fail "the launched plugin is not running"
grep -q 'info: synchronize: ' "$LOG" &&
	ti_log "containerd synchronized the plugin it launched (it did not, in 1.7.24)"

nri_pod a "a-$TI_ID" "$NS" -- sleep 3600
nri_pulled a || ti_fail "pod a is not intercepted: $(cat "$LOG")"
nri_stop_pod a
grep -q "pod $NS/a-$TI_ID (${POD_ID[a]}): released at stop" "$LOG" || ti_fail "no release of a: $(cat "$LOG")"
nri_pod b "b-$TI_ID" "$NS" -- sleep 3600
nri_pulled b || ti_fail "pod b is not intercepted"

ti_log "containerd restarted: the launched plugin goes, a new one comes"
nri_cd_restart
# shellcheck disable=SC2317 # called through ti_wait_until
gone() { ! kill -0 "$1" 2>/dev/null; }
ti_wait_until 10 gone "$pid" || ti_fail "the launched plugin outlived its connection"
ti_wait_until 15 registered 2 || ti_fail "no new plugin after containerd's restart: $(cat "$LOG")"
nri_pod c "c-$TI_ID" "$NS" -- sleep 3600
nri_pulled c || ti_fail "pod c is not intercepted by the new plugin"
nri_pulled b || ti_fail "pod b lost its interception"
# b is older than containerd's start: no stop event; the new plugin took
# it from its record and sees its namespace go
b_ino=$(stat -L -c %i "${POD_NS[b]}")
nri_stop_pod b
# shellcheck disable=SC2317 # called through ti_wait_until
released() { [ ! -e "$TI_STATE_DIR/netns-$1.json" ]; }
ti_wait_until 12 released "$b_ino" || ti_fail "pod b's record stays: $(cat "$LOG")"
grep -q "pod ${POD_ID[b]}: released: its network namespace is gone" "$LOG" ||
	ti_fail "no line for pod b's release: $(cat "$LOG")"
nri_stop_pod c
grep -q "pod $NS/c-$TI_ID (${POD_ID[c]}): released at stop" "$LOG" || ti_fail "no release of c: $(cat "$LOG")"
after=$(nri_counts)
ti_assert_eq "$before" "$after" "what pods and interception leave on the host"
grep -q 'warn: ' "$LOG" && { cat "$LOG" >&2; ti_fail "the plugin warned"; }
nri_dp_stop
exit 0
