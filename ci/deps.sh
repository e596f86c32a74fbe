#!/usr/bin/env bash
# Install what building the kernel, the initramfs and userspace needs.
# Idempotent: a second run only reports that everything is present.
set -euo pipefail

BINDGEN_VERSION=0.73.2

PACKAGES=(
	linux-source-6.12 rustc-web rust-web-src rust-web-clippy rustfmt-web
	gcc make flex bison bc libelf-dev libssl-dev dwarves xz-utils
	clang llvm lld libclang-dev
	qemu-system-x86 busybox-static cpio git
	pkg-config zlib1g-dev libbpf-dev libzstd-dev
	python3-ply python3-git  # checkpatch.pl (spdxcheck)
	gdb  # make trace-call
	gcc-aarch64-linux-gnu  # make check-arm64: the series builds on arm64
	libcap-dev  # seccomp_bpf, the kernel's own suite, linked static
	clang-22 lld-22 llvm-22 libclang1-22  # FLAVOR=debug: KASAN with Rust needs clang of rustc-web's LLVM
)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done

have_bindgen() {
	command -v bindgen >/dev/null 2>&1 &&
		bindgen --version 2>/dev/null | grep -q "^bindgen $BINDGEN_VERSION\$"
}

if [ ${#missing[@]} -eq 0 ] && have_bindgen; then
	echo "deps: everything is present (${#PACKAGES[@]} packages, bindgen $BINDGEN_VERSION)"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing: ${missing[*]}${missing:+ }$(have_bindgen || echo "bindgen-cli $BINDGEN_VERSION")" >&2
	echo "deps: run as root:  sudo make deps" >&2
	exit 1
fi

if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
fi

if ! have_bindgen; then
	echo "deps: installing bindgen-cli $BINDGEN_VERSION"
	cargo install --locked --quiet bindgen-cli --version "$BINDGEN_VERSION"
fi
echo "deps: done"
