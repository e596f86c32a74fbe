#!/usr/bin/env bash
# make bench-kernel: the in-guest micro-benchmark, once with a deterministic
# clock that counts instructions (-icount shift=0,sleep=off) and once under
# plain TCG (nanoseconds), each from one boot.
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"
out=$("$TOP/scripts/build-selftests.sh")
vm() {
	"$TOP/qemu-images/run-in-vm" --smp 1 --add "$out/anycall_bench.bpf.o" "$@" \
		-- "$out/anycall_bench"
}
echo "== guest instructions (QEMU -icount shift=0,sleep=off: exact, repeatable)"
vm --accel tcg --icount instructions
echo
echo "== guest nanoseconds under TCG (varies between boots)"
vm --accel tcg ns
echo
echo "Under emulation a mode switch costs only its instructions; on hardware it"
echo "also serialises, switches page tables and flushes buffers, so the speed-ups"
echo "above are lower bounds of what real machines show."
