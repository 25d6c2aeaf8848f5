/* SPDX-License-Identifier: Apache-2.0 */
/* A workload's annotations, taken as far as the configuration says. */
#include "trust.h"

#include "lib/core/err.h"
#include "lib/core/log.h"

enum pc_mode trust_mode(const struct pc_config *cfg, const char *value, const char *what,
			const char *who)
{
	char shown[ERR_SHOWN_MAX];
	enum pc_mode mode = cfg->mode;

	if (!value || !value[0])
		return cfg->mode;
	err_shown(value, shown, sizeof(shown));
	if (!cfg->allow_mode_annotation)
		pr_info("%s %s: annotation %s=%s ignored (allow_mode_annotation is false): mode %s",
			what, who, TRUST_MODE_KEY, shown, config_mode_name(cfg->mode));
	else if (config_parse_mode(value, &mode) < 0)
		pr_warn("%s %s: annotation %s=%s is not off, pass, tap or fwd: mode %s", what, who,
			TRUST_MODE_KEY, shown, config_mode_name(cfg->mode));
	return mode;
}
