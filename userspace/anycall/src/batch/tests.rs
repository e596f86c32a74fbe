//! Host tests of the batch program, run by the interpreter.

use super::calls::{decode, encode};
use super::*;
use crate::interp;

/// A context's words.
fn words(ctx: &[u8]) -> Vec<u64> {
    ctx.chunks_exact(8)
        .map(|w| u64::from_ne_bytes(w.try_into().unwrap()))
        .collect()
}

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
    (decode(calls, &words(&ctx), ret), seen)
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

/// The call site each call of `calls` was issued from.
fn sites_taken(calls: &mut [Call<'_>], capacity: usize) -> Vec<codegen::Site> {
    let (prog, sites) = codegen::generate_with_sites(capacity, 1);
    let mut ctx = encode(calls, capacity).unwrap();
    let mut taken = Vec::new();
    interp::run_at(&prog, &mut ctx, |pc, _, _| {
        taken.push(*sites.iter().find(|s| s.pc == pc).expect("a call site"));
        0
    });
    taken
}

/// One call of each typed constructor.
fn one_of_each_kind<'a>(
    buf: &'a mut [u8],
    data: &'a [u8],
    st: &'a mut [libc::stat; 2],
) -> Vec<Call<'a>> {
    let (b1, rest) = buf.split_at_mut(4);
    let (b2, b3) = rest.split_at_mut(4);
    let [st1, st2] = st;
    vec![
        Call::openat(libc::AT_FDCWD, c"/f", libc::O_RDONLY, 0),
        Call::read(Source::Result(0), b1),
        Call::pread64(Source::Result(0), b2, 3),
        Call::write(1, data),
        Call::pwrite64(1, data, 2),
        Call::fstat(Source::Result(0), st1),
        Call::newfstatat(libc::AT_FDCWD, c"/f", st2, 0),
        Call::getdents64(Source::Result(0), b3),
        Call::lseek(Source::Result(0), 0, libc::SEEK_SET),
        Call::fsync(1),
        Call::ftruncate(1, 0),
        Call::mkdirat(libc::AT_FDCWD, c"/d", 0o755),
        Call::unlinkat(libc::AT_FDCWD, c"/d", libc::AT_REMOVEDIR),
        Call::getpid(),
        Call::getppid(),
        Call::close(0),
    ]
}

#[test]
fn each_typed_number_reaches_a_site_of_its_own() {
    let mut buf = [0u8; 12];
    // SAFETY: `struct stat` is plain data; all zeroes is a valid value.
    let mut st: [libc::stat; 2] = unsafe { std::mem::zeroed() };
    let mut calls = one_of_each_kind(&mut buf, b"data", &mut st);
    // Every constructor's number is one the dispatch knows, and the list
    // has no other.
    let mut nrs: Vec<i64> = calls.iter().map(|c| c.nr()).collect();
    nrs.sort();
    assert_eq!(nrs, calls::TYPED_NUMBERS);
    let expected: Vec<Option<i64>> = calls.iter().map(|c| Some(c.nr())).collect();
    let taken = sites_taken(&mut calls, 16);
    let reached: Vec<Option<i64>> = taken.iter().map(|s| s.nr).collect();
    assert_eq!(reached, expected);
    // 16 sites, one per number, and the generic one.
    let mut pcs: Vec<usize> = taken.iter().map(|s| s.pc).collect();
    pcs.sort();
    pcs.dedup();
    assert_eq!(pcs.len(), 16);
    let (_, sites) = codegen::generate_with_sites(16, 1);
    assert_eq!(sites.len(), 17);
    // Also as a raw call, and with arguments from an earlier result.
    // SAFETY: only ever run by the interpreter.
    let mut calls = unsafe {
        [
            Call::raw("raw", libc::SYS_getppid, &[Source::Const(5)]),
            Call::raw("raw", libc::SYS_close, &[Source::Result(0)]),
        ]
    };
    let taken = sites_taken(&mut calls, 4);
    assert_eq!(taken[0].nr, Some(libc::SYS_getppid));
    assert_eq!(taken[1].nr, Some(libc::SYS_close));
}

#[test]
fn other_numbers_take_the_generic_site() {
    let mut others: Vec<i64> = calls::TYPED_NUMBERS
        .iter()
        .flat_map(|&n| [n - 1, n + 1])
        .filter(|n| !calls::TYPED_NUMBERS.contains(n))
        .collect();
    // Past all, far past, negative, a typed number with high bits set (the
    // dispatch compares all 64), the ends of what a head holds, and beyond.
    let getppid_wide = (1 << 54) | libc::SYS_getppid;
    others.extend([
        600,
        i32::MAX as i64,
        -1,
        (1 << 32) | libc::SYS_getppid,
        getppid_wide,
        (1 << 55) - 1,
        -(1 << 55),
        1 << 55,
        i64::MIN,
        i64::MAX,
        -getppid_wide - (1 << 60),
    ]);
    // SAFETY: only ever run by the interpreter.
    let calls: Vec<Call<'_>> = others
        .iter()
        .map(|&nr| unsafe { Call::raw("raw", nr, &[Source::Const(nr as u64)]) })
        .collect();
    let (prog, sites) = codegen::generate_with_sites(others.len(), 1);
    let mut ctx = encode(&calls, others.len()).unwrap();
    let mut seen = Vec::new();
    interp::run_at(&prog, &mut ctx, |pc, nr, args| {
        let site = sites.iter().find(|s| s.pc == pc).unwrap();
        seen.push((site.nr, nr as i64, args[0] as i64));
        0
    });
    // A number a head cannot hold arrives as one no kernel has either,
    // with the same low 32 bits (what seccomp sees).
    let arrives = |n: i64| {
        if (-(1 << 55)..1 << 55).contains(&n) {
            n
        } else {
            n as u32 as i64 | 1 << 40
        }
    };
    let expected: Vec<_> = others.iter().map(|&n| (None, arrives(n), n)).collect();
    assert_eq!(seen, expected);
    assert_eq!(arrives(i64::MIN), 1 << 40);
    assert_eq!(
        decode(&calls, &words(&ctx), Ok(0)).unwrap(),
        vec![0; others.len()]
    );
}

#[test]
fn sites_are_reached_only_where_r1_is_their_number() {
    // What lets the verifier issue each call inline into its handler: the
    // only way into a site is the fall-through of `if r1 != nr`, where it
    // knows r1 == nr, and nothing in the site writes r1 before the call.
    let (prog, sites) = codegen::generate_with_sites(MAX_CAPACITY, 1);
    let mut targets = Vec::new();
    for (at, i) in prog.iter().enumerate() {
        let class = i.code & 0x07;
        let op = i.code & 0xf0;
        if class == 0x05 && op != 0x80 && op != 0x90 {
            targets.push((at as i64 + 1 + i.off as i64) as usize);
        }
    }
    for site in &sites {
        let Some(nr) = site.nr else { continue };
        let guard = prog[site.start - 1];
        assert_eq!(
            (guard.code, guard.dst_reg(), guard.imm as i64),
            (0x55, 1, nr),
            "site of {nr}"
        );
        assert!(!targets.iter().any(|&t| t > site.start - 1 && t <= site.pc));
        assert_eq!(site.start, site.pc);
        assert_eq!(prog[site.pc].code, 0x85);
    }
    assert_eq!(sites.iter().filter(|s| s.nr.is_none()).count(), 1);
}

#[test]
fn every_argument_may_come_from_an_earlier_result() {
    // SAFETY: only ever run by the interpreter.
    let mut calls = unsafe {
        [
            Call::raw("raw", 1000, &[]),
            Call::raw("raw", 1001, &[]),
            Call::raw(
                "raw",
                libc::SYS_pread64,
                &[
                    Source::Result(1),
                    Source::Const(7),
                    Source::Result(0),
                    Source::Const(u64::MAX),
                    Source::Result(1),
                    Source::Result(0),
                ],
            ),
            Call::raw(
                "raw",
                1002,
                &[
                    Source::Result(2),
                    Source::Result(2),
                    Source::Result(2),
                    Source::Result(2),
                    Source::Result(2),
                    Source::Result(2),
                ],
            ),
        ]
    };
    let (res, seen) = run_host(&mut calls, 4, |nr, _| nr as i64 % 1000 + 10);
    assert_eq!(res.unwrap(), vec![10, 11, 27, 12]);
    assert_eq!(
        seen[2],
        (libc::SYS_pread64 as u64, vec![11, 7, 10, u64::MAX, 11, 10])
    );
    assert_eq!(seen[3], (1002, vec![27; 6]));
}

#[test]
fn a_count_past_the_capacity_runs_nothing() {
    let calls = [Call::getpid()];
    let mut ctx = encode(&calls, 1).unwrap();
    ctx[layout::COUNT..layout::COUNT + 8].copy_from_slice(&2u64.to_ne_bytes());
    let prog = codegen::generate(1, 1);
    let r = interp::run(&prog, &mut ctx, |_, _| panic!("a call ran"));
    assert_eq!(r, -libc::EINVAL as i64);
}

/// What a run came to: each call's result (`i64::MIN` where it did not
/// run), and the call that stopped it with its errno.
type Outcome = (Vec<i64>, Option<(usize, i32)>);

fn outcome(res: io::Result<Vec<i64>>, n: usize) -> Outcome {
    match res {
        Ok(r) => (r, None),
        Err(e) => {
            let se = crate::chain::StepError::of(&e).expect("a step error");
            let results = (0..n).map(|k| se.results(k)[0]).collect();
            (results, Some((se.step, se.errno)))
        }
    }
}

/// A stand-in for the kernel: a result from the number and arguments,
/// some of them errors.
fn model(nr: u64, args: &[u64]) -> i64 {
    let h = args
        .iter()
        .fold(nr.wrapping_mul(0x9e37_79b9_7f4a_7c15), |h, &a| {
            (h ^ a).wrapping_mul(0x100_0000_01b3)
        });
    if h % 5 == 0 {
        -(((h >> 8) % 133 + 1) as i64)
    } else {
        (h >> 16) as i64 & 0xffff
    }
}

fn run_reference(calls: &[Call<'_>], capacity: usize) -> (Outcome, Calls) {
    let entries: Vec<_> = calls.iter().map(|c| c.reference_entry()).collect();
    let prog = reference::generate(capacity, 1);
    let mut ctx = reference::encode(&entries, capacity);
    let mut seen = Vec::new();
    let r = interp::run(&prog, &mut ctx, |nr, args| {
        seen.push((nr, args.to_vec()));
        model(nr, args)
    });
    let (status, results) = reference::decode(&ctx, calls.len(), capacity);
    let stop = (r < 0).then(|| (status as usize - 1, -r as i32));
    ((results, stop), seen)
}

proptest::proptest! {
    #[test]
    fn the_program_does_what_the_previous_one_did(
        spec in proptest::collection::vec(
            (
                proptest::prop_oneof![
                    proptest::sample::select(calls::TYPED_NUMBERS.to_vec()),
                    proptest::sample::select(vec![2i64, 109, 111, 600, -1, (1 << 32) | 39]),
                    0i64..1024,
                ],
                proptest::collection::vec((proptest::prelude::any::<u64>(), 0usize..4, 0usize..64), 6),
                proptest::prelude::any::<bool>(),
            ),
            0..24,
        ),
        capacity_extra in 0usize..3,
    ) {
        // Each argument: a constant, or (about one in four) the result of
        // an earlier call.
        // SAFETY: only ever run by the interpreter.
        let mut calls: Vec<Call<'_>> = spec
            .iter()
            .enumerate()
            .map(|(i, (nr, args, stop))| {
                let args: Vec<Source> = args
                    .iter()
                    .map(|&(v, kind, from)| match kind {
                        0 if i > 0 => Source::Result(from % i),
                        _ => Source::Const(v),
                    })
                    .collect();
                let call = unsafe { Call::raw("raw", *nr, &args) };
                if *stop { call } else { call.continue_on_error() }
            })
            .collect();
        let capacity = calls.len().max(1) + capacity_extra;
        let (expected, expected_calls) = run_reference(&calls, capacity);
        let (res, seen) = run_host(&mut calls, capacity, model);
        proptest::prop_assert_eq!(seen, expected_calls);
        proptest::prop_assert_eq!(outcome(res, calls.len()), expected);
    }
}

#[test]
fn a_context_a_run_left_behind_runs_the_next_batch_like_a_fresh_one() {
    // Batch::run keeps its context from one run to the next.
    let prog = codegen::generate(8, 1);
    let first: Vec<Call<'_>> = (0..8)
        .map(|i| {
            let from = [Source::Result(i.max(1) - 1); 6];
            // SAFETY: only ever run by the interpreter.
            unsafe { Call::raw("raw", 1000 + i as i64, if i == 0 { &[] } else { &from }) }
        })
        .collect();
    let mut ctx = encode(&first, 8).unwrap();
    interp::run(&prog, &mut ctx, |nr, _| nr as i64);
    decode(&first, &words(&ctx), Ok(0)).unwrap();
    // SAFETY: as above.
    let second = unsafe {
        [
            Call::raw("raw", 7, &[Source::Const(1), Source::Const(2)]).continue_on_error(),
            Call::raw("raw", 8, &[Source::Const(3), Source::Result(0)]).continue_on_error(),
            Call::raw("raw", 9, &[]),
        ]
    };
    let mut kept = words(&ctx);
    calls::encode_into(&second, 8, &mut kept).unwrap();
    let mut ctx = calls::as_bytes(&mut kept).to_vec();
    let mut fresh = encode(&second, 8).unwrap();
    let mut seen = [Vec::new(), Vec::new()];
    for (ctx, seen) in [&mut ctx, &mut fresh].into_iter().zip(&mut seen) {
        let r = interp::run(&prog, ctx, |nr, args| {
            seen.push((nr, args.to_vec()));
            -(nr as i64)
        });
        assert_eq!(r, -9);
        assert_eq!(
            outcome(
                decode(&second, &words(ctx), Err(io::Error::from_raw_os_error(9))),
                3
            ),
            (vec![-7, -8, -9], Some((2, 9)))
        );
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(
        seen[0],
        vec![
            (7, vec![1, 2, 0, 0, 0, 0]),
            (8, vec![3, -7i64 as u64, 0, 0, 0, 0]),
            (9, vec![0; 6])
        ]
    );
}
