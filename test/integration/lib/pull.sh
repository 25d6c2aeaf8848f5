# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# What a pull leaves: the enforcer namespace's ports and its vbr-neuv/vth-neuv
# pair, how each port steers to its peer (tc-pedit's redirect or the bpf
# program's pc_ports entry), the state records, the hook's status records;
# and an enforcer with nothing left.

ti_lib_needs core netns

# Enforcer ports (vex*/vin*), empty when the enforcer netns does not exist.
ti_enf_ports() {
	[ -e "$TI_ENF" ] || return 0
	ti_links "$TI_ENF_NAME" '^v(ex|in)'
}

ti_no_enf_ports() { [ -z "$(ti_enf_ports)" ]; }

ti_state_files() { find "$TI_STATE_DIR" -maxdepth 1 -name 'netns-*.json' -printf '%f\n' | sort; }

# The UCMAC claims (lib/core/claim.h): "ucmac-HEX -> netns-INO.json" each.
ti_claims() {
	find "$TI_STATE_DIR/claims" -maxdepth 1 -type l -printf '%f -> %l\n' 2>/dev/null | sort
}

# The enforcer netns holds only lo, vbr-neuv and vth-neuv; no state records.
ti_assert_enf_clean() {
	ti_wait_until 5 ti_no_enf_ports || ti_fail "$1: enforcer still has ports: $(ti_enf_ports | tr '\n' ' ')"
	if [ -e "$TI_ENF" ]; then
		local l
		l=$(ti_links "$TI_ENF_NAME" . | tr '\n' ' ')
		ti_assert_eq "lo vbr-neuv vth-neuv " "$l" "$1: enforcer links"
	fi
	[ -z "$(ti_state_files)" ] || ti_fail "$1: state records left: $(ti_state_files | tr '\n' ' ')"
	[ -z "$(ti_claims)" ] || ti_fail "$1: UCMAC claims left: $(ti_claims | tr '\n' ' ')"
}

# No vex*/vin* in the enforcer netns and no state record (after a refusal,
# a bad input or a rolled-back pull).
ti_assert_no_interception() {
	ti_wait_until 5 ti_no_enf_ports || ti_fail "$1: enforcer has ports: $(ti_enf_ports | tr '\n' ' ')"
	[ -z "$(ti_state_files)" ] || ti_fail "$1: state records: $(ti_state_files | tr '\n' ' ')"
}

# The vbr-neuv/vth-neuv pair: ifindex 10000000/10000001 (free in a fresh
# enforcer netns), peers of each other, MTU 1500, up.
ti_assert_enf_pair() {
	[ -e "$TI_ENF" ] || ti_fail "enforcer netns $TI_ENF does not exist"
	local vbr vth
	vbr=$(ti_link_json "$TI_ENF_NAME" vbr-neuv) || ti_fail "no vbr-neuv in the enforcer"
	vth=$(ti_link_json "$TI_ENF_NAME" vth-neuv) || ti_fail "no vth-neuv in the enforcer"
	ti_assert_eq 10000000 "$(jq -r .ifindex <<<"$vbr")" "vbr-neuv ifindex"
	ti_assert_eq 10000001 "$(jq -r .ifindex <<<"$vth")" "vth-neuv ifindex"
	# a veth peer in the same netns is shown by name
	ti_assert_eq vth-neuv "$(jq -r .link <<<"$vbr")" "vbr-neuv peer"
	ti_assert_eq vbr-neuv "$(jq -r .link <<<"$vth")" "vth-neuv peer"
	ti_assert_eq "veth veth" "$(jq -r .linkinfo.info_kind <<<"$vbr") $(jq -r .linkinfo.info_kind <<<"$vth")" "pair kind"
	ti_assert_eq "1500 1500" "$(jq -r .mtu <<<"$vbr") $(jq -r .mtu <<<"$vth")" "pair MTU"
	ti_assert_up "$TI_ENF_NAME" vbr-neuv
	ti_assert_up "$TI_ENF_NAME" vth-neuv
}

# ti_assert_tc_redirect DEV PEER: DEV's ingress steers to PEER: a u32+mirred
# redirect (tc-pedit backend), or the bpf backend's program with DEV's map
# entry naming PEER.
ti_assert_tc_redirect() {
	local out peer
	out=$(tc -n "$TI_ENF_NAME" filter show dev "$1" ingress)
	if grep -q "pc_port_ingress" <<<"$out"; then
		peer=$(ip -n "$TI_ENF_NAME" -j link show dev "$2" | jq -r '.[0].ifindex')
		ti_bpf_port_peer "$1" | grep -qx "$peer" ||
			ti_fail "bpf: $1's pc_ports entry does not name $2 (ifindex $peer)"
		return
	fi
	grep -q "Redirect to device $2" <<<"$out" ||
		ti_fail "no ingress redirect $1 -> $2 in the enforcer; tc filter show: $out"
}

# ti_bpf_port_entry DEV: DEV's pc_ports entry as bpftool prints it (JSON).
ti_bpf_port_entry() {
	local idx key
	idx=$(ip -n "$TI_ENF_NAME" -j link show dev "$1" | jq -r '.[0].ifindex')
	key=$(printf '%08x' "$idx" | sed -E 's/(..)(..)(..)(..)/0x\4 0x\3 0x\2 0x\1/')
	bpftool -j map lookup pinned "$TI_BPF_DIR/$TI_ENF_NAME/pc_ports" key $key 2>/dev/null
}

# ti_bpf_port_peer DEV: the peer ifindex in DEV's pc_ports entry (bpftool).
ti_bpf_port_peer() {
	ti_bpf_port_entry "$1" | jq -r '.formatted.value.peer_ifindex // empty'
}

# ti_bpf_port_to_peer DEV: how DEV's pc_ports entry forwards to its peer:
# direct (PC_PORT_PEER_DIRECT: into the peer's far end) or xmit.  Reads
# the flags byte (the 6th) when bpftool prints no BTF-formatted value.
ti_bpf_port_to_peer() {
	ti_bpf_port_entry "$1" | jq -r '(.formatted.value.flags // (.value[5] | ltrimstr("0x") | tonumber))
		| if . % 2 == 1 then "direct" else "xmit" end'
}

# ti_kernel_redirects_peer_well: whether this kernel is one on which the
# hook forwards into a veth's far end (6.15 and later, lib/dpath/dpath_bpf.c).
ti_kernel_redirects_peer_well() {
	local v
	v=$(uname -r | cut -d. -f1-2)
	[ "${v%%.*}" -gt 6 ] || { [ "${v%%.*}" -eq 6 ] && [ "${v#*.}" -ge 15 ]; }
}

# ti_assert_port_pulled NS DEV HOSTDEV HOSTIDX MAC EX IN [KIND]
# The container port DEV is a new veth with the original MAC whose peer IN
# (in the enforcer) has ifindex HOSTIDX; the original port EX is in the
# enforcer, still the peer of HOSTDEV in the host netns (for a veth), both
# up and forwarding to each other.
ti_assert_port_pulled() {
	local ns=$1 dev=$2 hdev=$3 hidx=$4 mac=$5 ex=$6 in=$7 kind=${8:-veth}
	local c e i h
	c=$(ti_link_json "$ns" "$dev") || ti_fail "$dev missing in $ns after the pull"
	e=$(ti_link_json "$TI_ENF_NAME" "$ex") || ti_fail "$ex missing in the enforcer; has: $(ti_links "$TI_ENF_NAME" . | tr '\n' ' ')"
	i=$(ti_link_json "$TI_ENF_NAME" "$in") || ti_fail "$in missing in the enforcer; has: $(ti_links "$TI_ENF_NAME" . | tr '\n' ' ')"
	ti_assert_eq veth "$(jq -r .linkinfo.info_kind <<<"$c")" "$ns $dev kind after the pull"
	ti_assert_eq "$mac" "$(jq -r .address <<<"$c")" "$ns $dev MAC after the pull"
	ti_assert_eq "$mac" "$(jq -r .address <<<"$e")" "$ex MAC"
	ti_assert_eq "$kind" "$(jq -r .linkinfo.info_kind <<<"$e")" "$ex kind"
	ti_assert_eq veth "$(jq -r .linkinfo.info_kind <<<"$i")" "$in kind"
	# iflink of the new port = its peer's ifindex = the host peer's old index
	ti_assert_eq "$(jq -r .ifindex <<<"$i")" "$(jq -r .link_index <<<"$c")" "$ns $dev iflink vs $in ifindex"
	ti_assert_eq "$hidx" "$(jq -r .ifindex <<<"$i")" "$in ifindex (the host-side peer's)"
	ti_assert_eq "$(jq -r .ifindex <<<"$c")" "$(jq -r .link_index <<<"$i")" "$in iflink"
	if [ "$kind" = veth ]; then
		h=$(ti_link_json "$TI_HOST" "$hdev") || ti_fail "host-side $hdev vanished"
		ti_assert_eq "$(jq -r .ifindex <<<"$e")" "$(jq -r .link_index <<<"$h")" "$hdev peer is $ex"
		ti_assert_eq br0 "$(jq -r .master <<<"$h")" "$hdev master"
		ti_assert_up "$TI_HOST" "$hdev"
	fi
	ti_assert_up "$ns" "$dev"
	ti_assert_up "$TI_ENF_NAME" "$ex"
	ti_assert_up "$TI_ENF_NAME" "$in"
	ti_assert_tc_redirect "$ex" "$in"
	ti_assert_tc_redirect "$in" "$ex"
}

# ti_assert_pulled NAME PID: eth0 of a one-port container, named vexPID-0/vinPID-0.
ti_assert_pulled() {
	local name=$1 pid=$2
	ti_assert_port_pulled "${CTR_NS[$name]}" eth0 "${CTR_HOSTIF[$name]}" "${CTR_HOSTIDX[$name]}" \
		"${CTR_MAC[$name]}" "vex$pid-0" "vin$pid-0"
}

# ti_assert_record JSON NAME PID IDS...: the status record of a container
# netns: inode, first pid, the container ids (in order), and for each port
# the names and indexes as they are in the namespaces now.
ti_assert_record() {
	local all=$1 name=$2 pid=$3 ino rec
	shift 3
	ino=$(ti_netns_inode "${CTR_NS[$name]}")
	rec=$(jq -c --argjson ino "$ino" '[.[] | select(.netns_inode == $ino)]' <<<"$all")
	ti_assert_eq 1 "$(jq length <<<"$rec")" "status records for $name (inode $ino)"
	rec=$(jq -c '.[0]' <<<"$rec")
	ti_assert_eq "$pid" "$(jq -r .pid <<<"$rec")" "$name record pid"
	ti_assert_eq "$*" "$(jq -r '[.containers[].id] | join(" ")' <<<"$rec")" "$name record containers"
	[ -f "$TI_STATE_DIR/netns-$ino.json" ] || ti_fail "no state file netns-$ino.json; have: $(ti_state_files | tr '\n' ' ')"
	local n p ctr ex in
	n=$(jq '.ports | length' <<<"$rec")
	[ "$n" -ge 1 ] || ti_fail "$name record has no ports"
	for ((p = 0; p < n; p++)); do
		local port
		port=$(jq -c ".ports[$p]" <<<"$rec")
		ctr=$(jq -r .name <<<"$port")
		ex=$(jq -r .ex_name <<<"$port")
		in=$(jq -r .in_name <<<"$port")
		[[ $ex =~ ^vex$pid-[0-9a-z]+$ ]] || ti_fail "$name ex_name '$ex' is not vex$pid-<ordinal>"
		[[ $in =~ ^vin$pid-[0-9a-z]+$ ]] || ti_fail "$name in_name '$in' is not vin$pid-<ordinal>"
		ti_assert_eq "$(ti_ifindex "${CTR_NS[$name]}" "$ctr")" "$(jq -r .ctr_ifindex <<<"$port")" "$name $ctr ctr_ifindex"
		ti_assert_eq "$(ti_ifindex "$TI_ENF_NAME" "$ex")" "$(jq -r .ex_ifindex <<<"$port")" "$name $ex ex_ifindex"
		ti_assert_eq "$(ti_ifindex "$TI_ENF_NAME" "$in")" "$(jq -r .in_ifindex <<<"$port")" "$name $in in_ifindex"
		ti_assert_eq "$(ip -n "${CTR_NS[$name]}" -j link show dev "$ctr" | jq -r '.[0].address')" \
			"$(jq -r .mac <<<"$port")" "$name $ctr mac in the record"
	done
}
