#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# portcullis-nri against a real containerd 1.7, with portcullis-dp in fwd:
# a web server pod (group web, busybox httpd on 8080 and 8081) and a client
# pod (group client), both through CRI.
#  - each pod is intercepted before its first container exists: the record
#    names the sandbox, the pod's eth0 is the new port whose peer is in the
#    enforcer, and the container sees its CNI address on it;
#  - the client fetches a page from the server through the data plane;
#    the policy denies group client to group web on tcp/8081, and that is
#    enforced (the fetch fails, a violation names rule 10);
#  - the session log names each side's Kubernetes namespace, pod and
#    container, from the runtime's fields, not from the pods' annotations
#    (which claim other names);
#  - a pod's io.portcullis.mode=off is ignored (allow_mode_annotation false,
#    one log line naming the pod); its group annotation wins over a label;
#  - portcullis-hook status shows the pods;
#  - at StopPodSandbox the original port goes back (into the namespace,
#    which still exists) before containerd's CNI teardown begins, which
#    succeeds; stop and remove leave nothing: no enforcer port, record,
#    journal, bridge port, CNI result, IPAM reservation or netns (counted
#    before, while the pods run, and after);
#  - SIGTERM ends the plugin, exit 0.
#
# ti-timeout: 300
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/containerd.sh"
. "$(dirname "$0")/lib/nri.sh"

nri_init
NS=shop-$TI_ID
cat >"$TI_TMP/policy.json" <<'JSON'
{"default": "allow",
 "rules": [{"id": 10, "from": "group:client", "to": "group:web", "ports": ["tcp/8081"], "action": "deny"}]}
JSON
nri_config fwd closed
before=$(nri_counts)
nri_dp_start
nri_start

ti_log "a web server pod and a client pod"
WEB_CMD='mkdir -p /tmp/www && echo hello-from-web >/tmp/www/index.html &&
	httpd -p 8081 -h /tmp/www && exec httpd -f -p 8080 -h /tmp/www'
nri_pod web "web-$TI_ID" "$NS" --annotation io.portcullis.group=web \
	--annotation io.kubernetes.pod.namespace=kube-system -- sh -c "$WEB_CMD"
ti_log "RunPodSandbox (web) took $NRI_RUNP_MS ms"
nri_pod client "client-$TI_ID" "$NS" --annotation io.portcullis.group=client \
	--annotation io.portcullis.mode=off --label io.portcullis.group=web \
	--annotation io.kubernetes.pod.name=web-imposter -- sleep 3600
ti_log "RunPodSandbox (client) took $NRI_RUNP_MS ms"
for k in web client; do
	nri_pulled "$k" || ti_fail "pod $k is not intercepted: $(nri_record "${POD_NS[$k]}")"
	[[ ${POD_IP[$k]} == "$CD_SUBNET".* ]] || ti_fail "pod $k has no address of $CD_SUBNET.0/24"
	seen=$(nri_exec "$k" ip -4 -o addr show dev eth0) || ti_fail "exec in $k failed"
	[[ $seen == *" inet ${POD_IP[$k]}/"* ]] || ti_fail "$k's container lacks ${POD_IP[$k]}: $seen"
done
rec=$(nri_record "${POD_NS[web]}")
ti_assert_eq "web-$TI_ID $NS web" \
	"$(jq -r '.containers[0] | "\(.k8s_pod) \(.k8s_namespace) \(.group)"' <<<"$rec")" \
	"the web pod's record: pod, namespace, group"
ti_assert_eq "${POD_NS[web]}" "$(jq -r .netns_path <<<"$rec")" "the web pod's netns path"
ti_assert_eq "web-$TI_ID-c" "$(jq -r '.containers[1].k8s_container' <<<"$rec")" \
	"the web pod's container in its record"
rec=$(nri_record "${POD_NS[client]}")
ti_assert_eq "fwd client" "$(jq -r '"\(.mode) \(.containers[0].group)"' <<<"$rec")" \
	"the client's mode (its annotation ignored) and group (the annotation's, not the label's)"
grep -q "pod $NS/client-$TI_ID: annotation io.portcullis.mode=off ignored" "$NRI_LOG" ||
	ti_fail "no log line for the ignored mode annotation: $(cat "$NRI_LOG")"
during=$(nri_counts)
ti_log "while the pods run: $during"
[[ $during == "enforcer_ports=4 records=2 journals=0 bridge_ports=2 cni_results=2 ipam=2 netns=2" ]] ||
	ti_fail "two intercepted pods should count as such: $during"
status=$("$HOOK" --config "$TI_CFG" status) || ti_fail "portcullis-hook status failed"
for k in web client; do
	[[ $status == *"$(stat -L -c %i "${POD_NS[$k]}")"* ]] || ti_fail "status lacks pod $k: $status"
done

ti_log "traffic through the data plane, and a deny by group"
page=$(nri_exec client timeout 5 wget -q -O - "http://${POD_IP[web]}:8080/") ||
	ti_fail "client cannot fetch from web:8080: $page"
ti_assert_eq hello-from-web "$page" "the page fetched"
if out=$(nri_exec client timeout 5 wget -q -O - "http://${POD_IP[web]}:8081/"); then
	ti_fail "client fetched from web:8081, which the policy denies: $out"
fi
nri_exec web timeout 5 wget -q -O - "http://${POD_IP[web]}:8081/" >/dev/null ||
	ti_fail "web cannot fetch its own page on 8081 (not through the data plane)"

# shellcheck disable=SC2317 # called through ti_wait_until
slog_has() { jq -e -s "any(.[]; $1)" "$NRI_SLOG" >/dev/null 2>&1; }
side() {
	printf '.container.k8s_namespace == "%s" and .container.k8s_pod == "%s" and
		.container.k8s_container == "%s"' "$NS" "$1-$TI_ID" "$1-$TI_ID-c"
}
to_web() { printf '.dst == "%s" and .dport == %s and .src == "%s"' "${POD_IP[web]}" "$1" "${POD_IP[client]}"; }
ti_wait_until 20 slog_has "$(to_web 8080) and .event == \"session\" and $(side client)" ||
	ti_fail "no session 8080 naming the client pod: $(cat "$NRI_SLOG")"
ti_wait_until 20 slog_has "$(to_web 8080) and .event == \"session\" and $(side web)" ||
	ti_fail "no session 8080 naming the web pod: $(cat "$NRI_SLOG")"
slog_has "$(to_web 8081) and .event == \"violation\" and .rule == 10 and .verdict == \"deny\"" ||
	ti_fail "no violation of rule 10 for 8081: $(cat "$NRI_SLOG")"
slog_has '.container.k8s_pod == "web-imposter" or .container.k8s_namespace == "kube-system"' &&
	ti_fail "the session log took a name from a pod's annotations"
ti_log "e.g. $(jq -c "select($(to_web 8080) and .event == \"session\")" "$NRI_SLOG" | head -n 1)"

ti_log "stop and remove"
for k in web client; do
	ns=${POD_NS[$k]}
	ino=$(stat -L -c %i "$ns")
	cd_cri stopp "${POD_ID[$k]}" >/dev/null || ti_fail "StopPodSandbox $k failed"
	[ -z "$(nri_record "$ns")" ] || ti_fail "pod $k still has a record after its stop"
	grep -q "network namespace $ino released (ports given back)" "$NRI_LOG" ||
		ti_fail "pod $k's ports were not given back into its namespace: $(cat "$NRI_LOG")"
	t_rel=$(nri_log_time "pod $NS/$k-$TI_ID (${POD_ID[$k]}): released at stop")
	[ -n "$t_rel" ] || ti_fail "no release of $k at its stop: $(cat "$NRI_LOG")"
	t_stop=$(cd_log_time "StopPodSandbox for \\\"${POD_ID[$k]}\\\"")
	t_down=$(cd_log_time "TearDown network for sandbox \\\"${POD_ID[$k]}\\\" successfully")
	if [ -z "$t_stop" ] || [ -z "$t_down" ]; then
		ti_fail "containerd's log lacks the stop or teardown of $k: $(tail -n 30 "$CD_DIR/containerd.log")"
	fi
	ms_after=$(nri_ms_between "$t_stop" "$t_rel")
	ms_before=$(nri_ms_between "$t_rel" "$t_down")
	ti_log "pod $k: released $ms_after ms after StopPodSandbox, $ms_before ms before its CNI teardown ended"
	[ "$ms_before" -gt 0 ] || ti_fail "pod $k released after its CNI teardown"
	cd_cri rmp "${POD_ID[$k]}" >/dev/null || ti_fail "RemovePodSandbox $k failed"
	[ ! -e "$ns" ] || ti_fail "netns $ns still there after RemovePodSandbox"
done
grep -i 'failed to destroy network\|failed to teardown\|error.*teardown' "$CD_DIR/containerd.log" &&
	ti_fail "containerd's CNI teardown failed"
n=$(grep -c 'TearDown network for sandbox .* successfully' "$CD_DIR/containerd.log" || true)
[ "$n" -ge 2 ] || ti_fail "containerd logged $n successful network teardowns, expected 2"
after=$(nri_counts)
ti_log "before: $before"
ti_log "after:  $after"
ti_assert_eq "$before" "$after" "what pods and interception leave on the host"
[[ $after == *"enforcer_ports=0 records=0 journals=0 bridge_ports=0 cni_results=0 ipam=0 netns=0" ]] ||
	ti_fail "left behind: $after"
nri_stop
nri_dp_stop
grep -q 'warn\|error' "$NRI_LOG" && { cat "$NRI_LOG" >&2; ti_fail "the plugin warned"; }
exit 0
