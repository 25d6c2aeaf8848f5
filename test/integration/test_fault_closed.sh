#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Fault injection at every step of the pull with on_failure=closed: see fault_body.sh.
FAULT_MODE=closed
. "$(dirname "$0")/fault_body.sh"
