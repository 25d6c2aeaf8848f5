# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# A private containerd (1.7, with NRI) for the NRI tests, and a CRI client.
#
#     . "$(dirname "$0")/lib/core.sh"
#     . "$(dirname "$0")/lib/containerd.sh"
#     cd_init                  # ti_init, packages, containerd, stubs, image, start
#     cd_cri runp NAME NS UID  # the CRI client (test/tools/cri_client.py), JSON out
#     ... $CD_NRI_SOCK is the NRI socket, $CD_IMAGE the busybox image
#
# containerd comes from Debian 13 (Debian 12 has 1.6, without NRI), fetched
# with a one-off apt configuration (the system's sources are not touched)
# and unpacked, never installed.  The .debs, the unpacked tree, the CRI
# client's stubs and the image archive are cached under
# /var/cache/portcullis/containerd-<package version>/ and reused by later
# runs; CD_REFRESH=1 fetches anew.
#
# Everything of a run lives in $CD_DIR (root, state, sockets, config, CNI
# configuration and IPAM data, runc's state) except what containerd cannot
# put elsewhere: pod netns (/var/run/netns/cni-*), the bridge and its host
# veths, shim sockets (/run/containerd/s), CNI result files
# (/var/lib/cni/results/<network>-*) and the pods' cgroups (under
# /pcti-<id> in each hierarchy, the CRI client's cgroup parent).  cd_cleanup
# removes all of it, on every exit path, by what this run created: pods
# through CRI first, then whatever is left by force, and mounts before any
# tree that holds them.

ti_lib_needs core

CD_CACHE=/var/cache/portcullis
CD_PACKAGES=(containerd golang-github-kubernetes-cri-api-dev golang-github-containerd-nri-dev
	golang-github-containerd-ttrpc-dev)
CD_CLIENT=$TI_ROOT/test/tools/cri_client.py
CD_PY=/usr/bin/python3

# cd_need: Debian 12 packages the private containerd and the client need.
cd_need() {
	local missing=() p
	for p in runc busybox-static containernetworking-plugins python3-grpcio \
		python3-grpc-tools iproute2 jq util-linux; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	ti_log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
		>"$TI_TMP/apt.log" 2>&1 || ti_skip "cannot install ${missing[*]} (see apt-get)"
}

# cd_apt TOOL ARGS...: apt-get or apt-cache with the one-off configuration
# for Debian 13: a sources file of its own, its own lists and caches; the
# system's apt state is only read.
cd_apt() {
	local d=$CD_CACHE/apt-trixie tool=$1
	shift
	"$tool" -o Dir::Etc::SourceParts="$d/sources.d" -o Dir::Etc::SourceList=/dev/null \
		-o Dir::State::Lists="$d/lists" -o Dir::Cache::pkgcache="$d/pkgcache.bin" \
		-o Dir::Cache::srcpkgcache="$d/srcpkgcache.bin" -o APT::Sandbox::User=root "$@"
}

cd_apt_setup() {
	local d=$CD_CACHE/apt-trixie
	mkdir -p "$d/sources.d" "$d/lists/partial"
	# the archive and keyring of the system's own sources, suite trixie
	cat >"$d/sources.d/trixie.sources" <<-EOF
		Types: deb
		URIs: http://deb.debian.org/debian
		Suites: trixie
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
}

# cd_cached: the newest cache directory holding all of CD_PACKAGES, if any.
cd_cached() {
	local d
	for d in $(find "$CD_CACHE" -maxdepth 1 -name 'containerd-*' -type d 2>/dev/null | sort -V -r); do
		[ "$(cat "$d/complete" 2>/dev/null)" = "${CD_PACKAGES[*]}" ] &&
			{ printf '%s\n' "$d"; return 0; }
	done
	return 1
}

# cd_download DIR VERSION: the .debs into DIR/debs, unpacked into DIR/tree.
cd_download() {
	local d=$1 tmp
	tmp=$(mktemp -d "$CD_CACHE/.containerd-$2.XXXXXX")
	(cd "$tmp" && mkdir debs tree && cd debs && cd_apt apt-get download "${CD_PACKAGES[@]}") \
		>"$TI_TMP/download.log" 2>&1 || { rm -rf "$tmp"; return 1; }
	local deb
	for deb in "$tmp"/debs/*.deb; do
		dpkg-deb -x "$deb" "$tmp/tree" || { rm -rf "$tmp"; return 1; }
	done
	echo "${CD_PACKAGES[*]}" >"$tmp/complete"
	rm -rf "$d"
	mv "$tmp" "$d"
}

# cd_fetch: CD_HOME (the cache directory), CD_BIN, CD_VERSION.  Under a
# lock, as several test runs may fetch at once.
cd_fetch() {
	local ver
	mkdir -p "$CD_CACHE"
	exec {CD_LOCK_FD}>"$CD_CACHE/containerd.lock"
	flock -w 300 "$CD_LOCK_FD" || ti_fail "cannot lock $CD_CACHE/containerd.lock"
	if [ "${CD_REFRESH:-0}" = 1 ] || ! CD_HOME=$(cd_cached); then
		cd_apt_setup
		cd_apt apt-get update >"$TI_TMP/apt-trixie.log" 2>&1 ||
			ti_skip "cannot reach Debian 13's archive (see apt-get update)"
		ver=$(cd_apt apt-cache show containerd 2>/dev/null | sed -n 's/^Version: //p' |
			sort -V | tail -n 1)
		[ -n "$ver" ] || ti_skip "Debian 13 has no containerd package"
		CD_HOME=$CD_CACHE/containerd-$ver
		[ "$(cat "$CD_HOME/complete" 2>/dev/null)" = "${CD_PACKAGES[*]}" ] ||
			cd_download "$CD_HOME" "$ver" ||
			ti_skip "cannot download ${CD_PACKAGES[*]} from Debian 13"
	fi
	flock -u "$CD_LOCK_FD"
	CD_VERSION=${CD_HOME##*/containerd-}
	CD_BIN=$CD_HOME/tree/usr/bin
	"$CD_BIN/containerd" --version >/dev/null 2>&1 || ti_fail "$CD_BIN/containerd does not run"
}

# cd_stubs: the CRI client's stubs (CD_STUBS), made from Debian 13's CRI
# api.proto in a temporary folder, kept in the cache.  The proto's gogo
# options only matter to Go: they are dropped, and gogo.proto is not needed.
cd_stubs() {
	local src=$CD_HOME/tree/usr/share/gocode/src/k8s.io/cri-api/pkg/apis/runtime/v1/api.proto
	local gv tmp
	[ -f "$src" ] || ti_fail "no CRI api.proto in $CD_HOME"
	gv=$(dpkg-query -W -f='${Version}' python3-grpc-tools)
	CD_STUBS=$CD_HOME/cri-stubs-$gv
	[ -f "$CD_STUBS/api_pb2_grpc.py" ] && return 0
	tmp=$(mktemp -d "$TI_TMP/stubs.XXXXXX")
	mkdir "$tmp/proto" "$tmp/out"
	sed -e '/^import "github.com\/gogo\/protobuf\/gogoproto\/gogo.proto";/d' \
		-e '/^option (gogoproto\./d' "$src" >"$tmp/proto/api.proto"
	"$CD_PY" -m grpc_tools.protoc -I"$tmp/proto" --python_out="$tmp/out" \
		--grpc_python_out="$tmp/out" "$tmp/proto/api.proto" ||
		ti_fail "cannot generate the CRI stubs"
	flock -w 60 "$CD_LOCK_FD"
	if [ ! -f "$CD_STUBS/api_pb2_grpc.py" ]; then
		rm -rf "$CD_STUBS.new" && cp -r "$tmp/out" "$CD_STUBS.new" && mv "$CD_STUBS.new" "$CD_STUBS"
	fi
	flock -u "$CD_LOCK_FD"
}

# cd_image: a one-layer OCI archive of busybox-static whose entrypoint
# sleeps (CD_IMAGE_TAR, cached per busybox version); CD_IMAGE is its name.
cd_image() {
	local bv tmp d cfg man layer_d cfg_d man_d a
	bv=$(dpkg-query -W -f='${Version}' busybox-static | tr -c 'A-Za-z0-9_.\n-' '_')
	CD_IMAGE=localhost/portcullis/busybox:$bv
	CD_IMAGE_TAR=$CD_HOME/busybox-$bv.oci.tar
	[ -f "$CD_IMAGE_TAR" ] && return 0
	tmp=$(mktemp -d "$TI_TMP/image.XXXXXX")
	d=$tmp/rootfs
	mkdir -p "$d/bin" "$d/etc" "$d/tmp" "$d/proc" "$d/sys" "$d/dev" "$tmp/oci/blobs/sha256"
	cp /bin/busybox "$d/bin/busybox"
	for a in $("$d/bin/busybox" --list); do
		[ "$a" = busybox ] || ln -sf busybox "$d/bin/$a"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$d/etc/passwd"
	echo 'root:x:0:' >"$d/etc/group"
	tar -C "$d" --sort=name --owner=0 --group=0 --mtime=@0 -cf "$tmp/layer.tar" .
	layer_d=$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
	mv "$tmp/layer.tar" "$tmp/oci/blobs/sha256/$layer_d"
	cfg=$(jq -cn --arg l "sha256:$layer_d" '{architecture: "amd64", os: "linux",
		config: {Entrypoint: ["/bin/sleep", "1000000000"], Env: ["PATH=/bin"]},
		rootfs: {type: "layers", diff_ids: [$l]}}')
	cfg_d=$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)
	printf '%s' "$cfg" >"$tmp/oci/blobs/sha256/$cfg_d"
	man=$(jq -cn --arg c "sha256:$cfg_d" --argjson cs "${#cfg}" --arg l "sha256:$layer_d" \
		--argjson ls "$(stat -c %s "$tmp/oci/blobs/sha256/$layer_d")" '{schemaVersion: 2,
		mediaType: "application/vnd.oci.image.manifest.v1+json",
		config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
		layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}')
	man_d=$(printf '%s' "$man" | sha256sum | cut -d' ' -f1)
	printf '%s' "$man" >"$tmp/oci/blobs/sha256/$man_d"
	jq -cn --arg m "sha256:$man_d" --argjson ms "${#man}" --arg n "$CD_IMAGE" '{schemaVersion: 2,
		manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m,
		size: $ms, platform: {architecture: "amd64", os: "linux"},
		annotations: {"io.containerd.image.name": $n}}]}' >"$tmp/oci/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$tmp/oci/oci-layout"
	tar -C "$tmp/oci" -cf "$tmp/image.tar" . || ti_fail "cannot pack the image"
	flock -w 60 "$CD_LOCK_FD"
	[ -f "$CD_IMAGE_TAR" ] || mv "$tmp/image.tar" "$CD_IMAGE_TAR"
	flock -u "$CD_LOCK_FD"
}

# cd_plan: names and the subnet of this run (a /24 no route of the host uses).
cd_plan() {
	local h n i
	CD_DIR=$TI_TMP/ctrd
	CD_SOCK=$CD_DIR/containerd.sock
	CD_NRI_SOCK=$CD_DIR/nri.sock
	CD_NET=pcti-$TI_ID
	CD_BRIDGE=pccd-$TI_ID
	CD_CGROUP=pcti-$TI_ID
	h=$(printf 'cd/%s' "$TI_ID" | cksum | cut -d' ' -f1)
	for ((i = 0; i < 50; i++)); do
		n=$((200 + (h + i) % 50))
		CD_SUBNET=10.$TI_A.$n
		ip -4 route show match "$CD_SUBNET.0/24" | grep -qv '^default' || return 0
	done
	ti_skip "no free /24 in 10.$TI_A.200-249"
}

cd_config() {
	mkdir -p "$CD_DIR/root" "$CD_DIR/state" "$CD_DIR/cni" "$CD_DIR/ipam" "$CD_DIR/runc" \
		"$CD_DIR/nri/conf.d" "$CD_DIR/nri/plugins" "$CD_DIR/opt" "$CD_DIR/logs"
	jq -n --arg net "$CD_NET" --arg br "$CD_BRIDGE" --arg sub "$CD_SUBNET.0/24" \
		--arg ipam "$CD_DIR/ipam" '{cniVersion: "0.4.0", name: $net, plugins: [{type: "bridge",
		bridge: $br, isGateway: false, ipMasq: false, hairpinMode: false,
		ipam: {type: "host-local", dataDir: $ipam, ranges: [[{subnet: $sub}]]}}]}' \
		>"$CD_DIR/cni/10-$CD_NET.conflist"
	cat >"$CD_DIR/config.toml" <<-EOF
		version = 2
		root = "$CD_DIR/root"
		state = "$CD_DIR/state"
		disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
		  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
		  "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]
		[grpc]
		  address = "$CD_SOCK"
		[ttrpc]
		  address = "$CD_SOCK.ttrpc"
		[plugins."io.containerd.internal.v1.opt"]
		  path = "$CD_DIR/opt"
		[plugins."io.containerd.grpc.v1.cri"]
		  sandbox_image = "$CD_IMAGE"
		  restrict_oom_score_adj = true
		  disable_apparmor = true
		  [plugins."io.containerd.grpc.v1.cri".containerd]
		    snapshotter = "overlayfs"
		    default_runtime_name = "runc"
		    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
		      runtime_type = "io.containerd.runc.v2"
		      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
		        BinaryName = "/usr/bin/runc"
		        Root = "$CD_DIR/runc"
		        SystemdCgroup = false
		  [plugins."io.containerd.grpc.v1.cri".cni]
		    bin_dir = "/usr/lib/cni"
		    conf_dir = "$CD_DIR/cni"
		    max_conf_num = 1
		[plugins."io.containerd.nri.v1.nri"]
		  disable = false
		  disable_connections = false
		  plugin_config_path = "$CD_DIR/nri/conf.d"
		  plugin_path = "$CD_DIR/nri/plugins"
		  socket_path = "$CD_NRI_SOCK"
		  plugin_registration_timeout = "5s"
		  plugin_request_timeout = "2s"
	EOF
}

# cd_ctr ARGS...: ctr against this run's containerd.
cd_ctr() { "$CD_BIN/ctr" --address "$CD_SOCK" "$@"; }

# cd_cri COMMAND ARGS...: the CRI client against this run's containerd.
cd_cri() {
	timeout 90 "$CD_PY" "$CD_CLIENT" --stubs "$CD_STUBS" --endpoint "$CD_SOCK" \
		--log-dir "$CD_DIR/logs" --cgroup-parent "/$CD_CGROUP" "$@"
}

# cd_start: containerd in the background (CD_PID), CRI ready, image imported.
cd_start() {
	local i
	[ -d /run/containerd ] && CD_HAD_RUN=1 || CD_HAD_RUN=0
	[ -d /var/lib/cni ] && CD_HAD_CNI=1 || CD_HAD_CNI=0
	# a session of its own: a signal to the test's process group (a timeout,
	# ^C) must leave containerd alive for the cleanup's CRI calls
	PATH=$CD_BIN:$PATH setsid "$CD_BIN/containerd" --config "$CD_DIR/config.toml" \
		>"$CD_DIR/containerd.log" 2>&1 </dev/null &
	CD_PID=$!
	for ((i = 0; i < 200; i++)); do
		cd_cri pods >/dev/null 2>&1 && break
		kill -0 "$CD_PID" 2>/dev/null ||
			{ tail -n 20 "$CD_DIR/containerd.log" >&2; ti_fail "containerd exited"; }
		sleep 0.1
	done
	cd_cri pods >/dev/null ||
		{ tail -n 20 "$CD_DIR/containerd.log" >&2; ti_fail "CRI not ready in 20 s"; }
	[ -S "$CD_NRI_SOCK" ] || ti_fail "no NRI socket at $CD_NRI_SOCK"
	cd_ctr -n k8s.io images import "$CD_IMAGE_TAR" >"$CD_DIR/import.log" 2>&1 ||
		{ cat "$CD_DIR/import.log" >&2; ti_fail "cannot import $CD_IMAGE_TAR"; }
}

# cd_init: ti_init and everything above; cd_cleanup is registered first of all.
cd_init() {
	ti_init
	if ! command -v dpkg-deb >/dev/null || ! command -v apt-get >/dev/null; then
		ti_skip "not Debian"
	fi
	cd_need
	cd_plan
	ti_on_cleanup cd_cleanup
	cd_fetch
	cd_stubs
	cd_image
	cd_config
	cd_start
	ti_log "containerd $CD_VERSION: $CD_DIR, network $CD_NET ($CD_SUBNET.0/24 on $CD_BRIDGE)"
}

# cd_runp NAME NAMESPACE UID: a pod through CRI; its JSON on stdout, its id
# and netns recorded for the cleanup.
cd_runp() {
	local out
	out=$(cd_cri runp "$@") || return 1
	jq -r .id <<<"$out" >>"$CD_DIR/pods.list"
	jq -r .netns <<<"$out" >>"$CD_DIR/netns.list"
	printf '%s\n' "$out"
}

# ---------------------------------------------------------------- cleanup

# The pids of this run's shims: containerd-shim-runc-v2 started with our address.
cd_shim_pids() {
	local p cmd
	for p in /proc/[0-9]*; do
		cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
		[[ $cmd == *containerd-shim-runc-v2\ *" -address $CD_SOCK "* ]] && printf '%s\n' "${p#/proc/}"
	done
	return 0
}

# This run's cgroups (the pods' cgroup parent in every hierarchy), deepest first.
cd_cgroups() {
	find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d -name "$CD_CGROUP" 2>/dev/null |
		while read -r c; do find "$c" -depth -type d; done
}

# The CNI netns that processes of this run's cgroups are in (a pod whose
# stop failed), added to the netns list before those processes die.
cd_note_netns() {
	local c pid ns ino inos=" "
	for c in $(cd_cgroups); do
		for pid in $(cat "$c/cgroup.procs" 2>/dev/null); do
			ino=$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null) && inos+="$ino "
		done
	done
	for ns in /var/run/netns/cni-*; do
		[ -e "$ns" ] || continue
		[[ $inos == *" $(stat -L -c %i "$ns" 2>/dev/null) "* ]] && printf '%s\n' "$ns"
	done >>"$CD_DIR/netns.list"
	return 0
}

# Kill what runs in this run's cgroups, then remove them.
cd_drop_cgroups() {
	local c pid i
	cd_note_netns
	for ((i = 0; i < 3; i++)); do
		for c in $(cd_cgroups); do
			for pid in $(cat "$c/cgroup.procs" 2>/dev/null); do
				kill -9 "$pid" 2>/dev/null
			done
		done
		sleep 0.2
	done
	for c in $(cd_cgroups); do
		rmdir "$c" 2>/dev/null
	done
}

# Stop containerd: pods through CRI first (CNI DEL, netns, mounts), then
# the daemon, then anything its shims left running.
cd_stop() {
	local id p i
	if [ -n "${CD_PID:-}" ] && kill -0 "$CD_PID" 2>/dev/null; then
		for id in $(cd_cri pods 2>/dev/null | jq -r '.[].id'); do
			printf '%s\n' "$id" >>"$CD_DIR/pods.list"
			cd_cri netns "$id" 2>/dev/null | jq -r .netns >>"$CD_DIR/netns.list"
			cd_cri stopp "$id" >/dev/null 2>&1
			cd_cri rmp "$id" >/dev/null 2>&1
		done
		kill "$CD_PID" 2>/dev/null
		for ((i = 0; i < 100 && $(kill -0 "$CD_PID" 2>/dev/null && echo 1); i++)); do
			sleep 0.1
		done
		kill -9 "$CD_PID" 2>/dev/null
		wait "$CD_PID" 2>/dev/null
	fi
	cd_drop_cgroups
	for p in $(cd_shim_pids); do
		kill -9 "$p" 2>/dev/null
	done
}

# Unmount everything under $1, deepest first; lazily when busy.
cd_umount_under() {
	local m
	awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		done
}

cd_mounts_under() { awk -v d="$1/" 'index($5, d) == 1' /proc/self/mountinfo | grep -c . || true; }

# The pod netns this run recorded that are still there.
cd_drop_netns() {
	local ns
	sort -u "$CD_DIR/netns.list" 2>/dev/null | while read -r ns; do
		[[ $ns == /var/run/netns/cni-* || $ns == /run/netns/cni-* ]] || continue
		[ -e "$ns" ] || continue
		umount "$ns" 2>/dev/null || umount -l "$ns" 2>/dev/null
		rm -f "$ns"
	done
}

cd_drop_bridge() {
	local l
	ip link show dev "$CD_BRIDGE" >/dev/null 2>&1 || return 0
	for l in $(ip -j link show master "$CD_BRIDGE" 2>/dev/null | jq -r '.[].ifname'); do
		ip link del "$l" 2>/dev/null
	done
	ip link del "$CD_BRIDGE" 2>/dev/null
}

# Shim sockets: /run/containerd/s/<sha256 of address/namespace/sandbox id>.
cd_drop_shim_sockets() {
	local id h
	sort -u "$CD_DIR/pods.list" 2>/dev/null | while read -r id; do
		[ -n "$id" ] || continue
		h=$(printf '%s/k8s.io/%s' "$CD_SOCK" "$id" | sha256sum | cut -d' ' -f1)
		rm -f "/run/containerd/s/$h"
	done
	if [ "${CD_HAD_RUN:-1}" = 0 ]; then
		rmdir /run/containerd/s /run/containerd 2>/dev/null
	fi
	return 0
}

cd_cleanup() {
	[ -n "${CD_DIR:-}" ] && [ -d "$CD_DIR" ] || return 0
	cd_stop
	cd_umount_under "$CD_DIR"
	cd_drop_netns
	cd_drop_bridge
	rm -f "/var/lib/cni/results/$CD_NET-"*
	[ "${CD_HAD_CNI:-1}" = 1 ] || rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null
	cd_drop_shim_sockets
	if [ "$(cd_mounts_under "$CD_DIR")" != 0 ]; then
		# never delete a tree with mounts inside: keep it, and say so
		ti_log "mounts left under $CD_DIR: not deleting $TI_TMP"
		TI_TMP=
	fi
	[ -n "${CD_LOCK_FD:-}" ] && exec {CD_LOCK_FD}>&-
	return 0
}
