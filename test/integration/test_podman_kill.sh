#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# podman containers whose hook is killed with SIGKILL at a random step of
# its pull (PORTCULLIS_KILL_STEP), behind a wrapper that then lets the
# runtime go on as if the hook had succeeded - the worst case: the workload
# starts on whatever the dead hook left.  After `portcullis-hook gc` each
# container works, intercepted or not - never without network - and no
# journal is left; after podman rm -f, nothing is left in the enforcer, the
# state directory, the BPF maps or on the bridge.
# ti-timeout: 300
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/dpath.sh"
. "$(dirname "$0")/lib/podman.sh"

ROUNDS=${PC_PODMAN_KILL_ROUNDS:-12}

pm_init tap open
T=$TI_TMP
# the wrapper: the installed hook, killed at the step in $T/kill-step
cat >"$T/hook-wrapper" <<EOF
#!/bin/sh
PORTCULLIS_KILL_STEP=\$(cat "$T/kill-step" 2>/dev/null) "$PM_HOOK" "\$@"
exit 0
EOF
chmod 755 "$T/hook-wrapper"
jq --arg p "$T/hook-wrapper" '.hook.path = $p' "$PM_DIR/hooks.d/portcullis.json" >"$T/hooks.json"
mv "$T/hooks.json" "$PM_DIR/hooks.d/portcullis.json"

intercepted=0
for r in $(seq "$ROUNDS"); do
	# steps 1..24 cover a one-port pull from its first change to its record
	step=$((RANDOM % 24 + 1))
	echo "$step" >"$T/kill-step"
	pm_run --name "k$r" "$PM_IMAGE" sleep 1000000 >/dev/null
	echo 0 >"$T/kill-step"
	ti_hook gc
	ti_expect_rc 0 "gc after round $r (killed at step $step)"
	ti_assert_eq "" "$(pm_journals | tr '\n' ' ')" "journals after gc (round $r)"
	pm exec "k$r" ping -c 1 -W 5 "$PM_SUBNET.1" >/dev/null ||
		ti_fail "round $r: the container has no network after a kill at step $step and gc"
	if pm_status_has "$(pm_id "k$r")"; then
		what=intercepted
		intercepted=$((intercepted + 1))
	else
		what=unintercepted
	fi
	ti_log "round $r: killed at step $step; after gc it works $what"
done
ti_log "$intercepted of $ROUNDS containers stayed intercepted"

pm rm -f -t 0 $(seq -f 'k%g' "$ROUNDS") >/dev/null
pm_assert_clean
