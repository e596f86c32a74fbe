//! The batch program: a loop over the entries of its context.
//!
//! r6 the context, r7 the entry index, r8 the count, r9 the entry. Each
//! argument is the entry's constant, or the result of an earlier entry
//! when its 16-bit source says so.

use super::layout::*;
use crate::insn::{self, Cond, Size, R0, R1, R10, R2, R3, R6, R7, R8, R9};
use libbpf_sys::bpf_insn;

const STACK_ARGS: i16 = -48;

/// The program for batches of up to `capacity` calls, calling the kfunc
/// `kfunc`.
pub(crate) fn generate(capacity: usize, kfunc: u32) -> Vec<bpf_insn> {
    let cap = capacity as i32;
    // Past 32 KiB, beyond an instruction's offset: added as an immediate.
    let res = results(capacity) as i32;
    let mut p = vec![
        insn::mov_reg(R6, R1),
        insn::mov_imm(R7, 0),
        insn::load(Size::DW, R8, R6, COUNT as i16),
    ];
    let head = p.len();
    // The jumps to the end are patched once its place is known.
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
            // 0, or a call not before this one: the constant.
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
