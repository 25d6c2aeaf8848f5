#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# deploy/kubernetes/ checked by kubectl (Debian 13's kubernetes-client) in
# a client-side dry run with strict validation against the Kubernetes
# schemas Debian ships (golang-k8s-client-go-dev's OpenAPI v3 documents of
# core/v1 and apps/v1).  kubectl needs an API server for that even so: it
# finds each kind's resource through discovery and reads the schema from
# the server; Debian packages no API server, so test/tools/kube_stub.py
# serves discovery and those documents and nothing else (kubectl does the
# validating).
#  - every manifest passes: namespace, ConfigMap, DaemonSet created (dry run);
#  - the check bites: an unknown field and a wrong type are refused;
#  - what the DaemonSet must have is there: host network and PIDs,
#    privileged containers, /run/netns and /sys/fs/bpf propagated both
#    ways, the state folder and the NRI socket's folder, requests for both
#    containers, the readiness probe on the control socket;
#  - the ConfigMap's portcullis.json and policy.json load in portcullis-dp.
# The packages are fetched as lib/containerd.sh fetches Debian 13's, and
# kept under /var/cache/portcullis/kubectl-<version>/.
#
# ti-timeout: 300
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/containerd.sh"

ti_init
KUBE=$TI_ROOT/deploy/kubernetes
PACKAGES=(kubectl kubernetes-client golang-k8s-client-go-dev golang-github-google-gnostic-models-dev)
DP=${PORTCULLIS_DP:-$(dirname "$HOOK")/portcullis-dp}
/usr/bin/python3 -c 'import grpc_tools' 2>/dev/null || ti_skip "python3-grpc-tools is not installed"

# kc_fetch: KC_HOME with the packages unpacked in tree/ and the v2 stubs
kc_fetch() {
	local ver tmp deb
	mkdir -p "$CD_CACHE"
	exec {KC_LOCK}>"$CD_CACHE/kubectl.lock"
	flock -w 300 "$KC_LOCK" || ti_fail "cannot lock $CD_CACHE/kubectl.lock"
	cd_apt_setup
	KC_HOME=$(find "$CD_CACHE" -maxdepth 1 -name 'kubectl-*' -type d | sort -V | tail -n 1)
	if [ -z "$KC_HOME" ] || [ "$(cat "$KC_HOME/complete" 2>/dev/null)" != "${PACKAGES[*]}" ]; then
		cd_apt apt-get update >"$TI_TMP/apt.log" 2>&1 || ti_skip "cannot reach Debian 13's archive"
		# kubernetes-client is Debian's own name: its version is Debian 13's kubectl's
		ver=$(cd_apt apt-cache show kubernetes-client 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -n 1)
		[ -n "$ver" ] || ti_skip "Debian 13 has no kubernetes-client"
		KC_HOME=$CD_CACHE/kubectl-$ver
		tmp=$(mktemp -d "$CD_CACHE/.kubectl.XXXXXX")
		(cd "$tmp" && mkdir debs tree && cd debs &&
			cd_apt apt-get download "kubectl=$ver" "kubernetes-client=$ver" golang-k8s-client-go-dev \
				golang-github-google-gnostic-models-dev) >"$TI_TMP/download.log" 2>&1 ||
			{ rm -rf "$tmp"; ti_skip "cannot download ${PACKAGES[*]} from Debian 13"; }
		for deb in "$tmp"/debs/*.deb; do
			dpkg-deb -x "$deb" "$tmp/tree" || { rm -rf "$tmp"; ti_fail "cannot unpack $deb"; }
		done
		mkdir "$tmp/v2stubs"
		/usr/bin/python3 -m grpc_tools.protoc \
			-I"$tmp/tree/usr/share/gocode/src/github.com/google/gnostic-models/openapiv2" \
			--python_out="$tmp/v2stubs" OpenAPIv2.proto || { rm -rf "$tmp"; ti_fail "protoc OpenAPIv2.proto"; }
		echo "${PACKAGES[*]}" >"$tmp/complete"
		rm -rf "$KC_HOME"
		mv "$tmp" "$KC_HOME"
	fi
	flock -u "$KC_LOCK"
	KUBECTL=$KC_HOME/tree/usr/bin/kubectl
	"$KUBECTL" version --client >/dev/null || ti_fail "$KUBECTL does not run"
}

kc_fetch
ti_log "$("$KUBECTL" version --client | head -n 1) from $KC_HOME"
DOCS=$KC_HOME/tree/usr/share/gocode/src/k8s.io/client-go/openapi/openapitest/testdata
/usr/bin/python3 "$TI_ROOT/test/tools/kube_stub.py" --v2-stubs "$KC_HOME/v2stubs" "$TI_TMP/port" \
	"$DOCS/api__v1_openapi.json" "$DOCS/apis__apps__v1_openapi.json" 2>"$TI_TMP/stub.log" &
TI_PIDS+=("$!")
ti_wait_until 10 test -s "$TI_TMP/port" || { cat "$TI_TMP/stub.log" >&2; ti_fail "the stub did not start"; }
kc() { KUBECONFIG=/dev/null "$KUBECTL" --server "http://127.0.0.1:$(cat "$TI_TMP/port")" "$@"; }

ti_log "the manifests"
out=$(kc apply --dry-run=client --validate=strict -f "$KUBE/" 2>&1) || ti_fail "kubectl refused: $out"
ti_log "$(tr '\n' ';' <<<"$out")"
ti_assert_eq "namespace/portcullis-system created (dry run)
configmap/portcullis created (dry run)
daemonset.apps/portcullis created (dry run)" "$out" "kubectl's dry run"
grep -q 'GET /openapi/v2' "$TI_TMP/stub.log" || ti_fail "kubectl did not read the schema"

ti_log "the check bites"
sed 's/^\(      hostPID: true\)$/\1\n      hostPIDs: true/' "$KUBE/20-daemonset.yaml" >"$TI_TMP/unknown.yaml"
sed 's/initialDelaySeconds: 2$/initialDelaySeconds: soon/' "$KUBE/20-daemonset.yaml" >"$TI_TMP/type.yaml"
for f in unknown type; do
	! cmp -s "$TI_TMP/$f.yaml" "$KUBE/20-daemonset.yaml" || ti_fail "the $f mutation changed nothing"
	if out=$(kc apply --dry-run=client --validate=strict -f "$TI_TMP/$f.yaml" 2>&1); then
		ti_fail "kubectl took the $f mutation: $out"
	fi
	[[ $out == *ValidationError* ]] || ti_fail "no validation error for the $f mutation: $out"
done

ti_log "what the DaemonSet must have"
ds=$(kc apply --dry-run=client --validate=strict -f "$KUBE/20-daemonset.yaml" -o json) ||
	ti_fail "kubectl -o json failed"
spec() { jq -r ".spec.template.spec | $1" <<<"$ds"; }
ti_assert_eq "true true" "$(spec '"\(.hostNetwork) \(.hostPID)"')" "host network and PIDs"
ti_assert_eq "dp:true nri:true" "$(spec '[.containers[] | "\(.name):\(.securityContext.privileged)"] | join(" ")')" \
	"privileged containers"
for c in dp nri; do
	ti_assert_eq "/run/netns:Bidirectional /sys/fs/bpf:Bidirectional" \
		"$(spec ".containers[] | select(.name == \"$c\") | [.volumeMounts[] | select(.mountPropagation) |
			\"\(.mountPath):\(.mountPropagation)\"] | join(\" \")")" "mounts propagated in $c"
	[ "$(spec ".containers[] | select(.name == \"$c\") | .resources.requests | has(\"cpu\") and has(\"memory\")")" = true ] ||
		ti_fail "container $c has no requests"
done
ti_assert_eq "/run/netns /sys/fs/bpf /run/portcullis /var/run/nri" \
	"$(spec '[.volumes[] | select(.hostPath) | .hostPath.path] | join(" ")')" "the host's folders"
ti_assert_eq "/var/run/nri" "$(spec '.containers[] | select(.name == "nri") | .volumeMounts[] |
	select(.name == "nri") | .mountPath')" "the NRI socket's folder in the plugin's container"
ti_assert_eq "portcullisctl --socket /run/portcullis/dp.sock status" \
	"$(spec '.containers[] | select(.name == "dp") | .readinessProbe.exec.command | join(" ")')" \
	"the readiness probe"

ti_log "the ConfigMap loads in portcullis-dp"
cm=$(kc apply --dry-run=client --validate=strict -f "$KUBE/10-configmap.yaml" -o json) || ti_fail "ConfigMap"
jq -r '.data["portcullis.json"]' <<<"$cm" >"$TI_TMP/portcullis.json"
jq -r '.data["policy.json"]' <<<"$cm" >"$TI_TMP/policy.json"
ti_assert_eq true "$(jq .policy_watch "$TI_TMP/portcullis.json")" "policy_watch in the ConfigMap"
# an empty capture: the pcap file header alone (Ethernet)
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\0\0\0\0\0\0\0\0\xff\xff\x00\x00\x01\x00\x00\x00' >"$TI_TMP/empty.pcap"
"$DP" --config "$TI_TMP/portcullis.json" --read-pcap "$TI_TMP/empty.pcap" --policy "$TI_TMP/policy.json" \
	>/dev/null 2>"$TI_TMP/dp.err" || ti_fail "portcullis-dp refuses the ConfigMap: $(cat "$TI_TMP/dp.err")"
exit 0
