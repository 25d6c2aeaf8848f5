# SPDX-License-Identifier: Apache-2.0
# Helpers shared by the data-path benchmarks.  The sourcing script defines
# die() first.

# in_netns PID NETNS: wait until PID (started by `ip netns exec`) is inside NETNS.
in_netns() {
	local ino i
	ino=$(stat -L -c %i "/run/netns/$2")
	for ((i = 0; i < 200; i++)); do
		[ "$(stat -L -c %i "/proc/$1/ns/net" 2>/dev/null)" = "$ino" ] && return
		sleep 0.01
	done
	die "pid $1 did not enter $2"
}

# host_bridge NETNS CIDR: a "host" namespace with bridge br0 holding CIDR.
host_bridge() {
	ip netns add "$1"
	ip -n "$1" link set lo up
	ip -n "$1" link add br0 type bridge
	ip -n "$1" link set br0 up
	ip -n "$1" addr add "$2" dev br0
}
