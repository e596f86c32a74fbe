//! `anycall_batch_*`: the generic batch program for C.

use crate::error::{guard, guard_ptr};
use anycall::batch::{Batch, Call, Source};
use std::ffi::c_long;

/// `struct anycall_call`.
#[repr(C)]
pub struct AnycallCall {
    pub nr: c_long,
    pub args: [u64; 6],
    /// Per argument: 0 the constant, k the result of call k - 1. 16 bits,
    /// so that every call of the largest batch can be named (a byte
    /// wrapped at call 255 and pointed elsewhere without a word).
    pub from: [u16; 6],
    pub continue_on_error: u8,
}

/// Where each argument of `c` comes from.
fn sources(c: &AnycallCall) -> [Source; 6] {
    std::array::from_fn(|j| match c.from[j] {
        0 => Source::Const(c.args[j]),
        k => Source::Result(k as usize - 1),
    })
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
            .map(|c| {
                let args = sources(c);
                // SAFETY: C callers take on what the calls do (anycall.h).
                let call = unsafe { Call::raw("syscall", c.nr, &args) };
                if c.continue_on_error != 0 {
                    call.continue_on_error()
                } else {
                    call
                }
            })
            .collect();
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

    #[test]
    fn sources_name_every_call_of_the_largest_batch() {
        let mut c = AnycallCall {
            nr: 0,
            args: [7; 6],
            from: [0; 6],
            continue_on_error: 0,
        };
        c.from[..4].copy_from_slice(&[1, 256, 257, anycall::batch::MAX_CAPACITY as u16]);
        assert_eq!(
            sources(&c),
            [
                Source::Result(0),
                Source::Result(255),
                Source::Result(256),
                Source::Result(511),
                Source::Const(7),
                Source::Const(7),
            ]
        );
    }
}
