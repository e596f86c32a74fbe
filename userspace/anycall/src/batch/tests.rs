//! Host tests of the batch program, run by the interpreter.

use super::calls::{decode, encode};
use super::*;
use crate::interp;

/// The calls a program made: number and arguments.
type Calls = Vec<(u64, Vec<u64>)>;

fn run_host(
    calls: &mut [Call<'_>],
    capacity: usize,
    mut kf: impl FnMut(u64, &[u64]) -> i64,
) -> (io::Result<Vec<i64>>, Calls) {
    let prog = codegen::generate(capacity, 1);
    let mut ctx = encode(calls, capacity).unwrap();
    let mut seen = Vec::new();
    let r = interp::run(&prog, &mut ctx, |nr, args| {
        seen.push((nr, args.to_vec()));
        kf(nr, args)
    });
    let ret = if r < 0 {
        Err(io::Error::from_raw_os_error(-r as i32))
    } else {
        Ok(r)
    };
    (decode(calls, &ctx, capacity, ret), seen)
}

#[test]
fn arguments_are_constants_or_earlier_results() {
    let mut buf = [0u8; 10];
    let addr = buf.as_ptr() as u64;
    let mut calls = [
        Call::openat(libc::AT_FDCWD, c"/f", libc::O_RDONLY, 0),
        Call::read(Source::Result(0), &mut buf),
        Call::lseek(Source::Result(0), Source::Result(1), libc::SEEK_SET),
        Call::close(0),
    ];
    let (res, seen) = run_host(&mut calls, 8, |nr, _| {
        if nr == libc::SYS_openat as u64 {
            5
        } else {
            3
        }
    });
    assert_eq!(res.unwrap(), vec![5, 3, 3, 3]);
    let fd = 5u64;
    assert_eq!(
        seen[1],
        (libc::SYS_read as u64, vec![fd, addr, 10, 0, 0, 0])
    );
    assert_eq!(seen[2], (libc::SYS_lseek as u64, vec![fd, 3, 0, 0, 0, 0]));
    assert_eq!(seen[3].1[0], fd);
}

#[test]
fn failures_stop_the_batch_unless_a_call_continues() {
    let mut calls = [
        Call::getpid().continue_on_error(),
        Call::getppid(),
        Call::fsync(1),
    ];
    let (res, seen) = run_host(&mut calls, 4, |nr, _| {
        if nr == libc::SYS_getpid as u64 {
            -1
        } else {
            0
        }
    });
    assert_eq!(res.unwrap(), vec![-1, 0, 0]);
    assert_eq!(seen.len(), 3);
    let mut calls = [Call::getpid(), Call::getppid(), Call::fsync(1)];
    let (res, seen) = run_host(&mut calls, 4, |nr, _| {
        if nr == libc::SYS_getppid as u64 {
            -9
        } else {
            0
        }
    });
    assert_eq!(seen.len(), 2);
    assert_eq!(
        res.unwrap_err().to_string(),
        "step 1 (getppid) failed: Bad file descriptor (os error 9)"
    );
}

#[test]
fn bad_batches_are_refused_before_running() {
    let calls = [Call::close(0)];
    let err = encode(&calls, 4).unwrap_err();
    assert_eq!(
        err.to_string(),
        "call 0 (close): argument 0 is the result of call 0, which is not an earlier call"
    );
    let calls: Vec<Call<'_>> = (0..5).map(|_| Call::getpid()).collect();
    assert_eq!(
        encode(&calls, 4).unwrap_err().to_string(),
        "5 calls, more than the batch's capacity of 4"
    );
    assert!(Batch::load(0).is_err());
    assert!(Batch::load(MAX_CAPACITY + 1).is_err());
}

#[test]
fn a_full_batch_runs_every_call_once() {
    let mut calls: Vec<Call<'_>> = (0..64).map(|_| Call::getppid()).collect();
    let (res, seen) = run_host(&mut calls, 64, |_, _| 7);
    assert_eq!(res.unwrap(), vec![7; 64]);
    assert_eq!(seen.len(), 64);
}

#[test]
fn close_takes_only_a_descriptor_the_batch_opened_once() {
    // (`Call::close(Source::Const(3))` does not compile: see its doctest.)
    let calls = [Call::getpid(), Call::close(0)];
    assert_eq!(
        encode(&calls, 4).unwrap_err().to_string(),
        "call 1 (close): call 0 (getpid) opens no descriptor; close() closes only what this \
         batch opened (the unsafe Call::raw() closes any number)"
    );
    let calls = [
        Call::openat(libc::AT_FDCWD, c"/f", libc::O_RDONLY, 0),
        Call::close(0),
        Call::close(0),
    ];
    assert_eq!(
        encode(&calls, 4).unwrap_err().to_string(),
        "call 2 (close): the descriptor of call 0 is closed by an earlier call already"
    );
    let calls = [
        Call::openat(libc::AT_FDCWD, c"/f", libc::O_RDONLY, 0),
        Call::close(0),
    ];
    let (res, seen) = run_host(&mut { calls }, 4, |_, _| 7);
    assert_eq!(res.unwrap(), vec![7, 7]);
    assert_eq!(seen[1].1[0], 7);
}

#[test]
fn results_of_calls_past_255_are_taken_from_the_right_call() {
    // Sources were one byte: Source::Result(256) meant call 0, and
    // Source::Result(255) overflowed (a panic in debug, "the constant" in
    // release builds).
    let mut calls: Vec<Call<'_>> = (0..300)
        .map(|i| {
            // SAFETY: only ever run by the interpreter.
            unsafe { Call::raw("raw", 1000 + i, &[]) }
        })
        .collect();
    // SAFETY: as above.
    calls.push(unsafe {
        Call::raw(
            "raw",
            7,
            &[
                Source::Result(256),
                Source::Result(255),
                Source::Result(0),
                Source::Result(299),
                Source::Result(511 - 300),
            ],
        )
    });
    let (res, seen) = run_host(&mut calls, MAX_CAPACITY, |nr, _| nr as i64);
    assert_eq!(res.unwrap().len(), 301);
    assert_eq!(seen[300], (7, vec![1256, 1255, 1000, 1299, 1211, 0]));
    // Every source a full batch can hold.
    let mut calls: Vec<Call<'_>> = (0..MAX_CAPACITY as i64)
        .map(|i| {
            let from = [Source::Result(i.max(1) as usize - 1)];
            // SAFETY: as above.
            unsafe { Call::raw("raw", 1000 + i, if i == 0 { &[] } else { &from }) }
        })
        .collect();
    let (res, seen) = run_host(&mut calls, MAX_CAPACITY, |nr, args| {
        if nr == 1000 {
            1
        } else {
            args[0] as i64 + 1
        }
    });
    let res = res.unwrap();
    assert_eq!(res[MAX_CAPACITY - 1], MAX_CAPACITY as i64);
    assert_eq!(seen[MAX_CAPACITY - 1].1[0], MAX_CAPACITY as u64 - 1);
}

#[test]
fn a_failed_batch_keeps_the_results_of_the_calls_before_it() {
    let mut buf = [0u8; 4];
    let mut calls = [
        Call::openat(libc::AT_FDCWD, c"/f", libc::O_RDONLY, 0),
        Call::read(Source::Result(0), &mut buf),
        Call::close(0),
    ];
    let (res, _) = run_host(&mut calls, 4, |nr, _| {
        if nr == libc::SYS_read as u64 {
            -libc::EIO as i64
        } else {
            9
        }
    });
    let err = res.unwrap_err();
    let se = crate::chain::StepError::of(&err).unwrap();
    assert_eq!((se.step, se.errno), (1, libc::EIO));
    assert_eq!(se.result(0), Some(9));
    assert_eq!(se.result(1), Some(-libc::EIO as i64));
    assert_eq!(se.result(2), None);
}
