//! BPF bytecode for a checked chain.
//!
//! Registers: r6 the context, r7 the loop index, r8 the loop count; r1-r5
//! are scratch (the kfunc call clobbers them). The arguments of each call
//! are stored at fp-48..fp-8 and passed to `bpf_anycall_syscall(nr, args,
//! args__sz)`. Jumps only go forward, except each loop's one back edge.

use super::builder::{Arg, OnError, Plan, SlotKind, StepPlan};
use super::layout::{Layout, ITERATION, NOT_RUN, STATUS};
use crate::asm::Asm;
use crate::insn::{self, Cond, Reg, Size, R0, R1, R10, R2, R3, R6, R7, R8};
use libbpf_sys::bpf_insn;

const ARGS: i16 = -48;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Label {
    Step(usize),
    LoopHead(usize),
    LoopEnd(usize),
    /// Just after step `i` (where it goes when it does not run).
    After(usize),
}

type Emitter = Asm<Label>;

/// `dst = &ctx[off + 8 * index]`
fn ctx_elem(e: &mut Emitter, dst: Reg) {
    e.emit(insn::mov_reg(dst, R7));
    e.emit(insn::mul_imm(dst, 8));
    e.emit(insn::add_reg(dst, R6));
}

/// An output array's element size as an immediate (the builder refuses
/// larger ones).
fn stride_imm(stride: usize) -> i32 {
    i32::try_from(stride).expect("output elements of less than 2 GiB")
}

fn off(o: usize) -> i16 {
    i16::try_from(o).expect("header offsets are small")
}

/// Base register and offset for `ctx + at`: instruction offsets stop at
/// 32 KiB, so beyond that `scratch = r6 + at` first.
fn ctx_at(e: &mut Emitter, scratch: Reg, at: usize) -> (Reg, i16) {
    match i16::try_from(at) {
        Ok(o) => (R6, o),
        Err(_) => {
            e.emit(insn::mov_reg(scratch, R6));
            e.emit(insn::add_imm(scratch, at as i32));
            (scratch, 0)
        }
    }
}

/// `dst = ctx + at + 8 * index`, as base register and offset.
fn ctx_elem_at(e: &mut Emitter, dst: Reg, at: usize) -> (Reg, i16) {
    ctx_elem(e, dst);
    match i16::try_from(at) {
        Ok(o) => (dst, o),
        Err(_) => {
            e.emit(insn::add_imm(dst, at as i32));
            (dst, 0)
        }
    }
}

/// The program for `plan`, calling the kfunc `kfunc`.
pub(crate) fn generate(plan: &Plan, layout: &Layout, kfunc: u32) -> Vec<bpf_insn> {
    let mut e = Emitter::new();
    e.emit(insn::mov_reg(R6, R1));
    let skippable = skippable(plan);
    for (i, step) in plan.steps.iter().enumerate() {
        // A jump to a loop's first step starts the loop.
        e.label(Label::Step(i));
        if let Some(lp) = plan.loops.iter().position(|l| l.first == i) {
            loop_head(&mut e, lp, plan.loops[lp].max, layout.loop_counts[lp]);
        }
        call(&mut e, plan, layout, i, step, kfunc, &skippable);
        if let Some(lp) = plan.loops.iter().position(|l| l.end == i + 1) {
            e.emit(insn::add_imm(R7, 1));
            e.jump(insn::ja(0), Label::LoopHead(lp));
            e.label(Label::LoopEnd(lp));
        }
    }
    e.label(Label::Step(plan.steps.len()));
    e.emit(insn::mov_imm(R0, 0));
    e.emit(insn::exit());
    e.finish()
}

fn loop_head(e: &mut Emitter, lp: usize, max: usize, count_off: usize) {
    e.emit(insn::mov_imm(R7, 0));
    e.emit(insn::load(Size::DW, R8, R6, off(count_off)));
    e.label(Label::LoopHead(lp));
    e.jump(insn::jmp_reg(Cond::Ge, R7, R8, 0), Label::LoopEnd(lp));
    // Redundant with the count's check at bind time, but it is what lets
    // the verifier bound the index.
    e.jump(
        insn::jmp_imm(Cond::Ge, R7, max as i32, 0),
        Label::LoopEnd(lp),
    );
}

/// The steps that may not run although the chain goes past them: those
/// an [`OnError::Goto`] can jump over, and those taking the result of one
/// of these (which do not run when it did not).
fn skippable(plan: &Plan) -> Vec<bool> {
    let mut over = vec![false; plan.steps.len()];
    for (g, step) in plan.steps.iter().enumerate() {
        if let OnError::Goto(t) = step.on_error {
            for s in over.iter_mut().take(t.index()).skip(g + 1) {
                *s = true;
            }
        }
    }
    for i in 0..plan.steps.len() {
        let takes_skippable = plan.steps[i]
            .args
            .iter()
            .any(|a| matches!(*a, Arg::Result(s) if over[s.index()]));
        over[i] |= takes_skippable;
    }
    over
}

fn call(
    e: &mut Emitter,
    plan: &Plan,
    layout: &Layout,
    i: usize,
    step: &StepPlan,
    kfunc: u32,
    skippable: &[bool],
) {
    let in_loop = step.in_loop.is_some();
    // A step that takes the result of a step that did not run does not run
    // either (its result stays NOT_RUN): the mark, i64::MIN, is 0 in its
    // low 32 bits, and would make a close() or read() use fd 0.
    for arg in &step.args {
        if let Arg::Result(s) = *arg {
            if skippable[s.index()] {
                load_arg(e, plan, layout, *arg);
                e.mov(R2, NOT_RUN as u64);
                e.jump(insn::jmp_reg(Cond::Eq, R1, R2, 0), Label::After(i));
            }
        }
    }
    for (j, arg) in step.args.iter().enumerate() {
        load_arg(e, plan, layout, *arg);
        e.emit(insn::store(Size::DW, R10, ARGS + 8 * j as i16, R1));
    }
    if step.args.is_empty() {
        e.emit(insn::mov_imm(R1, 0));
        e.emit(insn::store(Size::DW, R10, ARGS, R1));
    }
    e.mov(R1, step.nr as u64);
    e.emit(insn::mov_reg(R2, R10));
    e.emit(insn::add_imm(R2, ARGS as i32));
    e.emit(insn::mov_imm(R3, 8 * step.args.len().max(1) as i32));
    e.emit(insn::call_kfunc(kfunc));
    let (base, o) = if in_loop {
        ctx_elem_at(e, R1, layout.results[i])
    } else {
        ctx_at(e, R1, layout.results[i])
    };
    e.emit(insn::store(Size::DW, base, o, R0));
    match step.on_error {
        OnError::Continue => {}
        OnError::Goto(t) => e.jump(insn::jmp_imm(Cond::Slt, R0, 0, 0), Label::Step(t.0)),
        OnError::Stop => {
            let tail = if in_loop { 4 } else { 3 };
            e.emit(insn::jmp_imm(Cond::Sge, R0, 0, tail));
            e.emit(insn::mov_imm(R1, i as i32 + 1));
            e.emit(insn::store(Size::DW, R6, off(STATUS), R1));
            if in_loop {
                e.emit(insn::store(Size::DW, R6, off(ITERATION), R7));
            }
            e.emit(insn::exit());
        }
    }
    e.label(Label::After(i));
}

/// `r1 = ` the argument's value.
fn load_arg(e: &mut Emitter, plan: &Plan, layout: &Layout, arg: Arg) {
    match arg {
        Arg::Const(v) => e.mov(R1, v),
        Arg::Index => e.emit(insn::mov_reg(R1, R7)),
        Arg::Result(s) => {
            let at = layout.results[s.0];
            let (base, o) = if plan.steps[s.0].in_loop.is_some() {
                ctx_elem_at(e, R1, at)
            } else {
                ctx_at(e, R1, at)
            };
            e.emit(insn::load(Size::DW, R1, base, o));
        }
        Arg::Value(s) | Arg::Ptr(s) => {
            let at = layout.slots[s.index];
            match plan.slots[s.index] {
                SlotKind::Values { .. } | SlotKind::Paths { .. } => {
                    let (base, o) = ctx_elem_at(e, R1, at);
                    e.emit(insn::load(Size::DW, R1, base, o));
                }
                SlotKind::Outputs { stride, .. } => {
                    let (base, o) = ctx_at(e, R1, at);
                    e.emit(insn::load(Size::DW, R1, base, o));
                    e.emit(insn::mov_reg(R2, R7));
                    e.emit(insn::mul_imm(R2, stride_imm(stride)));
                    e.emit(insn::add_reg(R1, R2));
                }
                _ => {
                    let (base, o) = ctx_at(e, R1, at);
                    e.emit(insn::load(Size::DW, R1, base, o));
                }
            }
        }
        Arg::Len(s) => match plan.slots[s.index] {
            SlotKind::Outputs { stride, .. } => e.emit(insn::mov_imm(R1, stride_imm(stride))),
            _ => {
                let (base, o) = ctx_at(e, R1, layout.slots[s.index] + 8);
                e.emit(insn::load(Size::DW, R1, base, o));
            }
        },
    }
}
