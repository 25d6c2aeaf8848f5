/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The configuration file: a JSON object whose keys are listed in keys[].
 * Every key is optional, every unknown key is an error, and a failing parse
 * leaves the caller's configuration untouched (we work on a copy).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fsutil.h"
#include "jfield.h"
#include "util.h"

#define CONFIG_FILE_MAX (1024 * 1024)

static const char *const mode_names[] = { "off", "pass", "tap", "fwd" };
static const char *const backend_names[] = { "auto", "bpf", "tc-pedit" };
static const char *const open_closed[] = { "open", "closed" };
static const char *const source_check_names[] = { "strict", "mac", "off" };

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

void config_defaults(struct pc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	copy_str(cfg->enforcer_netns, sizeof(cfg->enforcer_netns), "/run/netns/portcullis");
	copy_str(cfg->state_dir, sizeof(cfg->state_dir), "/run/portcullis");
	copy_str(cfg->bpf_pin_dir, sizeof(cfg->bpf_pin_dir), "/sys/fs/bpf/portcullis");
	cfg->mode = MODE_FWD;
	cfg->on_failure_closed = false;
	cfg->dp_down_closed = false;
	cfg->backend = BACKEND_AUTO;
	copy_str(cfg->bridge_port, sizeof(cfg->bridge_port), "vbr-neuv");
	copy_str(cfg->dp_port, sizeof(cfg->dp_port), "vth-neuv");
	cfg->jumbo = false;
	cfg->peer_redirect = true;
	copy_str(cfg->policy, sizeof(cfg->policy), "/etc/portcullis/policy.json");
	cfg->policy_watch = false;
	copy_str(cfg->ctl_socket, sizeof(cfg->ctl_socket), "/run/portcullis/dp.sock");
	copy_str(cfg->session_log, sizeof(cfg->session_log), "-");
	cfg->workers = 0;
	cfg->max_sessions = 1000000;
	cfg->log_level = LOG_INFO;
	cfg->threat_detection = true;
	cfg->ring_block_kb = 256;
	cfg->ring_blocks = 32;
	cfg->ring_retire_ms = 1;
	cfg->quick_max = 512;
	cfg->bypass_after_kb = 1024;
	cfg->source_check = SOURCE_CHECK_STRICT;
	cfg->allow_mode_annotation = false;
	cfg->provisional_bytes = 4096;
	cfg->reassembly_kb = 32;
	cfg->lock_timeout_ms = 10000;
}

static int name_index(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

const char *config_mode_name(enum pc_mode mode)
{
	if ((unsigned)mode >= ARRAY_SIZE(mode_names))
		return "?";
	return mode_names[mode];
}

int config_parse_mode(const char *s, enum pc_mode *out)
{
	int i = name_index(s, mode_names, ARRAY_SIZE(mode_names));

	if (i < 0)
		return err_set(-EINVAL, "mode must be off, pass, tap or fwd");
	*out = (enum pc_mode)i;
	return 0;
}

const char *config_source_check_name(enum pc_source_check c)
{
	if ((unsigned)c >= ARRAY_SIZE(source_check_names))
		return "?";
	return source_check_names[c];
}

const char *config_backend_name(enum pc_backend b)
{
	if ((unsigned)b >= ARRAY_SIZE(backend_names))
		return "?";
	return backend_names[b];
}

/* ---- the keys ---- */

static int check_path(void *base, const json_t *v, const struct jfield *f, const char *where)
{
	const char *s = json_string_value(v);

	if (!s[0])
		return err_set(-EINVAL, "%s: key \"%s\" must not be empty", where, f->key);
	if (s[0] != '/')
		return err_set(-EINVAL, "%s: key \"%s\" must be an absolute path", where, f->key);
	return 0;
}

static int check_logdest(void *base, const json_t *v, const struct jfield *f, const char *where)
{
	const char *s = json_string_value(v);

	if (!s[0])
		return err_set(-EINVAL, "%s: key \"%s\" must not be empty", where, f->key);
	if (s[0] != '/' && strcmp(s, "-") != 0)
		return err_set(-EINVAL, "%s: key \"%s\" must be an absolute path or \"-\"", where,
			       f->key);
	return 0;
}

/* The kernel's dev_valid_name(), with our length bound. */
static int check_ifname(void *base, const json_t *v, const struct jfield *f, const char *where)
{
	const char *s = json_string_value(v);

	if (!s[0])
		return err_set(-EINVAL, "%s: key \"%s\" must not be empty", where, f->key);
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strpbrk(s, "/: \t\n\v\f\r"))
		return err_set(-EINVAL,
			       "%s: key \"%s\" is not a valid interface name "
			       "(no '/', ':', white space, \".\" or \"..\")",
			       where, f->key);
	return 0;
}

/* The index of v's string among names, or -EINVAL saying which are allowed. */
static int name_of(const json_t *v, const char *const *names, size_t n, const struct jfield *f,
		   const char *expect, const char *where)
{
	int i = json_is_string(v) ? name_index(json_string_value(v), names, n) : -1;

	if (!json_is_string(v))
		return err_set(-EINVAL, "%s: key \"%s\" must be a string", where, f->key);
	if (i < 0)
		return err_set(-EINVAL, "%s: key \"%s\" must be %s", where, f->key, expect);
	return i;
}

static int read_mode(void *base, const json_t *v, const struct jfield *f, const char *where)
{
	int i = name_of(v, mode_names, ARRAY_SIZE(mode_names), f, "off, pass, tap or fwd", where);

	if (i >= 0)
		*(enum pc_mode *)((char *)base + f->off) = (enum pc_mode)i;
	return i < 0 ? i : 0;
}

static int read_open_closed(void *base, const json_t *v, const struct jfield *f, const char *where)
{
	int i = name_of(v, open_closed, ARRAY_SIZE(open_closed), f, "open or closed", where);

	if (i >= 0)
		*(bool *)((char *)base + f->off) = i == 1;
	return i < 0 ? i : 0;
}

static int read_backend(void *base, const json_t *v, const struct jfield *f, const char *where)
{
	int i = name_of(v, backend_names, ARRAY_SIZE(backend_names), f, "auto, bpf or tc-pedit",
			where);

	if (i >= 0)
		*(enum pc_backend *)((char *)base + f->off) = (enum pc_backend)i;
	return i < 0 ? i : 0;
}

static int read_source_check(void *base, const json_t *v, const struct jfield *f, const char *where)
{
	int i = name_of(v, source_check_names, ARRAY_SIZE(source_check_names), f,
			"strict, mac or off", where);

	if (i >= 0)
		*(enum pc_source_check *)((char *)base + f->off) = (enum pc_source_check)i;
	return i < 0 ? i : 0;
}

static int read_log_level(void *base, const json_t *v, const struct jfield *f, const char *where)
{
	enum log_level level;

	if (!json_is_string(v))
		return err_set(-EINVAL, "%s: key \"%s\" must be a string", where, f->key);
	if (log_parse_level(json_string_value(v), &level) < 0)
		return err_set(-EINVAL, "%s: key \"%s\" must be error, warn, info or debug", where,
			       f->key);
	*(enum log_level *)((char *)base + f->off) = level;
	return 0;
}

#define KEY_AS(name, member, kind, check)                                                          \
	{                                                                                          \
		name, kind, JF_FIELD(struct pc_config, member), 0, 0, check, false                 \
	}
#define KEY(member, kind, check) KEY_AS(#member, member, kind, check)
#define KEY_UINT(member, lo, hi)                                                                   \
	{                                                                                          \
#member, JF_INT, JF_FIELD(struct pc_config, member), lo, hi, NULL, false           \
	}

static const struct jfield keys[] = {
	KEY(enforcer_netns, JF_STR, check_path),
	KEY(state_dir, JF_STR, check_path),
	KEY(bpf_pin_dir, JF_STR, check_path),
	KEY(mode, JF_FN, read_mode),
	KEY_AS("on_failure", on_failure_closed, JF_FN, read_open_closed),
	KEY_AS("dp_down", dp_down_closed, JF_FN, read_open_closed),
	KEY(backend, JF_FN, read_backend),
	KEY(bridge_port, JF_STR, check_ifname),
	KEY(dp_port, JF_STR, check_ifname),
	KEY(jumbo, JF_BOOL, NULL),
	KEY(peer_redirect, JF_BOOL, NULL),
	KEY(policy, JF_STR, check_path),
	KEY(policy_watch, JF_BOOL, NULL),
	KEY(ctl_socket, JF_STR, check_path),
	KEY(session_log, JF_STR, check_logdest),
	KEY_UINT(workers, 0, 1024),
	KEY_UINT(max_sessions, 1, 4294967295LL),
	KEY(log_level, JF_FN, read_log_level),
	KEY(threat_detection, JF_BOOL, NULL),
	KEY_UINT(ring_block_kb, 128, 8192),
	KEY_UINT(ring_blocks, 2, 1024),
	KEY_UINT(ring_retire_ms, 1, 1000),
	KEY_UINT(quick_max, 0, 1500),
	KEY_UINT(bypass_after_kb, 0, 4194304),
	KEY(source_check, JF_FN, read_source_check),
	KEY(allow_mode_annotation, JF_BOOL, NULL),
	KEY_UINT(provisional_bytes, 0, 16777216),
	KEY_UINT(reassembly_kb, 1, 16384),
	KEY_UINT(lock_timeout_ms, 1, 600000),
};

_Static_assert(sizeof(unsigned) == sizeof(int) && sizeof(unsigned long) == sizeof(long),
	       "unsigned keys are stored by jfield as int or long");

int config_parse(struct pc_config *cfg, const char *json, size_t len, const char *origin)
{
	struct pc_config tmp = *cfg;
	char where[PATH_MAX + 16];
	json_error_t jerr;
	json_t *root;
	int ret;

	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return err_set(-EINVAL, "config %s: line %d column %d: %s", origin, jerr.line,
			       jerr.column, jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return err_set(-EINVAL, "config %s: top level must be an object", origin);
	}
	snprintf(where, sizeof(where), "config %s", origin);
	ret = jfield_read(root, &tmp, keys, ARRAY_SIZE(keys), 0, where);
	json_decref(root);
	if (ret == 0 && strcmp(tmp.bridge_port, tmp.dp_port) == 0)
		ret = err_set(-EINVAL,
			      "config %s: keys \"bridge_port\" and \"dp_port\" must differ",
			      origin);
	if (ret == 0)
		*cfg = tmp;
	return ret;
}

static int read_file(const char *path, char **buf, size_t *len)
{
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	ret = fs_read_all(fd, CONFIG_FILE_MAX, buf, len);
	close(fd);
	return ret;
}

int config_load(struct pc_config *cfg, const char *path)
{
	bool is_default = false;
	char *buf = NULL;
	size_t len = 0;
	int ret;

	config_defaults(cfg);
	if (path && !*path)
		return err_set(-EINVAL, "config: empty file name");
	if (!path)
		path = getenv(CONFIG_ENV);
	if (!path || !*path) {
		path = CONFIG_DEFAULT_PATH;
		is_default = true;
	}
	ret = read_file(path, &buf, &len);
	if (ret == -ENOENT && is_default)
		return 0;
	if (ret == -EFBIG)
		return err_set(ret, "config %s: larger than 1 MiB", path);
	if (ret < 0)
		return err_set(ret, "config %s", path);
	ret = config_parse(cfg, buf, len, path);
	free(buf);
	return ret;
}
