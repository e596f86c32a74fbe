// SPDX-License-Identifier: GPL-2.0

//! System-call dispatch for AnyCall programs.
//!
//! `bpf_anycall_syscall()` (`kfunc.c`) hands every system call an AnyCall
//! program issues to [`anycall_dispatch`], which decides whether it may run,
//! applies the caller's seccomp policy, runs it through the architecture's
//! system-call table in the caller's context and maps its result to what the
//! program may see. The per-call path allocates nothing and takes no lock.
//!
//! The arguments are read once, by the C shim, into a copy only this call
//! sees: the checks, the call and the tracepoint see the same values even
//! when the program's array lives in memory another thread writes.

use core::ffi::c_uint;
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
    assert!(policy::nr::REBOOT == bindings::__NR_reboot as u64);
    assert!(policy::nr::GETPID == bindings::__NR_getpid as u64);
    assert!(policy::nr::GETUID == bindings::__NR_getuid as u64);
    assert!(policy::nr::GETGID == bindings::__NR_getgid as u64);
    assert!(policy::nr::GETEUID == bindings::__NR_geteuid as u64);
    assert!(policy::nr::GETEGID == bindings::__NR_getegid as u64);
    assert!(policy::nr::GETPPID == bindings::__NR_getppid as u64);
    assert!(policy::nr::GETPGRP == bindings::__NR_getpgrp as u64);
    assert!(policy::nr::GETTID == bindings::__NR_gettid as u64);
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

// The C prototype in include/linux/anycall.h is the one defined here (the
// bindings map C `long` to `isize`).
const _: unsafe extern "C" fn(u64, *const u64) -> isize = bindings::anycall_dispatch;
const _: unsafe extern "C" fn(*const bindings::pt_regs, u64) -> isize =
    bindings::anycall_dispatch_regs;
const _: unsafe extern "C" fn(u64) -> bindings::sys_call_ptr_t = bindings::anycall_direct_handler;
const _: unsafe extern "C" fn(isize) -> isize = bindings::anycall_direct_result;
const _: unsafe extern "C" fn(u64) -> bool = bindings::anycall_direct_never_blocks;

// The inline calls check for these results (see `inline.c`).
const _: () = {
    assert!(*policy::MAPPED_RESULTS.start() == -(bindings::ERESTART_RESTARTBLOCK as i64));
    assert!(*policy::MAPPED_RESULTS.end() == -(bindings::ERESTARTSYS as i64));
};

// Task fields are only touched through C: bindgen does not reproduce the
// alignment attribute of empty members, so its `task_struct` layout can
// differ from the compiler's.

/// Number of entries of the system-call table.
const NR_SYSCALLS: u64 = bindings::__NR_syscalls as u64;

/// Number of arguments a system call takes at most.
const ARGS_MAX: usize = 6;

// SAFETY: `pt_regs` holds only integers: all zeroes is a valid value.
const ZERO_REGS: bindings::pt_regs = unsafe { core::mem::zeroed() };

/// Issues system call `nr` for the current task and returns its result as
/// the program sees it.
///
/// The call runs as if the task had made it directly, with its credentials,
/// namespaces and limits, unless, in this order:
/// - a fatal signal is pending: `-EINTR`, nothing runs;
/// - the task is a compat task, or has entry work inner calls cannot get
///   (ptrace syscall stops or emulation, audit, syscall user dispatch):
///   `-EOPNOTSUPP`, nothing runs;
/// - the task's seccomp policy refuses it: what `seccomp_check_nested()`
///   says, for every number, as for a direct call;
/// - `nr` is not a system call: `-ENOSYS`;
/// - the call cannot run nested (see `policy.rs`): `-EOPNOTSUPP`.
///
/// Restart codes become `-EINTR`, and no restart state is left behind.
///
/// # Safety
///
/// `args` must point to six readable `u64`s that nothing else writes during
/// the call (the C shim's copy), and the caller must be an AnyCall program
/// running in the process context of the task the call is made for, inside
/// its RCU tasks trace read section with migration disabled.
#[no_mangle]
pub unsafe extern "C" fn anycall_dispatch(nr: u64, args: *const u64) -> isize {
    // SAFETY: the caller guarantees six readable values at `args`.
    let a = unsafe { args.cast::<[u64; ARGS_MAX]>().read() };

    // One call for what the dispatch needs of the task (Rust does not read
    // `task_struct`, see above).
    // SAFETY: called in the task's process context.
    let task = unsafe { bindings::anycall_task_state() };
    if task & bindings::ANYCALL_TASK_FATAL_SIGNAL != 0 {
        return -(bindings::EINTR as isize);
    }
    if task & bindings::ANYCALL_TASK_REFUSE != 0 {
        return -(bindings::EOPNOTSUPP as isize);
    }

    // Before the policy: a filter that logs or kills an attempted execve()
    // must see it, as for a direct call.
    if task & bindings::ANYCALL_TASK_SECCOMP != 0 {
        if let Some(ret) = seccomp_refusal(nr, &a) {
            // A filter's errno may be a restart code (ERRNO | 512): the
            // program sees -EINTR for it, as for a call's own result.
            return policy::program_result(ret) as isize;
        }
    }

    if let Some(ret) = refused(nr, a[0]) {
        return ret;
    }
    let mut regs = regs_for(nr, &a);
    if task & bindings::ANYCALL_TASK_TRACEPOINT == 0 {
        // SAFETY: `refused()` bounded `nr`; `regs` is a whole frame; the
        // caller's context.
        return unsafe { finish(call_table(&regs, nr)) as isize };
    }
    // SAFETY: a whole frame, in the task's context (the caller's contract).
    unsafe { bindings::anycall_trace_enter(&regs, nr) };
    // SAFETY: as above.
    let ret = unsafe { call_table(&regs, nr) };
    // The syscalls:sys_exit_* events and perf read the result from `ax`, as
    // the entry code leaves it after a direct call.
    regs.ax = ret as usize;
    // SAFETY: as above.
    unsafe { bindings::anycall_trace_exit(&regs, ret as isize) };
    // SAFETY: the caller's context, right after the call.
    unsafe { finish(ret) as isize }
}

/// Issues system call `nr` with its arguments in `regs`, for a call site the
/// verifier rewrote to fill `regs` itself (see `inline.c`), after checking
/// that no signal is pending and that the task has no system-call work
/// (seccomp, tracing, audit). Returns what [`anycall_dispatch`] would.
///
/// # Safety
///
/// `regs` must point to the part of a `pt_regs` from `r10` to `di` (the
/// argument registers, which hold the call's arguments; the rest of the
/// frame may be uninitialised, so no reference to it is made), and the
/// caller must be an AnyCall program running in the process context of the
/// task the call is made for, inside its RCU tasks trace read section with
/// migration disabled, with no signal pending and no system-call work.
#[no_mangle]
pub unsafe extern "C" fn anycall_dispatch_regs(regs: *const bindings::pt_regs, nr: u64) -> isize {
    // SAFETY: the caller guarantees that `di` of `regs` is initialised.
    let first = unsafe { core::ptr::addr_of!((*regs).di).read() } as u64;
    if let Some(ret) = refused(nr, first) {
        return ret;
    }
    // SAFETY: `refused()` bounded `nr`; the entry of `nr` reads only the
    // argument registers of `regs`; the caller's context.
    unsafe { finish(call_table(regs, nr)) as isize }
}

/// What a call of `nr` whose first argument is `first` gives the program
/// without running, if the policy refuses it.
#[inline(always)]
fn refused(nr: u64, first: u64) -> Option<isize> {
    match policy::verdict(nr, first, NR_SYSCALLS) {
        Verdict::Run => None,
        verdict => Some(policy::refusal(verdict) as isize),
    }
}

/// Runs call `nr` with the arguments in `regs` through the architecture's
/// table and returns its raw result, for [`finish`]. The call runs outside
/// the program's RCU tasks trace read section and migration pin (see
/// `kfunc.c`), so that it may block for as long as the direct call could.
///
/// # Safety
///
/// `nr` must be below `NR_SYSCALLS` (as [`refused`] ensures), `regs` must
/// point to a frame whose argument registers are initialised, and the caller
/// must run in the process context of the task the call is made for, as
/// [`anycall_dispatch`] requires.
#[inline(always)]
unsafe fn call_table(regs: *const bindings::pt_regs, nr: u64) -> i64 {
    // SAFETY: the contract; paired with `anycall_inner_exit()` below.
    unsafe { bindings::anycall_inner_enter() };
    // x64_sys_call() is a switch, not a table lookup, so a mispredicted bound
    // reaches no stray pointer.
    // SAFETY: `regs` is a valid frame for the duration of the call; the
    // caller's contract.
    let ret = unsafe { bindings::x64_sys_call(regs, nr as c_uint) };
    // SAFETY: right after `anycall_inner_enter()`.
    unsafe { bindings::anycall_inner_exit(ret) as i64 }
}

/// The handler of system call `nr` when every call of it may run, whatever
/// its arguments, so that the verifier can have a program call it directly
/// where the number is a constant; `None` (NULL) for the others, which go
/// through [`anycall_dispatch_regs`].
///
/// The program then maps the result itself: only results in
/// `policy::MAPPED_RESULTS` need [`anycall_direct_result`].
#[no_mangle]
pub extern "C" fn anycall_direct_handler(nr: u64) -> bindings::sys_call_ptr_t {
    if !policy::runs_always(nr, NR_SYSCALLS) {
        return None;
    }
    // Load time only, but a bound check the CPU may not speculate past.
    let idx = policy::index_nospec(nr, NR_SYSCALLS);
    // SAFETY: `idx` is below `__NR_syscalls`, the number of entries of
    // `sys_call_table`, which is never written.
    unsafe { *bindings::sys_call_table.as_ptr().add(idx) }
}

/// Whether a direct call of `nr`'s handler ([`anycall_direct_handler`]) may
/// stay inside the program's RCU tasks trace read section and migration
/// pin: the call never blocks (see `policy::NEVER_BLOCK`).
#[no_mangle]
pub extern "C" fn anycall_direct_never_blocks(nr: u64) -> bool {
    policy::runs_always(nr, NR_SYSCALLS) && policy::never_blocks(nr)
}

/// What the program sees of `ret`, the result of a system call it issued
/// through the handler [`anycall_direct_handler`] gave, when `ret` lies in
/// `policy::MAPPED_RESULTS`.
///
/// # Safety
///
/// The caller must be an AnyCall program running in the process context of
/// the task that made the call, right after it.
#[no_mangle]
pub unsafe extern "C" fn anycall_direct_result(ret: isize) -> isize {
    // SAFETY: the caller's contract.
    unsafe { finish(ret as i64) as isize }
}

/// The result of a system call as the program sees it, with no restart
/// state left behind.
///
/// # Safety
///
/// Must be called in the process context of the task that made the call,
/// right after it.
#[inline(always)]
unsafe fn finish(ret: i64) -> i64 {
    if policy::leaves_restart_block(ret) {
        // SAFETY: the caller's contract.
        unsafe { bindings::anycall_forget_restart() };
    }
    policy::program_result(ret)
}

/// A frame with the arguments where the system-call entry code would have
/// left them, and `ax` as it sets it before the call.
#[inline(always)]
fn regs_for(nr: u64, a: &[u64; ARGS_MAX]) -> bindings::pt_regs {
    // Registers are `unsigned long`, 64 bits like the arguments on x86_64.
    // Built field by field around a zero constant, so that the compiler
    // stores the few zeroes instead of calling memset() for the whole frame.
    bindings::pt_regs {
        di: a[0] as usize,
        si: a[1] as usize,
        dx: a[2] as usize,
        r10: a[3] as usize,
        r8: a[4] as usize,
        r9: a[5] as usize,
        orig_ax: nr as usize,
        ax: -(bindings::ENOSYS as isize) as usize,
        ..ZERO_REGS
    }
}

/// What seccomp says to a call it refuses. Out of line, so that tasks
/// without seccomp do not pay for it.
#[cfg(CONFIG_SECCOMP)]
#[cold]
#[inline(never)]
fn seccomp_refusal(nr: u64, args: &[u64; ARGS_MAX]) -> Option<i64> {
    let mut ret: isize = 0;
    // The entry code passes the number to seccomp as an int: so does this.
    // SAFETY: `args` holds the six arguments the function reads and `ret`
    // is writable; called in the task's context (`anycall_dispatch()`).
    let allowed = unsafe { bindings::seccomp_check_nested(nr as i32, args.as_ptr(), &mut ret) };
    if allowed {
        None
    } else {
        Some(ret as i64)
    }
}

/// Without seccomp nothing is refused.
#[cfg(not(CONFIG_SECCOMP))]
fn seccomp_refusal(_nr: u64, _args: &[u64; ARGS_MAX]) -> Option<i64> {
    None
}
