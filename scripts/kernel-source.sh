#!/usr/bin/env bash
# Prepare build/linux: the pristine base as the first commit, the series
# applied on top with git am. Only files whose content changed are
# rewritten, so the kernel build afterwards stays incremental.
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"

[ -f "$BASE_TARBALL" ] || {
	echo "kernel: $BASE_TARBALL is missing; run 'make deps'" >&2
	exit 1
}
have=$(installed_base_version)
want=$(recorded_base_version)
base_stamp=$BUILD/.base-version

export GIT_AUTHOR_NAME=anycall-build GIT_AUTHOR_EMAIL=build@anycall.invalid
export GIT_COMMITTER_NAME=anycall-build GIT_COMMITTER_EMAIL=build@anycall.invalid

if [ "$(cat "$base_stamp" 2>/dev/null)" != "$have" ] || [ ! -d "$KSRC/.git" ]; then
	echo "kernel: unpacking base $have from $BASE_TARBALL"
	rm -rf "$KSRC" "$KAM" "$KOBJ" "$BUILD/.series-applied"
	mkdir -p "$KSRC"
	tar -xf "$BASE_TARBALL" -C "$KSRC" --strip-components=1
	git -C "$KSRC" init -q -b pristine
	git -C "$KSRC" config core.autocrlf false
	git -C "$KSRC" config gc.auto 0
	git -C "$KSRC" add -A -f  # Debian's .gitignore ignores the top level
	GIT_AUTHOR_DATE="@0 +0000" GIT_COMMITTER_DATE="@0 +0000" \
		git -C "$KSRC" commit -q -m "Linux $have (Debian linux-source-6.12)"
	git -C "$KSRC" tag base
	git -C "$KSRC" worktree add -q --detach "$KAM" base
	echo "$have" >"$base_stamp"
fi

if [ "$have" != "$want" ]; then
	echo "kernel: WARNING: the series was made against $want, the installed base is $have;" >&2
	echo "kernel: WARNING: trying it on $have" >&2
fi

# Hash of everything that decides the applied tree.
series_id=$( { echo "$have"; cat "$PATCHES/series"; series_patches | xargs -r cat; } | sha256sum | cut -c1-16)
if [ "$(cat "$BUILD/.series-applied" 2>/dev/null)" = "$series_id" ]; then
	exit 0
fi

git -C "$KAM" am --abort >/dev/null 2>&1 || true
git -C "$KAM" checkout -q -f --detach base
git -C "$KAM" clean -q -fdx
mapfile -t patches < <(series_patches)
if [ ${#patches[@]} -gt 0 ] &&
	! git -C "$KAM" am -q --committer-date-is-author-date "${patches[@]}"; then
	git -C "$KAM" am --abort >/dev/null 2>&1 || true
	if [ "$have" != "$want" ]; then
		echo "kernel: the series does not apply to the installed base $have (made against $want)." >&2
		echo "kernel: rebase linux-patches/ onto $have, or install linux-source-6.12 $want." >&2
	else
		echo "kernel: the series does not apply to its base $want; see the git am output above" >&2
	fi
	exit 1
fi
# Move the build tree to the result: git rewrites only the files that differ.
git -C "$KSRC" checkout -q -f --detach "$(git -C "$KAM" rev-parse HEAD)"
echo "$series_id" >"$BUILD/.series-applied"
echo "kernel: applied ${#patches[@]} patches on $have"
