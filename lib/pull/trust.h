/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_TRUST_H
#define PORTCULLIS_TRUST_H

/*
 * How far a workload's own words are trusted; one rule for the hook and
 * portcullis-nri.
 */

#include "lib/core/config.h"

#define TRUST_MODE_KEY "io.portcullis.mode"

/*
 * The mode for a workload whose io.portcullis.mode annotation is value
 * (NULL or "" when it has none): the configuration's, unless
 * allow_mode_annotation lets a valid value choose.  An annotation that is
 * ignored or not a mode is said in one line naming the workload, as
 * "<what> <who>" (what: "container" or "pod").
 */
enum pc_mode trust_mode(const struct pc_config *cfg, const char *value, const char *what,
			const char *who);

#endif
