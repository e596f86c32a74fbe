//! The batch program: a loop over the entries of its context.
//!
//! r6 the context, r8 the count, r9 the context plus `ENTRY` times the
//! index (the entry is at r9 + `ENTRIES`), r7 the index until the entry's
//! head is loaded, then the head.
//!
//! Each entry costs little beyond its system call:
//!
//! - An entry that takes only constants (most do) passes its arguments
//!   where they are, in the context; only one with a result among its
//!   sources has them copied into the entry first, out of line.
//! - The number is looked up in a binary search over the numbers the
//!   typed constructors issue ([`TYPED_NUMBERS`]), each with a call site
//!   of its own, reached only when R1 is that number. The verifier then
//!   knows the number there and issues the call inline, straight into the
//!   system call's handler; any other number goes to a call site where
//!   R1 is whatever the entry says, which the kernel's dispatch handles.
//! - The loop goes through `may_goto`, with its index in the context, so
//!   that the verifier checks one iteration for all (its states at the
//!   `may_goto` converge) instead of walking every iteration of the
//!   largest batch, with every call site's branch pending in each.

use super::calls::TYPED_NUMBERS;
use super::layout::*;
use crate::asm::Asm;
use crate::insn::{self, Cond, Size, R0, R1, R2, R3, R6, R7, R8, R9};
use libbpf_sys::bpf_insn;

/// What the program returns when its context is not one `encode()` wrote
/// (a count above the capacity), or its loop budget is spent.
const EINVAL: i32 = 22;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Label {
    Loop,
    Ready,
    Generic,
    /// After the call: the result's store.
    Tail,
    End,
    Failed,
    Invalid,
    Resolve,
    /// After the resolution of argument `j`.
    Resolved(usize),
    /// The subtree of the dispatch over `TYPED_NUMBERS[lo..hi]` (a right
    /// one: left ones follow their parent's compare).
    Subtree(usize, usize),
}

/// A call site of the program.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Site {
    /// The index of the call instruction.
    pub pc: usize,
    /// The number R1 holds at every visit, `None` at the generic site.
    pub nr: Option<i64>,
    /// Where the site's block starts: only the dispatch's last compare
    /// for `nr` falls into it, and nothing jumps there.
    pub start: usize,
}

/// The instructions, and the call sites among them.
struct Emitter {
    asm: Asm<Label>,
    sites: Vec<Site>,
}

impl std::ops::Deref for Emitter {
    type Target = Asm<Label>;

    fn deref(&self) -> &Asm<Label> {
        &self.asm
    }
}

impl std::ops::DerefMut for Emitter {
    fn deref_mut(&mut self) -> &mut Asm<Label> {
        &mut self.asm
    }
}

fn off(o: usize) -> i16 {
    i16::try_from(o).expect("entry offsets are small")
}

/// The program for batches of up to `capacity` calls, calling the kfunc
/// `kfunc`.
pub(crate) fn generate(capacity: usize, kfunc: u32) -> Vec<bpf_insn> {
    generate_with_sites(capacity, kfunc).0
}

/// [`generate`], and where its call sites are.
pub(crate) fn generate_with_sites(capacity: usize, kfunc: u32) -> (Vec<bpf_insn>, Vec<Site>) {
    let cap = i32::try_from(capacity).expect("a batch's capacity is small");
    let mut e = Emitter {
        asm: Asm::new(),
        sites: Vec::new(),
    };
    e.emit(insn::mov_reg(R6, R1));
    e.emit(insn::load(Size::DW, R8, R6, off(COUNT)));
    // Bounds the count, and with it the index, for the verifier.
    e.jump(insn::jmp_imm(Cond::Gt, R8, cap, 0), Label::Invalid);
    e.emit(insn::mov_imm(R7, 0));
    e.emit(insn::store(Size::DW, R6, off(NEXT), R7));

    e.label(Label::Loop);
    e.jump(insn::may_goto(0), Label::Invalid);
    e.emit(insn::load(Size::DW, R7, R6, off(NEXT)));
    e.jump(insn::jmp_reg(Cond::Ge, R7, R8, 0), Label::End);
    e.emit(insn::mov_reg(R9, R7));
    e.emit(insn::mul_imm(R9, ENTRY as i32));
    e.emit(insn::add_reg(R9, R6));
    // The index of the next call, also 1 + this one's for STATUS.
    e.emit(insn::add_imm(R7, 1));
    e.emit(insn::store(Size::DW, R6, off(NEXT), R7));
    // r7 the head from here on: it outlives the call.
    e.emit(insn::load(Size::DW, R7, R9, off(ENTRIES + HEAD)));
    e.jump(
        insn::jmp_imm(Cond::Set, R7, SOURCES as i32, 0),
        Label::Resolve,
    );

    e.label(Label::Ready);
    e.emit(insn::mov_reg(R1, R7));
    e.emit(insn::arsh_imm(R1, NR_SHIFT as i32));
    e.emit(insn::mov_reg(R2, R9));
    e.emit(insn::add_imm(R2, (ENTRIES + ARGS) as i32));
    e.emit(insn::mov_imm(R3, 48));
    dispatch(&mut e, 0, TYPED_NUMBERS.len(), kfunc);
    e.label(Label::Generic);
    e.sites.push(Site {
        pc: e.len(),
        nr: None,
        start: e.len(),
    });
    e.emit(insn::call_kfunc(kfunc));

    e.label(Label::Tail);
    e.emit(insn::store(Size::DW, R9, off(ENTRIES + RESULT), R0));
    e.jump(insn::jmp_imm(Cond::Slt, R0, 0, 0), Label::Failed);
    e.jump(insn::ja(0), Label::Loop);

    e.label(Label::End);
    e.emit(insn::mov_imm(R0, 0));
    e.emit(insn::exit());

    // A failed call: go on unless it stops the batch.
    e.label(Label::Failed);
    e.emit(insn::mov_reg(R1, R7));
    e.emit(insn::and_imm(R1, STOP_ON_ERROR as i32));
    e.jump(insn::jmp_imm(Cond::Eq, R1, 0, 0), Label::Loop);
    e.emit(insn::load(Size::DW, R1, R6, off(NEXT)));
    e.emit(insn::store(Size::DW, R6, off(STATUS), R1));
    e.emit(insn::exit());

    e.label(Label::Invalid);
    e.emit(insn::mov_imm(R0, -EINVAL));
    e.emit(insn::exit());

    // Arguments from earlier results, into the entry: r3 this call's index.
    e.label(Label::Resolve);
    e.emit(insn::load(Size::DW, R3, R6, off(NEXT)));
    e.emit(insn::add_imm(R3, -1));
    for j in 0..6 {
        let arg = off(ENTRIES + ARGS + 8 * j);
        e.emit(insn::mov_reg(R1, R7));
        e.emit(insn::and_imm(R1, source_bit(j) as i32));
        e.jump(insn::jmp_imm(Cond::Eq, R1, 0, 0), Label::Resolved(j));
        e.emit(insn::load(Size::DW, R2, R9, arg));
        e.emit(insn::add_imm(R2, -1));
        // Not an earlier call (encode() writes none): left as it is. The
        // count bounds the access for the verifier.
        e.jump(insn::jmp_reg(Cond::Ge, R2, R3, 0), Label::Resolved(j));
        e.jump(insn::jmp_reg(Cond::Ge, R2, R8, 0), Label::Resolved(j));
        e.emit(insn::mul_imm(R2, ENTRY as i32));
        e.emit(insn::add_reg(R2, R6));
        e.emit(insn::load(Size::DW, R2, R2, off(ENTRIES + RESULT)));
        e.emit(insn::store(Size::DW, R9, arg, R2));
        e.label(Label::Resolved(j));
    }
    e.jump(insn::ja(0), Label::Ready);
    (e.asm.finish(), e.sites)
}

/// A binary search of R1 over `TYPED_NUMBERS[lo..hi]`: at its leaves, a
/// call site where R1 is the leaf's number; a miss goes to the generic
/// site.
fn dispatch(e: &mut Emitter, lo: usize, hi: usize, kfunc: u32) {
    if hi - lo == 1 {
        let nr = TYPED_NUMBERS[lo];
        let imm = i32::try_from(nr).expect("system call numbers are small");
        // Its fall-through, where the verifier knows R1 == nr, is the
        // site, which nothing else reaches.
        e.jump(insn::jmp_imm(Cond::Ne, R1, imm, 0), Label::Generic);
        let start = e.len();
        e.sites.push(Site {
            pc: start,
            nr: Some(nr),
            start,
        });
        e.emit(insn::call_kfunc(kfunc));
        e.jump(insn::ja(0), Label::Tail);
        return;
    }
    let mid = lo + (hi - lo) / 2;
    let imm = i32::try_from(TYPED_NUMBERS[mid]).expect("system call numbers are small");
    // Unsigned: a negative number, as u64, is past every known one.
    e.jump(insn::jmp_imm(Cond::Ge, R1, imm, 0), Label::Subtree(mid, hi));
    dispatch(e, lo, mid, kfunc);
    e.label(Label::Subtree(mid, hi));
    dispatch(e, mid, hi, kfunc);
}
