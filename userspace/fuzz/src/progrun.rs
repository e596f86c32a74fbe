//! Loading random verifier programs (as root) and running the accepted
//! ones in an unprivileged child.

use crate::twin;
use crate::verifier::{self, Ids, Outcome, ProgSpec};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// Loads `spec`'s program: the fd, or the verifier's refusal.
pub fn load(spec: &ProgSpec, kfunc: u32) -> io::Result<OwnedFd> {
    let insns = spec.emit(kfunc);
    anycall::load::load_sleepable(anycall_sys::BPF_PROG_TYPE_ANYCALL, "anycall_fuzz", &insns)
}

/// Runs every run of each program in a child that dropped to uid 65534;
/// their outcomes, per program and run, and who ran them.
pub fn run_all(
    progs: &[(&ProgSpec, RawFd)],
    unprivileged: bool,
    timeout: Duration,
) -> Result<(Ids, Vec<Vec<Outcome>>), String> {
    let mut p = [0; 2];
    // SAFETY: `p` has room for two fds.
    if unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!("pipe2: {}", io::Error::last_os_error()));
    }
    // SAFETY: single-threaded; the child ends with _exit().
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", io::Error::last_os_error()));
    }
    if pid == 0 {
        // SAFETY: the child's copy of the read end.
        unsafe { libc::close(p[0]) };
        let code = match child(progs, unprivileged) {
            Ok(report) => {
                write_all(p[1], report.as_bytes());
                0
            }
            Err(e) => {
                eprintln!("anycall-fuzz: program runner: {e}");
                3
            }
        };
        // SAFETY: ends the child without the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    // SAFETY: the parent's copy of the write end.
    unsafe { libc::close(p[1]) };
    let text = read_until(p[0], Instant::now() + timeout);
    // SAFETY: our read end.
    unsafe { libc::close(p[0]) };
    let mut st = 0;
    if text.is_none() {
        // SAFETY: our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    // SAFETY: reaps our own child.
    unsafe { libc::waitpid(pid, &mut st, 0) };
    let Some(text) = text else {
        return Err(format!(
            "the program runner did not finish in {timeout:?} (killed)"
        ));
    };
    if !(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0) {
        return Err(format!("the program runner ended with wait status {st:#x}"));
    }
    parse(&text, progs)
}

fn child(progs: &[(&ProgSpec, RawFd)], unprivileged: bool) -> Result<String, String> {
    if unprivileged {
        twin::drop_privileges()?;
    }
    // SAFETY: getters.
    let ids = unsafe { (libc::getpid(), libc::getppid(), libc::getuid()) };
    let mut out = format!("ids {} {} {}\n", ids.0, ids.1, ids.2);
    for (p, (spec, fd)) in progs.iter().enumerate() {
        for (r, run) in spec.runs.iter().enumerate() {
            let mut ctx = verifier::context(run);
            let ptr = if ctx.is_empty() {
                std::ptr::null_mut()
            } else {
                ctx.as_mut_ptr()
            };
            // SAFETY: `ctx` is writable for its length. The program's
            // inner calls are number-only ones (getppid, getpid, ...,
            // numbers that are no call) which touch no memory, whatever
            // the verifier let it pass as arguments; it stores into its
            // context and stack only. A broken verifier could let it do
            // worse: that is what this child, which does nothing else,
            // runs it for.
            let ret =
                unsafe { anycall_sys::anycall(*fd, ptr.cast(), run.ctx_size as usize, run.flags) };
            let errno = io::Error::last_os_error().raw_os_error().unwrap_or(0);
            // What the context must hold now: what was passed when the
            // run was refused, what the program wrote when it ran.
            let want: Vec<Option<u8>> = if ret < 0 {
                verifier::context(run).into_iter().map(Some).collect()
            } else {
                verifier::simulate(spec, run)
            };
            let (n, first) = verifier::context_diff(&ctx, &want, 4);
            let first: Vec<String> = first
                .iter()
                .map(|(o, g, w)| format!("{o}:{g}:{w}"))
                .collect();
            let diff = format!("{n} {}", first.join(","));
            if ret < 0 {
                out.push_str(&format!("o {p} {r} refused {errno} {diff}\n"));
            } else {
                let res: Vec<String> = (0..spec.calls.len())
                    .map(|c| {
                        let at = verifier::RESULTS as usize + 8 * c;
                        ctx.get(at..at + 8)
                            .map_or(i64::MIN, |b| i64::from_ne_bytes(b.try_into().unwrap()))
                            .to_string()
                    })
                    .collect();
                out.push_str(&format!("o {p} {r} ran {ret} {diff} {}\n", res.join(" ")));
            }
        }
    }
    Ok(out)
}

fn parse(text: &str, progs: &[(&ProgSpec, RawFd)]) -> Result<(Ids, Vec<Vec<Outcome>>), String> {
    let bad = |l: &str| format!("program runner: bad line {l:?}");
    let mut lines = text.lines();
    let first = lines.next().ok_or("program runner: empty report")?;
    let ids: Vec<i64> = first
        .strip_prefix("ids ")
        .ok_or_else(|| bad(first))?
        .split(' ')
        .map(|x| x.parse().map_err(|_| bad(first)))
        .collect::<Result<_, _>>()?;
    let ids = Ids {
        pid: ids[0],
        ppid: ids[1],
        uid: ids[2],
    };
    let mut out: Vec<Vec<Outcome>> = progs.iter().map(|_| Vec::new()).collect();
    for l in lines {
        let w: Vec<&str> = l.split(' ').collect();
        let p: usize = w
            .get(1)
            .and_then(|x| x.parse().ok())
            .ok_or_else(|| bad(l))?;
        let num = |x: &str| x.parse::<i64>().map_err(|_| bad(l));
        let word = |i: usize| w.get(i).copied().ok_or_else(|| bad(l));
        // "N off:got:want,..." (the list may be empty).
        let diff = |at: usize| -> Result<verifier::CtxDiff, String> {
            let n = num(word(at)?)? as usize;
            let mut first = Vec::new();
            for t in word(at + 1)?.split(',').filter(|t| !t.is_empty()) {
                let v: Vec<i64> = t.split(':').map(num).collect::<Result<_, _>>()?;
                if v.len() != 3 {
                    return Err(bad(l));
                }
                first.push((v[0] as usize, v[1] as u8, v[2] as u8));
            }
            Ok((n, first))
        };
        let o = match w.get(3) {
            Some(&"refused") => Outcome::Refused(num(word(4)?)? as i32, diff(5)?),
            Some(&"ran") => Outcome::Ran {
                ret: num(word(4)?)?,
                ctx_diff: diff(5)?,
                results: w[7..].iter().map(|x| num(x)).collect::<Result<_, _>>()?,
            },
            _ => return Err(bad(l)),
        };
        out.get_mut(p).ok_or_else(|| bad(l))?.push(o);
    }
    Ok((ids, out))
}

fn write_all(fd: RawFd, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is readable for its length.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n <= 0 {
            return;
        }
        bytes = &bytes[n as usize..];
    }
}

/// Everything `fd` gives until end of file, or `None` at the deadline.
fn read_until(fd: RawFd, deadline: Instant) -> Option<String> {
    let mut bytes = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut pfd, 1, left.as_millis().min(1000) as i32) } <= 0 {
            continue;
        }
        let mut buf = [0u8; 65536];
        // SAFETY: `buf` is writable for its length.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n > 0 {
            bytes.extend_from_slice(&buf[..n as usize]);
        } else if n == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return Some(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
}

/// The fd of a loaded program, for `run_all`.
pub fn raw(fd: &OwnedFd) -> RawFd {
    fd.as_raw_fd()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The runner's plumbing on the host: there anycall() does not exist
    /// (or fd -1 is no program), so every run is refused, with the
    /// context untouched, and the report parses back.
    #[test]
    fn runs_are_reported_and_parsed() {
        let specs: Vec<ProgSpec> = (0..3).map(|i| verifier::program(8, i)).collect();
        let progs: Vec<(&ProgSpec, RawFd)> = specs.iter().map(|s| (s, -1)).collect();
        let (ids, outcomes) = run_all(&progs, false, Duration::from_secs(30)).unwrap();
        // SAFETY: getters.
        assert_eq!(ids.ppid, unsafe { libc::getpid() } as i64);
        assert_eq!(ids.uid, unsafe { libc::getuid() } as i64);
        for (spec, outs) in specs.iter().zip(&outcomes) {
            assert_eq!(outs.len(), spec.runs.len());
            for o in outs {
                match o {
                    Outcome::Refused(e, (0, first)) => {
                        assert!(first.is_empty());
                        assert!(
                            [libc::ENOSYS, libc::EBADF, libc::EINVAL, libc::E2BIG].contains(e),
                            "{e}"
                        );
                    }
                    o => panic!("{o:?}"),
                }
            }
        }
    }

    #[test]
    fn parses_what_ran() {
        let spec = verifier::program(8, 0);
        let progs = [(&spec, 3)];
        let text = format!(
            "ids 10 9 65534\no 0 0 ran 0 2 5:1:2,7:0:255 {}\no 0 1 refused 105 0 \n",
            vec!["110"; spec.calls.len()].join(" ")
        );
        let (ids, out) = parse(&text, &progs).unwrap();
        assert_eq!(ids.ppid, 9);
        assert_eq!(
            out[0][0],
            Outcome::Ran {
                ret: 0,
                results: vec![110; spec.calls.len()],
                ctx_diff: (2, vec![(5, 1, 2), (7, 0, 255)])
            }
        );
        assert_eq!(out[0][1], Outcome::Refused(105, (0, vec![])));
        assert!(parse("ids 1 2 3\no 0 0 what\n", &progs).is_err());
    }
}
