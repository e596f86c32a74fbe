//! Instructions with labels, for the chain and batch code generators: a
//! jump names the label it goes to and gets its offset once every label is
//! placed, so no generator counts instructions by hand.

use crate::insn::{self, Reg};
use libbpf_sys::bpf_insn;
use std::fmt::Debug;

pub(crate) struct Asm<L> {
    insns: Vec<bpf_insn>,
    labels: Vec<(L, usize)>,
    fixups: Vec<(usize, L)>,
}

impl<L: Copy + PartialEq + Debug> Asm<L> {
    pub(crate) fn new() -> Self {
        Asm {
            insns: Vec::new(),
            labels: Vec::new(),
            fixups: Vec::new(),
        }
    }

    pub(crate) fn emit(&mut self, i: bpf_insn) {
        self.insns.push(i);
    }

    /// The index of the next instruction.
    pub(crate) fn len(&self) -> usize {
        self.insns.len()
    }

    /// Places `l` at the next instruction.
    pub(crate) fn label(&mut self, l: L) {
        debug_assert!(self.labels.iter().all(|(x, _)| *x != l), "{l:?} twice");
        self.labels.push((l, self.insns.len()));
    }

    /// A jump to `l`, resolved by [`Asm::finish`].
    pub(crate) fn jump(&mut self, i: bpf_insn, l: L) {
        self.fixups.push((self.insns.len(), l));
        self.emit(i);
    }

    /// `dst = v` for any value: one instruction where it fits an
    /// immediate, two otherwise.
    pub(crate) fn mov(&mut self, dst: Reg, v: u64) {
        match i32::try_from(v as i64) {
            Ok(small) => self.emit(insn::mov_imm(dst, small)),
            Err(_) => {
                for i in insn::ld_imm64(dst, v) {
                    self.emit(i);
                }
            }
        }
    }

    /// The instructions, with every jump's offset set.
    pub(crate) fn finish(mut self) -> Vec<bpf_insn> {
        for (at, l) in std::mem::take(&mut self.fixups) {
            let target = self
                .labels
                .iter()
                .find(|(x, _)| *x == l)
                .unwrap_or_else(|| panic!("label {l:?} never placed"))
                .1;
            let off = target as i64 - at as i64 - 1;
            let off = i16::try_from(off).expect("a jump longer than BPF allows");
            insn::set_jump_offset(&mut self.insns[at], off);
        }
        self.insns
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::{Cond, R0, R1};

    #[test]
    fn jumps_reach_their_labels_both_ways() {
        let mut a = Asm::new();
        a.label("top");
        a.jump(insn::jmp_imm(Cond::Eq, R1, 0, 0), "end");
        a.mov(R0, 1);
        a.mov(R0, 1 << 40);
        a.jump(insn::ja(0), "top");
        a.label("end");
        a.emit(insn::exit());
        let p = a.finish();
        assert_eq!(p.len(), 6);
        // From 0 to 5, and from 4 back to 0.
        assert_eq!(p[0].off, 4);
        assert_eq!(p[4].off, -5);
    }
}
