# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# A podman of its own, for the demo and the tests: storage, run and
# temporary folders under one directory, a containers.conf naming runc, file
# events, ulimits this kind of host accepts and a hooks.d folder, and one
# CNI bridge network - the default one - whose bridge and subnet are given.
# Nothing of the host's podman set-up is read or changed.
#
#     . scripts/lib/podman_env.sh
#     pe_conf DIR NETWORK BRIDGE SUBNET24 [SUBNET6_64]
#                                             # e.g. 10.77.3 for 10.77.3.0/24,
#                                             # fd77:3:: for fd77:3::/64
#     pe_rootfs DIR/rootfs                    # busybox, a web root
#     pe_podman DIR run ...                   # podman with that set-up
#     pe_argv DIR; timeout 9 "${PE_ARGV[@]}" exec ...
#     pe_cleanup DIR NETWORK BRIDGE

# pe_argv DIR: the command line of that podman, in the array PE_ARGV, for
# what runs it as a program (timeout, hyperfine) rather than a function
pe_argv() {
	PE_ARGV=(env "CONTAINERS_CONF=$1/containers.conf" podman --root "$1/root" --runroot "$1/run")
}

# pe_podman DIR ARGS...
pe_podman() {
	local PE_ARGV
	pe_argv "$1"
	shift
	"${PE_ARGV[@]}" "$@"
}

# pe_conf DIR NETWORK BRIDGE SUBNET24 [SUBNET6_64]: containers.conf and the
# network (dual stack when SUBNET6_64 is given).
pe_conf() {
	local d=$1 net=$2 br=$3 sub=$4 six=${5:-} ranges routes
	ranges="[{\"subnet\": \"$sub.0/24\", \"gateway\": \"$sub.1\"}]"
	routes='{"dst": "0.0.0.0/0"}'
	if [ -n "$six" ]; then
		ranges+=", [{\"subnet\": \"${six}/64\", \"gateway\": \"${six}1\"}]"
		routes+=', {"dst": "::/0"}'
	fi
	mkdir -p "$d"/{net,hooks.d,tmp,ipam}
	cat >"$d/containers.conf" <<-EOC
		[containers]
		default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
		[network]
		network_backend = "cni"
		network_config_dir = "$d/net"
		default_network = "$net"
		default_subnet = "$sub.0/24"
		[engine]
		runtime = "runc"
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		tmp_dir = "$d/tmp"
		hooks_dir = ["$d/hooks.d"]
	EOC
	cat >"$d/net/$net.conflist" <<-EOC
		{"cniVersion": "0.4.0", "name": "$net",
		 "plugins": [{"type": "bridge", "bridge": "$br", "isGateway": true,
		              "ipMasq": false, "hairpinMode": true,
		              "ipam": {"type": "host-local", "dataDir": "$d/ipam",
		                       "routes": [$routes],
		                       "ranges": [$ranges]}}]}
	EOC
}

# pe_rootfs DIR: busybox (its libraries too when it is not the static build)
# with every applet, /etc/passwd, and a page in /www.
pe_rootfs() {
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

# pe_image DIR IMAGE: the rootfs in DIR/rootfs imported as IMAGE.
pe_image() {
	tar -C "$1/rootfs" -cf "$1/rootfs.tar" .
	pe_podman "$1" import -q "$1/rootfs.tar" "$2" >/dev/null
}

# pe_cleanup DIR NETWORK BRIDGE: every container, pod and image, the bridge,
# podman's mounts under DIR and the CNI results of NETWORK.
pe_cleanup() {
	local d=$1 net=$2 br=$3 m
	pe_podman "$d" pod rm -af -t 0 >/dev/null 2>&1
	pe_podman "$d" rm -af -t 0 >/dev/null 2>&1
	pe_podman "$d" rmi -af >/dev/null 2>&1
	pe_podman "$d" system reset -f >/dev/null 2>&1
	ip link del "$br" >/dev/null 2>&1
	grep -o " $d/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null
	done
	rm -rf "/var/lib/cni/results/$net-"* 2>/dev/null
	return 0
}
