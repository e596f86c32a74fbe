#!/usr/bin/env bash
# make bench-kernel: the in-guest micro-benchmark, once with a deterministic
# clock that counts instructions (-icount shift=0,sleep=off) and once under
# plain TCG (nanoseconds), each from one boot, on the kernel without lock
# debugging (FLAVOR=bench).
set -euo pipefail
export FLAVOR=bench
. "$(dirname "$0")/kernel-env.sh"
"$TOP/scripts/kernel-build.sh"
out=$("$TOP/scripts/build-selftests.sh")
vm() { # vm UNIT [run-in-vm options]
	local unit=$1
	shift
	"$TOP/qemu-images/run-in-vm" --kernel "$BZIMAGE" --smp 1 --add "$out/anycall_bench.bpf.o" "$@" \
		-- "$out/anycall_bench" "$unit"
}
echo "== guest instructions (QEMU -icount shift=0,sleep=off: repeatable to a few instructions)"
vm instructions --accel tcg --icount
echo
echo "== guest nanoseconds under TCG (varies between boots)"
vm ns --accel tcg
echo
echo "Under emulation a mode switch costs only its instructions; on hardware it"
echo "also serialises, switches page tables and flushes buffers, so the speed-ups"
echo "above are lower bounds of what real machines show."
