#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The tc-pedit data path, tested in a QEMU guest (software emulation) that
# boots Debian's own 6.1 cloud kernel: this machine's kernel has no
# act_pedit.  The kernel package is downloaded (apt-get download, never
# installed) and unpacked once into a cache; the initramfs is built on
# every run from busybox, the kernel modules the data path needs, iproute2,
# the hook under test, test/qemu/pc-guest.c, and what the integration tests
# need (bash, coreutils, jq, socat, nsenter, ping, ethtool, the test tools
# pc-sniff, pc-reflector and pc-frame, test/integration itself), with the libraries
# ldd lists.  The guest runs test/qemu/guest_run.sh: the tc-pedit checks of
# test/qemu/guest_test.sh, then the data-path integration tests
# test/integration/test_dpath_*.sh with TI_DPATH_BACKEND=tc-pedit, the same
# scripts the host runs with the bpf backend; then a few of them with
# TI_DPATH_BACKEND=bpf, so that Debian 12's kernel verifies and runs the BPF
# programs too (bpftool comes along for their assertions).  The guest has
# no network device: nothing here touches the host's network.
#
#     test/qemu/run.sh [HOOK]
#
# HOOK: the portcullis-hook binary to test (default build/bin/portcullis-hook);
# the test tools are taken from build/test/tools beside it.
# Environment: PC_QEMU_CACHE (default /var/cache/portcullis/qemu: the kernel
# package, kept by its name, across clones and runs), PC_QEMU_TIMEOUT (seconds for the whole VM, default
# 1200), PC_QEMU_LOG (keep the guest console there), PC_QEMU_SMP (vCPUs,
# default 2), PC_QEMU_TESTS (only the integration tests whose name contains
# it, and no guest_test.sh checks; default all), PC_QEMU_CHURN (containers
# of test_dpath_churn.sh in the guest, default 30: the host runs 200),
# PC_QEMU_TEST_TIMEOUT (seconds per integration test in the guest, default
# 300), PC_QEMU_BPF_TESTS (the tests run again with backend bpf, default
# "test_dpath_tap test_dpath_fwd_down test_dpath_fwd_reflector
# test_dpath_routed"; empty: none).
#
# Prints the guest's console, then "qemu: P passed, F failed".  Exit status
# 0 only when the guest ran every test and none failed; 1 on a failure or
# a timeout; 2 when the set-up failed (packages, kernel, initramfs).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
hook=$(realpath "${1:-$root/build/bin/portcullis-hook}")
cache=${PC_QEMU_CACHE:-/var/cache/portcullis/qemu}
vm_timeout=${PC_QEMU_TIMEOUT:-1200}
smp=${PC_QEMU_SMP:-2}
tools=$(dirname "$(dirname "$hook")")/test/tools
# the modules the test loads at boot (their dependencies come along), and
# those left to the kernel to load on first use: act_pedit is loaded by the
# hook's probe for it, as on a fresh host
modules=(veth bridge sch_ingress cls_u32 act_mirred cls_bpf)
autoload=(act_pedit)
# host packages (packaging/deps, group qemu): emulator, initramfs
# archiver, static busybox and libc, iproute2 (ip/tc for the guest),
# binutils (readelf: module dependencies), and what the integration tests
# run in the guest
# the host files of those packages the guest gets (coreutils: all of it)
guest_bins=(/usr/bin/bash /usr/bin/jq /usr/bin/socat /usr/bin/nsenter /usr/bin/ping
	/usr/sbin/ethtool /usr/bin/mawk /usr/bin/sed /usr/bin/grep /usr/bin/find
	/usr/bin/diff /usr/bin/cmp /usr/sbin/sysctl /usr/bin/ss /usr/sbin/bridge /usr/sbin/bpftool)

work=
vm_pid=
say() { printf 'qemu: %s\n' "$*" >&2; }
setup_fail() {
	say "set-up failed: $*"
	exit 2
}
cleanup() {
	# timeout passes the signal on to the emulator
	[ -n "$vm_pid" ] && kill "$vm_pid" 2>/dev/null && wait "$vm_pid" 2>/dev/null
	[ -n "$work" ] && rm -rf "$work"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ -x "$hook" ] || setup_fail "hook binary not found: $hook (build first)"

ensure_packages() {
	"$root/scripts/deps" --install qemu >&2 || setup_fail "installing the packages of group qemu (as root)"
}

# The newest linux-image-6.1.0-N-cloud-amd64-unsigned apt knows of.
newest_kernel_pkg() {
	apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' 2>/dev/null |
		awk '{ print $1 }' | sort -V | tail -n 1
}

# The newest kernel unpacked in the cache, if any.
cached_kernel() {
	find "$cache" -maxdepth 2 -name .complete 2>/dev/null | xargs -r -n 1 dirname | sort -V | tail -n 1
}

# Download and unpack package $1 into the cache as $cache/$1 (the older
# ones go); non-zero when that failed.
fetch_kernel() {
	local pkg=$1 dl old
	say "downloading $pkg into $cache"
	mkdir -p "$cache"
	rm -rf "${cache:?}/$pkg" "$cache/$pkg.part"
	dl=$(mktemp -d "$cache/dl.XXXXXX")
	# as root: the cache is root's, and apt's _apt user cannot write there
	if ! (cd "$dl" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2) ||
	   ! dpkg-deb -x "$dl"/*.deb "$cache/$pkg.part"; then
		rm -rf "$dl" "$cache/$pkg.part"
		return 1
	fi
	rm -rf "$dl"
	mv "$cache/$pkg.part" "$cache/$pkg"
	touch "$cache/$pkg/.complete"
	for old in "$cache"/linux-image-*; do
		[ "$old" = "$cache/$pkg" ] || rm -rf "$old"
	done
}

# Sets vmlinuz and kmods: the newest kernel package apt knows of, unpacked
# in the cache (downloaded once); an older cached one when that fails.
ensure_kernel() {
	local pkg kdir
	pkg=$(newest_kernel_pkg)
	if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ] && [ -z "$(cached_kernel)" ]; then
		apt-get update -q >&2 || true
		pkg=$(newest_kernel_pkg)
	fi
	kdir=
	if [ -n "$pkg" ] && [ -e "$cache/$pkg/.complete" ]; then
		kdir=$cache/$pkg
	elif [ -n "$pkg" ] && fetch_kernel "$pkg"; then
		kdir=$cache/$pkg
	fi
	if [ -z "$kdir" ]; then
		kdir=$(cached_kernel)
		[ -n "$kdir" ] || setup_fail "no linux-image-6.1.0-*-cloud-amd64-unsigned to download, none cached in $cache"
		say "using the cached $(basename "$kdir")"
	fi
	vmlinuz=$(ls "$kdir"/boot/vmlinuz-* 2>/dev/null | head -n 1)
	kmods=$(ls -d "$kdir"/lib/modules/*/kernel 2>/dev/null | head -n 1)
	[ -n "$vmlinuz" ] && [ -n "$kmods" ] || setup_fail "$kdir holds no vmlinuz or modules"
}

# Copy a binary to the same path under $rootfs, with the libraries ldd lists.
copy_with_libs() {
	local bin=$1 dest=${2:-$1} lib
	install -D -m 0755 "$bin" "$rootfs$dest"
	for lib in $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*' || true); do
		[ -e "$rootfs$lib" ] || install -D -m 0755 "$(realpath "$lib")" "$rootfs$lib"
	done
}

# Module file of NAME (dashes and underscores are the same to the kernel).
module_path() {
	find "$kmods" -name "$1.ko" -o -name "${1//_/-}.ko" | head -n 1
}

# Copy module NAME and, first, what it depends on into the initramfs, at
# the path it has in the package (busybox depmod indexes them at boot).
mod_files=()
add_module() {
	local name=$1 path dep m
	for m in "${mod_files[@]}"; do
		[ "$m" = "$name" ] && return 0
	done
	path=$(module_path "$name")
	[ -n "$path" ] || setup_fail "no module $name.ko in $kmods"
	for dep in $(readelf -p .modinfo "$path" | sed -n 's/.*depends=//p' | tr ',' ' '); do
		add_module "$dep"
	done
	mod_files+=("$name")
	install -D -m 0644 "$path" "$rootfs/lib/modules/$kver/kernel/${path#"$kmods"/}"
}

build_initramfs() {
	local a bb
	rootfs=$work/rootfs
	mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,etc,test,lib/modules}
	bb=$(command -v busybox) || setup_fail "no busybox"
	copy_with_libs "$bb" /bin/busybox
	for a in $(/bin/busybox --list); do
		[ -e "$rootfs/bin/$a" ] || ln -s busybox "$rootfs/bin/$a"
	done
	copy_with_libs "$(command -v ip)" /usr/sbin/ip
	copy_with_libs "$(command -v tc)" /usr/sbin/tc
	copy_with_libs "$hook" /usr/bin/portcullis-hook
	# the integration tests' tools: GNU and the others over busybox's
	# applets of the same name (PATH has /usr/* first)
	for a in $(dpkg -L coreutils | grep -E '^(/usr)?/bin/[^/]+$'); do
		[ -f "$a" ] && [ ! -L "$a" ] && copy_with_libs "$a" "/usr/bin/$(basename "$a")"
	done
	for a in "${guest_bins[@]}"; do
		[ -x "$a" ] || a=$(command -v "$(basename "$a")") || setup_fail "no $(basename "$a") on this host"
		copy_with_libs "$a" "/usr/bin/$(basename "$a")"
	done
	ln -sf mawk "$rootfs/usr/bin/awk"
	ln -sf ../usr/bin/bash "$rootfs/bin/bash"
	for a in pc-sniff pc-reflector pc-frame; do
		[ -x "$tools/$a" ] || setup_fail "no $tools/$a (build first)"
		copy_with_libs "$tools/$a" "/usr/lib/pc-tools/$a"
	done
	mkdir -p "$rootfs/test/integration/lib"
	install -m 0755 "$root"/test/integration/test_dpath_*.sh "$rootfs/test/integration/"
	install -m 0644 "$root"/test/integration/lib/*.sh "$rootfs/test/integration/lib/"
	# the bpf runs read pc_stats' counter names from it, where lib/dpath.sh looks
	install -D -m 0644 "$root/lib/dpath/bpf/dpath_common.h" "$rootfs/lib/dpath/bpf/dpath_common.h"
	{
		printf 'PC_QEMU_TESTS=%q\n' "${PC_QEMU_TESTS:-}"
		printf 'PC_QEMU_BPF_TESTS=%q\n' "${PC_QEMU_BPF_TESTS-test_dpath_tap test_dpath_fwd_down test_dpath_fwd_reflector test_dpath_routed}"
		printf 'TI_DPATH_CHURN=%q\n' "${PC_QEMU_CHURN:-30}"
		printf 'PC_QEMU_TEST_TIMEOUT=%q\n' "${PC_QEMU_TEST_TIMEOUT:-300}"
		printf 'PC_QEMU_VERBOSE=%q\n' "${PC_QEMU_VERBOSE:-}"
	} >"$rootfs/test/env"
	gcc -static -O2 -Wall -o "$rootfs/usr/bin/pc-guest" "$here/pc-guest.c" ||
		setup_fail "cannot build pc-guest"
	kver=$(basename "$(dirname "$kmods")")
	for a in "${modules[@]}" "${autoload[@]}"; do
		add_module "$a"
	done
	printf '%s\n' "${modules[@]}" >"$rootfs/lib/modules/load-order"
	# the kernel's module loader, for the modules left to autoload
	ln -s ../bin/busybox "$rootfs/sbin/modprobe"
	install -m 0755 "$here/init" "$rootfs/init"
	install -m 0755 "$here/guest_test.sh" "$rootfs/test/guest_test.sh"
	install -m 0755 "$here/guest_run.sh" "$rootfs/test/guest_run.sh"
	# the console init's output goes to (root can make the node; /init
	# falls back to devtmpfs)
	mknod -m 600 "$rootfs/dev/console" c 5 1 2>/dev/null || true
	(cd "$rootfs" && find . | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$work/initrd.gz"
}

# The VM in the background (a signal to this script stops it, see cleanup),
# its console shown live and kept in $log; vm_rc is the emulator's status
# (124 or 137: timed out).
run_vm() {
	local raw=$work/console.raw show
	log=$work/console.log
	say "booting $(basename "$vmlinuz") (TCG, ${smp} vCPU, timeout ${vm_timeout}s)"
	# made before tail looks for it: the emulator's redirection may come later
	: >"$raw"
	timeout --kill-after=10 "$vm_timeout" qemu-system-x86_64 \
		-nodefaults -no-reboot -display none -accel tcg -m 768 -smp "$smp" \
		-serial stdio -kernel "$vmlinuz" -initrd "$work/initrd.gz" \
		-append "console=ttyS0 quiet panic=-1 oops=panic" </dev/null >"$raw" 2>&1 &
	vm_pid=$!
	tail -n +1 -s 0.2 -f --pid="$vm_pid" "$raw" | tr -d '\r' | tee "$log" &
	show=$!
	vm_rc=0
	wait "$vm_pid" || vm_rc=$?
	vm_pid=
	wait "$show" || true
	[ -z "${PC_QEMU_LOG:-}" ] || cp "$log" "$PC_QEMU_LOG"
}

ensure_packages
ensure_kernel
work=$(mktemp -d /tmp/pc-qemu.XXXXXX)
t0=$SECONDS
build_initramfs
say "initramfs $(du -h "$work/initrd.gz" | cut -f1), modules: ${mod_files[*]}"
run_vm
secs=$((SECONDS - t0))

summary=$(sed -nE 's/^pc-qemu: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$log" | tail -n 1)
passed=${summary% *} failed=${summary#* }
if [ -z "$summary" ]; then
	passed=0 failed=1
	if [ "$vm_rc" -eq 124 ] || [ "$vm_rc" -eq 137 ]; then
		say "the guest timed out after ${vm_timeout}s"
	else
		say "the guest ended without a summary (emulator exit $vm_rc)"
	fi
fi
say "guest run took ${secs}s"
printf 'qemu: %s passed, %s failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
