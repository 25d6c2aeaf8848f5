/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The "bpf" data path of the enforcer namespace (see lib/dpath/dpath.h), two
 * direct-action cls_bpf programs on clsact ingress, loaded once per enforcer
 * namespace and pinned; each port's configuration is a map entry.
 *
 *   pc_port_ingress    on every inPort and exPort
 *   pc_bridge_ingress  on bridge_port (vbr-neuv): what the data plane sends
 *                      back on dp_port (vth-neuv)
 *   pc_bridge_egress   on bridge_port: copies get their UCMAC and the copy tag
 *
 * Only the Ethernet addresses are ever written, so checksum and GSO state
 * travel with the frame untouched.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>

/* libbpf's helpers need the kernel's types above */
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "dpath_common.h"

#define ETH_DST_OFF 0
#define ETH_SRC_OFF ETH_ALEN
#define IP6_NEXTHDR_OFF (ETH_HLEN + 6)
#define IP6_PAYLOAD_OFF (ETH_HLEN + 40)
#define NEXTHDR_HOP 0
#define NEXTHDR_ROUTING 43
#define NEXTHDR_DEST 60
#define NEXTHDR_ICMPV6 58
#define IP6_EXT_MAX 4 /* extension headers walked before ICMPv6 */
#define ND_FIRST 133  /* router solicitation */
#define ND_LAST 137   /* redirect */
#define MLD_QUERY 130
#define MLD_DONE 132
#define MLD2_REPORT 143
#define ICMP6_DEEP 0xffff /* icmp6_type: more extension headers than are walked */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * PC_MAX_PORTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct pc_port);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pc_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PC_MAX_PORTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pc_mac_key);
	__type(value, struct pc_ucmac);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pc_ucmacs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct pc_dp_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pc_dp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PC_MAX_BYPASS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pc_flow_key);
	__type(value, struct pc_bypass);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pc_bypass SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PC_MAX_PORTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct pc_guard);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pc_guards SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PC_DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pc_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PC_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pc_stats SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&pc_stats, &idx);

	if (c)
		*c += 1;
}

static __always_inline int mac_eq(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4] &&
	       a[5] == b[5];
}

static __always_inline struct pc_dp_state *dp_state(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&pc_dp, &zero);
}

static __always_inline int dp_alive(const struct pc_dp_state *st)
{
	__u64 hb = *(volatile const __u64 *)&st->heartbeat_ns;
	/* a tick's resolution is plenty for a second's timeout, and it reads no clock source */
	__u64 now = bpf_ktime_get_coarse_ns();

	/* a heartbeat may be a little ahead of now: another CPU, a coarse clock */
	return hb && (hb >= now || now - hb <= PC_DP_HEARTBEAT_TIMEOUT_NS);
}

/*
 * The type of an IPv6 frame's ICMPv6 message, past up to IP6_EXT_MAX
 * hop-by-hop, routing and destination options headers (MLD carries a
 * hop-by-hop header for its router alert, and a receiver reads neighbour
 * discovery behind any of them), its offset in *off; -1 when the frame is
 * not ICMPv6 (or a fragment of it: receivers drop fragmented neighbour
 * discovery, RFC 6980); ICMP6_DEEP when the headers go on past the walk.
 */
static __always_inline int icmp6_type(struct __sk_buff *skb, __u32 *off)
{
	__u8 h[2];
	__u8 nh, type;
	__u32 o = IP6_PAYLOAD_OFF;

	if (bpf_skb_load_bytes(skb, IP6_NEXTHDR_OFF, &nh, 1) < 0)
		return -1;
#pragma unroll
	for (int i = 0; i < IP6_EXT_MAX; i++) {
		if (nh != NEXTHDR_HOP && nh != NEXTHDR_ROUTING && nh != NEXTHDR_DEST)
			break;
		if (bpf_skb_load_bytes(skb, o, h, 2) < 0)
			return -1;
		nh = h[0];
		o += ((__u32)h[1] + 1) * 8;
	}
	if (nh == NEXTHDR_HOP || nh == NEXTHDR_ROUTING || nh == NEXTHDR_DEST)
		return ICMP6_DEEP;
	if (nh != NEXTHDR_ICMPV6 || bpf_skb_load_bytes(skb, o, &type, 1) < 0)
		return -1;
	*off = o;
	return type;
}

/*
 * IPv6 neighbour discovery and MLD cross like ARP: they are the link's,
 * not a flow's (a snooping bridge that missed a container's MLD reports
 * would stop sending it its solicited-node multicast).
 */
static __always_inline int is_nd(struct __sk_buff *skb)
{
	__u32 off;
	int type = icmp6_type(skb, &off);

	return (type >= ND_FIRST && type <= ND_LAST) || (type >= MLD_QUERY && type <= MLD_DONE) ||
	       type == MLD2_REPORT;
}

/* Whether a frame entering port is one the data plane should see. */
static __always_inline int intercepted(struct __sk_buff *skb, const struct pc_port *port)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__be16 proto;

	if ((void *)(eth + 1) > data_end || skb->vlan_present) /* tagged: like non-IP */
		return 0;
	proto = eth->h_proto;
	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6))
		return 0;
	/* from the container, IP to a group MAC is judged like any other */
	if (port->side == PC_SIDE_IN ? !mac_eq(eth->h_source, port->ctr_mac)
				     : !mac_eq(eth->h_dest, port->ctr_mac))
		return 0;
	return proto == bpf_htons(ETH_P_IPV6) ? !is_nd(skb) : 1;
}

static __always_inline struct pc_ucmac *ucmac_lookup(const __u8 *mac)
{
	struct pc_mac_key key = {};

	__builtin_memcpy(key.mac, mac, ETH_ALEN);
	return bpf_map_lookup_elem(&pc_ucmacs, &key);
}

/* ---- the checks at the port (pc_guards, pc_drops) ---- */

#define IP_FRAG_MASK 0x3fff /* MF and the offset */
#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88a8
#define ETH_P_ARP_ 0x0806
#define IP4_SADDR_OFF (ETH_HLEN + 12)
#define IP4_DADDR_OFF (ETH_HLEN + 16)
#define IP6_SADDR_OFF (ETH_HLEN + 8)
#define IP6_DADDR_OFF (ETH_HLEN + 24)
#define ARP_SHA_OFF (ETH_HLEN + 8)
#define ARP_SPA_OFF (ETH_HLEN + 14)
#define ND_NS 135
#define ND_NA 136
#define ND_RS 133
#define ND_RA 134
#define ND_REDIRECT 137
#define ND_TARGET_OFF 8 /* from the ICMPv6 header */
/*
 * The most a solicitation or advertisement needs (24 bytes, a link-layer
 * option, a nonce, room to spare), and an ARP frame (padded to 60): what
 * crosses without the data plane carries no more than that.
 */
#define ND_MSG_MAX 64
#define ARP_FRAME_MAX 64
#define ND_OPT_OFF 24 /* after a solicitation's or advertisement's target */
#define ND_RS_OPT_OFF 8
#define PASS_CHECKS -1

static __always_inline int addr4_own(const struct pc_guard *g, const __u8 *a)
{
#pragma unroll
	for (int i = 0; i < PC_GUARD_V4; i++)
		if (i < g->n4 && g->v4[i][0] == a[0] && g->v4[i][1] == a[1] &&
		    g->v4[i][2] == a[2] && g->v4[i][3] == a[3])
			return 1;
	return 0;
}

static __always_inline int addr6_own(const struct pc_guard *g, const __u8 *a)
{
	__u64 a0, a1, b0, b1;

	__builtin_memcpy(&a0, a, 8);
	__builtin_memcpy(&a1, a + 8, 8);
#pragma unroll
	for (int i = 0; i < PC_GUARD_V6; i++) {
		if (i >= g->n6)
			break;
		__builtin_memcpy(&b0, g->v6[i], 8);
		__builtin_memcpy(&b1, g->v6[i] + 8, 8);
		if (a0 == b0 && a1 == b1)
			return 1;
	}
	return 0;
}

static __always_inline int zero_bytes(const __u8 *a, int n)
{
	int z = 0;

#pragma unroll
	for (int i = 0; i < 16; i++)
		if (i < n)
			z |= a[i];
	return z == 0;
}

/* UDP from port 68 to port 67, unfragmented: what a DHCP client sends. */
static __always_inline int is_dhcp_request(struct __sk_buff *skb)
{
	struct iphdr ip;
	__be16 ports[2];

	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0 || ip.ihl < 5 ||
	    ip.protocol != IPPROTO_UDP || (ip.frag_off & bpf_htons(IP_FRAG_MASK)))
		return 0;
	if (bpf_skb_load_bytes(skb, ETH_HLEN + ip.ihl * 4, ports, sizeof(ports)) < 0)
		return 0;
	return ports[0] == bpf_htons(68) && ports[1] == bpf_htons(67);
}

/* The MAC of a neighbour discovery option at off, when one is there (type 1 or 2, length 1). */
static __always_inline int nd_option_ok(struct __sk_buff *skb, __u32 off, const __u8 *mac)
{
	__u8 opt[8];

	if (bpf_skb_load_bytes(skb, off, opt, sizeof(opt)) < 0)
		return 1; /* no option */
	if ((opt[0] != 1 && opt[0] != 2) || opt[1] != 1)
		return 1;
	return mac_eq(opt + 2, mac);
}

/*
 * IPv6 from the container: its source, and what neighbour discovery says
 * of it.  A chain of extension headers too long to see past is dropped:
 * what follows it could be neighbour discovery.  So is a router
 * advertisement or redirect: a container is no router, and either would
 * steer its peers' traffic to it.
 */
static __always_inline int guard_ip6(struct __sk_buff *skb, const struct pc_port *port,
				     const struct pc_guard *g)
{
	__u8 a[16] = {};
	int strict = port->flags & PC_PORT_CHECK_ADDR;
	__u32 off = 0;
	int type;

	if (bpf_skb_load_bytes(skb, IP6_SADDR_OFF, a, 16) < 0)
		return PC_DROP_SRC_ADDR;
	type = icmp6_type(skb, &off);
	if (type == ICMP6_DEEP || type == ND_RA || type == ND_REDIRECT)
		return PC_DROP_ND;
	if ((type == ND_RS || type == ND_NS || type == ND_NA) && skb->len > off + ND_MSG_MAX)
		return PC_DROP_ND;
	if (strict && !(g && addr6_own(g, a))) {
		/* the unspecified source: duplicate address detection and MLD only */
		if (!zero_bytes(a, 16) || (type != ND_NS && type != MLD2_REPORT))
			return PC_DROP_SRC_ADDR;
	}
	if (type == ND_NA && strict) {
		if (bpf_skb_load_bytes(skb, off + ND_TARGET_OFF, a, 16) < 0 ||
		    !(g && addr6_own(g, a)))
			return PC_DROP_ND;
	}
	if ((type == ND_NS || type == ND_NA) && !nd_option_ok(skb, off + ND_OPT_OFF, port->ctr_mac))
		return PC_DROP_ND;
	if (type == ND_RS && !nd_option_ok(skb, off + ND_RS_OPT_OFF, port->ctr_mac))
		return PC_DROP_ND;
	return PASS_CHECKS;
}

/* An 802.1Q or 802.1ad tag, in the frame or taken out of it by the driver. */
static __always_inline int tagged(const struct __sk_buff *skb, __be16 proto)
{
	return skb->vlan_present || proto == bpf_htons(ETH_P_8021Q_) ||
	       proto == bpf_htons(ETH_P_8021AD_);
}

/*
 * A frame from the container: PASS_CHECKS, or why it is dropped.  Frames
 * to a UCMAC never pass: a UCMAC is the data path's own address.
 */
static __always_inline int guard_in(struct __sk_buff *skb, const struct pc_port *port,
				    const struct pc_guard *g)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__be16 proto;
	__u8 a[16] = {};

	if ((void *)(eth + 1) > data_end)
		return PC_DROP_ETHERTYPE;
	if (ucmac_lookup(eth->h_dest))
		return PC_DROP_TO_UCMAC;
	if (!(port->flags & (PC_PORT_CHECK_MAC | PC_PORT_CHECK_ADDR)))
		return PASS_CHECKS;
	proto = eth->h_proto;
	if (tagged(skb, proto))
		return PC_DROP_TAGGED;
	if (!mac_eq(eth->h_source, port->ctr_mac))
		return PC_DROP_SRC_MAC;
	if (proto == bpf_htons(ETH_P_IP)) {
		if (!(port->flags & PC_PORT_CHECK_ADDR))
			return PASS_CHECKS;
		if (bpf_skb_load_bytes(skb, IP4_SADDR_OFF, a, 4) < 0)
			return PC_DROP_SRC_ADDR;
		if (g && addr4_own(g, a))
			return PASS_CHECKS;
		/* 0.0.0.0: a DHCP client before it has an address, and nothing else */
		return zero_bytes(a, 4) && is_dhcp_request(skb) ? PASS_CHECKS : PC_DROP_SRC_ADDR;
	}
	if (proto == bpf_htons(ETH_P_IPV6))
		return guard_ip6(skb, port, g);
	if (proto != bpf_htons(ETH_P_ARP_))
		return PC_DROP_ETHERTYPE;
	if (skb->len > ARP_FRAME_MAX || bpf_skb_load_bytes(skb, ARP_SHA_OFF, a, 6) < 0 ||
	    !mac_eq(a, port->ctr_mac))
		return PC_DROP_ARP;
	if (!(port->flags & PC_PORT_CHECK_ADDR))
		return PASS_CHECKS;
	/* 0.0.0.0: a probe for an address before taking it */
	if (bpf_skb_load_bytes(skb, ARP_SPA_OFF, a, 4) < 0 ||
	    (!(g && addr4_own(g, a)) && !zero_bytes(a, 4)))
		return PC_DROP_ARP;
	return PASS_CHECKS;
}

/*
 * A frame from the host towards the container: no UCMAC in it, no VLAN
 * tag, and not the container's own address under a group MAC (which its
 * kernel would take, past the data plane).
 */
static __always_inline int guard_ex(struct __sk_buff *skb, const struct pc_guard *g)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__be16 proto;
	__u8 a[16] = {};

	if ((void *)(eth + 1) > data_end)
		return PASS_CHECKS;
	if (ucmac_lookup(eth->h_source) || ucmac_lookup(eth->h_dest))
		return PC_DROP_HOST_UCMAC;
	proto = eth->h_proto;
	if (tagged(skb, proto))
		return PC_DROP_TAGGED;
	if (!(eth->h_dest[0] & 1) || !g)
		return PASS_CHECKS;
	if (proto == bpf_htons(ETH_P_IP) && bpf_skb_load_bytes(skb, IP4_DADDR_OFF, a, 4) == 0 &&
	    addr4_own(g, a))
		return PC_DROP_BCAST_OWN;
	if (proto == bpf_htons(ETH_P_IPV6) && bpf_skb_load_bytes(skb, IP6_DADDR_OFF, a, 16) == 0 &&
	    addr6_own(g, a))
		return PC_DROP_BCAST_OWN;
	return PASS_CHECKS;
}

/* Drop a frame at port for why: counted by reason and in the pair's guard. */
static __always_inline int guard_drop(struct pc_guard *g, __u32 why)
{
	__u64 *c = bpf_map_lookup_elem(&pc_drops, &why);

	if (c)
		*c += 1;
	if (g)
		__sync_fetch_and_add(&g->dropped, 1);
	return TC_ACT_SHOT;
}

/* Forward a frame that entered port to the other port of its pair. */
static __always_inline int to_peer(const struct pc_port *port)
{
	if (port->flags & PC_PORT_PEER_DIRECT)
		return bpf_redirect_peer(port->peer_ifindex, 0);
	return bpf_redirect(port->peer_ifindex, 0);
}

static __always_inline int set_mac(struct __sk_buff *skb, __u32 off, const __u8 *mac)
{
	if (bpf_skb_store_bytes(skb, off, mac, ETH_ALEN, 0) < 0) {
		count(PC_STAT_REWRITE_FAILED);
		return -1;
	}
	return 0;
}

#define TCP_FLAGS_OFF 13
#define TCP_FIN 0x01
#define TCP_RST 0x04
#define TCP_CONTROL 0x07 /* FIN, SYN, RST */

/* A FIN or RST: both directions' entries of its session stop matching. */
static __always_inline void bypass_closing(struct pc_flow_key *k)
{
	struct pc_bypass *b;
	__u8 a[16];
	__be16 port;

	b = bpf_map_lookup_elem(&pc_bypass, k);
	if (b)
		b->closing = 1;
	__builtin_memcpy(a, k->saddr, 16);
	__builtin_memcpy(k->saddr, k->daddr, 16);
	__builtin_memcpy(k->daddr, a, 16);
	port = k->sport;
	k->sport = k->dport;
	k->dport = port;
	b = bpf_map_lookup_elem(&pc_bypass, k);
	if (b)
		b->closing = 1;
}

/*
 * The pc_bypass entry of an intercepted IP frame, or NULL: TCP or UDP, not a
 * fragment, IPv6 without extension headers; TCP without SYN, FIN or RST,
 * so that every connection's opening and end reach the data plane.  A FIN
 * or RST, or a window under the one the entry watches for, closes the
 * session's entries.
 */
static __always_inline struct pc_bypass *bypass_of(struct __sk_buff *skb,
						   const struct pc_port *port)
{
	struct pc_flow_key k = {};
	struct {
		__u8 flags;
		__be16 window;
	} __attribute__((packed)) tcp = {};
	struct pc_bypass *b;
	__u32 l4;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0 || ip.ihl < 5 ||
		    (ip.frag_off & bpf_htons(IP_FRAG_MASK)))
			return NULL;
		k.family = 4;
		k.proto = ip.protocol;
		__builtin_memcpy(k.saddr, &ip.saddr, 4);
		__builtin_memcpy(k.daddr, &ip.daddr, 4);
		l4 = ETH_HLEN + ip.ihl * 4;
	} else {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6)) < 0)
			return NULL;
		k.family = 6;
		k.proto = ip6.nexthdr;
		__builtin_memcpy(k.saddr, &ip6.saddr, 16);
		__builtin_memcpy(k.daddr, &ip6.daddr, 16);
		l4 = ETH_HLEN + sizeof(ip6);
	}
	if (k.proto != IPPROTO_TCP && k.proto != IPPROTO_UDP)
		return NULL;
	if (bpf_skb_load_bytes(skb, l4, &k.sport, 4) < 0) /* sport, dport */
		return NULL;
	__builtin_memcpy(k.ucmac, port->ucmac, ETH_ALEN);
	if (k.proto == IPPROTO_TCP) {
		if (bpf_skb_load_bytes(skb, l4 + TCP_FLAGS_OFF, &tcp, sizeof(tcp)) < 0)
			return NULL;
		if (tcp.flags & TCP_CONTROL) {
			if (tcp.flags & (TCP_FIN | TCP_RST))
				bypass_closing(&k);
			return NULL;
		}
	}
	b = bpf_map_lookup_elem(&pc_bypass, &k);
	if (!b || b->closing)
		return NULL;
	if (k.proto == IPPROTO_TCP && bpf_ntohs(tcp.window) < b->watch) {
		bypass_closing(&k);
		return NULL;
	}
	return b;
}

/*
 * Forward to the peer, and a copy to bridge_port.  The frame itself is not
 * touched.  Once it has made the copy, bpf_clone_redirect gives the frame
 * headers of its own (this program may still write them): one head copy
 * per tapped frame, whatever either of them writes after.  The copy then
 * holds the old headers alone and takes its UCMAC without another; it
 * leaves with PC_TAP_MARK and gets the UCMAC on bridge_port's egress
 * (pc_bridge_egress).
 */
static __always_inline int port_tap(struct __sk_buff *skb, const struct pc_port *port, __u32 bridge)
{
	if (bridge) {
		__u32 mark = skb->mark;

		skb->mark = PC_TAP_MARK;
		if (bpf_clone_redirect(skb, bridge, 0) == 0)
			count(PC_STAT_TAP_COPIES);
		else
			count(PC_STAT_TAP_COPY_FAILED);
		skb->mark = mark;
	}
	count(PC_STAT_PASSED);
	return to_peer(port);
}

/* Only through the data plane; without one, dp_down decides. */
static __always_inline int port_fwd(struct __sk_buff *skb, const struct pc_port *port, __u32 off,
				    const struct pc_dp_state *st, int alive)
{
	if (alive) {
		if (set_mac(skb, off, port->ucmac) < 0)
			return TC_ACT_SHOT;
		count(PC_STAT_TO_DP);
		return bpf_redirect(st->bridge_ifindex, 0);
	}
	if (st->dp_down_closed) {
		count(PC_STAT_DP_DOWN_DROPPED);
		return TC_ACT_SHOT;
	}
	count(PC_STAT_DP_DOWN_PASSED);
	return to_peer(port);
}

SEC("tc")
int pc_port_ingress(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;
	struct pc_dp_state *st;
	struct pc_port *port;
	__u32 off;
	int alive;

	port = bpf_map_lookup_elem(&pc_ports, &ifindex);
	if (!port) {
		count(PC_STAT_NO_PORT);
		return TC_ACT_OK;
	}
	st = dp_state();
	if (!st || (port->mode != PC_MODE_TAP && port->mode != PC_MODE_FWD)) {
		count(PC_STAT_PASSED);
		return to_peer(port);
	}
	{
		__u32 key = port->side == PC_SIDE_IN ? ifindex : port->peer_ifindex;
		struct pc_guard *g = bpf_map_lookup_elem(&pc_guards, &key);
		int why = port->side == PC_SIDE_IN ? guard_in(skb, port, g) : guard_ex(skb, g);

		if (why != PASS_CHECKS)
			return guard_drop(g, (__u32)why);
	}
	if (!intercepted(skb, port)) {
		count(PC_STAT_NOT_INTERCEPTED);
		return to_peer(port);
	}
	alive = st->bridge_ifindex && dp_alive(st);
	if (alive) {
		struct pc_bypass *b = bypass_of(skb, port);

		if (b) { /* a session the data plane is done with */
			__sync_fetch_and_add(&b->frames, 1);
			__sync_fetch_and_add(&b->bytes, skb->len);
			b->last_ns = bpf_ktime_get_coarse_ns();
			count(PC_STAT_BYPASSED);
			return to_peer(port);
		}
	}
	off = port->side == PC_SIDE_IN ? ETH_SRC_OFF : ETH_DST_OFF;
	if (port->mode == PC_MODE_FWD)
		return port_fwd(skb, port, off, st, alive);
	return port_tap(skb, port, st->bridge_ifindex);
}

/* A frame back from the data plane for u: restore the container MAC at off, send it out to. */
static __always_inline int bridge_return(struct __sk_buff *skb, const struct pc_ucmac *u, __u32 off,
					 __u32 to, __u32 stat)
{
	if (u->mode != PC_MODE_FWD) {
		count(PC_STAT_TAP_DROPPED_RETURNS);
		return TC_ACT_SHOT;
	}
	if (set_mac(skb, off, u->ctr_mac) < 0)
		return TC_ACT_SHOT;
	count(stat);
	return bpf_redirect(to, 0);
}

SEC("tc")
int pc_bridge_ingress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct pc_ucmac *u;

	if ((void *)(eth + 1) > data_end) {
		count(PC_STAT_NOT_OURS);
		return TC_ACT_SHOT;
	}
	/* the ports put one UCMAC in a frame: towards a container, or from one */
	u = ucmac_lookup(eth->h_dest);
	if (u && !ucmac_lookup(eth->h_source))
		return bridge_return(skb, u, ETH_DST_OFF, u->in_ifindex, PC_STAT_FROM_DP_TO_CTR);
	u = u ? NULL : ucmac_lookup(eth->h_source);
	if (u)
		return bridge_return(skb, u, ETH_SRC_OFF, u->ex_ifindex, PC_STAT_FROM_DP_TO_HOST);
	count(PC_STAT_NOT_OURS);
	return TC_ACT_SHOT;
}

/* No GPL-only helper is used. */
char LICENSE[] SEC("license") = "Apache-2.0";

/*
 * bridge_port egress: a copy (PC_TAP_MARK) gets the UCMAC of the port it
 * was copied at (the copy keeps that port as its ingress ifindex): as
 * source when it came from the container, as destination when it goes to
 * it; and the copy tag (PC_COPY_VID), out of band, so the data plane never
 * sends it back.  Everything else leaves as it is.
 */
SEC("tc")
int pc_bridge_egress(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ingress_ifindex;
	struct pc_port *port;

	if (skb->mark != PC_TAP_MARK)
		return TC_ACT_OK;
	port = bpf_map_lookup_elem(&pc_ports, &ifindex);
	if (!port)
		return TC_ACT_OK;
	if (set_mac(skb, port->side == PC_SIDE_IN ? ETH_SRC_OFF : ETH_DST_OFF, port->ucmac) < 0)
		return TC_ACT_SHOT;
	if (bpf_skb_vlan_push(skb, bpf_htons(PC_COPY_TPID), PC_COPY_VID) < 0) {
		count(PC_STAT_REWRITE_FAILED);
		return TC_ACT_SHOT;
	}
	return TC_ACT_OK;
}
