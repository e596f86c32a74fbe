#!/usr/bin/env bash
# Build tools/testing/selftests/anycall from the patched tree against its
# installed uapi headers; prints the output directory.
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"
out=$BUILD/selftests/anycall
"$TOP/scripts/kernel-source.sh" >&2
mkdir -p "$out"
kmake -s headers >&2
log=$(make -s -C "$KSRC/tools/testing/selftests/anycall" OUTPUT="$out" \
	KHDR_INCLUDES="-isystem $KOBJ/usr/include" 2>&1) || { echo "$log" >&2; exit 1; }
# The selftests build without -Werror, as upstream; a warning still fails here.
if echo "$log" | grep -q 'warning:'; then
	echo "$log" >&2
	echo "build-selftests: the selftests build with warnings" >&2
	exit 1
fi
echo "$out"
