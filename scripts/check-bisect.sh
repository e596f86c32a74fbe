#!/usr/bin/env bash
# make check-bisect (not in CI): build bzImage at every prefix of the series,
# in a tree and object directory of its own, so that every patch builds.
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"
"$TOP/scripts/kernel-source.sh" >/dev/null
tree=$BUILD/linux-bisect obj=$BUILD/kernel-bisect
[ -d "$tree" ] || git -C "$KSRC" worktree add -q --detach "$tree" base
mkdir -p "$obj"
export GIT_COMMITTER_NAME=anycall-build GIT_COMMITTER_EMAIL=build@anycall.invalid
git -C "$tree" checkout -q -f --detach base
n=0
while read -r patch; do
	n=$((n + 1))
	git -C "$tree" am -q "$patch"
	echo "check-bisect: [$n] $(git -C "$tree" log -1 --format=%s)"
	make -s -C "$tree" O="$obj" "${KMAKE_RUST[@]}" allnoconfig
	(cd "$obj" && "$tree/scripts/kconfig/merge_config.sh" -m -O "$obj" .config "${FRAGMENTS[@]}" >/dev/null)
	make -s -C "$tree" O="$obj" "${KMAKE_RUST[@]}" olddefconfig
	make -s -C "$tree" O="$obj" "${KMAKE_RUST[@]}" -j"$(nproc)" bzImage ||
		{ echo "check-bisect: the series does not build after $(basename "$patch")" >&2; exit 1; }
done < <(series_patches)
echo "check-bisect: all $n prefixes build"
