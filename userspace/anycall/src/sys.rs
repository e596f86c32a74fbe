//! `anycall(2)` with Rust types.

use std::io;

/// Runs the AnyCall program `prog_fd` on `ctx` and returns what it returned.
///
/// Errors are those of `anycall(2)`, or a negative value the program
/// returned; `ENOSYS` means the running kernel has no AnyCall.
pub fn anycall(prog_fd: i32, ctx: &mut [u8], flags: u32) -> io::Result<i64> {
    // SAFETY: `ctx` is a valid, writable buffer of `ctx.len()` bytes for the
    // duration of the call, which is all the kernel uses it for.
    let ret = unsafe { anycall_sys::anycall(prog_fd, ctx.as_mut_ptr().cast(), ctx.len(), flags) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}
