#!/usr/bin/env bash
# Lint the kernel's Rust for the series: clippy on the AnyCall dispatch with
# the exact flags Kbuild used (as CLIPPY=1 would, without invalidating the
# build), and `make rustfmtcheck`.
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"
cmdfile=$KOBJ/$RUST_DIR/.dispatch.o.cmd
[ -f "$cmdfile" ] || { echo "check-rust: $cmdfile missing; run 'make kernel'" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cmd=$(sed -n 's/^savedcmd_[^ ]* := //p' "$cmdfile")
# Same command, through clippy-driver, writing into a scratch directory.
cmd=${cmd/\/usr\/bin\/rustc /\/usr\/bin\/clippy-driver }
cmd=$(echo "$cmd" | sed -e "s|--emit=obj=[^ ]*|--emit=obj=$out/dispatch.o|" \
	-e "s|--emit=dep-info=[^ ]*|--emit=dep-info=$out/dispatch.d|" \
	-e "s|--emit=metadata=[^ ]*|--emit=metadata=$out/dispatch.rmeta|")
log=$out/clippy.log
(cd "$KOBJ" && export RUSTC_BOOTSTRAP=1 && eval "$cmd") >"$log" 2>&1 || { cat "$log"; exit 1; }
if [ -s "$log" ]; then
	echo "check-rust: clippy reports:"
	cat "$log"
	exit 1
fi
kmake -s rustfmtcheck
echo "check-rust: clippy and rustfmt clean"
