//! The AnyCall twin: each segment of a sequence is one `anycall()`, a
//! [`Chain`] or a [`Batch`] of the `anycall` crate, or the C program
//! `read_file.bpf.c`.
//!
//! Operations become typed steps and calls where the crate has them (so
//! that its slots, fd checks and result handling are under test too) and
//! raw ones otherwise, or where the sequence says so; either way the
//! kernel gets the numbers and arguments the direct twin passes.

use crate::gen::{self, ArgSpec, Buf, BufKind, Data, Fd, Op, Sequence, Via, DIRFD};
use crate::observe::Obs;
use crate::twin::{self, Buffer, Filters, Segments};
use anycall::batch::{Batch, Call, Source};
use anycall::chain::{
    Arg, BuildError, BuiltChain, Chain, ChainBuilder, OnError, Slot, Step, StepError,
};
use anycall_examples::read_file::{ReadFile, ReadFileCtx};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::CString;
use std::io;

/// The programs loaded once, as root, for every sequence.
pub struct Programs {
    pub batch: Batch,
    pub read_file: ReadFile,
}

/// Batch capacity: segments have at most 10 operations.
pub const BATCH_CAPACITY: usize = 16;

impl Programs {
    pub fn load() -> io::Result<Programs> {
        Ok(Programs {
            batch: Batch::load(BATCH_CAPACITY)?,
            read_file: ReadFile::load()?,
        })
    }
}

/// What an argument slot of a chain is bound to in each run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bind {
    /// [`gen::PATHS`]`[p]`.
    Path(Slot, u8),
    /// The operation's buffer `j`, which the call reads.
    In(Slot, usize),
    /// Its buffer `j`, which the call writes.
    Out(Slot, usize),
    /// The operation's `sock_fprog`.
    Fprog(Slot),
    /// An fd known only when the segment starts.
    Fd(Slot, Fd),
    /// The twin's pid.
    Pid(Slot),
}

/// A segment's chain: its step and slot bindings per operation.
#[derive(Debug)]
pub struct ChainPlan {
    pub steps: Vec<Step>,
    pub binds: Vec<Vec<Bind>>,
}

struct Planner<'s> {
    b: ChainBuilder,
    seq: &'s Sequence,
    start: usize,
    steps: Vec<Step>,
    bind: Vec<Bind>,
}

impl Planner<'_> {
    fn fd(&mut self, fd: Fd) -> Arg {
        match fd {
            Fd::Res(k) if k >= self.start => Arg::Result(self.steps[k - self.start]),
            Fd::Dir => Arg::Const(DIRFD as i64 as u64),
            Fd::Cwd => Arg::Const(libc::AT_FDCWD as i64 as u64),
            Fd::Bad(n) => Arg::Const(n as i64 as u64),
            Fd::Res(_) | Fd::Pair(..) => {
                let s = self.b.value();
                self.bind.push(Bind::Fd(s, fd));
                Arg::Value(s)
            }
        }
    }

    fn path(&mut self, p: u8) -> Slot {
        let s = self.b.path();
        self.bind.push(Bind::Path(s, p));
        s
    }

    fn output(&mut self, j: usize) -> Slot {
        let s = self.b.output();
        self.bind.push(Bind::Out(s, j));
        s
    }

    fn input(&mut self, j: usize) -> Slot {
        let s = self.b.input();
        self.bind.push(Bind::In(s, j));
        s
    }
}

fn c(v: impl Into<i64>) -> Arg {
    Arg::Const(v.into() as u64)
}

/// The chain for segment `s` of `seq` (built, not loaded: no kernel
/// needed), and how to bind it.
pub fn plan_chain(seq: &Sequence, s: usize) -> Result<(BuiltChain, ChainPlan), BuildError> {
    let seg = &seq.segments[s];
    assert_eq!(seg.via, Via::Chain);
    let mut p = Planner {
        b: ChainBuilder::new(),
        seq,
        start: seg.start,
        steps: Vec::new(),
        bind: Vec::new(),
    };
    let mut binds = Vec::new();
    let mut typed_opens = BTreeSet::new();
    let mut closed = BTreeSet::new();
    for i in seg.start..seg.end {
        let op = &p.seq.ops[i];
        let typed = if p.seq.raw[i] {
            None
        } else {
            typed_step(&mut p, op, i, &mut typed_opens, &mut closed)
        };
        let step = match typed {
            Some(step) => step,
            None => raw_step(&mut p, op, i),
        };
        if !seg.stop_on_error {
            p.b.on_error(step, OnError::Continue);
        }
        p.steps.push(step);
        binds.push(std::mem::take(&mut p.bind));
    }
    let built = p.b.build()?;
    Ok((
        built,
        ChainPlan {
            steps: p.steps,
            binds,
        },
    ))
}

fn typed_step(
    p: &mut Planner<'_>,
    op: &Op,
    i: usize,
    typed_opens: &mut BTreeSet<usize>,
    closed: &mut BTreeSet<usize>,
) -> Option<Step> {
    Some(match op {
        Op::Openat {
            dir,
            path,
            flags,
            mode,
        } => {
            let d = p.fd(*dir);
            let s = p.path(*path);
            typed_opens.insert(i);
            p.b.openat(d, &s, c(*flags), c(*mode))
        }
        Op::Read {
            fd,
            buf: Buf::Heap(_),
        } => {
            let f = p.fd(*fd);
            let o = p.output(0);
            p.b.read(f, &o)
        }
        Op::Write {
            fd,
            data: Data::Heap(_),
        } => {
            let f = p.fd(*fd);
            let d = p.input(0);
            p.b.write(f, &d)
        }
        Op::Pread {
            fd,
            buf: Buf::Heap(_),
            off,
        } => {
            let f = p.fd(*fd);
            let o = p.output(0);
            p.b.pread64(f, &o, c(*off))
        }
        Op::Pwrite {
            fd,
            data: Data::Heap(_),
            off,
        } => {
            let f = p.fd(*fd);
            let d = p.input(0);
            p.b.pwrite64(f, &d, c(*off))
        }
        Op::Lseek { fd, off, whence } => {
            let f = p.fd(*fd);
            p.b.lseek(f, c(*off), c(*whence))
        }
        Op::Fstat { fd } => {
            let f = p.fd(*fd);
            let o = p.output(0);
            p.b.fstat(f, &o)
        }
        Op::Newfstatat { dir, path, flags } => {
            let d = p.fd(*dir);
            let s = p.path(*path);
            let o = p.output(0);
            p.b.newfstatat(d, &s, &o, c(*flags))
        }
        Op::Ftruncate { fd, len } => {
            let f = p.fd(*fd);
            p.b.ftruncate(f, c(*len))
        }
        // The typed close takes only an fd a typed openat of this chain
        // opened, once.
        Op::Close { fd: Fd::Res(k) }
            if *k >= p.start && typed_opens.contains(k) && closed.insert(*k) =>
        {
            p.b.close(p.steps[k - p.start])
        }
        Op::Unlinkat { dir, path, flags } => {
            let d = p.fd(*dir);
            let s = p.path(*path);
            p.b.unlinkat(d, &s, c(*flags))
        }
        Op::Mkdirat { dir, path, mode } => {
            let d = p.fd(*dir);
            let s = p.path(*path);
            p.b.mkdirat(d, &s, c(*mode))
        }
        Op::Send {
            fd,
            data: Data::Heap(_),
            flags,
        } => {
            let f = p.fd(*fd);
            let d = p.input(0);
            p.b.sendto(f, &d, c(*flags))
        }
        Op::Recv {
            fd,
            buf: Buf::Heap(_),
            flags,
        } => {
            let f = p.fd(*fd);
            let o = p.output(0);
            p.b.recvfrom(f, &o, c(*flags))
        }
        Op::Getppid => p.b.getppid(),
        _ => return None,
    })
}

fn raw_step(p: &mut Planner<'_>, op: &Op, i: usize) -> Step {
    let spec = gen::spec(i, op).expect("a chain segment has no read_file");
    let mut buf_slots: BTreeMap<usize, Slot> = BTreeMap::new();
    let mut args = Vec::new();
    for a in &spec.args {
        let mut slot_of = |p: &mut Planner<'_>, j: usize| {
            *buf_slots
                .entry(j)
                .or_insert_with(|| match spec.bufs[j].kind {
                    BufKind::In => p.input(j),
                    _ => p.output(j),
                })
        };
        args.push(match *a {
            ArgSpec::C(v) => Arg::Const(v),
            ArgSpec::Fd(fd) => p.fd(fd),
            ArgSpec::Ptr(j) => Arg::Ptr(slot_of(p, j)),
            ArgSpec::Len(j) => Arg::Len(slot_of(p, j)),
            ArgSpec::Path(path) => Arg::Ptr(p.path(path)),
            ArgSpec::Pid => {
                let s = p.b.value();
                p.bind.push(Bind::Pid(s));
                Arg::Value(s)
            }
            ArgSpec::Fprog => {
                let s = p.b.input();
                p.bind.push(Bind::Fprog(s));
                Arg::Ptr(s)
            }
        });
    }
    // SAFETY: the call's buffers are slots, bound to the twin's buffers
    // of the operation with their lengths; other addresses are the
    // fixed regions, which no Rust object uses; fds are those the
    // sequence made or numbers that are none. The AnyCall twin is a
    // throw-away process that runs nothing else meanwhile.
    unsafe { p.b.syscall(op.name(), spec.nr, &args) }
}

/// Per segment: its loaded chain, for chain segments.
pub struct Prepared {
    pub chains: Vec<Option<(Chain, ChainPlan)>>,
}

/// Builds and loads the chains of `seq` (needs CAP_BPF: in the parent).
pub fn prepare(seq: &Sequence) -> io::Result<Prepared> {
    let mut chains = Vec::new();
    for (s, seg) in seq.segments.iter().enumerate() {
        chains.push(match seg.via {
            Via::Chain => {
                let (built, plan) = plan_chain(seq, s)?;
                Some((built.load()?, plan))
            }
            _ => None,
        });
    }
    Ok(Prepared { chains })
}

/// Runs `seq` through `anycall()`; `scratch` is the twin's directory.
pub fn run(seq: &Sequence, scratch: &str, programs: &Programs, prepared: &Prepared) -> Obs {
    let paths = twin::paths();
    let filters = Filters::new(seq);
    let mut bufs = twin::buffers(seq);
    let mut results: Vec<Option<i64>> = vec![None; seq.ops.len()];
    let mut obs = Obs::default();
    let mut segs = Segments::default();
    for (s, seg) in seq.segments.iter().enumerate() {
        let r = match seg.via {
            Via::Chain => {
                let (chain, plan) = prepared.chains[s].as_ref().expect("a loaded chain");
                run_chain(
                    seq,
                    s,
                    chain,
                    plan,
                    &paths,
                    &filters,
                    &mut bufs,
                    &mut results,
                )
            }
            Via::Batch => run_batch(
                seq,
                s,
                &programs.batch,
                &paths,
                &filters,
                &mut bufs,
                &mut results,
            ),
            Via::Program => {
                let i = seg.start;
                let Op::ReadFile { path, .. } = seq.ops[i] else {
                    unreachable!("a program segment is one read_file")
                };
                let (r, ctx) =
                    read_file(&programs.read_file, &paths[path as usize], &mut bufs[i][0]);
                results[i] = Some(r);
                obs.push(format!("op {i} ctx"), ctx);
                Ok(())
            }
        };
        if let Err(e) = r {
            obs.push(format!("seg {s} anycall"), e);
        }
        twin::record_ops(seq, seg.start..seg.end, &results, &bufs, &mut obs);
        segs.record(s, &mut obs);
    }
    twin::snapshot(scratch, &mut obs);
    obs
}

/// The results of a run that stopped (a [`StepError`]), or the error of
/// `anycall()` itself.
fn stopped(
    e: &io::Error,
    start: usize,
    n: usize,
    results: &mut [Option<i64>],
) -> Result<(), String> {
    match StepError::of(e) {
        Some(se) => {
            for local in 0..n {
                results[start + local] = se.result(local);
            }
            Ok(())
        }
        None => Err(format!("anycall failed: {e}")),
    }
}

fn pid() -> u64 {
    // SAFETY: getpid() has no preconditions.
    unsafe { libc::getpid() as u64 }
}

#[allow(clippy::too_many_arguments)]
fn run_chain(
    seq: &Sequence,
    s: usize,
    chain: &Chain,
    plan: &ChainPlan,
    paths: &[CString],
    filters: &Filters,
    bufs: &mut [Vec<Buffer>],
    results: &mut [Option<i64>],
) -> Result<(), String> {
    let seg = &seq.segments[s];
    let n = seg.end - seg.start;
    let (earlier, rest) = bufs.split_at_mut(seg.start);
    let mut call = chain.invocation();
    let bind_err = |e: io::Error| format!("binding a slot: {e}");
    for (local, op_bufs) in rest[..n].iter_mut().enumerate() {
        let i = seg.start + local;
        let mut slices: Vec<Option<&mut Buffer>> = op_bufs.iter_mut().map(Some).collect();
        for bind in &plan.binds[local] {
            match *bind {
                Bind::Path(slot, p) => call.path(&slot, &paths[p as usize]),
                Bind::Fd(slot, fd) => call.value(&slot, twin::resolve(fd, results, earlier)),
                Bind::Pid(slot) => call.value(&slot, pid()),
                Bind::Fprog(slot) => call.input(&slot, filters.fprog(i).bytes()),
                Bind::In(slot, j) => {
                    let b = slices[j].take().expect("each buffer bound once");
                    call.input(&slot, b.bytes_mut())
                }
                Bind::Out(slot, j) => {
                    let b = slices[j].take().expect("each buffer bound once");
                    call.output(&slot, b.bytes_mut())
                }
            }
            .map_err(bind_err)?;
        }
    }
    match call.run() {
        Ok(out) => {
            for (local, step) in plan.steps.iter().enumerate() {
                results[seg.start + local] = out.result(*step);
            }
            Ok(())
        }
        Err(e) => stopped(&e, seg.start, n, results),
    }
}

fn run_batch(
    seq: &Sequence,
    s: usize,
    batch: &Batch,
    paths: &[CString],
    filters: &Filters,
    bufs: &mut [Vec<Buffer>],
    results: &mut [Option<i64>],
) -> Result<(), String> {
    let seg = &seq.segments[s];
    let n = seg.end - seg.start;
    let (earlier, rest) = bufs.split_at_mut(seg.start);
    let src = |fd: Fd, results: &[Option<i64>]| match fd {
        Fd::Res(k) if k >= seg.start => Source::Result(k - seg.start),
        _ => Source::Const(twin::resolve(fd, results, earlier)),
    };
    let mut calls: Vec<Call<'_>> = Vec::new();
    let mut typed_opens = BTreeSet::new();
    let mut closed = BTreeSet::new();
    for (local, op_bufs) in rest[..n].iter_mut().enumerate() {
        let i = seg.start + local;
        let op = &seq.ops[i];
        let r: &[Option<i64>] = results;
        // Addresses for a raw call, taken before a typed one borrows a
        // buffer for the batch's run.
        let addrs: Vec<u64> = op_bufs.iter_mut().map(|b| b.addr()).collect();
        let lens: Vec<u64> = op_bufs.iter().map(|b| b.bytes().len() as u64).collect();
        let typed = if seq.raw[i] {
            None
        } else {
            match op {
                Op::Openat {
                    dir,
                    path,
                    flags,
                    mode,
                } => {
                    typed_opens.insert(local);
                    Some(Call::openat(
                        src(*dir, r),
                        &paths[*path as usize],
                        *flags,
                        *mode,
                    ))
                }
                Op::Read {
                    fd,
                    buf: Buf::Heap(_),
                } => Some(Call::read(src(*fd, r), op_bufs[0].bytes_mut())),
                Op::Write {
                    fd,
                    data: Data::Heap(_),
                } => Some(Call::write(src(*fd, r), op_bufs[0].bytes())),
                Op::Pread {
                    fd,
                    buf: Buf::Heap(_),
                    off,
                } => Some(Call::pread64(src(*fd, r), op_bufs[0].bytes_mut(), *off)),
                Op::Pwrite {
                    fd,
                    data: Data::Heap(_),
                    off,
                } => Some(Call::pwrite64(src(*fd, r), op_bufs[0].bytes(), *off)),
                Op::Lseek { fd, off, whence } => Some(Call::lseek(src(*fd, r), *off, *whence)),
                Op::Fstat { fd } => Some(Call::fstat(src(*fd, r), op_bufs[0].stat_mut())),
                Op::Newfstatat { dir, path, flags } => Some(Call::newfstatat(
                    src(*dir, r),
                    &paths[*path as usize],
                    op_bufs[0].stat_mut(),
                    *flags,
                )),
                Op::Ftruncate { fd, len } => Some(Call::ftruncate(src(*fd, r), *len)),
                Op::Close { fd: Fd::Res(k) }
                    if *k >= seg.start
                        && typed_opens.contains(&(k - seg.start))
                        && closed.insert(*k) =>
                {
                    Some(Call::close(k - seg.start))
                }
                Op::Mkdirat { dir, path, mode } => {
                    Some(Call::mkdirat(src(*dir, r), &paths[*path as usize], *mode))
                }
                Op::Unlinkat { dir, path, flags } => {
                    Some(Call::unlinkat(src(*dir, r), &paths[*path as usize], *flags))
                }
                Op::Getppid => Some(Call::getppid()),
                _ => None,
            }
        };
        let call = match typed {
            Some(call) => call,
            None => {
                let spec = gen::spec(i, op).expect("a batch segment has no read_file");
                let args: Vec<Source> = spec
                    .args
                    .iter()
                    .map(|a| match *a {
                        ArgSpec::C(v) => Source::Const(v),
                        ArgSpec::Fd(fd) => src(fd, r),
                        ArgSpec::Ptr(j) => Source::Const(addrs[j]),
                        ArgSpec::Len(j) => Source::Const(lens[j]),
                        ArgSpec::Path(p) => Source::Const(paths[p as usize].as_ptr() as u64),
                        ArgSpec::Pid => Source::Const(pid()),
                        ArgSpec::Fprog => Source::Const(filters.fprog(i) as *const _ as u64),
                    })
                    .collect();
                // SAFETY: as for the chain's raw steps: the addresses are
                // the operation's own buffers (with their lengths), which
                // live until the batch has run, or the fixed regions; fds
                // are the sequence's or none.
                unsafe { Call::raw(op.name(), spec.nr, &args) }
            }
        };
        calls.push(if seg.stop_on_error {
            call
        } else {
            call.continue_on_error()
        });
    }
    let ret = batch.run(&mut calls);
    drop(calls);
    match ret {
        Ok(rs) => {
            for (local, r) in rs.iter().enumerate() {
                results[seg.start + local] = Some(*r);
            }
            Ok(())
        }
        Err(e) => stopped(&e, seg.start, n, results),
    }
}

/// `read_file.bpf.c` on `path` into `buf`: its result and its context's
/// out fields.
pub fn read_file(prog: &ReadFile, path: &std::ffi::CStr, buf: &mut Buffer) -> (i64, String) {
    let mut ctx = ReadFileCtx {
        path: path.as_ptr() as u64,
        buf_size: buf.bytes().len() as u64,
        buf: buf.addr(),
        ..Default::default()
    };
    // SAFETY: the program is read_file.bpf.c's: it opens `ctx.path`, reads
    // at most `ctx.buf_size` bytes into `ctx.buf` (the twin's buffer, of
    // that length) and closes only the fd it opened.
    let r = match unsafe { prog.program().call(&mut ctx) } {
        Ok(v) => v,
        Err(e) => -(e.raw_os_error().unwrap_or(libc::EIO) as i64),
    };
    let ctx = format!(
        "size {} reads {} truncated {}",
        ctx.size, ctx.reads, ctx.truncated
    );
    (r, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chain_segment_builds() {
        let mut built = 0;
        let mut typed_closes = 0;
        for i in 0..400 {
            let seq = gen::sequence(31, i);
            for (s, seg) in seq.segments.iter().enumerate() {
                if seg.via != Via::Chain {
                    continue;
                }
                let (chain, plan) = plan_chain(&seq, s).unwrap_or_else(|e| panic!("{e}\n{seq}"));
                assert_eq!(plan.steps.len(), seg.end - seg.start);
                assert_eq!(plan.binds.len(), seg.end - seg.start);
                assert!(chain.ctx_size() <= anycall_sys::ANYCALL_CTX_SIZE_MAX as usize);
                built += 1;
                typed_closes += (seg.start..seg.end)
                    .filter(
                        |&k| matches!(seq.ops[k], Op::Close { fd: Fd::Res(j) } if j >= seg.start),
                    )
                    .count();
            }
        }
        assert!(built > 100 && typed_closes > 0);
    }

    #[test]
    fn buffers_are_bound_once_each() {
        for i in 0..200 {
            let seq = gen::sequence(32, i);
            for (s, seg) in seq.segments.iter().enumerate() {
                if seg.via != Via::Chain {
                    continue;
                }
                let (_, plan) = plan_chain(&seq, s).unwrap();
                for (local, binds) in plan.binds.iter().enumerate() {
                    let spec = gen::spec(seg.start + local, &seq.ops[seg.start + local]).unwrap();
                    let mut js: Vec<usize> = binds
                        .iter()
                        .filter_map(|b| match b {
                            Bind::In(_, j) | Bind::Out(_, j) => Some(*j),
                            _ => None,
                        })
                        .collect();
                    js.sort();
                    let want: Vec<usize> = (0..spec.bufs.len()).collect();
                    assert_eq!(js, want, "op {} of\n{seq}", seg.start + local);
                }
            }
        }
    }
}
