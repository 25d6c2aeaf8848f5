#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Hostile names in the session log, against a live data plane: c1's
# container id holds quotes and a backslash (runtimes' ids may: the hook
# takes any printable byte but '/'), its group quotes, and its Kubernetes
# names control bytes, a newline and malformed UTF-8, as a runtime's
# annotations carry them.
# - Every line of the session log, and `portcullisctl sessions`, is valid
#   JSON, and the id and names read back as they were (malformed UTF-8 as
#   U+FFFD).  The id was printed as it was: '"' ended the string, the rest
#   of the id became members of the line (a verdict among them), and every
#   reader of the log choked on the line or believed it.
# - namespace: and pod: selectors see the names the runtime recorded: a
#   policy that allows only pod:shop/web-0 lets c2 reach c1 when c1 is
#   recorded so, and not when its record says another pod.
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
ID1="$(ti_cid attack-names-1 | cut -c1-20)\"},\"verdict\":\"allow\",\"x\":\"\\"
ID2=$(ti_cid attack-names-2)
NS1=${CTR_NS[c1]}
NS2=${CTR_NS[c2]}
IP1=${CTR_IP4[c1]}
# annotations as JSON: control bytes, a newline, a quote
ANN='{"io.portcullis.group": "g\"r\\oup", "io.kubernetes.pod.name": "web-0\u0001\n",
      "io.kubernetes.pod.namespace": "shop\u001b[31m", "io.kubernetes.container.name": "app\u0007"}'

prestart_with() { # NAME ID ANNOTATIONS_JSON
	ti_stage prestart "$(ti_state_pre "$2" "${CTR_PIDS[$1]##* }" "${CTR_BUNDLE[$1]}" "$(jq -c . <<<"$3")")"
}

cat >"$T/policy.json" <<'JSON'
{"default": "deny",
 "rules": [{"id": 2, "from": "any", "to": "any", "ports": ["tcp/81"], "action": "allow"}]}
JSON
ti_dpath_config fwd closed "\"policy\": \"$T/policy.json\", \"session_log\": \"$AT_LOG\""
prestart_with c1 "$ID1" "$ANN"
ti_dpath_require_backend "prestart c1"
ti_prestart c2 "$ID2"
ti_expect_rc 0 "prestart c2"
ti_dp_start

ti_log "a session of c1 (allowed by port), a denied one: lines with c1's names"
ti_tcp "$NS1" "$IP1" "$NS2" 81
ti_tcp_blocked "$NS1" "$IP1" "$NS2" 5601
at_ctl sessions >"$T/sessions.json" || ti_fail "portcullisctl sessions failed"
jq -e --arg id "$ID1" '[.sessions[] | select(.container.id == $id)] | length > 0' "$T/sessions.json" >/dev/null ||
	ti_fail "portcullisctl sessions lacks c1's id: $(head -c 600 "$T/sessions.json")"
ti_dp_stop
LINES=$(at_log_lines "(.container.id // \"\") == $(jq -n --arg id "$ID1" '$id')")
[ -n "$LINES" ] || ti_fail "no line names c1's id as it is: $(cat "$AT_LOG")"
L=$(head -n 1 <<<"$LINES")
ti_assert_eq 'g"r\oup' "$(jq -r .container.group <<<"$L")" "group read back"
ti_assert_eq "$(printf 'shop\033[31m')" "$(jq -r .container.k8s_namespace <<<"$L")" "namespace read back"
[ "$(jq -r '.container.k8s_pod' <<<"$L")" = "$(printf 'web-0\001\n')" ] || ti_fail "pod name read back: $L"
[ -z "$(at_log_lines '.x != null')" ] || ti_fail "a line gained a member from the id"
ti_log "e.g. $L"

ti_log "pod: selects by the names the runtime recorded"
cat >"$T/policy.json" <<'JSON'
{"default": "deny",
 "rules": [{"id": 1, "from": "any", "to": "pod:shop/web-0", "action": "allow"},
           {"id": 2, "from": "any", "to": "any", "ports": ["tcp/81"], "action": "allow"}]}
JSON
ti_poststop c1 "$ID1"
ti_expect_rc 0 "poststop c1"
prestart_with c1 "$ID1" '{"io.kubernetes.cri.sandbox-name": "web-0", "io.kubernetes.cri.sandbox-namespace": "shop"}'
ti_expect_rc 0 "prestart c1 as shop/web-0"
ti_dp_start
ti_tcp "$NS1" "$IP1" "$NS2" 5602
ti_dp_stop
ti_poststop c1 "$ID1"
prestart_with c1 "$ID1" '{"io.kubernetes.cri.sandbox-name": "web-1", "io.kubernetes.cri.sandbox-namespace": "shop"}'
ti_expect_rc 0 "prestart c1 as shop/web-1"
ti_dp_start
ti_tcp_blocked "$NS1" "$IP1" "$NS2" 5603
ti_dp_stop

ti_poststop c1 "$ID1"
ti_expect_rc 0 "poststop c1"
ti_poststop c2 "$ID2"
ti_expect_rc 0 "poststop c2"
ti_assert_enf_clean "after poststop"
