//! Runs inside the patched kernel (see `vm-runner`): proves that the guest
//! boots the kernel just built and that BPF programs load and run there.

mod common;

use anycall::load::load_sleepable;
use libbpf_sys as bpf;
use std::os::fd::AsRawFd;

fn uname() -> (String, String) {
    // SAFETY: `utsname` is plain data; all zeroes is valid.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid, writable utsname.
    assert_eq!(unsafe { libc::uname(&mut u) }, 0);
    let field = |f: &[libc::c_char]| {
        // SAFETY: uname() NUL-terminates every field.
        unsafe { std::ffi::CStr::from_ptr(f.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    };
    (field(&u.release), field(&u.version))
}

#[test]
fn guest_runs_the_kernel_just_built() {
    let want_release = std::env::var("ANYCALL_EXPECT_RELEASE").expect("set by vm-runner");
    let want_version = std::env::var("ANYCALL_EXPECT_VERSION").expect("set by vm-runner");
    let (release, version) = uname();
    assert_eq!(release, want_release);
    // The version string holds the build number and time of this build.
    assert_eq!(version, want_version);
}

#[test]
fn kernel_has_btf() {
    let meta = std::fs::metadata("/sys/kernel/btf/vmlinux").expect("/sys/kernel/btf/vmlinux");
    assert!(meta.len() > 1024, "vmlinux BTF is {} bytes", meta.len());
}

/// A sleepable syscall program loads and runs through `BPF_PROG_RUN`.
#[test]
fn sleepable_syscall_program_loads_and_runs() {
    let fd = load_sleepable(
        bpf::BPF_PROG_TYPE_SYSCALL,
        "pipeline",
        &common::add_program(),
    )
    .expect("loading a syscall program");

    let mut ctx = [0u8; 8];
    ctx[..4].copy_from_slice(&41u32.to_ne_bytes());
    // SAFETY: `bpf_test_run_opts` is plain data; all zeroes is its default.
    let mut run: bpf::bpf_test_run_opts = unsafe { std::mem::zeroed() };
    run.sz = std::mem::size_of::<bpf::bpf_test_run_opts>() as _;
    run.ctx_in = ctx.as_mut_ptr().cast();
    run.ctx_size_in = ctx.len() as _;
    // SAFETY: `run` points at `ctx`, valid and writable for the call.
    let err = unsafe { bpf::bpf_prog_test_run_opts(fd.as_raw_fd(), &mut run) };
    assert_eq!(err, 0, "BPF_PROG_RUN: {}", std::io::Error::last_os_error());
    assert_eq!(run.retval, 48);
    assert_eq!(u32::from_ne_bytes(ctx[4..].try_into().unwrap()), 42);

    // A context shorter than the program reads is refused before it runs.
    let mut short = [0u8; 4];
    run.ctx_in = short.as_mut_ptr().cast();
    run.ctx_size_in = short.len() as _;
    // SAFETY: as above, with `short`.
    let err = unsafe { bpf::bpf_prog_test_run_opts(fd.as_raw_fd(), &mut run) };
    assert_eq!(err, -libc::EINVAL);
}

/// A program the verifier refuses: the error carries the verifier's log.
#[test]
fn refused_program_reports_the_verifier_log() {
    // `exit` without setting r0.
    let err = load_sleepable(bpf::BPF_PROG_TYPE_SYSCALL, "bad", &[anycall::insn::exit()])
        .expect_err("the verifier must refuse a read of an unset r0");
    let text = err.to_string();
    assert!(text.contains("R0 !read_ok"), "no verifier log in: {text}");
}
