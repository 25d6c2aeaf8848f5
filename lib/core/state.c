/* SPDX-License-Identifier: Apache-2.0 */
/*
 * State records: one JSON file per intercepted container network namespace,
 * STATE_DIR/netns-<inode>.json.  Writers hold the directory's lock; files are
 * replaced atomically, so a reader never sees half a record. The lock is
 * state_lock.c.
 */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "claim.h"
#include "err.h"
#include "fsutil.h"
#include "jfield.h"
#include "log.h"
#include "naming.h"
#include "util.h"

#define STATE_FILE_MAX (16 * 1024 * 1024)
#define STATE_PID_MAX 4194304

/* Whether name is ours to delete when the folder goes: the lock, or the
 * new file of a replacement cut short (fs_write_atomic: "<file>.XXXXXX"). */
static bool state_dir_litter(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (strcmp(name, "lock") == 0)
		return true;
	if (!dot || strlen(dot + 1) != 6)
		return false;
	return (strncmp(name, "netns-", 6) == 0 && dot - name > 5 &&
		!strncmp(dot - 5, ".json", 5)) ||
	       (strncmp(name, "pull-", 5) == 0 && dot - name > 8 &&
		!strncmp(dot - 8, ".journal", 8));
}

int state_dir_remove(const char *dir)
{
	char path[PATH_MAX], left[NAME_MAX + 1] = "";
	struct dirent *e;
	DIR *d;
	int ret;

	ret = claim_remove_all(dir);
	if (ret < 0)
		return ret;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : err_set(-errno, "open %s", dir);
	while ((e = readdir(d)) && ret == 0) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!state_dir_litter(e->d_name)) {
			snprintf(left, sizeof(left), "%s", e->d_name);
			continue;
		}
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			ret = err_set(-ENAMETOOLONG, "state dir %s", dir);
		else if (unlink(path) < 0 && errno != ENOENT)
			ret = err_set(-errno, "remove %s", path);
	}
	closedir(d);
	if (ret == 0 && left[0])
		ret = err_set(-ENOTEMPTY, "state dir %s still holds %s", dir, left);
	if (ret == 0 && rmdir(dir) < 0 && errno != ENOENT)
		ret = err_set(-errno, "remove %s", dir);
	return ret;
}

void state_file_name(unsigned long ns_ino, char *out, size_t len)
{
	snprintf(out, len, "netns-%lu.json", ns_ino);
}

static int state_path(const char *dir, unsigned long ns_ino, char *out, size_t len)
{
	char name[64];

	state_file_name(ns_ino, name, sizeof(name));
	if ((size_t)snprintf(out, len, "%s/%s", dir, name) >= len)
		return err_set(-ENAMETOOLONG, "state dir %s", dir);
	return 0;
}

/* ---- JSON form ---- */

static json_t *pack_fail(const json_error_t *jerr)
{
	err_set(-EINVAL, "state: encode: %s", jerr->text);
	return NULL;
}

static json_t *ctr_to_json(const void *item)
{
	const struct state_ctr *c = item;
	json_error_t jerr;
	json_t *o;

	o = json_pack_ex(&jerr, 0, "{s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "id", c->id, "name",
			 c->name, "pid", (int)c->pid, "group", c->group, "k8s_pod", c->k8s_pod,
			 "k8s_namespace", c->k8s_namespace, "k8s_container", c->k8s_container);
	if (!o)
		return pack_fail(&jerr);
	/* only pods have it: the hook's records stay as they were */
	if (c->sandbox && json_object_set_new(o, "sandbox", json_true()) < 0) {
		json_decref(o);
		err_set(-ENOMEM, "state: encode");
		return NULL;
	}
	return o;
}

static json_t *port_to_json(const void *item)
{
	const struct state_port *p = item;
	json_error_t jerr;
	json_t *o;

	json_t *addrs;

	o = json_pack_ex(&jerr, 0, "{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:[]}", "name",
			 p->name, "ex_name", p->ex_name, "in_name", p->in_name, "kind", p->kind,
			 "mac", p->mac, "ucmac", p->ucmac, "ctr_ifindex", p->ctr_ifindex,
			 "ex_ifindex", p->ex_ifindex, "in_ifindex", p->in_ifindex, "addrs");
	if (!o)
		return pack_fail(&jerr);
	addrs = json_object_get(o, "addrs");
	for (size_t i = 0; i < p->n_addrs && i < STATE_MAX_ADDRS; i++) {
		if (json_array_append_new(addrs, json_string(p->addrs[i])) < 0) {
			json_decref(o);
			err_set(-ENOMEM, "state: encode");
			return NULL;
		}
	}
	return o;
}

static int append_all(json_t *arr, const void *items, size_t n, size_t size,
		      json_t *(*conv)(const void *))
{
	for (size_t i = 0; i < n; i++) {
		json_t *o = conv((const char *)items + i * size);

		if (!o)
			return -EINVAL;
		if (json_array_append_new(arr, o) < 0)
			return err_set(-ENOMEM, "state: encode");
	}
	return 0;
}

json_t *state_to_json(const struct state_rec *rec)
{
	json_t *obj, *ctrs, *ports;
	json_error_t jerr;

	if (rec->n_ports > STATE_MAX_PORTS) {
		err_set(-EINVAL, "state: %zu ports, at most %d", rec->n_ports, STATE_MAX_PORTS);
		return NULL;
	}
	if ((unsigned)rec->mode > MODE_FWD) {
		err_set(-EINVAL, "state: mode %d is not a mode", (int)rec->mode);
		return NULL;
	}
	obj = json_pack_ex(&jerr, 0, "{s:I, s:s, s:i, s:s, s:s, s:I, s:[], s:[]}", "netns_inode",
			   (json_int_t)rec->ns_ino, "netns_path", rec->ns_path, "pid",
			   (int)rec->pid, "mode", config_mode_name(rec->mode), "backend",
			   rec->backend, "created", (json_int_t)rec->created, "containers",
			   "ports");
	if (!obj)
		return pack_fail(&jerr);
	ctrs = json_object_get(obj, "containers");
	ports = json_object_get(obj, "ports");
	if (append_all(ctrs, rec->ctrs, rec->n_ctrs, sizeof(*rec->ctrs), ctr_to_json) < 0 ||
	    append_all(ports, rec->ports, rec->n_ports, sizeof(*rec->ports), port_to_json) < 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

_Static_assert(sizeof(pid_t) == sizeof(int), "pid_t is stored as int");
_Static_assert(sizeof(time_t) == sizeof(long), "time_t is stored as long");

/* "mode": a mode's name */
static int read_mode(void *base, const json_t *v, const struct jfield *f, const char *where)
{
	if (!json_is_string(v))
		return err_set(-EINVAL, "%s: key \"%s\" must be a string", where, f->key);
	if (config_parse_mode(json_string_value(v), (enum pc_mode *)((char *)base + f->off)) < 0)
		return err_set(-EINVAL, "%s: key \"%s\" must be off, pass, tap or fwd", where,
			       f->key);
	return 0;
}

/* "addrs": at most STATE_MAX_ADDRS strings */
static int read_addrs(void *base, const json_t *arr, const struct jfield *f, const char *where)
{
	struct state_port *p = base;
	json_t *one;
	size_t i;
	int ret;

	if (!json_is_array(arr) || json_array_size(arr) > STATE_MAX_ADDRS)
		return err_set(-EINVAL, "%s: key \"addrs\" must be an array of at most %d strings",
			       where, STATE_MAX_ADDRS);
	json_array_foreach(arr, i, one) {
		ret = jfield_read_str(one, p->addrs[i], sizeof(p->addrs[i]), f->key, where);
		if (ret < 0)
			return ret;
		p->n_addrs = i + 1;
	}
	return 0;
}

#define STR(type, key, member)                                                                     \
	{                                                                                          \
		key, JF_STR, JF_FIELD(type, member), 0, 0, NULL, true                              \
	}
#define INT(type, key, member, lo, hi)                                                             \
	{                                                                                          \
		key, JF_INT, JF_FIELD(type, member), lo, hi, NULL, true                            \
	}

/* the members a record has; "ports" and "containers" are read apart */
static const struct jfield rec_fields[] = {
	INT(struct state_rec, "netns_inode", ns_ino, 1, LLONG_MAX),
	STR(struct state_rec, "netns_path", ns_path),
	INT(struct state_rec, "pid", pid, 0, STATE_PID_MAX),
	{ "mode", JF_FN, JF_FIELD(struct state_rec, mode), 0, 0, read_mode, true },
	STR(struct state_rec, "backend", backend),
	INT(struct state_rec, "created", created, 0, LLONG_MAX),
};

static const struct jfield ctr_fields[] = {
	STR(struct state_ctr, "id", id),
	INT(struct state_ctr, "pid", pid, 0, STATE_PID_MAX),
	STR(struct state_ctr, "group", group),
	STR(struct state_ctr, "k8s_pod", k8s_pod),
	STR(struct state_ctr, "k8s_namespace", k8s_namespace),
	STR(struct state_ctr, "k8s_container", k8s_container),
	/* optional: records written before it existed have none */
	{ "name", JF_STR, JF_FIELD(struct state_ctr, name), 0, 0, NULL, false },
	{ "sandbox", JF_BOOL, JF_FIELD(struct state_ctr, sandbox), 0, 0, NULL, false },
};

static const struct jfield port_fields[] = {
	STR(struct state_port, "name", name),
	STR(struct state_port, "ex_name", ex_name),
	STR(struct state_port, "in_name", in_name),
	STR(struct state_port, "kind", kind),
	STR(struct state_port, "mac", mac),
	STR(struct state_port, "ucmac", ucmac),
	INT(struct state_port, "ctr_ifindex", ctr_ifindex, 0, INT_MAX),
	INT(struct state_port, "ex_ifindex", ex_ifindex, 0, INT_MAX),
	INT(struct state_port, "in_ifindex", in_ifindex, 0, INT_MAX),
	/* optional: records written before it existed have none */
	{ "addrs", JF_FN, 0, 0, 0, 0, read_addrs, false },
};

static int check_mac(const char *mac, const char *key, const char *where)
{
	unsigned char b[6];

	if (!mac[0])
		return 0;
	if (strlen(mac) != STATE_MAC_STR - 1 || naming_mac_parse(mac, b) < 0)
		return err_set(-EINVAL, "%s: key \"%s\" is not of the form xx:xx:xx:xx:xx:xx",
			       where, key);
	return 0;
}

static int port_from_json(const json_t *o, struct state_port *p, const char *where)
{
	int ret;

	ret = jfield_read(o, p, port_fields, ARRAY_SIZE(port_fields), JF_IGNORE_UNKNOWN, where);
	if (ret < 0)
		return ret;
	if (!p->name[0])
		return err_set(-EINVAL, "%s: key \"name\" is empty", where);
	ret = check_mac(p->mac, "mac", where);
	return ret < 0 ? ret : check_mac(p->ucmac, "ucmac", where);
}

static int ctr_from_json(const json_t *o, struct state_ctr *c, const char *where)
{
	int ret;

	ret = jfield_read(o, c, ctr_fields, ARRAY_SIZE(ctr_fields), JF_IGNORE_UNKNOWN, where);
	if (ret < 0)
		return ret;
	if (!c->id[0])
		return err_set(-EINVAL, "%s: key \"id\" is empty", where);
	return 0;
}

static const json_t *get_array(const json_t *obj, const char *key, int *ret)
{
	const json_t *v = json_object_get(obj, key);

	*ret = 0;
	if (!v)
		*ret = err_set(-EINVAL, "state: key \"%s\" is missing", key);
	else if (!json_is_array(v))
		*ret = err_set(-EINVAL, "state: key \"%s\" must be an array", key);
	return *ret ? NULL : v;
}

static int ports_from_json(const json_t *obj, struct state_rec *rec)
{
	const json_t *arr, *o;
	char where[48];
	size_t i;
	int ret;

	arr = get_array(obj, "ports", &ret);
	if (!arr)
		return ret;
	if (json_array_size(arr) > STATE_MAX_PORTS)
		return err_set(-EINVAL, "state: key \"ports\" has %zu entries, at most %d",
			       json_array_size(arr), STATE_MAX_PORTS);
	ret = state_set_ports(rec, json_array_size(arr));
	if (ret < 0)
		return ret;
	json_array_foreach(arr, i, o) {
		snprintf(where, sizeof(where), "state: ports[%zu]", i);
		ret = port_from_json(o, &rec->ports[i], where);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int ctrs_from_json(const json_t *obj, struct state_rec *rec)
{
	const json_t *arr, *o;
	char where[48];
	size_t i;
	int ret;

	arr = get_array(obj, "containers", &ret);
	if (!arr)
		return ret;
	if (json_array_size(arr) == 0)
		return 0;
	rec->ctrs = calloc(json_array_size(arr), sizeof(*rec->ctrs));
	if (!rec->ctrs)
		return err_set(-ENOMEM, "state: containers");
	json_array_foreach(arr, i, o) {
		snprintf(where, sizeof(where), "state: containers[%zu]", i);
		ret = ctr_from_json(o, &rec->ctrs[i], where);
		if (ret < 0)
			return ret;
		rec->n_ctrs = i + 1;
	}
	return 0;
}

int state_from_json(const json_t *obj, struct state_rec *rec)
{
	int ret;

	memset(rec, 0, sizeof(*rec));
	if (!json_is_object(obj))
		return err_set(-EINVAL, "state: record is not a JSON object");
	ret = jfield_read(obj, rec, rec_fields, ARRAY_SIZE(rec_fields), JF_IGNORE_UNKNOWN, "state");
	if (ret == 0)
		ret = ports_from_json(obj, rec);
	if (ret == 0)
		ret = ctrs_from_json(obj, rec);
	if (ret < 0) {
		state_rec_free(rec);
		memset(rec, 0, sizeof(*rec));
	}
	return ret;
}

/* ---- files ---- */

int state_save(const char *dir, const struct state_rec *rec)
{
	char path[PATH_MAX];
	json_t *obj;
	char *text;
	int ret;

	ret = state_path(dir, rec->ns_ino, path, sizeof(path));
	if (ret < 0)
		return ret;
	obj = state_to_json(rec);
	if (!obj)
		return -EINVAL;
	text = json_dumps(obj, JSON_INDENT(2));
	json_decref(obj);
	if (!text)
		return err_set(-ENOMEM, "state: encode");
	ret = fs_write_atomic(path, text, strlen(text));
	free(text);
	return ret;
}

/* The record in fd (closed here); path names it in messages. */
static int load_fd(int fd, const char *path, unsigned long ns_ino, struct state_rec *rec)
{
	json_error_t jerr;
	struct stat sb;
	json_t *obj;
	size_t len;
	char *buf;
	int ret;

	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size > STATE_FILE_MAX) {
		close(fd);
		return err_set(-EINVAL, "%s: not a regular file of at most 16 MiB", path);
	}
	/* Whole, in a few read()s: jansson's fd reader takes a byte per call. */
	ret = fs_read_all(fd, STATE_FILE_MAX, &buf, &len);
	close(fd);
	if (ret < 0)
		return err_set(ret, "%s", path);
	obj = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (!obj)
		return err_set(-EINVAL, "%s: line %d column %d: %s", path, jerr.line, jerr.column,
			       jerr.text);
	ret = state_from_json(obj, rec);
	json_decref(obj);
	if (ret < 0)
		return err_wrap(ret, "%s", path);
	if (rec->ns_ino != ns_ino) {
		ret = err_set(-EINVAL, "%s: netns_inode %lu does not match the file name", path,
			      rec->ns_ino);
		state_rec_free(rec);
		memset(rec, 0, sizeof(*rec));
		return ret;
	}
	return 0;
}

static int open_record(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	return fd < 0 ? -errno : fd;
}

static int load_path(const char *path, unsigned long ns_ino, struct state_rec *rec)
{
	int fd = open_record(path);

	if (fd < 0)
		return err_set(fd, "%s", path);
	return load_fd(fd, path, ns_ino, rec);
}

int state_load(const char *dir, unsigned long ns_ino, struct state_rec *rec)
{
	char path[PATH_MAX];
	int ret;

	memset(rec, 0, sizeof(*rec));
	ret = state_path(dir, ns_ino, path, sizeof(path));
	if (ret < 0)
		return ret;
	return load_path(path, ns_ino, rec);
}

int state_remove(const char *dir, unsigned long ns_ino)
{
	char path[PATH_MAX];
	int ret;

	ret = state_path(dir, ns_ino, path, sizeof(path));
	if (ret < 0)
		return ret;
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return 0;
		return err_set(-errno, "remove %s", path);
	}
	return fs_sync_dir(dir);
}

unsigned long state_record_ino(const char *name)
{
	char canon[64];
	unsigned long ino;
	char *end;

	if (strncmp(name, "netns-", 6) != 0 || name[6] < '1' || name[6] > '9')
		return 0;
	errno = 0;
	ino = strtoul(name + 6, &end, 10);
	if (errno || strcmp(end, ".json") != 0)
		return 0;
	state_file_name(ino, canon, sizeof(canon));
	return strcmp(canon, name) == 0 ? ino : 0;
}

static int list_push(struct state_rec **recs, size_t *n, size_t *cap, struct state_rec *rec)
{
	struct state_rec *nrecs;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		nrecs = realloc(*recs, *cap * sizeof(**recs));
		if (!nrecs)
			return -ENOMEM;
		*recs = nrecs;
	}
	(*recs)[(*n)++] = *rec;
	return 0;
}

int state_list_from(const char *dir, const struct state_source *src, struct state_rec **out,
		    size_t *n)
{
	struct state_rec rec, *recs = NULL;
	char name[NAME_MAX + 1], path[PATH_MAX];
	unsigned long ino;
	size_t cap = 0;
	int fd, ret;

	*out = NULL;
	*n = 0;
	while ((ret = src->next(src->arg, name, sizeof(name), &fd)) > 0) {
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		ino = state_record_ino(name);
		if (fd < 0 || !ino) {
			if (fd >= 0)
				close(fd);
			err_set(fd < 0 ? fd : -EINVAL, "%s", path);
			pr_warn("state: skipping %s", err_msg());
			continue;
		}
		if (load_fd(fd, path, ino, &rec) < 0) {
			pr_warn("state: skipping %s", err_msg());
			continue;
		}
		if (list_push(&recs, n, &cap, &rec) < 0) {
			state_rec_free(&rec);
			ret = err_set(-ENOMEM, "state: list %s", dir);
			break;
		}
	}
	if (ret < 0) {
		state_list_free(recs, *n);
		*n = 0;
		return ret;
	}
	*out = recs;
	return 0;
}

/* state_list's source: the directory, read and opened by this process. */
struct dir_source {
	DIR *d;
	const char *dir;
};

static int dir_next(void *arg, char *name, size_t len, int *fd)
{
	struct dir_source *ds = arg;
	char path[PATH_MAX];
	struct dirent *de;

	while ((de = readdir(ds->d))) {
		if (!state_record_ino(de->d_name))
			continue;
		snprintf(name, len, "%s", de->d_name);
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", ds->dir, de->d_name) >=
		    sizeof(path))
			*fd = -ENAMETOOLONG;
		else
			*fd = open_record(path);
		return 1;
	}
	return 0;
}

int state_list(const char *dir, struct state_rec **out, size_t *n)
{
	struct dir_source ds = { .dir = dir };
	struct state_source src = { dir_next, &ds };
	int ret;

	*out = NULL;
	*n = 0;
	ds.d = opendir(dir);
	if (!ds.d) {
		if (errno == ENOENT)
			return 0;
		return err_set(-errno, "open %s", dir);
	}
	ret = state_list_from(dir, &src, out, n);
	closedir(ds.d);
	return ret;
}

void state_list_free(struct state_rec *recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		state_rec_free(&recs[i]);
	free(recs);
}

/* ---- containers ---- */

/* Index into recs/ctrs of the match for id; -ENOENT, or -EINVAL if ambiguous. */
static int find_in(const struct state_rec *recs, size_t n, const char *id, bool exact, size_t *ri,
		   size_t *ci)
{
	size_t len = strlen(id), hits = 0;

	for (size_t r = 0; r < n; r++) {
		for (size_t c = 0; c < recs[r].n_ctrs; c++) {
			const char *cid = recs[r].ctrs[c].id;

			if (strcmp(cid, id) == 0) {
				*ri = r;
				*ci = c;
				return 0;
			}
			if (exact || strncmp(cid, id, len) != 0)
				continue;
			if (hits++ == 0) {
				*ri = r;
				*ci = c;
			}
		}
	}
	if (hits == 1)
		return 0;
	if (hits > 1)
		return err_set(-EINVAL, "container id prefix \"%s\" is ambiguous", id);
	return err_set(-ENOENT, "no container %s in state", id);
}

int state_find_ctr(const char *dir, const char *id, bool exact, struct state_rec *rec,
		   size_t *ctr_idx)
{
	struct state_rec *recs;
	size_t n, ri = 0, ci = 0;
	int ret;

	memset(rec, 0, sizeof(*rec));
	if (!id || !*id)
		return err_set(-EINVAL, "container id is empty");
	ret = state_list(dir, &recs, &n);
	if (ret < 0)
		return ret;
	ret = find_in(recs, n, id, exact, &ri, &ci);
	if (ret == 0) {
		*rec = recs[ri];
		recs[ri].ctrs = NULL;
		recs[ri].n_ctrs = 0;
		recs[ri].ports = NULL;
		recs[ri].n_ports = 0;
		*ctr_idx = ci;
	}
	state_list_free(recs, n);
	return ret;
}

int state_add_ctr(struct state_rec *rec, const struct state_ctr *ctr)
{
	struct state_ctr *nctrs;

	for (size_t i = 0; i < rec->n_ctrs; i++)
		if (strcmp(rec->ctrs[i].id, ctr->id) == 0)
			return err_set(-EEXIST, "state: container %s already recorded", ctr->id);
	nctrs = realloc(rec->ctrs, (rec->n_ctrs + 1) * sizeof(*nctrs));
	if (!nctrs)
		return err_set(-ENOMEM, "state: add container %s", ctr->id);
	nctrs[rec->n_ctrs++] = *ctr;
	rec->ctrs = nctrs;
	return 0;
}

int state_put_ctr(struct state_rec *rec, const struct state_ctr *ctr)
{
	for (size_t i = 0; i < rec->n_ctrs; i++) {
		if (strcmp(rec->ctrs[i].id, ctr->id) == 0) {
			rec->ctrs[i] = *ctr;
			return 0;
		}
	}
	return state_add_ctr(rec, ctr);
}

void state_del_ctr(struct state_rec *rec, size_t i)
{
	if (i >= rec->n_ctrs)
		return;
	memmove(&rec->ctrs[i], &rec->ctrs[i + 1], (rec->n_ctrs - i - 1) * sizeof(*rec->ctrs));
	if (--rec->n_ctrs == 0) {
		free(rec->ctrs);
		rec->ctrs = NULL;
	}
}

int state_set_ports(struct state_rec *rec, size_t n)
{
	struct state_port *p;

	if (n > STATE_MAX_PORTS)
		return err_set(-E2BIG, "state: %zu ports, at most %d", n, STATE_MAX_PORTS);
	p = calloc(n ? n : 1, sizeof(*p));
	if (!p)
		return err_set(-ENOMEM, "state: %zu ports", n);
	free(rec->ports);
	rec->ports = p;
	rec->n_ports = n;
	return 0;
}

void state_rec_free(struct state_rec *rec)
{
	free(rec->ports);
	rec->ports = NULL;
	rec->n_ports = 0;
	free(rec->ctrs);
	rec->ctrs = NULL;
	rec->n_ctrs = 0;
}
