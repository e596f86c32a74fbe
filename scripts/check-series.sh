#!/usr/bin/env bash
# check-series.sh (make check-series): every patch applies with git am to
# the base, checkpatch.pl --strict reports nothing, the series file and the
# patch files agree, and the series carries rust-anycall/ exactly.
set -uo pipefail
. "$(dirname "$0")/kernel-env.sh"
"$TOP/scripts/kernel-source.sh" >/dev/null || exit 1

failed=0
fail() { echo "check-series: FAIL: $*"; failed=1; }

# The series file names every patch, and every patch is in it.
listed=$(series_patches | xargs -r -n1 basename | sort)
present=$(cd "$PATCHES" && ls [0-9][0-9][0-9][0-9]-*.patch 2>/dev/null | grep -v '^0000-' | sort)
[ "$listed" = "$present" ] || fail "linux-patches/series and the patch files differ"
[ -n "$listed" ] || fail "the series is empty"
[ -f "$PATCHES/0000-cover-letter.patch" ] || fail "no cover letter (0000-cover-letter.patch)"

export GIT_COMMITTER_NAME=anycall-build GIT_COMMITTER_EMAIL=build@anycall.invalid
git -C "$KAM" am --abort >/dev/null 2>&1 || true
git -C "$KAM" checkout -q -f --detach base
git -C "$KAM" clean -q -fdx
while read -r patch; do
	name=$(basename "$patch")
	if ! git -C "$KAM" am -q "$patch" >/dev/null 2>&1; then
		git -C "$KAM" am --abort >/dev/null 2>&1
		fail "$name does not apply with git am"
		break
	fi
	# Errors and warnings fail; CHECKs (e.g. TRACE_EVENT's customary layout) are shown.
	report=$(checkpatch --strict --quiet "$patch" 2>&1)
	if echo "$report" | grep -q '^\(ERROR\|WARNING\):'; then
		fail "checkpatch.pl --strict on $name:"
		echo "$report" | sed 's/^/    /'
	elif [ -n "$report" ]; then
		echo "check-series: $name: $(echo "$report" | tail -1)"
	fi
done < <(series_patches)

for f in "${RUST_FILES[@]}"; do
	if ! cmp -s "$TOP/rust-anycall/$f" "$KAM/$RUST_DIR/$f"; then
		fail "$RUST_DIR/$f in the series differs from rust-anycall/$f; run 'make series'"
	fi
done
for f in "${RUST_FILES[@]}"; do
	/usr/bin/rustfmt --check --config-path "$KSRC/.rustfmt.toml" "$TOP/rust-anycall/$f" >/dev/null 2>&1 ||
		fail "rust-anycall/$f is not rustfmt-clean (kernel .rustfmt.toml)"
done

if [ "$failed" = 0 ]; then
	echo "check-series: $(echo "$listed" | wc -l) patches apply to $(installed_base_version), checkpatch --strict clean, in sync with rust-anycall/"
fi
exit "$failed"
