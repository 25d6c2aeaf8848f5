// SPDX-License-Identifier: Apache-2.0
/*
 * The engine of application identification: the parsers of app_list.h in
 * their priority order, and the loop that feeds each payload segment to
 * those still in the running.  A parser leaves the running on its first
 * APP_NO; the first APP_YES in priority order wins, so the more specific
 * protocols come first.  The yes of a two-sided protocol (APP_BOTH_SIDES)
 * wins only when the parser said yes to the other side before: until
 * then it is a candidate like one that said maybe.  Also the protocols'
 * names.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "app_int.h"

/* in enum order: app_parsers[i].proto == i + 1 */
static const struct app_parser app_parsers[] = {
#define APP(id, name, transports, prio, sides)                                                     \
	{ APP_##id, transports, prio, sides, #name, app_##name##_probe },
#include "app_list.h"
#undef APP
};

#define APP_N_PARSERS ARRAY_SIZE(app_parsers)

_Static_assert(APP_N_PARSERS == APP_MAX - 1, "one parser per protocol");

/* the parsers in priority order, made once at start-up */
static const struct app_parser *app_order[APP_N_PARSERS];

static int by_prio(const void *a, const void *b)
{
	const struct app_parser *x = *(const struct app_parser *const *)a;
	const struct app_parser *y = *(const struct app_parser *const *)b;

	return (int)x->prio - (int)y->prio;
}

__attribute__((constructor)) static void app_order_init(void)
{
	for (size_t i = 0; i < APP_N_PARSERS; i++)
		app_order[i] = &app_parsers[i];
	qsort(app_order, APP_N_PARSERS, sizeof(app_order[0]), by_prio);
}

const char *app_name(enum app_proto app)
{
	if (app == APP_UNKNOWN || (unsigned)app >= APP_MAX)
		return "unknown";
	return app_parsers[app - 1].name;
}

int app_from_name(const char *name)
{
	if (strcmp(name, "unknown") == 0)
		return APP_UNKNOWN;
	for (size_t i = 0; i < APP_N_PARSERS; i++)
		if (strcmp(app_parsers[i].name, name) == 0)
			return app_parsers[i].proto;
	return -1;
}

_Static_assert(APP_MAX <= 16, "app_state.candidates has 16 bits");

static unsigned app_transport_bit(uint8_t transport)
{
	if (transport == IPPROTO_TCP)
		return APP_T_TCP;
	if (transport == IPPROTO_UDP)
		return APP_T_UDP;
	return 0;
}

void app_state_init(struct app_state *st, uint8_t transport)
{
	unsigned t = app_transport_bit(transport);

	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < APP_N_PARSERS; i++)
		if (app_parsers[i].transports & t)
			st->candidates |= (uint16_t)(1u << app_parsers[i].proto);
	st->app = APP_UNKNOWN;
	st->done = st->candidates == 0;
}

static bool app_finish(struct app_state *st, enum app_proto app)
{
	st->app = app;
	st->candidates = 0;
	st->done = true;
	return true;
}

/*
 * A yes from one side: enough for a one-sided protocol; for a two-sided
 * one, the side is marked as fitting and the protocol named once the
 * other side fits too.
 */
static bool app_yes(struct app_state *st, const struct app_parser *p, unsigned dir)
{
	uint16_t bit = (uint16_t)(1u << p->proto);

	if (p->sides == APP_ONE_SIDE)
		return true;
	st->fits[dir] |= bit;
	return st->fits[!dir] & bit;
}

/*
 * Offer the segment to every candidate; the winner's number or
 * APP_UNKNOWN.  A two-sided parser is not asked again about a side that
 * already fits: its first bytes have been judged, and what follows them
 * in another segment is not a first message.
 */
static enum app_proto app_probe_all(struct app_state *st, const struct app_segment *seg,
				    struct app_info *info)
{
	unsigned dir = seg->from_client ? 0 : 1;

	for (size_t i = 0; i < APP_N_PARSERS; i++) {
		const struct app_parser *p = app_order[i];
		uint16_t bit = (uint16_t)(1u << p->proto);

		if (!(st->candidates & bit) || (st->fits[dir] & bit))
			continue;
		switch (p->probe(seg, info)) {
		case APP_YES:
			if (app_yes(st, p, dir))
				return p->proto;
			break;
		case APP_NO:
			st->candidates &= (uint16_t)~bit;
			break;
		case APP_MAYBE:
			break;
		}
	}
	return APP_UNKNOWN;
}

void app_give_up(struct app_state *st)
{
	if (!st->done)
		app_finish(st, APP_UNKNOWN);
}

/*
 * Segments past APP_MAX_SEGMENTS in one direction are not probed but still
 * counted (saturating), so that a one-way flow ends after twice the limit
 * instead of waiting forever for the other direction.
 */
bool app_feed(struct app_state *st, const struct app_segment *seg, struct app_info *info)
{
	struct app_info scratch;
	struct app_segment s;
	enum app_proto app;
	unsigned dir;

	if (st->done)
		return true;
	if (!seg || !seg->data || seg->len == 0)
		return false;
	if (!info)
		info = &scratch;
	dir = seg->from_client ? 0 : 1;
	s = *seg;
	s.index = seg->stream ? 0 : st->seen[dir];
	if (st->seen[dir] < UINT8_MAX)
		st->seen[dir]++;
	if (seg->stream || s.index < APP_MAX_SEGMENTS) {
		info->sni[0] = '\0';
		app = app_probe_all(st, &s, info);
		if (app != APP_UNKNOWN)
			return app_finish(st, app);
	}
	if (!st->candidates || (seg->stream ? seg->len >= APP_STREAM_BYTES
					    : st->seen[0] + st->seen[1] >= 2 * APP_MAX_SEGMENTS)) {
		info->sni[0] = '\0';
		return app_finish(st, APP_UNKNOWN);
	}
	return false;
}
