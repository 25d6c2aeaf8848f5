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
#include "util.h"

#define CONFIG_FILE_MAX (1024 * 1024)

static const char *const mode_names[] = { "off", "pass", "tap", "fwd" };
static const char *const backend_names[] = { "auto", "bpf", "tc-pedit" };
static const char *const open_closed[] = { "open", "closed" };

enum key_kind {
	K_PATH,    /* absolute path */
	K_LOGDEST, /* absolute path or "-" */
	K_IFNAME,  /* network interface name */
	K_MODE,
	K_OPEN_CLOSED,
	K_BACKEND,
	K_LOG_LEVEL,
	K_BOOL,
	K_UINT, /* an integer in [min, max] */
};

struct key_desc {
	const char *name;
	enum key_kind kind;
	size_t off;
	size_t size;
	unsigned long min, max; /* K_UINT */
};

#define KEY(field, kind) \
	{ #field, kind, offsetof(struct pc_config, field), \
	  sizeof(((struct pc_config *)0)->field), 0, 0 }
#define KEY_AS(name, field, kind) \
	{ name, kind, offsetof(struct pc_config, field), \
	  sizeof(((struct pc_config *)0)->field), 0, 0 }
#define KEY_UINT(field, lo, hi) \
	{ #field, K_UINT, offsetof(struct pc_config, field), \
	  sizeof(((struct pc_config *)0)->field), lo, hi }

static const struct key_desc keys[] = {
	KEY(enforcer_netns, K_PATH),
	KEY(state_dir, K_PATH),
	KEY(bpf_pin_dir, K_PATH),
	KEY(mode, K_MODE),
	KEY_AS("on_failure", on_failure_closed, K_OPEN_CLOSED),
	KEY_AS("dp_down", dp_down_closed, K_OPEN_CLOSED),
	KEY(backend, K_BACKEND),
	KEY(bridge_port, K_IFNAME),
	KEY(dp_port, K_IFNAME),
	KEY(jumbo, K_BOOL),
	KEY(peer_redirect, K_BOOL),
	KEY(policy, K_PATH),
	KEY(ctl_socket, K_PATH),
	KEY(session_log, K_LOGDEST),
	KEY_UINT(workers, 0, 1024),
	KEY_UINT(max_sessions, 1, 4294967295UL),
	KEY(log_level, K_LOG_LEVEL),
	KEY(threat_detection, K_BOOL),
	KEY_UINT(ring_block_kb, 128, 8192),
	KEY_UINT(ring_blocks, 2, 1024),
	KEY_UINT(ring_retire_ms, 1, 1000),
	KEY_UINT(quick_max, 0, 1500),
	KEY_UINT(bypass_after_kb, 0, 4194304),
};

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

const char *config_backend_name(enum pc_backend b)
{
	if ((unsigned)b >= ARRAY_SIZE(backend_names))
		return "?";
	return backend_names[b];
}

static int bad_type(const char *origin, const char *key, const char *what)
{
	return err_set(-EINVAL, "config %s: key \"%s\" must be %s", origin, key, what);
}

static int set_path(char *dst, const struct key_desc *k, const char *s, const char *origin)
{
	size_t n = strlen(s);

	if (n == 0)
		return err_set(-EINVAL, "config %s: key \"%s\" must not be empty", origin, k->name);
	if (s[0] != '/' && !(k->kind == K_LOGDEST && strcmp(s, "-") == 0))
		return bad_type(origin, k->name,
				k->kind == K_LOGDEST ? "an absolute path or \"-\"" : "an absolute path");
	if (n >= k->size)
		return err_set(-EINVAL, "config %s: key \"%s\" is longer than %zu bytes", origin,
			       k->name, k->size - 1);
	memcpy(dst, s, n + 1);
	return 0;
}

/* The kernel's dev_valid_name(), with our length bound. */
static int set_ifname(char *dst, const struct key_desc *k, const char *s, const char *origin)
{
	size_t n = strlen(s);

	if (n == 0)
		return err_set(-EINVAL, "config %s: key \"%s\" must not be empty", origin, k->name);
	if (n >= k->size)
		return err_set(-EINVAL, "config %s: key \"%s\" is longer than %zu bytes", origin,
			       k->name, k->size - 1);
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strpbrk(s, "/: \t\n\v\f\r"))
		return err_set(-EINVAL,
			       "config %s: key \"%s\" is not a valid interface name "
			       "(no '/', ':', white space, \".\" or \"..\")",
			       origin, k->name);
	memcpy(dst, s, n + 1);
	return 0;
}

struct enum_desc {
	const char *const *names;
	size_t n;
	const char *expect;
};

static const struct enum_desc enums[] = {
	[K_MODE] = { mode_names, ARRAY_SIZE(mode_names), "off, pass, tap or fwd" },
	[K_OPEN_CLOSED] = { open_closed, ARRAY_SIZE(open_closed), "open or closed" },
	[K_BACKEND] = { backend_names, ARRAY_SIZE(backend_names), "auto, bpf or tc-pedit" },
	[K_LOG_LEVEL] = { NULL, 0, "error, warn, info or debug" },
};

static int set_enum(void *dst, const struct key_desc *k, const char *s, const char *origin)
{
	const struct enum_desc *e = &enums[k->kind];
	enum log_level level;
	int i;

	if (k->kind == K_LOG_LEVEL)
		i = log_parse_level(s, &level) < 0 ? -1 : (int)level;
	else
		i = name_index(s, e->names, e->n);
	if (i < 0)
		return err_set(-EINVAL, "config %s: key \"%s\" must be %s", origin, k->name,
			       e->expect);
	if (k->kind == K_OPEN_CLOSED)
		*(bool *)dst = i == 1;
	else if (k->kind == K_MODE)
		*(enum pc_mode *)dst = (enum pc_mode)i;
	else if (k->kind == K_BACKEND)
		*(enum pc_backend *)dst = (enum pc_backend)i;
	else
		*(enum log_level *)dst = (enum log_level)i;
	return 0;
}

static int set_string(struct pc_config *cfg, const struct key_desc *k, json_t *v,
		      const char *origin)
{
	char *dst = (char *)cfg + k->off;
	const char *s;

	if (!json_is_string(v))
		return bad_type(origin, k->name, "a string");
	s = json_string_value(v);
	switch (k->kind) {
	case K_PATH:
	case K_LOGDEST:
		return set_path(dst, k, s, origin);
	case K_IFNAME:
		return set_ifname(dst, k, s, origin);
	default:
		return set_enum(dst, k, s, origin);
	}
}

static int set_number(struct pc_config *cfg, const struct key_desc *k, json_t *v,
		      const char *origin)
{
	char *dst = (char *)cfg + k->off;
	json_int_t n;

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return bad_type(origin, k->name, "a non-negative integer");
	n = json_integer_value(v);
	if ((unsigned long long)n < k->min || (unsigned long long)n > k->max)
		return err_set(-EINVAL, "config %s: key \"%s\" must be between %lu and %lu",
			       origin, k->name, k->min, k->max);
	if (k->size == sizeof(unsigned))
		*(unsigned *)dst = (unsigned)n;
	else
		*(unsigned long *)dst = (unsigned long)n;
	return 0;
}

static int config_set_key(struct pc_config *cfg, const char *key, json_t *v, const char *origin)
{
	char buf[ERR_SHOWN_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const struct key_desc *k = &keys[i];

		if (strcmp(key, k->name) != 0)
			continue;
		if (k->kind == K_BOOL) {
			if (!json_is_boolean(v))
				return bad_type(origin, key, "true or false");
			*(bool *)((char *)cfg + k->off) = json_is_true(v);
			return 0;
		}
		if (k->kind == K_UINT)
			return set_number(cfg, k, v, origin);
		return set_string(cfg, k, v, origin);
	}
	return err_set(-EINVAL, "config %s: unknown key \"%s\"", origin, err_shown(key, buf, sizeof(buf)));
}

int config_parse(struct pc_config *cfg, const char *json, size_t len, const char *origin)
{
	struct pc_config tmp = *cfg;
	json_error_t jerr;
	const char *key;
	json_t *root, *v;
	int ret = 0;

	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return err_set(-EINVAL, "config %s: line %d column %d: %s", origin, jerr.line,
			       jerr.column, jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return err_set(-EINVAL, "config %s: top level must be an object", origin);
	}
	json_object_foreach(root, key, v) {
		ret = config_set_key(&tmp, key, v, origin);
		if (ret < 0)
			break;
	}
	json_decref(root);
	if (ret == 0 && strcmp(tmp.bridge_port, tmp.dp_port) == 0)
		ret = err_set(-EINVAL, "config %s: keys \"bridge_port\" and \"dp_port\" must differ",
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
