# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# Helpers of the podman tests (test_podman*.sh): real podman containers,
# with the hook installed the way an operator installs it.
#
#     . "$(dirname "$0")/lib/core.sh"
#     ... netns.sh hook.sh pull.sh dpath.sh (see lib/core.sh)
#     . "$(dirname "$0")/lib/podman.sh"
#     pm_init fwd                    # ti_init, podman of this run, image, hooks.d
#     pm run -d --name web ...       # podman with this run's storage and config
#     pm_ip web                      # the container's address on the bridge
#
# Each run has a podman of its own (scripts/lib/podman_env.sh) in TI_TMP,
# whose default network's bridge (pm-<id>) and subnets (IPv4 and IPv6) are
# this run's.  The image is
# busybox-static imported from a rootfs tar (no registry is needed), also
# the pods' infra image (pm_pod_create).  The hook comes from `cmake --install` into
# a prefix in TI_TMP: its hooks.d file is the installed one, with
# PORTCULLIS_CONFIG pointing at this run's config.  Cleanup removes every
# container, pod and image, the bridge and podman's own folders.

ti_lib_needs core hook pull dpath

PM_ROOT=$TI_ROOT
PM_BUILD=${PORTCULLIS_BUILD:-$(cd "$(dirname "$HOOK")/.." && pwd)}

. "$TI_ROOT/scripts/lib/podman_env.sh"

# pm [ARGS...]: this run's podman
pm() { pe_podman "$PM_DIR" "$@"; }

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

# pm_conf: containers.conf and the CNI network of this run.
pm_conf() {
	local h
	h=$(printf '%s' "$TI_ID" | cksum | cut -d' ' -f1)
	PM_NET=pm-$TI_ID
	PM_BRIDGE=pm-$TI_ID
	PM_SUBNET=10.$TI_A.$((100 + h % 100))
	PM_SUBNET6=$TI_V6:$(printf '%x' $((100 + h % 100)))::
	pe_conf "$PM_DIR" "$PM_NET" "$PM_BRIDGE" "$PM_SUBNET" "$PM_SUBNET6"
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
	ti_dpath_config "$1" "${2:-open}" "${3:-}"
	pm_install
	pm_conf
	pm_hooks_d
	ti_on_cleanup pm_cleanup
	pe_rootfs "$PM_DIR/rootfs"
	pe_image "$PM_DIR" "$PM_IMAGE"
	ti_log "podman: storage $PM_DIR, network $PM_NET ($PM_SUBNET.0/24 on $PM_BRIDGE)"
}

pm_cleanup() { pe_cleanup "$PM_DIR" "$PM_NET" "$PM_BRIDGE"; }

# pm_run ARGS...: podman run -d, the new container's id on stdout.
pm_run() { pm run -d "$@"; }

# pm_pod_create NAME: a pod whose infra container is this run's image
pm_pod_create() {
	pm pod create --name "$1" --infra-image "$PM_IMAGE" --infra-command "sleep 1000000" >/dev/null
}

# pm_ip NAME: the container's IPv4 address on the bridge
pm_ip() { pm inspect "$1" --format "{{(index .NetworkSettings.Networks \"$PM_NET\").IPAddress}}"; }

# pm_ip6 NAME: the container's global IPv6 address on the bridge
pm_ip6() { pm inspect "$1" --format "{{(index .NetworkSettings.Networks \"$PM_NET\").GlobalIPv6Address}}"; }

# pm_id NAME: the container's full id
pm_id() { pm inspect "$1" --format '{{.Id}}'; }

# pm_fetch NAME URL: wget in the container, the page on stdout; bounded by
# timeout (busybox 1.35 wget crashes on its own -T)
pm_fetch() {
	local PE_ARGV
	pe_argv "$PM_DIR"
	timeout 20 "${PE_ARGV[@]}" exec "$1" wget -q -O - "$2"
}

# pm_status_has ID: the hook's status lists the container
pm_status_has() { ti_status_json | jq -e --arg id "$1" 'any(.[]; any(.containers[]; .id == $id))' >/dev/null; }

# pm_bridge_ports: host-side interfaces left on this run's bridge
pm_bridge_ports() { ip -o link show master "$PM_BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1; }

# pm_journals: the pull journals in this run's state directory
pm_journals() { find "$TI_STATE_DIR" -maxdepth 1 -name 'pull-*.journal*' -printf '%f\n'; }

# pm_assert_clean: after every container is gone, nothing of them is left:
# no enforcer port, state record, journal, host-side veth on the bridge or
# BPF map entry.
pm_assert_clean() {
	ti_wait_until 10 ti_no_enf_ports || ti_fail "enforcer ports left: $(ti_enf_ports | tr '\n' ' ')"
	ti_assert_eq "" "$(ti_state_files | tr '\n' ' ')" "state records left"
	ti_assert_eq "" "$(pm_journals | tr '\n' ' ')" "journals left"
	ti_assert_eq "" "$(pm_bridge_ports | tr '\n' ' ')" "host-side veths left on $PM_BRIDGE"
	if [ "$TI_DPATH_BACKEND" = bpf ]; then
		local m
		for m in pc_ports pc_ucmacs; do
			ti_assert_eq 0 "$(ti_dpath_map_count "$m")" "entries in $m"
		done
	fi
}
