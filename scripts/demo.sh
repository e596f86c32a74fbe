#!/usr/bin/env bash
# make demo: boot the patched kernel, show AnyCall at work (the selftest
# run: bursts, data flow between calls, error branches, seccomp, signals)
# and its speed-up against direct system calls.
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"
out=$("$TOP/scripts/build-selftests.sh")
echo "== AnyCall in the patched kernel $(cat "$KOBJ/include/config/kernel.release"): the selftest"
"$TOP/qemu-images/run-in-vm" --timeout 1200 \
	--add "$out/anycall_progs.bpf.o" --add "$out/anycall_bad.bpf.o" \
	--add "$out/anycall_bench.bpf.o" --add "$out/anycall_bench" \
	-- sh -c "$out/anycall_test | grep -E '^(ok|not ok|# Totals)'; echo; $out/anycall_bench ns"
