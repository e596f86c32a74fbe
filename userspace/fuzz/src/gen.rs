//! The sequences the twins run, generated from a seed, and what each of
//! their operations is as a system call ([`spec`]).
//!
//! A sequence is a list of operations cut into segments. The direct twin
//! issues every operation as its own system call; the AnyCall twin runs
//! each segment as one `anycall()`: a chain, a batch, or (for
//! [`Op::ReadFile`]) the C program `read_file.bpf.c`. Inside a segment an
//! operation may use the result of an earlier one (an fd from `openat`);
//! fds that a call writes to memory (`pipe2`, `socketpair`) are usable
//! from the next segment on, since a chain or batch cannot load them from
//! memory between two of its calls.

use crate::rng::{derive, Rng};
use std::fmt;

/// The paths operations use, relative to the scratch directory (or to a
/// directory fd). No `..`: a twin must not reach its sibling's tree.
pub const PATHS: [&str; 11] = [
    "a", "b", "c", "d", "d/a", "d/b", "d/e", "e/a", "a/x", ".", "",
];
/// The scratch directory's fd in a twin (the same number in both).
pub const DIRFD: i32 = 1000;
/// Where a twin writes its report (seccomp filters let `write` to it pass).
pub const REPORT_FD: i32 = 1001;
/// The fuzzer's own stderr in a twin, for a setup failure: the twins' fds
/// 0-2 are /dev/null, so that a log the fuzzer writes to cannot move.
pub const SETUP_ERR_FD: i32 = 1002;
pub const PAGE: u64 = 4096;
/// Anonymous memory regions at fixed addresses: both twins map the same
/// addresses, so `mmap` results and buffers there compare as they are.
pub const REGIONS: u8 = 4;
pub const REGION_PAGES: u8 = 4;
/// Regions are this far apart; the pages between them are never mapped.
pub const REGION_STRIDE: u64 = 16 * PAGE;
/// Far below where the kernel places mappings made without an address.
pub const REGION_BASE: u64 = 0x2000_0000_0000;
/// The real-time signal the twins count (queued, so never merged).
pub const SIG_RT: i32 = 40;
/// The one signal that `rt_sigprocmask` operations block and unblock.
pub const SIGMASK_USR1: u64 = 1 << (libc::SIGUSR1 - 1);

/// Address `off` bytes into region `region`.
pub fn region_addr(region: u8, off: u64) -> u64 {
    REGION_BASE + region as u64 * REGION_STRIDE + off
}

/// A file descriptor argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fd {
    /// The result of operation `k` (an `openat` or `dup`).
    Res(usize),
    /// End `e` (0 or 1) of the fds operation `k` (`pipe2`, `socketpair`,
    /// in an earlier segment) wrote to memory.
    Pair(usize, u8),
    /// The scratch directory ([`DIRFD`]).
    Dir,
    /// `AT_FDCWD` (the twin's working directory is the scratch directory).
    Cwd,
    /// A number that is no open fd.
    Bad(i32),
}

/// Where a call writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Buf {
    /// A buffer of this many bytes of the twin's own.
    Heap(usize),
    /// Bytes in a region, mapped or not.
    Region { region: u8, off: u32, len: u32 },
}

/// What a call reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Data {
    Heap(Vec<u8>),
    Region { region: u8, off: u32, len: u32 },
}

/// Whom `kill` signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The twin's pid.
    Own,
    /// 0: its process group, which is only itself (it called setsid()).
    Group,
    /// 1: init, which uid 65534 may not signal (EPERM).
    Init,
    /// A pid that does not exist (ESRCH).
    Nobody,
}

/// A seccomp filter: `action` for system call `nr`, or only when
/// argument `arg.0`'s low 32 bits are `arg.1`; everything else passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Filter {
    pub nr: i64,
    pub arg: Option<(u8, u32)>,
    pub action: Action,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `SECCOMP_RET_ERRNO`: the call fails with this errno, unrun.
    Errno(u16),
    /// `SECCOMP_RET_KILL_PROCESS`: the twin dies of SIGSYS, and nothing
    /// after the call may run (both twins must leave the same tree).
    Kill,
}

/// One operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Openat {
        dir: Fd,
        path: u8,
        flags: i32,
        mode: u32,
    },
    Read {
        fd: Fd,
        buf: Buf,
    },
    Write {
        fd: Fd,
        data: Data,
    },
    Pread {
        fd: Fd,
        buf: Buf,
        off: i64,
    },
    Pwrite {
        fd: Fd,
        data: Data,
        off: i64,
    },
    Lseek {
        fd: Fd,
        off: i64,
        whence: i32,
    },
    Fstat {
        fd: Fd,
    },
    Newfstatat {
        dir: Fd,
        path: u8,
        flags: i32,
    },
    Ftruncate {
        fd: Fd,
        len: i64,
    },
    Close {
        fd: Fd,
    },
    Dup {
        fd: Fd,
    },
    Unlinkat {
        dir: Fd,
        path: u8,
        flags: i32,
    },
    Mkdirat {
        dir: Fd,
        path: u8,
        mode: u32,
    },
    Pipe2 {
        flags: i32,
    },
    Socketpair {
        ty: i32,
    },
    Send {
        fd: Fd,
        data: Data,
        flags: i32,
    },
    Recv {
        fd: Fd,
        buf: Buf,
        flags: i32,
    },
    Mmap {
        region: u8,
        page: u8,
        pages: u8,
        prot: i32,
    },
    Munmap {
        region: u8,
        page: u8,
        pages: u8,
        /// Added to the address (non-zero: misaligned, EINVAL).
        skew: u8,
    },
    Kill {
        target: Target,
        sig: i32,
    },
    /// `rt_sigprocmask(how, set, &old, 8)`; `set` is `None` for NULL.
    Sigmask {
        how: i32,
        set: Option<u64>,
    },
    Seccomp {
        filter: Filter,
        flags: u32,
    },
    Getppid,
    /// A number that is no system call (or one the kernel must treat
    /// as a direct call would).
    BadNr {
        nr: i64,
    },
    /// `read_file.bpf.c`: openat + read until end of file + close, on
    /// a `size`-byte buffer; the only operation of its segment.
    ReadFile {
        path: u8,
        size: u16,
    },
}

impl Op {
    /// The name of its system call.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Openat { .. } => "openat",
            Op::Read { .. } => "read",
            Op::Write { .. } => "write",
            Op::Pread { .. } => "pread64",
            Op::Pwrite { .. } => "pwrite64",
            Op::Lseek { .. } => "lseek",
            Op::Fstat { .. } => "fstat",
            Op::Newfstatat { .. } => "newfstatat",
            Op::Ftruncate { .. } => "ftruncate",
            Op::Close { .. } => "close",
            Op::Dup { .. } => "dup",
            Op::Unlinkat { .. } => "unlinkat",
            Op::Mkdirat { .. } => "mkdirat",
            Op::Pipe2 { .. } => "pipe2",
            Op::Socketpair { .. } => "socketpair",
            Op::Send { .. } => "sendto",
            Op::Recv { .. } => "recvfrom",
            Op::Mmap { .. } => "mmap",
            Op::Munmap { .. } => "munmap",
            Op::Kill { .. } => "kill",
            Op::Sigmask { .. } => "rt_sigprocmask",
            Op::Seccomp { .. } => "seccomp",
            Op::Getppid => "getppid",
            Op::BadNr { .. } => "(no such call)",
            Op::ReadFile { .. } => "read_file.bpf.c",
        }
    }

    /// Its fd arguments, for the checks and the minimizer.
    pub fn fds_mut(&mut self) -> Vec<&mut Fd> {
        match self {
            Op::Openat { dir, .. }
            | Op::Newfstatat { dir, .. }
            | Op::Unlinkat { dir, .. }
            | Op::Mkdirat { dir, .. } => vec![dir],
            Op::Read { fd, .. }
            | Op::Write { fd, .. }
            | Op::Pread { fd, .. }
            | Op::Pwrite { fd, .. }
            | Op::Lseek { fd, .. }
            | Op::Fstat { fd }
            | Op::Ftruncate { fd, .. }
            | Op::Close { fd }
            | Op::Dup { fd }
            | Op::Send { fd, .. }
            | Op::Recv { fd, .. } => vec![fd],
            _ => vec![],
        }
    }

    /// Whether its result is a new fd that [`Fd::Res`] may name.
    pub fn opens(&self) -> bool {
        matches!(self, Op::Openat { .. } | Op::Dup { .. })
    }

    /// Whether it writes two fds to memory that [`Fd::Pair`] may name.
    pub fn pairs(&self) -> bool {
        matches!(self, Op::Pipe2 { .. } | Op::Socketpair { .. })
    }
}

/// An entry of the scratch tree both twins start with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub path: &'static str,
    /// Contents of a file; `None` for a directory.
    pub data: Option<Vec<u8>>,
    pub mode: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setup {
    pub umask: u32,
    pub entries: Vec<Entry>,
}

/// How the AnyCall twin runs a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Chain,
    Batch,
    /// The C program `read_file.bpf.c` ([`Op::ReadFile`]).
    Program,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Its operations: `ops[start..end]` of the sequence.
    pub start: usize,
    pub end: usize,
    pub via: Via,
    /// Stop at the first call that fails (else go on with the next).
    pub stop_on_error: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sequence {
    pub seed: u64,
    pub index: u64,
    pub setup: Setup,
    pub ops: Vec<Op>,
    /// Per operation: issue it as a raw call in the AnyCall twin even
    /// where a typed step or call exists.
    pub raw: Vec<bool>,
    pub segments: Vec<Segment>,
}

impl Sequence {
    /// The segment operation `i` is in.
    pub fn segment_of(&self, i: usize) -> usize {
        self.segments
            .iter()
            .position(|s| (s.start..s.end).contains(&i))
            .expect("every operation is in a segment")
    }

    /// Checks what the generator promises (and the minimizer keeps):
    /// segments tile the operations, fd references point back to
    /// operations that make fds (pairs: in an earlier segment), a C
    /// program segment has exactly its one operation, at most
    /// [`MAX_FILTERS`] filters.
    pub fn check(&self) -> Result<(), String> {
        let mut at = 0;
        for (s, seg) in self.segments.iter().enumerate() {
            if seg.start != at || seg.end <= seg.start {
                return Err(format!("segment {s} is {}..{}", seg.start, seg.end));
            }
            let program = (seg.start..seg.end).any(|i| matches!(self.ops[i], Op::ReadFile { .. }));
            if program != (seg.via == Via::Program) || (program && seg.end - seg.start != 1) {
                return Err(format!(
                    "segment {s}: a C program segment has one read_file"
                ));
            }
            at = seg.end;
        }
        if at != self.ops.len() || self.raw.len() != self.ops.len() {
            return Err("segments do not cover the operations".into());
        }
        let filters = self
            .ops
            .iter()
            .filter(|o| matches!(o, Op::Seccomp { .. }))
            .count();
        if filters > MAX_FILTERS {
            return Err(format!("{filters} seccomp filters"));
        }
        for seg in &self.segments {
            let ops = &self.ops[seg.start..seg.end];
            if let Some(k) = ops.iter().position(raises_usr1) {
                if ops[k..].iter().any(|o| matches!(o, Op::Sigmask { .. })) {
                    return Err(format!(
                        "rt_sigprocmask after kill(SIGUSR1) in segment at {}",
                        seg.start
                    ));
                }
            }
        }
        for i in 0..self.ops.len() {
            let seg_start = self.segments[self.segment_of(i)].start;
            let mut op = self.ops[i].clone();
            for fd in op.fds_mut() {
                match *fd {
                    Fd::Res(k) if k >= i || !self.ops[k].opens() => {
                        return Err(format!("op {i}: fd of op {k}"))
                    }
                    Fd::Pair(k, e) if k >= seg_start || !self.ops[k].pairs() || e > 1 => {
                        return Err(format!("op {i}: fd pair of op {k}"))
                    }
                    _ => {}
                }
            }
            if let Op::Close { fd: Fd::Dir } = &self.ops[i] {
                return Err(format!("op {i} closes the scratch directory's fd"));
            }
            if let Op::Seccomp { filter, .. } = &self.ops[i] {
                if !FILTERABLE.contains(&filter.nr) {
                    return Err(format!("op {i}: a filter for {}", filter.nr));
                }
            }
        }
        Ok(())
    }
}

fn raises_usr1(op: &Op) -> bool {
    matches!(op, Op::Kill { sig, .. } if *sig == libc::SIGUSR1)
}

/// The name of a [`FILTERABLE`] call.
pub fn nr_name(nr: i64) -> &'static str {
    const NAMES: [&str; 20] = [
        "openat",
        "read",
        "write",
        "pread64",
        "pwrite64",
        "lseek",
        "fstat",
        "newfstatat",
        "ftruncate",
        "close",
        "dup",
        "unlinkat",
        "mkdirat",
        "pipe2",
        "socketpair",
        "sendto",
        "recvfrom",
        "kill",
        "getppid",
        "rt_sigprocmask",
    ];
    FILTERABLE
        .iter()
        .position(|&n| n == nr)
        .map_or("?", |i| NAMES[i])
}

/// Seccomp filters per sequence at most.
pub const MAX_FILTERS: usize = 3;

/// The calls a filter may refuse: those the sequences make. Never the
/// ones both twins need to keep running the same way outside the
/// sequence (mmap, munmap, brk for the allocator, rt_sigreturn for signal
/// handlers, exit_group, anycall itself), nor `write` to [`REPORT_FD`].
pub const FILTERABLE: [i64; 20] = [
    libc::SYS_openat,
    libc::SYS_read,
    libc::SYS_write,
    libc::SYS_pread64,
    libc::SYS_pwrite64,
    libc::SYS_lseek,
    libc::SYS_fstat,
    libc::SYS_newfstatat,
    libc::SYS_ftruncate,
    libc::SYS_close,
    libc::SYS_dup,
    libc::SYS_unlinkat,
    libc::SYS_mkdirat,
    libc::SYS_pipe2,
    libc::SYS_socketpair,
    libc::SYS_sendto,
    libc::SYS_recvfrom,
    libc::SYS_kill,
    libc::SYS_getppid,
    libc::SYS_rt_sigprocmask,
];

/// Numbers that are no system call of x86_64, and one whose upper 32
/// bits are set (a direct call ignores them: entry_64.S takes `%eax`).
pub const BAD_NRS: [i64; 8] = [
    -1,
    463,
    500,
    510,
    512,
    1000,
    0x4000_0000 + libc::SYS_getppid, // x32's getppid
    HIGH_NR,
];

/// A number whose upper 32 bits are set: a direct call runs getppid
/// (the entry code takes `%eax` only), `anycall()` gives `-ENOSYS`.
pub const HIGH_NR: i64 = (1 << 32) + libc::SYS_getppid;

/// Differences the fuzzer found and reported, which the sequences leave
/// out unless asked (`--known`), so that they do not hide others: what
/// each is, and the number that shows it.
pub const KNOWN: [(&str, i64); 1] = [(
    "a system call number with any of its upper 32 bits set runs as its low 32 bits \
     directly (syscall(0x10000006e) is getppid), but is refused with ENOSYS inside \
     anycall(), in chains and batches alike (--seed 0x2 --first 8 --iterations 1 --known \
     shows it)",
    HIGH_NR,
)];

/// `seq` without the operations that show a [`KNOWN`] difference: each
/// becomes a call of a number that is none (the rest of the sequence,
/// and so its replay, stays the same).
pub fn without_known(seq: &mut Sequence) {
    for op in &mut seq.ops {
        if let Op::BadNr { nr } = op {
            if KNOWN.iter().any(|(_, k)| k == nr) {
                *nr = 1000;
            }
        }
    }
}

// ---------------------------------------------------------------------
// Operations as system calls.

/// An argument of a call, before a twin gives it its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgSpec {
    C(u64),
    Fd(Fd),
    /// The address of the call's buffer `j`.
    Ptr(usize),
    /// The length of its buffer `j`.
    Len(usize),
    /// The address of [`PATHS`]`[i]` as a C string.
    Path(u8),
    /// The twin's pid.
    Pid,
    /// The address of the operation's `struct sock_fprog`.
    Fprog,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BufKind {
    /// Read by the call: not reported.
    In,
    /// Written by the call: reported byte for byte.
    Out,
    /// A `struct stat`: reported without the fields two twins cannot share
    /// (inode numbers, times).
    Stat,
    /// Two `int` fds (`pipe2`, `socketpair`).
    Fds,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BufSpec {
    pub kind: BufKind,
    /// Its contents before the call (its length is the buffer's).
    pub init: Vec<u8>,
}

/// One operation as a system call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallSpec {
    pub nr: i64,
    pub args: Vec<ArgSpec>,
    pub bufs: Vec<BufSpec>,
}

pub const STAT_SIZE: usize = std::mem::size_of::<libc::stat>();

/// What an output buffer of operation `op` holds before its call: a
/// pattern, so that a stray write shows.
pub fn pattern(op: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (0xa5u8 ^ (op as u8).wrapping_mul(29)).wrapping_add((i as u8).wrapping_mul(7)))
        .collect()
}

fn c(v: impl Into<i64>) -> ArgSpec {
    ArgSpec::C(v.into() as u64)
}

fn out(op: usize, buf: &Buf, bufs: &mut Vec<BufSpec>) -> [ArgSpec; 2] {
    match buf {
        Buf::Heap(n) => {
            bufs.push(BufSpec {
                kind: BufKind::Out,
                init: pattern(op, *n),
            });
            [ArgSpec::Ptr(bufs.len() - 1), ArgSpec::Len(bufs.len() - 1)]
        }
        Buf::Region { region, off, len } => [
            ArgSpec::C(region_addr(*region, *off as u64)),
            c(*len as i64),
        ],
    }
}

fn input(data: &Data, bufs: &mut Vec<BufSpec>) -> [ArgSpec; 2] {
    match data {
        Data::Heap(d) => {
            bufs.push(BufSpec {
                kind: BufKind::In,
                init: d.clone(),
            });
            [ArgSpec::Ptr(bufs.len() - 1), ArgSpec::Len(bufs.len() - 1)]
        }
        Data::Region { region, off, len } => [
            ArgSpec::C(region_addr(*region, *off as u64)),
            c(*len as i64),
        ],
    }
}

fn stat_buf(op: usize, bufs: &mut Vec<BufSpec>) -> ArgSpec {
    bufs.push(BufSpec {
        kind: BufKind::Stat,
        init: pattern(op, STAT_SIZE),
    });
    ArgSpec::Ptr(bufs.len() - 1)
}

/// Operation `i` as a system call; `None` for [`Op::ReadFile`], which is
/// a program of its own.
pub fn spec(i: usize, op: &Op) -> Option<CallSpec> {
    use ArgSpec::{Fd as F, Path as P};
    let mut bufs = Vec::new();
    let (nr, args) = match op {
        Op::Openat {
            dir,
            path,
            flags,
            mode,
        } => (
            libc::SYS_openat,
            vec![F(*dir), P(*path), c(*flags), c(*mode)],
        ),
        Op::Read { fd, buf } => {
            let [p, l] = out(i, buf, &mut bufs);
            (libc::SYS_read, vec![F(*fd), p, l])
        }
        Op::Write { fd, data } => {
            let [p, l] = input(data, &mut bufs);
            (libc::SYS_write, vec![F(*fd), p, l])
        }
        Op::Pread { fd, buf, off } => {
            let [p, l] = out(i, buf, &mut bufs);
            (libc::SYS_pread64, vec![F(*fd), p, l, c(*off)])
        }
        Op::Pwrite { fd, data, off } => {
            let [p, l] = input(data, &mut bufs);
            (libc::SYS_pwrite64, vec![F(*fd), p, l, c(*off)])
        }
        Op::Lseek { fd, off, whence } => (libc::SYS_lseek, vec![F(*fd), c(*off), c(*whence)]),
        Op::Fstat { fd } => (libc::SYS_fstat, vec![F(*fd), stat_buf(i, &mut bufs)]),
        Op::Newfstatat { dir, path, flags } => {
            let st = stat_buf(i, &mut bufs);
            (libc::SYS_newfstatat, vec![F(*dir), P(*path), st, c(*flags)])
        }
        Op::Ftruncate { fd, len } => (libc::SYS_ftruncate, vec![F(*fd), c(*len)]),
        Op::Close { fd } => (libc::SYS_close, vec![F(*fd)]),
        Op::Dup { fd } => (libc::SYS_dup, vec![F(*fd)]),
        Op::Unlinkat { dir, path, flags } => {
            (libc::SYS_unlinkat, vec![F(*dir), P(*path), c(*flags)])
        }
        Op::Mkdirat { dir, path, mode } => (libc::SYS_mkdirat, vec![F(*dir), P(*path), c(*mode)]),
        Op::Pipe2 { flags } => {
            bufs.push(BufSpec {
                kind: BufKind::Fds,
                init: vec![0xff; 8],
            });
            (libc::SYS_pipe2, vec![ArgSpec::Ptr(0), c(*flags)])
        }
        Op::Socketpair { ty } => {
            bufs.push(BufSpec {
                kind: BufKind::Fds,
                init: vec![0xff; 8],
            });
            (
                libc::SYS_socketpair,
                vec![c(libc::AF_UNIX), c(*ty), c(0), ArgSpec::Ptr(0)],
            )
        }
        Op::Send { fd, data, flags } => {
            let [p, l] = input(data, &mut bufs);
            (libc::SYS_sendto, vec![F(*fd), p, l, c(*flags), c(0), c(0)])
        }
        Op::Recv { fd, buf, flags } => {
            let [p, l] = out(i, buf, &mut bufs);
            (
                libc::SYS_recvfrom,
                vec![F(*fd), p, l, c(*flags), c(0), c(0)],
            )
        }
        Op::Mmap {
            region,
            page,
            pages,
            prot,
        } => (
            libc::SYS_mmap,
            vec![
                ArgSpec::C(region_addr(*region, *page as u64 * PAGE)),
                ArgSpec::C(*pages as u64 * PAGE),
                c(*prot),
                c(libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE),
                c(-1),
                c(0),
            ],
        ),
        Op::Munmap {
            region,
            page,
            pages,
            skew,
        } => (
            libc::SYS_munmap,
            vec![
                ArgSpec::C(region_addr(*region, *page as u64 * PAGE + *skew as u64)),
                ArgSpec::C(*pages as u64 * PAGE),
            ],
        ),
        Op::Kill { target, sig } => {
            let pid = match target {
                Target::Own => ArgSpec::Pid,
                Target::Group => c(0),
                Target::Init => c(1),
                Target::Nobody => c(0x3fff_fff0),
            };
            (libc::SYS_kill, vec![pid, c(*sig)])
        }
        Op::Sigmask { how, set } => {
            let set_arg = match set {
                Some(mask) => {
                    bufs.push(BufSpec {
                        kind: BufKind::In,
                        init: mask.to_ne_bytes().to_vec(),
                    });
                    ArgSpec::Ptr(0)
                }
                None => c(0),
            };
            bufs.push(BufSpec {
                kind: BufKind::Out,
                init: pattern(i, 8),
            });
            let old = ArgSpec::Ptr(bufs.len() - 1);
            (libc::SYS_rt_sigprocmask, vec![c(*how), set_arg, old, c(8)])
        }
        Op::Seccomp { flags, .. } => (
            libc::SYS_seccomp,
            vec![
                c(libc::SECCOMP_SET_MODE_FILTER as i64),
                c(*flags as i64),
                ArgSpec::Fprog,
            ],
        ),
        Op::Getppid => (libc::SYS_getppid, vec![]),
        Op::BadNr { nr } => (*nr, vec![]),
        Op::ReadFile { .. } => return None,
    };
    Some(CallSpec { nr, args, bufs })
}

// ---------------------------------------------------------------------
// Generation.

/// Streams of [`derive()`]: sequences and verifier programs draw from
/// separate ones.
pub const STREAM_SEQUENCE: u64 = 1;

/// The `index`-th sequence of `seed`.
pub fn sequence(seed: u64, index: u64) -> Sequence {
    let mut r = Rng::new(derive(seed, STREAM_SEQUENCE, index));
    let setup = setup(&mut r);
    let mut g = Gen {
        r,
        ops: Vec::new(),
        raw: Vec::new(),
        segments: Vec::new(),
        filters: 0,
    };
    let nseg = 1 + g.r.index(4);
    for s in 0..nseg {
        let start = g.ops.len();
        if g.r.chance(1, 8) {
            let path = g.path();
            let size = g.r.pick(&[0u16, 1, 10, 64, 200, 4096]);
            g.ops.push(Op::ReadFile { path, size });
            g.raw.push(false);
            g.segments.push(Segment {
                start,
                end: start + 1,
                via: Via::Program,
                stop_on_error: false,
            });
            continue;
        }
        // Chains and batches alternate, the first one changing with the
        // sequence.
        let via = if (index as usize + s).is_multiple_of(2) {
            Via::Chain
        } else {
            Via::Batch
        };
        let len = 1 + g.r.index(10);
        for _ in 0..len {
            let op = g.op(start);
            g.ops.push(op);
            let raw = g.r.chance(1, 4);
            g.raw.push(raw);
        }
        let stop_on_error = g.r.chance(1, 5);
        g.segments.push(Segment {
            start,
            end: g.ops.len(),
            via,
            stop_on_error,
        });
    }
    aim_filters(&mut g.r, &mut g.ops);
    Sequence {
        seed,
        index,
        setup,
        ops: g.ops,
        raw: g.raw,
        segments: g.segments,
    }
}

/// Points most filters at a call that comes after them (and at one of
/// its constant arguments), so that they refuse something.
fn aim_filters(r: &mut Rng, ops: &mut [Op]) {
    for i in 0..ops.len() {
        if !matches!(ops[i], Op::Seccomp { .. }) || r.chance(1, 4) {
            continue;
        }
        let later: Vec<CallSpec> = ops[i + 1..]
            .iter()
            .enumerate()
            .flat_map(|(k, op)| match op {
                // The C program's calls.
                Op::ReadFile { .. } => [libc::SYS_openat, libc::SYS_read, libc::SYS_close]
                    .iter()
                    .map(|&nr| CallSpec {
                        nr,
                        args: vec![],
                        bufs: vec![],
                    })
                    .collect(),
                op => spec(i + 1 + k, op).into_iter().collect::<Vec<_>>(),
            })
            .filter(|s| FILTERABLE.contains(&s.nr))
            .collect();
        if later.is_empty() {
            continue;
        }
        let target = &later[r.index(later.len())];
        let consts: Vec<(u8, u32)> = target
            .args
            .iter()
            .enumerate()
            .filter_map(|(j, a)| match a {
                ArgSpec::C(v) if j < 6 => Some((j as u8, *v as u32)),
                _ => None,
            })
            .collect();
        if let Op::Seccomp { filter, .. } = &mut ops[i] {
            filter.nr = target.nr;
            filter.arg = if !consts.is_empty() && r.chance(1, 2) {
                Some(consts[r.index(consts.len())])
            } else {
                None
            };
        }
    }
}

fn setup(r: &mut Rng) -> Setup {
    let umask = r.pick(&[0o022, 0o022, 0o077, 0o002, 0]);
    let file_mode = [0o644, 0o600, 0o400, 0o000, 0o666, 0o755];
    let mut entries = Vec::new();
    for path in ["a", "b"] {
        if r.chance(2, 3) {
            let n = r.pick(&[0usize, 1, 10, 100, 300]);
            entries.push(Entry {
                path,
                data: Some(r.bytes(n)),
                mode: r.pick(&file_mode),
            });
        }
    }
    if r.chance(2, 3) {
        entries.push(Entry {
            path: "d",
            data: None,
            mode: r.pick(&[0o755, 0o755, 0o700, 0o555]),
        });
        if r.chance(1, 2) {
            let n = r.pick(&[0usize, 5, 50]);
            entries.push(Entry {
                path: "d/a",
                data: Some(r.bytes(n)),
                mode: r.pick(&file_mode),
            });
        }
    }
    Setup { umask, entries }
}

struct Gen {
    r: Rng,
    ops: Vec<Op>,
    raw: Vec<bool>,
    segments: Vec<Segment>,
    filters: usize,
}

/// How an fd argument is best chosen.
#[derive(Clone, Copy, PartialEq)]
enum Want {
    File,
    Socket,
    Any,
}

impl Gen {
    fn path(&mut self) -> u8 {
        self.r.weighted(&[5, 3, 2, 3, 3, 2, 1, 1, 1, 1, 1]) as u8
    }

    fn fd(&mut self, seg_start: usize, want: Want) -> Fd {
        let res: Vec<usize> = (0..self.ops.len())
            .filter(|&k| self.ops[k].opens())
            .collect();
        let pairs: Vec<usize> = (0..seg_start)
            .filter(|&k| match self.ops[k] {
                Op::Socketpair { .. } => true,
                Op::Pipe2 { .. } => want != Want::Socket,
                _ => false,
            })
            .collect();
        let w_res = if res.is_empty() {
            0
        } else if want == Want::Socket {
            2
        } else {
            10
        };
        let w_pair = if pairs.is_empty() {
            0
        } else if want == Want::Socket {
            12
        } else {
            5
        };
        match self.r.weighted(&[w_res, w_pair, 1, 1]) {
            0 => {
                // Mostly a recent one.
                let k = if self.r.chance(2, 3) {
                    res[res.len() - 1 - self.r.index(res.len().min(3))]
                } else {
                    self.r.pick(&res)
                };
                Fd::Res(k)
            }
            1 => Fd::Pair(self.r.pick(&pairs), self.r.below(2) as u8),
            2 => Fd::Dir,
            _ => Fd::Bad(self.r.pick(&[-1, 9999, -100])),
        }
    }

    fn dir(&mut self) -> Fd {
        let dirs: Vec<usize> = (0..self.ops.len())
            .filter(|&k| match &self.ops[k] {
                Op::Openat { path, flags, .. } => {
                    flags & libc::O_DIRECTORY != 0 || PATHS[*path as usize] == "d"
                }
                _ => false,
            })
            .collect();
        let w_res = if dirs.is_empty() { 0 } else { 3 };
        match self.r.weighted(&[4, 4, w_res, 1]) {
            0 => Fd::Cwd,
            1 => Fd::Dir,
            2 => Fd::Res(self.r.pick(&dirs)),
            _ => Fd::Bad(self.r.pick(&[-1, 9999])),
        }
    }

    fn buf(&mut self) -> Buf {
        if self.r.chance(3, 4) {
            let n = if self.r.chance(1, 2) {
                self.r.pick(&[0usize, 1, 7, 16, 64, 100, 256, 300])
            } else {
                self.r.index(301)
            };
            Buf::Heap(n)
        } else {
            let (region, off, len) = self.region_span();
            Buf::Region { region, off, len }
        }
    }

    fn data(&mut self) -> Data {
        if self.r.chance(3, 4) {
            let n = self.r.pick(&[0usize, 1, 5, 20, 64, 120]);
            Data::Heap(self.r.bytes(n))
        } else {
            let (region, off, len) = self.region_span();
            Data::Region { region, off, len }
        }
    }

    fn region_span(&mut self) -> (u8, u32, u32) {
        let region = self.r.below(REGIONS as u64) as u8;
        let off = self
            .r
            .pick(&[0u32, 1, 100, 4095, 4096, 8191, 12288, 16380, 16384]);
        let len = self.r.pick(&[0u32, 1, 16, 100, 4096, 5000, 8192]);
        (region, off, len)
    }

    fn op(&mut self, seg_start: usize) -> Op {
        let seccomp = if self.filters < MAX_FILTERS { 2 } else { 0 };
        let weights = [
            10, 6, 6, 3, 3, 3, 3, 3, 2, 5, 2, 2, 2, 3, 2, 3, 3, 3, 2, 3, 2, seccomp, 1, 1,
        ];
        // Until something made an fd, mostly make one.
        let made_fd = self.ops.iter().any(|o| o.opens() || o.pairs());
        let mut kind = self.r.weighted(&weights);
        if !made_fd && self.r.chance(3, 4) {
            kind = self.r.pick(&[0, 0, 0, 13, 14]);
        }
        // A signal raised directly is delivered when its call returns,
        // one raised inside anycall() when the anycall() returns: blocking
        // it in between leaves it pending in one twin only. That is how
        // signals work, not a difference to report: no rt_sigprocmask
        // after a kill(SIGUSR1) of the same segment.
        if kind == 20 && self.ops[seg_start..].iter().any(raises_usr1) {
            kind = 22;
        }
        let r = &mut self.r;
        match kind {
            0 => {
                let dir = self.dir();
                let path = self.path();
                let r = &mut self.r;
                let mut flags =
                    r.pick(&[libc::O_RDONLY, libc::O_WRONLY, libc::O_RDWR, libc::O_RDWR]);
                for (num, den, f) in [
                    (2, 3, libc::O_CREAT),
                    (1, 6, libc::O_EXCL),
                    (1, 6, libc::O_TRUNC),
                    (1, 6, libc::O_APPEND),
                    (1, 10, libc::O_DIRECTORY),
                    (1, 3, libc::O_CLOEXEC),
                    (1, 8, libc::O_NONBLOCK),
                    (1, 20, libc::O_NOFOLLOW),
                    (1, 25, libc::O_PATH),
                    (1, 40, libc::O_TMPFILE),
                ] {
                    if r.chance(num, den) {
                        flags |= f;
                    }
                }
                let mode = r.pick(&[0o644, 0o644, 0o600, 0o400, 0o000, 0o777, 0o4755, 0o1777]);
                Op::Openat {
                    dir,
                    path,
                    flags,
                    mode,
                }
            }
            1 => Op::Read {
                fd: self.fd(seg_start, Want::File),
                buf: self.buf(),
            },
            2 => Op::Write {
                fd: self.fd(seg_start, Want::File),
                data: self.data(),
            },
            3 => Op::Pread {
                fd: self.fd(seg_start, Want::File),
                buf: self.buf(),
                off: self.offset(),
            },
            4 => Op::Pwrite {
                fd: self.fd(seg_start, Want::File),
                data: self.data(),
                off: self.offset(),
            },
            5 => {
                let fd = self.fd(seg_start, Want::File);
                let r = &mut self.r;
                let off = r.pick(&[0i64, 1, -1, 10, 100, -100, 5000, i64::MAX]);
                let whence = r.pick(&[0, 0, 1, 2, libc::SEEK_DATA, libc::SEEK_HOLE, 9]);
                Op::Lseek { fd, off, whence }
            }
            6 => Op::Fstat {
                fd: self.fd(seg_start, Want::Any),
            },
            7 => {
                let dir = self.dir();
                let path = self.path();
                let flags =
                    self.r
                        .pick(&[0, 0, libc::AT_SYMLINK_NOFOLLOW, libc::AT_EMPTY_PATH, 0xdead]);
                Op::Newfstatat { dir, path, flags }
            }
            8 => Op::Ftruncate {
                fd: self.fd(seg_start, Want::File),
                len: self.r.pick(&[0i64, 1, 10, 100, 4096, 70000, -1]),
            },
            // Never the scratch directory's fd: it must stay open.
            9 => Op::Close {
                fd: match self.fd(seg_start, Want::Any) {
                    Fd::Dir => Fd::Bad(-1),
                    fd => fd,
                },
            },
            10 => Op::Dup {
                fd: self.fd(seg_start, Want::Any),
            },
            11 => {
                let dir = self.dir();
                let path = self.path();
                let flags = self.r.pick(&[0, 0, libc::AT_REMOVEDIR, 0x1234]);
                Op::Unlinkat { dir, path, flags }
            }
            12 => {
                let dir = self.dir();
                let path = self.path();
                let mode = self.r.pick(&[0o755, 0o755, 0o700, 0o555, 0o000, 0o1777]);
                Op::Mkdirat { dir, path, mode }
            }
            // Never blocking: a twin with a signal pending must not wait.
            13 => Op::Pipe2 {
                flags: libc::O_NONBLOCK | r.pick(&[0, 0, libc::O_CLOEXEC, libc::O_DIRECT]),
            },
            14 => {
                let ty = r.pick(&[libc::SOCK_STREAM, libc::SOCK_DGRAM, libc::SOCK_SEQPACKET]);
                let cloexec = if r.chance(1, 3) {
                    libc::SOCK_CLOEXEC
                } else {
                    0
                };
                Op::Socketpair {
                    ty: ty | libc::SOCK_NONBLOCK | cloexec,
                }
            }
            15 => {
                let fd = self.fd(seg_start, Want::Socket);
                let data = self.data();
                let extra = if self.r.chance(1, 15) {
                    libc::MSG_OOB
                } else {
                    0
                };
                Op::Send {
                    fd,
                    data,
                    flags: libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL | extra,
                }
            }
            16 => {
                let fd = self.fd(seg_start, Want::Socket);
                let buf = self.buf();
                let extra =
                    self.r
                        .pick(&[0, 0, libc::MSG_PEEK, libc::MSG_TRUNC, libc::MSG_WAITALL]);
                Op::Recv {
                    fd,
                    buf,
                    flags: libc::MSG_DONTWAIT | extra,
                }
            }
            17 => {
                let region = r.below(REGIONS as u64) as u8;
                let page = r.below(REGION_PAGES as u64) as u8;
                let pages = 1 + r.below((REGION_PAGES - page) as u64) as u8;
                let prot = r.pick(&[
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::PROT_READ,
                ]);
                Op::Mmap {
                    region,
                    page,
                    pages,
                    prot,
                }
            }
            18 => Op::Munmap {
                region: r.below(REGIONS as u64) as u8,
                page: r.below(REGION_PAGES as u64) as u8,
                pages: 1 + r.below(REGION_PAGES as u64) as u8,
                skew: if r.chance(1, 10) { 1 } else { 0 },
            },
            19 => {
                let target = [Target::Own, Target::Group, Target::Init, Target::Nobody]
                    [r.weighted(&[6, 2, 1, 1])];
                let sig = r.pick(&[
                    libc::SIGUSR1,
                    libc::SIGUSR1,
                    SIG_RT,
                    libc::SIGUSR2,
                    0,
                    libc::SIGPIPE,
                ]);
                Op::Kill { target, sig }
            }
            20 => {
                let how = r.pick(&[libc::SIG_BLOCK, libc::SIG_UNBLOCK, libc::SIG_SETMASK, 7]);
                let set = match r.weighted(&[3, 1, 1]) {
                    0 => Some(SIGMASK_USR1),
                    1 => Some(0),
                    _ => None,
                };
                Op::Sigmask { how, set }
            }
            21 => {
                self.filters += 1;
                let filter = self.filter();
                let flags = self.r.pick(&[
                    0,
                    0,
                    libc::SECCOMP_FILTER_FLAG_LOG as u32,
                    libc::SECCOMP_FILTER_FLAG_TSYNC as u32,
                ]);
                Op::Seccomp { filter, flags }
            }
            22 => Op::Getppid,
            _ => Op::BadNr {
                nr: r.pick(&BAD_NRS),
            },
        }
    }

    fn offset(&mut self) -> i64 {
        if self.r.chance(1, 2) {
            self.r.pick(&[0i64, 1, 5, 50, 100, 4096, -1])
        } else {
            self.r.range(0, 200)
        }
    }

    fn filter(&mut self) -> Filter {
        let r = &mut self.r;
        let nr = r.pick(&FILTERABLE);
        let arg = if r.chance(1, 2) {
            let idx = r.below(3) as u8;
            let val = if idx == 0 {
                r.range(3, 12) as u32
            } else {
                r.pick(&[0u32, 1, 8, 100, libc::O_RDWR as u32])
            };
            Some((idx, val))
        } else {
            None
        };
        let action = if r.chance(1, 6) {
            Action::Kill
        } else {
            Action::Errno(r.pick(&[
                libc::EPERM,
                libc::EPERM,
                libc::EACCES,
                libc::EINVAL,
                libc::ENOSPC,
                libc::ENOSYS,
                0,
            ]) as u16)
        };
        Filter { nr, arg, action }
    }
}

// ---------------------------------------------------------------------
// Printing.

impl fmt::Display for Fd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fd::Res(k) => write!(f, "${k}"),
            Fd::Pair(k, e) => write!(f, "${k}[{e}]"),
            Fd::Dir => write!(f, "dirfd"),
            Fd::Cwd => write!(f, "AT_FDCWD"),
            Fd::Bad(n) => write!(f, "{n}"),
        }
    }
}

fn fmt_buf(b: &Buf) -> String {
    match b {
        Buf::Heap(n) => format!("buf[{n}]"),
        Buf::Region { region, off, len } => format!("region{region}+{off}[{len}]"),
    }
}

fn fmt_data(d: &Data) -> String {
    match d {
        Data::Heap(v) => format!("data[{}]", v.len()),
        Data::Region { region, off, len } => format!("region{region}+{off}[{len}]"),
    }
}

fn path(p: u8) -> String {
    format!("{:?}", PATHS[p as usize])
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.name();
        match self {
            Op::Openat {
                dir,
                path: p,
                flags,
                mode,
            } => write!(f, "{n}({dir}, {}, {flags:#x}, {mode:#o})", path(*p)),
            Op::Read { fd, buf } | Op::Recv { fd, buf, .. } => {
                write!(f, "{n}({fd}, {}", fmt_buf(buf))?;
                if let Op::Recv { flags, .. } = self {
                    write!(f, ", {flags:#x}")?;
                }
                write!(f, ")")
            }
            Op::Write { fd, data } => write!(f, "{n}({fd}, {})", fmt_data(data)),
            Op::Send { fd, data, flags } => write!(f, "{n}({fd}, {}, {flags:#x})", fmt_data(data)),
            Op::Pread { fd, buf, off } => write!(f, "{n}({fd}, {}, {off})", fmt_buf(buf)),
            Op::Pwrite { fd, data, off } => write!(f, "{n}({fd}, {}, {off})", fmt_data(data)),
            Op::Lseek { fd, off, whence } => write!(f, "{n}({fd}, {off}, {whence})"),
            Op::Fstat { fd } | Op::Close { fd } | Op::Dup { fd } => write!(f, "{n}({fd})"),
            Op::Newfstatat {
                dir,
                path: p,
                flags,
            } => write!(f, "{n}({dir}, {}, &st, {flags:#x})", path(*p)),
            Op::Ftruncate { fd, len } => write!(f, "{n}({fd}, {len})"),
            Op::Unlinkat {
                dir,
                path: p,
                flags,
            } => write!(f, "{n}({dir}, {}, {flags:#x})", path(*p)),
            Op::Mkdirat { dir, path: p, mode } => write!(f, "{n}({dir}, {}, {mode:#o})", path(*p)),
            Op::Pipe2 { flags } => write!(f, "{n}(fds, {flags:#x})"),
            Op::Socketpair { ty } => write!(f, "{n}(AF_UNIX, {ty:#x}, 0, fds)"),
            Op::Mmap {
                region,
                page,
                pages,
                prot,
            } => write!(
                f,
                "{n}(region{region}+{}, {} pages, prot {prot}, MAP_FIXED_NOREPLACE)",
                *page as u64 * PAGE,
                pages
            ),
            Op::Munmap {
                region,
                page,
                pages,
                skew,
            } => write!(
                f,
                "{n}(region{region}+{}, {} pages)",
                *page as u64 * PAGE + *skew as u64,
                pages
            ),
            Op::Kill { target, sig } => write!(f, "{n}({target:?}, {sig})"),
            Op::Sigmask { how, set } => match set {
                Some(s) => write!(f, "{n}({how}, {{{s:#x}}}, &old, 8)"),
                None => write!(f, "{n}({how}, NULL, &old, 8)"),
            },
            Op::Seccomp { filter, flags } => {
                let action = match filter.action {
                    Action::Errno(e) => format!("ERRNO({e})"),
                    Action::Kill => "KILL_PROCESS".into(),
                };
                write!(
                    f,
                    "{n}(SET_MODE_FILTER, {flags:#x}, {action} for {} ({})",
                    nr_name(filter.nr),
                    filter.nr
                )?;
                if let Some((a, v)) = filter.arg {
                    write!(f, " when arg{a} == {v}")?;
                }
                write!(f, ")")
            }
            Op::Getppid => write!(f, "{n}()"),
            Op::BadNr { nr } => write!(f, "syscall({nr:#x})"),
            Op::ReadFile { path: p, size } => write!(f, "{n}({}, buf[{size}])", path(*p)),
        }
    }
}

impl fmt::Display for Sequence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "sequence {} of seed {:#x}: umask {:#o}",
            self.index, self.seed, self.setup.umask
        )?;
        for e in &self.setup.entries {
            match &e.data {
                Some(d) => writeln!(f, "  file {} mode {:#o}, {} bytes", e.path, e.mode, d.len())?,
                None => writeln!(f, "  dir  {} mode {:#o}", e.path, e.mode)?,
            }
        }
        for (s, seg) in self.segments.iter().enumerate() {
            let stop = if seg.stop_on_error {
                ", stop on error"
            } else {
                ""
            };
            writeln!(f, "  segment {s} ({:?}{stop}):", seg.via)?;
            for i in seg.start..seg.end {
                let raw = if self.raw[i] { "  [raw]" } else { "" };
                writeln!(f, "    {i:3}: {}{raw}", self.ops[i])?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        for i in 0..50 {
            assert_eq!(sequence(7, i), sequence(7, i));
        }
        assert_ne!(sequence(7, 0), sequence(8, 0));
    }

    #[test]
    fn generated_sequences_keep_their_promises() {
        for seed in 0..4 {
            for i in 0..500 {
                let s = sequence(seed, i);
                s.check().unwrap_or_else(|e| panic!("{e}\n{s}"));
                assert!(!s.ops.is_empty() && s.ops.len() <= 40);
            }
        }
    }

    #[test]
    fn every_operation_kind_comes_up() {
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..300 {
            for op in sequence(3, i).ops {
                seen.insert(op.name());
            }
        }
        assert_eq!(seen.len(), 25, "{seen:?}");
    }

    #[test]
    fn operations_become_the_calls_they_name() {
        let op = Op::Read {
            fd: Fd::Res(0),
            buf: Buf::Heap(10),
        };
        let s = spec(1, &op).unwrap();
        assert_eq!(s.nr, libc::SYS_read);
        assert_eq!(
            s.args,
            vec![ArgSpec::Fd(Fd::Res(0)), ArgSpec::Ptr(0), ArgSpec::Len(0)]
        );
        assert_eq!(s.bufs[0].init, pattern(1, 10));
        let op = Op::Pwrite {
            fd: Fd::Dir,
            data: Data::Region {
                region: 2,
                off: 5,
                len: 7,
            },
            off: -1,
        };
        let s = spec(0, &op).unwrap();
        assert_eq!(
            s.args,
            vec![
                ArgSpec::Fd(Fd::Dir),
                ArgSpec::C(REGION_BASE + 2 * REGION_STRIDE + 5),
                ArgSpec::C(7),
                ArgSpec::C(u64::MAX)
            ]
        );
        assert!(s.bufs.is_empty());
        let s = spec(
            3,
            &Op::Sigmask {
                how: libc::SIG_BLOCK,
                set: None,
            },
        )
        .unwrap();
        assert_eq!(s.args[1], ArgSpec::C(0));
        assert_eq!(s.args[2], ArgSpec::Ptr(0));
        assert_eq!(spec(0, &Op::ReadFile { path: 0, size: 1 }), None);
    }

    #[test]
    fn regions_do_not_overlap_and_stay_low() {
        let end = region_addr(REGIONS, 0);
        assert!(REGION_PAGES as u64 * PAGE < REGION_STRIDE);
        assert!(end < 0x7000_0000_0000);
    }

    #[test]
    fn printing_names_every_operation() {
        let s = sequence(1, 2);
        let text = s.to_string();
        for op in &s.ops {
            let name = match op {
                Op::BadNr { .. } => "syscall(",
                op => op.name(),
            };
            assert!(text.contains(name), "{text}");
        }
    }
}
