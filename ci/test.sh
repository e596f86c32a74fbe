#!/usr/bin/env bash
# make test: every suite, on the host and inside the patched kernel.
# Ends with one line "N passed, N failed"; exits non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-$PWD/build}

passed=0 failed=0
failures=()
step() {
	local name=$1 start=$SECONDS
	shift
	echo "=== $name"
	if "$@"; then
		passed=$((passed + 1))
		echo "--- PASS: $name ($((SECONDS - start)) s)"
	else
		failed=$((failed + 1))
		failures+=("$name")
		echo "--- FAIL: $name ($((SECONDS - start)) s)"
	fi
}

step "host: run-in-vm log scan" qemu-images/tests/test-scan-log.sh
step "host: dispatch policy (unit + property tests)" \
	cargo test --quiet --manifest-path rust-anycall/host/Cargo.toml
step "host: rustfmt and clippy (userspace/, rust-anycall/host/)" bash -c '
	set -e
	for dir in userspace rust-anycall/host; do
		(cd "$dir" && cargo fmt --all --check && cargo clippy --quiet --workspace --all-targets -- -D warnings)
	done'
step "host: rustdoc without broken links (userspace/)" bash -c '
	cd userspace && RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps --workspace'
step "kernel: build" bash scripts/kernel-build.sh
step "kernel: series applies, checkpatch --strict, in sync" bash scripts/check-series.sh
step "kernel: every patch builds on arm64 (kernel/, kernel/bpf/)" bash scripts/check-arm64.sh
step "kernel: Rust clippy and rustfmt" bash scripts/check-rust.sh
step "userspace: anycall-sys bindings match the series' uapi" bash scripts/bindings.sh --check
step "userspace: cargo test (unit tests on the host, guest_* tests in the VM)" \
	bash -c 'cd userspace && cargo test --quiet --workspace'
step "userspace: C examples built against the installed libanycall, run in the VM" \
	bash scripts/c-examples.sh
step "docs: usage.md shows the tested examples" bash scripts/usage-doc.sh --check
step "guest: kselftest anycall (tests, security, fault injection)" bash scripts/run-selftests.sh
step "guest: the kernel's own suites (seccomp_bpf, test_verifier)" bash scripts/run-kernel-suites.sh
# A fixed seed, so that a red run can be replayed; `make fuzz` picks one.
step "guest: differential fuzzer, 120 s" env FUZZ_SEED=0x5eed FUZZ_BUDGET=120 bash scripts/run-fuzz.sh

for f in "${failures[@]}"; do echo "failed: $f"; done
echo "make test took $((SECONDS / 60)) min $((SECONDS % 60)) s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
