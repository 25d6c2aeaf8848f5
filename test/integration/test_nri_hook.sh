#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The hook and the plugin on one host, sharing one enforcer, state
# directory and lock: a podman container intercepted by portcullis-hook
# (hooks.d, scripts/lib/podman_env.sh) and a containerd pod intercepted by
# portcullis-nri, portcullis-dp in fwd.
#  - both are intercepted, and `portcullis-hook status` shows both, the pod
#    as a pod;
#  - each one's traffic goes through the data plane: the session log names
#    the podman container and the pod;
#  - the plugin restarted: its Synchronize leaves the hook's record alone;
#    `portcullis-hook gc` leaves the pod's alone;
#  - each one's stop releases only its own; nothing is left afterwards.
#
# ti-timeout: 300
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/containerd.sh"
. "$(dirname "$0")/lib/nri.sh"
. "$TI_ROOT/scripts/lib/podman_env.sh"

nri_init
command -v curl >/dev/null || ti_skip "missing tool: curl"
for p in podman runc busybox-static containernetworking-plugins; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		ti_skip "$p is not installed (scripts/deps installs it)"
done
PM_DIR=$TI_TMP/podman
PM_NET=pm-$TI_ID
PM_BRIDGE=pm-$TI_ID
PM_SUBNET=10.$TI_A.150
PM_IMAGE=localhost/pm-$TI_ID:latest
pe_conf "$PM_DIR" "$PM_NET" "$PM_BRIDGE" "$PM_SUBNET"
ti_on_cleanup pe_cleanup "$PM_DIR" "$PM_NET" "$PM_BRIDGE"
jq -n --arg hook "$HOOK" --arg cfg "PORTCULLIS_CONFIG=$TI_CFG" '{version: "1.0.0",
	hook: {path: $hook, args: ["portcullis-hook", "auto"], env: [$cfg]},
	when: {always: true}, stages: ["prestart", "poststop"]}' >"$PM_DIR/hooks.d/portcullis.json"
pe_rootfs "$PM_DIR/rootfs"
pe_image "$PM_DIR" "$PM_IMAGE"
pm() { pe_podman "$PM_DIR" "$@"; }

nri_config fwd closed
before=$(nri_counts)
nri_dp_start
nri_start
NS=side-$TI_ID
WEB_CMD='mkdir -p /tmp/www && echo hello-from-pod >/tmp/www/index.html &&
	exec httpd -f -p 8080 -h /tmp/www'
nri_pod web "web-$TI_ID" "$NS" --annotation io.portcullis.group=web -- sh -c "$WEB_CMD"
nri_pulled web || ti_fail "the pod is not intercepted"
pm run -d --name "ctr-$TI_ID" --annotation io.portcullis.group=podman "$PM_IMAGE" \
	httpd -f -p 80 -h /www >/dev/null || ti_fail "podman run failed"
CTR=$(pm inspect "ctr-$TI_ID" --format '{{.Id}}')
PM_NS=$(pm inspect "ctr-$TI_ID" --format '{{.NetworkSettings.SandboxKey}}')
CTR_IP=$(pm inspect "ctr-$TI_ID" --format "{{(index .NetworkSettings.Networks \"$PM_NET\").IPAddress}}")

status_json() { "$HOOK" --config "$TI_CFG" status --json; }
# what tells one interception from another: namespace, time, ports, containers
status_key() {
	status_json | jq -c 'map({netns_inode, created, ports: [.ports[].in_name],
		containers: [.containers[].id]}) | sort_by(.netns_inode)'
}
st=$(status_json) || ti_fail "portcullis-hook status failed"
ti_assert_eq 2 "$(jq length <<<"$st")" "intercepted namespaces in status"
ti_assert_eq "web-$TI_ID $NS true" \
	"$(jq -r --arg id "${POD_ID[web]}" '.[].containers[] | select(.id == $id) |
		"\(.k8s_pod) \(.k8s_namespace) \(.sandbox)"' <<<"$st")" "the pod in status"
ti_assert_eq "$(stat -L -c %i "$PM_NS")" \
	"$(jq -r --arg id "$CTR" '.[] | select(any(.containers[]; .id == $id)) | .netns_inode' <<<"$st")" \
	"the podman container's namespace in status"
key=$(status_key)
table=$("$HOOK" --config "$TI_CFG" status) || ti_fail "portcullis-hook status (table) failed"
ti_log "status:"$'\n'"$table"
grep -q "^$(stat -L -c %i "${POD_NS[web]}") .* pod $NS/web-$TI_ID +1 " <<<"$table" ||
	ti_fail "status does not show the pod as one"

ti_log "traffic through the data plane, each side"
page=$(nri_exec web timeout 5 wget -q -O - "http://127.0.0.1:8080/") || ti_fail "the pod's own page: $page"
# from the host's side of each bridge: the pod's bridge gets an address for it
ip addr add "$CD_SUBNET.1/24" dev "$CD_BRIDGE"
page=$(curl -sS -m 5 "http://${POD_IP[web]}:8080/") || ti_fail "host -> pod: $page"
ti_assert_eq hello-from-pod "$page" "the pod's page from the host"
page=$(curl -sS -m 5 "http://$CTR_IP/") || ti_fail "host -> podman container: $page"
ti_assert_eq "portcullis test page" "$page" "the podman container's page from the host"
# shellcheck disable=SC2317 # called through ti_wait_until
slog_has() { jq -e -s "any(.[]; $1)" "$NRI_SLOG" >/dev/null 2>&1; }
ti_wait_until 20 slog_has ".dst == \"${POD_IP[web]}\" and .container.k8s_pod == \"web-$TI_ID\"" ||
	ti_fail "no session naming the pod: $(cat "$NRI_SLOG")"
ti_wait_until 20 slog_has ".dst == \"$CTR_IP\" and .container.id == \"$CTR\" and .container.group == \"podman\"" ||
	ti_fail "no session naming the podman container: $(cat "$NRI_SLOG")"

ti_log "the plugin restarted; gc"
nri_stop
nri_start
nri_wait_log "$NRI_LOG" 'records of pods gone' 5 "Synchronize"
sleep 1 # the sweep runs once Synchronize is answered
ti_assert_eq "$key" "$(status_key)" "status after the plugin's restart"
"$HOOK" --config "$TI_CFG" gc >"$TI_TMP/gc.out" 2>&1 || ti_fail "gc failed: $(cat "$TI_TMP/gc.out")"
ti_assert_eq "$key" "$(status_key)" "status after gc"

ti_log "each stop releases its own"
pm stop -t 0 "ctr-$TI_ID" >/dev/null
pm rm "ctr-$TI_ID" >/dev/null
ti_assert_eq "${POD_ID[web]}" "$(status_json | jq -r '.[].containers[] | select(.sandbox) | .id')" \
	"what status shows once the podman container is gone"
nri_pulled web || ti_fail "the pod lost its interception with the podman container"
nri_stop_pod web
ti_assert_eq 0 "$(status_json | jq length)" "intercepted namespaces at the end"
ip addr del "$CD_SUBNET.1/24" dev "$CD_BRIDGE"
after=$(nri_counts)
ti_assert_eq "$before" "$after" "what the pod and interception leave on the host"
[ -z "$(ip -o link show master "$PM_BRIDGE" 2>/dev/null)" ] || ti_fail "ports left on $PM_BRIDGE"
nri_stop
nri_dp_stop
exit 0
