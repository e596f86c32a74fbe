//! Loading programs given as raw instructions.

use libbpf_sys::{self as bpf, bpf_insn, bpf_prog_type};
use std::ffi::{c_char, CStr, CString};
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

/// Room for the verifier's log when a load fails.
const LOG_SIZE: usize = 64 * 1024;

/// Loads `insns` as a sleepable GPL program of `prog_type` named `name`.
///
/// When the kernel refuses the program, the error carries the verifier's
/// log (the load is retried once with logging on to get it).
pub fn load_sleepable(
    prog_type: bpf_prog_type,
    name: &str,
    insns: &[bpf_insn],
) -> io::Result<OwnedFd> {
    match load(prog_type, name, insns, None) {
        Ok(fd) => Ok(fd),
        Err(err) => {
            let mut log = vec![0u8; LOG_SIZE];
            match load(prog_type, name, insns, Some(&mut log)) {
                Ok(fd) => Ok(fd),
                Err(_) => {
                    let text = log_text(&log);
                    Err(io::Error::new(
                        err.kind(),
                        format!("loading {name}: {err}\n{}", text.trim_end()),
                    ))
                }
            }
        }
    }
}

/// The text the verifier wrote into `log` (NUL-terminated).
pub(crate) fn log_text(log: &[u8]) -> String {
    CStr::from_bytes_until_nul(log)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn load(
    prog_type: bpf_prog_type,
    name: &str,
    insns: &[bpf_insn],
    log: Option<&mut Vec<u8>>,
) -> io::Result<OwnedFd> {
    let name = CString::new(name).map_err(|_| io::ErrorKind::InvalidInput)?;
    let license = c"GPL";
    // SAFETY: `bpf_prog_load_opts` is plain data; all zeroes is its default.
    let mut opts: bpf::bpf_prog_load_opts = unsafe { std::mem::zeroed() };
    opts.sz = std::mem::size_of::<bpf::bpf_prog_load_opts>() as _;
    opts.prog_flags = bpf::BPF_F_SLEEPABLE;
    if let Some(log) = log {
        opts.log_buf = log.as_mut_ptr().cast::<c_char>();
        opts.log_size = log.len() as _;
        opts.log_level = 1;
    }
    // SAFETY: every pointer is valid for the call: `insns` holds
    // `insns.len()` instructions, the log buffer `opts.log_size` bytes.
    let fd = unsafe {
        bpf::bpf_prog_load(
            prog_type,
            name.as_ptr(),
            license.as_ptr(),
            insns.as_ptr(),
            insns.len() as _,
            &mut opts,
        )
    };
    if fd < 0 {
        return Err(io::Error::from_raw_os_error(-fd));
    }
    // SAFETY: the kernel just gave us this fd; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
