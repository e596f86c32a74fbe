# Shared settings for the kernel scripts; sourced, not run.
# shellcheck shell=bash

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
KSRC=$BUILD/linux          # git tree: pristine base, then the series
KAM=$BUILD/linux-am        # worktree where the series is applied with git am
BASE_TARBALL=/usr/src/linux-source-6.12.tar.xz
PATCHES=$TOP/linux-patches

# Kernels from one tree: "debug" (default, what `make test` boots) adds
# lock and atomic-sleep debugging, KASAN, UBSAN, kmemleak and fault
# injection, built with clang (KASAN with Rust needs it); "test" is the
# same without the sanitizers, built with gcc, quicker to build while
# iterating on a patch; "bench" is the plain config, for figures that
# mean something.
FLAVOR=${FLAVOR:-debug}
FRAGMENTS=("$TOP/qemu-images/kernel.config")
KMAKE_CC=()
case $FLAVOR in
debug)
	KOBJ=$BUILD/kernel-debug
	FRAGMENTS+=("$TOP/qemu-images/debug.config" "$TOP/qemu-images/sanitize.config"
		"$TOP/qemu-images/suites.config")
	LLVM_BIN=/usr/lib/llvm-22/bin
	# bindgen must parse the kernel headers with the same clang.
	KMAKE_CC=(LLVM="$LLVM_BIN/")
	export LIBCLANG_PATH=/usr/lib/llvm-22/lib
	;;
test)
	KOBJ=$BUILD/kernel
	FRAGMENTS+=("$TOP/qemu-images/debug.config")
	;;
bench) KOBJ=$BUILD/kernel-bench ;;
*) echo "unknown FLAVOR=$FLAVOR (debug, test or bench)" >&2; exit 2 ;;
esac
BZIMAGE=$BUILD/bzImage-$FLAVOR

# rustup's tools come first on PATH and have no matching rust-src: name
# Debian's rustc-web toolchain explicitly.
BINDGEN_BIN=$(command -v bindgen || echo "$HOME/.cargo/bin/bindgen")
KMAKE_RUST=(RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
	RUSTFMT=/usr/bin/rustfmt CLIPPY_DRIVER=/usr/bin/clippy-driver
	BINDGEN="$BINDGEN_BIN")

kmake() {
	make -C "$KSRC" O="$KOBJ" "${KMAKE_CC[@]}" "${KMAKE_RUST[@]}" -j"$(nproc)" "$@"
}

# The upstream version of the installed base, e.g. 6.12.117.
installed_base_version() {
	dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null | sed 's/-.*//'
}

recorded_base_version() {
	sed -n 's/^version: *//p' "$PATCHES/BASE"
}

# Patch files in series order (the cover letter is not applied).
series_patches() {
	{ grep -v '^\s*\(#\|$\)' "$PATCHES/series" || true; } | sed "s|^|$PATCHES/|"
}

# Where the series places rust-anycall/'s kernel files, and which they are.
RUST_DIR=kernel/bpf/anycall
RUST_FILES=(dispatch.rs policy.rs)

# checkpatch.pl's spdxcheck needs Debian's python3 (python3-ply, python3-git).
checkpatch() {
	PATH=/usr/bin:$PATH perl "$KSRC/scripts/checkpatch.pl" "$@"
}
