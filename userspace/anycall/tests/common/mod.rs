//! What the guest tests share.

use anycall::insn::{self, Size, R0, R1, R2};
use libbpf_sys::bpf_insn;

/// `ctx.out = ctx.in + 1; return ctx.in + 7`, on a context of two `u32`s.
pub fn add_program() -> [bpf_insn; 6] {
    [
        insn::load(Size::W, R2, R1, 0),
        insn::add_imm(R2, 1),
        insn::store(Size::W, R1, 4, R2),
        insn::load(Size::W, R0, R1, 0),
        insn::add_imm(R0, 7),
        insn::exit(),
    ]
}
