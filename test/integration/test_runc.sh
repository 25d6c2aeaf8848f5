#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A real OCI runtime: runc runs a busybox-static bundle in a prepared netns
# (linux.namespaces network path /run/netns/NAME), once without and once
# with portcullis-hook as prestart and poststop hook.  Inside the container
# `ip addr`, `ip route`, `ip -6 route` and `ip link` show the same with the
# hook as without (ifindexes and lifetime countdowns masked), and it reaches
# an HTTP server on the bridge and pings the gateway.  While the hooked
# container runs, its port is pulled; after it exits, poststop has put the
# original port back exactly.  With on_failure=closed and an injected fault,
# runc refuses to start the container and nothing changes.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/picture.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/traffic.sh"
ti_init
T=$TI_TMP
command -v runc >/dev/null || ti_skip "runc is not installed (Debian package runc)"
BB=$(command -v busybox) || ti_skip "busybox is not installed (Debian package busybox-static)"
if ldd "$BB" >/dev/null 2>&1; then
	ti_skip "$BB is dynamically linked; the bundle needs busybox-static"
fi

ti_host_create
ti_ctr_create r1 1
NS=${CTR_NS[r1]}
TOKEN="portcullis-$TI_ID-$RANDOM"

ti_log "HTTP server on the bridge"
mkdir -p "$T/www"
printf '%s\n' "$TOKEN" >"$T/www/token.txt"
ip netns exec "$TI_HOST" "$BB" httpd -f -p "$TI_GW4:8080" -h "$T/www" </dev/null >/dev/null 2>&1 &
TI_PIDS+=("$!")
ti_wait_until 5 ti_listening "$TI_HOST" 8080 || ti_fail "httpd did not start"

ti_log "bundle"
RROOT="$T/runc"
B="$T/bundle"
mkdir -p "$RROOT" "$B/rootfs/bin" "$B/rootfs/proc" "$B/rootfs/sys" "$B/rootfs/dev" "$B/rootfs/tmp"
cp "$BB" "$B/rootfs/bin/busybox"
for a in sh ip ping ping6 wget nc cat echo sleep test timeout; do
	ln -s busybox "$B/rootfs/bin/$a"
done
cat >"$B/rootfs/run.sh" <<EOF
#!/bin/sh
echo "=== addr"; ip addr
echo "=== route"; ip route
echo "=== route6"; ip -6 route
echo "=== link"; ip link
echo "=== http"; timeout 10 wget -q -O - http://$TI_GW4:8080/token.txt
echo "=== ping"
ping -c 1 -W 3 $TI_GW4 >/dev/null && echo ping4 ok
ping -c 1 -W 3 $TI_GW6 >/dev/null && echo ping6 ok
echo "=== wait"
i=0
while [ ! -e /go ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done
echo "=== end"
EOF
chmod +x "$B/rootfs/run.sh"
(cd "$B" && runc spec)
# base config.json: no terminal, our script, the prepared netns, NET_RAW for ping
jq --arg ns "/run/netns/$NS" '
	.process.terminal = false
	| .process.args = ["/bin/sh", "/run.sh"]
	| .process.capabilities |= with_entries(.value += ["CAP_NET_RAW"])
	| .linux.namespaces |= map(if .type == "network" then {type: "network", path: $ns} else . end)
	| .hostname = "pcti"' "$B/config.json" >"$T/base.json"

# bundle_config CONFIG [ENV_JSON]: the base config with our hooks
bundle_config() {
	jq --arg hook "$HOOK" --arg cfg "$1" --argjson env "${2:-[]}" '
		.hooks = {
			prestart: [{path: $hook, args: ["portcullis-hook", "--config", $cfg, "prestart"], env: $env, timeout: 30}],
			poststop: [{path: $hook, args: ["portcullis-hook", "--config", $cfg, "poststop"], timeout: 30}]
		}' "$T/base.json" >"$B/config.json"
}

# run_ctr ID OUT: runc run in the background; RUNC_PID
run_ctr() {
	ti_on_cleanup "runc --root '$RROOT' delete -f '$1'"
	rm -f "$B/rootfs/go"
	timeout 90 runc --root "$RROOT" run --bundle "$B" "$1" </dev/null >"$2" 2>"$2.err" &
	RUNC_PID=$!
	TI_PIDS+=("$RUNC_PID")
}

# finish_ctr ID OUT: let the container end, wait for runc; RUNC_RC
finish_ctr() {
	touch "$B/rootfs/go"
	RUNC_RC=0
	wait "$RUNC_PID" || RUNC_RC=$?
	runc --root "$RROOT" delete -f "$1" >/dev/null 2>&1 || true
}

waiting() { grep -q '^=== wait' "$1"; }

# The parts of the container's output to compare, with what must differ masked:
# the new port's own ifindex and address lifetime countdowns.
masked() {
	sed -n '/^=== addr/,/^=== http/p' "$1" | sed -E \
		-e 's/^[0-9]+: /N: /' \
		-e 's/(valid_lft|preferred_lft) [0-9]+sec/\1 Nsec/g'
}

ti_dump_to "$T/strict" "$NS" strict

ti_log "run without the hook"
jq . "$T/base.json" >"$B/config.json"
RID0="pcti-$TI_ID-plain"
run_ctr "$RID0" "$T/plain.out"
ti_wait_until 30 waiting "$T/plain.out" || { cat "$T/plain.out" "$T/plain.out.err" >&2; ti_fail "container without hook did not get going"; }
finish_ctr "$RID0"
[ "$RUNC_RC" -eq 0 ] || { cat "$T/plain.out.err" >&2; ti_fail "runc run without hook: exit $RUNC_RC"; }
grep -qx "$TOKEN" "$T/plain.out" || ti_fail "no HTTP answer without hook: $(cat "$T/plain.out")"

ti_log "run with the hook"
bundle_config "$TI_CFG"
RID1="pcti-$TI_ID-hooked"
run_ctr "$RID1" "$T/hooked.out"
ti_wait_until 30 waiting "$T/hooked.out" || { cat "$T/hooked.out" "$T/hooked.out.err" >&2; ti_fail "hooked container did not get going"; }
CPID=$(runc --root "$RROOT" state "$RID1" | jq -r .pid)
ti_log "container pid $CPID"
ti_assert_pulled r1 "$CPID"
ST=$(ti_status_json)
ti_assert_record "$ST" r1 "$CPID" "$RID1"
finish_ctr "$RID1"
[ "$RUNC_RC" -eq 0 ] || { cat "$T/hooked.out.err" >&2; ti_fail "runc run with hook: exit $RUNC_RC"; }
grep -q '^=== end' "$T/hooked.out" || ti_fail "hooked container did not finish: $(cat "$T/hooked.out")"

ti_log "compare what the container saw"
masked "$T/plain.out" >"$T/plain.view"
masked "$T/hooked.out" >"$T/hooked.view"
grep -q "inet ${CTR_IP4[r1]}/24" "$T/plain.view" || ti_fail "the container did not see its address: $(cat "$T/plain.view")"
ti_assert_same "$T/plain.view" "$T/hooked.view" "ip addr/route/link inside the container, without vs with the hook"
grep -qx "$TOKEN" "$T/hooked.out" || ti_fail "no HTTP answer with the hook: $(cat "$T/hooked.out")"
grep -qx "ping4 ok" "$T/hooked.out" || ti_fail "no IPv4 ping with the hook: $(cat "$T/hooked.out")"
grep -qx "ping6 ok" "$T/hooked.out" || ti_fail "no IPv6 ping with the hook: $(cat "$T/hooked.out")"

ti_log "after the container: poststop put everything back"
ti_dump_to "$T/back" "$NS" strict
ti_assert_same "$T/strict" "$T/back" "container netns after runc and poststop"
ti_assert_enf_clean "after runc"

ti_log "on_failure=closed with a fault: runc refuses to start"
CLOSED="$T/closed.json"
sed 's/"on_failure": "open"/"on_failure": "closed"/' "$TI_CFG" >"$CLOSED"
bundle_config "$CLOSED" '["PORTCULLIS_FAIL_STEP=3", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]'
RID2="pcti-$TI_ID-refused"
run_ctr "$RID2" "$T/refused.out"
RUNC_RC=0
wait "$RUNC_PID" || RUNC_RC=$?
runc --root "$RROOT" delete -f "$RID2" >/dev/null 2>&1 || true
[ "$RUNC_RC" -ne 0 ] || ti_fail "runc started the container although the hook failed with on_failure=closed"
[ "$RUNC_RC" -ne 124 ] || ti_fail "runc timed out"
grep -q '^=== addr' "$T/refused.out" && ti_fail "the workload ran although the hook failed: $(cat "$T/refused.out")"
grep -q "fault injected at step 3" "$T/refused.out.err" ||
	ti_fail "runc's error does not carry the hook's reason: $(cat "$T/refused.out.err")"
ti_dump_to "$T/back" "$NS" strict
ti_assert_same "$T/strict" "$T/back" "container netns after the refused start"
ti_assert_enf_clean "after the refused start"
