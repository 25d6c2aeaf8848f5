#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# test_basic and test_pod again, with every hook run under valgrind: a
# memory error or a definite leak in any run fails the test.
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
hook=${PORTCULLIS_HOOK:-$dir/../../build/bin/portcullis-hook}
command -v valgrind >/dev/null || { echo "SKIP: valgrind missing" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root" >&2; exit 77; }

tmp=$(mktemp -d /tmp/pcti-vg.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/hook" <<WRAP
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	--suppressions="$dir/../tools/valgrind-libbpf.supp" \
	--log-file="$tmp/vg.%p" "$hook" "\$@"
WRAP
chmod +x "$tmp/hook"

for t in test_basic test_pod; do
	PORTCULLIS_HOOK=$tmp/hook TI_HOOK_TIMEOUT=120 "$dir/$t.sh" || {
		echo "[test_valgrind] FAIL: $t under valgrind" >&2
		cat "$tmp"/vg.* >&2 2>/dev/null || true
		exit 1
	}
done
runs=$(find "$tmp" -name 'vg.*' | wc -l)
[ "$runs" -ge 6 ] || { echo "[test_valgrind] FAIL: only $runs hook runs seen" >&2; exit 1; }
if [ -n "$(find "$tmp" -name 'vg.*' -size +0)" ]; then
	echo "[test_valgrind] FAIL: valgrind reported:" >&2
	cat "$tmp"/vg.* >&2
	exit 1
fi
echo "[test_valgrind] $runs hook runs clean under valgrind" >&2
