#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Threat detection in portcullis-dp --read-pcap, network and transport
# level: nginx in the srv namespace, clients and crafted packets from cli,
# one capture per case (see lib/threat_pcap.sh), and in each capture
# exactly the threat it was made for (action alert, and drop with a policy
# saying drop), to the server's address (and port where there is one):
# - syn_flood: hping3, 1000 SYNs at about 1000/s to nginx's port 80, with
#   syn_flood_pps 200 in the policy; with syn_flood_pps 1000000 the same
#   capture raises nothing;
# - icmp_flood: hping3 --icmp, 1000 echo requests at about 1000/s, with
#   icmp_flood_pps 200; nothing with icmp_flood_pps 1000000;
# - ping_of_death: an ICMP echo in 45 fragments, the last one ending at
#   byte 65536 (scapy);
# - ip_teardrop: three pairs of UDP fragments, the second inside the first
#   (scapy);
# - tcp_syn_data: a SYN carrying an HTTP request (scapy) to nginx;
# - tcp_split_handshake: curl to a scapy server that answers the SYN with
#   a SYN of its own; curl's kernel goes through a simultaneous open
#   (SYN-ACK from the client) and gets the page;
# - tcp_small_window: curl through a route with "window 8": every segment
#   of the client advertises 8 bytes while nginx trickles a 1 MB file;
# - tcp_small_mss: curl through a route with "advmss 48": the SYN's MSS is
#   under the detector's floor (kernels raise 48 to a minimum of their own:
#   88 on 6.18), and nginx sends a 64 KiB file in segments no larger;
# - icmp_tunneling: 30 echo requests of 512 random bytes in 3 s (scapy).
# The look-alikes (no threat at all) are in test_threat_pcap_quiet.sh.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/traffic.sh"
. "$(dirname "$0")/lib/dp_pcap.sh"
. "$(dirname "$0")/lib/threat_pcap.sh"
tp_init
pc_need hping3 hping3 || ti_skip "hping3 cannot be installed"

tp_nginx_start
head -c 1000000 /dev/urandom >"$T/www/big.bin"
head -c 65536 /dev/urandom >"$T/www/64k.bin"
HIGH='{"syn_flood_pps": 1000000, "icmp_flood_pps": 1000000}'

# capture_count FILTER: frames of the case's capture that match FILTER
capture_count() { tcpdump -nr "$PC_PCAP" "$1" 2>/dev/null | wc -l; }

# hping3's own count of the answers it got, from its summary line
hping() {
	pc_cli "hping3 $*" hping3 "$@"
	ti_log "hping3: $(grep -h 'packets transmitted' "$T/cli.out")"
	grep -Eq 'packets transmitted, [1-9][0-9]* packets received' "$T/cli.out" ||
		ti_fail "hping3 $*: no answer from $PC_S4"
}

# ---------------------------------------------------------------- floods

tp_case syn-flood
hping -S -p 80 -w 64240 -c 1000 -i u1000 "$PC_S4"
tp_expect --threats "$TP_LOW" "syn_flood tcp $PC_S4 80"
tp_expect --threats "$HIGH"
pc_covered syn-flood

tp_case icmp-flood
hping --icmp -c 1000 -i u1000 "$PC_S4"
tp_expect --threats "$TP_LOW" "icmp_flood icmp $PC_S4 -"
tp_expect --threats "$HIGH"
pc_covered icmp-flood

# ---------------------------------------------------------------- fragments

tp_case ping-of-death
tp_traffic "$PC_CLI" "ping of death" ping-of-death "$PC_S4"
tp_expect "ping_of_death icmp $PC_S4 -"
pc_covered ping-of-death

tp_case teardrop
tp_traffic "$PC_CLI" teardrop teardrop "$PC_S4" 9
tp_expect "ip_teardrop udp $PC_S4 -"
pc_covered teardrop

# ---------------------------------------------------------------- TCP

tp_case syn-data
tp_traffic "$PC_CLI" "SYN with data" syn-data "$PC_S4" 80
tp_expect "tcp_syn_data tcp $PC_S4 80"
pc_covered syn-data

# the scapy server stands at an address no kernel here owns (so no kernel
# resets its connections): cli reaches it through a static neighbour
# entry, and srv, not forwarding, drops what it sees for it
tp_case split-handshake
SPLIT=$TI_NET4.9
ip netns exec "$PC_SRV" sysctl -q -w net.ipv4.conf.all.forwarding=0
ip -n "$PC_CLI" neigh replace "$SPLIT" dev c0 nud permanent \
	lladdr "$(ip -n "$PC_SRV" -j link show dev s0 | jq -r '.[0].address')"
ip netns exec "$PC_SRV" timeout 30 "$PY" "$TP_TRAFFIC" split-server s0 "$SPLIT" 8009 6 \
	>"$T/split.log" 2>&1 </dev/null &
SPLIT_PID=$!
TI_PIDS+=("$SPLIT_PID")
ti_wait_until 10 grep -qx ready "$T/split.log" || { cat "$T/split.log" >&2; ti_fail "split-server did not start"; }
pc_cli "split handshake" curl -sS --max-time 5 "http://$SPLIT:8009/"
grep -qx ok "$T/cli.out" || ti_fail "split handshake: curl got '$(cat "$T/cli.out")'"
wait "$SPLIT_PID" || { cat "$T/split.log" >&2; ti_fail "split-server failed"; }
ti_log "$(tail -n 1 "$T/split.log")"
ip -n "$PC_CLI" neigh del "$SPLIT" dev c0
tp_expect "tcp_split_handshake tcp $SPLIT 8009"
pc_covered split-handshake

tp_case small-window
ip -n "$PC_CLI" route add "$PC_S4/32" dev c0 window 8
pc_cli_any curl -sS --max-time 4 -o /dev/null "http://$PC_S4/big.bin"
ip -n "$PC_CLI" route del "$PC_S4/32" dev c0
tp_expect "tcp_small_window tcp $PC_S4 80"
n=$(capture_count "tcp and src host $PC_C4 and dst port 80 and tcp[14:2] <= 16")
ti_log "small window: $n segments of the client advertise at most 16 bytes"
[ "$n" -ge 10 ] || ti_fail "small window: only $n segments with a window of 16 or less"
pc_covered small-window

tp_case small-mss
ip -n "$PC_CLI" route add "$PC_S4/32" dev c0 advmss 48
pc_cli "small mss" curl -sS --max-time 10 -o /dev/null -w '%{size_download}\n' "http://$PC_S4/64k.bin"
ip -n "$PC_CLI" route del "$PC_S4/32" dev c0
grep -qx 65536 "$T/cli.out" || ti_fail "small mss: curl got $(cat "$T/cli.out") bytes of 65536"
tp_expect "tcp_small_mss tcp $PC_S4 80"
# What matters is an MSS under the detector's floor, not the exact value.
floor=$(sed -nE 's/^#define MSS_FLOOR ([0-9]+).*/\1/p' "$TI_ROOT/dp/threat/net/tcp.c")
[ -n "$floor" ] || ti_fail "small mss: no MSS_FLOOR in dp/threat/net/tcp.c"
mss=$(tcpdump -nr "$PC_PCAP" "tcp[13] == 2 and src host $PC_C4" 2>/dev/null |
	sed -nE 's/.*[[,]mss ([0-9]+)[],].*/\1/p' | head -n 1)
[ -n "$mss" ] || ti_fail "small mss: no client SYN with an MSS option in the capture"
ti_log "small mss: the client's SYN carries MSS $mss (the detector's floor is $floor)"
[ "$mss" -lt "$floor" ] || ti_fail "small mss: the SYN's MSS $mss is not under $floor"
len='(ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2))'
n=$(capture_count "tcp and src host $PC_S4 and src port 80 and $len > 0 and $len <= $mss")
ti_log "small mss: nginx sent $n segments of at most $mss bytes"
# 64 KiB in segments of at most $mss bytes takes at least 65536 / $mss
[ "$n" -ge $((65536 / mss)) ] || ti_fail "small mss: only $n segments of at most $mss bytes from nginx"
pc_covered small-mss

# ---------------------------------------------------------------- ICMP

tp_case icmp-tunnel
tp_traffic "$PC_CLI" "icmp tunnel" icmp-tunnel "$PC_S4" 30 512 0.1
tp_expect "icmp_tunneling icmp $PC_S4 -"
n=$(capture_count "icmp[icmptype] == icmp-echoreply and src host $PC_S4")
[ "$n" -eq 30 ] || ti_fail "icmp tunnel: $n echo replies of 30"
pc_covered icmp-tunnel

tp_summary
