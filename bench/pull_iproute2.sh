#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The pull portcullis-hook does, done the naive way: one ip/tc command per
# step, as the classic design does it (down, rename, flush, temporary MAC, new veth
# with its peer born in the enforcer namespace, MAC/MTU/addresses/up/routes on
# the new port, MAC back on the old one, move it, ingress qdiscs and u32
# match-all + mirred redirect filters both ways, both enforcer ports up).
#
#   pull_iproute2.sh CONTAINER_NETNS ENFORCER_NETNS PID [IFNAME]
#
# CONTAINER_NETNS and ENFORCER_NETNS are names under /run/netns; PID only names
# the enforcer-side ports (vex<PID>-0, vin<PID>-0), as the hook names them;
# IFNAME is the container's port (default eth0). The port's global IPv4/IPv6
# addresses and its routes in the main table (default routes included) are
# carried over; nothing else (no sysctls, offloads, neighbours, other tables).
# It is a benchmark baseline, not a tool: no rollback on failure.
set -euo pipefail

[ $# -ge 3 ] || { echo "usage: $0 CONTAINER_NETNS ENFORCER_NETNS PID [IFNAME]" >&2; exit 2; }
C=$1 E=$2 PID=$3 DEV=${4:-eth0}
EX=vex${PID}-0 IN=vin${PID}-0
TMPMAC=02:00:00:00:00:01

# 1. read what must come back: MAC, MTU, addresses, routes
link=$(ip -n "$C" -o link show dev "$DEV")
[[ $link =~ mtu\ ([0-9]+) ]] && MTU=${BASH_REMATCH[1]}
[[ $link =~ link/ether\ ([0-9a-f:]+) ]] && MAC=${BASH_REMATCH[1]}
[ -n "${MTU:-}" ] && [ -n "${MAC:-}" ] || { echo "$DEV: no MTU/MAC in: $link" >&2; exit 1; }

ADDRS=()
while read -r _ _ fam addr _; do
	ADDRS+=("$fam $addr")
done < <(ip -n "$C" -o addr show dev "$DEV" scope global)

ROUTES4=() ROUTES6=()
while read -r r; do
	[[ $r == *"proto kernel"* ]] || ROUTES4+=("$r")
done < <(ip -n "$C" -4 route show dev "$DEV")
while read -r r; do
	[[ $r == *"proto kernel"* ]] || ROUTES6+=("$r")
done < <(ip -n "$C" -6 route show dev "$DEV")

# 2. the old port goes down, takes the exPort name, loses its addresses and MAC
ip -n "$C" link set dev "$DEV" down
ip -n "$C" link set dev "$DEV" name "$EX"
ip -n "$C" addr flush dev "$EX"
ip -n "$C" link set dev "$EX" address "$TMPMAC"

# 3. the new pair: the container end takes the old name, the inPort is born in E
ip -n "$C" link add "$DEV" type veth peer name "$IN" netns "$E"

# 4. the new port gets the old one's MAC, MTU, addresses, comes up, gets routes
ip -n "$C" link set dev "$DEV" address "$MAC"
ip -n "$C" link set dev "$DEV" mtu "$MTU"
for a in "${ADDRS[@]}"; do
	set -- $a
	if [ "$1" = inet6 ]; then
		ip -n "$C" -6 addr add "$2" dev "$DEV" nodad
	else
		ip -n "$C" -4 addr add "$2" dev "$DEV"
	fi
done
ip -n "$C" link set dev "$DEV" up
for r in "${ROUTES4[@]}"; do
	ip -n "$C" -4 route add $r dev "$DEV"
done
for r in "${ROUTES6[@]}"; do
	ip -n "$C" -6 route add $r dev "$DEV"
done

# 5. the exPort gets its MAC back and moves into the enforcer namespace
ip -n "$C" link set dev "$EX" address "$MAC"
ip -n "$C" link set dev "$EX" netns "$E"

# 6. everything entering one enforcer port leaves through the other
tc -n "$E" qdisc add dev "$EX" ingress
tc -n "$E" filter add dev "$EX" parent ffff: protocol all prio 1 u32 match u32 0 0 \
	action mirred egress redirect dev "$IN"
tc -n "$E" qdisc add dev "$IN" ingress
tc -n "$E" filter add dev "$IN" parent ffff: protocol all prio 1 u32 match u32 0 0 \
	action mirred egress redirect dev "$EX"

# 7. both enforcer ports up
ip -n "$E" link set dev "$IN" up
ip -n "$E" link set dev "$EX" up
