/* SPDX-License-Identifier: Apache-2.0 */
#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/msg.h>
#include <netlink/object.h>
#include <netlink/route/addr.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>

#include "lib/core/err.h"
#include "lib/core/fsutil.h"
#include "lib/net/nl.h"

#define JOURNAL_MAGIC "PCJRNL\0\0"
#define JOURNAL_VERSION 1u
#define JOURNAL_FILE_MAX (16u * 1024 * 1024)
#define JOURNAL_OBJS_MAX 65536u
#define JOURNAL_MSG_MAX 65536u

/* The layout word: a journal written by a build with other structures is refused. */
#define JOURNAL_LAYOUT ((uint32_t)(JOURNAL_VERSION << 24 ^ sizeof(struct journal_port)))

struct jhdr {
	char magic[8];
	uint32_t layout;
	uint32_t n_ports;
	uint64_t ns_ino;
	int32_t mode;
	char ns_path[PATH_MAX];
};

/* ---- writing ---- */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static void put(struct wbuf *b, const void *d, size_t n)
{
	if (b->err)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		uint8_t *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

enum obj_kind { K_ADDR, K_ROUTE, K_NEIGH, K_MAX };

static const char *const kind_type[K_MAX] = { "route/addr", "route/route", "route/neigh" };

static int build(enum obj_kind k, struct nl_object *o, struct nl_msg **m)
{
	switch (k) {
	case K_ADDR:
		return rtnl_addr_build_add_request((struct rtnl_addr *)o, NLM_F_CREATE, m);
	case K_ROUTE:
		return rtnl_route_build_add_request((struct rtnl_route *)o, NLM_F_CREATE, m);
	default:
		return rtnl_neigh_build_add_request((struct rtnl_neigh *)o, NLM_F_CREATE, m);
	}
}

/* Each object as the netlink message that adds it: a count, then length + bytes. */
static int put_objs(struct wbuf *b, enum obj_kind k, struct nl_object **objs, size_t n)
{
	uint32_t count = (uint32_t)n, len;
	struct nl_msg *m;
	int ret;

	put(b, &count, sizeof(count));
	for (size_t i = 0; i < n; i++) {
		m = NULL;
		ret = build(k, objs[i], &m);
		if (ret < 0)
			return nl_fail(ret, k == K_ADDR	   ? "journal: encode an address"
					    : k == K_ROUTE ? "journal: encode a route"
							   : "journal: encode a neighbour");
		len = nlmsg_hdr(m)->nlmsg_len;
		put(b, &len, sizeof(len));
		put(b, nlmsg_hdr(m), len);
		nlmsg_free(m);
	}
	return 0;
}

static int put_port(struct wbuf *b, const struct journal_port *jp)
{
	struct journal_port plain = *jp;
	const struct port_snapshot *s = &jp->snap;
	int ret;

	plain.snap.addrs = plain.snap.routes = plain.snap.neighs = NULL;
	put(b, &plain, sizeof(plain));
	ret = put_objs(b, K_ADDR, s->addrs, s->n_addrs);
	if (ret >= 0)
		ret = put_objs(b, K_ROUTE, s->routes, s->n_routes);
	if (ret >= 0)
		ret = put_objs(b, K_NEIGH, s->neighs, s->n_neighs);
	return ret;
}

int journal_path(const char *dir, unsigned long ino, char *out, size_t len)
{
	if ((size_t)snprintf(out, len, "%s/pull-%lu.journal", dir, ino) >= len)
		return err_set(-ENAMETOOLONG, "journal path in %s", dir);
	return 0;
}

static int write_file(const char *dir, unsigned long ino, const struct wbuf *b)
{
	char path[PATH_MAX];
	int ret = journal_path(dir, ino, path, sizeof(path));

	if (ret >= 0)
		ret = fs_write_atomic(path, b->p, b->len);
	return ret < 0 ? err_wrap(ret, "journal") : 0;
}

int journal_write(const char *dir, const struct journal *j)
{
	struct jhdr h = { .layout = JOURNAL_LAYOUT,
			  .n_ports = (uint32_t)j->n,
			  .ns_ino = j->ns_ino,
			  .mode = j->mode };
	struct wbuf b = { 0 };
	int ret = 0;

	memcpy(h.magic, JOURNAL_MAGIC, sizeof(h.magic));
	snprintf(h.ns_path, sizeof(h.ns_path), "%s", j->ns_path);
	put(&b, &h, sizeof(h));
	for (size_t i = 0; i < j->n && ret >= 0; i++)
		ret = put_port(&b, &j->ports[i]);
	if (ret >= 0 && b.err)
		ret = err_set(b.err, "journal: encode");
	if (ret >= 0)
		ret = write_file(dir, j->ns_ino, &b);
	free(b.p);
	return ret;
}

/* ---- reading ---- */

struct rbuf {
	const uint8_t *p;
	size_t len, off;
};

static bool take(struct rbuf *r, void *d, size_t n)
{
	if (r->len - r->off < n)
		return false;
	memcpy(d, r->p + r->off, n);
	r->off += n;
	return true;
}

static void got_obj(struct nl_object *o, void *arg)
{
	struct nl_object **slot = arg;

	if (!*slot) {
		nl_object_get(o);
		*slot = o;
	}
}

/* One message back into the object it adds, which must be of kind k. */
static int parse_obj(struct rbuf *r, enum obj_kind k, const char *path, struct nl_object **out)
{
	struct nl_object *o = NULL;
	struct nlmsghdr hdr;
	struct nl_msg *m;
	uint32_t len;

	if (!take(r, &len, sizeof(len)) || len < sizeof(hdr) || len > JOURNAL_MSG_MAX ||
	    r->len - r->off < len)
		return err_set(-EINVAL, "journal %s: truncated", path);
	memcpy(&hdr, r->p + r->off, sizeof(hdr));
	if (hdr.nlmsg_len != len)
		return err_set(-EINVAL, "journal %s: a message of the wrong length", path);
	m = nlmsg_convert((struct nlmsghdr *)(uintptr_t)(r->p + r->off));
	r->off += len;
	if (!m)
		return err_set(-ENOMEM, "journal %s", path);
	nlmsg_set_proto(m, NETLINK_ROUTE); /* picks the parser of its type */
	nl_msg_parse(m, got_obj, &o);
	nlmsg_free(m);
	if (!o || strcmp(nl_object_get_type(o), kind_type[k]) != 0) {
		if (o)
			nl_object_put(o);
		return err_set(-EINVAL, "journal %s: not a %s message", path, kind_type[k]);
	}
	*out = o;
	return 0;
}

static int get_objs(struct rbuf *r, enum obj_kind k, const char *path, struct nl_object ***objs,
		    size_t *n)
{
	uint32_t count;
	int ret = 0;

	*objs = NULL;
	*n = 0;
	if (!take(r, &count, sizeof(count)) || count > JOURNAL_OBJS_MAX)
		return err_set(-EINVAL, "journal %s: truncated", path);
	*objs = calloc(count + 1, sizeof(**objs));
	if (!*objs)
		return err_set(-ENOMEM, "journal %s", path);
	for (uint32_t i = 0; i < count && ret >= 0; i++) {
		ret = parse_obj(r, k, path, &(*objs)[i]);
		if (ret >= 0)
			(*n)++;
	}
	return ret;
}

static int get_port(struct rbuf *r, const char *path, struct journal_port *jp)
{
	struct port_snapshot *s = &jp->snap;
	int ret;

	if (!take(r, jp, sizeof(*jp)))
		return err_set(-EINVAL, "journal %s: truncated", path);
	s->addrs = s->routes = s->neighs = NULL;
	s->n_addrs = s->n_routes = s->n_neighs = 0;
	jp->ex_name[IFNAMSIZ - 1] = jp->in_name[IFNAMSIZ - 1] = s->name[IFNAMSIZ - 1] = '\0';
	ret = get_objs(r, K_ADDR, path, &s->addrs, &s->n_addrs);
	if (ret >= 0)
		ret = get_objs(r, K_ROUTE, path, &s->routes, &s->n_routes);
	if (ret >= 0)
		ret = get_objs(r, K_NEIGH, path, &s->neighs, &s->n_neighs);
	return ret;
}

static int parse(const uint8_t *p, size_t len, const char *path, struct journal *j)
{
	struct rbuf r = { .p = p, .len = len };
	struct jhdr h;
	int ret = 0;

	if (!take(&r, &h, sizeof(h)) || memcmp(h.magic, JOURNAL_MAGIC, sizeof(h.magic)) != 0)
		return err_set(-EINVAL, "journal %s: not a journal", path);
	if (h.layout != JOURNAL_LAYOUT)
		return err_set(-EPROTO, "journal %s: written by another build of portcullis", path);
	if (h.n_ports > 1024)
		return err_set(-EINVAL, "journal %s: %u ports", path, h.n_ports);
	j->ns_ino = (unsigned long)h.ns_ino;
	j->mode = h.mode;
	h.ns_path[sizeof(h.ns_path) - 1] = '\0';
	snprintf(j->ns_path, sizeof(j->ns_path), "%s", h.ns_path);
	j->ports = calloc(h.n_ports + 1, sizeof(*j->ports));
	if (!j->ports)
		return err_set(-ENOMEM, "journal %s", path);
	for (uint32_t i = 0; i < h.n_ports && ret >= 0; i++) {
		ret = get_port(&r, path, &j->ports[i]);
		j->n = i + 1; /* what get_port allocated is freed with it */
	}
	if (ret >= 0 && r.off != r.len)
		ret = err_set(-EINVAL, "journal %s: trailing bytes", path);
	return ret;
}

int journal_read(const char *path, struct journal *j)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, ret;

	memset(j, 0, sizeof(*j));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return err_set(-errno, "journal %s", path);
	ret = fs_read_all(fd, JOURNAL_FILE_MAX, &buf, &len);
	close(fd);
	if (ret < 0)
		return err_set(ret, "journal %s: read", path);
	ret = parse((const uint8_t *)buf, len, path, j);
	free(buf);
	if (ret < 0)
		journal_free(j);
	return ret;
}

void journal_free(struct journal *j)
{
	for (size_t i = 0; j->ports && i < j->n; i++)
		snapshot_free(&j->ports[i].snap);
	free(j->ports);
	j->ports = NULL;
	j->n = 0;
}

int journal_remove(const char *dir, unsigned long ino)
{
	char path[PATH_MAX];
	int ret = journal_path(dir, ino, path, sizeof(path));

	if (ret < 0)
		return ret;
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(-errno, "remove %s", path);
	return 0;
}

/* "pull-<decimal>.journal" exactly */
static bool is_journal(const char *name)
{
	unsigned long ino;
	char canon[64];

	if (sscanf(name, "pull-%lu.journal", &ino) != 1)
		return false;
	snprintf(canon, sizeof(canon), "pull-%lu.journal", ino);
	return strcmp(name, canon) == 0;
}

int journal_list(const char *dir, char ***paths, size_t *n)
{
	struct dirent *de;
	char **v = NULL, **nv;
	int ret = 0;
	DIR *d;

	*paths = NULL;
	*n = 0;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : err_set(-errno, "open %s", dir);
	while (ret == 0 && (de = readdir(d))) {
		if (!is_journal(de->d_name))
			continue;
		nv = realloc(v, (*n + 1) * sizeof(*v));
		if (!nv) {
			ret = err_set(-ENOMEM, "list %s", dir);
			break;
		}
		v = nv;
		if (asprintf(&v[*n], "%s/%s", dir, de->d_name) < 0)
			ret = err_set(-ENOMEM, "list %s", dir);
		else
			(*n)++;
	}
	closedir(d);
	*paths = v;
	return ret;
}
