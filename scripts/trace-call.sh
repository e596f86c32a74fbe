#!/usr/bin/env bash
# make trace-call [CALL=...]: where the instructions of one system call go.
# Boots the bench kernel under QEMU with its gdb stub, has the guest make
# one kind of call in a loop, and follows one of them with gdb from the
# syscall entry to the return to user space, one instruction at a time.
#
# CALL is a program of the benchmark's anycall_bench.bpf.o run by anycall()
# (empty, getppid_x1, getppid_x64, call_loop, ...), or "direct" (getppid()
# called directly), or "nosys" (a direct call with no such number).
set -euo pipefail
export FLAVOR=bench
. "$(dirname "$0")/kernel-env.sh"
call=${1:-empty}
command -v gdb >/dev/null || { echo "trace-call: needs gdb (make deps installs it)" >&2; exit 1; }
if ss -ltn 2>/dev/null | grep -q ':1234 '; then
	echo "trace-call: TCP port 1234 (QEMU's gdb stub) is in use" >&2
	exit 1
fi

"$TOP/scripts/kernel-build.sh" >&2
out=$("$TOP/scripts/build-selftests.sh")
work=$BUILD/trace-call
mkdir -p "$work"
gcc -O2 -Wall -static -isystem "$KOBJ/usr/include" -I"$out/libbpf/include" \
	"$TOP/scripts/trace-call/loop.c" "$out/libbpf/libbpf.a" -lelf -lz -o "$work/loop"

log=$work/guest.log
# In a session of its own, so that QEMU goes with it when the trace is done.
ANYCALL_QEMU_EXTRA="-s" setsid "$TOP/qemu-images/run-in-vm" --kernel "$BZIMAGE" --smp 1 \
	--accel tcg --timeout 600 --add "$out/anycall_bench.bpf.o=/bench.bpf.o" \
	--add "$work/loop=/loop" -- /loop /bench.bpf.o "$call" >"$log" 2>&1 &
vm=$!
trap 'kill -- -$vm 2>/dev/null || true' EXIT
for _ in $(seq 120); do
	grep -q 'loop: ready' "$log" && break
	kill -0 $vm 2>/dev/null || { cat "$log" >&2; echo "trace-call: the guest ended" >&2; exit 1; }
	sleep 1
done
grep -q 'loop: ready' "$log" || { cat "$log" >&2; echo "trace-call: the guest never got ready" >&2; exit 1; }

echo "== one call of '$call', instruction by instruction (bench kernel, TCG)"
TRACE_SYSTEM_MAP=$KOBJ/System.map gdb -batch -nx -x "$TOP/scripts/trace-call/trace.py" \
	"$KOBJ/vmlinux" 2>/dev/null | sed -n '/^instructions from/,/^Kill/p' | grep -v '^Kill'
[ "${PIPESTATUS[0]}" = 0 ] || { echo "trace-call: gdb failed" >&2; exit 1; }
wait $vm 2>/dev/null || true
trap - EXIT
