//! The same kind of work with the run-time chain builder: no C, no clang.

use anycall::chain::{Chain, ChainBuilder, Slot, Step};
use std::ffi::CStr;
use std::io;

// usage: chain-read
/// openat + read + close as one prepared chain: built and loaded once,
/// then one `anycall()` per file.
pub struct FileReader {
    chain: Chain,
    path: Slot,
    buf: Slot,
    read: Step,
}

impl FileReader {
    pub fn new() -> io::Result<Self> {
        let mut b = ChainBuilder::new();
        let path = b.path();
        let buf = b.output();
        let fd = b.openat(libc::AT_FDCWD, &path, libc::O_RDONLY | libc::O_CLOEXEC, 0);
        let read = b.read(fd, &buf);
        b.close(fd);
        Ok(FileReader {
            chain: b.build()?.load()?,
            path,
            buf,
            read,
        })
    }

    /// Reads up to `buf.len()` bytes of `path`; errors name the failing step.
    pub fn read(&self, path: &CStr, buf: &mut [u8]) -> io::Result<usize> {
        let mut call = self.chain.invocation();
        call.path(&self.path, path)?;
        call.output(&self.buf, buf)?;
        let out = call.run()?;
        Ok(out.result(self.read).unwrap_or(0) as usize)
    }
}
// end usage

// usage: chain-stat
/// `fstatat()` on up to `max` paths (at most 1024) in one `anycall()`: a
/// loop over arrays in the context. The context grows with `max`, and is
/// copied in and out on every call: size it to the bursts you run.
pub struct StatBurst {
    chain: Chain,
    paths: Slot,
    stats: Slot,
    stat: Step,
}

impl StatBurst {
    pub fn new(max: usize) -> io::Result<Self> {
        let mut b = ChainBuilder::new();
        let paths = b.paths(max);
        let stats = b.outputs::<libc::stat>(max);
        let mut stat = None;
        b.for_each(max, |b| {
            let step = b.newfstatat(libc::AT_FDCWD, &paths, &stats, 0);
            // A missing file is a result, not the end of the burst.
            b.on_error(step, anycall::chain::OnError::Continue);
            stat = Some(step);
        });
        Ok(StatBurst {
            chain: b.build()?.load()?,
            paths,
            stats,
            stat: stat.expect("the loop has its step"),
        })
    }

    /// Stats each of `paths` into `out` (as long as `paths`); returns each
    /// call's result (0 or a negative errno).
    pub fn stat_all(&self, paths: &[&CStr], out: &mut [libc::stat]) -> io::Result<Vec<i64>> {
        let mut call = self.chain.invocation();
        call.paths(&self.paths, paths)?;
        call.outputs(&self.stats, out)?;
        Ok(call.run()?.results(self.stat).to_vec())
    }
}
// end usage
