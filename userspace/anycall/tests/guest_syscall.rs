//! Runs inside the patched kernel: anycall(2) from Rust, through
//! anycall-sys, with a program built from raw instructions.

use anycall::insn::{self, Size, R0, R1, R2};
use anycall::sys::anycall;
use libbpf_sys as bpf;
use std::ffi::CString;
use std::os::fd::AsRawFd;

/// `ctx.out = ctx.in + 1; return ctx.in + 7`, as an AnyCall program.
fn load_add_program() -> i32 {
    let prog = [
        insn::load(Size::W, R2, R1, 0),
        insn::add_imm(R2, 1),
        insn::store(Size::W, R1, 4, R2),
        insn::load(Size::W, R0, R1, 0),
        insn::add_imm(R0, 7),
        insn::exit(),
    ];
    let license = CString::new("GPL").unwrap();
    let name = CString::new("add").unwrap();
    // SAFETY: `bpf_prog_load_opts` is plain data; all zeroes is its default.
    let mut opts: bpf::bpf_prog_load_opts = unsafe { std::mem::zeroed() };
    opts.sz = std::mem::size_of::<bpf::bpf_prog_load_opts>() as _;
    opts.prog_flags = anycall_sys::BPF_F_SLEEPABLE;
    // SAFETY: every pointer is valid for the call; `prog` has `prog.len()` instructions.
    let fd = unsafe {
        bpf::bpf_prog_load(
            anycall_sys::BPF_PROG_TYPE_ANYCALL,
            name.as_ptr(),
            license.as_ptr(),
            prog.as_ptr(),
            prog.len() as _,
            &mut opts,
        )
    };
    assert!(
        fd >= 0,
        "loading the AnyCall program: {}",
        std::io::Error::from_raw_os_error(-fd)
    );
    fd
}

#[test]
fn guest_anycall_runs_a_program_on_its_context() {
    let fd = load_add_program();
    let mut ctx = [0u8; 8];
    ctx[..4].copy_from_slice(&35u32.to_ne_bytes());
    assert_eq!(anycall(fd, &mut ctx, 0).unwrap(), 42);
    assert_eq!(u32::from_ne_bytes(ctx[4..].try_into().unwrap()), 36);
    // SAFETY: `fd` is ours.
    unsafe { libc::close(fd) };
}

#[test]
fn guest_anycall_errors_have_their_errno() {
    let fd = load_add_program();
    let errno = |r: std::io::Result<i64>| r.unwrap_err().raw_os_error().unwrap();
    let mut ctx = [0u8; 8];
    assert_eq!(errno(anycall(fd, &mut ctx, 1)), libc::EINVAL);
    assert_eq!(errno(anycall(fd, &mut ctx[..4], 0)), libc::ENOBUFS);
    let mut big = vec![0u8; anycall_sys::ANYCALL_CTX_SIZE_MAX as usize + 1];
    assert_eq!(errno(anycall(fd, &mut big, 0)), libc::E2BIG);
    assert_eq!(errno(anycall(-1, &mut ctx, 0)), libc::EBADF);
    let null = std::fs::File::open("/dev/null").unwrap();
    assert_eq!(errno(anycall(null.as_raw_fd(), &mut ctx, 0)), libc::ENOEXEC);
    // SAFETY: `fd` is ours.
    unsafe { libc::close(fd) };
}
