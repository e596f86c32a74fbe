//! Watching the kernel log: a sanitizer report, warning or oops while a
//! sequence or program ran is pinned to it (run-in-vm's scan-log fails
//! the whole run as well, but cannot say which input it was).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// What scan-log looks for, less what needs more context than one line.
const PATTERNS: [&str; 16] = [
    "WARNING:",
    "BUG:",
    "Oops",
    "Call Trace",
    "Kernel panic",
    "general protection fault",
    "possible circular locking",
    "possible recursive locking",
    "inconsistent lock state",
    "lock held when returning",
    "DEBUG_LOCKS_WARN_ON",
    "suspicious RCU usage",
    "KASAN",
    "UBSAN",
    "kernel BUG",
    "blocked for more than",
];

pub fn alarming(line: &str) -> bool {
    PATTERNS.iter().any(|p| line.contains(p))
}

/// `/dev/kmsg`, read from where it ended when opened.
pub struct Kmsg(OwnedFd);

impl Kmsg {
    /// `None` where the log cannot be read (not root, no /dev/kmsg).
    pub fn open() -> Option<Kmsg> {
        // SAFETY: a NUL-terminated path; the fd is owned below.
        let fd = unsafe {
            libc::open(
                c"/dev/kmsg".as_ptr(),
                libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return None;
        }
        // SAFETY: a new fd nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: SEEK_END on /dev/kmsg skips the records so far.
        unsafe { libc::lseek(fd.as_raw_fd(), 0, libc::SEEK_END) };
        Some(Kmsg(fd))
    }

    /// The alarming messages logged since the last call.
    pub fn alarms(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 8192];
        loop {
            // SAFETY: `buf` is writable for its length; one record per read.
            let n = unsafe { libc::read(self.0.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 {
                match io::Error::last_os_error().raw_os_error() {
                    // Overwritten records: go on with the next ones.
                    Some(libc::EPIPE) | Some(libc::EINTR) => continue,
                    _ => break,
                }
            }
            if n == 0 {
                break;
            }
            let rec = String::from_utf8_lossy(&buf[..n as usize]);
            // "prio,seq,time,flags;message\n continuation lines"
            let msg = rec.split_once(';').map_or(&*rec, |(_, m)| m);
            let first = msg.lines().next().unwrap_or("").to_string();
            if alarming(&first) {
                out.push(first);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alarming_lines() {
        assert!(alarming("BUG: KASAN: slab-out-of-bounds in foo+0x1/0x2"));
        assert!(alarming(
            "WARNING: CPU: 1 PID: 77 at kernel/bpf/verifier.c:1"
        ));
        assert!(alarming("UBSAN: shift-out-of-bounds in x.c:3:4"));
        assert!(!alarming(
            "audit: type=1326 audit(1.2:3): auid=4294967295 syscall=0"
        ));
        assert!(!alarming("random: crng init done"));
    }
}
