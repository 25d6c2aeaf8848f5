#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The provisional bypass against a live data plane: mode fwd, a policy
# that denies by default and allows TCP 5432 only if the session is
# PostgreSQL (rule 10), provisional_bytes 4096; a byte-counting server in
# c1 on port 5432, clients in c2.
# - "SSH-" four times, then 192 KiB of anything: once it kept the SSH
#   parser undecided, so rule 10 might still match and seven segments (GSO
#   super-frames of up to 64 KiB) reached the server.  Now that PostgreSQL
#   is ruled out rule 10 cannot match: the default denies the session at
#   its first byte (nothing arrives; a violation line with rule 0);
# - the start of a PostgreSQL StartupMessage of 10000 bytes whose
#   parameter name goes on and on keeps PostgreSQL possible, so the
#   session is allowed provisionally; then 192 KiB: at most
#   provisional_bytes of payload arrive, then the session is decided
#   without an app: the default denies it (reset, a violation line with
#   rule 0 and app "unknown", inspect.provisional_cut);
# - a real PostgreSQL StartupMessage followed by 20 KB is identified within
#   the bound and reaches the server whole (rule 10).
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/traffic.sh"
. "$(dirname "$0")/lib/dpath.sh"
. "$(dirname "$0")/lib/dp.sh"
. "$(dirname "$0")/lib/attack.sh"
ti_dpath_init
at_init
T=$TI_TMP
AT_LOG=$T/sessions.log

ti_host_create
ti_ctr_create c1 1
ti_ctr_create c2 2
ti_ctr_start c1
ti_ctr_start c2
ID1=$(ti_cid attack-prov-1)
ID2=$(ti_cid attack-prov-2)
NS1=${CTR_NS[c1]}
NS2=${CTR_NS[c2]}
IP1=${CTR_IP4[c1]}
IP2=${CTR_IP4[c2]}

cat >"$T/policy.json" <<'JSON'
{"default": "deny",
 "rules": [{"id": 10, "from": "any", "to": "any", "ports": ["tcp/5432"], "apps": ["postgresql"], "action": "allow"}]}
JSON
ti_dpath_config fwd closed "\"policy\": \"$T/policy.json\", \"session_log\": \"$AT_LOG\", \"provisional_bytes\": 4096, \"bypass_after_kb\": 0"
ti_prestart c1 "$ID1"
ti_dpath_require_backend "prestart c1"
ti_prestart c2 "$ID2"
ti_expect_rc 0 "prestart c2"

at_py_bg "$NS1" count-server "$IP1" 5432 "$T/received"
ti_wait_until 5 ti_listening "$NS1" 5432 || ti_fail "the server on port 5432 did not start"
received() { cat "$T/received" 2>/dev/null || echo 0; }

ti_dp_start

ti_log "SSH- four times, then 192 KiB, to the PostgreSQL-only port"
at_py "$NS2" ssh-prefix "$IP1" 5432 >&2 || true
sleep 1
ti_assert_eq 0 "$(received)" "bytes of the SSH- client that reached the PostgreSQL-only service"
V=$(at_log_lines ".event == \"violation\" and .src == \"$IP2\" and .dport == 5432")
[ -n "$V" ] || ti_fail "no violation line for the SSH- session"
ti_assert_eq 0 "$(jq -r .rule <<<"$V" | head -n 1)" "rule of the SSH- session's violation (the default)"
ti_assert_eq 0 "$(at_stat inspect.provisional_cut)" "provisional_cut after the SSH- client"

ti_log "a StartupMessage that never ends, then 192 KiB, to the PostgreSQL-only port"
at_py "$NS2" pg-open "$IP1" 5432 >&2 || true
sleep 1
GOT=$(received)
ti_log "the server received $GOT bytes"
[ "$GOT" -ge 12 ] || ti_fail "not even the StartupMessage's start arrived ($GOT bytes): nothing was provisional"
[ "$GOT" -le 4096 ] || ti_fail "$GOT bytes reached the denied service: more than provisional_bytes (4096)"
V=$(at_log_lines ".event == \"violation\" and .src == \"$IP2\" and .dport == 5432" | tail -n 1)
ti_assert_eq 0 "$(jq -r .rule <<<"$V")" "rule of the violation (the default)"
ti_assert_eq unknown "$(jq -r .app <<<"$V")" "app of the violation"
CUT=$(at_stat inspect.provisional_cut)
[ "$CUT" -ge 1 ] || ti_fail "inspect.provisional_cut is $CUT"
ti_log "cut after $GOT bytes: $V"

ti_log "a PostgreSQL client: identified in time, allowed whole"
BEFORE=$(received)
at_py "$NS2" pg-client "$IP1" 5432 >&2
# shellcheck disable=SC2016 # expanded by eval, at each try
ti_wait_until 5 eval '[ $(( $(received) - BEFORE )) -ge 20041 ]' ||
	ti_fail "the PostgreSQL client's 20041 bytes did not all arrive: $(( $(received) - BEFORE ))"
ti_assert_eq "$CUT" "$(at_stat inspect.provisional_cut)" "provisional_cut after the PostgreSQL client"
ti_dp_stop
S=$(at_log_lines ".event == \"session\" and .src == \"$IP2\" and .dport == 5432 and .app == \"postgresql\"")
ti_assert_eq 10 "$(jq -r .rule <<<"$S" | head -n 1)" "rule of the PostgreSQL session"

ti_poststop c1 "$ID1"
ti_expect_rc 0 "poststop c1"
ti_poststop c2 "$ID2"
ti_expect_rc 0 "poststop c2"
ti_assert_enf_clean "after poststop"
