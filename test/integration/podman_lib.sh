# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# Helpers of the podman tests (test_podman*.sh): real podman containers,
# with the hook installed the way an operator installs it.
#
#     . "$(dirname "$0")/lib.sh"
#     . "$(dirname "$0")/podman_lib.sh"
#     pm_init fwd                    # ti_init, podman of this run, image, hooks.d
#     pm run -d --name web ...       # podman with this run's storage and config
#     pm_ip web                      # the container's address on the bridge
#
# Each run has a podman of its own: storage, run and temporary folders in
# TI_TMP, a containers.conf (CONTAINERS_CONF) naming runc, file events,
# ulimits this machine accepts, and one CNI bridge network, the default
# one, whose bridge (pm-<id>) and subnet are this run's.  The image is
# busybox-static imported from a rootfs tar (no registry is needed), also
# the pods' infra image (pm_pod_create).  The hook comes from `cmake --install` into
# a prefix in TI_TMP: its hooks.d file is the installed one, with
# PORTCULLIS_CONFIG pointing at this run's config.  Cleanup removes every
# container, pod and image, the bridge and podman's own folders.

PM_ROOT=$TI_ROOT
PM_BUILD=${PORTCULLIS_BUILD:-$(cd "$(dirname "$HOOK")/.." && pwd)}

# pm [ARGS...]: this run's podman
pm() {
	CONTAINERS_CONF=$PM_DIR/containers.conf podman --root "$PM_DIR/root" \
		--runroot "$PM_DIR/run" "$@"
}

# pm_need: podman, runc, busybox-static and the CNI plugins, installed when
# missing; skip (77) when they cannot be had.
pm_need() {
	local missing=() p
	for p in podman runc busybox-static containernetworking-plugins; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	ti_log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
		>"$TI_TMP/apt.log" 2>&1 || ti_skip "cannot install ${missing[*]} (see apt-get)"
}

# pm_install: cmake --install into TI_TMP/prefix; PM_HOOK, PM_DP, PM_CTL.
pm_install() {
	PM_PREFIX=$TI_TMP/prefix
	cmake --install "$PM_BUILD" --prefix "$PM_PREFIX" >"$TI_TMP/install.log" 2>&1 ||
		{ cat "$TI_TMP/install.log" >&2; ti_fail "cmake --install failed"; }
	PM_HOOK=$PM_PREFIX/bin/portcullis-hook
	PM_DP=$PM_PREFIX/bin/portcullis-dp
	PM_CTL=$PM_PREFIX/bin/portcullisctl
	PM_HOOKS_D=$PM_PREFIX/share/containers/oci/hooks.d
}

# pm_rootfs DIR: busybox (its libraries too when it is not the static build),
# a web root and the files a container wants.
pm_rootfs() {
	local d=$1 bb a lib
	bb=$(command -v busybox)
	mkdir -p "$d"/{bin,etc,tmp,proc,sys,dev,www,root}
	cp "$bb" "$d/bin/busybox"
	if ! file -L "$bb" | grep -q 'statically linked'; then
		for lib in $(ldd "$bb" | grep -o '/[^ ]*'); do
			mkdir -p "$d$(dirname "$lib")"
			cp -L "$lib" "$d$lib"
		done
	fi
	for a in $("$d/bin/busybox" --list); do
		[ "$a" = busybox ] || ln -sf busybox "$d/bin/$a"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$d/etc/passwd"
	echo 'root:x:0:' >"$d/etc/group"
	printf 'portcullis test page\n' >"$d/www/index.html"
}

# pm_conf: containers.conf and the CNI network of this run.
pm_conf() {
	local h
	h=$(printf '%s' "$TI_ID" | cksum | cut -d' ' -f1)
	PM_NET=pm-$TI_ID
	PM_BRIDGE=pm-$TI_ID
	PM_SUBNET=10.$TI_A.$((100 + h % 100))
	mkdir -p "$PM_DIR"/{net,hooks.d,tmp,ipam}
	cat >"$PM_DIR/containers.conf" <<-EOF
		[containers]
		default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
		[network]
		network_backend = "cni"
		network_config_dir = "$PM_DIR/net"
		default_network = "$PM_NET"
		default_subnet = "$PM_SUBNET.0/24"
		[engine]
		runtime = "runc"
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		tmp_dir = "$PM_DIR/tmp"
		hooks_dir = ["$PM_DIR/hooks.d"]
	EOF
	cat >"$PM_DIR/net/$PM_NET.conflist" <<-EOF
		{"cniVersion": "0.4.0", "name": "$PM_NET",
		 "plugins": [{"type": "bridge", "bridge": "$PM_BRIDGE", "isGateway": true,
		              "ipMasq": false, "hairpinMode": true,
		              "ipam": {"type": "host-local", "dataDir": "$PM_DIR/ipam",
		                       "routes": [{"dst": "0.0.0.0/0"}],
		                       "ranges": [[{"subnet": "$PM_SUBNET.0/24",
		                                    "gateway": "$PM_SUBNET.1"}]]}}]}
	EOF
}

# pm_hooks_d: the installed hooks.d file, told where this run's config is.
pm_hooks_d() {
	local f=$PM_HOOKS_D/portcullis.json
	[ -f "$f" ] || ti_fail "no hooks.d file installed at $f"
	jq --arg cfg "PORTCULLIS_CONFIG=$TI_CFG" '.hook.env = [$cfg]' "$f" \
		>"$PM_DIR/hooks.d/portcullis.json"
}

# pm_init MODE [DP_DOWN] [EXTRA_CONFIG]: everything above.
pm_init() {
	ti_init
	command -v cmake >/dev/null || ti_skip "cmake missing (for the install)"
	pm_need
	file -L "$(command -v busybox)" >/dev/null 2>&1 || ti_skip "file(1) missing"
	PM_DIR=$TI_TMP/podman
	PM_IMAGE=localhost/pm-$TI_ID:latest
	ti_dp_config "$1" "${2:-open}" "${3:-}"
	pm_install
	pm_conf
	pm_hooks_d
	ti_on_cleanup pm_cleanup
	pm_rootfs "$PM_DIR/rootfs"
	tar -C "$PM_DIR/rootfs" -cf "$PM_DIR/rootfs.tar" .
	pm import -q "$PM_DIR/rootfs.tar" "$PM_IMAGE" >/dev/null
	ti_log "podman: storage $PM_DIR, network $PM_NET ($PM_SUBNET.0/24 on $PM_BRIDGE)"
}

pm_cleanup() {
	pm pod rm -af -t 0 >/dev/null 2>&1
	pm rm -af -t 0 >/dev/null 2>&1
	pm rmi -af >/dev/null 2>&1
	pm system reset -f >/dev/null 2>&1
	ip link del "$PM_BRIDGE" >/dev/null 2>&1
	grep -o " $PM_DIR/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null
	done
	rm -rf "/var/lib/cni/results/$PM_NET-"* 2>/dev/null
	return 0
}

# pm_run ARGS...: podman run -d, the new container's id on stdout.
pm_run() { pm run -d "$@"; }

# pm_pod_create NAME: a pod whose infra container is this run's image
pm_pod_create() {
	pm pod create --name "$1" --infra-image "$PM_IMAGE" --infra-command "sleep 1000000" >/dev/null
}

# pm_ip NAME: the container's IPv4 address on the bridge
pm_ip() { pm inspect "$1" --format "{{(index .NetworkSettings.Networks \"$PM_NET\").IPAddress}}"; }

# pm_id NAME: the container's full id
pm_id() { pm inspect "$1" --format '{{.Id}}'; }

# pm_fetch NAME URL: wget in the container, the page on stdout; bounded by
# timeout (busybox 1.35 wget crashes on its own -T)
pm_fetch() {
	CONTAINERS_CONF=$PM_DIR/containers.conf timeout 20 podman --root "$PM_DIR/root" \
		--runroot "$PM_DIR/run" exec "$1" wget -q -O - "$2"
}

# pm_status_has ID: the hook's status lists the container
pm_status_has() { ti_status_json | jq -e --arg id "$1" 'any(.[]; any(.containers[]; .id == $id))' >/dev/null; }

# pm_bridge_ports: host-side interfaces left on this run's bridge
pm_bridge_ports() { ip -o link show master "$PM_BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1; }
