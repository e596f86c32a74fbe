# AnyCall: entry points. `make demo` and `make test` are the two that matter;
# see README.md.
SHELL := /bin/bash
BUILD ?= $(CURDIR)/build
export BUILD
VM := qemu-images/run-in-vm
CARGO ?= cargo

.PHONY: all deps kernel image demo test bench bench-kernel shell series check-series \
	check-bisect export-series dev-tree clean userspace bindings

all: kernel

deps:
	@bash ci/deps.sh

kernel:
	@bash scripts/kernel-build.sh

image:
	@qemu-images/build-initramfs >/dev/null && echo "image: $(BUILD)/vm/base.cpio"

userspace:
	@cd userspace && $(CARGO) build --release --quiet

# Regenerate userspace/anycall-sys/src/bindings.rs from the series' uapi.
bindings: kernel
	@bash scripts/bindings.sh

demo: deps image
	@bash scripts/demo.sh

test: deps
	@bash ci/test.sh

shell: kernel image
	@$(VM) --shell

bench: bench-kernel

bench-kernel: deps image
	@bash scripts/bench-kernel.sh

series:
	@bash scripts/make-series.sh

# Changing a patch: `make dev-tree`, commit in build/linux-dev, `make export-series`.
dev-tree:
	@bash scripts/dev-tree.sh

export-series:
	@bash scripts/export-series.sh && bash scripts/make-series.sh

check-series:
	@bash scripts/check-series.sh

check-bisect:
	@bash scripts/check-bisect.sh

clean:
	rm -rf $(BUILD) userspace/target rust-anycall/host/target
