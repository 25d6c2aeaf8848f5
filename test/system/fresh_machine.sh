#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The front door on a machine that has never seen the project: a minimal
# Debian 12 root (mmdebstrap, variant minbase: not even the packages a
# standard installation brings), a clean export of the checkout's HEAD
# (git archive, not the working tree), and in it, as README says:
#
#   scripts/demo                  end to end
#   scripts/test --build-only     the test build: configure and build with
#                                 the unit tests
#
# Any missing package or step fails the test with the failing command's
# output.  The root runs in a mount and PID namespace of its own
# (unshare), chrooted, with its own /proc, /sys and /dev (rbind, slave),
# a private /run and /tmp, and the root bound onto itself (podman's
# storage remounts /): every mount and process goes when the namespace's
# first process ends, on every exit path.  The tree is deleted only once
# nothing is mounted inside it.
#
# The root's tarball is cached under /var/cache/portcullis/fresh/, keyed
# by what it was made from (suite, variant, sources, architecture,
# mmdebstrap's version), and so are the .deb files the root downloads
# (its apt archive), so later runs install again but download nothing.
#
#     test/system/fresh_machine.sh        (root)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

say() { printf 'fresh: %s\n' "$*"; }
fail() {
	say "FAIL: $*"
	exit 1
}

[ "$(id -u)" -eq 0 ] || fail "must be run as root"
git rev-parse --verify -q HEAD >/dev/null || fail "not a git checkout: nothing to export"
command -v mmdebstrap >/dev/null || fail "mmdebstrap is missing (scripts/deps test)"

CACHE=/var/cache/portcullis/fresh
SUITE=bookworm
VARIANT=minbase
SOURCES=/etc/apt/sources.list.d/debian.sources
[ -f "$SOURCES" ] || SOURCES=/etc/apt/sources.list
ARCH=$(dpkg --print-architecture)
key=$(printf '%s\n' "$SUITE" "$VARIANT" "$ARCH" "$(mmdebstrap --version)" "$(cat "$SOURCES")" |
	sha256sum | cut -c1-16)
TARBALL=$CACHE/debian12-$VARIANT-$ARCH-$key.tar
APT_CACHE=$CACHE/apt-archives-$ARCH

WORK='' NS_PID='' LINKS_BEFORE=''
cleanup() {
	local rc=$? l
	trap - EXIT INT TERM
	set +e
	# timeout passes TERM on to unshare, whose end kills the namespace's
	# first process, which takes every other one and the mounts with it
	if [ -n "$NS_PID" ] && kill -0 "$NS_PID" 2>/dev/null; then
		kill -TERM "$NS_PID" 2>/dev/null
		wait "$NS_PID" 2>/dev/null
	fi
	# links a killed demo left in the host's network namespace
	if [ -n "$LINKS_BEFORE" ]; then
		for l in $(ip -o link show | awk -F': ' '{ print $2 }' | cut -d@ -f1 | grep '^pcdemo-'); do
			grep -qx "$l" <<<"$LINKS_BEFORE" || ip link del "$l" 2>/dev/null
		done
	fi
	if [ -n "$WORK" ]; then
		if findmnt -rn -o TARGET | grep -q "^$WORK"; then
			say "mounts are left under $WORK: not deleting it"
			findmnt -rn -o TARGET | grep "^$WORK" | sed 's/^/  /'
			rc=1
		else
			rm -rf "$WORK"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$SECONDS
mkdir -p "$CACHE" "$APT_CACHE/partial"
if [ ! -s "$TARBALL" ]; then
	say "making the Debian 12 root ($SUITE, $VARIANT) with mmdebstrap: $TARBALL"
	rm -rf "$CACHE"/debian12-"$VARIANT"-"$ARCH"-*.tar "$CACHE/making.tar"
	mmdebstrap --quiet --format=tar --variant="$VARIANT" --architectures="$ARCH" "$SUITE" \
		"$CACHE/making.tar" "$SOURCES" || fail "mmdebstrap failed"
	mv "$CACHE/making.tar" "$TARBALL"
else
	say "the Debian 12 root from the cache: $TARBALL"
fi

WORK=$(mktemp -d /var/tmp/pcfresh.XXXXXX)
R=$WORK/root
mkdir "$R"
tar -C "$R" -xf "$TARBALL"
mkdir -p "$R/root/portcullis"
git archive --format=tar HEAD | tar -C "$R/root/portcullis" -xf -
say "HEAD $(git rev-parse --short HEAD) exported into $R/root/portcullis ($((SECONDS - t0)) s so far)"
LINKS_BEFORE=$(ip -o link show | awk -F': ' '{ print $2 }' | cut -d@ -f1)

# Inside a mount and PID namespace of its own: the mounts, then the steps.
# Each step's output goes to its log; a failing step's tail is printed.
inner() {
	set -euo pipefail
	mount --bind "$R" "$R"
	mount -t proc proc "$R/proc"
	mount --rbind /sys "$R/sys"
	mount --make-rslave "$R/sys"
	mount --rbind /dev "$R/dev"
	mount --make-rslave "$R/dev"
	mount -t tmpfs -o mode=755 tmpfs "$R/run"
	mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
	mount --bind "$APT_CACHE" "$R/var/cache/apt/archives"
	cp /etc/resolv.conf "$R/etc/resolv.conf"
	local step log
	for step in "scripts/demo" "scripts/test --build-only"; do
		log=$WORK/${step%% *}.log
		log=${log/scripts\//}
		local s0=$SECONDS
		if ! chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb \
			/bin/bash -c "cd /root/portcullis && $step" >"$log" 2>&1 </dev/null; then
			echo "fresh: FAIL: '$step' failed in the fresh root; the end of its output:"
			tail -n 40 "$log" | sed 's/^/    /'
			return 1
		fi
		echo "fresh: ok: '$step' ($((SECONDS - s0)) s): $(grep -E 'demo finished|Built target' "$log" | tail -n 1)"
	done
}
export -f inner
export R WORK APT_CACHE
timeout --kill-after=30 "${PC_FRESH_TIMEOUT:-2400}" \
	unshare --mount --pid --fork --kill-child --propagation private bash -c inner &
NS_PID=$!
rc=0
wait "$NS_PID" || rc=$?
NS_PID=''
[ "$rc" -eq 0 ] || fail "a step failed (exit $rc)"
say "passed in $((SECONDS - t0)) s"
