//! Runs inside the patched kernel: the C ABI's batch, error and NULL paths
//! (the C examples cover programs and chains).

use anycall_ffi::*;
use std::ffi::CStr;

#[test]
fn guest_batch_through_the_c_abi() {
    let batch = anycall_batch_load(8);
    assert!(!batch.is_null());
    let calls = [
        AnycallCall {
            nr: libc::SYS_getppid,
            args: [0; 6],
            from: [0; 6],
            continue_on_error: 0,
        },
        // close(result of call 0): the parent's pid is no fd here.
        AnycallCall {
            nr: libc::SYS_close,
            args: [0; 6],
            from: [1, 0, 0, 0, 0, 0],
            continue_on_error: 1,
        },
        AnycallCall {
            nr: libc::SYS_getpid,
            args: [0; 6],
            from: [0; 6],
            continue_on_error: 0,
        },
    ];
    let mut results = [0i64; 3];
    // SAFETY: valid batch, 3 calls, room for 3 results.
    let ret = unsafe { anycall_batch_run(batch, calls.as_ptr(), 3, results.as_mut_ptr()) };
    assert_eq!(ret, 0);
    assert_eq!(
        results,
        [
            std::os::unix::process::parent_id() as i64,
            -(libc::EBADF as i64),
            std::process::id() as i64
        ]
    );

    // A call naming a later result: refused, with a message.
    let bad = [AnycallCall {
        nr: libc::SYS_close,
        args: [0; 6],
        from: [2, 0, 0, 0, 0, 0],
        continue_on_error: 0,
    }];
    // SAFETY: as above.
    let ret = unsafe { anycall_batch_run(batch, bad.as_ptr(), 1, results.as_mut_ptr()) };
    assert_eq!(ret, -(libc::EINVAL as i64));
    // SAFETY: anycall_last_error() returns a NUL-terminated string.
    let msg = unsafe { CStr::from_ptr(anycall_last_error()) }
        .to_str()
        .unwrap();
    assert_eq!(
        msg,
        "call 0: from[0] = 2 names call 1, which is not an earlier call (from[j] = k + 1 \
         takes the result of call k < 0, 0 the constant in args[j])"
    );
    // SAFETY: ours, freed once.
    unsafe { anycall_batch_free(batch) };
}

#[test]
fn guest_null_and_bad_arguments_give_errnos_not_crashes() {
    // SAFETY: NULL is handled by every entry point.
    unsafe {
        assert!(anycall_program_open(std::ptr::null(), std::ptr::null()).is_null());
        assert_eq!(*libc::__errno_location(), libc::EINVAL);
        assert!(anycall_program_open(c"/nonexistent.o".as_ptr(), std::ptr::null()).is_null());
        assert_eq!(*libc::__errno_location(), libc::ENOENT);
        assert_eq!(
            anycall_program_call(std::ptr::null(), std::ptr::null_mut(), 0),
            -(libc::EINVAL as i64)
        );
        assert_eq!(
            anycall_chain_run(std::ptr::null_mut()),
            -(libc::EINVAL as i64)
        );
        assert!(anycall_chain_load(std::ptr::null_mut()).is_null());
        let b = anycall_chain_builder_new();
        assert_eq!(anycall_chain_slot(b, 9), -libc::EINVAL);
        assert_eq!(
            anycall_chain_read(b, AnycallArg { kind: 0, value: 0 }, 3),
            -libc::EINVAL
        );
        // An empty chain does not load, and says why.
        assert!(anycall_chain_load(b).is_null());
        let msg = CStr::from_ptr(anycall_last_error()).to_str().unwrap();
        assert_eq!(msg, "the chain has no step");
        assert!(anycall_batch_load(0).is_null());
    }
    assert_eq!(anycall_supported(), 1);
}

#[test]
fn guest_failed_runs_report_what_ran_before_the_failing_call() {
    // A batch: open /dev/null, read from a bad fd (stops), getpid.
    let batch = anycall_batch_load(4);
    assert!(!batch.is_null());
    let call = |nr: i64, args: [u64; 6], from: [u64; 6]| AnycallCall {
        nr,
        args,
        from,
        continue_on_error: 0,
    };
    let calls = [
        call(
            libc::SYS_openat,
            [
                libc::AT_FDCWD as i64 as u64,
                c"/dev/null".as_ptr() as u64,
                libc::O_RDONLY as u64,
                0,
                0,
                0,
            ],
            [0; 6],
        ),
        call(libc::SYS_close, [-1i64 as u64, 0, 0, 0, 0, 0], [0; 6]),
        call(libc::SYS_getpid, [0; 6], [0; 6]),
    ];
    let mut results = [0i64; 3];
    // SAFETY: valid batch, 3 calls, room for 3 results; the calls open
    // /dev/null and close -1.
    let ret = unsafe { anycall_batch_run(batch, calls.as_ptr(), 3, results.as_mut_ptr()) };
    assert_eq!(ret, -(libc::EBADF as i64));
    assert!(results[0] >= 0, "{results:?}");
    assert_eq!(&results[1..], &[-(libc::EBADF as i64), i64::MIN]);
    // SAFETY: the fd the batch opened, reported so it can be closed.
    assert_eq!(unsafe { libc::close(results[0] as i32) }, 0);
    // SAFETY: ours, freed once.
    unsafe { anycall_batch_free(batch) };

    // A chain: open, a failing close of -1, close of the open.
    // SAFETY: every builder and chain is used as anycall.h says.
    unsafe {
        let b = anycall_chain_builder_new();
        let path = anycall_chain_slot(b, 1);
        let konst = |v: i64| AnycallArg {
            kind: 0,
            value: v as u64,
        };
        let open = anycall_chain_openat(
            b,
            konst(libc::AT_FDCWD as i64),
            path,
            konst(libc::O_RDONLY as i64),
            konst(0),
        );
        let bad = anycall_chain_close(b, konst(-1));
        let close = anycall_chain_close(
            b,
            AnycallArg {
                kind: 1,
                value: open as u64,
            },
        );
        let c = anycall_chain_load(b);
        assert!(!c.is_null());
        assert_eq!(anycall_chain_set_path(c, path, c"/dev/null".as_ptr()), 0);
        assert_eq!(anycall_chain_run(c), -(libc::EBADF as i64));
        assert_eq!(anycall_chain_failed_step(c), bad);
        let fd = anycall_chain_result(c, open);
        assert!(fd >= 0, "{fd}");
        assert_eq!(anycall_chain_result(c, bad), -(libc::EBADF as i64));
        assert_eq!(anycall_chain_result(c, close), i64::MIN);
        assert_eq!(libc::close(fd as i32), 0);
        anycall_chain_free(c);
    }
}
