//! Unit and property tests of the dispatch policy.

use crate::policy::{
    errno, index_nospec, leaves_restart_block, never_blocks, nr, program_result, refusal,
    runs_always, verdict, Verdict, BPF_ALLOWED_CMDS, MAPPED_RESULTS, NEVER_BLOCK, REFUSED,
};
use proptest::prelude::*;

/// Table size of the x86_64 kernel with AnyCall (511 is the last number).
const NR_SYSCALLS: u64 = 512;

#[test]
fn nested_unsafe_calls_are_refused() {
    for n in [
        nr::RT_SIGRETURN,
        nr::CLONE,
        nr::FORK,
        nr::VFORK,
        nr::EXECVE,
        nr::EXIT,
        nr::RESTART_SYSCALL,
        nr::EXIT_GROUP,
        nr::EXECVEAT,
        nr::URETPROBE,
        nr::CLONE3,
        nr::ANYCALL,
    ] {
        assert_eq!(verdict(n, 0, NR_SYSCALLS), Verdict::Refuse, "nr {n}");
        // Whatever the arguments.
        assert_eq!(verdict(n, 5, NR_SYSCALLS), Verdict::Refuse, "nr {n}");
    }
}

#[test]
fn ordinary_calls_run() {
    // read, close, getpid, getppid, openat, newfstatat, statx
    for n in [0, 3, 39, 110, 257, 262, 332] {
        assert_eq!(verdict(n, 0, NR_SYSCALLS), Verdict::Run, "nr {n}");
    }
}

#[test]
fn bpf_runs_only_for_the_commands_sleepable_programs_may_use() {
    for cmd in BPF_ALLOWED_CMDS {
        assert_eq!(
            verdict(nr::BPF, cmd, NR_SYSCALLS),
            Verdict::Run,
            "cmd {cmd}"
        );
    }
    // BPF_MAP_LOOKUP_ELEM, BPF_PROG_TEST_RUN, BPF_OBJ_GET_INFO_BY_FD, and a
    // command above 32 bits that must not alias BPF_MAP_CREATE.
    for cmd in [1, 10, 15, 1 << 32] {
        assert_eq!(
            verdict(nr::BPF, cmd, NR_SYSCALLS),
            Verdict::Refuse,
            "cmd {cmd}"
        );
    }
}

#[test]
fn numbers_past_the_table_do_not_exist() {
    assert_eq!(verdict(NR_SYSCALLS, 0, NR_SYSCALLS), Verdict::NoSys);
    assert_eq!(verdict(u64::MAX, 0, NR_SYSCALLS), Verdict::NoSys);
    // A number whose low 32 bits name a real call must not run it.
    assert_eq!(verdict((1 << 32) | 39, 0, NR_SYSCALLS), Verdict::NoSys);
    // The last number of a smaller table.
    assert_eq!(verdict(462, 0, 463), Verdict::Run);
    assert_eq!(verdict(463, 0, 463), Verdict::NoSys);
}

#[test]
fn refusals_have_their_errno() {
    assert_eq!(refusal(Verdict::Refuse), -95);
    assert_eq!(refusal(Verdict::NoSys), -38);
}

#[test]
fn restart_codes_become_eintr() {
    let named = [
        errno::ERESTARTSYS,
        errno::ERESTARTNOINTR,
        errno::ERESTARTNOHAND,
        errno::ERESTART_RESTARTBLOCK,
    ];
    // The kernel's values (include/linux/errno.h), stated independently.
    assert_eq!(named, [512, 513, 514, 516]);
    for code in named {
        assert_eq!(program_result(-code), -4, "code {code}");
    }
    assert!(leaves_restart_block(-516));
    assert!(!leaves_restart_block(-512));
    assert!(!leaves_restart_block(-4));
}

#[test]
fn unknown_515_and_positive_512_pass_through() {
    // 515 is not a restart code; a read of 512 bytes returns 512.
    assert_eq!(program_result(-515), -515);
    assert_eq!(program_result(512), 512);
}

#[test]
fn only_calls_that_always_run_may_be_called_directly() {
    assert!(runs_always(nr::BPF - 1, NR_SYSCALLS));
    // getppid
    assert!(runs_always(110, NR_SYSCALLS));
    // bpf() runs for some commands only: its arguments must be looked at.
    assert!(!runs_always(nr::BPF, NR_SYSCALLS));
    for n in REFUSED {
        assert!(!runs_always(n, NR_SYSCALLS), "{n}");
    }
    assert!(!runs_always(NR_SYSCALLS, NR_SYSCALLS));
    assert!(!runs_always(u64::MAX, NR_SYSCALLS));
}

#[test]
fn calls_that_never_block_are_getters_that_always_run() {
    for n in NEVER_BLOCK {
        assert!(runs_always(n, NR_SYSCALLS), "{n}");
        assert!(never_blocks(n), "{n}");
    }
    // Calls that can wait: read(), openat(), futex(), nanosleep(), bpf().
    for n in [0, 257, 202, 35, nr::BPF] {
        assert!(!never_blocks(n), "{n}");
    }
    for n in REFUSED {
        assert!(!never_blocks(n), "{n}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn calls_that_always_run_run_with_any_argument(n in any::<u64>(), arg0 in any::<u64>()) {
        if runs_always(n, NR_SYSCALLS) {
            prop_assert_eq!(verdict(n, arg0, NR_SYSCALLS), Verdict::Run);
        }
    }

    #[test]
    fn results_outside_the_mapped_range_are_kept(ret in any::<i64>()) {
        if !MAPPED_RESULTS.contains(&ret) {
            prop_assert_eq!(program_result(ret), ret);
            prop_assert!(!leaves_restart_block(ret));
        }
    }

    #[test]
    fn only_listed_numbers_are_refused(n in 0..NR_SYSCALLS, arg0 in any::<u64>()) {
        let v = verdict(n, arg0, NR_SYSCALLS);
        if REFUSED.contains(&n) && !(n == nr::BPF && BPF_ALLOWED_CMDS.contains(&arg0)) {
            prop_assert_eq!(v, Verdict::Refuse);
        } else {
            prop_assert_eq!(v, Verdict::Run);
        }
    }

    #[test]
    fn out_of_range_is_nosys(n in NR_SYSCALLS.., arg0 in any::<u64>()) {
        prop_assert_eq!(verdict(n, arg0, NR_SYSCALLS), Verdict::NoSys);
    }

    #[test]
    fn results_never_carry_restart_codes(ret in any::<i64>()) {
        let seen = program_result(ret);
        prop_assert!(![-512, -513, -514, -516].contains(&seen));
        if ![-512, -513, -514, -516].contains(&ret) {
            prop_assert_eq!(seen, ret);
        } else {
            prop_assert_eq!(seen, -errno::EINTR);
        }
    }

    #[test]
    fn index_nospec_keeps_indices_in_bounds(idx in any::<u64>(), size in 1u64..=u64::MAX / 2) {
        let got = index_nospec(idx, size) as u64;
        if idx < size {
            prop_assert_eq!(got, idx);
        } else {
            prop_assert_eq!(got, 0);
        }
    }
}

#[test]
fn index_nospec_at_the_edges() {
    assert_eq!(index_nospec(0, NR_SYSCALLS), 0);
    assert_eq!(
        index_nospec(NR_SYSCALLS - 1, NR_SYSCALLS),
        (NR_SYSCALLS - 1) as usize
    );
    assert_eq!(index_nospec(NR_SYSCALLS, NR_SYSCALLS), 0);
    assert_eq!(index_nospec(u64::MAX, NR_SYSCALLS), 0);
}
