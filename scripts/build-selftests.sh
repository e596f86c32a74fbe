#!/usr/bin/env bash
# Build tools/testing/selftests/anycall from the patched tree against its
# installed uapi headers; prints the output directory.
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"
out=$BUILD/selftests/anycall
mkdir -p "$out"
kmake -s headers >&2
make -s -C "$KSRC/tools/testing/selftests/anycall" OUTPUT="$out" \
	KHDR_INCLUDES="-isystem $KOBJ/usr/include" >&2
echo "$out"
