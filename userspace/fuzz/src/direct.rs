//! The direct twin: every operation is its own system call, through
//! libc's `syscall()`, with the same numbers and arguments the AnyCall
//! twin gives the kernel.

use crate::gen::{self, ArgSpec, Op, Sequence};
use crate::observe::Obs;
use crate::twin::{self, Buffer, Filters, Segments};
use std::ffi::CStr;

/// `read_file.bpf.c` reads at most this many times (READ_FILE_MAX_READS).
pub const READ_FILE_MAX_READS: u64 = 64;

/// Runs `seq` as direct calls; `scratch` is the twin's scratch directory.
pub fn run(seq: &Sequence, scratch: &str) -> Obs {
    let paths = twin::paths();
    let filters = Filters::new(seq);
    let mut bufs = twin::buffers(seq);
    let mut results: Vec<Option<i64>> = vec![None; seq.ops.len()];
    let mut obs = Obs::default();
    let mut segs = Segments::default();
    // SAFETY: getpid() has no preconditions.
    let pid = unsafe { libc::getpid() } as u64;
    for (s, seg) in seq.segments.iter().enumerate() {
        for i in seg.start..seg.end {
            let r = match &seq.ops[i] {
                Op::ReadFile { path, .. } => {
                    let (r, ctx) = read_file(&paths[*path as usize], &mut bufs[i][0]);
                    obs.push(format!("op {i} ctx"), ctx);
                    r
                }
                op => {
                    let spec = gen::spec(i, op).expect("a call");
                    let mut args = [0u64; 6];
                    for (a, spec_arg) in args.iter_mut().zip(&spec.args) {
                        *a = match *spec_arg {
                            ArgSpec::C(v) => v,
                            ArgSpec::Fd(fd) => twin::resolve(fd, &results, &bufs),
                            ArgSpec::Ptr(_) => 0, // below
                            ArgSpec::Len(j) => bufs[i][j].bytes().len() as u64,
                            ArgSpec::Path(p) => paths[p as usize].as_ptr() as u64,
                            ArgSpec::Pid => pid,
                            ArgSpec::Fprog => filters.fprog(i) as *const _ as u64,
                        };
                    }
                    for (a, spec_arg) in args.iter_mut().zip(&spec.args) {
                        if let ArgSpec::Ptr(j) = *spec_arg {
                            *a = bufs[i][j].addr();
                        }
                    }
                    syscall(spec.nr, args)
                }
            };
            results[i] = Some(r);
            if seg.stop_on_error && r < 0 {
                break;
            }
        }
        twin::record_ops(seq, seg.start..seg.end, &results, &bufs, &mut obs);
        segs.record(s, &mut obs);
    }
    twin::snapshot(scratch, &mut obs);
    obs
}

/// One system call, as the kernel returns it (`-errno` on failure).
fn syscall(nr: i64, a: [u64; 6]) -> i64 {
    // SAFETY: the sequences' calls touch only what the twin owns for
    // them: its buffers (each passed with its length), the fixed regions
    // (no Rust object lives there), fds the sequence made or numbers that
    // are none, its own signal state and seccomp filters. The twin is a
    // throw-away process: nothing else depends on its state.
    let r = unsafe { libc::syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) };
    twin::ret(r)
}

/// `read_file.bpf.c` as direct calls: its result and its context's out
/// fields.
pub fn read_file(path: &CStr, buf: &mut Buffer) -> (i64, String) {
    let (mut size, mut reads, mut truncated) = (0u64, 0u64, 0i64);
    let cap = buf.bytes().len() as u64;
    let base = buf.addr();
    let fd = syscall(
        libc::SYS_openat,
        [
            libc::AT_FDCWD as i64 as u64,
            path.as_ptr() as u64,
            (libc::O_RDONLY | libc::O_CLOEXEC) as u64,
            0,
            0,
            0,
        ],
    );
    let ctx = |size, reads, truncated| format!("size {size} reads {reads} truncated {truncated}");
    if fd < 0 {
        return (fd, ctx(size, reads, truncated));
    }
    let mut err = 0;
    for i in 0..READ_FILE_MAX_READS {
        if size >= cap {
            truncated = 1;
            break;
        }
        let n = syscall(
            libc::SYS_read,
            [fd as u64, base + size, cap - size, 0, 0, 0],
        );
        reads = i + 1;
        if n < 0 {
            err = n;
            break;
        }
        if n == 0 {
            break;
        }
        size += n as u64;
    }
    syscall(libc::SYS_close, [fd as u64, 0, 0, 0, 0, 0]);
    let r = if err != 0 { err } else { size as i64 };
    (r, ctx(size, reads, truncated))
}
