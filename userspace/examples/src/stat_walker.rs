//! Stat'ing a directory's entries with the C program `stat_walker.bpf.c`.

use anycall::{Context, Program};
use std::ffi::CStr;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

/// `STAT_WALKER_MAX` of `userspace/bpf/examples/stat_walker.h`.
pub const MAX: usize = 64;

/// `struct stat_walker_ctx` of `userspace/bpf/examples/stat_walker.h`.
#[repr(C)]
pub struct StatWalkerCtx {
    pub dirfd: i64,
    pub dents: u64,
    pub dents_size: u64,
    pub stats: u64,
    pub count: u64,
    pub name_off: [u32; MAX],
    pub result: [i64; MAX],
}

// SAFETY: `#[repr(C)]` integers only; 5 * 8 + 64 * 4 leaves no padding
// before `result`.
unsafe impl Context for StatWalkerCtx {}

/// `stat_walker.bpf.o`'s program: the only way to get one is [`load`],
/// which is what makes [`stat_dir`] safe (running a `Program` is `unsafe`).
pub struct StatWalker(Program);

impl StatWalker {
    /// The loaded program (for the `unsafe` [`Program::call`]).
    pub fn program(&self) -> &Program {
        &self.0
    }
}

// usage: stat-walker
/// Every entry of the directory `dir` (but "." and "..") with its
/// `lstat()` result: one `anycall()` per 64 entries instead of 65 calls.
pub fn stat_dir(
    prog: &StatWalker,
    dir: &File,
) -> io::Result<Vec<(String, io::Result<libc::stat>)>> {
    let mut dents = vec![0u8; 16 * 1024];
    // SAFETY: `struct stat` is plain data; all zeroes is a valid value.
    let mut stats: Vec<libc::stat> = vec![unsafe { std::mem::zeroed() }; MAX];
    let mut entries = Vec::new();
    loop {
        let mut ctx = StatWalkerCtx {
            dirfd: dir.as_raw_fd() as i64,
            dents: dents.as_mut_ptr() as u64,
            dents_size: dents.len() as u64,
            stats: stats.as_mut_ptr() as u64,
            count: 0,
            name_off: [0; MAX],
            result: [0; MAX],
        };
        // SAFETY: the program is stat_walker.bpf.c's: it reads at most
        // `dents_size` bytes of `dirfd`'s entries into `dents` and writes
        // at most STAT_WALKER_MAX `struct stat`s to `stats`, both borrowed
        // here with those sizes; it opens and closes nothing.
        let ret = unsafe { prog.0.call(&mut ctx) }?;
        if ret < 0 {
            return Err(io::Error::from_raw_os_error(-ret as i32));
        }
        if ctx.count == 0 {
            return Ok(entries);
        }
        for k in 0..ctx.count as usize {
            let name = CStr::from_bytes_until_nul(&dents[ctx.name_off[k] as usize..])
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "unterminated name"))?;
            let stat = match ctx.result[k] {
                0 => Ok(stats[k]),
                err => Err(io::Error::from_raw_os_error(-err as i32)),
            };
            entries.push((name.to_string_lossy().into_owned(), stat));
        }
    }
}
// end usage

/// Loads `stat_walker.bpf.o`.
pub fn load() -> io::Result<StatWalker> {
    Program::from_elf(crate::objects::STAT_WALKER, Some("stat_walker")).map(StatWalker)
}
