#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# nri/nri.proto is wire-compatible with the NRI and ttrpc protocols as
# containerd 1.7 speaks them: every message it shares with NRI 0.6's
# api.proto and ttrpc's request.proto (both from Debian 13, the versions
# containerd 1.7.24 is built with) has the same field numbers, types and
# cardinality, recursively (test/tools/nri_proto_check.py).
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/containerd.sh"

ti_init
cd_need
cd_fetch
src=$CD_HOME/tree/usr/share/gocode/src/github.com/containerd
out=$("$CD_PY" "$TI_ROOT/test/tools/nri_proto_check.py" "$TI_ROOT/nri/nri.proto" \
	"$src/nri/pkg/api/api.proto" "$src/ttrpc/request.proto") ||
	{ printf '%s\n' "$out" >&2; ti_fail "nri.proto differs from NRI's on the wire"; }
ti_log "$out"
