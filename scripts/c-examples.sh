#!/usr/bin/env bash
# c-examples.sh: install libanycall into build/stage, build the C examples
# with gcc and pkg-config as a user would, and run them in the guest: the
# chain example linked against libanycall.so, the program loader linked
# statically.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
stage=$BUILD/stage out=$BUILD/c-examples
PREFIX=$stage bash "$TOP/scripts/install.sh" >/dev/null
mkdir -p "$out"
export PKG_CONFIG_PATH=$stage/lib/pkgconfig
src=$TOP/userspace/examples/c
libdir=$(pkg-config --variable=libdir anycall)
# shellcheck disable=SC2046 # pkg-config's flags are words
gcc -Wall -Wextra -Werror -O2 "$src/chain.c" $(pkg-config --cflags --libs anycall) \
	-Wl,-rpath,"$libdir" -o "$out/chain"
rm -f "$out/load_program"
# glibc warns that Rust std's getpwuid_r and getaddrinfo need its shared
# libraries when linked statically; libanycall never calls them.
# shellcheck disable=SC2046
gcc -Wall -Wextra -Werror -O2 -static "$src/load_program.c" \
	$(pkg-config --cflags --static --libs anycall) -o "$out/load_program" 2>&1 |
	grep -v -e "in statically linked applications requires at runtime" -e ": in function \`" >&2 || true
[ -x "$out/load_program" ]
clang -target bpf -O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu \
	-c "$TOP/userspace/bpf/examples/read_file.bpf.c" -o "$out/read_file.bpf.o"

# The dynamic example takes its libraries into the guest, at the paths
# the dynamic linker looks in.
adds=()
while read -r lib; do
	adds+=(--add "$(realpath "$lib")=$lib")
done < <(ldd "$out/chain" | grep -o '/[^ ]*')
adds+=(--add "$out/chain" --add "$out/load_program" --add "$out/read_file.bpf.o")
cat >"$out/run.sh" <<SCRIPT
#!/bin/sh
set -e
printf 'hello from a file read by a chain\n' >/tmp/c-example.txt
$out/chain /tmp/c-example.txt
$out/load_program $out/read_file.bpf.o /tmp/c-example.txt
SCRIPT
chmod +x "$out/run.sh"
exec "$TOP/qemu-images/run-in-vm" --timeout 300 "${adds[@]}" -- "$out/run.sh"
