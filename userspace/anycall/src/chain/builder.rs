//! The chain builder: steps, their arguments, slots and loops, and the
//! checks a chain passes before any bytecode is generated.

use super::{layout::Layout, BuiltChain, MAX_LOOP, MAX_STEPS};
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

/// A step of a chain; as an [`Arg`], its result. It belongs to the chain
/// whose builder made it: another chain refuses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Step(
    /// Its position in the chain.
    pub(crate) usize,
    /// The chain it belongs to (see [`Plan::id`]).
    pub(crate) u64,
);

impl Step {
    /// Its position in the chain, from 0.
    pub fn index(self) -> usize {
        self.0
    }
}

/// A loop of a chain (see [`ChainBuilder::for_each`]); like a [`Step`], it
/// belongs to one chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loop(
    /// Its position among the chain's loops.
    pub(crate) usize,
    /// The chain it belongs to (see [`Plan::id`]).
    pub(crate) u64,
);

/// What a slot holds; set per call through an [`super::Invocation`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SlotKind {
    /// A 64-bit value.
    Value,
    /// A NUL-terminated path the kernel reads.
    Path,
    /// Bytes the kernel reads: pointer and length; `min` bytes at least.
    Input { min: usize },
    /// Bytes the kernel writes: pointer and length; `min` bytes at least.
    Output { min: usize },
    /// Values, one per loop iteration.
    Values { max: usize },
    /// Paths, one per loop iteration.
    Paths { max: usize },
    /// Output elements of `stride` bytes, one per loop iteration.
    Outputs { max: usize, stride: usize },
}

impl SlotKind {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            SlotKind::Value => "a value slot",
            SlotKind::Path => "a path slot",
            SlotKind::Input { .. } => "an input buffer slot",
            SlotKind::Output { .. } => "an output buffer slot",
            SlotKind::Values { .. } => "a value array",
            SlotKind::Paths { .. } => "a path array",
            SlotKind::Outputs { .. } => "an output array",
        }
    }

    pub(crate) fn array_max(self) -> Option<usize> {
        match self {
            SlotKind::Values { max } | SlotKind::Paths { max } | SlotKind::Outputs { max, .. } => {
                Some(max)
            }
            _ => None,
        }
    }
}

/// Part of the context the caller fills for each call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// The chain it belongs to (see [`Plan::id`]).
    pub(crate) chain: u64,
    pub(crate) index: usize,
    pub(crate) kind: SlotKind,
}

/// Where an argument comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A constant.
    Const(u64),
    /// The value of a value slot, or an element of a value array.
    Value(Slot),
    /// The result of an earlier step (in a loop: of this iteration).
    Result(Step),
    /// The address of a path, input or output slot's data (in a loop, of
    /// this iteration's element of an array slot).
    Ptr(Slot),
    /// The length of an input or output slot (of an output array's element).
    Len(Slot),
    /// The loop's iteration number, from 0.
    Index,
}

integer_constants!(Arg::Const);

impl From<Step> for Arg {
    fn from(s: Step) -> Self {
        Arg::Result(s)
    }
}

impl From<&Slot> for Arg {
    /// A value slot gives its value; the others their address.
    fn from(s: &Slot) -> Self {
        match s.kind {
            SlotKind::Value | SlotKind::Values { .. } => Arg::Value(*s),
            _ => Arg::Ptr(*s),
        }
    }
}

/// What a step does when its call fails (returns a negative errno).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnError {
    /// Stop the chain: [`super::Invocation::run`] returns the error,
    /// naming the step.
    #[default]
    Stop,
    /// Go on with the next step.
    Continue,
    /// Go on with a later step (one after the loop, from inside a loop).
    /// The steps jumped over do not run, and neither does a later step
    /// that takes the result of one that did not run: it never gets the
    /// "did not run" mark as an argument.
    Goto(Step),
}

/// What an argument of a typed step must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Want {
    /// Anything but a pointer to a slot.
    Scalar,
    /// A path (slot or array).
    Path,
    /// Something the kernel reads, of at least `min` bytes.
    Input { min: usize },
    /// Something the kernel writes, of at least `min` bytes.
    Output { min: usize },
    /// Whatever (raw system calls).
    Any,
}

#[derive(Clone, Debug)]
pub(crate) struct StepPlan {
    pub name: String,
    pub nr: i64,
    pub args: Vec<Arg>,
    pub wants: Vec<Want>,
    pub on_error: OnError,
    pub in_loop: Option<Loop>,
    /// What the step does with descriptors (set by the typed steps).
    pub fd: FdUse,
}

/// What a step does with a file descriptor, for the checks of `close()`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum FdUse {
    #[default]
    None,
    /// Its result is a new descriptor (`openat`).
    Opens,
    /// It closes the descriptor this step opened.
    Closes(Step),
}

#[derive(Clone, Debug)]
pub(crate) struct LoopPlan {
    pub max: usize,
    /// First step of the body, and one past its last.
    pub first: usize,
    pub end: usize,
}

/// Everything a chain is, as the code generator needs it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Plan {
    /// Tells its slots from another chain's, whose offsets would be wrong.
    pub id: u64,
    pub steps: Vec<StepPlan>,
    pub slots: Vec<SlotKind>,
    pub loops: Vec<LoopPlan>,
    /// The loop whose steps use each slot (set by `build()`).
    pub slot_loops: Vec<Option<usize>>,
}

impl Plan {
    fn find_slot_loops(&self) -> Vec<Option<usize>> {
        let mut found = vec![None; self.slots.len()];
        for step in &self.steps {
            for arg in &step.args {
                if let Arg::Value(s) | Arg::Ptr(s) | Arg::Len(s) = arg {
                    found[s.index] = found[s.index].or(step.in_loop.map(|l| l.0));
                }
            }
        }
        found
    }
}

/// A chain that cannot be built: which step, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    /// The step at fault, if it is one step's.
    pub step: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.step {
            Some(s) => write!(f, "step {s}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

impl std::error::Error for BuildError {}

impl From<BuildError> for io::Error {
    fn from(e: BuildError) -> Self {
        io::Error::new(io::ErrorKind::InvalidInput, e)
    }
}

/// Builds a chain step by step; see the [module documentation](super).
#[derive(Debug)]
pub struct ChainBuilder {
    plan: Plan,
    open_loop: Option<Loop>,
    errors: Vec<BuildError>,
}

impl Default for ChainBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChainBuilder {
    /// An empty chain.
    pub fn new() -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        ChainBuilder {
            plan: Plan {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                ..Plan::default()
            },
            open_loop: None,
            errors: Vec::new(),
        }
    }

    /// The chain's id, for tests that make handles by hand.
    #[cfg(test)]
    pub(crate) fn id(&self) -> u64 {
        self.plan.id
    }

    fn slot(&mut self, kind: SlotKind) -> Slot {
        self.plan.slots.push(kind);
        Slot {
            chain: self.plan.id,
            index: self.plan.slots.len() - 1,
            kind,
        }
    }

    /// A 64-bit value set for each call ([`super::Invocation::value`]).
    pub fn value(&mut self) -> Slot {
        self.slot(SlotKind::Value)
    }

    /// A path set for each call ([`super::Invocation::path`]).
    pub fn path(&mut self) -> Slot {
        self.slot(SlotKind::Path)
    }

    /// Bytes for the kernel to read ([`super::Invocation::input`]).
    pub fn input(&mut self) -> Slot {
        self.slot(SlotKind::Input { min: 0 })
    }

    /// A buffer for the kernel to fill ([`super::Invocation::output`]).
    pub fn output(&mut self) -> Slot {
        self.slot(SlotKind::Output { min: 0 })
    }

    /// An array slot of `max` elements: as many as a loop runs at most
    /// (1 to [`MAX_LOOP`]; anything else is refused by [`Self::build`]).
    fn array(&mut self, kind: SlotKind, max: usize) -> Slot {
        if max == 0 || max > MAX_LOOP {
            let index = self.plan.slots.len();
            self.error(
                None,
                format!(
                    "slot {index}: {} holds 1 to {MAX_LOOP} elements, not {max}",
                    kind.describe()
                ),
            );
        }
        self.slot(kind)
    }

    /// Values, one per iteration of a loop ([`super::Invocation::values`]);
    /// `max` is the loop's (1 to [`MAX_LOOP`]).
    pub fn values(&mut self, max: usize) -> Slot {
        self.array(SlotKind::Values { max }, max)
    }

    /// Paths, one per iteration of a loop ([`super::Invocation::paths`]);
    /// `max` is the loop's (1 to [`MAX_LOOP`]).
    pub fn paths(&mut self, max: usize) -> Slot {
        self.array(SlotKind::Paths { max }, max)
    }

    /// Output elements of type `T`, one per iteration of a loop
    /// ([`super::Invocation::outputs`]): e.g. one `libc::stat` each; `max`
    /// is the loop's (1 to [`MAX_LOOP`]). An array belongs to one loop.
    ///
    /// Elements of 2 GiB or more are refused: the program computes each
    /// element's address and length with 32-bit immediates.
    pub fn outputs<T>(&mut self, max: usize) -> Slot {
        let stride = std::mem::size_of::<T>();
        if i32::try_from(stride).is_err() {
            let index = self.plan.slots.len();
            self.error(
                None,
                format!(
                    "slot {index}: output elements of {stride} bytes; an output array takes \
                     elements of less than 2 GiB"
                ),
            );
        }
        self.array(SlotKind::Outputs { max, stride }, max)
    }

    /// Adds the steps `body` adds as a loop that runs once per element of
    /// the array slots they use (at most `max` times; the caller binds
    /// arrays of equal length, or sets the count with
    /// [`super::Invocation::count`]). Loops do not nest.
    pub fn for_each(&mut self, max: usize, body: impl FnOnce(&mut Self)) -> Loop {
        let lp = Loop(self.plan.loops.len(), self.plan.id);
        let first = self.plan.steps.len();
        if self.open_loop.is_some() {
            self.error(Some(first), "loops do not nest".into());
        }
        if max == 0 || max > MAX_LOOP {
            self.error(
                Some(first),
                format!("a loop runs 1 to {MAX_LOOP} times, not {max}"),
            );
        }
        self.plan.loops.push(LoopPlan {
            max,
            first,
            end: first,
        });
        let outer = self.open_loop.replace(lp);
        body(self);
        self.open_loop = outer;
        let end = self.plan.steps.len();
        self.plan.loops[lp.0].end = end;
        if end == first {
            self.error(None, format!("loop {} has no step", lp.0));
        }
        lp
    }

    /// Sets what `step` does when its call fails (default: [`OnError::Stop`]).
    pub fn on_error(&mut self, step: Step, policy: OnError) -> &mut Self {
        if step.1 != self.plan.id {
            self.error(
                None,
                format!("on_error() for step {} of another chain", step.0),
            );
            return self;
        }
        match self.plan.steps.get_mut(step.0) {
            Some(s) => s.on_error = policy,
            None => self.error(
                None,
                format!("on_error() for step {}, which does not exist", step.0),
            ),
        }
        self
    }

    pub(crate) fn push(&mut self, name: &str, nr: i64, args: Vec<(Arg, Want)>) -> Step {
        // An output slot must be as large as the largest write into it.
        for (arg, want) in &args {
            if let (Arg::Ptr(s), Want::Output { min } | Want::Input { min }) = (arg, want) {
                if s.chain != self.plan.id {
                    continue; // refused by check_arg()
                }
                if let SlotKind::Output { min: have } | SlotKind::Input { min: have } =
                    &mut self.plan.slots[s.index]
                {
                    *have = (*have).max(*min);
                }
            }
        }
        let (args, wants) = args.into_iter().unzip();
        self.plan.steps.push(StepPlan {
            name: name.to_string(),
            nr,
            args,
            wants,
            on_error: OnError::Stop,
            in_loop: self.open_loop,
            fd: FdUse::None,
        });
        Step(self.plan.steps.len() - 1, self.plan.id)
    }

    /// As `push()`, for a step that opens or closes a descriptor.
    pub(crate) fn push_fd(
        &mut self,
        name: &str,
        nr: i64,
        args: Vec<(Arg, Want)>,
        fd: FdUse,
    ) -> Step {
        let step = self.push(name, nr, args);
        self.plan.steps[step.0].fd = fd;
        step
    }

    fn error(&mut self, step: Option<usize>, message: String) {
        self.errors.push(BuildError { step, message });
    }

    /// Checks the chain and generates its program. Errors name the step.
    pub fn build(mut self) -> Result<BuiltChain, BuildError> {
        self.check();
        if let Some(e) = self.errors.into_iter().next() {
            return Err(e);
        }
        self.plan.slot_loops = self.plan.find_slot_loops();
        let max = anycall_sys::ANYCALL_CTX_SIZE_MAX as usize;
        let layout = match Layout::new(&self.plan) {
            Some(layout) if layout.size <= max => layout,
            too_big => {
                let size = too_big.map_or("more than 2^64".to_string(), |l| l.size.to_string());
                return Err(BuildError {
                    step: None,
                    message: format!(
                        "the context would take {size} bytes, more than anycall() takes ({max})"
                    ),
                });
            }
        };
        Ok(BuiltChain {
            plan: self.plan,
            layout,
        })
    }

    fn check(&mut self) {
        let plan = self.plan.clone();
        if plan.steps.is_empty() {
            self.error(None, "the chain has no step".into());
        }
        if plan.steps.len() > MAX_STEPS {
            self.error(
                None,
                format!("{} steps, more than {MAX_STEPS}", plan.steps.len()),
            );
        }
        // The kernel writes as many elements of an array as its loop runs,
        // and an invocation checks one count per array: an array used by
        // two loops would be checked against only one of their counts.
        let mut array_loop: Vec<Option<usize>> = vec![None; plan.slots.len()];
        for (i, step) in plan.steps.iter().enumerate() {
            let Some(lp) = step.in_loop else { continue };
            for arg in &step.args {
                let (Arg::Value(s) | Arg::Ptr(s) | Arg::Len(s)) = *arg else {
                    continue;
                };
                if s.chain != plan.id || s.kind.array_max().is_none() {
                    continue;
                }
                match array_loop[s.index] {
                    Some(first) if first != lp.0 => self.error(
                        Some(i),
                        format!(
                            "{}: slot {} ({}) is used by loops {first} and {}; an array \
                             belongs to one loop",
                            step.name,
                            s.index,
                            s.kind.describe(),
                            lp.0
                        ),
                    ),
                    _ => array_loop[s.index] = Some(lp.0),
                }
            }
        }
        for (i, step) in plan.steps.iter().enumerate() {
            let mut fail = |msg: String| {
                self.errors.push(BuildError {
                    step: Some(i),
                    message: format!("{}: {msg}", step.name),
                })
            };
            if step.args.len() > 6 {
                fail(format!(
                    "{} arguments; a system call takes 6 at most",
                    step.args.len()
                ));
            }
            for (j, (arg, want)) in step.args.iter().zip(&step.wants).enumerate() {
                if let Err(msg) = check_arg(&plan, i, step, *arg, *want) {
                    fail(format!("argument {j}: {msg}"));
                }
            }
            if let FdUse::Closes(opener) = step.fd {
                if let Err(msg) = check_close(&plan, i, step, opener) {
                    fail(msg);
                }
            }
            if let OnError::Goto(t) = step.on_error {
                if t.1 != plan.id {
                    fail(format!("on error goes to step {} of another chain", t.0));
                } else if t.0 <= i || t.0 >= plan.steps.len() {
                    fail(format!(
                        "on error goes to step {}, which is not a later step",
                        t.0
                    ));
                } else if plan.steps[t.0].in_loop.is_some()
                    && plan.steps[t.0].in_loop != step.in_loop
                    && !plan.loops.iter().any(|l| l.first == t.0)
                {
                    fail(format!(
                        "on error goes to step {}, inside another loop",
                        t.0
                    ));
                }
            }
        }
    }
}

/// A typed `close()` closes only what this chain opened, once: an fd
/// number from anywhere else could be one a `File` or `OwnedFd` of the
/// process owns (I/O safety), and a second close could hit a descriptor
/// another thread opened meanwhile under the same number.
fn check_close(plan: &Plan, i: usize, step: &StepPlan, opener: Step) -> Result<(), String> {
    if opener.1 != plan.id {
        return Err(format!(
            "closes the descriptor of step {} of another chain",
            opener.0
        ));
    }
    let Some(open) = plan.steps.get(opener.0).filter(|_| opener.0 < i) else {
        return Err(format!(
            "closes the descriptor of step {}, which is not an earlier step",
            opener.0
        ));
    };
    if open.fd != FdUse::Opens {
        return Err(format!(
            "step {} ({}) opens no descriptor; close() closes only what this chain \
             opened (the unsafe ChainBuilder::syscall() closes any number)",
            opener.0, open.name
        ));
    }
    if step.in_loop != open.in_loop {
        return Err(format!(
            "closes the descriptor of step {} in every iteration of a loop that step is not in",
            opener.0
        ));
    }
    if let Some(k) = plan.steps[..i]
        .iter()
        .position(|s| s.fd == FdUse::Closes(opener))
    {
        return Err(format!(
            "step {k} closes the descriptor of step {} already",
            opener.0
        ));
    }
    Ok(())
}

fn check_arg(plan: &Plan, i: usize, step: &StepPlan, arg: Arg, want: Want) -> Result<(), String> {
    if let Arg::Value(s) | Arg::Ptr(s) | Arg::Len(s) = arg {
        if s.chain != plan.id {
            return Err(format!("slot {} belongs to another chain", s.index));
        }
    }
    let slot_in_loop = |s: Slot| -> Result<(), String> {
        if s.kind.array_max().is_some() {
            let Some(lp) = step.in_loop else {
                return Err(format!(
                    "{} is only usable inside a loop",
                    s.kind.describe()
                ));
            };
            let max = plan.loops[lp.0].max;
            if s.kind.array_max() != Some(max) {
                return Err(format!(
                    "{} of {} elements in a loop of {max}",
                    s.kind.describe(),
                    s.kind.array_max().unwrap()
                ));
            }
        }
        Ok(())
    };
    match arg {
        Arg::Const(_) | Arg::Index if want == Want::Scalar || want == Want::Any => {
            if arg == Arg::Index && step.in_loop.is_none() {
                return Err("the loop index outside a loop".into());
            }
            Ok(())
        }
        Arg::Result(s) => {
            if s.1 != plan.id {
                return Err(format!("step {} belongs to another chain", s.0));
            }
            if want != Want::Scalar && want != Want::Any {
                return Err(format!("the result of step {} where a buffer must go", s.0));
            }
            if s.0 >= i {
                return Err(format!(
                    "refers to the result of step {}, which is not an earlier step",
                    s.0
                ));
            }
            let from = plan.steps[s.0].in_loop;
            if from.is_some() && from != step.in_loop {
                return Err(format!(
                    "refers to step {}, inside a loop it is not in",
                    s.0
                ));
            }
            Ok(())
        }
        Arg::Value(s) => {
            if !matches!(s.kind, SlotKind::Value | SlotKind::Values { .. }) {
                return Err(format!("the value of {}", s.kind.describe()));
            }
            if want != Want::Scalar && want != Want::Any {
                return Err("a value slot where a buffer must go".into());
            }
            slot_in_loop(s)
        }
        Arg::Len(s) => {
            if !matches!(
                s.kind,
                SlotKind::Input { .. } | SlotKind::Output { .. } | SlotKind::Outputs { .. }
            ) {
                return Err(format!("the length of {}", s.kind.describe()));
            }
            slot_in_loop(s)
        }
        Arg::Ptr(s) => {
            let ok = match (want, s.kind) {
                (Want::Any, SlotKind::Value | SlotKind::Values { .. }) => false,
                (Want::Any, _) => true,
                (Want::Path, SlotKind::Path | SlotKind::Paths { .. }) => true,
                (Want::Input { .. }, SlotKind::Input { .. }) => true,
                (Want::Output { min }, SlotKind::Outputs { stride, .. }) => {
                    if stride < min {
                        return Err(format!(
                            "output elements of {stride} bytes; the call writes {min}"
                        ));
                    }
                    true
                }
                (Want::Output { .. }, SlotKind::Output { .. }) => true,
                _ => false,
            };
            if !ok {
                return Err(format!(
                    "{} where {} must go",
                    s.kind.describe(),
                    want_describe(want)
                ));
            }
            slot_in_loop(s)
        }
        _ => Err(format!("{arg:?} where {} must go", want_describe(want))),
    }
}

fn want_describe(w: Want) -> &'static str {
    match w {
        Want::Scalar => "a number",
        Want::Path => "a path",
        Want::Input { .. } => "an input buffer",
        Want::Output { .. } => "an output buffer",
        Want::Any => "an argument",
    }
}
