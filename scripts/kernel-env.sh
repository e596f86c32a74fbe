# Shared settings for the kernel scripts; sourced, not run.
# shellcheck shell=bash

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
KSRC=$BUILD/linux          # git tree: pristine base, then the series
KAM=$BUILD/linux-am        # worktree where the series is applied with git am
BASE_TARBALL=/usr/src/linux-source-6.12.tar.xz
PATCHES=$TOP/linux-patches

# Two kernels from one tree: "test" (default) adds lock and atomic-sleep
# debugging, which catches bugs but costs thousands of instructions per
# system call; "bench" is the plain config, for figures that mean something.
FLAVOR=${FLAVOR:-test}
FRAGMENTS=("$TOP/qemu-images/kernel.config")
case $FLAVOR in
test)
	KOBJ=$BUILD/kernel
	FRAGMENTS+=("$TOP/qemu-images/debug.config")
	;;
bench) KOBJ=$BUILD/kernel-bench ;;
*) echo "unknown FLAVOR=$FLAVOR (test or bench)" >&2; exit 2 ;;
esac
BZIMAGE=$BUILD/bzImage-$FLAVOR

# rustup's tools come first on PATH and have no matching rust-src: name
# Debian's rustc-web toolchain explicitly.
BINDGEN_BIN=$(command -v bindgen || echo "$HOME/.cargo/bin/bindgen")
KMAKE_RUST=(RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
	RUSTFMT=/usr/bin/rustfmt CLIPPY_DRIVER=/usr/bin/clippy-driver
	BINDGEN="$BINDGEN_BIN")

kmake() {
	make -C "$KSRC" O="$KOBJ" "${KMAKE_RUST[@]}" -j"$(nproc)" "$@"
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
