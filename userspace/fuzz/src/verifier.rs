//! Random programs at the verifier: calls of `bpf_anycall_syscall()`
//! whose argument memory is context or stack at random (constant or
//! variable) offsets, of random (constant, variable or branch-dependent)
//! sizes, with the number a constant, a context value or branch-dependent.
//!
//! Programs also load and store context bytes at constant and variable
//! offsets (what the series lets AnyCall programs do), and keep what
//! they loaded in the context.
//!
//! Each program must be refused by the verifier or run without harm: the
//! kernel log is scanned for sanitizer reports (by the fuzzer and by
//! `run-in-vm`), and runs are judged against what `anycall(2)` promises:
//! a context shorter than the furthest byte the program can reach is
//! refused (`ENOBUFS`), an argument size that is no multiple of 8 or
//! above 48 gives `-EINVAL`, the calls (number-only ones: getppid,
//! getpid, ..., or no system call) return what they would directly, and
//! the context comes back holding exactly what the program wrote (a
//! refused one untouched).

use crate::rng::{derive, Rng};
use anycall::insn::{self, Cond, Reg, Size, R0, R1, R10, R2, R3, R4, R5, R6, R7};
use libbpf_sys::bpf_insn;
use std::fmt;

/// Context layout every program shares: call numbers (for numbers taken
/// from the context), results, the variable offset and size, the
/// branch selector; random bytes after.
pub const NRS: i32 = 0;
pub const RESULTS: i32 = 32;
pub const VAR_OFF: i32 = 64;
pub const VAR_SIZE: i32 = 72;
pub const SELECT: i32 = 76;
/// What each access loaded (one slot per access).
pub const PROBES: i32 = 80;
pub const HEADER: i32 = 112;
/// Context accesses per program at most.
pub const MAX_ACCESSES: usize = 4;
/// Calls per program at most (one number and one result slot each).
pub const MAX_CALLS: usize = 4;
pub const CTX_MAX: u64 = anycall_sys::ANYCALL_CTX_SIZE_MAX as u64;

/// Numbers whose calls ignore their arguments and touch nothing: what
/// runs whatever a broken verifier let a program pass.
pub const SAFE_NRS: [i64; 8] = [
    libc::SYS_getppid,
    libc::SYS_getppid,
    libc::SYS_getpid,
    libc::SYS_gettid,
    libc::SYS_getuid,
    libc::SYS_sched_yield,
    1000,
    -1,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nr {
    Const(i64),
    /// `ctx[NRS + 8 * call]`.
    Ctx,
    /// `a`, or `b` when bit 2 of the selector is set.
    Branch(i64, i64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Args {
    Null,
    Ctx(i32),
    Stack(i32),
    /// `ctx + base + (var_off & mask)`.
    CtxVar {
        base: i32,
        mask: i32,
    },
    /// `fp + base + (var_off & mask)`.
    StackVar {
        base: i32,
        mask: i32,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgSize {
    Const(u32),
    /// `var_size & mask`.
    Var(i32),
    /// `var_size` as loaded (32 bits).
    Unbounded,
    /// `a`, or `b` when bit 1 of the selector is set.
    Branch(u32, u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallShape {
    pub nr: Nr,
    pub args: Args,
    pub size: ArgSize,
}

/// A context access besides the calls: at `off`, plus `var_off & mask`
/// when `var` is `Some(mask)`. A load keeps the value in its probe slot;
/// a store writes the number of getppid (a safe one, should it land in a
/// number slot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    pub store: bool,
    pub bytes: u8,
    pub off: i32,
    pub var: Option<i32>,
}

/// What stores write.
pub const STORED: u64 = libc::SYS_getppid as u64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSpec {
    pub ctx_size: u64,
    pub flags: u32,
    pub nrs: [i64; MAX_CALLS],
    pub var_off: u32,
    pub var_size: u32,
    pub select: u32,
    pub fill: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgSpec {
    pub seed: u64,
    pub index: u64,
    pub accesses: Vec<Access>,
    /// Stack words initialized (offsets from the frame pointer).
    pub stack: Vec<i16>,
    pub calls: Vec<CallShape>,
    pub runs: Vec<RunSpec>,
}

pub const STREAM_PROGRAM: u64 = 2;

/// The `index`-th program of `seed`.
pub fn program(seed: u64, index: u64) -> ProgSpec {
    let mut r = Rng::new(derive(seed, STREAM_PROGRAM, index));
    // Half the programs are tame: every choice one the verifier should
    // take, so that runs (and the inline and dispatch paths) get their
    // share; the other half pick anywhere, at the edges most.
    let tame = r.chance(1, 2);
    let mut accesses = Vec::new();
    for _ in 0..r.index(MAX_ACCESSES + 1) {
        let store = r.chance(1, 2);
        let bytes = r.pick(&[1u8, 2, 4, 8]);
        // Stores stay clear of the header (the numbers, the variable
        // offset and size, the probes) so that a run's numbers stay safe.
        let off = match (tame, store) {
            (true, true) => r.pick(&[HEADER, HEADER + 3, 255, 256, 4095, 65400]),
            (true, false) => r.pick(&[0, 7, 63, 255, 256, 4095, 65400]),
            (false, true) => r.pick(&[-8, -1, HEADER, 255, 256, 65528, 65532, 65535]),
            (false, false) => r.pick(&[-8, -1, 0, 7, 255, 256, 65528, 65532, 65535, 65536]),
        };
        let var = r.chance(1, 3).then(|| {
            if tame {
                r.pick(&[0x7, 0x78, 0xff, 0x7f])
            } else {
                r.pick(&[0x7, 0xff, 0xfff, 0xffff, 0x1ffff])
            }
        });
        accesses.push(Access {
            store,
            bytes,
            off,
            var,
        });
    }
    let words = if tame {
        64
    } else {
        r.pick(&[0usize, 1, 6, 6, 8, 16, 64, 64])
    };
    let mut stack: Vec<i16> = (1..=words as i16).map(|k| -8 * k).collect();
    if !tame && !stack.is_empty() && r.chance(1, 4) {
        let hole = r.index(stack.len());
        stack.remove(hole);
    }
    let ncalls = 1 + r.index(3);
    let calls = (0..ncalls)
        .map(|_| {
            if tame {
                tame_call(&mut r)
            } else {
                call_shape(&mut r)
            }
        })
        .collect();
    let mut spec = ProgSpec {
        seed,
        index,
        accesses,
        stack,
        calls,
        runs: Vec::new(),
    };
    let reach = spec.reach();
    let mut sizes = Vec::new();
    if let Some(end) = reach.end.filter(|&e| e <= CTX_MAX) {
        sizes.push(end);
        if end > 0 {
            sizes.push(end - 1);
        }
        sizes.push((end + 1 + r.below(300)).min(CTX_MAX));
    }
    sizes.push(r.pick(&[0, 64, 256, 4096, CTX_MAX, CTX_MAX + 1]));
    for ctx_size in sizes {
        spec.runs.push(run_spec(&mut r, ctx_size, 0));
    }
    if r.chance(1, 6) {
        let flags = 1 << r.below(32);
        spec.runs.push(run_spec(&mut r, CTX_MAX, flags));
    }
    spec
}

fn call_shape(r: &mut Rng) -> CallShape {
    let nr = match r.weighted(&[4, 3, 2]) {
        0 => Nr::Const(r.pick(&SAFE_NRS)),
        1 => Nr::Ctx,
        _ => Nr::Branch(r.pick(&SAFE_NRS), r.pick(&SAFE_NRS)),
    };
    let args = match r.weighted(&[1, 4, 4, 2, 2]) {
        0 => Args::Null,
        1 => Args::Ctx(r.pick(&[
            -8, -1, 0, 8, 64, 80, 200, 248, 250, 256, 300, 4000, 4096, 65480, 65487, 65488, 65535,
            65536,
        ])),
        2 => Args::Stack(r.pick(&[
            -520, -512, -504, -256, -64, -48, -48, -49, -40, -16, -8, -8, -1, 0, 8,
        ])),
        3 => Args::CtxVar {
            base: r.pick(&[0, 8, 80, 256, 65000, -8]),
            mask: r.pick(&[0x7, 0x8, 0xf8, 0xff, 0xfff, 0xffff, 0x1ffff]),
        },
        _ => Args::StackVar {
            base: r.pick(&[-512, -256, -64, -48, -8, 0]),
            mask: r.pick(&[0x7, 0x8, 0x18, 0xf8, 0xff, 0x1ff]),
        },
    };
    let sizes = [
        0u32,
        8,
        16,
        24,
        40,
        48,
        48,
        1,
        7,
        12,
        49,
        56,
        64,
        256,
        0xffff_ffff,
    ];
    let size = match r.weighted(&[6, 2, 1, 2]) {
        0 => ArgSize::Const(r.pick(&sizes)),
        1 => ArgSize::Var(r.pick(&[0x8, 0x18, 0x30, 0x38, 0x3f, 0xff, 0xfff])),
        2 => ArgSize::Unbounded,
        _ => ArgSize::Branch(r.pick(&sizes[..7]), r.pick(&sizes)),
    };
    CallShape { nr, args, size }
}

/// A call the verifier should accept (on a fully initialized stack):
/// memory in bounds, sizes bounded; sizes the kfunc refuses (not a
/// multiple of 8, above 48) included.
fn tame_call(r: &mut Rng) -> CallShape {
    let nr = match r.weighted(&[4, 3, 2]) {
        0 => Nr::Const(r.pick(&SAFE_NRS)),
        1 => Nr::Ctx,
        _ => Nr::Branch(r.pick(&SAFE_NRS), r.pick(&SAFE_NRS)),
    };
    let sizes = [0u32, 8, 16, 24, 32, 40, 48, 48, 12, 49, 56];
    let size = match r.weighted(&[6, 2, 3]) {
        0 => ArgSize::Const(r.pick(&sizes)),
        1 => ArgSize::Var(r.pick(&[0x8, 0x18, 0x30, 0x38])),
        _ => ArgSize::Branch(r.pick(&sizes), r.pick(&sizes)),
    };
    let args = match r.weighted(&[4, 4, 2, 2]) {
        0 => Args::Ctx(r.pick(&[0, 80, 200, 248, 250, 256, 4000, 65400, 65479])),
        1 => Args::Stack(r.pick(&[-512, -256, -64, -56])),
        2 => Args::CtxVar {
            base: r.pick(&[0, 80, 256, 60000]),
            mask: r.pick(&[0x7, 0xf8, 0xff, 0xfff]),
        },
        _ => Args::StackVar {
            base: r.pick(&[-512, -256, -128]),
            mask: r.pick(&[0x7, 0x18, 0x38, 0x3f]),
        },
    };
    CallShape { nr, args, size }
}

fn run_spec(r: &mut Rng, ctx_size: u64, flags: u32) -> RunSpec {
    let mut nrs = [0; MAX_CALLS];
    for n in &mut nrs {
        *n = r.pick(&SAFE_NRS);
    }
    RunSpec {
        ctx_size,
        flags,
        nrs,
        var_off: r.next_u64() as u32,
        var_size: {
            let any = r.next_u64() as u32;
            r.pick(&[0u32, 8, 16, 48, 49, 56, 7, any])
        },
        select: r.next_u64() as u32,
        fill: r.next_u64(),
    }
}

/// The context bytes a program can reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reach {
    /// One past the furthest byte (`None`: more than any context has).
    pub end: Option<u64>,
    /// Whether some access starts before the context.
    pub before: bool,
}

impl ArgSize {
    fn max(self) -> u64 {
        match self {
            ArgSize::Const(n) => n as u64,
            ArgSize::Var(mask) => mask as u64,
            ArgSize::Unbounded => u32::MAX as u64,
            ArgSize::Branch(a, b) => a.max(b) as u64,
        }
    }

    fn min(self) -> u64 {
        match self {
            ArgSize::Const(n) => n as u64,
            ArgSize::Branch(a, b) => a.min(b) as u64,
            _ => 0,
        }
    }

    /// The size a run passes.
    pub fn value(self, run: &RunSpec) -> u32 {
        match self {
            ArgSize::Const(n) => n,
            ArgSize::Var(mask) => run.var_size & mask as u32,
            ArgSize::Unbounded => run.var_size,
            ArgSize::Branch(a, b) => {
                if run.select & 2 != 0 {
                    b
                } else {
                    a
                }
            }
        }
    }
}

impl ProgSpec {
    /// Whether it reaches its context at a variable offset.
    pub fn var_ctx(&self) -> bool {
        self.accesses.iter().any(|a| a.var.is_some())
            || self
                .calls
                .iter()
                .any(|c| matches!(c.args, Args::CtxVar { .. }))
    }

    /// What the program can reach of its context, every path counted: the
    /// verifier must record at least `end` (and refuse `before`).
    pub fn reach(&self) -> Reach {
        let mut end: i128 = 0;
        let mut before = false;
        let mut touch = |start: i128, len: i128| {
            if len > 0 {
                end = end.max(start + len);
                before |= start < 0;
            }
        };
        for (k, a) in self.accesses.iter().enumerate() {
            touch(a.off as i128, a.bytes as i128);
            if let Some(mask) = a.var {
                touch(VAR_OFF as i128, 4);
                touch(a.off as i128 + mask as i128, a.bytes as i128);
            }
            if !a.store {
                touch((PROBES + 8 * k as i32) as i128, 8);
            }
        }
        for (c, call) in self.calls.iter().enumerate() {
            match call.nr {
                Nr::Ctx => touch((NRS + 8 * c as i32) as i128, 8),
                Nr::Branch(..) => touch(SELECT as i128, 4),
                Nr::Const(_) => {}
            }
            match call.size {
                ArgSize::Var(_) | ArgSize::Unbounded => touch(VAR_SIZE as i128, 4),
                ArgSize::Branch(..) => touch(SELECT as i128, 4),
                ArgSize::Const(_) => {}
            }
            if matches!(call.args, Args::CtxVar { .. } | Args::StackVar { .. }) {
                touch(VAR_OFF as i128, 4);
            }
            let size = call.size.max() as i128;
            match call.args {
                Args::Ctx(off) => touch(off as i128, size),
                // A zero-size argument reaches nothing, wherever it points.
                Args::CtxVar { base, mask } => {
                    touch(base as i128, size);
                    touch(base as i128 + mask as i128, size);
                }
                _ => {}
            }
            touch((RESULTS + 8 * c as i32) as i128, 8);
        }
        Reach {
            end: u64::try_from(end).ok().filter(|&e| e <= u32::MAX as u64),
            before,
        }
    }

    /// The program for the kfunc whose BTF id is `kfunc`.
    pub fn emit(&self, kfunc: u32) -> Vec<bpf_insn> {
        let mut p = vec![insn::mov_reg(R6, R1)];
        let size = |b: u8| match b {
            1 => Size::B,
            2 => Size::H,
            4 => Size::W,
            _ => Size::DW,
        };
        for (k, a) in self.accesses.iter().enumerate() {
            // A variable offset, and offsets beyond an instruction's 16
            // bits, go through a modified context pointer (r5).
            let mut base = R6;
            if let Some(mask) = a.var {
                p.push(insn::load(Size::W, R4, R6, VAR_OFF as i16));
                p.push(insn::and_imm(R4, mask));
                p.push(insn::mov_reg(R5, R6));
                p.push(insn::add_reg(R5, R4));
                base = R5;
            }
            let off = match i16::try_from(a.off) {
                Ok(off) => off,
                Err(_) => {
                    if base == R6 {
                        p.push(insn::mov_reg(R5, R6));
                        base = R5;
                    }
                    p.push(insn::add_imm(R5, a.off));
                    0
                }
            };
            if a.store {
                p.push(insn::mov_imm(R7, STORED as i32));
                p.push(insn::store(size(a.bytes), base, off, R7));
            } else {
                p.push(insn::load(size(a.bytes), R4, base, off));
                p.push(insn::store(
                    Size::DW,
                    R6,
                    (PROBES + 8 * k as i32) as i16,
                    R4,
                ));
            }
        }
        p.push(insn::mov_imm(R7, 0x5a5a));
        for &off in &self.stack {
            p.push(insn::store(Size::DW, R10, off, R7));
        }
        for (c, call) in self.calls.iter().enumerate() {
            match call.nr {
                Nr::Const(v) => mov64(&mut p, R1, v as u64),
                Nr::Ctx => p.push(insn::load(Size::DW, R1, R6, (NRS + 8 * c as i32) as i16)),
                Nr::Branch(a, b) => {
                    mov64(&mut p, R1, a as u64);
                    branch(&mut p, 4, |p| mov64(p, R1, b as u64));
                }
            }
            match call.args {
                Args::Null => p.push(insn::mov_imm(R2, 0)),
                Args::Ctx(off) => {
                    p.push(insn::mov_reg(R2, R6));
                    p.push(insn::add_imm(R2, off));
                }
                Args::Stack(off) => {
                    p.push(insn::mov_reg(R2, R10));
                    p.push(insn::add_imm(R2, off));
                }
                Args::CtxVar { base, mask } | Args::StackVar { base, mask } => {
                    let from = if matches!(call.args, Args::CtxVar { .. }) {
                        R6
                    } else {
                        R10
                    };
                    p.push(insn::load(Size::W, R4, R6, VAR_OFF as i16));
                    p.push(insn::and_imm(R4, mask));
                    p.push(insn::mov_reg(R2, from));
                    p.push(insn::add_imm(R2, base));
                    p.push(insn::add_reg(R2, R4));
                }
            }
            match call.size {
                ArgSize::Const(n) => p.push(insn::mov_imm(R3, n as i32)),
                ArgSize::Var(mask) => {
                    p.push(insn::load(Size::W, R3, R6, VAR_SIZE as i16));
                    p.push(insn::and_imm(R3, mask));
                }
                ArgSize::Unbounded => p.push(insn::load(Size::W, R3, R6, VAR_SIZE as i16)),
                ArgSize::Branch(a, b) => {
                    p.push(insn::mov_imm(R3, a as i32));
                    branch(&mut p, 2, |p| p.push(insn::mov_imm(R3, b as i32)));
                }
            }
            p.push(insn::call_kfunc(kfunc));
            p.push(insn::store(
                Size::DW,
                R6,
                (RESULTS + 8 * c as i32) as i16,
                R0,
            ));
        }
        p.push(insn::mov_imm(R0, 0));
        p.push(insn::exit());
        p
    }
}

fn mov64(p: &mut Vec<bpf_insn>, dst: Reg, v: u64) {
    match i32::try_from(v as i64) {
        Ok(small) => p.push(insn::mov_imm(dst, small)),
        Err(_) => p.extend(insn::ld_imm64(dst, v)),
    }
}

/// `if (select & bit) { then }`, with r4 as scratch (r1-r3 may be set).
fn branch(p: &mut Vec<bpf_insn>, bit: i32, then: impl FnOnce(&mut Vec<bpf_insn>)) {
    p.push(insn::load(Size::W, R4, R6, SELECT as i16));
    p.push(insn::and_imm(R4, bit));
    let at = p.len();
    p.push(insn::jmp_imm(Cond::Eq, R4, 0, 0));
    then(p);
    let skip = p.len() - at - 1;
    insn::set_jump_offset(&mut p[at], skip as i16);
}

/// The context a run passes.
pub fn context(run: &RunSpec) -> Vec<u8> {
    let mut r = Rng::new(run.fill);
    let mut ctx = r.bytes(run.ctx_size as usize);
    let mut put = |at: usize, bytes: &[u8]| {
        if at + bytes.len() <= ctx.len() {
            ctx[at..at + bytes.len()].copy_from_slice(bytes);
        }
    };
    for (c, nr) in run.nrs.iter().enumerate() {
        put(NRS as usize + 8 * c, &nr.to_ne_bytes());
    }
    put(VAR_OFF as usize, &run.var_off.to_ne_bytes());
    put(VAR_SIZE as usize, &run.var_size.to_ne_bytes());
    put(SELECT as usize, &run.select.to_ne_bytes());
    ctx
}

/// The context a run of `spec` must give back when the program ran: its
/// accesses done in order on the context passed (loads kept in their
/// probe slots), and `None` for the bytes of the calls' result slots,
/// which are judged on their own.
pub fn simulate(spec: &ProgSpec, run: &RunSpec) -> Vec<Option<u8>> {
    let mut ctx: Vec<Option<u8>> = context(run).into_iter().map(Some).collect();
    let var = run.var_off as i64;
    for (k, a) in spec.accesses.iter().enumerate() {
        let at = a.off as i64 + a.var.map_or(0, |m| var & m as i64);
        let n = a.bytes as usize;
        let Some(range) = usize::try_from(at).ok().map(|at| at..at + n) else {
            continue;
        };
        if range.end > ctx.len() {
            continue;
        }
        if a.store {
            for (i, b) in STORED.to_le_bytes()[..n].iter().enumerate() {
                ctx[range.start + i] = Some(*b);
            }
        } else {
            let mut v = [0u8; 8];
            for (i, b) in ctx[range].iter().enumerate() {
                v[i] = b.unwrap_or(0);
            }
            let probe = PROBES as usize + 8 * k;
            for (i, b) in v.iter().enumerate() {
                if let Some(slot) = ctx.get_mut(probe + i) {
                    *slot = Some(*b);
                }
            }
        }
    }
    for c in 0..spec.calls.len() {
        let at = RESULTS as usize + 8 * c;
        for slot in ctx.iter_mut().skip(at).take(8) {
            *slot = None;
        }
    }
    ctx
}

/// How a context differs from what it must be: the number of bytes, and
/// the first few as (offset, got, wanted).
pub type CtxDiff = (usize, Vec<(usize, u8, u8)>);

/// The bytes of `got` that are not what `want` says (`None`: anything),
/// as (offset, got, wanted), the first `max` of them, and their number.
pub fn context_diff(got: &[u8], want: &[Option<u8>], max: usize) -> CtxDiff {
    let mut n = 0;
    let mut first = Vec::new();
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        if let Some(w) = w {
            if g != w {
                n += 1;
                if first.len() < max {
                    first.push((i, *g, *w));
                }
            }
        }
    }
    (n, first)
}

/// What a run gave: `anycall()`'s result or errno, the results the
/// program stored, and how the context it gave back differs from what
/// it must be (the bytes the program wrote when it ran, else those
/// passed): their number and the first few (offset, got, wanted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ran {
        ret: i64,
        results: Vec<i64>,
        ctx_diff: CtxDiff,
    },
    Refused(i32, CtxDiff),
}

/// Who ran the programs: the results of number-only calls depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ids {
    pub pid: i64,
    pub ppid: i64,
    pub uid: i64,
}

/// What a call of `nr` with arguments of `size` bytes returns.
pub fn expected(nr: i64, size: u32, ids: Ids) -> i64 {
    if !size.is_multiple_of(8) || size > 48 {
        return -(libc::EINVAL as i64);
    }
    match nr {
        libc::SYS_getppid => ids.ppid,
        libc::SYS_getpid | libc::SYS_gettid => ids.pid,
        libc::SYS_getuid => ids.uid,
        libc::SYS_sched_yield => 0,
        _ => -(libc::ENOSYS as i64),
    }
}

/// How a run went against what `anycall(2)` promises.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Fine,
    /// Within the promises, but not what this fuzzer expected (e.g. a
    /// context covering every byte the program reaches refused with
    /// ENOBUFS: the verifier recorded more than it needed to).
    Note(String),
    /// A broken promise.
    Finding(String),
}

pub fn judge(spec: &ProgSpec, run: &RunSpec, outcome: &Outcome, ids: Ids) -> Verdict {
    let reach = spec.reach();
    if reach.before {
        if let Outcome::Ran { .. } = outcome {
            return Verdict::Finding("ran a program that reaches before its context".into());
        }
    }
    let needed = reach.end.unwrap_or(u64::MAX);
    let (Outcome::Ran { ctx_diff, .. } | Outcome::Refused(_, ctx_diff)) = outcome;
    if ctx_diff.0 > 0 {
        let what = match outcome {
            Outcome::Ran { .. } => "what the program wrote",
            Outcome::Refused(..) => "what it passed (the run was refused)",
        };
        return Verdict::Finding(format!(
            "the context came back with {} bytes other than {what}; (offset, got, wanted): {:?}",
            ctx_diff.0, ctx_diff.1
        ));
    }
    let refused = |errno: i32| match outcome {
        Outcome::Refused(e, _) if *e == errno => Verdict::Fine,
        Outcome::Refused(e, _) => {
            Verdict::Note(format!("refused with errno {e}, expected {errno}"))
        }
        Outcome::Ran { .. } => Verdict::Finding(format!(
            "ran; anycall(2) says errno {errno} (context {} bytes, reach {:?}, flags {:#x})",
            run.ctx_size, reach.end, run.flags
        )),
    };
    if run.flags != 0 {
        return refused(libc::EINVAL);
    }
    if run.ctx_size > CTX_MAX {
        return refused(libc::E2BIG);
    }
    if run.ctx_size < needed {
        return refused(libc::ENOBUFS);
    }
    match outcome {
        Outcome::Refused(e, _) => Verdict::Note(format!(
            "refused with errno {e} a context of {} bytes covering its reach ({needed})",
            run.ctx_size
        )),
        Outcome::Ran { ret, results, .. } => {
            if *ret != 0 {
                return Verdict::Finding(format!("returned {ret}, not 0"));
            }
            for (c, call) in spec.calls.iter().enumerate() {
                let nr = match call.nr {
                    Nr::Const(v) => v,
                    Nr::Ctx => run.nrs[c],
                    Nr::Branch(a, b) => {
                        if run.select & 4 != 0 {
                            b
                        } else {
                            a
                        }
                    }
                };
                let size = call.size.value(run);
                let want = expected(nr, size, ids);
                if results[c] != want {
                    return Verdict::Finding(format!(
                        "call {c} (nr {nr}, {size} bytes of arguments) returned {}, expected {want}",
                        results[c]
                    ));
                }
            }
            Verdict::Fine
        }
    }
}

impl fmt::Display for ProgSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let holes: Vec<i16> = (1..=self.stack.len() as i16 + 1)
            .map(|k| -8 * k)
            .filter(|o| !self.stack.contains(o) && *o > -8 * self.stack.len() as i16 - 8)
            .collect();
        writeln!(
            f,
            "program {} of seed {:#x}: {} stack words initialized from fp-8 down (but {holes:?})",
            self.index,
            self.seed,
            self.stack.len()
        )?;
        for a in &self.accesses {
            let what = if a.store { "store" } else { "load" };
            write!(f, "  ctx {what} of {} bytes at {}", a.bytes, a.off)?;
            match a.var {
                Some(mask) => writeln!(f, " + (var_off & {mask:#x})")?,
                None => writeln!(f)?,
            }
        }
        for (c, call) in self.calls.iter().enumerate() {
            writeln!(
                f,
                "  call {c}: nr {:?}, args {:?}, size {:?} (min {})",
                call.nr,
                call.args,
                call.size,
                call.size.min()
            )?;
        }
        writeln!(f, "  reach {:?}", self.reach())
    }
}

/// Whether a load was refused as the verifier refuses programs (not for
/// a lack of memory or privileges, which would say nothing).
/// (`anycall::load` gives the errno's kind, with the verifier's log.)
pub fn refused_by_verifier(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        PermissionDenied | InvalidInput | ArgumentListTooLong
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: Ids = Ids {
        pid: 10,
        ppid: 9,
        uid: 65534,
    };

    fn one(call: CallShape) -> ProgSpec {
        ProgSpec {
            seed: 0,
            index: 0,
            accesses: vec![],
            stack: vec![-8, -16, -24, -32, -40, -48],
            calls: vec![call],
            runs: vec![],
        }
    }

    #[test]
    fn programs_are_reproducible_and_end_in_exit() {
        for i in 0..200 {
            let p = program(5, i);
            assert_eq!(p, program(5, i));
            let insns = p.emit(1234);
            assert_eq!(insns.last().unwrap().code, 0x95);
            assert!(!p.runs.is_empty());
            // Every jump lands inside the program.
            for (at, ins) in insns.iter().enumerate() {
                if ins.code & 0x07 == 0x05 && ins.code != 0x85 && ins.code != 0x95 {
                    let to = at as i64 + 1 + ins.off as i64;
                    assert!((0..insns.len() as i64).contains(&to), "{p}");
                }
            }
        }
    }

    #[test]
    fn reach_counts_every_path_and_size() {
        let p = one(CallShape {
            nr: Nr::Ctx,
            args: Args::Ctx(100),
            size: ArgSize::Branch(8, 48),
        });
        assert_eq!(
            p.reach(),
            Reach {
                end: Some(148),
                before: false
            }
        );
        let p = one(CallShape {
            nr: Nr::Const(39),
            args: Args::CtxVar {
                base: 80,
                mask: 0xff,
            },
            size: ArgSize::Const(16),
        });
        assert_eq!(p.reach().end, Some(80 + 0xff + 16));
        let p = one(CallShape {
            nr: Nr::Const(39),
            args: Args::Ctx(-8),
            size: ArgSize::Const(8),
        });
        assert!(p.reach().before);
        // A zero-size argument reaches nothing; the result slot counts.
        let p = one(CallShape {
            nr: Nr::Const(39),
            args: Args::Ctx(60000),
            size: ArgSize::Const(0),
        });
        assert_eq!(p.reach().end, Some(RESULTS as u64 + 8));
    }

    #[test]
    fn the_judge_holds_anycall_to_its_promises() {
        let p = one(CallShape {
            nr: Nr::Const(libc::SYS_getppid),
            args: Args::Stack(-48),
            size: ArgSize::Branch(48, 49),
        });
        let mut run = RunSpec {
            ctx_size: 80,
            flags: 0,
            nrs: [0; 4],
            var_off: 0,
            var_size: 0,
            select: 0,
            fill: 0,
        };
        let ran = |r: i64| Outcome::Ran {
            ret: 0,
            results: vec![r],
            ctx_diff: (0, vec![]),
        };
        assert_eq!(judge(&p, &run, &ran(9), IDS), Verdict::Fine);
        assert!(matches!(
            judge(&p, &run, &ran(-22), IDS),
            Verdict::Finding(_)
        ));
        run.select = 2; // the 49-byte branch
        assert_eq!(judge(&p, &run, &ran(-22), IDS), Verdict::Fine);
        assert!(matches!(judge(&p, &run, &ran(9), IDS), Verdict::Finding(_)));
        run.ctx_size = 79;
        assert!(matches!(
            judge(&p, &run, &ran(-22), IDS),
            Verdict::Finding(_)
        ));
        assert_eq!(
            judge(&p, &run, &Outcome::Refused(libc::ENOBUFS, (0, vec![])), IDS),
            Verdict::Fine
        );
        run.ctx_size = CTX_MAX + 1;
        assert_eq!(
            judge(&p, &run, &Outcome::Refused(libc::E2BIG, (0, vec![])), IDS),
            Verdict::Fine
        );
        run.ctx_size = 100;
        assert!(matches!(
            judge(&p, &run, &Outcome::Refused(libc::ENOBUFS, (0, vec![])), IDS),
            Verdict::Note(_)
        ));
        run.flags = 4;
        assert_eq!(
            judge(&p, &run, &Outcome::Refused(libc::EINVAL, (0, vec![])), IDS),
            Verdict::Fine
        );
    }

    #[test]
    fn a_wrong_context_is_a_finding() {
        let p = one(CallShape {
            nr: Nr::Const(libc::SYS_getppid),
            args: Args::Null,
            size: ArgSize::Const(0),
        });
        let run = RunSpec {
            ctx_size: 80,
            flags: 0,
            nrs: [0; 4],
            var_off: 0,
            var_size: 0,
            select: 0,
            fill: 0,
        };
        let o = Outcome::Ran {
            ret: 0,
            results: vec![9],
            ctx_diff: (1, vec![(70, 1, 2)]),
        };
        assert!(matches!(judge(&p, &run, &o, IDS), Verdict::Finding(_)));
        let o = Outcome::Refused(libc::ENOBUFS, (3, vec![(0, 1, 2)]));
        assert!(matches!(judge(&p, &run, &o, IDS), Verdict::Finding(_)));
    }

    #[test]
    fn the_simulation_does_the_accesses_in_order() {
        let mut p = one(CallShape {
            nr: Nr::Const(libc::SYS_getppid),
            args: Args::Null,
            size: ArgSize::Const(0),
        });
        p.accesses = vec![
            Access {
                store: true,
                bytes: 2,
                off: 200,
                var: Some(0xff),
            },
            Access {
                store: false,
                bytes: 4,
                off: 199,
                var: Some(0xff),
            },
            Access {
                store: false,
                bytes: 1,
                off: 0,
                var: None,
            },
        ];
        let run = RunSpec {
            ctx_size: 300,
            flags: 0,
            nrs: [77, 0, 0, 0],
            var_off: 0x1003, // & 0xff: 3
            var_size: 0,
            select: 0,
            fill: 9,
        };
        let ctx = context(&run);
        let sim = simulate(&p, &run);
        // The store: 2 bytes of STORED at 203.
        assert_eq!(sim[203], Some(STORED as u8));
        assert_eq!(sim[204], Some(0));
        // The load of 4 bytes at 202 sees it, and goes to probe 1.
        let probe1: Vec<u8> = sim[88..96].iter().map(|b| b.unwrap()).collect();
        assert_eq!(probe1, [ctx[202], STORED as u8, 0, ctx[205], 0, 0, 0, 0]);
        // The byte at 0 (the first number) goes to probe 2.
        assert_eq!(sim[96], Some(77));
        // The call's result slot is judged on its own.
        assert_eq!(sim[RESULTS as usize], None);
        assert_eq!(sim[250], Some(ctx[250]));
        assert_eq!(p.reach().end, Some(199 + 0xff + 4));
        let got: Vec<u8> = sim.iter().map(|b| b.unwrap_or(0)).collect();
        assert_eq!(context_diff(&got, &sim, 4).0, 0);
        let mut bad = got.clone();
        bad[203] ^= 1;
        assert_eq!(
            context_diff(&bad, &sim, 4),
            (1, vec![(203, bad[203], got[203])])
        );
    }

    #[test]
    fn expected_results() {
        assert_eq!(expected(libc::SYS_getppid, 0, IDS), 9);
        assert_eq!(expected(libc::SYS_getuid, 48, IDS), 65534);
        assert_eq!(expected(libc::SYS_getppid, 56, IDS), -22);
        assert_eq!(expected(libc::SYS_getppid, 12, IDS), -22);
        assert_eq!(expected(1000, 8, IDS), -38);
        assert_eq!(expected(-1, 8, IDS), -38);
    }

    #[test]
    fn contexts_carry_the_header_where_it_fits() {
        let run = RunSpec {
            ctx_size: 80,
            flags: 0,
            nrs: [39, 110, 1000, -1],
            var_off: 0x1234,
            var_size: 48,
            select: 6,
            fill: 3,
        };
        let ctx = context(&run);
        assert_eq!(ctx.len(), 80);
        assert_eq!(i64::from_ne_bytes(ctx[8..16].try_into().unwrap()), 110);
        assert_eq!(u32::from_ne_bytes(ctx[72..76].try_into().unwrap()), 48);
        let small = context(&RunSpec {
            ctx_size: 10,
            ..run
        });
        assert_eq!(small.len(), 10);
        assert_eq!(i64::from_ne_bytes(small[0..8].try_into().unwrap()), 39);
    }
}
