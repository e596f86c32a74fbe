//! Reading a whole file with the C program `read_file.bpf.c`.

use anycall::{Context, Program};
use std::ffi::CStr;
use std::io;

/// `struct read_file_ctx` of `userspace/bpf/examples/read_file.h`.
#[repr(C)]
#[derive(Default)]
pub struct ReadFileCtx {
    pub path: u64,
    pub buf: u64,
    pub buf_size: u64,
    pub size: u64,
    pub reads: u64,
    pub truncated: i64,
}

// SAFETY: `#[repr(C)]` integers only, without padding.
unsafe impl Context for ReadFileCtx {}

// usage: read-file
/// `read_file.bpf.o`'s program. Running a `Program` is `unsafe` (its
/// context holds raw addresses); this type, whose only constructor loads
/// that object, is what lets [`read_file`] be safe.
pub struct ReadFile(Program);

impl ReadFile {
    /// Loads `read_file.bpf.o`.
    pub fn load() -> io::Result<Self> {
        Program::from_elf(crate::objects::READ_FILE, Some("read_file")).map(ReadFile)
    }

    /// The loaded program (for the `unsafe` [`Program::call`]).
    pub fn program(&self) -> &Program {
        &self.0
    }
}

/// Reads up to `buf.len()` bytes of `path` in one `anycall()`:
/// openat, read until end of file, close.
pub fn read_file(prog: &ReadFile, path: &CStr, buf: &mut [u8]) -> io::Result<usize> {
    let mut ctx = ReadFileCtx {
        path: path.as_ptr() as u64,
        buf: buf.as_mut_ptr() as u64,
        buf_size: buf.len() as u64,
        ..Default::default()
    };
    // SAFETY: the program is read_file.bpf.c's: it opens `ctx.path`, reads
    // at most `ctx.buf_size` bytes into `ctx.buf` and closes only the fd it
    // opened. Both are borrowed for the call, with the buffer's length.
    let ret = unsafe { prog.0.call(&mut ctx) }?;
    // The program returns the bytes read or a negative errno.
    if ret < 0 {
        return Err(io::Error::from_raw_os_error(-ret as i32));
    }
    Ok(ctx.size as usize)
}
// end usage

impl ReadFile {
    /// Takes `prog` as `read_file.bpf.o`'s program, e.g. one opened where
    /// [`Program::pin`] pinned it.
    ///
    /// # Safety
    ///
    /// `prog` must be `read_file.bpf.c`'s program: [`read_file`] passes it
    /// a context with raw addresses that only that program reads as meant.
    pub unsafe fn from_program(prog: Program) -> Self {
        ReadFile(prog)
    }
}

/// Loads `read_file.bpf.o`.
pub fn load() -> io::Result<ReadFile> {
    ReadFile::load()
}
