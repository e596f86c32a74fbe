#!/usr/bin/env bash
# Run the anycall kselftest inside the patched kernel. A skipped test is
# a failure here: make test counts nothing that did not run as passed.
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"
out=$("$TOP/scripts/build-selftests.sh")
# anycall_test, anycall_security, then anycall_faults; SELFTEST=NAME runs
# one of them (with harness options such as -r sec.verifier).
tests=${SELFTEST:-"anycall_test anycall_security anycall_faults"}
adds=()
for f in anycall_progs.bpf.o anycall_bad.bpf.o anycall_security.bpf.o \
	anycall_freplace.bpf.o verifier_anycall.bpf.o anycall_faults.bpf.o \
	anycall_compat32 $tests; do
	adds+=(--add "$out/$f")
done
script="rc=0; for t in $tests; do $out/\$t \"\$@\" || rc=1; done; exit \$rc"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0
"$TOP/qemu-images/run-in-vm" --timeout 1500 "${adds[@]}" \
	-- sh -c "$script" sh "$@" | tee "$log" || rc=$?
if grep -aE '^ok [0-9]+ .*# SKIP' "$log"; then
	echo "run-selftests: the tests above were skipped; here that is a failure" >&2
	rc=1
fi
exit "$rc"
