/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_CONFIG_H
#define PORTCULLIS_CONFIG_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "log.h"

#define CONFIG_DEFAULT_PATH "/etc/portcullis/portcullis.json"
#define CONFIG_ENV "PORTCULLIS_CONFIG"

enum pc_mode { MODE_OFF = 0, MODE_PASS, MODE_TAP, MODE_FWD };
enum pc_backend { BACKEND_AUTO = 0, BACKEND_BPF, BACKEND_TC_PEDIT };
/* source_check: what a frame from a container must carry to be let on */
enum pc_source_check {
	SOURCE_CHECK_STRICT = 0, /* the container's MAC and one of its own addresses */
	SOURCE_CHECK_MAC,	 /* the container's MAC */
	SOURCE_CHECK_OFF,	 /* nothing */
};

struct pc_config {
	char enforcer_netns[PATH_MAX];
	char state_dir[PATH_MAX];
	char bpf_pin_dir[PATH_MAX];
	enum pc_mode mode;
	bool on_failure_closed; /* on_failure: "open" (false) or "closed" (true) */
	bool dp_down_closed;	/* dp_down: "open" (false) or "closed" (true) */
	enum pc_backend backend;
	char bridge_port[IFNAMSIZ];
	char dp_port[IFNAMSIZ];
	bool jumbo;
	bool peer_redirect; /* forward straight into a veth's far end where the kernel allows */
	char policy[PATH_MAX];
	bool policy_watch; /* the data plane loads a new policy file by itself (inotify) */
	char ctl_socket[PATH_MAX];
	char session_log[PATH_MAX];
	unsigned workers;
	unsigned long max_sessions;
	enum log_level log_level;
	bool threat_detection; /* the data plane's threat detectors run */
	/* the data plane's receive path (dp/io/ring.h) */
	unsigned ring_block_kb;	  /* size of a ring block */
	unsigned ring_blocks;	  /* blocks per worker */
	unsigned ring_retire_ms;  /* a block with frames is handed over after this */
	unsigned quick_max;	  /* IP packets up to this size take the quick path; 0: none */
	unsigned bypass_after_kb; /* fwd sessions done with go to the kernel past this; 0: never */
	/* what a workload may not walk around (docs/interfaces.md, Configuration) */
	enum pc_source_check source_check;
	bool allow_mode_annotation; /* honour a workload's io.portcullis.mode */
	unsigned provisional_bytes; /* payload per direction while an app rule waits for the app */
	unsigned reassembly_kb;	    /* TCP reassembly window per direction */
	unsigned lock_timeout_ms;   /* longest wait for the state lock; past it on_failure */
};

/* Fill in the documented defaults. */
void config_defaults(struct pc_config *cfg);

/*
 * Parse a JSON configuration over the values already in cfg.  Unknown keys
 * and wrong types are errors naming the key (err_set, -EINVAL).  origin names
 * the source in messages.  On error cfg is left unchanged.
 */
int config_parse(struct pc_config *cfg, const char *json, size_t len, const char *origin);

/*
 * Defaults, then the file: path if not NULL, else $PORTCULLIS_CONFIG, else
 * CONFIG_DEFAULT_PATH, which alone may be missing (defaults hold).
 */
int config_load(struct pc_config *cfg, const char *path);

const char *config_mode_name(enum pc_mode mode);
int config_parse_mode(const char *s, enum pc_mode *out);
const char *config_backend_name(enum pc_backend b);
const char *config_source_check_name(enum pc_source_check c);

#endif
