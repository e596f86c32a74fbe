// SPDX-License-Identifier: GPL-2.0

//! Which system calls an AnyCall program may issue, and what it sees of their
//! results.
//!
//! Pure logic with no kernel dependency: `dispatch.rs` uses it in the kernel,
//! and `host/` builds the same file on the host for unit and property tests.

/// x86_64 system call numbers the policy needs; `dispatch.rs` checks each one
/// against the kernel's own table at compile time.
pub(crate) mod nr {
    pub(crate) const RT_SIGRETURN: u64 = 15;
    pub(crate) const GETPID: u64 = 39;
    pub(crate) const CLONE: u64 = 56;
    pub(crate) const FORK: u64 = 57;
    pub(crate) const VFORK: u64 = 58;
    pub(crate) const EXECVE: u64 = 59;
    pub(crate) const EXIT: u64 = 60;
    pub(crate) const GETUID: u64 = 102;
    pub(crate) const GETGID: u64 = 104;
    pub(crate) const GETEUID: u64 = 107;
    pub(crate) const GETEGID: u64 = 108;
    pub(crate) const GETPPID: u64 = 110;
    pub(crate) const GETPGRP: u64 = 111;
    pub(crate) const REBOOT: u64 = 169;
    pub(crate) const GETTID: u64 = 186;
    pub(crate) const RESTART_SYSCALL: u64 = 219;
    pub(crate) const EXIT_GROUP: u64 = 231;
    pub(crate) const BPF: u64 = 321;
    pub(crate) const EXECVEAT: u64 = 322;
    pub(crate) const URETPROBE: u64 = 335;
    pub(crate) const CLONE3: u64 = 435;
    pub(crate) const ANYCALL: u64 = 511;
}

/// Errno values the policy returns or maps (negated in results).
pub(crate) mod errno {
    pub(crate) const EINTR: i64 = 4;
    pub(crate) const ENOSYS: i64 = 38;
    pub(crate) const EOPNOTSUPP: i64 = 95;
    pub(crate) const ERESTARTSYS: i64 = 512;
    pub(crate) const ERESTARTNOINTR: i64 = 513;
    pub(crate) const ERESTARTNOHAND: i64 = 514;
    pub(crate) const ERESTART_RESTARTBLOCK: i64 = 516;
}

/// Largest system call number the bitmap below can describe, plus one.
const TABLE_BITS: usize = 512;

/// Calls that cannot run nested: they rewrite the user register frame,
/// create a task from it, never return, or would nest AnyCall itself.
/// `reboot()` ends the task with `do_exit()` in a child PID namespace (and
/// after a halt), which must not happen in the middle of a program: it would
/// leave the program's references, ring-buffer records and the runner's
/// context behind.
pub(crate) const REFUSED: [u64; 14] = [
    nr::RT_SIGRETURN,
    nr::CLONE,
    nr::FORK,
    nr::VFORK,
    nr::EXECVE,
    nr::EXIT,
    nr::REBOOT,
    nr::RESTART_SYSCALL,
    nr::EXIT_GROUP,
    nr::EXECVEAT,
    nr::URETPROBE,
    nr::CLONE3,
    nr::ANYCALL,
    // bpf() is refused unless its command is one of BPF_ALLOWED_CMDS.
    nr::BPF,
];

/// `bpf()` commands that `bpf_sys_bpf()` also allows sleepable programs: the
/// others may wait for an RCU tasks trace grace period, which the running
/// program itself holds open.
pub(crate) const BPF_ALLOWED_CMDS: [u64; 9] = [
    0,  // BPF_MAP_CREATE
    2,  // BPF_MAP_UPDATE_ELEM
    3,  // BPF_MAP_DELETE_ELEM
    5,  // BPF_PROG_LOAD
    14, // BPF_MAP_GET_FD_BY_ID
    17, // BPF_RAW_TRACEPOINT_OPEN
    18, // BPF_BTF_LOAD
    22, // BPF_MAP_FREEZE
    28, // BPF_LINK_CREATE
];

/// One bit per system call number: set when the call needs a closer look.
const REFUSED_BITMAP: [u64; TABLE_BITS / 64] = {
    let mut map = [0u64; TABLE_BITS / 64];
    let mut i = 0;
    while i < REFUSED.len() {
        map[(REFUSED[i] / 64) as usize] |= 1 << (REFUSED[i] % 64);
        i += 1;
    }
    map
};

/// What the dispatcher does with a requested system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Check it against seccomp and run it.
    Run,
    /// Do not run it: return `-EOPNOTSUPP`, as it cannot run nested.
    Refuse,
    /// Do not run it: return `-ENOSYS`, as there is no such call.
    NoSys,
}

/// Decides what to do with system call `nr` whose first argument is `arg0`,
/// on a kernel whose table has `nr_syscalls` entries.
#[inline]
pub(crate) fn verdict(nr: u64, arg0: u64, nr_syscalls: u64) -> Verdict {
    if nr >= nr_syscalls {
        return Verdict::NoSys;
    }
    let idx = nr as usize;
    if idx >= TABLE_BITS || REFUSED_BITMAP[idx / 64] & (1 << (idx % 64)) == 0 {
        return Verdict::Run;
    }
    if nr == nr::BPF && BPF_ALLOWED_CMDS.contains(&arg0) {
        return Verdict::Run;
    }
    Verdict::Refuse
}

/// Whether every call of `nr` runs, whatever its arguments, on a kernel whose
/// table has `nr_syscalls` entries: then the verifier may have a program
/// call the system call's handler directly (see `dispatch.rs`).
#[inline]
pub(crate) fn runs_always(nr: u64, nr_syscalls: u64) -> bool {
    let idx = nr as usize;
    nr < nr_syscalls && (idx >= TABLE_BITS || REFUSED_BITMAP[idx / 64] & (1 << (idx % 64)) == 0)
}

/// Calls that never sleep, take no sleeping lock, run no task work and
/// cannot be made to wait on anything: each reads a field of the task under
/// `rcu_read_lock()` at most. An inline call of one of them may stay inside
/// the program's RCU tasks trace read section and migration pin, as a BPF
/// helper does, instead of leaving and re-entering both around the call
/// (about 65 instructions, more than the call itself).
pub(crate) const NEVER_BLOCK: [u64; 8] = [
    nr::GETPID,
    nr::GETUID,
    nr::GETGID,
    nr::GETEUID,
    nr::GETEGID,
    nr::GETPPID,
    nr::GETPGRP,
    nr::GETTID,
];

/// Whether call `nr` is one of [`NEVER_BLOCK`].
#[inline]
pub(crate) fn never_blocks(nr: u64) -> bool {
    NEVER_BLOCK.contains(&nr)
}

/// The results [`program_result`] may change lie in this range: a caller
/// that already has a result outside it can skip the call.
pub(crate) const MAPPED_RESULTS: core::ops::RangeInclusive<i64> =
    -errno::ERESTART_RESTARTBLOCK..=-errno::ERESTARTSYS;

/// The result a refused or non-existent call gives the program.
#[inline]
pub(crate) fn refusal(verdict: Verdict) -> i64 {
    match verdict {
        Verdict::NoSys => -errno::ENOSYS,
        _ => -errno::EOPNOTSUPP,
    }
}

/// Maps a system call's return value to what the program sees: restart codes
/// only make sense on the way back to user space, so they become `-EINTR`.
#[inline]
pub(crate) fn program_result(ret: i64) -> i64 {
    // The restart codes are -512, -513, -514 and -516 (-515 is not one).
    if MAPPED_RESULTS.contains(&ret) && ret != -515 {
        -errno::EINTR
    } else {
        ret
    }
}

/// Whether `ret` asked for a restart through `restart_syscall()`, which left
/// state behind in the task's restart block that must be cleared.
#[inline]
pub(crate) fn leaves_restart_block(ret: i64) -> bool {
    ret == -errno::ERESTART_RESTARTBLOCK
}

/// `idx` if it is below `size`, else 0, computed without a branch the CPU
/// could speculate past (the generic `array_index_mask_nospec()`).
#[inline]
pub(crate) fn index_nospec(idx: u64, size: u64) -> usize {
    let mask = !((idx | size.wrapping_sub(1).wrapping_sub(idx)) as i64) >> 63;
    (idx & mask as u64) as usize
}
