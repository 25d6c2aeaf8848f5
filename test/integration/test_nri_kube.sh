#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The DaemonSet of deploy/kubernetes/ as a node runs it: its pod template,
# extracted unchanged but for this run's paths, played with `podman kube
# play` (podman 4.3) from the image deploy/kubernetes/build-image.sh makes
# of this build, against this run's containerd.
#  - the image holds the package's binaries (--version of each);
#  - podman 4.3 does not apply hostPID (podman 4.5 does): the plugin then
#    sees that the runtime's pids are not its own and does without them;
#  - both containers run: the data plane becomes ready (its readiness
#    probe's command succeeds), the plugin registers with containerd over
#    the socket folder mounted into it;
#  - the enforcer namespace and the pinned data path the containers make
#    are the host's (the mounts propagate both ways);
#  - two containerd pods are intercepted, a page goes from one to the
#    other through the data plane, whose log (the container's stdout)
#    names both pods;
#  - stopping the pods releases them; stopping the kube pod ends both
#    containers with exit 0 and nothing is left.
# The image is cached under /var/cache/portcullis/image/, keyed by the
# package's files, so it is made again only when the build changed.
#
# ti-timeout: 600
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/containerd.sh"
. "$(dirname "$0")/lib/nri.sh"
. "$TI_ROOT/scripts/lib/podman_env.sh"

KUBE=$TI_ROOT/deploy/kubernetes
nri_init
command -v mmdebstrap >/dev/null || ti_skip "mmdebstrap is not installed (scripts/deps installs it)"
dpkg-query -W -f='${Status}\n' podman 2>/dev/null | grep -q 'install ok installed' ||
	ti_skip "podman is not installed"
/usr/bin/python3 -c 'import yaml' 2>/dev/null || ti_skip "python3-yaml is not installed"
BUILD=$(cd "$(dirname "$HOOK")/.." && pwd)

ti_log "the image"
VERSION=$(sed -n 's/^project(portcullis VERSION \([0-9.]*\).*/\1/p' "$TI_ROOT/CMakeLists.txt")
cmake --build "$BUILD" --target package >"$TI_TMP/package.log" 2>&1 ||
	{ cat "$TI_TMP/package.log" >&2; ti_fail "cannot make the package"; }
DEB=$BUILD/portcullis_${VERSION}_$(dpkg --print-architecture).deb
# the package's files as its md5sums list them, the changelog's date aside
key=$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./md5sums | grep -v changelog |
	cat - "$KUBE/build-image.sh" | sha256sum | cut -c1-16)
IMAGE_DIR=/var/cache/portcullis/image
IMAGE_TAR=$IMAGE_DIR/portcullis-$VERSION-$key.oci.tar
mkdir -p "$IMAGE_DIR"
exec {IMG_LOCK}>"$IMAGE_DIR/lock"
flock -w 600 "$IMG_LOCK" || ti_fail "cannot lock $IMAGE_DIR/lock"
if [ ! -f "$IMAGE_TAR" ]; then
	t0=$SECONDS
	"$KUBE/build-image.sh" --build "$BUILD" --out "$IMAGE_TAR" >"$TI_TMP/image.log" 2>&1 ||
		{ tail -n 30 "$TI_TMP/image.log" >&2; ti_fail "build-image.sh failed"; }
	ti_log "made the image in $((SECONDS - t0)) s"
	# the older images of this version go
	find "$IMAGE_DIR" -name "portcullis-$VERSION-*.oci.tar" ! -name "${IMAGE_TAR##*/}" -delete
fi
flock -u "$IMG_LOCK"

PM_DIR=$TI_TMP/podman
pe_conf "$PM_DIR" "pk-$TI_ID" "pk-$TI_ID" "10.$TI_A.151"
ti_on_cleanup pe_cleanup "$PM_DIR" "pk-$TI_ID" "pk-$TI_ID"
IMAGE=localhost/portcullis:$VERSION
# the pod's infra container: busybox sleeping (podman would build its own
# pause image from catatonit, which is not installed)
pm() { pe_podman "$PM_DIR" "$@"; }
pe_rootfs "$PM_DIR/rootfs"
printf '#!/bin/sh\ntrap "exit 0" TERM INT\nsleep 2147483647 &\nwait\n' >"$PM_DIR/rootfs/pause"
chmod +x "$PM_DIR/rootfs/pause"
tar -C "$PM_DIR/rootfs" -cf "$PM_DIR/infra.tar" .
pm import -q --change 'CMD ["/pause"]' "$PM_DIR/infra.tar" "localhost/pk-infra-$TI_ID" >/dev/null
printf 'infra_image = "%s"\ninfra_command = "/pause"\n' "localhost/pk-infra-$TI_ID" >>"$PM_DIR/containers.conf"
pm load -i "$IMAGE_TAR" >"$TI_TMP/load.log" 2>&1 || { cat "$TI_TMP/load.log" >&2; ti_fail "podman load failed"; }
for b in portcullis-dp portcullis-nri portcullisctl portcullis-hook; do
	ti_assert_eq "$b $VERSION" "$(pm run --rm --network none "$IMAGE" "$b" --version)" "$b in the image"
done

ti_log "the DaemonSet's pod, played"
# the configuration: this run's enforcer, pins and state (mounted at
# /run/portcullis), fwd, the plugin failing pods it cannot intercept
POD=pc-$TI_ID
jq -n --arg enf "$TI_ENF" --arg bpf "$TI_BPF_DIR" '{enforcer_netns: $enf, bpf_pin_dir: $bpf,
	state_dir: "/run/portcullis", ctl_socket: "/run/portcullis/dp.sock", backend: "bpf",
	mode: "fwd", on_failure: "closed", dp_down: "open", policy: "/etc/portcullis/policy.json",
	policy_watch: true, session_log: "-", log_level: "info"}' >"$TI_TMP/portcullis.json"
echo '{"default": "allow", "rules": []}' >"$TI_TMP/policy.json"
mkdir -p "$TI_STATE_DIR"
/usr/bin/python3 - "$KUBE" "$TI_TMP" "$POD" "$IMAGE" "$TI_STATE_DIR" "$CD_DIR" <<'PY' ||
import sys, yaml
kube, tmp, pod, image, state, nri = sys.argv[1:]
cm = yaml.safe_load(open(kube + "/10-configmap.yaml"))
ds = yaml.safe_load(open(kube + "/20-daemonset.yaml"))
# this run's configuration in the DaemonSet's ConfigMap
for k in ("portcullis.json", "policy.json"):
    cm["data"][k] = open(tmp + "/" + k).read()
cm["metadata"] = {"name": pod + "-cm"}
# the pod template as it is, but for this run's host paths and image
spec = ds["spec"]["template"]["spec"]
for v in spec["volumes"]:
    if v["name"] == "config":
        v["configMap"]["name"] = pod + "-cm"
    elif v["name"] == "state":
        v["hostPath"]["path"] = state
    elif v["name"] == "nri":
        v["hostPath"]["path"] = nri
for c in spec["containers"]:
    assert c["image"].startswith("localhost/portcullis:"), c["image"]
    c["image"] = image
p = {"apiVersion": "v1", "kind": "Pod",
     "metadata": {"name": pod, "labels": ds["spec"]["template"]["metadata"]["labels"]},
     "spec": spec}
yaml.safe_dump_all([cm, p], open(tmp + "/kube.yaml", "w"), sort_keys=False)
PY
	ti_fail "cannot make the pod from the DaemonSet"
ti_on_cleanup pe_podman "$PM_DIR" kube down "$TI_TMP/kube.yaml"
pm kube play "$TI_TMP/kube.yaml" >"$TI_TMP/play.log" 2>&1 ||
	{ cat "$TI_TMP/play.log" >&2; ti_fail "podman kube play failed"; }
DP_CTR=$POD-dp
NRI_CTR=$POD-nri
# shellcheck disable=SC2317 # called through ti_wait_until
logs_have() { grep -q -- "$2" <<<"$(pm logs "$1" 2>&1)"; } # all read: no SIGPIPE under pipefail
ti_wait_until 20 logs_have "$DP_CTR" 'info: ready: ' ||
	{ pm logs "$DP_CTR" >&2; ti_fail "the data plane is not ready"; }
pm exec "$DP_CTR" portcullisctl --socket /run/portcullis/dp.sock status >/dev/null ||
	ti_fail "the readiness probe's command fails"
ti_wait_until 20 logs_have "$NRI_CTR" 'info: synchronize: ' ||
	{ pm logs "$NRI_CTR" >&2; ti_fail "the plugin did not register"; }
grep -qF 'registered as \"10-portcullis\"' "$CD_DIR/containerd.log" ||
	ti_fail "containerd did not register the plugin"
[ -e "$TI_ENF" ] || ti_fail "the enforcer namespace is not the host's: no $TI_ENF"
ip -n "$TI_ENF_NAME" link show dev vth-neuv >/dev/null || ti_fail "no vth-neuv in the host's $TI_ENF"
[ -d "$TI_BPF_DIR/$TI_ENF_NAME" ] || ti_fail "the pinned data path is not the host's"
ti_assert_eq "1" "$(pm inspect "$DP_CTR" --format '{{.HostConfig.Privileged}}' | grep -c true)" \
	"the data plane container privileged"
# podman applies hostPID from 4.5 on (its pull request 17168); before, the
# plugin's container has PIDs of its own, and the plugin says it does not
# use the runtime's pids
pidmode=$(pm inspect "$NRI_CTR" --format '{{.HostConfig.PidMode}}')
ti_log "podman $(pm --version | cut -d' ' -f3) gave the plugin PID mode \"$pidmode\" for hostPID: true"
if [ "$pidmode" != host ]; then
	logs_have "$NRI_CTR" "the runtime is in another PID namespace" ||
		ti_fail "the plugin uses pids of another PID namespace"
fi

ti_log "two pods through it"
NS=kube-$TI_ID
WEB_CMD='mkdir -p /tmp/www && echo hello-from-web >/tmp/www/index.html &&
	exec httpd -f -p 8080 -h /tmp/www'
nri_pod web "web-$TI_ID" "$NS" -- sh -c "$WEB_CMD"
nri_pod client "client-$TI_ID" "$NS" -- sleep 3600
for k in web client; do
	nri_pulled "$k" || ti_fail "pod $k is not intercepted: $(pm logs "$NRI_CTR" 2>&1 | tail)"
done
page=$(nri_exec client timeout 5 wget -q -O - "http://${POD_IP[web]}:8080/") || ti_fail "no page: $page"
ti_assert_eq hello-from-web "$page" "the page through the data plane"
# shellcheck disable=SC2317 # called through ti_wait_until
slog_names() { pm logs "$DP_CTR" 2>/dev/null | grep '^{' | jq -e -s "any(.[]; .container.k8s_pod == \"$1\")" >/dev/null; }
ti_wait_until 20 slog_names "web-$TI_ID" || ti_fail "the data plane's log names no session of web"
ti_wait_until 20 slog_names "client-$TI_ID" || ti_fail "the data plane's log names no session of client"
nri_stop_pod web
nri_stop_pod client
# shellcheck disable=SC2317 # called through ti_wait_until
no_enf_ports() { [[ $(nri_counts) == enforcer_ports=0\ records=0* ]]; }
ti_wait_until 5 no_enf_ports || ti_fail "left after the pods' stop: $(nri_counts)"

ti_log "the kube pod stopped"
pm pod stop -t 10 "$POD" >/dev/null || ti_fail "podman pod stop failed"
for c in "$DP_CTR" "$NRI_CTR"; do
	ti_assert_eq 0 "$(pm inspect "$c" --format '{{.State.ExitCode}}')" "exit status of $c"
done
logs_have "$NRI_CTR" 'stopping; intercepted pods stay intercepted' ||
	ti_fail "the plugin did not stop cleanly"
pm kube down "$TI_TMP/kube.yaml" >/dev/null 2>&1 || ti_fail "podman kube down failed"
ti_assert_eq "" "$(find "$TI_STATE_DIR" -name 'netns-*' -o -name 'pull-*')" "records or journals left"
exit 0
