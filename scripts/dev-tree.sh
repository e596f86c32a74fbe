#!/usr/bin/env bash
# dev-tree.sh: make build/linux-dev, a git worktree of the base with the
# series applied as commits, for changing patches: edit, commit (or
# `git commit --fixup` and `git rebase -i --autosquash base`), then
# `make export-series`.
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"
"$TOP/scripts/kernel-source.sh"
dev=$BUILD/linux-dev
if [ -d "$dev" ]; then
	echo "dev-tree: $dev exists; remove it first to start again" >&2
	exit 1
fi
git -C "$KSRC" worktree add -q -B dev "$dev" base
mapfile -t patches < <(series_patches)
git -C "$dev" am -q "${patches[@]}"
echo "dev-tree: $dev has the series as $(git -C "$dev" rev-list --count base..HEAD) commits on branch dev"
