#!/usr/bin/env bash
# make demo: build the patched kernel (without lock debugging, so that the
# figures mean something), boot it, show AnyCall at work (the selftest run:
# bursts, data flow between calls, error branches, seccomp, signals) and
# its speed against direct system calls.
set -euo pipefail
export FLAVOR=bench
. "$(dirname "$0")/kernel-env.sh"
"$TOP/scripts/kernel-build.sh"
out=$("$TOP/scripts/build-selftests.sh")
(cd "$TOP/userspace" && cargo build --quiet --release -p anycall-examples --bin anycall-demo)
demo=$TOP/userspace/target/x86_64-unknown-linux-gnu/release/anycall-demo
files=(--add "$out/anycall_test" --add "$out/anycall_progs.bpf.o" --add "$out/anycall_bad.bpf.o"
	--add "$out/anycall_bench.bpf.o" --add "$out/anycall_bench")
echo
echo "== AnyCall in the patched kernel $(cat "$KOBJ/include/config/kernel.release"): its selftest"
"$TOP/qemu-images/run-in-vm" --kernel "$BZIMAGE" --timeout 1200 "${files[@]}" \
	-- sh -c "$out/anycall_test >/tmp/selftest.log 2>&1; rc=\$?
		grep -E '^(ok|not ok|# Totals)' /tmp/selftest.log; exit \$rc"
echo
echo "== From Rust: a chain and a burst of stat calls (QEMU -icount: 1 ns = 1 guest instruction)"
"$TOP/qemu-images/run-in-vm" --kernel "$BZIMAGE" --smp 1 --accel tcg --icount -- "$demo" 2>&1 |
	grep -v 'icount sleep'
echo
echo "== Its speed, counted in guest instructions (QEMU -icount: repeatable to a few instructions)"
"$TOP/qemu-images/run-in-vm" --kernel "$BZIMAGE" --smp 1 --accel tcg --icount "${files[@]}" \
	-- "$out/anycall_bench" instructions 2>&1 | grep -v 'icount sleep'
echo
echo "Emulation charges a mode switch only its instructions; hardware also pays"
echo "for serialisation, page-table switches and buffer flushes, so speed-ups on"
echo "real machines are larger. 'make bench' runs the benchmark; 'make test' all tests."
