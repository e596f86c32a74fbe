#!/usr/bin/env bash
# Configure (allnoconfig + the fragment) and build bzImage, incrementally.
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"

"$TOP/scripts/kernel-source.sh"

mkdir -p "$KOBJ"
config_id=$(cat "$FRAGMENT" "$BUILD/.series-applied" | sha256sum | cut -c1-16)
if [ "$(cat "$BUILD/.config-made" 2>/dev/null)" != "$config_id" ] || [ ! -f "$KOBJ/.config" ]; then
	echo "kernel: configuring from allnoconfig + ${FRAGMENT#"$TOP"/}"
	kmake -s allnoconfig
	(cd "$KOBJ" && "$KSRC/scripts/kconfig/merge_config.sh" -m -O "$KOBJ" \
		"$KOBJ/.config" "$FRAGMENT" >/dev/null)
	kmake -s olddefconfig
	# A symbol the fragment asks for but Kconfig dropped is a broken build.
	missing=$(grep '^CONFIG_.*=y' "$FRAGMENT" | while read -r line; do
		grep -qx "$line" "$KOBJ/.config" || echo "$line"
	done)
	if [ -n "$missing" ]; then
		echo "kernel: these fragment options did not stick (check dependencies):" >&2
		echo "$missing" >&2
		exit 1
	fi
	echo "$config_id" >"$BUILD/.config-made"
fi

kmake -s bzImage
ln -sf kernel/arch/x86/boot/bzImage "$BUILD/bzImage"
echo "kernel: $BUILD/bzImage ($(cat "$KOBJ/include/config/kernel.release"))"
