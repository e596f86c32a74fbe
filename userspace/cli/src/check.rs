//! `anycall check`: what the running kernel has of AnyCall, and whether
//! this process may use it.

use crate::privilege::{Caps, WITHOUT_CAP_BPF};
use anycall::insn;
use anycall::kernel::{self, SYSCALL_KFUNC};
use std::io;
use std::process::ExitCode;

/// What a line found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Found {
    Ok,
    Missing,
    /// There, but this process may not use it.
    Denied,
}

impl Found {
    fn label(self) -> &'static str {
        match self {
            Found::Ok => "ok",
            Found::Missing => "missing",
            Found::Denied => "denied",
        }
    }
}

/// Everything `check` looks at.
#[derive(Clone, Copy, Debug)]
struct Findings {
    syscall: bool,
    prog_type: Found,
    kfunc: bool,
    /// Loading a program that indexes its context (not tried when the
    /// program type did not load).
    indexing: Option<Found>,
}

/// The closing sentence, and whether everything is there.
fn verdict(f: &Findings) -> (String, bool) {
    if f.syscall && f.prog_type == Found::Ok && f.kfunc && f.indexing == Some(Found::Ok) {
        return ("AnyCall is available.".into(), true);
    }
    let msg = if !f.syscall {
        "AnyCall is not available: boot a kernel built with the AnyCall series and \
         CONFIG_ANYCALL=y (`make shell` starts one); this one answers ENOSYS for anycall()."
            .to_string()
    } else if f.prog_type == Found::Denied {
        format!(
            "This kernel has AnyCall, but this process may not load AnyCall programs: that \
             needs CAP_BPF, which it lacks. To use AnyCall, {WITHOUT_CAP_BPF}."
        )
    } else if f.prog_type == Found::Ok && f.kfunc && f.indexing == Some(Found::Denied) {
        "AnyCall is available, but chains with loops and the batch program also need \
         CAP_PERFMON, which this process lacks (run as root or with CAP_BPF and CAP_PERFMON)."
            .to_string()
    } else {
        "AnyCall is not complete in this kernel: boot a kernel built with the whole AnyCall \
         series and CONFIG_ANYCALL=y (`make shell` starts one)."
            .to_string()
    };
    (msg, false)
}

fn first_line(e: &io::Error) -> String {
    e.to_string().lines().next().unwrap_or("").to_string()
}

pub fn check() -> io::Result<ExitCode> {
    let support = kernel::support();
    let caps = Caps::current();
    println!("kernel {}", kernel::kernel_release());
    let line = |found: Found, what: String| println!("  [{}] {what}", found.label());
    line(
        if support.syscall {
            Found::Ok
        } else {
            Found::Missing
        },
        format!(
            "system call anycall() (number {})",
            anycall_sys::__NR_anycall
        ),
    );
    // The program type: a program that only returns 0 loads. Without
    // CAP_BPF the kernel refuses every load with EPERM, AnyCall or not, so
    // the system call above is what says whether the type is there.
    let prog = [insn::mov_imm(insn::R0, 0), insn::exit()];
    let loaded = anycall::load::load_sleepable(anycall_sys::BPF_PROG_TYPE_ANYCALL, "check", &prog);
    let what = format!(
        "program type BPF_PROG_TYPE_ANYCALL ({})",
        anycall_sys::BPF_PROG_TYPE_ANYCALL
    );
    let prog_type = match &loaded {
        Ok(_) => {
            line(Found::Ok, what);
            Found::Ok
        }
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied && !caps.bpf => {
            if support.syscall {
                line(
                    Found::Denied,
                    format!("{what}: loading needs CAP_BPF, which this process lacks"),
                );
                Found::Denied
            } else {
                line(
                    Found::Missing,
                    format!("{what}: comes with anycall() (and loading needs CAP_BPF)"),
                );
                Found::Missing
            }
        }
        Err(e) => {
            let found = if e.kind() == io::ErrorKind::PermissionDenied && support.syscall {
                Found::Denied
            } else {
                Found::Missing
            };
            line(found, format!("{what}: {}", first_line(e)));
            found
        }
    };
    match support.kfunc_btf_id {
        Some(id) => line(Found::Ok, format!("kfunc {SYSCALL_KFUNC} (BTF id {id})")),
        None => line(
            Found::Missing,
            format!("kfunc {SYSCALL_KFUNC} in /sys/kernel/btf/vmlinux"),
        ),
    }
    // Loops over the context: the batch program indexes its context, which
    // needs CAP_PERFMON (and the series' variable context offsets).
    let indexing = (prog_type == Found::Ok && support.kfunc_btf_id.is_some()).then(|| {
        let what = "loops over the context (chains with loops, the batch program)";
        match anycall::batch::Batch::load(1) {
            Ok(_) => {
                line(Found::Ok, what.into());
                Found::Ok
            }
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied && !caps.perfmon => {
                line(
                    Found::Denied,
                    format!("{what}: need CAP_PERFMON, which this process lacks"),
                );
                Found::Denied
            }
            Err(e) => {
                line(Found::Missing, format!("{what}: {}", first_line(&e)));
                Found::Missing
            }
        }
    });
    let (msg, ok) = verdict(&Findings {
        syscall: support.syscall,
        prog_type,
        kfunc: support.kfunc_btf_id.is_some(),
        indexing,
    });
    println!("{msg}");
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(syscall: bool, prog_type: Found, indexing: Option<Found>) -> Findings {
        Findings {
            syscall,
            prog_type,
            kfunc: true,
            indexing,
        }
    }

    #[test]
    fn the_verdict_tells_a_missing_kernel_from_a_missing_capability() {
        let (msg, ok) = verdict(&findings(true, Found::Ok, Some(Found::Ok)));
        assert!(ok);
        assert_eq!(msg, "AnyCall is available.");
        // Without CAP_BPF on a kernel with AnyCall: not "boot a kernel".
        let (msg, ok) = verdict(&findings(true, Found::Denied, None));
        assert!(!ok);
        assert!(
            msg.starts_with(
                "This kernel has AnyCall, but this process may not load AnyCall programs: \
                 that needs CAP_BPF"
            ),
            "{msg}"
        );
        assert!(msg.contains("CAP_PERFMON"), "{msg}");
        // Without CAP_BPF on a kernel without AnyCall: the kernel.
        let (msg, ok) = verdict(&findings(false, Found::Missing, None));
        assert!(!ok);
        assert!(
            msg.starts_with("AnyCall is not available: boot a kernel"),
            "{msg}"
        );
        // CAP_BPF without CAP_PERFMON.
        let (msg, ok) = verdict(&findings(true, Found::Ok, Some(Found::Denied)));
        assert!(!ok);
        assert!(
            msg.starts_with(
                "AnyCall is available, but chains with loops and the batch program also need \
                 CAP_PERFMON"
            ),
            "{msg}"
        );
        let (msg, _) = verdict(&findings(true, Found::Missing, None));
        assert!(msg.starts_with("AnyCall is not complete"), "{msg}");
    }
}
