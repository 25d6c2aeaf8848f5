#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# podman end to end, with the hook and data plane as `cmake --install` lays
# them out and the installed hooks.d file:
#
# - install: binaries, hooks.d (schema 1.0.0, prestart and poststop, the
#   prefix's hook), config, policy and the example policy, the systemd unit;
# - two containers on the bridge (IPv4 and IPv6), "db" (group db, a web
#   server) and "web" (group web, the client), portcullis-dp in fwd mode
#   allowing all: the page comes through over both, and the data plane's log has the session, app http,
#   at each container's port with that container's name;
# - a policy denying group web -> group db on tcp, reloaded with
#   portcullisctl: the client cannot connect, a violation is logged;
# - io.portcullis.mode=off (allow_mode_annotation true): that container is
#   not touched and still works;
# - a pod of two containers: one interception, kept until the last one
#   stops, then released;
# - --network none and --network host start normally and are not touched;
# - after podman rm -f of everything: no port, record or map entry left in
#   the enforcer and no host-side veth on the bridge.
# ti-timeout: 300
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/hook.sh"
. "$(dirname "$0")/lib/pull.sh"
. "$(dirname "$0")/lib/dpath.sh"
. "$(dirname "$0")/lib/dp.sh"
. "$(dirname "$0")/lib/podman.sh"

pm_init fwd open
T=$TI_TMP

ti_log "install layout under $PM_PREFIX"
for f in bin/portcullis-hook bin/portcullis-dp bin/portcullisctl \
	share/containers/oci/hooks.d/portcullis.json lib/systemd/system/portcullis-dp.service \
	etc/portcullis/portcullis.json etc/portcullis/policy.json share/doc/portcullis/examples/policy.json; do
	[ -f "$PM_PREFIX/$f" ] || ti_fail "cmake --install did not install $f"
done
hd=$PM_HOOKS_D/portcullis.json
ti_assert_eq 1.0.0 "$(jq -r .version "$hd")" "hooks.d version"
ti_assert_eq "$PM_HOOK" "$(jq -r .hook.path "$hd")" "hooks.d hook path"
ti_assert_eq '["prestart","poststop"]' "$(jq -c .stages "$hd")" "hooks.d stages"
ti_assert_eq true "$(jq -r .when.always "$hd")" "hooks.d when.always"
grep -q "^ExecStart=$PM_DP " "$PM_PREFIX/lib/systemd/system/portcullis-dp.service" ||
	ti_fail "the systemd unit does not start $PM_DP"
grep -qx "ExecStart=$PM_HOOK gc" "$PM_PREFIX/lib/systemd/system/portcullis-gc.service" ||
	ti_fail "the gc unit does not run $PM_HOOK gc"
[ -f "$PM_PREFIX/lib/systemd/system/portcullis-gc.timer" ] || ti_fail "no gc timer installed"
# an empty capture: the pcap file header alone (Ethernet)
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\0\0\0\0\0\0\0\0\xff\xff\x00\x00\x01\x00\x00\x00' >"$T/empty.pcap"
"$PM_DP" --read-pcap "$T/empty.pcap" --policy "$PM_PREFIX/share/doc/portcullis/examples/policy.json" \
	>/dev/null 2>"$T/example.err" || { cat "$T/example.err" >&2; ti_fail "the example policy does not load"; }

cat >"$T/policy.json" <<'JSON'
{"default": "allow", "rules": []}
JSON
ti_dpath_config fwd open "\"policy\": \"$T/policy.json\", \"session_log\": \"$T/sessions.log\", \"allow_mode_annotation\": true"
PORTCULLIS_DP=$PM_DP ti_dp_start

ti_log "two containers: db serves a page, web fetches it"
pm_run --name db --annotation io.portcullis.group=db "$PM_IMAGE" httpd -f -p 80 -h /www >/dev/null
pm_run --name web --annotation io.portcullis.group=web "$PM_IMAGE" sleep 1000000 >/dev/null
DB=$(pm_id db)
WEB=$(pm_id web)
DB_IP=$(pm_ip db)
for c in "$DB" "$WEB"; do pm_status_has "$c" || ti_fail "container ${c:0:12} is not intercepted"; done
st=$(ti_status_json)
ti_assert_eq "db web" "$(jq -r '[.[].containers[].name] | sort | join(" ")' <<<"$st")" "names in status"
ti_assert_eq "fwd fwd" "$(jq -r '[.[].mode] | join(" ")' <<<"$st")" "modes"
page=$(pm_fetch web "http://$DB_IP/index.html") || ti_fail "web cannot fetch the page from db ($DB_IP)"
ti_assert_eq "portcullis test page" "$page" "page"
DB_IP6=$(pm_ip6 db)
[ -n "$DB_IP6" ] || ti_fail "db has no IPv6 address on the bridge"
page=$(pm_fetch web "http://[$DB_IP6]/index.html") || ti_fail "web cannot fetch the page over IPv6 ($DB_IP6)"
ti_assert_eq "portcullis test page" "$page" "page over IPv6"
"$PM_CTL" --socket "$T/dp.sock" ports | tee "$T/ports.txt" >&2
grep -qw db "$T/ports.txt" && grep -qw web "$T/ports.txt" || ti_fail "portcullisctl ports lacks a name"

# the sessions end (FIN) and are logged once the closed state times out
ti_log "waiting for the session lines (closed sessions are logged after 5 s)"
have_http() {
	jq -e -s --arg n "$1" --arg dst "$DB_IP" \
		'any(.[]; .event == "session" and .app == "http" and .dst == $dst and .dport == 80
			and .verdict == "allow" and .container.name == $n)' "$T/sessions.log" >/dev/null 2>&1
}
ti_wait_until 20 have_http web || { cat "$T/sessions.log" >&2; ti_fail "no http session logged at web's port"; }
ti_wait_until 5 have_http db || { cat "$T/sessions.log" >&2; ti_fail "no http session logged at db's port"; }
jq -e -s --arg g web 'any(.[]; .container.name == "web" and .container.group == $g)' "$T/sessions.log" >/dev/null ||
	ti_fail "web's group is not in its session lines"

ti_log "deny group web -> group db on tcp, reloaded with portcullisctl"
cat >"$T/policy.json" <<'JSON'
{"default": "allow",
 "rules": [{"id": 7, "from": "group:web", "to": "group:db", "ports": ["tcp/1-65535"], "action": "deny"}]}
JSON
"$PM_CTL" --socket "$T/dp.sock" policy reload >&2 || ti_fail "policy reload failed"
if pm_fetch web "http://$DB_IP/index.html" >/dev/null 2>&1; then
	ti_fail "web still reaches db after the deny"
fi
viol() {
	jq -e -s --arg dst "$DB_IP" \
		'any(.[]; .event == "violation" and .rule == 7 and .dst == $dst and .dport == 80)' \
		"$T/sessions.log" >/dev/null 2>&1
}
ti_wait_until 10 viol || { cat "$T/sessions.log" >&2; ti_fail "no violation logged for rule 7"; }

ti_log "io.portcullis.mode=off: not touched"
pm_run --name plain --annotation io.portcullis.mode=off "$PM_IMAGE" sleep 1000000 >/dev/null
PLAIN=$(pm_id plain)
pm_status_has "$PLAIN" && ti_fail "a mode=off container was intercepted"
pm_fetch plain "http://$DB_IP/index.html" >/dev/null || ti_fail "the mode=off container has no network"

ti_log "a pod: one interception for its containers, until the last one stops"
pm_pod_create pod1
pm_run --pod pod1 --name pa "$PM_IMAGE" sleep 1000000 >/dev/null
pm_run --pod pod1 --name pb "$PM_IMAGE" sleep 1000000 >/dev/null
PA=$(pm_id pa)
PB=$(pm_id pb)
INFRA=$(pm pod inspect pod1 --format '{{.InfraContainerID}}')
st=$(ti_status_json)
rec=$(jq -c --arg id "$PA" '[.[] | select(any(.containers[]; .id == $id))]' <<<"$st")
ti_assert_eq 1 "$(jq length <<<"$rec")" "records holding pa"
ti_assert_eq 3 "$(jq '.[0].containers | length' <<<"$rec")" "containers of the pod's record (infra, pa, pb)"
jq -e --arg b "$PB" --arg i "$INFRA" '.[0].containers | (any(.id == $b) and any(.id == $i))' <<<"$rec" >/dev/null ||
	ti_fail "the pod's record lacks pb or the infra container"
pm stop -t 0 pa >/dev/null
pm_status_has "$PB" || ti_fail "the pod's interception ended while pb runs"
pm exec pb ping -c 1 -W 5 "$PM_SUBNET.1" >/dev/null || ti_fail "pb has no network after pa stopped"
pm pod stop -t 0 pod1 >/dev/null
pm_status_has "$PB" && ti_fail "the pod is still intercepted after it stopped"
pm_status_has "$INFRA" && ti_fail "the pod's infra container is still recorded"

ti_log "--network none and --network host: started normally, not touched"
n_before=$(ti_status_json | jq length)
out=$(pm run --rm --network none "$PM_IMAGE" sh -c 'ip -o link | wc -l') || ti_fail "--network none failed"
ti_assert_eq 1 "$out" "links of a --network none container"
out=$(pm run --rm --network host "$PM_IMAGE" sh -c 'echo ok') || ti_fail "--network host failed"
ti_assert_eq ok "$out" "--network host container"
ti_assert_eq "$n_before" "$(ti_status_json | jq length)" "records after none/host containers"

ti_log "podman rm -f of everything: nothing left"
pm pod rm -f -t 0 pod1 >/dev/null
pm rm -f -t 0 db web plain >/dev/null
pm_assert_clean
ti_dp_stop
