#!/usr/bin/env bash
# Configure (allnoconfig + the fragment) and build bzImage, incrementally.
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"

"$TOP/scripts/kernel-source.sh"

mkdir -p "$KOBJ"
stamp=$KOBJ/.anycall-config
config_id=$(cat "${FRAGMENTS[@]}" "$BUILD/.series-applied" | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$config_id" ] || [ ! -f "$KOBJ/.config" ]; then
	echo "kernel: configuring $FLAVOR kernel from allnoconfig + ${FRAGMENTS[*]#"$TOP"/}"
	kmake -s allnoconfig
	(cd "$KOBJ" && "$KSRC/scripts/kconfig/merge_config.sh" -m -O "$KOBJ" \
		"$KOBJ/.config" "${FRAGMENTS[@]}" >/dev/null)
	kmake -s olddefconfig
	# A symbol the fragments ask for but Kconfig dropped is a broken build.
	missing=$(cat "${FRAGMENTS[@]}" | grep '^CONFIG_.*=y' | while read -r line; do
		grep -qx "$line" "$KOBJ/.config" || echo "$line"
	done)
	if [ -n "$missing" ]; then
		echo "kernel: these fragment options did not stick (check dependencies):" >&2
		echo "$missing" >&2
		exit 1
	fi
	echo "$config_id" >"$stamp"
fi

targets=(bzImage)
# With modules, `modules` also writes Module.symvers, which building a test
# module out of tree (bpf_testmod.ko) links against.
grep -qx CONFIG_MODULES=y "$KOBJ/.config" && targets+=(modules)
kmake -s "${targets[@]}"
ln -sf "${KOBJ#"$BUILD"/}/arch/x86/boot/bzImage" "$BZIMAGE"
echo "kernel: $BZIMAGE ($(cat "$KOBJ/include/config/kernel.release"), $FLAVOR)"
