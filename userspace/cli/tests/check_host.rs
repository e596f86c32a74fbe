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

fn anycall_stderr(args: &[&str]) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_anycall"))
        .args(args)
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn chain_says_there_is_no_loop_syntax() {
    let (code, err) = anycall_stderr(&["chain", "for 100000 getpid"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        err,
        "anycall: step 0: `for`: `anycall chain` has no loop or condition syntax, each step is \
         one system call and runs once. Write a step as often as it should run, use --repeat N \
         to run the whole chain N times, or end a step with `?` to go on when it fails (loops \
         over arrays are in the Rust crate, ChainBuilder::for_each, and in C programs)\n"
    );
    // A misspelt call is named, not its arguments.
    let (_, err) = anycall_stderr(&["chain", "getpdi 1 x"]);
    assert_eq!(
        err,
        "anycall: step 0: `getpdi` is not a system call `anycall chain` knows (--help lists \
         them)\n"
    );
}

#[test]
fn chain_errors_show_arguments_as_written() {
    let (_, err) = anycall_stderr(&["chain", "getpid; read $0 64"]);
    assert_eq!(
        err,
        "anycall: step 1 (read): argument 1 must be buf:SIZE, not the number 64\n"
    );
    let (_, err) = anycall_stderr(&["chain", "lseek \"x\" 0 SEEK_SET"]);
    assert_eq!(
        err,
        "anycall: step 0 (lseek): argument 0 must be a number, a constant or $N, not the \
         string \"x\"\n"
    );
    let (_, err) = anycall_stderr(&["chain", "openat AT_FDCWD buf:8 0"]);
    assert_eq!(
        err,
        "anycall: step 0 (openat): argument 1 must be a \"path\", not buf:8 (a buffer to read \
         into)\n"
    );
}

#[test]
fn repeat_zero_is_refused() {
    for args in [
        &["chain", "--repeat", "0", "getpid"][..],
        &["run", "--repeat", "0", "/nonexistent.o"][..],
    ] {
        let (code, err) = anycall_stderr(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with(
                "error: invalid value '0' for '--repeat <N>': it runs at least once: give 1 or \
                 more\n"
            ),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn help_example_reads_a_file_the_guest_has() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_anycall"))
        .args(["chain", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(!help.contains("/etc/hostname"), "{help}");
    assert!(
        help.contains("  openat AT_FDCWD \"/proc/version\" O_RDONLY; read $0 buf:4096; close $0\n"),
        "{help}"
    );
}

/// Runs the command with stdout and stderr on a new pseudo-terminal, as a
/// user at a terminal would; what it wrote there.
fn on_a_terminal(args: &[&str], no_color: Option<&str>) -> String {
    use std::io::Read;
    use std::os::fd::{FromRawFd, OwnedFd};
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty() writes two fds; the name, termios and winsize
    // pointers may be NULL.
    let ret = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(ret, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both fds are new and ours alone.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_anycall"));
    cmd.args(args)
        .env("TERM", "xterm")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .stdin(std::process::Stdio::null())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave);
    if let Some(v) = no_color {
        cmd.env("NO_COLOR", v);
    }
    let mut child = cmd.spawn().unwrap();
    // Our copy of the slave is gone with `cmd`: reading ends (EIO) once
    // the child has exited.
    drop(cmd);
    let mut out = Vec::new();
    let _ = std::fs::File::from(master).read_to_end(&mut out);
    child.wait().unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let args = ["chain", "--repeat", "0", "getpid"];
    // A terminal: clap's colours (so that the test below can fail).
    let text = on_a_terminal(&args, None);
    assert!(text.contains("\x1b["), "{text:?}");
    let text = on_a_terminal(&args, Some("1"));
    assert!(text.contains("invalid value '0'"), "{text:?}");
    assert!(!text.contains('\x1b'), "{text:?}");
    // Not a terminal.
    let (_, err) = anycall_stderr(&args);
    assert!(!err.contains('\x1b'), "{err:?}");
}
