#!/usr/bin/env bash
# export-series.sh [TREE]: write the commits base..HEAD of a kernel tree
# (default build/linux-dev, see dev-tree.sh) to linux-patches/ as the
# series, keeping the hand-written cover letter, then sync the Rust files
# from rust-anycall/ (make series).
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"
tree=${1:-$BUILD/linux-dev}
git -C "$tree" rev-parse -q --verify base >/dev/null ||
	{ echo "export-series: $tree has no 'base' tag" >&2; exit 1; }
if [ -e "$(git -C "$tree" rev-parse --git-path rebase-merge)" ] ||
	[ -e "$(git -C "$tree" rev-parse --git-path rebase-apply)" ]; then
	echo "export-series: $tree is in the middle of a rebase or git am; finish it first" >&2
	exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
git -C "$tree" format-patch -q --no-signature --zero-commit -o "$out" base..HEAD
find "$PATCHES" -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-*' -delete
{
	echo "# git am order; 0000-cover-letter.patch is not applied"
	for p in "$out"/*.patch; do basename "$p"; done
} >"$PATCHES/series"
mv "$out"/*.patch "$PATCHES/"
echo "export-series: $(grep -vc '^#' "$PATCHES/series") patches written to linux-patches/"
