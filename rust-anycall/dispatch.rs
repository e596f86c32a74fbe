// SPDX-License-Identifier: GPL-2.0

//! System-call dispatch for AnyCall programs.
//!
//! `bpf_anycall_syscall()` (`kfunc.c`) hands every system call an AnyCall
//! program issues to [`anycall_dispatch`], which decides whether it may run,
//! applies the caller's seccomp policy, runs it through the architecture's
//! system-call table in the caller's context and maps its result to what the
//! program may see. The per-call path allocates nothing and takes no lock.

use core::ffi::{c_long, c_uint};
use kernel::bindings;

mod policy;

use policy::Verdict;

// The policy's numbers are the kernel's.
const _: () = {
    assert!(policy::nr::RT_SIGRETURN == bindings::__NR_rt_sigreturn as u64);
    assert!(policy::nr::CLONE == bindings::__NR_clone as u64);
    assert!(policy::nr::FORK == bindings::__NR_fork as u64);
    assert!(policy::nr::VFORK == bindings::__NR_vfork as u64);
    assert!(policy::nr::EXECVE == bindings::__NR_execve as u64);
    assert!(policy::nr::EXIT == bindings::__NR_exit as u64);
    assert!(policy::nr::RESTART_SYSCALL == bindings::__NR_restart_syscall as u64);
    assert!(policy::nr::EXIT_GROUP == bindings::__NR_exit_group as u64);
    assert!(policy::nr::BPF == bindings::__NR_bpf as u64);
    assert!(policy::nr::EXECVEAT == bindings::__NR_execveat as u64);
    assert!(policy::nr::URETPROBE == bindings::__NR_uretprobe as u64);
    assert!(policy::nr::CLONE3 == bindings::__NR_clone3 as u64);
    assert!(policy::nr::ANYCALL == bindings::__NR_anycall as u64);
    assert!(policy::errno::EINTR == bindings::EINTR as i64);
    assert!(policy::errno::ENOSYS == bindings::ENOSYS as i64);
    assert!(policy::errno::EOPNOTSUPP == bindings::EOPNOTSUPP as i64);
    assert!(policy::errno::ERESTARTSYS == bindings::ERESTARTSYS as i64);
    assert!(policy::errno::ERESTARTNOINTR == bindings::ERESTARTNOINTR as i64);
    assert!(policy::errno::ERESTARTNOHAND == bindings::ERESTARTNOHAND as i64);
    assert!(policy::errno::ERESTART_RESTARTBLOCK == bindings::ERESTART_RESTARTBLOCK as i64);
};

/// Number of arguments a system call takes at most.
const ARGS_MAX: usize = 6;

/// Issues system call `nr` for the current task and returns its result as
/// the program sees it.
///
/// The call runs as if the task had made it directly, with its credentials,
/// namespaces and limits, unless:
/// - a fatal signal is pending: `-EINTR`, nothing runs;
/// - `nr` is not a system call: `-ENOSYS`;
/// - the call cannot run nested (see `policy.rs`): `-EOPNOTSUPP`;
/// - the task's seccomp policy refuses it: what `seccomp_check_nested()` says.
///
/// Restart codes become `-EINTR`, and no restart state is left behind.
///
/// # Safety
///
/// `args` must point to `nargs` readable `u64`s, `nargs` must be at most six,
/// and the caller must be an AnyCall program running in the process context
/// of the task the call is made for.
#[no_mangle]
pub unsafe extern "C" fn anycall_dispatch(nr: u64, args: *const u64, nargs: u32) -> c_long {
    // SAFETY: `current` is the running task, valid while it runs.
    if unsafe { bindings::fatal_signal_pending(bindings::get_current()) } {
        return -(bindings::EINTR as c_long);
    }

    let mut a = [0u64; ARGS_MAX];
    let nargs = (nargs as usize).min(ARGS_MAX);
    // SAFETY: the caller guarantees `nargs` readable values at `args`, and
    // `a` has room for `ARGS_MAX >= nargs` of them; the two do not overlap.
    unsafe { core::ptr::copy_nonoverlapping(args, a.as_mut_ptr(), nargs) };

    let verdict = policy::verdict(nr, a[0], bindings::__NR_syscalls as u64);
    if verdict != Verdict::Run {
        return policy::refusal(verdict);
    }
    if let Some(ret) = seccomp_refusal(nr, &a) {
        return ret;
    }

    let ret = run(nr, &a);
    if policy::leaves_restart_block(ret) {
        forget_restart_block();
    }
    policy::program_result(ret)
}

/// Runs the call through the architecture's table with the arguments where
/// the system-call entry code would have left them.
fn run(nr: u64, a: &[u64; ARGS_MAX]) -> i64 {
    // SAFETY: `pt_regs` holds only integers: all zeroes is a valid value.
    let mut regs: bindings::pt_regs = unsafe { core::mem::zeroed() };
    // Registers are `unsigned long`, 64 bits like the arguments on x86_64.
    regs.di = a[0] as usize;
    regs.si = a[1] as usize;
    regs.dx = a[2] as usize;
    regs.r10 = a[3] as usize;
    regs.r8 = a[4] as usize;
    regs.r9 = a[5] as usize;
    regs.orig_ax = nr as usize;
    // `verdict()` bounded `nr` by the table size. x64_sys_call() is a switch,
    // not a table lookup, so a mispredicted bound reaches no stray pointer.
    // SAFETY: `regs` is a valid frame for the duration of the call, and the
    // caller (see `anycall_dispatch`) runs in the task's process context.
    unsafe { bindings::x64_sys_call(&regs, nr as c_uint) as i64 }
}

#[cfg(CONFIG_SECCOMP)]
fn seccomp_refusal(nr: u64, a: &[u64; ARGS_MAX]) -> Option<i64> {
    let mut ret: isize = 0;
    // SAFETY: `a` holds the six arguments the function reads and `ret` is
    // writable; `verdict()` bounded `nr` by the table size, so it fits.
    let allowed = unsafe { bindings::seccomp_check_nested(nr as i32, a.as_ptr(), &mut ret) };
    if allowed {
        None
    } else {
        Some(ret as i64)
    }
}

#[cfg(not(CONFIG_SECCOMP))]
fn seccomp_refusal(_nr: u64, _a: &[u64; ARGS_MAX]) -> Option<i64> {
    None
}

/// A nested call never returns to user space to be restarted, so the state
/// it left for `restart_syscall()` must not outlive it.
fn forget_restart_block() {
    // SAFETY: `current` is the running task, and only the task itself uses
    // its restart block.
    unsafe {
        (*bindings::get_current()).restart_block.fn_ = Some(bindings::do_no_restart_syscall);
    }
}
