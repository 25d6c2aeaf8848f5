/* SPDX-License-Identifier: Apache-2.0 */
#include "ethtool.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "lib/core/err.h"

/* The requests with room for ETHTOOL_FEATURE_WORDS blocks in hdr.features[] */
union gfeatures {
	struct ethtool_gfeatures hdr;
	char room[sizeof(struct ethtool_gfeatures) +
		  ETHTOOL_FEATURE_WORDS * sizeof(struct ethtool_get_features_block)];
};

union sfeatures {
	struct ethtool_sfeatures hdr;
	char room[sizeof(struct ethtool_sfeatures) +
		  ETHTOOL_FEATURE_WORDS * sizeof(struct ethtool_set_features_block)];
};

static int ethtool_ioctl(int sock, const char *ifname, void *data, const char *what)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = data;
	if (ioctl(sock, SIOCETHTOOL, &ifr) < 0)
		return err_set(-errno, "%s %s", what, ifname);
	return 0;
}

static int get_blocks(int sock, const char *ifname, union gfeatures *g)
{
	memset(g, 0, sizeof(*g));
	g->hdr.cmd = ETHTOOL_GFEATURES;
	g->hdr.size = ETHTOOL_FEATURE_WORDS;
	return ethtool_ioctl(sock, ifname, g, "get features of");
}

int ethtool_features_get(int sock, const char *ifname, struct ethtool_snapshot *snap)
{
	union gfeatures g;
	int ret = get_blocks(sock, ifname, &g);

	if (ret < 0)
		return ret;
	snap->words = g.hdr.size < ETHTOOL_FEATURE_WORDS ? g.hdr.size : ETHTOOL_FEATURE_WORDS;
	for (uint32_t i = 0; i < snap->words; i++)
		snap->requested[i] = g.hdr.features[i].requested;
	return 0;
}

/* Set requested[] on every changeable feature of ifname, if anything differs. */
static int set_requested(int sock, const char *ifname, const uint32_t *requested, uint32_t words)
{
	union sfeatures s;
	union gfeatures g;
	int ret = get_blocks(sock, ifname, &g), differs = 0;

	if (ret < 0)
		return ret;
	memset(&s, 0, sizeof(s));
	s.hdr.cmd = ETHTOOL_SFEATURES;
	s.hdr.size = g.hdr.size < words ? g.hdr.size : words;
	for (uint32_t i = 0; i < s.hdr.size; i++) {
		uint32_t can = g.hdr.features[i].available & ~g.hdr.features[i].never_changed;

		s.hdr.features[i].valid = can;
		s.hdr.features[i].requested = requested[i] & can;
		differs |= (g.hdr.features[i].requested & can) != s.hdr.features[i].requested;
	}
	if (!differs)
		return 0;
	ret = ethtool_ioctl(sock, ifname, &s, "set features of");
	/* positive: the kernel adjusted some requests (dependencies); not an error */
	return ret < 0 ? ret : 0;
}

int ethtool_features_apply(int sock, const char *ifname, const struct ethtool_snapshot *snap)
{
	return set_requested(sock, ifname, snap->requested, snap->words);
}

int ethtool_link_sync(int sock, const char *ifname)
{
	struct ethtool_value v = { .cmd = ETHTOOL_GLINK };

	return ethtool_ioctl(sock, ifname, &v, "get link state of");
}
