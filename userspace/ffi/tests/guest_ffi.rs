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
        "call 0 (syscall): argument 0 is the result of call 1, which is not an earlier call"
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
