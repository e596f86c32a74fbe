#!/usr/bin/env bash
# check-arm64.sh: every patch of the series builds on arm64 too, where
# AnyCall itself is not available: after each patch, the kernel objects a
# BPF- and seccomp-enabled arm64 config compiles in the directories the
# series touches (kernel/, kernel/bpf/) are built with aarch64-linux-gnu-gcc.
# Incremental: each patch rebuilds what it changed.
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"
"$TOP/scripts/kernel-source.sh" >/dev/null

command -v aarch64-linux-gnu-gcc >/dev/null ||
	{ echo "check-arm64: aarch64-linux-gnu-gcc is missing; run 'make deps'" >&2; exit 1; }

tree=$BUILD/linux-arm64-src
obj=$BUILD/kernel-arm64
amake() {
	make -s -C "$tree" O="$obj" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
		-j"$(nproc)" "$@"
}

# A worktree of its own, so that the x86 build tree is left alone.
[ -d "$tree" ] || git -C "$KSRC" worktree add -q --detach "$tree" base
export GIT_COMMITTER_NAME=anycall-build GIT_COMMITTER_EMAIL=build@anycall.invalid
git -C "$tree" am --abort >/dev/null 2>&1 || true
git -C "$tree" checkout -q -f --detach base

mkdir -p "$obj"
fragment=$obj/anycall-arm64.config
cat >"$fragment" <<'CONFIG'
CONFIG_BPF_SYSCALL=y
CONFIG_BPF_JIT=y
CONFIG_SECCOMP=y
CONFIG_SECCOMP_FILTER=y
CONFIG_FTRACE=y
CONFIG_FTRACE_SYSCALLS=y
CONFIG_DEBUG_INFO_BTF=n
CONFIG
if [ ! -f "$obj/.config" ]; then
	amake allnoconfig
	(cd "$obj" && "$tree/scripts/kconfig/merge_config.sh" -m -O "$obj" \
		"$obj/.config" "$fragment" >/dev/null)
	amake olddefconfig
fi
amake prepare >/dev/null

n=0
while read -r patch; do
	n=$((n + 1))
	git -C "$tree" am -q "$patch"
	if ! out=$(amake kernel/ 2>&1); then
		echo "$out" | tail -30 >&2
		echo "check-arm64: FAIL: the arm64 build breaks after $(basename "$patch")" >&2
		exit 1
	fi
done < <(series_patches)
echo "check-arm64: kernel/ and kernel/bpf/ build for arm64 after each of the $n patches"
