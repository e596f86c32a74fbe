#!/usr/bin/env bash
# install.sh: build and install libanycall (shared and static), anycall.h,
# anycall.bpf.h, anycall.pc and the anycall command under
# $DESTDIR$PREFIX (default PREFIX=/usr/local).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=${PREFIX:-/usr/local}
DEST=${DESTDIR:-}$PREFIX
cd "$TOP/userspace"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
lib=target/lib/x86_64-unknown-linux-gnu/release
# Without crt-static (the workspace's default for guest binaries), and with
# libelf and zlib linked dynamically into the shared object.
RUSTFLAGS= cargo rustc --quiet --release -p anycall-ffi --no-default-features \
	--target-dir target/lib --crate-type cdylib -- -C link-arg=-Wl,-soname,libanycall.so.0
cp "$lib/libanycall_ffi.so" "$lib/libanycall.so.$version"
RUSTFLAGS= cargo rustc --quiet --release -p anycall-ffi --target-dir target/lib-static \
	--crate-type staticlib
cargo build --quiet --release -p anycall-cli
install -d "$DEST/lib/pkgconfig" "$DEST/include" "$DEST/bin"
install -m 0755 "$lib/libanycall.so.$version" "$DEST/lib/"
ln -sf "libanycall.so.$version" "$DEST/lib/libanycall.so.0"
ln -sf "libanycall.so.0" "$DEST/lib/libanycall.so"
install -m 0644 target/lib-static/x86_64-unknown-linux-gnu/release/libanycall_ffi.a "$DEST/lib/libanycall.a"
install -m 0644 ffi/include/anycall.h bpf/anycall.bpf.h "$DEST/include/"
sed -e "s|@PREFIX@|$PREFIX|" -e "s|@VERSION@|$version|" ffi/anycall.pc.in >"$DEST/lib/pkgconfig/anycall.pc"
install -m 0755 target/x86_64-unknown-linux-gnu/release/anycall "$DEST/bin/"
echo "install: libanycall $version, anycall.h, anycall.bpf.h, anycall.pc and anycall in $DEST"
