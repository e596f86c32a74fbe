//! The batch program and context as they were before the dispatch over
//! the typed numbers (each argument resolved into the stack, every call
//! through one site, results in an array of their own), kept as the model
//! the host tests hold the current program to.

use crate::insn::{self, Cond, Size, R0, R1, R10, R2, R3, R6, R7, R8, R9};
use libbpf_sys::bpf_insn;

const STATUS: usize = 0;
const COUNT: usize = 8;
const ENTRIES: usize = 16;
const ENTRY: usize = 80;
const NR: usize = 0;
const ARGS: usize = 8;
const SOURCES: usize = 56;
const FLAGS: usize = 72;
const STOP_ON_ERROR: u64 = 1;
const STACK_ARGS: i16 = -48;

const fn results(capacity: usize) -> usize {
    ENTRIES + ENTRY * capacity
}

const fn size(capacity: usize) -> usize {
    results(capacity) + 8 * capacity
}

/// One call as the encoder saw it: number, argument sources (`None` a
/// constant, `Some(k)` the result of call k < its index) and constants,
/// whether it stops the batch on failure.
pub(super) struct Entry {
    pub nr: i64,
    pub consts: [u64; 6],
    pub from: [Option<usize>; 6],
    pub stop_on_error: bool,
}

fn put(ctx: &mut [u8], at: usize, v: u64) {
    ctx[at..at + 8].copy_from_slice(&v.to_ne_bytes());
}

fn get(ctx: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(ctx[at..at + 8].try_into().unwrap())
}

/// The context the previous encoder wrote.
pub(super) fn encode(entries: &[Entry], capacity: usize) -> Vec<u8> {
    let mut ctx = vec![0u8; size(capacity)];
    put(&mut ctx, COUNT, entries.len() as u64);
    for (i, c) in entries.iter().enumerate() {
        let e = ENTRIES + i * ENTRY;
        put(&mut ctx, e + NR, c.nr as u64);
        for j in 0..6 {
            match c.from[j] {
                None => put(&mut ctx, e + ARGS + 8 * j, c.consts[j]),
                Some(k) => {
                    let at = e + SOURCES + 2 * j;
                    ctx[at..at + 2].copy_from_slice(&(k as u16 + 1).to_ne_bytes());
                }
            }
        }
        put(&mut ctx, e + FLAGS, c.stop_on_error as u64 * STOP_ON_ERROR);
    }
    for i in 0..capacity {
        put(&mut ctx, results(capacity) + 8 * i, i64::MIN as u64);
    }
    ctx
}

/// The status word and every call's result slot.
pub(super) fn decode(ctx: &[u8], n: usize, capacity: usize) -> (u64, Vec<i64>) {
    let results = (0..n)
        .map(|i| get(ctx, results(capacity) + 8 * i) as i64)
        .collect();
    (get(ctx, STATUS), results)
}

/// The previous program, as it was generated.
pub(super) fn generate(capacity: usize, kfunc: u32) -> Vec<bpf_insn> {
    let cap = capacity as i32;
    let res = results(capacity) as i32;
    let mut p = vec![
        insn::mov_reg(R6, R1),
        insn::mov_imm(R7, 0),
        insn::load(Size::DW, R8, R6, COUNT as i16),
    ];
    let head = p.len();
    let mut to_end = vec![p.len()];
    p.push(insn::jmp_reg(Cond::Ge, R7, R8, 0));
    to_end.push(p.len());
    p.push(insn::jmp_imm(Cond::Ge, R7, cap, 0));
    p.extend([
        insn::mov_reg(R9, R7),
        insn::mul_imm(R9, ENTRY as i32),
        insn::add_reg(R9, R6),
    ]);
    for j in 0..6i16 {
        let base = (ENTRIES + SOURCES) as i16 + 2 * j;
        let arg = (ENTRIES + ARGS) as i16 + 8 * j;
        p.extend([
            insn::load(Size::H, R1, R9, base),
            insn::jmp_imm(Cond::Eq, R1, 0, 7),
            insn::add_imm(R1, -1),
            insn::jmp_reg(Cond::Ge, R1, R7, 5),
            insn::mul_imm(R1, 8),
            insn::add_reg(R1, R6),
            insn::add_imm(R1, res),
            insn::load(Size::DW, R1, R1, 0),
            insn::ja(1),
            insn::load(Size::DW, R1, R9, arg),
            insn::store(Size::DW, R10, STACK_ARGS + 8 * j, R1),
        ]);
    }
    p.extend([
        insn::load(Size::DW, R1, R9, (ENTRIES + NR) as i16),
        insn::mov_reg(R2, R10),
        insn::add_imm(R2, STACK_ARGS as i32),
        insn::mov_imm(R3, 48),
        insn::call_kfunc(kfunc),
        insn::mov_reg(R1, R7),
        insn::mul_imm(R1, 8),
        insn::add_reg(R1, R6),
        insn::add_imm(R1, res),
        insn::store(Size::DW, R1, 0, R0),
        insn::jmp_imm(Cond::Sge, R0, 0, 7),
        insn::load(Size::DW, R1, R9, (ENTRIES + FLAGS) as i16),
        insn::and_imm(R1, STOP_ON_ERROR as i32),
        insn::jmp_imm(Cond::Eq, R1, 0, 4),
        insn::mov_reg(R1, R7),
        insn::add_imm(R1, 1),
        insn::store(Size::DW, R6, STATUS as i16, R1),
        insn::exit(),
        insn::add_imm(R7, 1),
    ]);
    let back = head as i64 - p.len() as i64 - 1;
    p.push(insn::ja(back as i16));
    let end = p.len();
    for at in to_end {
        insn::set_jump_offset(&mut p[at], (end - at - 1) as i16);
    }
    p.extend([insn::mov_imm(R0, 0), insn::exit()]);
    p
}
