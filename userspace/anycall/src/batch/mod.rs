//! Batches: one generic program, loaded once, that runs whatever list of
//! system calls its context describes. For callers whose batches change
//! shape every time; a [`crate::chain::Chain`] is faster when the shape is
//! fixed.
//!
//! ```no_run
//! use anycall::batch::{Batch, Call, Source};
//! let batch = Batch::load(16).unwrap();
//! let mut buf = [0u8; 64];
//! let mut calls = [
//!     Call::openat(libc::AT_FDCWD, c"/etc/hostname", libc::O_RDONLY, 0),
//!     Call::read(Source::Result(0), &mut buf),
//!     Call::close(0),
//! ];
//! let results = batch.run(&mut calls).unwrap();
//! println!("read {} bytes", results[1]);
//! ```

mod calls;
mod codegen;
#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;

pub use calls::{Call, Source};

use crate::chain::StepError;
use crate::{kernel, Program};
use std::fmt;
use std::io;
use std::sync::{Mutex, TryLockError};

/// Calls one batch program may run at most per `anycall()`.
pub const MAX_CAPACITY: usize = 512;

/// Where things are in a batch context.
pub(crate) mod layout {
    /// 0 when the batch ran to its end, else 1 + the call that stopped it.
    pub const STATUS: usize = 0;
    pub const COUNT: usize = 8;
    /// The program's loop index: the next call to run. Kept in the
    /// context, where the verifier does not follow its value from one
    /// iteration to the next, so that it checks the loop once instead of
    /// once per call.
    pub const NEXT: usize = 16;
    pub const ENTRIES: usize = 24;
    /// One entry: a head word, replaced by the call's result once it ran,
    /// and 6 arguments.
    pub const ENTRY: usize = 56;
    /// Bit 0 [`STOP_ON_ERROR`], bits 1-6 which arguments are results, the
    /// number from bit [`NR_SHIFT`] (sign-extended). An entry whose head
    /// has none of [`SOURCES`] takes only constants.
    pub const HEAD: usize = 0;
    pub const RESULT: usize = HEAD;
    /// Each argument: the constant, or where the head says it is a result,
    /// k + 1 for the result of call k.
    pub const ARGS: usize = 8;
    /// Stop the batch when this call fails.
    pub const STOP_ON_ERROR: u64 = 1;
    /// Bit of argument `j` in the head: [`SOURCES`] is all six.
    pub const fn source_bit(j: usize) -> u64 {
        2 << j
    }
    pub const SOURCES: u64 = 0x7e;
    pub const NR_SHIFT: u32 = 8;

    pub const fn size(capacity: usize) -> usize {
        ENTRIES + ENTRY * capacity
    }

    const _: () = assert!(ARGS + 8 * 6 == ENTRY);
    const _: () = assert!(source_bit(5) < 1 << NR_SHIFT && SOURCES == source_bit(6) - 2);
    // Kept as words: every offset is one.
    const _: () = assert!(
        STATUS.is_multiple_of(8)
            && COUNT.is_multiple_of(8)
            && ENTRIES.is_multiple_of(8)
            && ENTRY.is_multiple_of(8)
    );
    // The largest batch's context is one anycall() takes.
    const _: () = assert!(size(super::MAX_CAPACITY) <= anycall_sys::ANYCALL_CTX_SIZE_MAX as usize);
}

/// The batch program, loaded for batches of up to `capacity` calls.
///
/// Its program is never handed out: [`Batch::run`] is the only way to run
/// it, so that the context always describes [`Call`]s (a forged one could
/// hold any address and length):
///
/// ```compile_fail
/// fn forge(batch: &anycall::batch::Batch) {
///     let _ = batch.program();
/// }
/// ```
pub struct Batch {
    program: Program,
    capacity: usize,
    /// The context of the last run, kept for the next: allocating and
    /// zeroing one per run cost more than the batch program itself (a run
    /// writes what it uses, and the program reads no further). A run that
    /// finds it taken, by a run in another thread, uses a fresh one.
    ctx: Mutex<Vec<u64>>,
}

impl fmt::Debug for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("program", &self.program)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl Batch {
    /// Loads the batch program for up to `capacity` calls per run (at most
    /// [`MAX_CAPACITY`]). Every run copies a context of 56 bytes per
    /// call of capacity in and out, so choose it near the batches you run.
    pub fn load(capacity: usize) -> io::Result<Batch> {
        if capacity == 0 || capacity > MAX_CAPACITY {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a batch holds 1 to {MAX_CAPACITY} calls, not {capacity}"),
            ));
        }
        if !kernel::has_syscall() {
            return Err(kernel::missing("loading the batch program"));
        }
        let id = kernel::kfunc_btf_id(kernel::SYSCALL_KFUNC)?;
        let insns = codegen::generate(capacity, id);
        let fd = crate::load::load_sleepable(
            anycall_sys::BPF_PROG_TYPE_ANYCALL,
            "anycall_batch",
            &insns,
        )?;
        Ok(Batch {
            program: Program::from_fd(fd, "anycall_batch".into()),
            capacity,
            ctx: Mutex::new(vec![0; layout::size(capacity) / 8]),
        })
    }

    /// The most calls one run takes.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Runs `calls` in one `anycall()` and returns each call's result. A
    /// failing call that stops the batch (the default) gives an error that
    /// names it ([`StepError`], which also has the results of the calls
    /// before it, [`StepError::result`]); calls made
    /// [`Call::continue_on_error`] leave their negative errno in the
    /// results instead.
    pub fn run(&self, calls: &mut [Call<'_>]) -> io::Result<Vec<i64>> {
        let (mut kept, mut fresh);
        let ctx: &mut [u64] = match self.ctx.try_lock() {
            Ok(guard) => {
                kept = guard;
                &mut kept
            }
            // What a panicking run left is overwritten like any other.
            Err(TryLockError::Poisoned(poisoned)) => {
                kept = poisoned.into_inner();
                &mut kept
            }
            Err(TryLockError::WouldBlock) => {
                fresh = vec![0; layout::size(self.capacity) / 8];
                &mut fresh
            }
        };
        calls::encode_into(calls, self.capacity, ctx)?;
        // SAFETY: the program is the batch program generated for this
        // capacity, and `ctx` the encoding of `calls`: it issues each call
        // with the arguments its typed constructor took from the buffers
        // borrowed for the calls' lifetime (or those an `unsafe` raw call's
        // caller vouched for), plus earlier results where a call takes them.
        let ret = unsafe { self.program.call_bytes(calls::as_bytes(ctx)) };
        calls::decode(calls, ctx, ret)
    }
}

/// The error of call `index`, with every call's result in the run.
pub(crate) fn step_error(
    calls: &[Call<'_>],
    index: usize,
    errno: i32,
    results: &[i64],
) -> io::Error {
    let results = results.iter().map(|&r| vec![r]).collect();
    StepError::new(index, calls[index].name().to_string(), None, errno, results).into()
}
