#!/usr/bin/env bash
# The kernel's own suites that the series could break, run in the patched
# debug kernel:
# - tools/testing/selftests/seccomp/seccomp_bpf (AnyCall's inner calls go
#   through seccomp_check_nested());
# - tools/testing/selftests/bpf/test_verifier with bpf_testmod.ko loaded
#   (the series changes the verifier).
# Every test must pass. seccomp_bpf reports what it cannot test as XFAIL
# ("SKIP" is XFAIL there), which fails here too, since the debug kernel has
# every option it asks for (qemu-images/suites.config). test_verifier may
# skip only programs of types this kernel is built without; with its test
# module and BPF LSM in the kernel, every other test can pass on the
# unpatched kernel, so any failure here is one the series caused.
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"
"$TOP/scripts/kernel-source.sh" >&2
grep -qx CONFIG_MODULES=y "$KOBJ/.config" ||
	{ echo "run-kernel-suites: needs the debug kernel (FLAVOR=debug make kernel)" >&2; exit 1; }
kmake -s headers >&2

# Static: the guest has no dynamic loader.
seccomp=$BUILD/selftests/seccomp
mkdir -p "$seccomp"
make -s -C "$KSRC/tools/testing/selftests/seccomp" OUTPUT="$seccomp" \
	KHDR_INCLUDES="-isystem $KOBJ/usr/include" \
	LDFLAGS="-static -pthread" "$seccomp/seccomp_bpf" >&2

bpf=$BUILD/selftests/bpf
mkdir -p "$bpf/guest"
bpfsrc=$KSRC/tools/testing/selftests/bpf
# libbpf first, as a shared and a static library: LDLIBS below would make
# its shared one static too.
make -s -C "$bpfsrc" OUTPUT="$bpf" O="$KOBJ" "$bpf/tools/build/libbpf/libbpf.a" >/dev/null
make -s -C "$bpfsrc" OUTPUT="$bpf" O="$KOBJ" "$bpf/test_verifier" \
	LDLIBS="-static -lelf -lz -lzstd -lrt -lpthread" >/dev/null
# The test module, built out of tree in a copy so that the source tree
# stays as the series left it.
rm -rf "$bpf/bpf_testmod" && cp -r "$bpfsrc/bpf_testmod" "$bpf/bpf_testmod"
kmake -s M="$bpf/bpf_testmod" modules >&2
cp "$bpf/test_verifier" "$bpf/bpf_testmod/bpf_testmod.ko" "$bpf/guest/"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0
"$TOP/qemu-images/run-in-vm" --timeout 1200 --add "$seccomp/seccomp_bpf" \
	-- "$seccomp/seccomp_bpf" | tee "$log" || rc=$?
if grep -aE '^ok [0-9]+ .*# (SKIP|XFAIL)' "$log"; then
	echo "run-kernel-suites: seccomp_bpf could not run the tests above" >&2
	rc=1
fi
grep -aE '^# Totals:|^# FAILED:|^# PASSED:' "$log" >&2 || true

# test_verifier loads ./bpf_testmod.ko itself; its unprivileged half needs
# unprivileged BPF, which the kernel's default leaves off. Its scale tests
# need more than 1G next to KASAN's shadow and the initramfs.
"$TOP/qemu-images/run-in-vm" --timeout 1800 --mem 3G --add "$bpf/guest=/suites/bpf" \
	-- sh -c 'echo 0 >/proc/sys/kernel/unprivileged_bpf_disabled &&
		cd /suites/bpf && ./test_verifier' >"$log" 2>&1 || rc=$?
grep -aE 'FAIL|^Summary:' "$log" || { tail -20 "$log"; rc=1; }
summary=$(grep -a '^Summary:' "$log" || true)
case $summary in
*" 0 FAILED"*) ;;
*) echo "run-kernel-suites: test_verifier failed (log: above)" >&2; rc=1 ;;
esac
# A skip is fine only for a program type the kernel was built without.
if grep -a 'SKIP' "$log" | grep -av 'unsupported program type\|SKIP (unsupported' | grep -q .; then
	grep -a 'SKIP' "$log" | sort | uniq -c | sort -rn | head -20 >&2
fi
exit "$rc"
