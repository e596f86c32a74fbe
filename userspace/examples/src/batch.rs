//! A batch whose shape is decided at run time.

use anycall::batch::{Batch, Call, Source};
use std::ffi::CStr;
use std::io;

// usage: batch
/// Reads the first bytes of each of `paths` (one buffer each) with one
/// `anycall()`: open, read and close per file, three calls per file, as
/// many files as the batch holds. Returns each read's result.
pub fn read_heads(batch: &Batch, paths: &[&CStr], bufs: &mut [Vec<u8>]) -> io::Result<Vec<i64>> {
    let mut calls = Vec::new();
    for (path, buf) in paths.iter().zip(bufs.iter_mut()) {
        let open = calls.len();
        calls.push(Call::openat(
            libc::AT_FDCWD,
            path,
            libc::O_RDONLY | libc::O_CLOEXEC,
            0,
        ));
        calls.push(Call::read(Source::Result(open), buf));
        calls.push(Call::close(open));
    }
    let results = batch.run(&mut calls)?;
    Ok(results.chunks(3).map(|c| c[1]).collect())
}
// end usage
