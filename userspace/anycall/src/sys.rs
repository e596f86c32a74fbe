//! `anycall(2)` with Rust types.

use std::io;

/// Runs the AnyCall program `prog_fd` on `ctx` and returns what it returned.
///
/// Errors are those of `anycall(2)`, or a negative value the program
/// returned; `ENOSYS` means the running kernel has no AnyCall.
///
/// # Safety
///
/// As for [`crate::Program::call_bytes`]: `prog_fd` runs with `ctx` as its
/// context and issues system calls with the addresses, lengths and
/// descriptors it finds there; the caller must know what the program does
/// with them and that this leaves the process's memory and I/O safe.
///
/// ```compile_fail
/// let _ = anycall::sys::anycall(3, &mut [0u8; 8], 0); // needs `unsafe`
/// ```
pub unsafe fn anycall(prog_fd: i32, ctx: &mut [u8], flags: u32) -> io::Result<i64> {
    // SAFETY: `ctx` is a valid, writable buffer of `ctx.len()` bytes for the
    // duration of the call, which is all the kernel itself uses it for;
    // what the program does with it is the caller's contract.
    let ret = unsafe { anycall_sys::anycall(prog_fd, ctx.as_mut_ptr().cast(), ctx.len(), flags) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}
