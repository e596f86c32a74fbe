#!/usr/bin/env bash
# Run the anycall kselftest inside the patched kernel.
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"
out=$("$TOP/scripts/build-selftests.sh")
exec "$TOP/qemu-images/run-in-vm" --timeout 1200 \
	--add "$out/anycall_progs.bpf.o" --add "$out/anycall_bad.bpf.o" \
	-- "$out/anycall_test" "$@"
