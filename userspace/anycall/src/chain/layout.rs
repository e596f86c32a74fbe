//! Where everything lives in a chain's context.
//!
//! ```text
//! 0      status: 0 when the chain ran to its end, else 1 + the step that stopped it
//! 8      the iteration that step stopped in
//! 16     one count per loop
//! ...    slots: value 8 bytes; path and output array 8 (address); input and
//!        output 16 (address, length); value and path arrays 8 per element
//! ...    results: 8 bytes per step, 8 per iteration for steps in loops
//! ```

use super::builder::{Plan, SlotKind};

pub(crate) const STATUS: usize = 0;
pub(crate) const ITERATION: usize = 8;
const HEADER: usize = 16;

/// A result no step wrote: the step did not run.
pub(crate) const NOT_RUN: i64 = i64::MIN;

#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub loop_counts: Vec<usize>,
    pub slots: Vec<usize>,
    pub results: Vec<usize>,
    pub size: usize,
}

impl Layout {
    /// The layout of `plan`'s context; `None` when its size does not fit
    /// in a `usize` (the builder refuses arrays that large, but nothing
    /// here may wrap whatever the plan says).
    pub fn new(plan: &Plan) -> Option<Self> {
        let mut at = HEADER;
        let mut take = |n: Option<usize>| {
            let here = at;
            at = at.checked_add(n?)?;
            Some(here)
        };
        let words = |n: usize| n.checked_mul(8);
        let loop_counts = plan
            .loops
            .iter()
            .map(|_| take(Some(8)))
            .collect::<Option<_>>()?;
        let slots = plan
            .slots
            .iter()
            .map(|kind| {
                take(match *kind {
                    SlotKind::Value | SlotKind::Path | SlotKind::Outputs { .. } => Some(8),
                    SlotKind::Input { .. } | SlotKind::Output { .. } => Some(16),
                    SlotKind::Values { max } | SlotKind::Paths { max } => words(max),
                })
            })
            .collect::<Option<_>>()?;
        let results = plan
            .steps
            .iter()
            .map(|s| {
                let n = match s.in_loop {
                    Some(l) => plan.loops.get(l.0)?.max,
                    None => 1,
                };
                take(words(n))
            })
            .collect::<Option<_>>()?;
        Some(Layout {
            loop_counts,
            slots,
            results,
            size: at,
        })
    }
}
