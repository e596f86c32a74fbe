//! Host tests of the chain builder: checks, and generated programs run by
//! an interpreter against a model of what the chain means.

use super::invocation::Invocation;
use super::*;
use crate::interp;

/// The calls a program made: number and arguments.
type Calls = Vec<(u64, Vec<u64>)>;
use proptest::prelude::*;
use std::cell::RefCell;

/// Runs `built` on the host: `results(nr, args)` plays the kernel. Returns
/// the outcome and the calls the program made.
fn run_host<'c>(
    built: &BuiltChain,
    inv: &mut Invocation<'c, '_>,
    mut results: impl FnMut(u64, &[u64]) -> i64,
) -> (io::Result<Outcome<'c>>, Calls) {
    let prog = built.bytecode(4242);
    let calls = RefCell::new(Vec::new());
    let out = inv.run_with(|ctx| {
        let r = interp::run(&prog, ctx, |nr, args| {
            calls.borrow_mut().push((nr, args.to_vec()));
            results(nr, args)
        });
        // anycall(2) returns a negative program result as an errno.
        if r < 0 {
            Err(io::Error::from_raw_os_error(-r as i32))
        } else {
            Ok(r)
        }
    });
    (out, calls.into_inner())
}

fn raw(b: &mut ChainBuilder, nr: i64, args: &[Arg]) -> Step {
    // SAFETY: the chain only ever runs in the interpreter.
    unsafe { b.syscall("raw", nr, args) }
}

fn build_error(f: impl FnOnce(&mut ChainBuilder)) -> String {
    let mut b = ChainBuilder::new();
    f(&mut b);
    b.build().unwrap_err().to_string()
}

#[test]
fn chains_that_cannot_work_are_refused_naming_the_step() {
    assert_eq!(build_error(|_| {}), "the chain has no step");
    let e = build_error(|b| {
        let later = Step(1, b.id());
        b.close(later);
        b.getpid();
    });
    assert_eq!(
        e,
        "step 0: close: argument 0: refers to the result of step 1, which is not an earlier step"
    );
    let e = build_error(|b| {
        let p = b.getpid();
        b.on_error(p, OnError::Goto(p));
    });
    assert_eq!(
        e,
        "step 0: getpid: on error goes to step 0, which is not a later step"
    );
    let e = build_error(|b| {
        let v = b.value();
        b.read(0, &v);
    });
    assert_eq!(
        e,
        "step 0: read: argument 1: a value slot where an output buffer must go"
    );
    let e = build_error(|b| {
        let p = b.path();
        b.write(1, &p);
    });
    assert_eq!(
        e,
        "step 0: write: argument 1: a path slot where an input buffer must go"
    );
    let e = build_error(|b| {
        raw(b, 1, &[Arg::Const(0); 7]);
    });
    assert_eq!(e, "step 0: raw: 7 arguments; a system call takes 6 at most");
    let e = build_error(|b| {
        let paths = b.paths(4);
        b.openat(0, &paths, 0, 0);
    });
    assert_eq!(
        e,
        "step 0: openat: argument 1: a path array is only usable inside a loop"
    );
    let e = build_error(|b| {
        let paths = b.paths(4);
        b.for_each(8, |b| {
            b.openat(0, &paths, 0, 0);
        });
    });
    assert_eq!(
        e,
        "step 0: openat: argument 1: a path array of 4 elements in a loop of 8"
    );
    let e = build_error(|b| {
        b.for_each(2, |b| {
            b.for_each(2, |b| {
                b.getpid();
            });
        });
    });
    assert_eq!(e, "step 0: loops do not nest");
    let e = build_error(|b| {
        b.for_each(MAX_LOOP + 1, |b| {
            b.getpid();
        });
    });
    assert_eq!(e, "step 0: a loop runs 1 to 1024 times, not 1025");
    let e = build_error(|b| {
        let mut inner = None;
        b.for_each(2, |b| inner = Some(b.getpid()));
        b.close(inner.unwrap());
    });
    assert_eq!(
        e,
        "step 1: close: argument 0: refers to step 0, inside a loop it is not in"
    );
    let e = build_error(|b| {
        let stats = b.outputs::<u64>(4);
        b.for_each(4, |b| {
            b.fstat(0, &stats);
        });
    });
    assert_eq!(
        e,
        "step 0: fstat: argument 1: output elements of 8 bytes; the call writes 144"
    );
    let e = build_error(|b| {
        for _ in 0..9 {
            b.values(MAX_LOOP);
        }
        b.getpid();
    });
    assert!(e.starts_with("the context would take 73"), "{e}");
    let e = build_error(|b| {
        for _ in 0..=MAX_STEPS {
            b.getpid();
        }
    });
    assert_eq!(e, "1025 steps, more than 1024");
}

#[test]
fn arguments_come_from_constants_slots_and_earlier_results() {
    let mut b = ChainBuilder::new();
    let v = b.value();
    let path = b.path();
    let out = b.output();
    let first = b.getpid();
    let big = u64::MAX - 5;
    let second = raw(
        &mut b,
        77,
        &[
            Arg::Const(3),
            Arg::Const(big),
            Arg::Value(v),
            Arg::Result(first),
        ],
    );
    let read = b.read(second, &out);
    b.openat(libc::AT_FDCWD, &path, libc::O_RDONLY, 0o644);
    let built = b.build().unwrap();
    let mut buf = [0u8; 32];
    let mut inv = Invocation::new(&built, None);
    inv.value(&v, 0x1234_5678_9abc).unwrap();
    inv.path(&path, c"/x").unwrap();
    inv.output(&out, &mut buf).unwrap();
    let (res, calls) = run_host(&built, &mut inv, |nr, _| nr as i64 * 10);
    let res = res.unwrap();
    let getpid = libc::SYS_getpid as u64;
    assert_eq!(calls[0], (getpid, vec![0]));
    assert_eq!(calls[1], (77, vec![3, big, 0x1234_5678_9abc, getpid * 10]));
    assert_eq!(calls[2].1[0], 770);
    assert_eq!(calls[2].1[1], buf.as_ptr() as u64);
    assert_eq!(calls[2].1[2], 32);
    assert_eq!(
        calls[3].1,
        vec![
            libc::AT_FDCWD as i64 as u64,
            c"/x".as_ptr() as u64,
            0,
            0o644
        ]
    );
    assert_eq!(res.result(second), Some(770));
    assert_eq!(res.result(read), Some(libc::SYS_read * 10));
}

#[test]
fn a_failing_step_stops_the_chain_or_jumps_as_its_policy_says() {
    let mut b = ChainBuilder::new();
    let a = raw(&mut b, 1, &[]);
    let c = raw(&mut b, 2, &[]);
    let d = raw(&mut b, 3, &[]);
    let e = raw(&mut b, 4, &[]);
    b.on_error(a, OnError::Continue);
    b.on_error(c, OnError::Goto(e));
    let built = b.build().unwrap();
    let (res, calls) = run_host(&built, &mut Invocation::new(&built, None), |nr, _| {
        if nr <= 2 {
            -5
        } else {
            9
        }
    });
    let res = res.unwrap();
    assert_eq!(calls.iter().map(|c| c.0).collect::<Vec<_>>(), vec![1, 2, 4]);
    assert_eq!(
        (res.result(a), res.result(c), res.result(d), res.result(e)),
        (Some(-5), Some(-5), None, Some(9))
    );

    let (res, calls) = run_host(&built, &mut Invocation::new(&built, None), |nr, _| {
        if nr == 4 {
            -13
        } else {
            0
        }
    });
    assert_eq!(calls.len(), 4);
    let err = res.unwrap_err();
    assert_eq!(
        err.to_string(),
        "step 3 (raw) failed: Permission denied (os error 13)"
    );
}

#[test]
fn loops_index_arrays_and_keep_one_result_per_iteration() {
    let mut b = ChainBuilder::new();
    let vals = b.values(8);
    let outs = b.outputs::<[u8; 24]>(8);
    let before = b.getpid();
    let (mut x, mut y) = (None, None);
    let lp = b.for_each(8, |b| {
        x = Some(raw(
            b,
            10,
            &[
                Arg::Index,
                Arg::Value(vals),
                Arg::Ptr(outs),
                Arg::Len(outs),
                Arg::Result(before),
            ],
        ));
        y = Some(raw(b, 11, &[Arg::Result(x.unwrap())]));
    });
    let after = raw(&mut b, 12, &[Arg::Result(before)]);
    let built = b.build().unwrap();
    let mut elems = [[0u8; 24]; 5];
    let base = elems.as_ptr() as u64;
    let mut inv = Invocation::new(&built, None);
    inv.values(&vals, &[50, 51, 52, 53, 54]).unwrap();
    inv.outputs(&outs, &mut elems).unwrap();
    let (res, calls) = run_host(&built, &mut inv, |nr, args| {
        if nr == 10 {
            100 + args[0] as i64
        } else {
            nr as i64
        }
    });
    let res = res.unwrap();
    assert_eq!(calls.len(), 1 + 5 * 2 + 1);
    for i in 0..5u64 {
        let c = &calls[1 + 2 * i as usize];
        assert_eq!(
            c,
            &(
                10,
                vec![i, 50 + i, base + 24 * i, 24, libc::SYS_getpid as u64]
            )
        );
        assert_eq!(calls[2 + 2 * i as usize], (11, vec![100 + i]));
    }
    assert_eq!(res.results(x.unwrap()), &[100, 101, 102, 103, 104]);
    assert_eq!(res.results(y.unwrap()), &[11; 5]);
    assert_eq!(res.result(after), Some(12));

    // A failure in a loop names its iteration.
    let mut inv = Invocation::new(&built, None);
    inv.values(&vals, &[1, 2, 3]).unwrap();
    inv.count(lp, 3).unwrap();
    inv.outputs(&outs, &mut elems[..3]).unwrap();
    let (res, _) = run_host(&built, &mut inv, |nr, args| {
        if nr == 11 && args[0] == 101 {
            -2
        } else {
            100 + args[0] as i64
        }
    });
    assert_eq!(
        res.unwrap_err().to_string(),
        "step 2 (raw) in iteration 1 failed: No such file or directory (os error 2)"
    );
}

#[test]
fn bad_bindings_are_refused_before_running() {
    let mut b = ChainBuilder::new();
    let vals = b.values(4);
    let paths = b.paths(4);
    let st = b.output();
    b.fstat(0, &st);
    b.for_each(4, |b| {
        raw(b, 1, &[Arg::Value(vals), Arg::Ptr(paths)]);
    });
    let built = b.build().unwrap();
    let mut inv = Invocation::new(&built, None);
    let mut small = [0u8; 16];
    assert!(inv
        .output(&st, &mut small)
        .unwrap_err()
        .to_string()
        .contains("144"));
    assert!(inv
        .value(&vals, 1)
        .unwrap_err()
        .to_string()
        .contains("not a value slot"));
    assert!(inv
        .values(&vals, &[1; 5])
        .unwrap_err()
        .to_string()
        .contains("more than its 4"));
    inv.values(&vals, &[1, 2]).unwrap();
    let err = inv.paths(&paths, &[c"a", c"b", c"c"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "loop 0: slot 1 has 3 elements, but the loop runs 2 times"
    );
    let err = inv.run_with(|_| unreachable!()).unwrap_err();
    assert_eq!(err.to_string(), "slot 1 (a path array) is not set");
}

/// A step of a random chain, and the model of what it should do.
#[derive(Clone, Debug)]
struct RandomStep {
    /// Sources: constant, or the result of the step this many back.
    args: Vec<Result<u64, usize>>,
    policy: u8,
    goto_ahead: usize,
}

fn random_chain() -> impl Strategy<Value = (Vec<RandomStep>, Vec<i64>)> {
    let step = (
        prop::collection::vec(
            prop_oneof![any::<u64>().prop_map(Ok), (1usize..4).prop_map(Err)],
            0..=6,
        ),
        0u8..3,
        1usize..4,
    )
        .prop_map(|(args, policy, goto_ahead)| RandomStep {
            args,
            policy,
            goto_ahead,
        });
    (
        prop::collection::vec(step, 1..24),
        prop::collection::vec(prop_oneof![-40i64..0, 0i64..1 << 40], 24),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever the chain, the program makes the calls the model says, with
    /// the arguments it says, and reports the outcome it says.
    #[test]
    fn generated_programs_do_what_the_chain_says((steps, rets) in random_chain()) {
        let n = steps.len();
        let mut b = ChainBuilder::new();
        let mut ids = Vec::new();
        let mut policies = Vec::new();
        for (i, s) in steps.iter().enumerate() {
            let args: Vec<Arg> = s.args.iter().map(|a| match *a {
                Ok(c) => Arg::Const(c),
                Err(back) if back <= i => Arg::Result(ids[i - back]),
                Err(_) => Arg::Const(7),
            }).collect();
            let id = raw(&mut b, 1000 + i as i64, &args);
            let policy = match s.policy {
                0 => OnError::Stop,
                1 => OnError::Continue,
                _ if i + s.goto_ahead < n => OnError::Goto(Step(i + s.goto_ahead, b.id())),
                _ => OnError::Continue,
            };
            b.on_error(id, policy);
            ids.push(id);
            policies.push(policy);
        }
        let built = b.build().unwrap();
        let (res, calls) = run_host(&built, &mut Invocation::new(&built, None), |nr, _| rets[nr as usize - 1000]);

        // The model.
        let mut expect_calls = Vec::new();
        let mut results: Vec<Option<i64>> = vec![None; n];
        let mut stopped = None;
        let mut i = 0;
        while i < n {
            // A step taking the result of one that did not run does not run.
            let skipped = steps[i].args.iter().any(|a| matches!(*a, Err(back) if back <= i && results[i - back].is_none()));
            if skipped {
                i += 1;
                continue;
            }
            let args: Vec<u64> = steps[i].args.iter().map(|a| match *a {
                Ok(c) => c,
                Err(back) if back <= i => results[i - back].unwrap() as u64,
                Err(_) => 7,
            }).collect();
            let args = if args.is_empty() { vec![0] } else { args };
            expect_calls.push((1000 + i as u64, args));
            let r = rets[i];
            results[i] = Some(r);
            if r < 0 {
                match policies[i] {
                    OnError::Stop => { stopped = Some((i, -r)); break; }
                    OnError::Continue => {}
                    OnError::Goto(t) => { i = t.0; continue; }
                }
            }
            i += 1;
        }
        prop_assert_eq!(calls, expect_calls);
        match (res, stopped) {
            (Ok(out), None) => {
                for (k, id) in ids.iter().enumerate() {
                    prop_assert_eq!(out.result(*id), results[k]);
                }
            }
            (Err(e), Some((step, errno))) => {
                let se: &StepError = e.get_ref().unwrap().downcast_ref().unwrap();
                prop_assert_eq!((se.step, se.errno as i64), (step, errno));
            }
            (res, stopped) => prop_assert!(false, "got {:?}, model stopped at {:?}", res, stopped),
        }
    }
}

#[test]
fn contexts_past_32_kib_are_addressed_with_an_immediate() {
    let mut b = ChainBuilder::new();
    let arrays: Vec<Slot> = (0..5).map(|_| b.values(MAX_LOOP)).collect();
    let first = b.getpid();
    let mut step = None;
    b.for_each(MAX_LOOP, |b| {
        step = Some(raw(b, 5, &[Arg::Value(arrays[4]), Arg::Result(first)]));
    });
    let after = raw(&mut b, 6, &[Arg::Result(first)]);
    let built = b.build().unwrap();
    assert!(built.ctx_size() > 48 * 1024);
    let mut inv = Invocation::new(&built, None);
    for a in &arrays[..4] {
        inv.values(a, &[0; 3]).unwrap();
    }
    inv.values(&arrays[4], &[7, 8, 9]).unwrap();
    let (res, calls) = run_host(&built, &mut inv, |nr, args| {
        if nr == 5 {
            args[0] as i64 * 2
        } else {
            1
        }
    });
    let res = res.unwrap();
    assert_eq!(
        calls[1..4].iter().map(|c| c.1.clone()).collect::<Vec<_>>(),
        vec![vec![7, 1], vec![8, 1], vec![9, 1]]
    );
    assert_eq!(res.results(step.unwrap()), &[14, 16, 18]);
    assert_eq!(res.result(after), Some(1));
}

#[test]
fn a_loop_never_runs_past_the_arrays_bound_to_it() {
    let mut b = ChainBuilder::new();
    let outs = b.outputs::<[u8; 8]>(16);
    let vals = b.values(16);
    let lp = b.for_each(16, |b| {
        raw(b, 1, &[Arg::Ptr(outs), Arg::Value(vals)]);
    });
    let built = b.build().unwrap();
    let mut small = [[0u8; 8]; 3];
    let mut inv = Invocation::new(&built, None);
    inv.outputs(&outs, &mut small).unwrap();
    // More iterations than the output array has elements: refused.
    let err = inv.count(lp, 10).unwrap_err();
    assert_eq!(
        err.to_string(),
        "loop 0: 10 iterations, but slot 0 has 3 elements"
    );
    let err = inv.values(&vals, &[1, 2, 3, 4]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "loop 0: slot 1 has 4 elements, but the loop runs 3 times"
    );
    inv.values(&vals, &[1, 2, 3]).unwrap();
    inv.count(lp, 3).unwrap();
    let (res, calls) = run_host(&built, &mut inv, |_, _| 0);
    res.unwrap();
    assert_eq!(calls.len(), 3);

    // An explicit count first: arrays must match it.
    let mut inv = Invocation::new(&built, None);
    inv.count(lp, 2).unwrap();
    let mut three = [[0u8; 8]; 3];
    let err = inv.outputs(&outs, &mut three).unwrap_err();
    assert_eq!(
        err.to_string(),
        "loop 0: slot 0 has 3 elements, but the loop runs 2 times"
    );
}

#[test]
fn handles_of_another_chain_are_refused() {
    let mut other = ChainBuilder::new();
    let foreign_out = other.output();
    let foreign_path = other.path();
    let mut b = ChainBuilder::new();
    let path = b.path();
    b.openat(0, &path, 0, 0);
    b.read(0, &foreign_out);
    let e = b.build().unwrap_err().to_string();
    assert_eq!(
        e,
        "step 1: read: argument 1: slot 0 belongs to another chain"
    );

    let mut b = ChainBuilder::new();
    let path = b.path();
    b.openat(0, &path, 0, 0);
    b.on_error(Step(7, b.id()), OnError::Continue);
    assert_eq!(
        b.build().unwrap_err().to_string(),
        "on_error() for step 7, which does not exist"
    );

    let mut b = ChainBuilder::new();
    let path = b.path();
    let open = b.openat(0, &path, 0, 0);
    let built = b.build().unwrap();
    let mut inv = Invocation::new(&built, None);
    let err = inv.path(&foreign_path, c"/x").unwrap_err();
    assert_eq!(err.to_string(), "slot 1 is not one of this chain's");
    assert!(inv.count(Loop(3, built.plan.id), 0).is_err());
    inv.path(&path, c"/x").unwrap();
    let (res, _) = run_host(&built, &mut inv, |_, _| 3);
    let res = res.unwrap();
    assert_eq!(res.result(open), Some(3));
    assert_eq!(res.result(Step(9, built.plan.id)), None);
}

#[test]
fn an_output_array_shared_by_two_loops_is_refused() {
    // Bound to one element, the array would be checked against the first
    // loop's count only: the second, counted 4, would fstat into offsets
    // 144, 288 and 432 of a 144-byte slice.
    let e = build_error(|b| {
        let stats = b.outputs::<libc::stat>(4);
        b.for_each(4, |b| {
            b.fstat(0, &stats);
        });
        b.for_each(4, |b| {
            b.fstat(1, &stats);
        });
    });
    assert_eq!(
        e,
        "step 1: fstat: slot 0 (an output array) is used by loops 0 and 1; an array belongs to one loop"
    );
    // Value and path arrays too: each loop's count is checked against the
    // arrays of that loop.
    let e = build_error(|b| {
        let vals = b.values(4);
        b.for_each(4, |b| {
            raw(b, 1, &[Arg::Value(vals)]);
        });
        b.for_each(4, |b| {
            raw(b, 2, &[Arg::Index, Arg::Value(vals)]);
        });
    });
    assert!(e.contains("is used by loops 0 and 1"), "{e}");
    // Used twice in one loop is fine.
    let mut b = ChainBuilder::new();
    let stats = b.outputs::<libc::stat>(4);
    b.for_each(4, |b| {
        b.fstat(0, &stats);
        b.fstat(1, &stats);
    });
    b.build().unwrap();
}

#[test]
fn array_sizes_are_bounded_and_the_layout_never_wraps() {
    // 8 * ((1 << 61) + 1) wraps to 8: the array would take one word, and
    // binding it would overwrite the slots after it.
    let e = build_error(|b| {
        b.values((1 << 61) + 1);
        b.getpid();
    });
    assert_eq!(
        e,
        "slot 0: a value array holds 1 to 1024 elements, not 2305843009213693953"
    );
    let e = build_error(|b| {
        b.getpid();
        b.paths(0);
    });
    assert_eq!(e, "slot 0: a path array holds 1 to 1024 elements, not 0");
    let e = build_error(|b| {
        b.outputs::<u8>(MAX_LOOP + 1);
        b.getpid();
    });
    assert_eq!(
        e,
        "slot 0: an output array holds 1 to 1024 elements, not 1025"
    );
    // Whatever a plan says, the layout does not wrap.
    let plan = builder::Plan {
        slots: vec![
            builder::SlotKind::Values { max: (1 << 61) + 1 },
            builder::SlotKind::Value,
        ],
        ..builder::Plan::default()
    };
    assert!(layout::Layout::new(&plan).is_none());
    let plan = builder::Plan {
        slots: vec![
            builder::SlotKind::Paths {
                max: usize::MAX / 8
            };
            2
        ],
        ..builder::Plan::default()
    };
    assert!(layout::Layout::new(&plan).is_none());
}

#[test]
fn a_step_whose_input_did_not_run_does_not_run() {
    // open fails and jumps over the second open; the close of the second
    // would get the "did not run" mark, i64::MIN, which is fd 0 in its
    // low 32 bits: close(0).
    let mut b = ChainBuilder::new();
    let p = b.path();
    let first = b.openat(libc::AT_FDCWD, &p, libc::O_RDONLY, 0);
    let second = b.openat(libc::AT_FDCWD, &p, libc::O_RDONLY, 0);
    let last = b.getpid();
    let buf = b.output();
    let read = b.read(second, &buf);
    let after = raw(&mut b, 99, &[Arg::Result(read)]);
    let close = b.close(second);
    b.on_error(first, OnError::Goto(close));
    let built = b.build().unwrap();
    let mut data = [0u8; 8];
    // Runs the chain with every openat() returning `opened`.
    let mut run_with_openat = |opened: i64| {
        let mut inv = Invocation::new(&built, None);
        inv.path(&p, c"/x").unwrap();
        inv.output(&buf, &mut data).unwrap();
        let (res, calls) = run_host(&built, &mut inv, |nr, _| {
            if nr == libc::SYS_openat as u64 {
                opened
            } else {
                0
            }
        });
        (res.unwrap(), calls)
    };

    let (res, calls) = run_with_openat(-2);
    let nrs: Vec<u64> = calls.iter().map(|c| c.0).collect();
    assert_eq!(nrs, vec![libc::SYS_openat as u64]);
    assert_eq!(res.result(first), Some(-2));
    for step in [second, last, read, after, close] {
        assert_eq!(res.result(step), None, "{step:?}");
    }

    // When the source ran, its dependents run.
    let (_, calls) = run_with_openat(5);
    let nrs: Vec<u64> = calls.iter().map(|c| c.0).collect();
    let (open, read_nr, close_nr) = (
        libc::SYS_openat as u64,
        libc::SYS_read as u64,
        libc::SYS_close as u64,
    );
    let getpid = libc::SYS_getpid as u64;
    assert_eq!(nrs, vec![open, open, getpid, read_nr, 99, close_nr]);
    assert_eq!(calls[5].1, vec![5]);
}

#[test]
fn close_takes_only_a_descriptor_the_chain_opened_once() {
    // (`b.close(3)` does not compile: see the doctest of `close()`.)
    let e = build_error(|b| {
        let pid = b.getpid();
        b.close(pid);
    });
    assert_eq!(
        e,
        "step 1: close: step 0 (getpid) opens no descriptor; close() closes only what this \
         chain opened (the unsafe ChainBuilder::syscall() closes any number)"
    );
    let e = build_error(|b| {
        let p = b.path();
        let fd = b.openat(libc::AT_FDCWD, &p, libc::O_RDONLY, 0);
        b.close(fd);
        b.close(fd);
    });
    assert_eq!(
        e,
        "step 2: close: step 1 closes the descriptor of step 0 already"
    );
    let e = build_error(|b| {
        let p = b.path();
        let fd = b.openat(libc::AT_FDCWD, &p, libc::O_RDONLY, 0);
        b.for_each(4, |b| {
            b.close(fd);
        });
    });
    assert_eq!(
        e,
        "step 1: close: closes the descriptor of step 0 in every iteration of a loop that \
         step is not in"
    );
    // Open and close in one loop: one close per iteration's descriptor.
    let mut b = ChainBuilder::new();
    let paths = b.paths(4);
    b.for_each(4, |b| {
        let fd = b.openat(libc::AT_FDCWD, &paths, libc::O_RDONLY, 0);
        b.close(fd);
    });
    b.build().unwrap();
}

#[test]
fn steps_and_loops_of_another_chain_are_refused() {
    // Same index, other chain: each used to mean this chain's step 0 or
    // loop 0.
    let mut other = ChainBuilder::new();
    let foreign = other.getpid();
    let foreign_loop = other.for_each(4, |b| {
        b.getpid();
    });
    let p = b_path_open_close_errors(foreign);
    assert_eq!(
        p,
        vec![
            "step 1: raw: argument 0: step 0 belongs to another chain".to_string(),
            "on_error() for step 0 of another chain".to_string(),
            "step 0: openat: on error goes to step 0 of another chain".to_string(),
        ]
    );

    let mut b = ChainBuilder::new();
    let own = b.getpid();
    let lp = b.for_each(4, |b| {
        b.getpid();
    });
    let built = b.build().unwrap();
    let mut inv = Invocation::new(&built, None);
    let err = inv.count(foreign_loop, 2).unwrap_err();
    assert_eq!(err.to_string(), "loop 0 is not one of this chain's");
    inv.count(lp, 2).unwrap();
    let (res, _) = run_host(&built, &mut inv, |_, _| 5);
    let res = res.unwrap();
    assert_eq!(res.result(own), Some(5));
    assert_eq!(res.result(foreign), None);
    assert_eq!(res.results(foreign), &[] as &[i64]);
}

/// The build errors of three chains that each use `foreign` one way.
fn b_path_open_close_errors(foreign: Step) -> Vec<String> {
    let mut out = Vec::new();
    let mut b = ChainBuilder::new();
    b.getpid();
    raw(&mut b, 1, &[Arg::Result(foreign)]);
    out.push(b.build().unwrap_err().to_string());
    let mut b = ChainBuilder::new();
    b.getpid();
    b.on_error(foreign, OnError::Continue);
    out.push(b.build().unwrap_err().to_string());
    let mut b = ChainBuilder::new();
    let p = b.path();
    let open = b.openat(0, &p, 0, 0);
    b.getpid();
    b.on_error(open, OnError::Goto(foreign));
    out.push(b.build().unwrap_err().to_string());
    out
}

#[test]
fn output_elements_of_2_gib_or_more_are_refused() {
    // The stride was truncated to an i32: 1 << 31 became -2 GiB, and the
    // length passed to the kernel 0xffff_ffff_8000_0000.
    let e = build_error(|b| {
        let big = b.outputs::<[u8; 1 << 31]>(2);
        b.for_each(2, |b| {
            raw(b, 1, &[Arg::Ptr(big), Arg::Len(big)]);
        });
    });
    assert_eq!(
        e,
        "slot 0: output elements of 2147483648 bytes; an output array takes elements of less \
         than 2 GiB"
    );
    let mut b = ChainBuilder::new();
    let fits = b.outputs::<[u8; (1 << 31) - 1]>(2);
    b.for_each(2, |b| {
        raw(b, 1, &[Arg::Ptr(fits), Arg::Len(fits)]);
    });
    b.build().unwrap();
}

#[test]
fn a_failed_run_keeps_the_results_of_the_steps_before_it() {
    // The fd opened before the failing read used to be lost with the
    // results: nobody could close it.
    let mut b = ChainBuilder::new();
    let p = b.path();
    let paths = b.paths(4);
    let buf = b.output();
    let open = b.openat(libc::AT_FDCWD, &p, libc::O_RDONLY, 0);
    let mut in_loop = None;
    b.for_each(4, |b| {
        in_loop = Some(b.openat(libc::AT_FDCWD, &paths, libc::O_RDONLY, 0));
    });
    let read = b.read(open, &buf);
    let close = b.close(open);
    let built = b.build().unwrap();
    let mut data = [0u8; 4];
    let mut inv = Invocation::new(&built, None);
    inv.path(&p, c"/x").unwrap();
    inv.paths(&paths, &[c"/a", c"/b", c"/c"]).unwrap();
    inv.output(&buf, &mut data).unwrap();
    let mut next = 3;
    let (res, _) = run_host(&built, &mut inv, |nr, _| {
        if nr == libc::SYS_read as u64 {
            -libc::EIO as i64
        } else {
            next += 1;
            next
        }
    });
    let err = res.unwrap_err();
    let se = StepError::of(&err).unwrap();
    assert_eq!((se.step, se.errno), (read.index(), libc::EIO));
    assert_eq!(se.result(open.index()), Some(4));
    assert_eq!(se.results(in_loop.unwrap().index()), &[5, 6, 7]);
    assert_eq!(se.result(read.index()), Some(-libc::EIO as i64));
    assert_eq!(se.result(close.index()), None);
    assert_eq!(se.results(99), &[] as &[i64]);
}
