//! What loading AnyCall programs needs, and what this process has of it.
//!
//! Loading any AnyCall program needs `CAP_BPF`; a program that indexes its
//! context with a variable offset (chains with loops, the batch program,
//! loops over arrays in C programs) needs `CAP_PERFMON` as well, for the
//! verifier's Spectre v1 rules. `CAP_SYS_ADMIN` stands for both. Calling a
//! loaded program needs nothing. Without `CAP_BPF` the kernel refuses
//! `BPF_PROG_LOAD` with `EPERM` whether or not it has AnyCall, so only
//! `anycall()` itself (which answers `EBADF` for fd -1 without any
//! privilege, `ENOSYS` where it does not exist) tells the cases apart.

use std::io;

const CAP_SYS_ADMIN: u32 = 21;
const CAP_PERFMON: u32 = 38;
const CAP_BPF: u32 = 39;

/// The capabilities that matter here, from the effective set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    /// `CAP_BPF` (or `CAP_SYS_ADMIN`): may load programs.
    pub bpf: bool,
    /// `CAP_PERFMON` (or `CAP_SYS_ADMIN`): may load programs that index
    /// their context.
    pub perfmon: bool,
}

impl Caps {
    /// From the `CapEff:` line of `/proc/PID/status`.
    pub fn from_status(status: &str) -> Option<Caps> {
        let hex = status
            .lines()
            .find_map(|l| l.strip_prefix("CapEff:"))?
            .trim();
        let eff = u64::from_str_radix(hex, 16).ok()?;
        let has = |cap: u32| eff & (1 << cap) != 0;
        Some(Caps {
            bpf: has(CAP_BPF) || has(CAP_SYS_ADMIN),
            perfmon: has(CAP_PERFMON) || has(CAP_SYS_ADMIN),
        })
    }

    /// This process's (all of them when `/proc` cannot say).
    pub fn current() -> Caps {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| Caps::from_status(&s))
            .unwrap_or(Caps {
                bpf: true,
                perfmon: true,
            })
    }
}

/// What to do without `CAP_BPF`.
pub const WITHOUT_CAP_BPF: &str = "run as root or with CAP_BPF (chains with loops and the \
     batch program also need CAP_PERFMON), or call a program that a privileged process loaded \
     and pinned or passed on: calling one needs no capability";

/// Why loading failed, when the kernel refused it for want of a
/// capability `caps` lacks (`indexes_ctx`: the program may index its
/// context, so `CAP_PERFMON` may be what is missing).
pub fn load_refusal(e: &io::Error, caps: Caps, indexes_ctx: bool) -> Option<String> {
    if e.kind() != io::ErrorKind::PermissionDenied {
        return None;
    }
    if !caps.bpf {
        Some(format!(
            "loading AnyCall programs needs CAP_BPF, which this process lacks: {WITHOUT_CAP_BPF}"
        ))
    } else if indexes_ctx && !caps.perfmon {
        Some(
            "a program that indexes its context (a loop over an array in it) also needs \
             CAP_PERFMON, which this process lacks: run as root or with CAP_BPF and CAP_PERFMON"
                .into(),
        )
    } else {
        None
    }
}

/// `e` with the reason appended when it is a refusal for want of a
/// capability.
pub fn explain_load(e: io::Error, indexes_ctx: bool) -> io::Error {
    match load_refusal(&e, Caps::current(), indexes_ctx) {
        Some(why) => io::Error::new(e.kind(), format!("{}\n{why}", e.to_string().trim_end())),
        None => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_come_from_the_effective_set() {
        let status = |eff: u64| format!("Name:\tanycall\nCapPrm:\tffffffff\nCapEff:\t{eff:016x}\n");
        let caps = |eff: u64| Caps::from_status(&status(eff)).unwrap();
        assert_eq!(
            caps(0),
            Caps {
                bpf: false,
                perfmon: false
            }
        );
        assert_eq!(
            caps(1 << CAP_BPF),
            Caps {
                bpf: true,
                perfmon: false
            }
        );
        assert_eq!(
            caps(1 << CAP_BPF | 1 << CAP_PERFMON),
            Caps {
                bpf: true,
                perfmon: true
            }
        );
        assert_eq!(
            caps(1 << CAP_SYS_ADMIN),
            Caps {
                bpf: true,
                perfmon: true
            }
        );
        assert_eq!(caps(0x000001ffffffffff), caps(1 << CAP_SYS_ADMIN));
        assert_eq!(Caps::from_status("Name:\tx\n"), None);
    }

    #[test]
    fn refusals_name_the_missing_capability() {
        let eperm = io::Error::from_raw_os_error(libc::EPERM);
        let none = Caps {
            bpf: false,
            perfmon: false,
        };
        let bpf_only = Caps {
            bpf: true,
            perfmon: false,
        };
        let all = Caps {
            bpf: true,
            perfmon: true,
        };
        assert!(load_refusal(&eperm, none, false)
            .unwrap()
            .starts_with("loading AnyCall programs needs CAP_BPF, which this process lacks"));
        assert!(load_refusal(&eperm, bpf_only, true)
            .unwrap()
            .contains("also needs CAP_PERFMON, which this process lacks"));
        // What the capabilities do not explain is left alone: a chain
        // without loops refused with CAP_BPF, a verifier error, ENOSYS.
        assert_eq!(load_refusal(&eperm, bpf_only, false), None);
        assert_eq!(load_refusal(&eperm, all, true), None);
        let einval = io::Error::from_raw_os_error(libc::EINVAL);
        assert_eq!(load_refusal(&einval, none, true), None);
    }
}
