/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_CTL_SHOW_H
#define PORTCULLIS_DP_CTL_SHOW_H

/* portcullisctl's human output of a successful reply: tables, key/value. */

#include <jansson.h>
#include <stdio.h>

#include "dp/ctl/ctl_proto.h"

/* 0, or -EPROTO (message recorded) when the reply lacks what cmd returns. */
int ctl_show(enum ctl_cmd cmd, json_t *reply, FILE *f);

#endif
