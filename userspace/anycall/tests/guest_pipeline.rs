//! Runs inside the patched kernel (see `vm-runner`): proves that the guest
//! boots the kernel just built and that BPF programs load and run there.

use anycall::insn::{self, Size, R0, R1, R2};
use libbpf_sys as bpf;
use std::ffi::CString;

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

/// A sleepable syscall program: `ctx.out = ctx.in + 1; return ctx.in * 1 + 7`.
#[test]
fn sleepable_syscall_program_loads_and_runs() {
    let prog = [
        insn::load(Size::W, R2, R1, 0),
        insn::add_imm(R2, 1),
        insn::store(Size::W, R1, 4, R2),
        insn::load(Size::W, R0, R1, 0),
        insn::add_imm(R0, 7),
        insn::exit(),
    ];
    let license = CString::new("GPL").unwrap();
    let name = CString::new("pipeline").unwrap();
    // SAFETY: `bpf_prog_load_opts` is plain data; all zeroes is its default.
    let mut opts: bpf::bpf_prog_load_opts = unsafe { std::mem::zeroed() };
    opts.sz = std::mem::size_of::<bpf::bpf_prog_load_opts>() as _;
    opts.prog_flags = bpf::BPF_F_SLEEPABLE;
    // SAFETY: every pointer is valid for the call; `prog` has `prog.len()` instructions.
    let fd = unsafe {
        bpf::bpf_prog_load(
            bpf::BPF_PROG_TYPE_SYSCALL,
            name.as_ptr(),
            license.as_ptr(),
            prog.as_ptr(),
            prog.len() as _,
            &mut opts,
        )
    };
    assert!(
        fd >= 0,
        "bpf_prog_load: {}",
        std::io::Error::from_raw_os_error(-fd)
    );

    let mut ctx = [0u8; 8];
    ctx[..4].copy_from_slice(&41u32.to_ne_bytes());
    // SAFETY: as above.
    let mut run: bpf::bpf_test_run_opts = unsafe { std::mem::zeroed() };
    run.sz = std::mem::size_of::<bpf::bpf_test_run_opts>() as _;
    run.ctx_in = ctx.as_mut_ptr().cast();
    run.ctx_size_in = ctx.len() as _;
    // SAFETY: `run` points at `ctx`, valid and writable for the call.
    let err = unsafe { bpf::bpf_prog_test_run_opts(fd, &mut run) };
    assert_eq!(err, 0, "BPF_PROG_RUN: {}", std::io::Error::last_os_error());
    assert_eq!(run.retval, 48);
    assert_eq!(u32::from_ne_bytes(ctx[4..].try_into().unwrap()), 42);

    // A context shorter than the program reads is refused before it runs.
    let mut short = [0u8; 4];
    run.ctx_in = short.as_mut_ptr().cast();
    run.ctx_size_in = short.len() as _;
    // SAFETY: as above, with `short`.
    let err = unsafe { bpf::bpf_prog_test_run_opts(fd, &mut run) };
    assert_eq!(err, -libc::EINVAL);
    // SAFETY: `fd` is ours.
    unsafe { libc::close(fd) };
}
