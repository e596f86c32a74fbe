//! Calling a loaded chain: binding its slots, running it, reading results.

use super::builder::{Loop, SlotKind, Step};
use super::layout::{ITERATION, NOT_RUN, STATUS};
use super::{BuiltChain, Slot};
use crate::Program;
use std::ffi::CStr;
use std::fmt;
use std::io;
use std::marker::PhantomData;

/// One call of a [`super::Chain`]: the slots bound to data that lives at least
/// as long as `'a`.
#[derive(Debug)]
pub struct Invocation<'c, 'a> {
    chain: &'c BuiltChain,
    program: Option<&'c Program>,
    /// The context, as 64-bit words: every field of the layout is one or
    /// more of them.
    ctx: Vec<u64>,
    bound: Vec<bool>,
    /// Elements bound to the array slots of each loop, or an explicit count.
    counts: Vec<Option<usize>>,
    /// Elements bound to each array slot.
    lens: Vec<Option<usize>>,
    _data: PhantomData<&'a mut [u8]>,
}

/// A step (of a chain) or call (of a batch) that stopped the run: which,
/// in which iteration, its errno, and what the steps before it returned
/// (e.g. a descriptor an earlier step opened, for the caller to close).
///
/// It comes inside the [`io::Error`] the run returns:
///
/// ```no_run
/// # fn f(chain: &anycall::chain::Chain, open: anycall::chain::Step) {
/// use anycall::chain::StepError;
/// if let Err(e) = chain.invocation().run() {
///     if let Some(fd) = StepError::of(&e).and_then(|s| s.result(open.index())) {
///         // SAFETY: (why nothing else owns or closed it)
///         unsafe { libc::close(fd as i32) };
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError {
    /// The step's position in the chain (the call's in the batch).
    pub step: usize,
    /// Its system call.
    pub name: String,
    /// The loop iteration, for a step in a loop.
    pub iteration: Option<usize>,
    /// The errno it failed with.
    pub errno: i32,
    /// Each step's results in this run, as [`Outcome::results`] has them.
    results: Vec<Vec<i64>>,
}

impl StepError {
    pub(crate) fn new(
        step: usize,
        name: String,
        iteration: Option<usize>,
        errno: i32,
        results: Vec<Vec<i64>>,
    ) -> Self {
        StepError {
            step,
            name,
            iteration,
            errno,
            results,
        }
    }

    /// The step error inside `e`, if a step or call stopped the run.
    pub fn of(e: &io::Error) -> Option<&StepError> {
        e.get_ref().and_then(|inner| inner.downcast_ref())
    }

    /// What step `index` ([`super::Step::index`], or the call's index in a
    /// batch) returned in the run that failed (its last iteration's, in a
    /// loop): the failing step's negative errno for `self.step`, `None`
    /// for steps that did not run.
    pub fn result(&self, index: usize) -> Option<i64> {
        self.results(index)
            .iter()
            .rev()
            .copied()
            .find(|&r| r != NOT_RUN)
    }

    /// The results of step `index` in each iteration that could run (one
    /// for a step outside a loop), [`i64::MIN`] where it did not run.
    pub fn results(&self, index: usize) -> &[i64] {
        self.results.get(index).map_or(&[], |r| r.as_slice())
    }
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {} ({})", self.step, self.name)?;
        if let Some(it) = self.iteration {
            write!(f, " in iteration {it}")?;
        }
        write!(f, " failed: {}", io::Error::from_raw_os_error(self.errno))
    }
}

impl std::error::Error for StepError {}

impl From<StepError> for io::Error {
    fn from(e: StepError) -> Self {
        io::Error::new(io::Error::from_raw_os_error(e.errno).kind(), e)
    }
}

/// The results of a chain that ran to its end.
#[derive(Debug, Clone)]
pub struct Outcome<'c> {
    chain: &'c BuiltChain,
    /// The context's results area, from the first step's result on.
    results: Vec<i64>,
    counts: Vec<Option<usize>>,
}

impl<'c> Outcome<'c> {
    /// The result of `step` (its last iteration's, in a loop); `None` when
    /// it did not run (an earlier step's [`super::OnError::Goto`] skipped
    /// it, or a step it takes a result from did not run).
    pub fn result(&self, step: Step) -> Option<i64> {
        self.results(step).last().copied().filter(|&r| r != NOT_RUN)
    }

    /// The results of `step` in each iteration (one for a step outside a
    /// loop); [`i64::MIN`] where it did not run; none for a step of another
    /// chain.
    pub fn results(&self, step: Step) -> &[i64] {
        if step.0 >= self.chain.plan.steps.len() || step.1 != self.chain.plan.id {
            return &[];
        }
        let layout = &self.chain.layout;
        let at = (layout.results[step.0] - layout.results[0]) / 8;
        let n = match self.chain.plan.steps[step.0].in_loop {
            Some(l) => self.counts[l.0].unwrap_or(0),
            None => 1,
        };
        &self.results[at..at + n]
    }
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

impl<'c, 'a> Invocation<'c, 'a> {
    pub(crate) fn new(chain: &'c BuiltChain, program: Option<&'c Program>) -> Self {
        Invocation {
            chain,
            program,
            ctx: vec![0; chain.layout.size / 8],
            bound: vec![false; chain.plan.slots.len()],
            counts: vec![None; chain.plan.loops.len()],
            lens: vec![None; chain.plan.slots.len()],
            _data: PhantomData,
        }
    }

    /// Stores `v` at byte offset `at` of the context (a multiple of 8).
    fn put(&mut self, at: usize, v: u64) {
        self.ctx[at / 8] = v;
    }

    fn slot(&mut self, slot: &Slot, want: &str, ok: bool) -> io::Result<usize> {
        if slot.chain != self.chain.plan.id || slot.index >= self.bound.len() {
            return Err(invalid(format!(
                "slot {} is not one of this chain's",
                slot.index
            )));
        }
        if !ok {
            return Err(invalid(format!(
                "slot {} is {}, not {want}",
                slot.index,
                self.chain.plan.slots[slot.index].describe()
            )));
        }
        Ok(self.chain.layout.slots[slot.index])
    }

    fn kind(&self, slot: &Slot) -> SlotKind {
        self.chain
            .plan
            .slots
            .get(slot.index)
            .copied()
            .unwrap_or(slot.kind)
    }

    /// Sets a value slot.
    pub fn value(&mut self, slot: &Slot, v: u64) -> io::Result<&mut Self> {
        let ok = self.kind(slot) == SlotKind::Value;
        let at = self.slot(slot, "a value slot", ok)?;
        self.put(at, v);
        self.bound[slot.index] = true;
        Ok(self)
    }

    /// Binds a path slot.
    pub fn path(&mut self, slot: &Slot, path: &'a CStr) -> io::Result<&mut Self> {
        let ok = self.kind(slot) == SlotKind::Path;
        let at = self.slot(slot, "a path slot", ok)?;
        self.put(at, path.as_ptr() as u64);
        self.bound[slot.index] = true;
        Ok(self)
    }

    /// Binds an input buffer slot.
    pub fn input(&mut self, slot: &Slot, data: &'a [u8]) -> io::Result<&mut Self> {
        let min = match self.kind(slot) {
            SlotKind::Input { min } => Some(min),
            _ => None,
        };
        self.buffer(
            slot,
            "an input buffer slot",
            min,
            data.as_ptr() as u64,
            data.len(),
        )
    }

    /// Binds an output buffer slot; it must be as large as the largest
    /// write a step makes into it (e.g. a `struct stat` for fstat).
    pub fn output(&mut self, slot: &Slot, buf: &'a mut [u8]) -> io::Result<&mut Self> {
        let min = match self.kind(slot) {
            SlotKind::Output { min } => Some(min),
            _ => None,
        };
        self.buffer(
            slot,
            "an output buffer slot",
            min,
            buf.as_mut_ptr() as u64,
            buf.len(),
        )
    }

    /// Binds a buffer slot to `len` bytes at `ptr`. `min` is what its steps
    /// read or write, `None` when the slot is not `want`.
    fn buffer(
        &mut self,
        slot: &Slot,
        want: &str,
        min: Option<usize>,
        ptr: u64,
        len: usize,
    ) -> io::Result<&mut Self> {
        let at = self.slot(slot, want, min.is_some())?;
        if let Some(min) = min.filter(|&min| len < min) {
            return Err(invalid(format!(
                "slot {}: a buffer of {len} bytes; its steps use {min}",
                slot.index
            )));
        }
        self.put(at, ptr);
        self.put(at + 8, len as u64);
        self.bound[slot.index] = true;
        Ok(self)
    }

    fn array(&mut self, slot: &Slot, want: &str, ok: bool, n: usize) -> io::Result<usize> {
        let at = self.slot(slot, want, ok)?;
        let max = self.kind(slot).array_max().unwrap_or(0);
        if n > max {
            return Err(invalid(format!(
                "slot {}: {n} elements, more than its {max}",
                slot.index
            )));
        }
        // Every array of a loop, and its count, must agree: the kernel
        // writes as many elements as the loop runs.
        if let Some(lp) = self.loop_of(slot.index) {
            if let Some(c) = self.counts[lp] {
                let others = (0..self.lens.len()).any(|k| {
                    k != slot.index && self.lens[k].is_some() && self.loop_of(k) == Some(lp)
                });
                if c != n && (others || self.lens[slot.index].is_none()) {
                    return Err(invalid(format!(
                        "loop {lp}: slot {} has {n} elements, but the loop runs {c} times",
                        slot.index
                    )));
                }
            }
            self.counts[lp] = Some(n);
        }
        self.lens[slot.index] = Some(n);
        Ok(at)
    }

    /// Step `i`'s results in the context: one per iteration that can run.
    fn results_of(&self, i: usize) -> Vec<i64> {
        let chain = self.chain;
        let n = chain.plan.steps[i]
            .in_loop
            .map_or(1, |l| self.counts[l.0].unwrap_or(0));
        let at = chain.layout.results[i] / 8;
        self.ctx[at..at + n].iter().map(|&w| w as i64).collect()
    }

    /// The loop whose steps use `slot`.
    fn loop_of(&self, slot: usize) -> Option<usize> {
        self.chain.plan.slot_loops[slot]
    }

    /// Binds a value array: one value per loop iteration.
    pub fn values(&mut self, slot: &Slot, vals: &[u64]) -> io::Result<&mut Self> {
        let ok = matches!(self.kind(slot), SlotKind::Values { .. });
        let at = self.array(slot, "a value array", ok, vals.len())?;
        for (k, v) in vals.iter().enumerate() {
            self.put(at + 8 * k, *v);
        }
        self.bound[slot.index] = true;
        Ok(self)
    }

    /// Binds a path array: one path per loop iteration.
    pub fn paths(&mut self, slot: &Slot, paths: &[&'a CStr]) -> io::Result<&mut Self> {
        let ok = matches!(self.kind(slot), SlotKind::Paths { .. });
        let at = self.array(slot, "a path array", ok, paths.len())?;
        for (k, p) in paths.iter().enumerate() {
            self.put(at + 8 * k, p.as_ptr() as u64);
        }
        self.bound[slot.index] = true;
        Ok(self)
    }

    /// Binds an output array: element `i` is written by iteration `i`.
    pub fn outputs<T: crate::Context>(
        &mut self,
        slot: &Slot,
        out: &'a mut [T],
    ) -> io::Result<&mut Self> {
        let kind = self.kind(slot);
        let ok =
            matches!(kind, SlotKind::Outputs { stride, .. } if stride == std::mem::size_of::<T>());
        let at = self.array(slot, "an output array of this element type", ok, out.len())?;
        self.put(at, out.as_mut_ptr() as u64);
        self.bound[slot.index] = true;
        Ok(self)
    }

    /// Sets how many times `lp` runs: for a loop that uses no array slot
    /// (with arrays, their length is the count, and a different one is
    /// refused).
    pub fn count(&mut self, lp: Loop, n: usize) -> io::Result<&mut Self> {
        let plan = &self.chain.plan;
        let Some(max) = plan
            .loops
            .get(lp.0)
            .filter(|_| lp.1 == plan.id)
            .map(|l| l.max)
        else {
            return Err(invalid(format!("loop {} is not one of this chain's", lp.0)));
        };
        if n > max {
            return Err(invalid(format!(
                "loop {}: {n} iterations, more than its {max}",
                lp.0
            )));
        }
        if let Some(k) = (0..self.lens.len())
            .find(|&k| self.loop_of(k) == Some(lp.0) && self.lens[k].is_some_and(|len| len != n))
        {
            return Err(invalid(format!(
                "loop {}: {n} iterations, but slot {k} has {} elements",
                lp.0,
                self.lens[k].unwrap_or(0)
            )));
        }
        self.counts[lp.0] = Some(n);
        Ok(self)
    }

    /// Runs the chain: one `anycall()`. A step that fails with
    /// [`super::OnError::Stop`] gives an error that names it
    /// ([`StepError`] inside the [`io::Error`]).
    pub fn run(&mut self) -> io::Result<Outcome<'c>> {
        let program = self.program.expect("an invocation of a loaded chain");
        // SAFETY: the program is the one generated for this chain, and
        // `run_with()` gives it only the context this invocation built: every
        // address in it comes with the length of a buffer bound for `'a`,
        // checked against what the chain's steps read and write there.
        self.run_with(|ctx| unsafe { program.call_bytes(ctx) })
    }

    /// Runs the chain's context through `call` (the kernel, or the host
    /// tests' interpreter).
    pub(crate) fn run_with(
        &mut self,
        call: impl FnOnce(&mut [u8]) -> io::Result<i64>,
    ) -> io::Result<Outcome<'c>> {
        if let Some(i) = self.bound.iter().position(|b| !b) {
            return Err(invalid(format!(
                "slot {i} ({}) is not set",
                self.chain.plan.slots[i].describe()
            )));
        }
        if let Some(lp) = self.counts.iter().position(|c| c.is_none()) {
            return Err(invalid(format!(
                "loop {lp}: bind its arrays or set its count before running"
            )));
        }
        let chain = self.chain;
        for (lp, &at) in chain.layout.loop_counts.iter().enumerate() {
            self.ctx[at / 8] = self.counts[lp].unwrap_or(0) as u64;
        }
        self.ctx[STATUS / 8] = 0;
        self.ctx[ITERATION / 8] = 0;
        // What did not run keeps this mark (only iterations that can run).
        for (i, s) in chain.plan.steps.iter().enumerate() {
            let n = s.in_loop.map_or(1, |l| self.counts[l.0].unwrap_or(0));
            let at = chain.layout.results[i] / 8;
            self.ctx[at..at + n].fill(NOT_RUN as u64);
        }
        // SAFETY: any byte pattern is a valid `u64`, and the words are
        // viewed as their bytes only for the call.
        let bytes = unsafe {
            std::slice::from_raw_parts_mut(self.ctx.as_mut_ptr().cast::<u8>(), self.ctx.len() * 8)
        };
        // A stopped chain returns the step's negative errno, which
        // anycall() returns as -1 with errno set; the status says which.
        let ret = call(bytes);
        let status = self.ctx[STATUS / 8] as usize;
        match ret {
            Err(e) if status != 0 && status <= chain.plan.steps.len() => {
                let step = status - 1;
                let plan = &chain.plan.steps[step];
                let results = (0..chain.plan.steps.len())
                    .map(|i| self.results_of(i).to_vec())
                    .collect();
                return Err(StepError::new(
                    step,
                    plan.name.clone(),
                    plan.in_loop.map(|_| self.ctx[ITERATION / 8] as usize),
                    e.raw_os_error().unwrap_or(libc::EIO),
                    results,
                )
                .into());
            }
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        let first = chain.layout.results[0] / 8;
        Ok(Outcome {
            chain,
            results: self.ctx[first..].iter().map(|&w| w as i64).collect(),
            counts: self.counts.clone(),
        })
    }
}
