//! Runs inside the patched kernel: anycall(2) from Rust, through
//! anycall-sys, with a program built from raw instructions.

mod common;

use anycall::load::load_sleepable;
use anycall::sys::anycall;
use std::os::fd::{AsRawFd, OwnedFd};

fn load_add_program() -> OwnedFd {
    load_sleepable(
        anycall_sys::BPF_PROG_TYPE_ANYCALL,
        "add",
        &common::add_program(),
    )
    .expect("loading the AnyCall program")
}

#[test]
fn guest_anycall_runs_a_program_on_its_context() {
    let prog = load_add_program();
    let mut ctx = [0u8; 8];
    ctx[..4].copy_from_slice(&35u32.to_ne_bytes());
    // SAFETY: the add program only reads and writes its 8-byte context.
    assert_eq!(
        unsafe { anycall(prog.as_raw_fd(), &mut ctx, 0) }.unwrap(),
        42
    );
    assert_eq!(u32::from_ne_bytes(ctx[4..].try_into().unwrap()), 36);
}

#[test]
fn guest_anycall_errors_have_their_errno() {
    let prog = load_add_program();
    let fd = prog.as_raw_fd();
    // SAFETY: the add program (or none at all, for the fds that are not
    // one) only reads and writes its context.
    let run = |fd: i32, ctx: &mut [u8], flags: u32| unsafe { anycall(fd, ctx, flags) };
    let errno = |r: std::io::Result<i64>| r.unwrap_err().raw_os_error().unwrap();
    let mut ctx = [0u8; 8];
    assert_eq!(errno(run(fd, &mut ctx, 1)), libc::EINVAL);
    assert_eq!(errno(run(fd, &mut ctx[..4], 0)), libc::ENOBUFS);
    let mut big = vec![0u8; anycall_sys::ANYCALL_CTX_SIZE_MAX as usize + 1];
    assert_eq!(errno(run(fd, &mut big, 0)), libc::E2BIG);
    assert_eq!(errno(run(-1, &mut ctx, 0)), libc::EBADF);
    let null = std::fs::File::open("/dev/null").unwrap();
    assert_eq!(errno(run(null.as_raw_fd(), &mut ctx, 0)), libc::ENOEXEC);
}
