//! `anycall chain`: build a chain from its text form, run it, show results.

use crate::chain_text::{parse, TextStep, Token};
use anycall::chain::{Arg, ChainBuilder, OnError, Slot, Step};
use std::ffi::CString;
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// What a step's argument must be.
#[derive(Clone, Copy, PartialEq)]
enum Param {
    Num,
    /// A number that may be left out (then 0).
    OptNum,
    Path,
    Data,
    Buf,
}

use Param::*;

fn params(name: &str) -> Option<&'static [Param]> {
    Some(match name {
        "openat" => &[Num, Path, Num, OptNum],
        "close" | "fsync" | "fstat" => &[Num],
        "read" | "getdents64" => &[Num, Buf],
        "pread64" => &[Num, Buf, Num],
        "write" => &[Num, Data],
        "pwrite64" => &[Num, Data, Num],
        "newfstatat" => &[Num, Path, OptNum],
        "lseek" => &[Num, Num, Num],
        "ftruncate" => &[Num, Num],
        "mkdirat" => &[Num, Path, Num],
        "unlinkat" => &[Num, Path, OptNum],
        "getpid" | "getppid" => &[],
        _ => return None,
    })
}

/// Data a slot is bound to.
enum Bound {
    Path(CString),
    Data(Vec<u8>),
    Buf(Vec<u8>),
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

pub fn chain(text: Option<String>, file: Option<PathBuf>, repeat: u64) -> io::Result<ExitCode> {
    let text = match (text, file) {
        (Some(t), _) => t,
        (None, Some(f)) => std::fs::read_to_string(&f)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", f.display())))?,
        (None, None) => {
            return Err(invalid(
                "give the chain as an argument or with --file (see --help)".into(),
            ))
        }
    };
    let text_steps =
        parse(&text, |name| params(name).is_some()).map_err(|e| invalid(e.to_string()))?;
    let mut b = ChainBuilder::new();
    let mut steps: Vec<Step> = Vec::new();
    let mut slots: Vec<(Slot, Bound)> = Vec::new();
    // Which slot holds each step's output buffer or stat.
    let mut outputs: Vec<Option<usize>> = Vec::new();
    for (i, ts) in text_steps.iter().enumerate() {
        let step = add_step(&mut b, i, ts, &steps, &mut slots, &mut outputs)?;
        if ts.keep_going {
            b.on_error(step, OnError::Continue);
        }
        steps.push(step);
    }
    // A chain written as text has no loop: CAP_BPF is all it needs.
    let chain = b
        .build()
        .map_err(io::Error::from)?
        .load()
        .map_err(|e| crate::privilege::explain_load(e, false))?;
    let mut bound = slots;
    let mut call = chain.invocation();
    for (slot, data) in bound.iter_mut() {
        match data {
            Bound::Path(p) => call.path(slot, p)?,
            Bound::Data(d) => call.input(slot, d)?,
            Bound::Buf(buf) => call.output(slot, buf)?,
        };
    }
    let start = Instant::now();
    let mut result = call.run();
    for _ in 1..repeat {
        result = call.run();
    }
    let elapsed = start.elapsed();
    drop(call);
    let outcome = result?;
    for (i, ts) in text_steps.iter().enumerate() {
        let r = outcome.result(steps[i]);
        let shown = match r {
            None => "(skipped)".to_string(),
            Some(v) if v < 0 => format!("{v} ({})", io::Error::from_raw_os_error(-v as i32)),
            Some(v) => v.to_string(),
        };
        println!("[{i}] {} = {shown}", describe(ts));
        if let (Some(v), Some(k)) = (r, outputs[i]) {
            if let Bound::Buf(buf) = &bound[k].1 {
                show_output(&ts.name, v, buf);
            }
        }
    }
    if repeat > 1 {
        println!(
            "{repeat} runs, {:.0} ns per anycall() of {} system calls",
            elapsed.as_nanos() as f64 / repeat as f64,
            steps.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn add_step(
    b: &mut ChainBuilder,
    i: usize,
    ts: &TextStep,
    steps: &[Step],
    slots: &mut Vec<(Slot, Bound)>,
    outputs: &mut Vec<Option<usize>>,
) -> io::Result<Step> {
    let err = |m: String| invalid(format!("step {i} ({}): {m}", ts.name));
    let want = params(&ts.name)
        .ok_or_else(|| err("not a system call `anycall chain` knows (see --help)".into()))?;
    let required = want.iter().filter(|p| **p != OptNum).count();
    if ts.args.len() < required || ts.args.len() > want.len() {
        return Err(err(format!(
            "takes {} arguments, not {}",
            describe_params(want),
            ts.args.len()
        )));
    }
    let mut args: Vec<Arg> = Vec::new();
    let mut slot_args: Vec<Slot> = Vec::new();
    let mut output = None;
    for (j, p) in want.iter().enumerate() {
        let tok = ts.args.get(j);
        match (p, tok) {
            (OptNum, None) => args.push(Arg::Const(0)),
            (Num | OptNum, Some(Token::Num(v))) => args.push(Arg::Const(*v)),
            (Num | OptNum, Some(Token::Ref(k))) => {
                if *k >= i {
                    return Err(err(format!("${k} is not an earlier step")));
                }
                args.push(Arg::Result(steps[*k]));
            }
            (Path, Some(Token::Str(s))) => {
                let c =
                    CString::new(s.as_str()).map_err(|_| err("a path with a NUL byte".into()))?;
                let slot = b.path();
                slots.push((slot, Bound::Path(c)));
                slot_args.push(slot);
            }
            (Data, Some(Token::Str(s))) => {
                let slot = b.input();
                slots.push((slot, Bound::Data(s.clone().into_bytes())));
                slot_args.push(slot);
            }
            (Buf, Some(Token::Buf(n))) => {
                let slot = b.output();
                output = Some(slots.len());
                slots.push((slot, Bound::Buf(vec![0; *n])));
                slot_args.push(slot);
            }
            (_, Some(t)) => {
                return Err(err(format!(
                    "argument {j} must be {}, not {}",
                    describe_param(*p),
                    t.what()
                )))
            }
            (_, None) => unreachable!("counted above"),
        }
    }
    // fstat and newfstatat write a struct stat into a buffer of their own.
    if ts.name == "fstat" || ts.name == "newfstatat" {
        let slot = b.output();
        output = Some(slots.len());
        slots.push((slot, Bound::Buf(vec![0; std::mem::size_of::<libc::stat>()])));
        slot_args.push(slot);
    }
    outputs.push(output);
    let a = |k: usize| args[k];
    let s = |k: usize| &slot_args[k];
    Ok(match ts.name.as_str() {
        "openat" => b.openat(a(0), s(0), a(1), a(2)),
        "close" => match a(0) {
            Arg::Result(opened) => b.close(opened),
            _ => {
                return Err(err(
                    "close takes $N, the result of an earlier openat: a number could be a \
                     descriptor of the anycall command itself"
                        .into(),
                ))
            }
        },
        "fsync" => b.fsync(a(0)),
        "fstat" => b.fstat(a(0), s(0)),
        "read" => b.read(a(0), s(0)),
        "getdents64" => b.getdents64(a(0), s(0)),
        "pread64" => b.pread64(a(0), s(0), a(1)),
        "write" => b.write(a(0), s(0)),
        "pwrite64" => b.pwrite64(a(0), s(0), a(1)),
        "newfstatat" => b.newfstatat(a(0), s(0), s(1), a(1)),
        "lseek" => b.lseek(a(0), a(1), a(2)),
        "ftruncate" => b.ftruncate(a(0), a(1)),
        "mkdirat" => b.mkdirat(a(0), s(0), a(1)),
        "unlinkat" => b.unlinkat(a(0), s(0), a(1)),
        "getpid" => b.getpid(),
        "getppid" => b.getppid(),
        _ => unreachable!("params() knows the names"),
    })
}

fn describe_param(p: Param) -> &'static str {
    match p {
        Num | OptNum => "a number, a constant or $N",
        Path => "a \"path\"",
        Data => "\"data\"",
        Buf => "buf:SIZE",
    }
}

fn describe_params(want: &[Param]) -> String {
    let required = want.iter().filter(|p| **p != OptNum).count();
    if required == want.len() {
        required.to_string()
    } else {
        format!("{required} or {}", want.len())
    }
}

fn describe(ts: &TextStep) -> String {
    let args: Vec<String> = ts.args.iter().map(|t| t.to_string()).collect();
    format!("{}({})", ts.name, args.join(", "))
}

fn show_output(name: &str, result: i64, buf: &[u8]) {
    if result < 0 {
        return;
    }
    match name {
        "fstat" | "newfstatat" => {
            // SAFETY: the buffer is a `struct stat` the kernel filled.
            let st: libc::stat = unsafe { buf.as_ptr().cast::<libc::stat>().read_unaligned() };
            println!(
                "      size {} mode {:o} ino {} links {}",
                st.st_size, st.st_mode, st.st_ino, st.st_nlink
            );
        }
        "read" | "pread64" => {
            let n = (result as usize).min(buf.len());
            let text = String::from_utf8_lossy(&buf[..n.min(200)]);
            println!("      {:?}{}", text, if n > 200 { " ..." } else { "" });
        }
        _ => {}
    }
}
