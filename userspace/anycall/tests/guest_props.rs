//! Runs inside the patched kernel: random chains and random batches of
//! file system calls on a scratch directory give the same results, and
//! leave the same files, as the same calls made directly.

use anycall::batch::{Batch, Call, Source};
use anycall::chain::{Arg, Chain, ChainBuilder, OnError, Slot, Step};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// fd numbers are part of the results: one case at a time, so that both
/// runs start from the same fd table.
static FD_TABLE: Mutex<()> = Mutex::new(());

const NAMES: [&str; 4] = ["a", "b", "dir", "c"];

/// One step; `fd` is the index of an earlier step whose result is used
/// as the fd (a failed one gives EBADF, in both runs alike).
#[derive(Clone, Debug)]
enum Op {
    Create {
        name: usize,
    },
    Open {
        name: usize,
    },
    Write {
        fd: usize,
        data: Vec<u8>,
    },
    Pwrite {
        fd: usize,
        data: Vec<u8>,
        offset: u16,
    },
    Read {
        fd: usize,
        len: u8,
    },
    Pread {
        fd: usize,
        len: u8,
        offset: u16,
    },
    Lseek {
        fd: usize,
        offset: u16,
        whence: u8,
    },
    Ftruncate {
        fd: usize,
        len: u16,
    },
    Fstat {
        fd: usize,
    },
    Close {
        fd: usize,
    },
    Mkdir {
        name: usize,
    },
    Unlink {
        name: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let name = 0..NAMES.len();
    let fd = 0usize..16;
    let data = prop::collection::vec(any::<u8>(), 0..40);
    prop_oneof![
        3 => name.clone().prop_map(|name| Op::Create { name }),
        2 => name.clone().prop_map(|name| Op::Open { name }),
        3 => (fd.clone(), data.clone()).prop_map(|(fd, data)| Op::Write { fd, data }),
        1 => (fd.clone(), data, 0u16..100).prop_map(|(fd, data, offset)| Op::Pwrite { fd, data, offset }),
        2 => (fd.clone(), any::<u8>()).prop_map(|(fd, len)| Op::Read { fd, len }),
        1 => (fd.clone(), any::<u8>(), 0u16..100).prop_map(|(fd, len, offset)| Op::Pread { fd, len, offset }),
        1 => (fd.clone(), 0u16..100, 0u8..3).prop_map(|(fd, offset, whence)| Op::Lseek { fd, offset, whence }),
        1 => (fd.clone(), 0u16..100).prop_map(|(fd, len)| Op::Ftruncate { fd, len }),
        1 => fd.clone().prop_map(|fd| Op::Fstat { fd }),
        2 => fd.prop_map(|fd| Op::Close { fd }),
        1 => name.clone().prop_map(|name| Op::Mkdir { name }),
        1 => name.prop_map(|name| Op::Unlink { name }),
    ]
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 1..24)
}

/// What a run produced: each result, the bytes each read returned, each
/// fstat's size, and the files left behind.
#[derive(Debug, PartialEq, Eq)]
struct Observed {
    results: Vec<i64>,
    reads: Vec<Vec<u8>>,
    sizes: Vec<i64>,
    files: BTreeMap<String, Option<Vec<u8>>>,
}

struct Scratch {
    path: PathBuf,
    dir: OwnedFd,
}

fn scratch(tag: &str) -> Scratch {
    let path = std::env::temp_dir().join(format!("anycall-prop-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path).unwrap();
    let dir = std::fs::File::open(&path).unwrap().into();
    Scratch { path, dir }
}

fn files(dir: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let content = if e.file_type().unwrap().is_dir() {
                None
            } else {
                Some(std::fs::read(e.path()).unwrap())
            };
            (e.file_name().into_string().unwrap(), content)
        })
        .collect()
}

/// Closes what the ops opened and did not close.
fn close_leftovers(ops: &[Op], results: &[i64]) {
    for (i, op) in ops.iter().enumerate() {
        if matches!(op, Op::Create { .. } | Op::Open { .. }) && results[i] >= 0 {
            // SAFETY: a fd these ops opened; the chain may have closed it
            // already, then this close fails harmlessly with EBADF (the
            // lock keeps other tests from reusing the number meanwhile).
            unsafe { libc::close(results[i] as i32) };
        }
    }
}

fn names() -> Vec<CString> {
    NAMES.iter().map(|n| CString::new(*n).unwrap()).collect()
}

/// The step whose result step `at` uses as its fd: the `fd`-th (modulo
/// their number) earlier open. Only fds the steps opened are ever used, so
/// no run touches an fd it does not own.
fn fd_step(ops: &[Op], at: usize, fd: usize) -> Option<usize> {
    let opens: Vec<usize> = (0..at)
        .filter(|&k| matches!(ops[k], Op::Create { .. } | Op::Open { .. }))
        .collect();
    (!opens.is_empty()).then(|| opens[fd % opens.len()])
}

/// Whether the close at `at` is the first of the fd it closes: the typed
/// close takes only those (a second close of the same fd goes raw).
fn first_close(ops: &[Op], at: usize, fd: usize) -> Option<usize> {
    let k = fd_step(ops, at, fd)?;
    let closed_before =
        (0..at).any(|j| matches!(ops[j], Op::Close { fd: g } if fd_step(ops, j, g) == Some(k)));
    (!closed_before).then_some(k)
}

fn fd_of(ops: &[Op], results: &[i64], at: usize, fd: usize) -> i64 {
    fd_step(ops, at, fd).map_or(-1, |k| results[k])
}

const CREATE: i32 = libc::O_CREAT | libc::O_RDWR | libc::O_TRUNC | libc::O_CLOEXEC;
const OPEN: i32 = libc::O_RDWR | libc::O_CLOEXEC;

fn ret(r: i64) -> i64 {
    if r < 0 {
        -(std::io::Error::last_os_error().raw_os_error().unwrap() as i64)
    } else {
        r
    }
}

/// The same steps as direct system calls.
fn run_direct(ops: &[Op], s: &Scratch) -> Observed {
    let dirfd = s.dir.as_raw_fd();
    let names = names();
    let mut results = Vec::new();
    let mut reads = Vec::new();
    let mut sizes = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let fd = |f: usize| fd_of(ops, &results, i, f) as i32;
        // SAFETY: every pointer is a live buffer of the length given.
        let r = unsafe {
            match op {
                Op::Create { name } => {
                    libc::openat(dirfd, names[*name].as_ptr(), CREATE, 0o644) as i64
                }
                Op::Open { name } => libc::openat(dirfd, names[*name].as_ptr(), OPEN) as i64,
                Op::Write { fd: f, data } => {
                    libc::write(fd(*f), data.as_ptr().cast(), data.len()) as i64
                }
                Op::Pwrite {
                    fd: f,
                    data,
                    offset,
                } => libc::pwrite(fd(*f), data.as_ptr().cast(), data.len(), *offset as i64) as i64,
                Op::Read { fd: f, len } => {
                    let mut buf = vec![0u8; *len as usize];
                    let r = libc::read(fd(*f), buf.as_mut_ptr().cast(), buf.len()) as i64;
                    buf.truncate(r.max(0) as usize);
                    reads.push(buf);
                    r
                }
                Op::Pread { fd: f, len, offset } => {
                    let mut buf = vec![0u8; *len as usize];
                    let r = libc::pread(fd(*f), buf.as_mut_ptr().cast(), buf.len(), *offset as i64)
                        as i64;
                    buf.truncate(r.max(0) as usize);
                    reads.push(buf);
                    r
                }
                Op::Lseek {
                    fd: f,
                    offset,
                    whence,
                } => libc::lseek(fd(*f), *offset as i64, *whence as i32),
                Op::Ftruncate { fd: f, len } => libc::ftruncate(fd(*f), *len as i64) as i64,
                Op::Fstat { fd: f } => {
                    let mut st: libc::stat = std::mem::zeroed();
                    let r = libc::fstat(fd(*f), &mut st) as i64;
                    sizes.push(if r == 0 { st.st_size } else { -1 });
                    r
                }
                Op::Close { fd: f } => libc::close(fd(*f)) as i64,
                Op::Mkdir { name } => libc::mkdirat(dirfd, names[*name].as_ptr(), 0o755) as i64,
                Op::Unlink { name } => libc::unlinkat(dirfd, names[*name].as_ptr(), 0) as i64,
            }
        };
        results.push(ret(r));
    }
    close_leftovers(ops, &results);
    Observed {
        results,
        reads,
        sizes,
        files: files(&s.path),
    }
}

/// The same steps as one batch.
fn run_batch(batch: &Batch, ops: &[Op], s: &Scratch) -> Observed {
    let dirfd = s.dir.as_raw_fd();
    let names = names();
    let mut bufs: Vec<Vec<u8>> = ops
        .iter()
        .map(|op| match op {
            Op::Read { len, .. } | Op::Pread { len, .. } => vec![0u8; *len as usize],
            _ => Vec::new(),
        })
        .collect();
    // SAFETY: `struct stat` is plain data; all zeroes is a valid value.
    let mut stats: Vec<libc::stat> = ops.iter().map(|_| unsafe { std::mem::zeroed() }).collect();
    let src =
        |i: usize, f: usize| fd_step(ops, i, f).map_or(Source::Const(-1i64 as u64), Source::Result);
    let mut calls: Vec<Call<'_>> = ops
        .iter()
        .zip(bufs.iter_mut())
        .zip(stats.iter_mut())
        .enumerate()
        .map(|(i, ((op, buf), st))| {
            match op {
                Op::Create { name } => Call::openat(dirfd, &names[*name], CREATE, 0o644),
                Op::Open { name } => Call::openat(dirfd, &names[*name], OPEN, 0),
                Op::Write { fd, data } => Call::write(src(i, *fd), data),
                Op::Pwrite { fd, data, offset } => {
                    Call::pwrite64(src(i, *fd), data, *offset as u64)
                }
                Op::Read { fd, .. } => Call::read(src(i, *fd), buf),
                Op::Pread { fd, offset, .. } => Call::pread64(src(i, *fd), buf, *offset as u64),
                Op::Lseek { fd, offset, whence } => {
                    Call::lseek(src(i, *fd), *offset as u64, *whence as i32)
                }
                Op::Ftruncate { fd, len } => Call::ftruncate(src(i, *fd), *len as u64),
                Op::Fstat { fd } => Call::fstat(src(i, *fd), st),
                Op::Close { fd } => match first_close(ops, i, *fd) {
                    Some(k) => Call::close(k),
                    // SAFETY: a second close of an fd these ops opened, or
                    // of -1; FD_TABLE keeps other tests from reusing it.
                    None => unsafe { Call::raw("close", libc::SYS_close, &[src(i, *fd)]) },
                },
                Op::Mkdir { name } => Call::mkdirat(dirfd, &names[*name], 0o755),
                Op::Unlink { name } => Call::unlinkat(dirfd, &names[*name], 0),
            }
            .continue_on_error()
        })
        .collect();
    let results = batch.run(&mut calls).unwrap();
    drop(calls);
    close_leftovers(ops, &results);
    observed(ops, results, &bufs, &stats, &s.path)
}

fn observed(
    ops: &[Op],
    results: Vec<i64>,
    bufs: &[Vec<u8>],
    stats: &[libc::stat],
    dir: &Path,
) -> Observed {
    let mut reads = Vec::new();
    let mut sizes = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::Read { .. } | Op::Pread { .. } => {
                reads.push(bufs[i][..results[i].max(0) as usize].to_vec())
            }
            Op::Fstat { .. } => sizes.push(if results[i] == 0 {
                stats[i].st_size
            } else {
                -1
            }),
            _ => {}
        }
    }
    Observed {
        results,
        reads,
        sizes,
        files: files(dir),
    }
}

/// The same steps as a chain, built and loaded for this case; its steps and
/// slots.
fn build_chain(ops: &[Op], s: &Scratch) -> (Chain, Vec<Step>, Vec<Option<Slot>>) {
    let dirfd = s.dir.as_raw_fd();
    let mut b = ChainBuilder::new();
    let mut steps = Vec::new();
    // Slots per step: a path, input data, or an output buffer.
    let mut slots: Vec<Option<Slot>> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let fd = |f: usize| {
            fd_step(ops, i, f).map_or(Arg::Const(-1i64 as u64), |k| Arg::Result(steps[k]))
        };
        let (step, slot) = match op {
            Op::Create { .. } | Op::Open { .. } | Op::Mkdir { .. } | Op::Unlink { .. } => {
                let p = b.path();
                let step = match op {
                    Op::Create { .. } => b.openat(dirfd, &p, CREATE, 0o644),
                    Op::Open { .. } => b.openat(dirfd, &p, OPEN, 0),
                    Op::Mkdir { .. } => b.mkdirat(dirfd, &p, 0o755),
                    _ => b.unlinkat(dirfd, &p, 0),
                };
                (step, Some(p))
            }
            Op::Write { fd: f, .. } | Op::Pwrite { fd: f, .. } => {
                let d = b.input();
                let step = match op {
                    Op::Pwrite { offset, .. } => b.pwrite64(fd(*f), &d, *offset as u64),
                    _ => b.write(fd(*f), &d),
                };
                (step, Some(d))
            }
            Op::Read { fd: f, .. } | Op::Pread { fd: f, .. } | Op::Fstat { fd: f } => {
                let o = b.output();
                let step = match op {
                    Op::Pread { offset, .. } => b.pread64(fd(*f), &o, *offset as u64),
                    Op::Read { .. } => b.read(fd(*f), &o),
                    _ => b.fstat(fd(*f), &o),
                };
                (step, Some(o))
            }
            Op::Lseek {
                fd: f,
                offset,
                whence,
            } => (b.lseek(fd(*f), *offset as u64, *whence as i32), None),
            Op::Ftruncate { fd: f, len } => (b.ftruncate(fd(*f), *len as u64), None),
            Op::Close { fd: f } => match first_close(ops, i, *f) {
                Some(k) => (b.close(steps[k]), None),
                // SAFETY: a second close of an fd these ops opened, or of
                // -1; FD_TABLE keeps other tests from reusing the number.
                None => (
                    unsafe { b.syscall("close", libc::SYS_close, &[fd(*f)]) },
                    None,
                ),
            },
        };
        b.on_error(step, OnError::Continue);
        steps.push(step);
        slots.push(slot);
    }
    (b.build().unwrap().load().unwrap(), steps, slots)
}

fn run_chain(
    ops: &[Op],
    s: &Scratch,
    (chain, steps, slots): &(Chain, Vec<Step>, Vec<Option<Slot>>),
) -> Observed {
    let names = names();
    let mut bufs: Vec<Vec<u8>> = ops
        .iter()
        .map(|op| match op {
            Op::Read { len, .. } | Op::Pread { len, .. } => vec![0u8; *len as usize],
            Op::Fstat { .. } => vec![0u8; std::mem::size_of::<libc::stat>()],
            _ => Vec::new(),
        })
        .collect();
    let mut call = chain.invocation();
    for ((op, slot), buf) in ops.iter().zip(slots).zip(bufs.iter_mut()) {
        let Some(slot) = slot else { continue };
        match op {
            Op::Create { name } | Op::Open { name } | Op::Mkdir { name } | Op::Unlink { name } => {
                call.path(slot, &names[*name]).unwrap();
            }
            Op::Write { data, .. } | Op::Pwrite { data, .. } => {
                call.input(slot, data).unwrap();
            }
            _ => {
                call.output(slot, buf).unwrap();
            }
        }
    }
    let out = call.run().unwrap();
    drop(call);
    let results: Vec<i64> = steps.iter().map(|s| out.result(*s).unwrap()).collect();
    close_leftovers(ops, &results);
    // SAFETY: fstat buffers hold a `struct stat` the kernel wrote (or zeroes).
    let stats: Vec<libc::stat> = bufs
        .iter()
        .map(|b| {
            if b.len() == std::mem::size_of::<libc::stat>() {
                unsafe { b.as_ptr().cast::<libc::stat>().read_unaligned() }
            } else {
                unsafe { std::mem::zeroed() }
            }
        })
        .collect();
    observed(ops, results, &bufs, &stats, &s.path)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn guest_random_batches_match_direct_calls(ops in ops()) {
        let _fds = FD_TABLE.lock().unwrap_or_else(|e| e.into_inner());
        let batch = batch_program();
        let (a, b) = (scratch("direct"), scratch("batch"));
        let direct = run_direct(&ops, &a);
        let batched = run_batch(batch, &ops, &b);
        prop_assert_eq!(batched, direct);
    }

    #[test]
    fn guest_random_chains_match_direct_calls(ops in ops()) {
        let _fds = FD_TABLE.lock().unwrap_or_else(|e| e.into_inner());
        let (a, b) = (scratch("cdirect"), scratch("chain"));
        // Loaded first: its fd is then open in both runs.
        let chain = build_chain(&ops, &b);
        let direct = run_direct(&ops, &a);
        let chained = run_chain(&ops, &b, &chain);
        prop_assert_eq!(chained, direct);
    }
}

fn batch_program() -> &'static Batch {
    static BATCH: std::sync::OnceLock<Batch> = std::sync::OnceLock::new();
    BATCH.get_or_init(|| Batch::load(32).expect("loading the batch program"))
}
