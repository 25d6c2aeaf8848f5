/* SPDX-License-Identifier: Apache-2.0 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/core/err.h"
#include "lib/core/state.h"

static char dir[64];

static void make_dir(void)
{
	strcpy(dir, "/tmp/pc-state-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void remove_dir(void)
{
	ck_assert_int_eq(nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS), 0);
}

static void write_text(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static struct state_ctr make_ctr(const char *id, pid_t pid, const char *group)
{
	struct state_ctr c;

	memset(&c, 0, sizeof(c));
	snprintf(c.id, sizeof(c.id), "%s", id);
	c.pid = pid;
	snprintf(c.group, sizeof(c.group), "%s", group);
	return c;
}

/* A record with two ports and the given containers. */
static void make_rec(struct state_rec *rec, unsigned long ino, const char *id1, const char *id2)
{
	struct state_ctr c;

	memset(rec, 0, sizeof(*rec));
	rec->ns_ino = ino;
	snprintf(rec->ns_path, sizeof(rec->ns_path), "/proc/%lu/ns/net", ino % 100000);
	rec->pid = 4321;
	rec->mode = MODE_TAP;
	strcpy(rec->backend, "bpf");
	rec->created = 1700000000;
	ck_assert_int_eq(state_set_ports(rec, 2), 0);
	strcpy(rec->ports[0].name, "eth0");
	strcpy(rec->ports[0].ex_name, "vex4321-0");
	strcpy(rec->ports[0].in_name, "vin4321-0");
	strcpy(rec->ports[0].kind, "veth");
	strcpy(rec->ports[0].mac, "02:42:ac:11:00:02");
	rec->ports[0].ctr_ifindex = 7;
	rec->ports[0].ex_ifindex = 101;
	rec->ports[0].in_ifindex = 102;
	rec->ports[0].n_addrs = 2;
	strcpy(rec->ports[0].addrs[0], "10.88.0.5/16");
	strcpy(rec->ports[0].addrs[1], "fd00:88::5/64");
	strcpy(rec->ports[1].name, "net1");
	strcpy(rec->ports[1].ex_name, "vex4321-1.2");
	strcpy(rec->ports[1].in_name, "vin4321-1.2");
	strcpy(rec->ports[1].kind, "macvlan");
	rec->ports[1].ctr_ifindex = 8;
	if (id1) {
		c = make_ctr(id1, 4321, "web");
		strcpy(c.k8s_pod, "pod");
		strcpy(c.k8s_namespace, "ns");
		strcpy(c.k8s_container, "nginx");
		strcpy(c.name, "web-1");
		ck_assert_int_eq(state_add_ctr(rec, &c), 0);
	}
	if (id2) {
		c = make_ctr(id2, 4400, "");
		ck_assert_int_eq(state_add_ctr(rec, &c), 0);
	}
}

static void assert_rec_eq(const struct state_rec *a, const struct state_rec *b)
{
	ck_assert_uint_eq(a->ns_ino, b->ns_ino);
	ck_assert_str_eq(a->ns_path, b->ns_path);
	ck_assert_int_eq(a->pid, b->pid);
	ck_assert_int_eq(a->mode, b->mode);
	ck_assert_str_eq(a->backend, b->backend);
	ck_assert_int_eq(a->created, b->created);
	ck_assert_uint_eq(a->n_ports, b->n_ports);
	ck_assert_mem_eq(a->ports, b->ports, a->n_ports * sizeof(a->ports[0]));
	ck_assert_uint_eq(a->n_ctrs, b->n_ctrs);
	if (a->n_ctrs)
		ck_assert_mem_eq(a->ctrs, b->ctrs, a->n_ctrs * sizeof(a->ctrs[0]));
}

START_TEST(test_file_name)
{
	char name[64];

	state_file_name(4026532000UL, name, sizeof(name));
	ck_assert_str_eq(name, "netns-4026532000.json");
	state_file_name(1, name, sizeof(name));
	ck_assert_str_eq(name, "netns-1.json");
}
END_TEST

START_TEST(test_json_roundtrip)
{
	struct state_rec rec, back;
	json_t *obj;

	make_rec(&rec, 4026532001UL, "abc", "def");
	obj = state_to_json(&rec);
	ck_assert_ptr_nonnull(obj);
	ck_assert_int_eq(json_integer_value(json_object_get(obj, "netns_inode")), 4026532001LL);
	ck_assert_str_eq(json_string_value(json_object_get(obj, "mode")), "tap");
	ck_assert_uint_eq(json_array_size(json_object_get(obj, "containers")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(obj, "ports"), 0), "ex_name")),
			 "vex4321-0");
	ck_assert_int_eq(state_from_json(obj, &back), 0);
	assert_rec_eq(&rec, &back);
	json_decref(obj);
	state_rec_free(&back);
	state_rec_free(&rec);
	ck_assert_ptr_null(rec.ctrs);
}
END_TEST

/* The record JSON with one member replaced (or removed when value is NULL). */
static json_t *mutated(const char *path, const char *key, json_t *value)
{
	struct state_rec rec;
	json_t *obj, *at;

	make_rec(&rec, 77, "abc", NULL);
	obj = state_to_json(&rec);
	state_rec_free(&rec);
	ck_assert_ptr_nonnull(obj);
	at = obj;
	if (strcmp(path, "ports0") == 0)
		at = json_array_get(json_object_get(obj, "ports"), 0);
	else if (strcmp(path, "ctrs0") == 0)
		at = json_array_get(json_object_get(obj, "containers"), 0);
	if (value)
		json_object_set_new(at, key, value);
	else
		json_object_del(at, key);
	return obj;
}

static void expect_invalid(json_t *obj, const char *needle)
{
	struct state_rec rec;

	err_clear();
	ck_assert_int_eq(state_from_json(obj, &rec), -EINVAL);
	ck_assert_msg(strstr(err_msg(), needle), "message \"%s\" lacks \"%s\"", err_msg(), needle);
	ck_assert_ptr_null(rec.ctrs);
	ck_assert_uint_eq(rec.n_ctrs, 0);
	json_decref(obj);
}

START_TEST(test_from_json_errors)
{
	char big[300];

	memset(big, 'x', 256);
	big[256] = '\0';
	expect_invalid(json_array(), "state: record is not a JSON object");
	expect_invalid(mutated("", "netns_inode", NULL), "state: key \"netns_inode\" is missing");
	expect_invalid(mutated("", "netns_inode", json_integer(0)),
		       "state: key \"netns_inode\" must be between 1 and");
	expect_invalid(mutated("", "netns_inode", json_string("77")),
		       "state: key \"netns_inode\" must be a non-negative integer");
	expect_invalid(mutated("", "pid", json_integer(-1)), "state: key \"pid\" must be between");
	expect_invalid(mutated("", "pid", json_real(1.5)),
		       "state: key \"pid\" must be a non-negative integer");
	expect_invalid(mutated("", "mode", json_string("drop")),
		       "state: key \"mode\" must be off, pass, tap or fwd");
	expect_invalid(mutated("", "mode", NULL), "state: key \"mode\" is missing");
	expect_invalid(mutated("", "backend", json_string("0123456789abcdef")),
		       "state: key \"backend\" is longer than 15 bytes");
	expect_invalid(mutated("", "netns_path", json_null()),
		       "state: key \"netns_path\" must be a string");
	expect_invalid(mutated("", "ports", json_object()),
		       "state: key \"ports\" must be an array");
	expect_invalid(mutated("", "containers", NULL), "state: key \"containers\" is missing");
	expect_invalid(mutated("ports0", "ex_name", json_string("0123456789abcdef")),
		       "state: ports[0]: key \"ex_name\" is longer than 15 bytes");
	expect_invalid(mutated("ports0", "name", json_string("")),
		       "state: ports[0]: key \"name\" is empty");
	expect_invalid(mutated("ports0", "mac", json_string("02:42:ac:11:00")),
		       "state: ports[0]: key \"mac\" is not of the form");
	expect_invalid(mutated("ports0", "mac", json_string("02:42:ac:11:00:zz")),
		       "state: ports[0]: key \"mac\" is not of the form");
	expect_invalid(mutated("ports0", "in_ifindex", json_integer(-5)),
		       "state: ports[0]: key \"in_ifindex\" must be between 0 and 2147483647");
	expect_invalid(mutated("ports0", "kind", NULL), "state: ports[0]: key \"kind\" is missing");
	expect_invalid(mutated("ctrs0", "id", json_string("")),
		       "state: containers[0]: key \"id\" is empty");
	expect_invalid(mutated("ctrs0", "group", json_string(big)),
		       "state: containers[0]: key \"group\" is longer than 255 bytes");
	expect_invalid(mutated("ctrs0", "pid", json_string("12")),
		       "state: containers[0]: key \"pid\" must be a non-negative integer");
}
END_TEST

START_TEST(test_addrs_optional_and_checked)
{
	json_t *old = mutated("ports0", "addrs", NULL);
	struct state_rec rec;

	/* records written before addresses were recorded still load */
	ck_assert_int_eq(state_from_json(old, &rec), 0);
	ck_assert_uint_eq(rec.ports[0].n_addrs, 0);
	state_rec_free(&rec);
	json_decref(old);
	expect_invalid(mutated("ports0", "addrs", json_string("10.0.0.1/8")),
		       "\"addrs\" must be an array");
	expect_invalid(mutated("ports0", "addrs", json_pack("[i]", 5)),
		       "\"addrs\" must be a string");
}
END_TEST

START_TEST(test_name_optional)
{
	json_t *old = mutated("ctrs0", "name", NULL);
	struct state_rec rec;

	/* records written before names were recorded still load */
	ck_assert_int_eq(state_from_json(old, &rec), 0);
	ck_assert_str_eq(rec.ctrs[0].name, "");
	ck_assert_str_eq(rec.ctrs[0].id, "abc");
	state_rec_free(&rec);
	json_decref(old);
	expect_invalid(mutated("ctrs0", "name", json_integer(3)), "\"name\" must be a string");
}
END_TEST

/* A pod's sandbox entry says so; others carry no such key, and records without it load. */
START_TEST(test_sandbox_flag)
{
	struct state_rec rec, back;
	struct state_ctr c = make_ctr("pod-1", 77, "web");
	json_t *obj, *ctrs;

	make_rec(&rec, 4026532009UL, "abc", NULL);
	c.sandbox = true;
	ck_assert_int_eq(state_add_ctr(&rec, &c), 0);
	obj = state_to_json(&rec);
	ck_assert_ptr_nonnull(obj);
	ctrs = json_object_get(obj, "containers");
	ck_assert_ptr_null(json_object_get(json_array_get(ctrs, 0), "sandbox"));
	ck_assert(json_is_true(json_object_get(json_array_get(ctrs, 1), "sandbox")));
	ck_assert_int_eq(state_from_json(obj, &back), 0);
	ck_assert(!back.ctrs[0].sandbox);
	ck_assert(back.ctrs[1].sandbox);
	assert_rec_eq(&rec, &back);
	state_rec_free(&back);
	json_decref(obj);
	state_rec_free(&rec);
	expect_invalid(mutated("ctrs0", "sandbox", json_string("yes")), "\"sandbox\"");
}
END_TEST

/* put: a new id is appended, a known one replaced in place. */
START_TEST(test_put_ctr)
{
	struct state_rec rec;
	struct state_ctr c = make_ctr("def", 9, "db");

	make_rec(&rec, 4026532010UL, "abc", "def");
	ck_assert_int_eq(state_put_ctr(&rec, &c), 0);
	ck_assert_uint_eq(rec.n_ctrs, 2);
	ck_assert_str_eq(rec.ctrs[1].group, "db");
	ck_assert_int_eq(rec.ctrs[1].pid, 9);
	c = make_ctr("ghi", 10, "");
	ck_assert_int_eq(state_put_ctr(&rec, &c), 0);
	ck_assert_uint_eq(rec.n_ctrs, 3);
	ck_assert_str_eq(rec.ctrs[2].id, "ghi");
	ck_assert_str_eq(rec.ctrs[0].id, "abc");
	state_rec_free(&rec);
}
END_TEST

START_TEST(test_from_json_too_many_ports)
{
	json_t *obj = mutated("", "netns_path", json_string("/x"));
	json_t *ports = json_object_get(obj, "ports");
	json_t *port = json_array_get(ports, 0);
	struct state_rec rec;

	while (json_array_size(ports) < STATE_MAX_PORTS)
		json_array_append(ports, port);
	ck_assert_int_eq(state_from_json(obj, &rec), 0);
	ck_assert_uint_eq(rec.n_ports, STATE_MAX_PORTS);
	state_rec_free(&rec);
	json_array_append(ports, port);
	expect_invalid(obj, "state: key \"ports\" has 1025 entries, at most 1024");
}
END_TEST

/* The file is the readable, indented JSON form. */
static void assert_file_has(const char *path, const char *needle)
{
	char buf[4096];
	size_t n;
	FILE *f;

	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	ck_assert_msg(strstr(buf, needle), "%s lacks %s", path, needle);
}

START_TEST(test_save_load)
{
	struct state_rec rec, back;
	char path[128];
	struct stat sb;
	DIR *d;
	struct dirent *de;
	int n = 0;

	make_dir();
	make_rec(&rec, 4026532002UL, "abc", "def");
	ck_assert_int_eq(state_save(dir, &rec), 0);
	snprintf(path, sizeof(path), "%s/netns-4026532002.json", dir);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	assert_file_has(path, "\"netns_inode\": 4026532002,\n");
	assert_file_has(path, "\"ex_name\": \"vex4321-1.2\"");
	ck_assert_int_eq(state_load(dir, 4026532002UL, &back), 0);
	assert_rec_eq(&rec, &back);
	state_rec_free(&back);
	/* overwrite: the new content replaces the old */
	state_del_ctr(&rec, 0);
	rec.mode = MODE_FWD;
	ck_assert_int_eq(state_save(dir, &rec), 0);
	ck_assert_int_eq(state_load(dir, 4026532002UL, &back), 0);
	assert_rec_eq(&rec, &back);
	ck_assert_str_eq(back.ctrs[0].id, "def");
	state_rec_free(&back);
	state_rec_free(&rec);
	/* no temporary file is left behind */
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	ck_assert_int_eq(n, 1);
	remove_dir();
}
END_TEST

START_TEST(test_save_errors)
{
	struct state_rec rec;

	make_dir();
	make_rec(&rec, 5, NULL, NULL);
	rec.n_ports = STATE_MAX_PORTS + 1;
	ck_assert_int_eq(state_save(dir, &rec), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err_msg(), "1025 ports, at most 1024"));
	rec.n_ports = 1;
	strcpy(rec.ports[0].name, "eth\xff");
	ck_assert_int_eq(state_save(dir, &rec), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err_msg(), "state: encode"));
	strcpy(rec.ports[0].name, "eth0");
	rec.mode = (enum pc_mode)7;
	ck_assert_int_eq(state_save(dir, &rec), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err_msg(), "mode 7 is not a mode"));
	rec.mode = MODE_OFF;
	ck_assert_int_eq(state_save("/nonexistent-portcullis-dir", &rec), -ENOENT);
	ck_assert_int_eq(state_load(dir, 5, &rec), -ENOENT);
	ck_assert_ptr_null(rec.ctrs);
	remove_dir();
}
END_TEST

START_TEST(test_load_bad_files)
{
	char from[128], to[128];
	struct state_rec rec;

	make_dir();
	write_text("netns-5.json", "{\"netns_inode\": 5,");
	ck_assert_int_eq(state_load(dir, 5, &rec), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err_msg(), "netns-5.json: line"));
	write_text("netns-6.json", "{\"netns_inode\": 6}");
	ck_assert_int_eq(state_load(dir, 6, &rec), -EINVAL);
	ck_assert_ptr_nonnull(
		strstr(err_msg(), "netns-6.json: state: key \"netns_path\" is missing"));
	make_rec(&rec, 7, "abc", NULL);
	ck_assert_int_eq(state_save(dir, &rec), 0);
	state_rec_free(&rec);
	snprintf(from, sizeof(from), "%s/netns-7.json", dir);
	snprintf(to, sizeof(to), "%s/netns-8.json", dir);
	ck_assert_int_eq(rename(from, to), 0);
	ck_assert_int_eq(state_load(dir, 8, &rec), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err_msg(), "netns_inode 7 does not match the file name"));
	ck_assert_ptr_null(rec.ctrs);
	remove_dir();
}
END_TEST

START_TEST(test_remove)
{
	struct state_rec rec;

	make_dir();
	make_rec(&rec, 9, NULL, NULL);
	ck_assert_int_eq(state_save(dir, &rec), 0);
	ck_assert_int_eq(state_remove(dir, 9), 0);
	ck_assert_int_eq(state_load(dir, 9, &rec), -ENOENT);
	ck_assert_int_eq(state_remove(dir, 9), 0); /* already gone counts as done */
	remove_dir();
}
END_TEST

START_TEST(test_list)
{
	struct state_rec rec, *recs;
	unsigned long seen = 0;
	size_t n;

	make_dir();
	make_rec(&rec, 11, "a1", NULL);
	ck_assert_int_eq(state_save(dir, &rec), 0);
	state_rec_free(&rec);
	make_rec(&rec, 12, "b1", "b2");
	ck_assert_int_eq(state_save(dir, &rec), 0);
	state_rec_free(&rec);
	write_text("lock", "");
	write_text("notes.txt", "{}");
	write_text("netns-abc.json", "{}");
	write_text("netns-012.json", "{}");
	write_text("netns-13.json.bak", "{}");
	write_text("netns-14.json", "garbage"); /* warned about and skipped */
	ck_assert_int_eq(state_list(dir, &recs, &n), 0);
	ck_assert_uint_eq(n, 2);
	for (size_t i = 0; i < n; i++)
		seen |= 1UL << recs[i].ns_ino;
	ck_assert_uint_eq(seen, (1UL << 11) | (1UL << 12));
	state_list_free(recs, n);
	remove_dir();

	ck_assert_int_eq(state_list("/nonexistent-portcullis-dir", &recs, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(recs);
}
END_TEST

START_TEST(test_find_ctr)
{
	struct state_rec rec;
	size_t idx;

	make_dir();
	make_rec(&rec, 21, "abc123", "abd456");
	ck_assert_int_eq(state_save(dir, &rec), 0);
	state_rec_free(&rec);
	make_rec(&rec, 22, "abc", "fff");
	ck_assert_int_eq(state_save(dir, &rec), 0);
	state_rec_free(&rec);

	ck_assert_int_eq(state_find_ctr(dir, "abd456", true, &rec, &idx), 0);
	ck_assert_uint_eq(rec.ns_ino, 21);
	ck_assert_uint_eq(idx, 1);
	ck_assert_str_eq(rec.ctrs[idx].id, "abd456");
	state_rec_free(&rec);

	ck_assert_int_eq(state_find_ctr(dir, "abd", true, &rec, &idx), -ENOENT);
	ck_assert_int_eq(state_find_ctr(dir, "abd", false, &rec, &idx), 0);
	ck_assert_str_eq(rec.ctrs[idx].id, "abd456");
	state_rec_free(&rec);

	/* "abc" is a full id and a prefix of "abc123": the full id wins */
	ck_assert_int_eq(state_find_ctr(dir, "abc", false, &rec, &idx), 0);
	ck_assert_uint_eq(rec.ns_ino, 22);
	ck_assert_uint_eq(idx, 0);
	state_rec_free(&rec);

	ck_assert_int_eq(state_find_ctr(dir, "ab", false, &rec, &idx), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err_msg(), "prefix \"ab\" is ambiguous"));
	ck_assert_int_eq(state_find_ctr(dir, "zzz", false, &rec, &idx), -ENOENT);
	ck_assert_int_eq(state_find_ctr(dir, "", false, &rec, &idx), -EINVAL);
	ck_assert_ptr_null(rec.ctrs);
	remove_dir();
}
END_TEST

START_TEST(test_add_del_ctr)
{
	struct state_rec rec;
	struct state_ctr c = make_ctr("x", 1, "");

	make_rec(&rec, 31, "a", "b");
	ck_assert_int_eq(state_add_ctr(&rec, &c), 0);
	ck_assert_uint_eq(rec.n_ctrs, 3);
	ck_assert_int_eq(state_add_ctr(&rec, &c), -EEXIST);
	ck_assert_uint_eq(rec.n_ctrs, 3);
	state_del_ctr(&rec, 1);
	ck_assert_uint_eq(rec.n_ctrs, 2);
	ck_assert_str_eq(rec.ctrs[0].id, "a");
	ck_assert_str_eq(rec.ctrs[1].id, "x");
	state_del_ctr(&rec, 5); /* out of range: nothing */
	ck_assert_uint_eq(rec.n_ctrs, 2);
	state_del_ctr(&rec, 1);
	state_del_ctr(&rec, 0);
	ck_assert_uint_eq(rec.n_ctrs, 0);
	ck_assert_ptr_null(rec.ctrs);
	state_rec_free(&rec);
}
END_TEST

START_TEST(test_lock)
{
	char sub[128], path[160];
	struct stat sb;
	int fd, other;

	make_dir();
	snprintf(sub, sizeof(sub), "%s/a/b/c", dir);
	fd = state_lock(sub);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(stat(sub, &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	ck_assert_int_eq(sb.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/lock", sub);
	other = open(path, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(other, 0);
	ck_assert_int_eq(flock(other, LOCK_EX | LOCK_NB), -1);
	ck_assert_int_eq(errno, EWOULDBLOCK);
	state_unlock(fd);
	ck_assert_int_eq(flock(other, LOCK_EX | LOCK_NB), 0);
	close(other);
	/* the directory exists now: locking again works */
	fd = state_lock(sub);
	ck_assert_int_ge(fd, 0);
	state_unlock(fd);
	ck_assert_int_eq(state_lock(""), -EINVAL);
	snprintf(path, sizeof(path), "%s/a/b/c/lock/x", dir);
	ck_assert_int_eq(state_lock(path), -ENOTDIR);
	remove_dir();
}
END_TEST

/* The holder's note: in the lock file while held, in the message of one who gave up, gone after. */
START_TEST(test_lock_note)
{
	char path[160], note[256], want[64];
	struct stat sb;
	ssize_t n;
	int fd, other, rd;

	make_dir();
	fd = state_lock_as(dir, 100, "prestart of container abc");
	ck_assert_int_ge(fd, 0);
	snprintf(path, sizeof(path), "%s/lock", dir);
	rd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(rd, 0);
	n = pread(rd, note, sizeof(note) - 1, 0);
	ck_assert_int_gt(n, 0);
	note[n] = '\0';
	snprintf(want, sizeof(want), "pid %d (", (int)getpid());
	ck_assert_ptr_eq(strstr(note, want), note);
	ck_assert_ptr_nonnull(strstr(note, "), prestart of container abc, since 20"));
	/* flock is per open file: a second open in this process waits like another process */
	other = state_lock_as(dir, 20, "poststop of container def");
	ck_assert_int_eq(other, -ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(err_msg(), want));
	ck_assert_ptr_nonnull(strstr(err_msg(), "prestart of container abc, since "));
	state_unlock(fd);
	ck_assert_int_eq(fstat(rd, &sb), 0);
	ck_assert_int_eq(sb.st_size, 0);
	close(rd);
	remove_dir();
}
END_TEST

/* The lock with a patience: taken when free, -ETIMEDOUT after the wait when held. */
START_TEST(test_lock_wait)
{
	struct timespec t0, t1;
	long ms;
	int fd, other;

	make_dir();
	fd = state_lock_wait(dir, 100);
	ck_assert_int_ge(fd, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	other = state_lock_wait(dir, 150);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ck_assert_int_eq(other, -ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(err_msg(), "still held after 150 ms by pid "));
	ck_assert_int_ge(ms, 145); /* whole milliseconds, cut */
	ck_assert_int_lt(ms, 1000);
	state_unlock(fd);
	other = state_lock_wait(dir, 0);
	ck_assert_int_ge(other, 0);
	state_unlock(other);
	remove_dir();
}
END_TEST

static Suite *state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tj = tcase_create("json");
	TCase *tf = tcase_create("files");

	tcase_add_test(tj, test_file_name);
	tcase_add_test(tj, test_json_roundtrip);
	tcase_add_test(tj, test_from_json_errors);
	tcase_add_test(tj, test_addrs_optional_and_checked);
	tcase_add_test(tj, test_name_optional);
	tcase_add_test(tj, test_sandbox_flag);
	tcase_add_test(tj, test_put_ctr);
	tcase_add_test(tj, test_from_json_too_many_ports);
	tcase_add_test(tj, test_add_del_ctr);
	suite_add_tcase(s, tj);
	tcase_add_test(tf, test_save_load);
	tcase_add_test(tf, test_save_errors);
	tcase_add_test(tf, test_load_bad_files);
	tcase_add_test(tf, test_remove);
	tcase_add_test(tf, test_list);
	tcase_add_test(tf, test_find_ctr);
	tcase_add_test(tf, test_lock);
	tcase_add_test(tf, test_lock_wait);
	tcase_add_test(tf, test_lock_note);
	suite_add_tcase(s, tf);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(state_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
