//! A BPF interpreter for the instructions chains use, so that the host
//! tests can run generated programs against a model (test builds only).

use libbpf_sys::bpf_insn;

/// Runs `prog` on `ctx`; `kfunc(nr, args)` stands in for the kernel.
/// Panics on anything the code generator should never emit.
pub(crate) fn run(
    prog: &[bpf_insn],
    ctx: &mut [u8],
    mut kfunc: impl FnMut(u64, &[u64]) -> i64,
) -> i64 {
    run_at(prog, ctx, |_, nr, args| kfunc(nr, args))
}

/// [`run`], with the index of each call instruction passed to `kfunc`
/// first (`kfunc(pc, nr, args)`).
pub(crate) fn run_at(
    prog: &[bpf_insn],
    ctx: &mut [u8],
    mut kfunc: impl FnMut(usize, u64, &[u64]) -> i64,
) -> i64 {
    // The kernel's BPF_MAX_LOOPS: what may_goto lets a run take.
    let mut loop_budget = 8u64 << 20;
    const CTX_BASE: u64 = 0x1000_0000;
    const STACK_TOP: u64 = 0x2000_0000;
    let mut stack = [0u8; 512];
    let mut r = [0u64; 11];
    r[1] = CTX_BASE;
    r[10] = STACK_TOP;
    let mut pc = 0usize;
    let mut steps = 0u64;
    let mem = |addr: u64, ctx: &mut [u8], stack: &mut [u8; 512]| -> (*mut u8, usize) {
        if (CTX_BASE..CTX_BASE + ctx.len() as u64).contains(&addr) {
            let off = (addr - CTX_BASE) as usize;
            (ctx[off..].as_mut_ptr(), ctx.len() - off)
        } else if (STACK_TOP - 512..STACK_TOP).contains(&addr) {
            let off = (addr - (STACK_TOP - 512)) as usize;
            (stack[off..].as_mut_ptr(), 512 - off)
        } else {
            panic!("access outside the context and stack: {addr:#x}")
        }
    };
    loop {
        steps += 1;
        assert!(steps < 10_000_000, "runaway program");
        let i = prog[pc];
        let (dst, src) = (i.dst_reg() as usize, i.src_reg() as usize);
        let imm = i.imm as i64 as u64;
        pc += 1;
        match i.code {
            0xb7 => r[dst] = imm,
            0xbf => r[dst] = r[src],
            0x07 => r[dst] = r[dst].wrapping_add(imm),
            0x0f => r[dst] = r[dst].wrapping_add(r[src]),
            0x27 => r[dst] = r[dst].wrapping_mul(imm),
            0x57 => r[dst] &= imm,
            0xc7 => r[dst] = ((r[dst] as i64) >> (imm & 63)) as u64,
            0x69 => {
                let (p, room) = mem(r[src].wrapping_add(i.off as i64 as u64), ctx, &mut stack);
                assert!(room >= 2, "load past the end");
                // SAFETY: `p` points at 2 bytes inside `ctx` or `stack`.
                r[dst] = unsafe { p.cast::<u16>().read_unaligned() } as u64;
            }
            0x71 => {
                let (p, _) = mem(r[src].wrapping_add(i.off as i64 as u64), ctx, &mut stack);
                // SAFETY: `p` points at a byte inside `ctx` or `stack`.
                r[dst] = unsafe { p.read() } as u64;
            }
            0x18 => {
                let hi = prog[pc].imm as u32 as u64;
                r[dst] = (i.imm as u32 as u64) | (hi << 32);
                pc += 1;
            }
            0x79 => {
                let (p, room) = mem(r[src].wrapping_add(i.off as i64 as u64), ctx, &mut stack);
                assert!(room >= 8, "load past the end");
                // SAFETY: `p` points at 8 bytes inside `ctx` or `stack`.
                r[dst] = unsafe { p.cast::<u64>().read_unaligned() };
            }
            0x7b => {
                let (p, room) = mem(r[dst].wrapping_add(i.off as i64 as u64), ctx, &mut stack);
                assert!(room >= 8, "store past the end");
                // SAFETY: as above.
                unsafe { p.cast::<u64>().write_unaligned(r[src]) };
            }
            0x85 => {
                assert_eq!(src, 2, "only kfunc calls");
                let (p, room) = mem(r[2], ctx, &mut stack);
                let n = r[3] as usize / 8;
                assert!(room >= n * 8);
                // SAFETY: `n` u64s inside the stack or context.
                let args: Vec<u64> = (0..n)
                    .map(|k| unsafe { p.cast::<u64>().add(k).read_unaligned() })
                    .collect();
                r[0] = kfunc(pc - 1, r[1], &args) as u64;
                r[1..6].fill(0xdead);
            }
            0x95 => return r[0] as i64,
            0x05 => pc = (pc as i64 + i.off as i64) as usize,
            0xe5 => {
                assert_eq!((src, dst, i.imm), (0, 0, 0), "only may_goto");
                if loop_budget == 0 {
                    pc = (pc as i64 + i.off as i64) as usize;
                } else {
                    loop_budget -= 1;
                }
            }
            code if code & 0x07 == 0x05 => {
                let b = if code & 0x08 != 0 { r[src] } else { imm };
                let a = r[dst];
                let taken = match code & 0xf0 {
                    0x10 => a == b,
                    0x50 => a != b,
                    0x40 => a & b != 0,
                    0x30 => a >= b,
                    0x20 => a > b,
                    0xb0 => a <= b,
                    0xa0 => a < b,
                    0x70 => a as i64 >= b as i64,
                    0xc0 => (a as i64) < b as i64,
                    op => panic!("jump op {op:#x}"),
                };
                if taken {
                    pc = (pc as i64 + i.off as i64) as usize;
                }
            }
            code => panic!("instruction {code:#x} at {}", pc - 1),
        }
    }
}
