#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# portcullis-nri under valgrind (memcheck) against a real containerd, over
# its paths: registration, Synchronize with pods to intercept and a record
# to release, RunPodSandbox, container events, StopPodSandbox and
# RemovePodSandbox, SIGTERM.  No error (libbpf's known ones suppressed by
# test/tools/valgrind-libbpf.supp) and nothing left allocated at exit.
#
# ti-timeout: 300
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/containerd.sh"
. "$(dirname "$0")/lib/nri.sh"

nri_init
command -v valgrind >/dev/null || ti_skip "valgrind is not installed"
REAL=$NRI_BIN
NRI_BIN=$TI_TMP/nri-valgrind
cat >"$NRI_BIN" <<EOF2
#!/bin/sh
exec valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \\
	--errors-for-leak-kinds=definite,indirect \\
	--suppressions="$TI_ROOT/test/tools/valgrind-libbpf.supp" \\
	--log-file="$TI_TMP/valgrind.%p.log" "$REAL" "\$@"
EOF2
chmod +x "$NRI_BIN"
NS=vg-$TI_ID
nri_config fwd closed
before=$(nri_counts)
nri_start
for k in a b c; do
	nri_pod "$k" "$k-$TI_ID" "$NS" -- sleep 3600
done
nri_stop_pod c
nri_stop
# while it is away: a pod starts, another goes
nri_pod d "d-$TI_ID" "$NS" -- sleep 3600
nri_stop_pod b
nri_start
ti_wait_until 20 nri_pulled d || ti_fail "Synchronize did not intercept pod d under valgrind"
for k in a d; do
	nri_pulled "$k" || ti_fail "pod $k is not intercepted"
	nri_stop_pod "$k"
done
nri_stop
after=$(nri_counts)
ti_assert_eq "$before" "$after" "what pods and interception leave on the host"
n=0
for f in "$TI_TMP"/valgrind.*.log; do
	n=$((n + 1))
	grep -q 'ERROR SUMMARY: 0 errors' "$f" || { cat "$f" >&2; ti_fail "valgrind found errors"; }
	grep -q 'in use at exit: 0 bytes in 0 blocks' "$f" || { cat "$f" >&2; ti_fail "memory left at exit"; }
done
ti_assert_eq 2 "$n" "valgrind's logs (one per start)"
exit 0
