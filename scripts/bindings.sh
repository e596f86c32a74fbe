#!/usr/bin/env bash
# bindings.sh [--check]: generate userspace/anycall-sys/src/bindings.rs with
# bindgen from the series' uapi headers (as installed by the kernel build);
# --check fails when the checked-in file differs (make test).
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"
kmake -s headers
crate=$TOP/userspace/anycall-sys
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$BINDGEN_BIN" "$crate/wrapper.h" \
	--allowlist-var 'ANYCALL_.*' --allowlist-var '__NR_anycall' \
	--allowlist-var 'BPF_F_SLEEPABLE' --allowlist-type 'bpf_prog_type' \
	--no-layout-tests --no-doc-comments \
	-- -isystem "$KOBJ/usr/include" >"$out"
if [ "${1:-}" = --check ]; then
	if ! diff -u "$crate/src/bindings.rs" "$out"; then
		echo "bindings: userspace/anycall-sys/src/bindings.rs is stale; run 'make bindings'" >&2
		exit 1
	fi
	echo "bindings: userspace/anycall-sys/src/bindings.rs matches the series' uapi"
else
	cp "$out" "$crate/src/bindings.rs"
	echo "bindings: wrote userspace/anycall-sys/src/bindings.rs"
fi
