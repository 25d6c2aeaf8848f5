#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Fault injection at every step of the pull with on_failure=closed: see
# lib/fault_pull_body.sh.
FAULT_MODE=closed
. "$(dirname "$0")/lib/fault_pull_body.sh"
