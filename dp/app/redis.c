// SPDX-License-Identifier: Apache-2.0
/*
 * Redis: RESP.  A client sends an array of bulk strings whose first is a
 * command name ("*N\r\n$L\r\n...") or an inline command of a known verb; a
 * server answers with a RESP value whose lengths agree with its bytes.
 * Top-level simple strings and errors are taken only when they are ones
 * Redis sends, so that "+OK ..." greetings of other protocols stay out.
 *
 * Redis is named on both sides (APP_BOTH_SIDES, app_list.h): an inline
 * command is a short text line ("PING", "GET x", "hello") that a line of
 * any text protocol can be, and every command is answered, so the reply
 * confirms it.  The RESP array form is held to the same rule: it is text
 * too, and one rule for the protocol keeps the answer the judge.
 */
#include <strings.h>

#include "app_int.h"

#define RESP_MAX_DEPTH 4
#define RESP_MAX_COUNT (1024 * 1024)
#define RESP_MAX_BULK (512L * 1024 * 1024)
#define RESP_MAX_NUM 18 /* digits: any more would not fit a long, nor a real length */
#define REDIS_MAX_INLINE 4096

enum { RESP_BAD = -1, RESP_CUT = 0, RESP_OK = 1 };

struct resp {
	const uint8_t *d;
	size_t len, off;
};

static const char *const redis_verbs[] = {
	"PING",	    "ECHO",    "AUTH",	  "HELLO",   "SELECT",	  "QUIT",      "INFO",
	"COMMAND",  "CLIENT",  "CONFIG",  "DBSIZE",  "FLUSHDB",	  "FLUSHALL",  "SAVE",
	"BGSAVE",   "MONITOR", "GET",	  "SET",     "SETNX",	  "SETEX",     "GETSET",
	"MGET",	    "MSET",    "APPEND",  "STRLEN",  "INCR",	  "DECR",      "INCRBY",
	"DECRBY",   "DEL",     "UNLINK",  "EXISTS",  "EXPIRE",	  "TTL",       "PERSIST",
	"TYPE",	    "RENAME",  "KEYS",	  "SCAN",    "LPUSH",	  "RPUSH",     "LPOP",
	"RPOP",	    "LLEN",    "LRANGE",  "SADD",    "SREM",	  "SMEMBERS",  "SCARD",
	"HSET",	    "HGET",    "HDEL",	  "HGETALL", "HMSET",	  "HKEYS",     "ZADD",
	"ZREM",	    "ZRANGE",  "ZSCORE",  "ZCARD",   "PUBLISH",	  "SUBSCRIBE", "PSUBSCRIBE",
	"MULTI",    "EXEC",    "DISCARD", "WATCH",   "EVAL",	  "EVALSHA",   "SCRIPT",
	"XADD",	    "XREAD",   "XRANGE",  "SLAVEOF", "REPLICAOF", "PSYNC",     "SYNC",
	"SHUTDOWN", "SLOWLOG", "LATENCY",
};

static const char *const redis_errors[] = {
	"ERR ",	    "WRONGTYPE ", "NOAUTH ",   "NOPERM ",   "WRONGPASS ", "MOVED ",	"ASK ",
	"LOADING ", "BUSY ",	  "NOSCRIPT ", "READONLY ", "OOM ",	  "EXECABORT ", "NOPROTO ",
};

/* a decimal after the type byte, through its CRLF */
static int resp_number(struct resp *r, long *v)
{
	size_t i = r->off;
	bool neg = false;

	*v = 0;
	if (i < r->len && r->d[i] == '-')
		neg = true, i++;
	for (; i < r->len && r->d[i] >= '0' && r->d[i] <= '9'; i++) {
		if (i - r->off - neg >= RESP_MAX_NUM)
			return RESP_BAD;
		*v = *v * 10 + (r->d[i] - '0');
	}
	if (i < r->len && r->d[i] != '\r')
		return RESP_BAD;
	if (i + 2 > r->len)
		return RESP_CUT;
	if (i == r->off + neg || r->d[i + 1] != '\n')
		return RESP_BAD;
	if (neg)
		*v = -*v;
	r->off = i + 2;
	return RESP_OK;
}

/* the text of a simple string or error, through its CRLF */
static int resp_line(struct resp *r)
{
	size_t i;

	for (i = r->off; i < r->len && r->d[i] >= 0x20 && r->d[i] < 0x7f; i++)
		;
	if (i + 2 > r->len)
		return i == r->len || (i + 1 == r->len && r->d[i] == '\r') ? RESP_CUT : RESP_BAD;
	if (r->d[i] != '\r' || r->d[i + 1] != '\n')
		return RESP_BAD;
	r->off = i + 2;
	return RESP_OK;
}

/* a bulk string after its '$'; *n is its length (-1 for null), *at its data */
static int resp_bulk_at(struct resp *r, long *n, size_t *at)
{
	int ret = resp_number(r, n);

	*at = r->off;
	if (ret != RESP_OK || *n == -1)
		return ret;
	if (*n < 0 || *n > RESP_MAX_BULK)
		return RESP_BAD;
	if (r->off + (size_t)*n + 2 > r->len)
		return RESP_CUT;
	if (r->d[r->off + *n] != '\r' || r->d[r->off + *n + 1] != '\n')
		return RESP_BAD;
	r->off += (size_t)*n + 2;
	return RESP_OK;
}

static int resp_bulk(struct resp *r)
{
	size_t at;
	long n;

	return resp_bulk_at(r, &n, &at);
}

static int resp_value(struct resp *r, unsigned depth);

static int resp_aggregate(struct resp *r, unsigned depth, unsigned per_item)
{
	long n;
	int ret = resp_number(r, &n);

	if (ret != RESP_OK)
		return ret;
	if (n == -1)
		return RESP_OK;
	if (n < 0 || n > RESP_MAX_COUNT || depth >= RESP_MAX_DEPTH)
		return RESP_BAD;
	for (long i = 0; i < n * (long)per_item; i++) {
		ret = resp_value(r, depth + 1);
		if (ret != RESP_OK)
			return ret;
	}
	return RESP_OK;
}

static int resp_value(struct resp *r, unsigned depth)
{
	if (r->off >= r->len)
		return RESP_CUT;
	switch (r->d[r->off++]) {
	case '+':
	case '-':
	case ',':
	case '(':
		return resp_line(r);
	case ':': {
		long v;

		return resp_number(r, &v);
	}
	case '$':
	case '=':
		return resp_bulk(r);
	case '*':
	case '~':
	case '>':
		return resp_aggregate(r, depth, 1);
	case '%':
		return resp_aggregate(r, depth, 2);
	default:
		return RESP_BAD;
	}
}

static bool redis_name_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' ||
	       c == '-' || c == '|';
}

/* the command name: letters and the few marks module commands use */
static bool redis_name(const uint8_t *p, long n)
{
	if (n < 1 || n > 64)
		return false;
	for (long i = 0; i < n; i++)
		if (!redis_name_char(p[i]))
			return false;
	return true;
}

/* "*N\r\n" then N bulk strings, the first a command name */
static enum app_answer redis_client_array(const uint8_t *d, size_t len)
{
	struct resp r = { d, len, 1 };
	size_t at;
	long n, blen;
	int ret = resp_number(&r, &n);

	if (ret != RESP_OK)
		return ret == RESP_CUT ? APP_MAYBE : APP_NO;
	if (n < 1 || n > RESP_MAX_COUNT)
		return APP_NO;
	for (long i = 0; i < n; i++) {
		if (r.off >= r.len)
			return i == 0 ? APP_MAYBE : APP_YES;
		if (d[r.off++] != '$')
			return APP_NO;
		ret = resp_bulk_at(&r, &blen, &at);
		if (ret == RESP_BAD || (ret == RESP_OK && blen < 0))
			return APP_NO;
		if (ret == RESP_CUT)
			return i == 0 ? APP_MAYBE : APP_YES;
		if (i == 0 && !redis_name(d + at, blen))
			return APP_NO;
	}
	return APP_YES;
}

/*
 * The verb at d, of a line of len bytes; with cut, the line may go on past
 * len, so a piece of a verb is enough.
 */
static const char *redis_verb(const uint8_t *d, size_t len, bool cut)
{
	size_t v;

	for (size_t i = 0; i < ARRAY_SIZE(redis_verbs); i++) {
		v = strlen(redis_verbs[i]);
		if (cut && len <= v && strncasecmp((const char *)d, redis_verbs[i], len) == 0)
			return redis_verbs[i];
		if (len >= v && strncasecmp((const char *)d, redis_verbs[i], v) == 0 &&
		    (len == v || d[v] == ' '))
			return redis_verbs[i];
	}
	return NULL;
}

/* SET key value, then only its options: memcached's "set k 0 0 5" is not */
static bool redis_set_args(const uint8_t *d, size_t len)
{
	static const char *const opts[] = {
		"EX", "PX", "EXAT", "PXAT", "NX", "XX", "KEEPTTL", "GET"
	};
	size_t i = 0, start, words = 0;
	bool ok;

	while (i < len) {
		while (i < len && d[i] == ' ')
			i++;
		for (start = i; i < len && d[i] != ' ';)
			i++;
		if (i == start)
			break;
		if (++words <= 3)
			continue; /* SET, key, value */
		ok = false;
		for (size_t o = 0; o < ARRAY_SIZE(opts); o++)
			ok |= i - start == strlen(opts[o]) &&
			      strncasecmp((const char *)d + start, opts[o], i - start) == 0;
		/* an EX/PX argument is a number */
		ok |= d[start] >= '0' && d[start] <= '9' && words > 4;
		if (!ok)
			return false;
	}
	return words >= 3;
}

/* an inline command: a known verb, then printable text to the line end */
static enum app_answer redis_inline(const uint8_t *d, size_t len)
{
	long line = app_line_len(d, len);
	size_t n = line < 0 ? len : (size_t)line;
	const char *verb;

	if (line < 0 && d[len - 1] == '\r')
		n--; /* cut between the line's CR and its LF */
	for (size_t i = 0; i < n; i++)
		if (d[i] < 0x20 || d[i] >= 0x7f)
			return APP_NO;
	verb = redis_verb(d, n, line < 0);
	if (!verb)
		return APP_NO;
	if (line < 0)
		return len < REDIS_MAX_INLINE ? APP_MAYBE : APP_NO;
	if (memmem(d, n, " HTTP/", 6))
		return APP_NO; /* an HTTP request line is not a Redis command */
	if (strcmp(verb, "SET") == 0 && !redis_set_args(d, n))
		return APP_NO;
	return APP_YES;
}

/*
 * A top-level simple string or error: yes when it is one Redis sends, maybe
 * when cut inside one (the answer that decides may come in pieces).
 */
static enum app_answer redis_known_line(const uint8_t *d, size_t len)
{
	static const char *const ok[] = { "+OK\r\n", "+PONG\r\n", "+QUEUED\r\n" };
	enum app_answer a, best = APP_NO;

	for (size_t i = 0; d[0] == '+' && i < ARRAY_SIZE(ok); i++) {
		a = app_prefix(d, len, ok[i]);
		if (a == APP_YES)
			return a;
		best = a == APP_MAYBE ? a : best;
	}
	for (size_t i = 0; d[0] == '-' && i < ARRAY_SIZE(redis_errors); i++) {
		a = app_prefix(d + 1, len - 1, redis_errors[i]);
		if (a == APP_YES)
			return a;
		best = a == APP_MAYBE ? a : best;
	}
	return best;
}

static enum app_answer redis_server(const uint8_t *d, size_t len)
{
	struct resp r = { d, len, 0 };
	enum app_answer a;
	int ret;

	if (d[0] == '+' || d[0] == '-') {
		a = redis_known_line(d, len);
		if (a != APP_YES)
			return a;
	}
	ret = resp_value(&r, 0);
	if (ret == RESP_CUT)
		return APP_MAYBE;
	return ret == RESP_OK ? APP_YES : APP_NO;
}

enum app_answer app_redis_probe(const struct app_segment *seg, struct app_info *info)
{
	if (!seg->from_client)
		return redis_server(seg->data, seg->len);
	if (seg->data[0] == '*')
		return redis_client_array(seg->data, seg->len);
	return redis_inline(seg->data, seg->len);
}
