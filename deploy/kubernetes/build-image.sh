#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The image of the portcullis DaemonSet, from this tree's own build: the
# Debian package (cmake --build BUILD --target package) installed into a
# minimal Debian 12 root that mmdebstrap makes from the Debian archive,
# written as an OCI image archive of one layer.  No registry is involved:
# load the archive where it runs (`ctr -n k8s.io images import ARCHIVE` on
# a containerd node, `podman load -i ARCHIVE`), or push it with a tool of
# your choice.
#
#     deploy/kubernetes/build-image.sh [--build DIR] [--out FILE] [--name NAME]
#
#   --build DIR   the CMake build (default: build); the package is made there
#   --out FILE    the archive (default: DIR/portcullis-image-VERSION.oci.tar)
#   --name NAME   the image's name (default: localhost/portcullis:VERSION,
#                 as daemonset.yaml names it)
#
# Needs root (mmdebstrap's root mode), mmdebstrap, jq, and the Debian archive
# (http://deb.debian.org/debian, or MMDEBSTRAP_MIRROR).  Takes 1-2 minutes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/build
out=
name=

usage() { sed -n 's/^#     //p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$(realpath "$2"); shift 2 ;;
	--out) out=$2; shift 2 ;;
	--name) name=$2; shift 2 ;;
	*) usage ;;
	esac
done
die() { echo "build-image: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (mmdebstrap makes the root as root)"
for c in mmdebstrap jq dpkg-deb sha256sum cmake; do
	command -v "$c" >/dev/null || die "missing $c (Debian: apt-get install mmdebstrap jq)"
done
version=$(sed -n 's/^project(portcullis VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
out=${out:-$build/portcullis-image-$version.oci.tar}
name=${name:-localhost/portcullis:$version}

echo "build-image: the package, from $build" >&2
cmake --build "$build" --target package >/dev/null
deb=$build/portcullis_${version}_$(dpkg --print-architecture).deb
[ -f "$deb" ] || die "no package at $deb"
# what the binaries need, as the package says it (versions dropped)
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/ //g' | paste -sd, -)

tmp=$(mktemp -d /tmp/pc-image.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp "$deb" "$tmp/portcullis.deb"
echo "build-image: Debian 12 root with $deps" >&2
# essential: dpkg and what every Debian system has, no apt; then the
# package's dependencies and the package itself, documentation left out
# (the hooks' "$1" is mmdebstrap's, the root being made)
# shellcheck disable=SC2016
mmdebstrap --quiet --variant=essential --include="$deps" \
	--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/portcullis/*' \
	--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
	--customize-hook="copy-in $tmp/portcullis.deb /tmp" \
	--customize-hook='chroot "$1" dpkg -i /tmp/portcullis.deb' \
	--customize-hook='rm -f "$1"/tmp/portcullis.deb "$1"/var/log/*.log "$1"/var/cache/ldconfig/aux-cache' \
	bookworm "$tmp/layer.tar" ${MMDEBSTRAP_MIRROR:+"$MMDEBSTRAP_MIRROR"} ||
	die "mmdebstrap failed"

# the OCI layout: the root as one uncompressed layer, its config, a
# manifest, and an index naming the image for containerd and podman
oci=$tmp/oci
mkdir -p "$oci/blobs/sha256"
blob() { # FILE -> its digest; the file becomes a blob
	local d
	d=$(sha256sum "$1" | cut -d' ' -f1)
	mv "$1" "$oci/blobs/sha256/$d"
	printf 'sha256:%s' "$d"
}
layer_size=$(stat -c %s "$tmp/layer.tar")
layer=$(blob "$tmp/layer.tar")
jq -cn --arg l "$layer" --arg v "$version" '{architecture: "amd64", os: "linux",
	config: {Env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["portcullis-dp", "--foreground"],
		Labels: {"org.opencontainers.image.title": "portcullis",
			"org.opencontainers.image.version": $v}},
	rootfs: {type: "layers", diff_ids: [$l]}}' | tr -d '\n' >"$tmp/config.json"
cfg_size=$(stat -c %s "$tmp/config.json")
cfg=$(blob "$tmp/config.json")
jq -cn --arg c "$cfg" --argjson cs "$cfg_size" --arg l "$layer" --argjson ls "$layer_size" \
	'{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
	config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
	layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' |
	tr -d '\n' >"$tmp/manifest.json"
man_size=$(stat -c %s "$tmp/manifest.json")
man=$(blob "$tmp/manifest.json")
jq -n --arg m "$man" --argjson ms "$man_size" --arg n "$name" '{schemaVersion: 2,
	manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m,
	size: $ms, platform: {architecture: "amd64", os: "linux"},
	annotations: {"io.containerd.image.name": $n, "org.opencontainers.image.ref.name": $n}}]}' \
	>"$oci/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$oci/oci-layout"
mkdir -p "$(dirname "$out")"
tar -C "$oci" --sort=name --owner=0 --group=0 --numeric-owner -cf "$out.new" .
mv "$out.new" "$out"
echo "build-image: $name in $out ($(du -h "$out" | cut -f1))" >&2
