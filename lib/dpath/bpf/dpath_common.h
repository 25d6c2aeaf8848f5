/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DPATH_COMMON_H
#define PORTCULLIS_DPATH_COMMON_H

/*
 * What the data-path BPF programs (dpath.bpf.c) share with user space: the
 * hook (dpath_bpf.c), the data plane (heartbeat) and pc-bpfctl.  Only
 * __u32-style types, so both sides include it as it is.
 *
 * Everything is pinned under <bpf_pin_dir>/<basename of enforcer_netns>/
 * by the names below.
 */

#include <linux/types.h>

#define PC_PIN_PORTS "pc_ports"
#define PC_PIN_UCMACS "pc_ucmacs"
#define PC_PIN_DP "pc_dp"
#define PC_PIN_STATS "pc_stats"
#define PC_PIN_BYPASS "pc_bypass"
#define PC_PIN_GUARDS "pc_guards"
#define PC_PIN_DROPS "pc_drops"
#define PC_PIN_PROG_PORT "pc_port_ingress"
#define PC_PIN_PROG_BRIDGE "pc_bridge_ingress"
#define PC_PIN_PROG_BRIDGE_EGRESS "pc_bridge_egress"

/* intercepted port pairs the maps hold; pc_ports has two entries per pair */
#define PC_MAX_PORTS 16384

/* cls_bpf filter identity on clsact ingress, so a second attach replaces */
#define PC_TC_HANDLE 0x9c
#define PC_TC_PRIO 1

/*
 * skb->mark of the tap copies sent to bridge_port: the data plane only
 * inspects them (never returns them), so its socket filter keeps just
 * their first bytes instead of copying whole GSO frames into its ring.
 */
#define PC_TAP_MARK 0x70630001

/*
 * Every copy the data plane must not send back (a tap copy) leaves
 * bridge_port carrying this out-of-band VLAN tag
 * (TPID 802.1ad, VID 4094): the packet socket reports it as tp_vlan_tci
 * and TP_STATUS_VLAN_VALID, and no frame that crosses the data plane for
 * real has one (tagged frames are never intercepted).
 */
#define PC_COPY_TPID 0x88a8
#define PC_COPY_VID 4094

/* fwd: the data plane counts as down after this long without a heartbeat */
#define PC_DP_HEARTBEAT_TIMEOUT_NS 1000000000ULL

enum pc_side {
	PC_SIDE_IN = 1, /* inPort: frames from the container */
	PC_SIDE_EX = 2, /* exPort: frames from the host */
};

enum pc_port_mode {
	PC_MODE_PASS = 1,
	PC_MODE_TAP = 2,
	PC_MODE_FWD = 3,
};

/*
 * pc_port.flags: PC_PORT_PEER_DIRECT when peer_ifindex is a veth whose
 * other end is in another namespace: what goes to the peer enters that end
 * at once (bpf_redirect_peer), without a transmit and a backlog round.
 */
#define PC_PORT_PEER_DIRECT 0x01
/*
 * What a frame from the container (the inPort) must carry to pass
 * (source_check): PC_PORT_CHECK_MAC, the container's MAC as source,
 * untagged, IPv4, IPv6 or ARP, and in ARP and neighbour discovery the
 * container's MAC; PC_PORT_CHECK_ADDR, one of the port's addresses
 * (pc_guards) as IP source, ARP sender and neighbour advertisement target.
 * Set on both entries of a pair when it is attached.
 */
#define PC_PORT_CHECK_MAC 0x02
#define PC_PORT_CHECK_ADDR 0x04

/* pc_ports: HASH, key __u32 ifindex of an inPort or exPort */
struct pc_port {
	__u32 peer_ifindex; /* the other port of the pair */
	__u8 side;	    /* enum pc_side */
	__u8 flags;	    /* PC_PORT_* */
	__u8 pad[2];
	__u32 mode; /* enum pc_port_mode */
	__u8 ctr_mac[6];
	__u8 ucmac[6];
};

/* pc_ucmacs: HASH, key struct pc_mac_key (pad zeroed) */
struct pc_mac_key {
	__u8 mac[6];
	__u8 pad[2];
};

struct pc_ucmac {
	__u32 in_ifindex;
	__u32 ex_ifindex;
	__u32 mode; /* enum pc_port_mode */
	__u8 ctr_mac[6];
	__u8 pad[2];
};

/*
 * pc_guards: HASH, key __u32 ifindex of an inPort: the port's own
 * addresses when it was pulled (IPv4 first, then IPv6, link-local
 * included), and how many of its frames the checks at either port of the
 * pair dropped (atomic adds).  Made when the pair is attached, deleted
 * with it.
 */
#define PC_GUARD_V4 8
#define PC_GUARD_V6 8

struct pc_guard {
	__u64 dropped;
	__u32 n4;
	__u32 n6;
	__u8 v4[PC_GUARD_V4][4];
	__u8 v6[PC_GUARD_V6][16];
};

/* pc_drops: PERCPU_ARRAY of __u64, frames dropped at a port, by why */
enum pc_drop {
	PC_DROP_TAGGED,	    /* a VLAN tag, either way */
	PC_DROP_SRC_MAC,    /* from the container, another source MAC */
	PC_DROP_SRC_ADDR,   /* from the container, an IP source not its own */
	PC_DROP_ARP,	    /* from the container, ARP naming another MAC or address */
	PC_DROP_ND,	    /* from the container, neighbour discovery naming another */
	PC_DROP_ETHERTYPE,  /* from the container, neither IPv4, IPv6 nor ARP */
	PC_DROP_TO_UCMAC,   /* from the container, addressed to a UCMAC */
	PC_DROP_HOST_UCMAC, /* from the host, a UCMAC as source or destination */
	PC_DROP_BCAST_OWN,  /* from the host, to a group MAC but the port's own address */
	PC_DROP_MAX
};

#define PC_DROP_NAMES                                                                              \
	"tagged", "src_mac", "src_addr", "arp", "nd", "ethertype", "to_ucmac", "host_ucmac",       \
		"bcast_own"

/*
 * pc_dp: ARRAY of one, mmapable (BPF_F_MMAPABLE).  The data plane mmaps it
 * and stores heartbeat_ns (CLOCK_MONOTONIC, as bpf_ktime_get_ns) with one
 * aligned 64-bit store every PC_DP_HEARTBEAT_INTERVAL_MS; nothing else in
 * it is the data plane's to write.
 */
#define PC_DP_HEARTBEAT_INTERVAL_MS 100

struct pc_dp_state {
	__u64 heartbeat_ns;
	__u32 dp_down_closed; /* fwd with no heartbeat: 1 drop, 0 pass */
	__u32 bridge_ifindex; /* bridge_port (vbr-neuv) */
	__u64 obj_hash;	      /* which build loaded the pinned programs */
};

/*
 * pc_bypass: HASH, the tap and fwd sessions the data plane has finished
 * inspecting and hands to the kernel (dp/flow/bypass.c).  While the data plane
 * is alive, a frame of one goes straight to the peer, with no copy to
 * bridge_port, and is counted in its entry; TCP segments with SYN, FIN or
 * RST never match, so they still reach the data plane (crossing it in fwd,
 * copied in tap), and mark both directions' entries closing, so that the
 * rest of the close reaches the data plane too, whenever it takes the
 * entries back (as does a segment under the window it watches for).  Keys are in the frame's own
 * direction, one per direction, with the port's UCMAC; addresses are IPv4 (first 4 bytes, the rest
 * 0) or IPv6, ports in network order.  The data plane adds the counts to the session when it takes
 * the entries back, and reads last_ns (CLOCK_MONOTONIC of the latest frame) before it would expire
 * the session as idle.
 */
#define PC_MAX_BYPASS 65536

struct pc_flow_key {
	__u8 ucmac[6];
	__u8 family; /* 4 or 6 */
	__u8 proto;  /* IPPROTO_TCP, IPPROTO_UDP */
	__be16 sport;
	__be16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
};

struct pc_bypass {
	__u64 frames;
	__u64 bytes;   /* skb->len: the frame from its Ethernet header */
	__u64 last_ns; /* CLOCK_MONOTONIC, to the tick (bpf_ktime_get_coarse_ns) */
	__u32 closing; /* set by the kernel: match no more */
	__u32 watch;   /* set by the data plane: a TCP segment whose raw window
			* is under watch closes the entries (its small-window
			* detector reads such segments); 0 none */
};

/* pc_stats: PERCPU_ARRAY of __u64 packet counters, indexed by this */
enum pc_stat {
	PC_STAT_TO_DP,		     /* fwd: frames sent to bridge_port */
	PC_STAT_TAP_COPIES,	     /* tap: copies sent to bridge_port */
	PC_STAT_TAP_COPY_FAILED,     /* tap: bpf_clone_redirect failed */
	PC_STAT_PASSED,		     /* pass: every frame; tap: intercepted ones; to the peer */
	PC_STAT_NOT_INTERCEPTED,     /* tap/fwd: ARP, ND; from the host: group and other MACs */
	PC_STAT_DP_DOWN_PASSED,	     /* fwd, data plane down, dp_down=open */
	PC_STAT_DP_DOWN_DROPPED,     /* fwd, data plane down, dp_down=closed */
	PC_STAT_NO_PORT,	     /* filter on a port without a pc_ports entry */
	PC_STAT_FROM_DP_TO_CTR,	     /* bridge_port: destination was a UCMAC */
	PC_STAT_FROM_DP_TO_HOST,     /* bridge_port: source was a UCMAC */
	PC_STAT_TAP_DROPPED_RETURNS, /* bridge_port: for a port not in fwd */
	PC_STAT_NOT_OURS,	     /* bridge_port: no UCMAC, dropped */
	PC_STAT_REWRITE_FAILED,	     /* bpf_skb_store_bytes failed, dropped */
	PC_STAT_BYPASSED,	     /* a pc_bypass session's frame, straight to the peer */
	PC_STAT_MAX
};

#define PC_STAT_NAMES                                                                              \
	"to_dp", "tap_copies", "tap_copy_failed", "passed", "not_intercepted", "dp_down_passed",   \
		"dp_down_dropped", "no_port", "from_dp_to_ctr", "from_dp_to_host",                 \
		"tap_dropped_returns", "not_ours", "rewrite_failed", "bypassed"

#endif
