#!/usr/bin/env bash
# make-series.sh (make series): regenerate linux-patches/ so that the patch
# carrying the Rust dispatch carries rust-anycall/*.rs exactly. The Rust
# files are added by one patch and not touched by later ones.
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"
"$TOP/scripts/kernel-source.sh" >/dev/null

export GIT_COMMITTER_NAME=anycall-build GIT_COMMITTER_EMAIL=build@anycall.invalid
git -C "$KAM" am --abort >/dev/null 2>&1 || true
git -C "$KAM" checkout -q -f --detach base
git -C "$KAM" clean -q -fdx
synced=0
while read -r patch; do
	git -C "$KAM" am -q --committer-date-is-author-date "$patch"
	if grep -q "^+++ b/$RUST_DIR/dispatch.rs" "$patch"; then
		for f in "${RUST_FILES[@]}"; do
			cp "$TOP/rust-anycall/$f" "$KAM/$RUST_DIR/$f"
			git -C "$KAM" add -f "$RUST_DIR/$f"
		done
		git -C "$KAM" diff --cached --quiet ||
			git -C "$KAM" commit -q --amend --no-edit
		synced=1
	fi
done < <(series_patches)
[ "$synced" = 1 ] || { echo "make-series: no patch adds $RUST_DIR/dispatch.rs" >&2; exit 1; }
"$TOP/scripts/export-series.sh" "$KAM"
# The build tree follows the next `make kernel`.
rm -f "$BUILD/.series-applied"
