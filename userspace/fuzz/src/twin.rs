//! The twins: two processes forked from the same state, one issuing a
//! sequence directly ([`crate::direct`]), the other through `anycall()`
//! ([`crate::via`]), each reporting what it saw through a pipe.

use crate::gen::{
    self, BufKind, Op, Sequence, DIRFD, PAGE, REGIONS, REGION_BASE, REGION_PAGES, REGION_STRIDE,
    REPORT_FD, SETUP_ERR_FD, SIG_RT,
};
use crate::observe::{self, Obs};
use crate::seccomp::{SockFilter, SockFprog};
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The unprivileged user and group the twins run as.
pub const NOBODY: u32 = 65534;

/// Which twin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Direct,
    Anycall,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Direct => "direct",
            Kind::Anycall => "anycall",
        }
    }

    /// The scratch directory's name: as long as the other's, so that the
    /// paths both twins pass are the same length.
    fn dir(self) -> &'static str {
        match self {
            Kind::Direct => "t0",
            Kind::Anycall => "t1",
        }
    }
}

/// A buffer of a call, 8-byte aligned (so that it can hold a `struct
/// stat`), with its length in bytes.
pub struct Buffer {
    words: Vec<u64>,
    len: usize,
}

impl Buffer {
    pub fn new(init: &[u8]) -> Self {
        let mut b = Buffer {
            words: vec![0; init.len().div_ceil(8)],
            len: init.len(),
        };
        b.bytes_mut().copy_from_slice(init);
        b
    }

    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `words` holds at least `len` initialized bytes.
        unsafe { std::slice::from_raw_parts(self.words.as_ptr().cast(), self.len) }
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as above, and `self` is borrowed mutably.
        unsafe { std::slice::from_raw_parts_mut(self.words.as_mut_ptr().cast(), self.len) }
    }

    pub fn addr(&mut self) -> u64 {
        self.words.as_mut_ptr() as u64
    }

    /// The buffer as a `struct stat` (it must be one's size).
    pub fn stat_mut(&mut self) -> &mut libc::stat {
        assert_eq!(self.len, gen::STAT_SIZE);
        // SAFETY: the storage is 8-byte aligned (as `struct stat` is),
        // holds `size_of::<stat>()` initialized bytes, and every byte
        // pattern is a valid `struct stat` (integers only).
        unsafe { &mut *self.words.as_mut_ptr().cast::<libc::stat>() }
    }

    pub fn stat(&self) -> libc::stat {
        assert_eq!(self.len, gen::STAT_SIZE);
        // SAFETY: as for `stat_mut`; this reads a copy.
        unsafe { self.words.as_ptr().cast::<libc::stat>().read() }
    }

    /// The `int` at index `i`.
    pub fn int(&self, i: usize) -> i32 {
        i32::from_ne_bytes(self.bytes()[4 * i..4 * i + 4].try_into().unwrap())
    }
}

/// The buffers of every operation of `seq`, as its calls start them.
pub fn buffers(seq: &Sequence) -> Vec<Vec<Buffer>> {
    seq.ops
        .iter()
        .enumerate()
        .map(|(i, op)| match (gen::spec(i, op), op) {
            (Some(s), _) => s.bufs.iter().map(|b| Buffer::new(&b.init)).collect(),
            (None, Op::ReadFile { size, .. }) => {
                vec![Buffer::new(&gen::pattern(i, *size as usize))]
            }
            (None, _) => unreachable!("only read_file has no call spec"),
        })
        .collect()
}

/// The filter programs of the sequence's seccomp operations, and the
/// `sock_fprog` pointing at each (kept together so the pointers stay valid).
pub struct Filters {
    progs: Vec<Vec<SockFilter>>,
    fprogs: Vec<SockFprog>,
    /// Index into `fprogs` per operation.
    of_op: Vec<Option<usize>>,
}

impl Filters {
    pub fn new(seq: &Sequence) -> Box<Filters> {
        let mut f = Box::new(Filters {
            progs: Vec::new(),
            fprogs: Vec::new(),
            of_op: vec![None; seq.ops.len()],
        });
        for (i, op) in seq.ops.iter().enumerate() {
            if let Op::Seccomp { filter, .. } = op {
                f.of_op[i] = Some(f.progs.len());
                f.progs.push(crate::seccomp::program(filter));
            }
        }
        let fprogs = f
            .progs
            .iter()
            .map(|p| SockFprog {
                len: p.len() as u16,
                _pad: [0; 3],
                filter: p.as_ptr(),
            })
            .collect();
        f.fprogs = fprogs;
        f
    }

    /// The `sock_fprog` of operation `i`.
    pub fn fprog(&self, i: usize) -> &SockFprog {
        &self.fprogs[self.of_op[i].expect("a seccomp operation")]
    }
}

/// [`gen::PATHS`] as C strings.
pub fn paths() -> Vec<CString> {
    gen::PATHS
        .iter()
        .map(|p| CString::new(*p).unwrap())
        .collect()
}

/// A result as the kernel gave it: the value, or `-errno` for -1.
pub fn ret(r: i64) -> i64 {
    if r == -1 {
        -(io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO) as i64)
    } else {
        r
    }
}

/// The value an fd argument has in a twin, given the results and buffers
/// so far (an operation that did not run gave fd -1).
pub fn resolve(fd: gen::Fd, results: &[Option<i64>], bufs: &[Vec<Buffer>]) -> u64 {
    match fd {
        gen::Fd::Res(k) => results[k].unwrap_or(-1) as u64,
        gen::Fd::Pair(k, e) => bufs[k][0].int(e as usize) as i64 as u64,
        gen::Fd::Dir => DIRFD as u64,
        gen::Fd::Cwd => libc::AT_FDCWD as i64 as u64,
        gen::Fd::Bad(n) => n as i64 as u64,
    }
}

// ---------------------------------------------------------------------
// Signals.

static USR1: AtomicU64 = AtomicU64::new(0);
static RT: AtomicU64 = AtomicU64::new(0);
static PIPE: AtomicU64 = AtomicU64::new(0);

extern "C" fn count(sig: libc::c_int) {
    let c = match sig {
        libc::SIGUSR1 => &USR1,
        libc::SIGPIPE => &PIPE,
        _ => &RT,
    };
    c.fetch_add(1, Ordering::Relaxed);
}

fn handle(sig: i32, handler: libc::sighandler_t) -> io::Result<()> {
    // SAFETY: `sigaction` is plain data; all zeroes is a valid start.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = handler;
    // SAFETY: `sa` is valid; `count` only touches atomics
    // (async-signal-safe).
    if unsafe { libc::sigaction(sig, &sa, std::ptr::null_mut()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn sigset_word(set: &libc::sigset_t) -> u64 {
    // SAFETY: the kernel's sigset is the first 8 bytes of glibc's.
    unsafe { (set as *const libc::sigset_t).cast::<u64>().read() }
}

fn pending() -> u64 {
    // SAFETY: plain data.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is writable.
    unsafe { libc::sigpending(&mut set) };
    sigset_word(&set)
}

fn blocked() -> u64 {
    // SAFETY: plain data.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: a NULL set only reads the mask into `set`.
    unsafe { libc::sigprocmask(libc::SIG_BLOCK, std::ptr::null(), &mut set) };
    sigset_word(&set)
}

/// What a twin compares at the end of each segment.
///
/// Signals are delivered when a system call returns to user space: after
/// each direct call, but only after the whole `anycall()` for the inner
/// ones. Standard signals raised twice before delivery merge into one, so
/// for them only "raised since the last segment (delivered, or still
/// pending)" is compared; the real-time signal queues and is never
/// blocked, so its count must match exactly.
#[derive(Default)]
pub struct Segments {
    usr1: u64,
    rt: u64,
    pipe: u64,
}

impl Segments {
    pub fn record(&mut self, seg: usize, obs: &mut Obs) {
        let (usr1, rt, pipe) = (
            USR1.load(Ordering::Relaxed),
            RT.load(Ordering::Relaxed),
            PIPE.load(Ordering::Relaxed),
        );
        let p = pending();
        let bit = |s: i32| p & (1 << (s - 1)) != 0;
        obs.push(
            format!("seg {seg} signals"),
            format!(
                "usr1 {} rt {} pipe {}",
                (usr1 > self.usr1 || bit(libc::SIGUSR1)) as u8,
                rt - self.rt,
                (pipe > self.pipe || bit(libc::SIGPIPE)) as u8
            ),
        );
        (self.usr1, self.rt, self.pipe) = (usr1, rt, pipe);
        for r in 0..REGIONS {
            obs.push(format!("seg {seg} region {r}"), region(r));
        }
    }
}

/// The pages of region `r`: unmapped, or the hash of their contents.
fn region(r: u8) -> String {
    let mut s = String::new();
    for p in 0..REGION_PAGES {
        let addr = REGION_BASE + r as u64 * REGION_STRIDE + p as u64 * PAGE;
        let mut vec = [0u8; 1];
        // SAFETY: mincore() only writes one byte to `vec`; an unmapped
        // page gives ENOMEM.
        let mapped = unsafe { libc::mincore(addr as *mut _, PAGE as usize, vec.as_mut_ptr()) } == 0;
        if !mapped {
            s.push_str(" -");
        } else {
            // SAFETY: the page is mapped, and readable: the sequences map
            // regions with PROT_READ always. Nothing else uses them.
            let page = unsafe { std::slice::from_raw_parts(addr as *const u8, PAGE as usize) };
            s.push_str(&format!(" {:016x}", observe::fnv(page)));
        }
    }
    s
}

/// The facts of a segment's operations, from their results and buffers.
pub fn record_ops(
    seq: &Sequence,
    range: std::ops::Range<usize>,
    results: &[Option<i64>],
    bufs: &[Vec<Buffer>],
    obs: &mut Obs,
) {
    for i in range {
        let op = &seq.ops[i];
        obs.push(format!("op {i} {}", op.name()), observe::result(results[i]));
        let kinds: Vec<BufKind> = match gen::spec(i, op) {
            Some(s) => s.bufs.iter().map(|b| b.kind).collect(),
            None => vec![BufKind::Out],
        };
        for (j, (kind, buf)) in kinds.iter().zip(&bufs[i]).enumerate() {
            let key = format!("op {i} buf{j}");
            match kind {
                BufKind::In => {}
                BufKind::Out => obs.push(key, observe::contents(buf.bytes())),
                BufKind::Stat if results[i] == Some(0) => {
                    obs.push(key, observe::stat_fact(&buf.stat()))
                }
                BufKind::Stat => obs.push(key, observe::contents(buf.bytes())),
                BufKind::Fds => obs.push(key, format!("{} {}", buf.int(0), buf.int(1))),
            }
        }
    }
}

/// The end of a sequence: the fd table (where each fd points, its flags,
/// its position, what is left to read in pipes and sockets), the signal
/// mask and pending set, and the regions' mappings.
pub fn snapshot(scratch: &str, obs: &mut Obs) {
    let mut seen = Vec::new();
    for fd in 0..1024 {
        if fd == REPORT_FD || fd == SETUP_ERR_FD {
            continue;
        }
        // SAFETY: F_GETFD on any number only reads the table.
        let fdfl = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        if fdfl < 0 {
            continue;
        }
        let link = readlink(&format!("/proc/self/fd/{fd}"));
        let link = observe::normalize_link(&link, scratch, &mut seen);
        // SAFETY: as above.
        let fl = ret(unsafe { libc::fcntl(fd, libc::F_GETFL) } as i64);
        // SAFETY: lseek(fd, 0, SEEK_CUR) moves nothing.
        let pos = ret(unsafe { libc::lseek(fd, 0, libc::SEEK_CUR) });
        obs.push(
            format!("fd {fd}"),
            format!("{link} fl {fl:o} fd {fdfl} pos {pos}"),
        );
        let readable = fl >= 0 && fl as i32 & libc::O_ACCMODE != libc::O_WRONLY;
        let nonblock = fl >= 0 && fl as i32 & libc::O_NONBLOCK != 0;
        if readable && nonblock && (link.starts_with("pipe:") || link.starts_with("socket:")) {
            obs.push(format!("fd {fd} left"), drain(fd));
        }
    }
    obs.push("sig blocked", format!("{:x}", blocked()));
    obs.push("sig pending", format!("{:x}", pending()));
    obs.push(
        "sig counts",
        format!(
            "rt {} (usr1 and pipe merge, see Segments)",
            RT.load(Ordering::Relaxed)
        ),
    );
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let end = REGION_BASE + REGIONS as u64 * REGION_STRIDE;
    let mut k = 0;
    for line in maps.lines() {
        let start = line
            .split('-')
            .next()
            .and_then(|a| u64::from_str_radix(a, 16).ok());
        if start.is_some_and(|a| (REGION_BASE..end).contains(&a)) {
            obs.push(format!("maps {k}"), line);
            k += 1;
        }
    }
}

fn readlink(path: &str) -> String {
    match std::fs::read_link(path) {
        Ok(p) => String::from_utf8_lossy(p.as_os_str().as_bytes()).into_owned(),
        Err(e) => format!("(readlink: {e})"),
    }
}

/// What is left to read on a non-blocking pipe or socket.
fn drain(fd: RawFd) -> String {
    let mut s = String::new();
    let mut buf = vec![0u8; 4096];
    for _ in 0..8 {
        // SAFETY: `buf` is writable for its length.
        let n = ret(unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) } as i64);
        if n <= 0 {
            s.push_str(&observe::result(Some(n)));
            break;
        }
        s.push_str(&observe::contents(&buf[..n as usize]));
        s.push(' ');
    }
    s
}

// ---------------------------------------------------------------------
// Becoming a twin.

fn check(what: &str, r: libc::c_long) -> Result<(), String> {
    if r < 0 {
        Err(format!("{what}: {}", io::Error::last_os_error()))
    } else {
        Ok(())
    }
}

/// Effective and permitted capabilities (capget, version 3).
fn capabilities() -> Result<(u64, u64), String> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mut h = Header {
        version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
        pid: 0,
    };
    let mut d = [Data::default(); 2];
    // SAFETY: `h` and `d` are the header and the two data words
    // capget() fills for version 3.
    let r = unsafe { libc::syscall(libc::SYS_capget, &mut h as *mut Header, d.as_mut_ptr()) };
    check("capget", r)?;
    let word = |f: fn(&Data) -> u32| f(&d[0]) as u64 | (f(&d[1]) as u64) << 32;
    Ok((word(|d| d.effective), word(|d| d.permitted)))
}

/// Gives up root: no supplementary groups, uid and gid 65534 (all three
/// of each), and so no capabilities, which the kernel clears when every
/// uid becomes non-zero. Checked, not assumed.
pub fn drop_privileges() -> Result<(), String> {
    // SAFETY: plain system calls on the calling process.
    unsafe {
        check("setgroups", libc::setgroups(0, std::ptr::null()) as _)?;
        check("setresgid", libc::setresgid(NOBODY, NOBODY, NOBODY) as _)?;
        check("setresuid", libc::setresuid(NOBODY, NOBODY, NOBODY) as _)?;
    }
    let (eff, perm) = capabilities()?;
    // SAFETY: getters.
    let (uid, euid, gid) = unsafe { (libc::getuid(), libc::geteuid(), libc::getgid()) };
    if eff != 0 || perm != 0 || uid != NOBODY || euid != NOBODY || gid != NOBODY {
        return Err(format!(
            "still privileged: uid {uid} euid {euid} gid {gid} caps {eff:x}/{perm:x}"
        ));
    }
    Ok(())
}

/// The process-wide state both twins start a sequence with.
fn become_twin(
    seq: &Sequence,
    root: &Path,
    report: RawFd,
    close: &[RawFd],
    unprivileged: bool,
) -> Result<(), String> {
    // SAFETY: plain system calls on the calling process's own state.
    unsafe {
        // Its own session and process group: kill(0, sig) reaches only it.
        check("setsid", libc::setsid() as _)?;
        check("dup3", libc::dup3(report, REPORT_FD, libc::O_CLOEXEC) as _)?;
        // The inherited stdio is shared with the parent (and, under cargo
        // test, with other tests), so its position is not the twin's own.
        check("dup3", libc::dup3(2, SETUP_ERR_FD, libc::O_CLOEXEC) as _)?;
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        check("open /dev/null", null as _)?;
        for std_fd in 0..3 {
            check("dup2", libc::dup2(null, std_fd) as _)?;
        }
        if null > 2 {
            libc::close(null);
        }
        for &fd in close {
            libc::close(fd);
        }
    }
    if unprivileged {
        drop_privileges()?;
    }
    // SAFETY: as above.
    unsafe {
        // Readable /proc/self/fd after the uid change; seccomp without
        // CAP_SYS_ADMIN needs no_new_privs.
        check(
            "PR_SET_DUMPABLE",
            libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0) as _,
        )?;
        check(
            "PR_SET_NO_NEW_PRIVS",
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) as _,
        )?;
        libc::umask(seq.setup.umask);
        // No core file from a seccomp kill in the scratch tree.
        let no_core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        check(
            "RLIMIT_CORE",
            libc::setrlimit(libc::RLIMIT_CORE, &no_core) as _,
        )?;
        let empty: libc::sigset_t = std::mem::zeroed();
        check(
            "sigprocmask",
            libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut()) as _,
        )?;
    }
    let counter = count as extern "C" fn(libc::c_int) as libc::sighandler_t;
    for sig in [libc::SIGUSR1, SIG_RT, libc::SIGPIPE] {
        handle(sig, counter).map_err(|e| format!("sigaction {sig}: {e}"))?;
    }
    handle(libc::SIGUSR2, libc::SIG_IGN).map_err(|e| format!("sigaction: {e}"))?;
    make_tree(seq, root).map_err(|e| format!("scratch tree {}: {e}", root.display()))?;
    std::env::set_current_dir(root).map_err(|e| format!("chdir: {e}"))?;
    let croot = CString::new(root.as_os_str().as_bytes()).unwrap();
    // SAFETY: `croot` is NUL-terminated; the fd is moved to DIRFD.
    unsafe {
        let fd = libc::open(croot.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
        check("open scratch", fd as _)?;
        check("dup3", libc::dup3(fd, DIRFD, libc::O_CLOEXEC) as _)?;
        libc::close(fd);
    }
    Ok(())
}

/// The scratch tree of `seq`'s setup under `root`, with its modes.
fn make_tree(seq: &Sequence, root: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let set =
        |p: &Path, mode: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode));
    std::fs::create_dir(root)?;
    set(root, 0o755)?;
    for e in &seq.setup.entries {
        let p = root.join(e.path);
        match &e.data {
            Some(d) => std::fs::write(&p, d)?,
            None => {
                std::fs::create_dir(&p)?;
                set(&p, 0o755)?;
            }
        }
    }
    // Modes last, deepest first: a read-only directory is filled before.
    for e in seq.setup.entries.iter().rev() {
        set(&root.join(e.path), e.mode)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------
// Running both.

/// What the parent needs to start the twins.
pub struct Twins<'a> {
    /// Where the twins' scratch directories go (writable by [`NOBODY`]).
    pub base: &'a Path,
    /// Drop to uid 65534 in the twins (false only for host tests).
    pub unprivileged: bool,
    pub timeout: Duration,
}

/// Why a pair of twins gave no two reports to compare.
#[derive(Debug)]
pub struct Failed(pub String);

impl Twins<'_> {
    pub fn root(&self, kind: Kind) -> PathBuf {
        self.base.join(kind.dir())
    }

    /// Forks both twins, runs `body` in each, and returns their facts,
    /// with the scratch tree each left behind.
    pub fn run(
        &self,
        seq: &Sequence,
        body: &dyn Fn(Kind, &str) -> Obs,
    ) -> Result<(Obs, Obs), Failed> {
        for kind in [Kind::Direct, Kind::Anycall] {
            let _ = std::fs::remove_dir_all(self.root(kind));
        }
        let mut pipes = [[0; 2]; 2];
        for p in &mut pipes {
            // SAFETY: `p` has room for the two fds.
            if unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
                return Err(Failed(format!("pipe2: {}", io::Error::last_os_error())));
            }
        }
        let all = [pipes[0][0], pipes[0][1], pipes[1][0], pipes[1][1]];
        let mut pids = Vec::new();
        for (t, kind) in [Kind::Direct, Kind::Anycall].into_iter().enumerate() {
            // SAFETY: the fuzzer is single-threaded, so the child may run
            // any code; it ends with _exit() and never returns here.
            let pid = unsafe { libc::fork() };
            if pid < 0 {
                return Err(Failed(format!("fork: {}", io::Error::last_os_error())));
            }
            if pid == 0 {
                let root = self.root(kind);
                let code = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    become_twin(seq, &root, pipes[t][1], &all, self.unprivileged)?;
                    Ok::<_, String>(body(kind, &root.to_string_lossy()))
                })) {
                    Ok(Ok(obs)) => {
                        write_all(REPORT_FD, &obs.encode());
                        0
                    }
                    Ok(Err(msg)) => {
                        let line = format!("anycall-fuzz: {} twin: {msg}\n", kind.name());
                        write_all(SETUP_ERR_FD, line.as_bytes());
                        3
                    }
                    Err(_) => 4,
                };
                // SAFETY: ends the child without running the parent's
                // destructors (its programs' fds, its atexit handlers).
                unsafe { libc::_exit(code) };
            }
            pids.push(pid);
        }
        for fd in [pipes[0][1], pipes[1][1]] {
            // SAFETY: the parent's copies of the write ends.
            unsafe { libc::close(fd) };
        }
        let reports = self.collect(&[pipes[0][0], pipes[1][0]], &pids);
        for fd in [pipes[0][0], pipes[1][0]] {
            // SAFETY: the parent's read ends, read to the end.
            unsafe { libc::close(fd) };
        }
        let (bytes, statuses) = reports?;
        let mut obs = Vec::new();
        for (t, kind) in [Kind::Direct, Kind::Anycall].into_iter().enumerate() {
            let st = statuses[t];
            // A twin a signal killed (a seccomp KILL filter's SIGSYS, or a
            // crash) reports nothing, but how it ended and the tree it
            // left are compared; one that could not do its job fails.
            let mut o = if libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0 {
                Obs::decode(&bytes[t]).map_err(Failed)?
            } else if libc::WIFSIGNALED(st) {
                Obs::default()
            } else {
                return Err(Failed(format!(
                    "the {} twin {}",
                    kind.name(),
                    describe_status(st)
                )));
            };
            o.facts.insert(0, ("exit".into(), describe_status(st)));
            observe::tree(&self.root(kind), &mut o);
            let _ = std::fs::remove_dir_all(self.root(kind));
            obs.push(o);
        }
        let anycall = obs.pop().unwrap();
        Ok((obs.pop().unwrap(), anycall))
    }

    /// Reads both reports to the end and reaps both twins, killing them
    /// after the timeout.
    fn collect(&self, fds: &[RawFd; 2], pids: &[i32]) -> Result<([Vec<u8>; 2], [i32; 2]), Failed> {
        let deadline = Instant::now() + self.timeout;
        let mut bytes = [Vec::new(), Vec::new()];
        let mut open = [true, true];
        let mut timed_out = None;
        while open.iter().any(|&o| o) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                timed_out = Some(open);
                break;
            }
            let mut pfd: Vec<libc::pollfd> = (0..2)
                .filter(|&t| open[t])
                .map(|t| libc::pollfd {
                    fd: fds[t],
                    events: libc::POLLIN,
                    revents: 0,
                })
                .collect();
            // SAFETY: `pfd` is valid for its length.
            let n = unsafe {
                libc::poll(
                    pfd.as_mut_ptr(),
                    pfd.len() as _,
                    left.as_millis().min(1000) as i32,
                )
            };
            if n < 0 {
                continue;
            }
            for p in &pfd {
                if p.revents == 0 {
                    continue;
                }
                let t = if p.fd == fds[0] { 0 } else { 1 };
                let mut buf = [0u8; 65536];
                // SAFETY: `buf` is writable for its length.
                let r = unsafe { libc::read(p.fd, buf.as_mut_ptr().cast(), buf.len()) };
                if r > 0 {
                    bytes[t].extend_from_slice(&buf[..r as usize]);
                } else if r == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                    open[t] = false;
                }
            }
        }
        if timed_out.is_some() {
            for &pid in pids {
                // SAFETY: our own children.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        let mut statuses = [0; 2];
        for (t, &pid) in pids.iter().enumerate() {
            // SAFETY: reaps our own child.
            unsafe { libc::waitpid(pid, &mut statuses[t], 0) };
        }
        if let Some(open) = timed_out {
            let who: Vec<&str> = [Kind::Direct, Kind::Anycall]
                .iter()
                .zip(open)
                .filter(|(_, o)| *o)
                .map(|(k, _)| k.name())
                .collect();
            return Err(Failed(format!(
                "no report after {:?} from the {} twin (killed)",
                self.timeout,
                who.join(" and ")
            )));
        }
        Ok((bytes, statuses))
    }
}

fn describe_status(st: i32) -> String {
    if libc::WIFEXITED(st) {
        format!("exited with status {}", libc::WEXITSTATUS(st))
    } else if libc::WIFSIGNALED(st) {
        // SAFETY: strsignal() returns a static string for any number.
        let name = unsafe { CStr::from_ptr(libc::strsignal(libc::WTERMSIG(st))) };
        format!(
            "was killed by signal {} ({})",
            libc::WTERMSIG(st),
            name.to_string_lossy()
        )
    } else {
        format!("ended with wait status {st:#x}")
    }
}

fn write_all(fd: RawFd, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is readable for its length.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n <= 0 {
            if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return;
        }
        bytes = &bytes[n as usize..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two direct twins of the same sequence must agree: what the harness
    /// compares holds nothing that differs between two runs by itself
    /// (pids, inode numbers, times, scratch paths). Runs on the host.
    #[test]
    fn two_direct_twins_agree() {
        let base = std::env::temp_dir().join(format!("anycall-fuzz-twins-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir(&base).unwrap();
        // SAFETY: a getter.
        let root = unsafe { libc::geteuid() } == 0;
        if root {
            std::os::unix::fs::chown(&base, Some(NOBODY), Some(NOBODY)).unwrap();
        }
        let twins = Twins {
            base: &base,
            unprivileged: root,
            timeout: Duration::from_secs(60),
        };
        let mut trees = 0;
        for i in 0..40 {
            let seq = gen::sequence(21, i);
            let (a, b) = twins
                .run(&seq, &|_, root| crate::direct::run(&seq, root))
                .unwrap_or_else(|e| panic!("{e:?}\n{seq}"));
            let d = observe::diff(&a, &b);
            assert!(d.is_empty(), "{d:#?}\n{seq}");
            trees += a.facts.iter().any(|(k, _)| k.starts_with("tree ")) as usize;
            assert!(a.facts.iter().any(|(k, _)| k == "fd 1000"));
        }
        assert!(trees > 20, "{trees} sequences left files");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
