#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The Debian package as an operator meets it: built with the package
# target, checked by lintian (no errors), installed with apt-get, the data
# plane started from its unit's ExecStart (no systemd as init here), a
# podman container with no --hooks-dir flag intercepted through the
# system's own hooks.d, a fetch through the data plane (fwd), and then
# apt-get purge: nothing of portcullis is left (files, hooks.d entry,
# units, configuration, state, enforcer namespace, pinned BPF objects) and
# the containers work on their original ports.
#
# Refuses (exit 77) to run where portcullis is installed or its default
# state exists: the package uses the default paths.  Whatever happens, the
# machine is left as it was found: the package purged, podman's set-up,
# the data plane and the enforcer removed.
#
#     test/system/package.sh [BUILD]     (root; BUILD default build)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=$(realpath "${1:-build}")
# shellcheck source=../../scripts/lib/podman_env.sh
. "$ROOT/scripts/lib/podman_env.sh"

say() { printf 'package: %s\n' "$*"; }
fail() {
	say "FAIL: $*"
	exit 1
}
skip() {
	say "SKIP: $*"
	exit 77
}

[ "$(id -u)" -eq 0 ] || fail "must be run as root"
# the paths the package installs, and those it uses by default
FILES=(/usr/bin/portcullis-hook /usr/bin/portcullis-dp /usr/bin/portcullisctl
	/usr/share/containers/oci/hooks.d/portcullis.json
	/usr/lib/systemd/system/portcullis-dp.service /usr/lib/systemd/system/portcullis-gc.service
	/usr/lib/systemd/system/portcullis-gc.timer /etc/portcullis /usr/share/doc/portcullis
	/usr/share/man/man8/portcullis-hook.8.gz)
STATE=(/run/portcullis /run/netns/portcullis /sys/fs/bpf/portcullis)
OWNED=("${FILES[@]}" "${STATE[@]}")
if dpkg-query -W -f='${Status}' portcullis 2>/dev/null | grep -q 'installed'; then
	skip "the portcullis package is installed on this host"
fi
for p in "${OWNED[@]}"; do
	[ ! -e "$p" ] || skip "$p exists: portcullis is in use on this host"
done

TMP='' PD='' NET='' BR='' DP_PID='' INSTALLED=0
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	if [ -n "$DP_PID" ]; then
		kill "$DP_PID" 2>/dev/null
		wait "$DP_PID" 2>/dev/null
	fi
	# the package's own removal gives the containers their ports back
	if [ "$INSTALLED" = 1 ] && dpkg-query -W portcullis >/dev/null 2>&1; then
		say "purging the package"
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q portcullis >/dev/null 2>&1 ||
			dpkg --purge --force-all portcullis >/dev/null 2>&1
	fi
	[ -n "$PD" ] && pe_cleanup "$PD" "$NET" "$BR"
	if [ "$INSTALLED" = 1 ]; then
		ip netns del portcullis 2>/dev/null
		rm -rf /run/portcullis /sys/fs/bpf/portcullis
	fi
	[ -n "$TMP" ] && rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$SECONDS
TMP=$(mktemp -d /tmp/pcpkg.XXXXXX)

# ---- build and check
VERSION=$("$BUILD/bin/portcullis-hook" --version | awk '{ print $2 }')
DEB=$BUILD/portcullis_${VERSION}_$(dpkg --print-architecture).deb
rm -f "$DEB"
cmake --build "$BUILD" --target package >"$TMP/cpack.log" 2>&1 || { cat "$TMP/cpack.log"; fail "the package target failed"; }
[ -s "$DEB" ] || fail "no $DEB after the package target"
say "built $(basename "$DEB"): $(stat -c %s "$DEB") bytes"
say "Depends: $(dpkg-deb -f "$DEB" Depends)"
[ "$(dpkg-deb -f "$DEB" Version)" = "$VERSION" ] || fail "package version $(dpkg-deb -f "$DEB" Version), binaries $VERSION"
dpkg-deb -f "$DEB" Depends | grep -q 'libnl-3-200' || fail "Depends lacks the linked libraries (shlibdeps)"
lintian --fail-on error "$DEB" >"$TMP/lintian.log" 2>&1 || { cat "$TMP/lintian.log"; fail "lintian found errors"; }
say "lintian: $(grep -c '^E:' "$TMP/lintian.log") errors, $(grep -c '^W:' "$TMP/lintian.log") warnings"
sed 's/^/    /' "$TMP/lintian.log"

# ---- install
INSTALLED=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$DEB" >"$TMP/install.log" 2>&1 ||
	{ cat "$TMP/install.log"; fail "apt-get install $DEB"; }
for p in "${FILES[@]}"; do
	[ -e "$p" ] || fail "$p not installed"
done
for b in portcullis-hook portcullis-dp portcullisctl; do
	[ "$("$b" --version)" = "$b $VERSION" ] || fail "$b --version: $("$b" --version)"
done
dpkg-query -W -f='${Conffiles}\n' portcullis | grep -q '/etc/portcullis/portcullis.json' ||
	fail "/etc/portcullis/portcullis.json is not a conffile"
dpkg-query -W -f='${Conffiles}\n' portcullis | grep -q '/etc/portcullis/policy.json' ||
	fail "/etc/portcullis/policy.json is not a conffile"
grep -q '"path": "/usr/bin/portcullis-hook"' /usr/share/containers/oci/hooks.d/portcullis.json ||
	fail "the hooks.d entry does not name /usr/bin/portcullis-hook"
say "installed ($((SECONDS - t0)) s so far)"

# ---- the data plane, as its unit starts it
exec_start=$(sed -n 's/^ExecStart=//p' /usr/lib/systemd/system/portcullis-dp.service)
[ -n "$exec_start" ] || fail "no ExecStart in portcullis-dp.service"
say "starting the data plane: $exec_start"
read -r -a argv <<<"$exec_start"
"${argv[@]}" >"$TMP/dp.log" 2>&1 </dev/null &
DP_PID=$!
for _ in $(seq 100); do
	portcullisctl status >/dev/null 2>&1 && break
	kill -0 "$DP_PID" 2>/dev/null || { cat "$TMP/dp.log"; fail "portcullis-dp exited"; }
	sleep 0.1
done
portcullisctl status >/dev/null || { cat "$TMP/dp.log"; fail "portcullis-dp does not answer"; }

# ---- podman with its own storage and network, and no hooks_dir: the
# system's hooks.d, where the package put its entry
id=$$
PD=$TMP/podman NET=pcpkg-$id BR=pcpkg-$id
SUB=10.$((16 + id % 200)).$((RANDOM % 100 + 100))
pe_conf "$PD" "$NET" "$BR" "$SUB"
sed -i '/^hooks_dir/d' "$PD/containers.conf"
pe_rootfs "$PD/rootfs"
IMAGE=localhost/pcpkg-$id:latest
pe_image "$PD" "$IMAGE"
pm() { pe_podman "$PD" "$@"; }
pm run -d --name web "$IMAGE" httpd -f -p 80 -h /www >/dev/null
pm run -d --name cli "$IMAGE" sleep 1000000 >/dev/null
WEB_IP=$(pm inspect web --format "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}")
portcullis-hook status
[ "$(portcullis-hook status --json | jq length)" = 2 ] || fail "the two containers are not intercepted"
[ "$(ip -o link show master "$BR" | grep -c 'link-netns portcullis\b')" = 2 ] ||
	fail "the ports on $BR do not lead into the enforcer namespace: $(ip -o link show master "$BR")"
for c in web cli; do
	cid=$(pm inspect "$c" --format '{{.Id}}')
	portcullis-hook mode "$cid" fwd >/dev/null || fail "portcullis-hook mode $c fwd"
done
pe_argv "$PD"
fetch() { timeout 20 "${PE_ARGV[@]}" exec cli wget -q -O - "http://$WEB_IP/index.html"; }
frames0=$(portcullisctl stats --json | jq '[.. | .frames? // empty] | max')
[ "$(fetch)" = "portcullis test page" ] || fail "cli could not fetch from web through the data plane"
frames1=$(portcullisctl stats --json | jq '[.. | .frames? // empty] | max')
portcullisctl sessions | tee "$TMP/sessions.txt"
grep -q ' http ' "$TMP/sessions.txt" || fail "no http session in the data plane"
[ "$frames1" -gt "$frames0" ] || fail "the data plane saw no frame of the fetch ($frames0 -> $frames1)"
say "fetched through the data plane in fwd: frames $frames0 -> $frames1"

# ---- purge: as systemd would, the unit stops first
kill "$DP_PID"
wait "$DP_PID" 2>/dev/null || true
DP_PID=''
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q portcullis >"$TMP/purge.log" 2>&1 ||
	{ cat "$TMP/purge.log"; fail "apt-get purge portcullis"; }
grep 'purge:' "$TMP/purge.log" | sed 's/^/    /'
! dpkg-query -W portcullis >/dev/null 2>&1 || fail "the package is still known to dpkg"
for p in "${OWNED[@]}"; do
	[ ! -e "$p" ] || fail "$p is left after the purge"
done
! ip -o link show | grep -Eq ': v(ex|in)[0-9]' || fail "enforcer ports left in the host namespace"
[ "$(fetch)" = "portcullis test page" ] || fail "cli cannot fetch from web after the purge"
# each container's eth0 is its original port again: the veth on podman's
# bridge has its peer in the container's namespace (while intercepted,
# its peer was the exPort in the enforcer's)
for c in web cli; do
	ns=$(basename "$(pm inspect "$c" --format '{{.NetworkSettings.SandboxKey}}')")
	ports=$(ip -o link show master "$BR")
	grep -q "link-netns $ns\b" <<<"$ports" || fail "$c: no port on $BR has its peer in $ns: $ports"
done
INSTALLED=0
say "purged: nothing of portcullis left, the containers on their own ports; passed in $((SECONDS - t0)) s"
