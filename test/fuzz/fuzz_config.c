/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the configuration parser. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pc_config cfg, before;

	config_defaults(&cfg);
	before = cfg;
	if (config_parse(&cfg, (const char *)data, size, "fuzz") < 0) {
		/* a failed parse leaves the configuration untouched */
		if (memcmp(&cfg, &before, sizeof(cfg)) != 0)
			__builtin_trap();
		return 0;
	}
	if (cfg.state_dir[0] != '/' || !cfg.dp_port[0] || strlen(cfg.bridge_port) >= IFNAMSIZ)
		__builtin_trap();
	return 0;
}
