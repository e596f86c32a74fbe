# gdb -batch -x trace.py VMLINUX: follow one system call of the guest from
# its entry to the return to user space, one instruction at a time, and
# print how many instructions each function took. Run by trace-call.sh.
import bisect
import collections
import os

import gdb

SYSTEM_MAP = os.environ["TRACE_SYSTEM_MAP"]
# Calls to let pass before the one followed, so that caches are warm.
SKIP = int(os.environ.get("TRACE_SKIP", "3"))
LIMIT = 1_000_000
USER_TOP = 0x8000_0000_0000_0000
# JIT images live in the module area, which System.map does not name.
MODULES = (0xFFFF_FFFF_A000_0000, 0xFFFF_FFFF_FF00_0000)


def load_symbols():
    syms = []
    with open(SYSTEM_MAP) as f:
        for line in f:
            addr, kind, name = line.split()[:3]
            if kind in "tTwW":
                syms.append((int(addr, 16), name))
    syms.sort()
    return [a for a, _ in syms], [n for _, n in syms]


def main():
    addrs, names = load_symbols()

    def name_of(pc):
        if MODULES[0] <= pc < MODULES[1]:
            return "(BPF program, JIT)"
        i = bisect.bisect_right(addrs, pc) - 1
        return names[i] if i >= 0 else "?"

    gdb.execute("set pagination off")
    gdb.execute("target remote :1234", to_string=True)
    entry = int(gdb.parse_and_eval("(unsigned long)&entry_SYSCALL_64"))
    gdb.execute("hbreak *0x%x" % entry, to_string=True)
    for _ in range(SKIP):
        gdb.execute("continue", to_string=True)
    gdb.execute("delete", to_string=True)

    counts = collections.Counter()
    order = []
    total = 0
    while total < LIMIT:
        pc = int(gdb.parse_and_eval("$pc")) & (2**64 - 1)
        if pc < USER_TOP:
            break
        name = name_of(pc)
        if name not in counts:
            order.append(name)
        counts[name] += 1
        total += 1
        gdb.execute("stepi", to_string=True)

    print("instructions from entry_SYSCALL_64 to the return to user space: %d" % total)
    for name in order:
        print("%8d  %s" % (counts[name], name))
    gdb.execute("kill", to_string=True)


main()
