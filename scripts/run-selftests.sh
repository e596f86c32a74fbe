#!/usr/bin/env bash
# Run the anycall kselftest inside the patched kernel.
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"
out=$("$TOP/scripts/build-selftests.sh")
# anycall_test, then anycall_security; SELFTEST=NAME runs one of them (with
# harness options such as -r sec.verifier).
tests=${SELFTEST:-"anycall_test anycall_security"}
adds=()
for f in anycall_progs.bpf.o anycall_bad.bpf.o anycall_security.bpf.o \
	anycall_freplace.bpf.o verifier_anycall.bpf.o anycall_compat32 $tests; do
	adds+=(--add "$out/$f")
done
script="rc=0; for t in $tests; do $out/\$t \"\$@\" || rc=1; done; exit \$rc"
exec "$TOP/qemu-images/run-in-vm" --timeout 1200 "${adds[@]}" \
	-- sh -c "$script" sh "$@"
