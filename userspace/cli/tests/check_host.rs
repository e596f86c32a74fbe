//! Runs on the host, whose kernel has no AnyCall: `anycall check` says so.

#[test]
fn check_says_clearly_that_this_kernel_has_no_anycall() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_anycall"))
        .arg("check")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("[missing] system call anycall() (number 511)"),
        "{text}"
    );
    assert!(
        text.contains("[missing] kfunc bpf_anycall_syscall"),
        "{text}"
    );
    assert!(
        text.contains("AnyCall is not available: boot a kernel built with the AnyCall series"),
        "{text}"
    );
}

#[test]
fn chain_errors_name_the_step_before_touching_the_kernel() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_anycall"))
        .args(["chain", "getpid; read $3 buf:8"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err, "anycall: step 1 (read): $3 is not an earlier step\n");
}

#[test]
fn chain_close_takes_only_a_descriptor_the_chain_opened() {
    let run = |text: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_anycall"))
            .args(["chain", text])
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stderr).unwrap())
    };
    let (code, err) = run("getpid; close 0");
    assert_eq!(code, Some(1));
    assert_eq!(
        err,
        "anycall: step 1 (close): close takes $N, the result of an earlier openat: a number \
         could be a descriptor of the anycall command itself\n"
    );
    let (code, err) = run("getpid; close $0");
    assert_eq!(code, Some(1));
    assert!(err.contains("step 0 (getpid) opens no descriptor"), "{err}");
}

#[test]
fn chain_help_says_a_leading_zero_is_octal() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_anycall"))
        .args(["chain", "--help"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8(out.stdout).unwrap();
    let words = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("0x1f hex, 0644 octal: a leading 0 means octal"),
        "{help}"
    );
}

/// Runs the anycall command as an unprivileged user (when the test runs
/// as root; otherwise as itself, which is unprivileged already).
fn anycall_unprivileged(args: &[&str]) -> (Option<i32>, String, String) {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_anycall"));
    cmd.args(args);
    // SAFETY: getuid() has no preconditions.
    if unsafe { libc::getuid() } == 0 {
        cmd.uid(65534).gid(65534);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn without_cap_bpf_a_kernel_without_anycall_is_still_the_kernel() {
    // Without CAP_BPF every program load fails with EPERM, AnyCall or not:
    // the system call (ENOSYS here) is what says the kernel lacks it.
    let (code, out, _) = anycall_unprivileged(&["check"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("AnyCall is not available: boot a kernel built with the AnyCall series"),
        "{out}"
    );
    assert!(!out.contains("[denied]"), "{out}");
    let (code, _, err) = anycall_unprivileged(&["chain", "getpid"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("has no AnyCall (ENOSYS)"), "{err}");
    assert!(!err.contains("CAP_BPF"), "{err}");
}
