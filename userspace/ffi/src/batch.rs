//! `anycall_batch_*`: the generic batch program for C.

use crate::error::{guard, guard_ptr};
use anycall::batch::{Batch, Call, Source};
use std::ffi::c_long;
use std::io;

/// `struct anycall_call`.
#[repr(C)]
pub struct AnycallCall {
    pub nr: c_long,
    pub args: [u64; 6],
    /// Per argument: 0 the constant, k the result of call k - 1. As wide
    /// as `args`, so that whatever C integer a caller computes arrives
    /// intact and is either an earlier call or refused: a narrower field
    /// made C truncate it first (a byte turned call 256 into "the constant
    /// in args[]", 16 bits turned 65537 into call 0), and the library saw
    /// a valid reference to another call.
    pub from: [u64; 6],
    pub continue_on_error: u8,
}

/// Where each argument of call `i` comes from: a constant or an earlier
/// call; any other `from` is refused, in the terms of anycall.h.
fn sources(i: usize, c: &AnycallCall) -> io::Result<[Source; 6]> {
    let mut out = [Source::Const(0); 6];
    for (j, src) in out.iter_mut().enumerate() {
        *src = match c.from[j] {
            0 => Source::Const(c.args[j]),
            k => match usize::try_from(k - 1) {
                Ok(from) if from < i => Source::Result(from),
                _ => {
                    return Err(crate::error::invalid(&format!(
                        "call {i}: from[{j}] = {k} names call {}, which is not an earlier \
                         call (from[j] = k + 1 takes the result of call k < {i}, 0 the \
                         constant in args[j])",
                        k - 1
                    )))
                }
            },
        };
    }
    Ok(out)
}

/// An opaque `struct anycall_batch`.
pub struct AnycallBatch(Batch);

/// Loads the batch program for up to `capacity` calls.
#[no_mangle]
pub extern "C" fn anycall_batch_load(capacity: usize) -> *mut AnycallBatch {
    guard_ptr(|| Ok(Box::new(AnycallBatch(Batch::load(capacity)?))))
}

/// # Safety
///
/// `batch` came from anycall_batch_load(); `calls` points at `n` calls and
/// `results` at room for `n` results. What the calls do is the caller's to
/// answer for.
#[no_mangle]
pub unsafe extern "C" fn anycall_batch_run(
    batch: *const AnycallBatch,
    calls: *const AnycallCall,
    n: usize,
    results: *mut i64,
) -> c_long {
    guard(|| {
        // SAFETY: the caller's contract.
        let batch =
            unsafe { batch.as_ref() }.ok_or_else(|| crate::error::invalid("the batch is NULL"))?;
        if n > 0 && (calls.is_null() || results.is_null()) {
            return Err(crate::error::invalid(
                "anycall_batch_run: NULL calls or results",
            ));
        }
        let raw = if n == 0 {
            &[][..]
        } else {
            // SAFETY: the caller's contract.
            unsafe { std::slice::from_raw_parts(calls, n) }
        };
        let mut list: Vec<Call<'_>> = raw
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let args = sources(i, c)?;
                // SAFETY: C callers take on what the calls do (anycall.h).
                let call = unsafe { Call::raw("syscall", c.nr, &args) };
                Ok(if c.continue_on_error != 0 {
                    call.continue_on_error()
                } else {
                    call
                })
            })
            .collect::<io::Result<_>>()?;
        let out = match batch.0.run(&mut list) {
            Ok(out) => out,
            Err(e) => {
                // A call stopped the batch: the results of those before it
                // (a descriptor one opened is the caller's to close), its
                // errno, INT64_MIN for the calls that did not run.
                if let Some(step) = anycall::chain::StepError::of(&e) {
                    for k in 0..n {
                        let r = step.result(k).unwrap_or(i64::MIN);
                        // SAFETY: the caller's contract: room for `n` results.
                        unsafe { results.add(k).write(r) };
                    }
                }
                return Err(e);
            }
        };
        // SAFETY: the caller's contract: room for `n` results.
        unsafe { std::ptr::copy_nonoverlapping(out.as_ptr(), results, out.len()) };
        Ok(0)
    }) as c_long
}

/// # Safety
///
/// `batch` is NULL or came from anycall_batch_load() and is not used
/// afterwards.
#[no_mangle]
pub unsafe extern "C" fn anycall_batch_free(batch: *mut AnycallBatch) {
    if !batch.is_null() {
        // SAFETY: the caller's contract: ours, from Box::into_raw.
        drop(unsafe { Box::from_raw(batch) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(from: [u64; 6]) -> AnycallCall {
        AnycallCall {
            nr: 0,
            args: [7; 6],
            from,
            continue_on_error: 0,
        }
    }

    #[test]
    fn sources_name_every_call_of_the_largest_batch() {
        // The last call of the largest batch takes the result of the one
        // before it.
        let last = anycall::batch::MAX_CAPACITY - 1;
        assert_eq!(
            sources(last, &call([1, 256, 257, last as u64, 0, 0])).unwrap(),
            [
                Source::Result(0),
                Source::Result(255),
                Source::Result(256),
                Source::Result(last - 1),
                Source::Const(7),
                Source::Const(7),
            ]
        );
    }

    #[test]
    fn sources_refuse_what_is_not_an_earlier_call() {
        // What a 16-bit field made of 65537 (call 0) and of -1 + 1 (the
        // constant), and a call naming itself.
        for (i, from, names) in [
            (5, 65537, "65536"),
            (5, u64::MAX, "18446744073709551614"),
            (3, 4, "3"),
        ] {
            let err = sources(i, &call([0, 0, from, 0, 0, 0])).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert_eq!(
                err.to_string(),
                format!(
                    "call {i}: from[2] = {from} names call {names}, which is not an earlier \
                     call (from[j] = k + 1 takes the result of call k < {i}, 0 the constant \
                     in args[j])"
                )
            );
        }
    }
}
