# AnyCall: entry points. `make demo` and `make test` are the two that matter;
# see README.md.
SHELL := /bin/bash
BUILD ?= $(CURDIR)/build
export BUILD
VM := qemu-images/run-in-vm
CARGO ?= cargo

.PHONY: all deps kernel image demo test bench bench-kernel shell series check-series \
	check-bisect check-arm64 export-series dev-tree clean userspace bindings install usage-doc \
	trace-call fuzz

all: kernel

deps:
	@bash ci/deps.sh

kernel:
	@bash scripts/kernel-build.sh

image:
	@qemu-images/build-initramfs >/dev/null && echo "image: $(BUILD)/vm/base.cpio"

userspace:
	@cd userspace && $(CARGO) build --release --quiet

# libanycall (shared and static), anycall.h, anycall.bpf.h, anycall.pc and
# the anycall command under $(DESTDIR)$(PREFIX).
PREFIX ?= /usr/local
install:
	@PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) bash scripts/install.sh

# Fill docs/usage.md's code blocks from the tested examples.
usage-doc:
	@bash scripts/usage-doc.sh

# Regenerate userspace/anycall-sys/src/bindings.rs from the series' uapi.
bindings: kernel
	@bash scripts/bindings.sh

demo: deps image
	@bash scripts/demo.sh

test: deps
	@bash ci/test.sh

# A root shell in the patched kernel, with the anycall command to try chains.
shell: kernel image
	@cd userspace && $(CARGO) build --quiet --release -p anycall-cli
	@$(VM) --add userspace/target/x86_64-unknown-linux-gnu/release/anycall=/usr/bin/anycall --shell

bench: bench-kernel

bench-kernel: deps image
	@bash scripts/bench-kernel.sh

# Where the instructions of one call go, function by function (gdb on QEMU).
CALL ?= empty
trace-call: deps image
	@bash scripts/trace-call.sh $(CALL)

# The differential fuzzer in the guest until stopped (Ctrl-C), with a random
# seed it prints first (FUZZ_SEED=... to pick one, FUZZ_ARGS=--verbose).
fuzz: kernel image
	@FUZZ_BUDGET=0 FUZZ_SEED=$(FUZZ_SEED) FUZZ_ARGS="$(FUZZ_ARGS)" bash scripts/run-fuzz.sh

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

# Every patch builds on arm64 too (kernel/ and kernel/bpf/).
check-arm64:
	@bash scripts/check-arm64.sh

clean:
	rm -rf $(BUILD) userspace/target rust-anycall/host/target
