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
/// Reads up to `buf.len()` bytes of `path` in one `anycall()`:
/// openat, read until end of file, close.
pub fn read_file(prog: &Program, path: &CStr, buf: &mut [u8]) -> io::Result<usize> {
    let mut ctx = ReadFileCtx {
        path: path.as_ptr() as u64,
        buf: buf.as_mut_ptr() as u64,
        buf_size: buf.len() as u64,
        ..Default::default()
    };
    // The program returns the bytes read or a negative errno.
    let ret = prog.call(&mut ctx)?;
    if ret < 0 {
        return Err(io::Error::from_raw_os_error(-ret as i32));
    }
    Ok(ctx.size as usize)
}
// end usage

/// Loads `read_file.bpf.o`.
pub fn load() -> io::Result<Program> {
    Program::from_elf(crate::objects::READ_FILE, Some("read_file"))
}
