//! Runs inside the patched kernel: the anycall command.

use std::process::Command;

fn anycall(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_anycall"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn guest_check_finds_everything() {
    let (code, out, _) = anycall(&["check"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("[ok] system call anycall() (number 511)"),
        "{out}"
    );
    assert!(
        out.contains("[ok] program type BPF_PROG_TYPE_ANYCALL (33)"),
        "{out}"
    );
    assert!(
        out.contains("[ok] kfunc bpf_anycall_syscall (BTF id"),
        "{out}"
    );
    assert!(
        out.contains("[ok] loops over the context (chains with loops, the batch program)"),
        "{out}"
    );
    assert!(out.ends_with("AnyCall is available.\n"), "{out}");
}

#[test]
fn guest_chain_runs_text_and_shows_results() {
    let path = std::env::temp_dir().join(format!("anycall-cli-{}", std::process::id()));
    std::fs::write(&path, "some text\n").unwrap();
    let text = format!(
        "openat AT_FDCWD \"{}\" O_RDONLY; read $0 buf:64; fstat $0; close $0; openat AT_FDCWD \"/nonexistent\" 0 ?; getppid",
        path.display()
    );
    let (code, out, err) = anycall(&["chain", &text]);
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with(&format!("[0] openat(-100, \"{}\", 0) = ", path.display())),
        "{out}"
    );
    assert_eq!(lines[1], "[1] read($0, buf:64) = 10");
    assert_eq!(lines[2], "      \"some text\\n\"");
    assert_eq!(lines[3], "[2] fstat($0) = 0");
    assert!(lines[4].starts_with("      size 10 mode 100"), "{out}");
    assert_eq!(lines[5], "[3] close($0) = 0");
    assert_eq!(
        lines[6],
        "[4] openat(-100, \"/nonexistent\", 0) = -2 (No such file or directory (os error 2))"
    );
    assert_eq!(lines[7], format!("[5] getppid() = {}", std::process::id()));

    // Without `?`, a failure stops the chain and names the step.
    let (code, _, err) = anycall(&[
        "chain",
        "getpid; openat AT_FDCWD \"/nonexistent\" 0; getpid",
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "anycall: step 1 (openat) failed: No such file or directory (os error 2)\n"
    );
}

#[test]
fn guest_run_loads_an_object_and_times_it() {
    let obj = std::env::temp_dir().join(format!("read_file-{}.bpf.o", std::process::id()));
    std::fs::write(&obj, anycall_examples::objects::READ_FILE).unwrap();
    // A zero context: the path is NULL, so openat fails with EFAULT.
    let (code, out, _) = anycall(&[
        "run",
        obj.to_str().unwrap(),
        "--ctx-size",
        "48",
        "--repeat",
        "10",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("read_file failed: Bad address (os error 14)\n10 runs, "),
        "{out}"
    );

    let refused = std::env::temp_dir().join("refused.bpf.o");
    std::fs::write(&refused, anycall_examples::objects::REFUSED).unwrap();
    let (code, _, err) = anycall(&["run", refused.to_str().unwrap(), "--ctx-size", "8"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("math between fp pointer and register"),
        "{err}"
    );
}

#[test]
fn guest_chain_reads_a_leading_zero_as_octal() {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::temp_dir().join(format!("anycall-cli-mode-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let text = format!(
        "openat AT_FDCWD \"{}\" O_CREAT|O_WRONLY|O_EXCL 0640; close $0",
        path.display()
    );
    let (code, out, err) = anycall(&["chain", &text]);
    assert_eq!(code, 0, "{out}{err}");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
    std::fs::remove_file(&path).unwrap();
    // 640 in decimal is 0o1200: --w------T.
    assert_eq!(mode, 0o640, "mode {mode:o}");
}

/// Runs the anycall command as the guest's unprivileged user (uid 1000),
/// or as root with nothing in its bounding set but `keep` (so that exec
/// gives root only those capabilities).
fn anycall_as(keep: Option<&[u32]>, args: &[&str]) -> (i32, String, String) {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_anycall"));
    cmd.args(args);
    match keep {
        None => {
            cmd.uid(1000).gid(1000);
        }
        Some(keep) => {
            let keep = keep.to_vec();
            // SAFETY: the closure only calls prctl(), which is
            // async-signal-safe, and allocates nothing.
            unsafe {
                cmd.pre_exec(move || {
                    for cap in 0..64 {
                        if !keep.contains(&cap) {
                            // Capabilities past the kernel's last: EINVAL.
                            libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0);
                        }
                    }
                    Ok(())
                })
            };
        }
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const CAP_BPF: u32 = 39;

#[test]
fn guest_without_cap_bpf_the_kernel_is_not_blamed_and_the_capability_is_named() {
    let (code, out, _) = anycall_as(None, &["check"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[ok] system call anycall() (number 511)"),
        "{out}"
    );
    assert!(
        out.contains(
            "[denied] program type BPF_PROG_TYPE_ANYCALL (33): loading needs CAP_BPF, which \
             this process lacks"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "This kernel has AnyCall, but this process may not load AnyCall programs: that \
             needs CAP_BPF, which it lacks."
        ),
        "{out}"
    );
    assert!(!out.contains("boot a kernel"), "{out}");

    let (code, out, err) = anycall_as(None, &["chain", "getpid"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        err,
        "anycall: loading anycall_chain: Operation not permitted (os error 1)\n\
         loading AnyCall programs needs CAP_BPF, which this process lacks: run as root or with \
         CAP_BPF (chains with loops and the batch program also need CAP_PERFMON), or call a \
         program that a privileged process loaded and pinned or passed on: calling one needs \
         no capability\n"
    );
}

#[test]
fn guest_with_cap_bpf_alone_loops_over_the_context_need_cap_perfmon() {
    let (code, out, _) = anycall_as(Some(&[CAP_BPF]), &["check"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[ok] program type BPF_PROG_TYPE_ANYCALL (33)"),
        "{out}"
    );
    assert!(
        out.contains(
            "[denied] loops over the context (chains with loops, the batch program): need \
             CAP_PERFMON, which this process lacks"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "AnyCall is available, but chains with loops and the batch program also need \
             CAP_PERFMON"
        ),
        "{out}"
    );
    // A chain without a loop needs only CAP_BPF.
    let (code, out, err) = anycall_as(Some(&[CAP_BPF]), &["chain", "getppid"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out, format!("[0] getppid() = {}\n", std::process::id()));
}

#[test]
fn guest_the_help_example_runs() {
    let (code, help, _) = anycall(&["chain", "--help"]);
    assert_eq!(code, 0);
    let example = help
        .lines()
        .find_map(|l| l.strip_prefix("  openat "))
        .map(|rest| format!("openat {rest}"))
        .unwrap_or_else(|| panic!("no example in {help}"));
    let (code, out, err) = anycall(&["chain", &example]);
    assert_eq!(code, 0, "{example}: {out}{err}");
    let version = std::fs::read_to_string("/proc/version").unwrap();
    assert!(
        out.contains(&format!("[1] read($0, buf:4096) = {}\n", version.len())),
        "{out}"
    );
    assert!(out.ends_with("[2] close($0) = 0\n"), "{out}");
}
