#!/usr/bin/env bash
# run-fuzz.sh: build the differential fuzzer anycall-fuzz (static, like
# every guest binary: see userspace/.cargo/config.toml) and run it in the
# patched kernel (qemu-images/run-in-vm, which also fails the run when the
# kernel log shows a sanitizer report, warning or oops).
#
#   FUZZ_BUDGET  seconds to fuzz (default 120; 0: until stopped)
#   FUZZ_SEED    the seed (decimal or 0x hex; default: a random one, printed)
#   FUZZ_ARGS    more anycall-fuzz options, e.g. "--verbose" or
#                "--first 12 --iterations 1" to replay one sequence
#   FUZZ_VM_OPTS more run-in-vm options, e.g. "--kernel build/bzImage-test"
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
budget=${FUZZ_BUDGET:-120}
seed=${FUZZ_SEED:-0x$(od -An -N8 -tx8 /dev/urandom | tr -d ' \n')}
echo "run-fuzz: seed $seed, budget ${budget}s (0: until stopped)"
(cd "$TOP/userspace" && cargo build --release --quiet -p anycall-fuzz)
bin=$TOP/userspace/target/x86_64-unknown-linux-gnu/release/anycall-fuzz
# The guest may take the budget plus its boot, the iteration under way
# and the minimizing of a difference; without a budget, no limit.
if [ "$budget" = 0 ]; then
	timeout=$((10 * 365 * 24 * 3600))
else
	timeout=$((budget + 900))
fi
# shellcheck disable=SC2086 # the options are words
exec "$TOP/qemu-images/run-in-vm" --timeout "$timeout" ${FUZZ_VM_OPTS:-} \
	--add "$bin=/usr/bin/anycall-fuzz" -- \
	anycall-fuzz --seed "$seed" --budget "$budget" ${FUZZ_ARGS:-}
