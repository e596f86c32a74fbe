//! Runs inside the patched kernel: the generic batch program.

use anycall::batch::{Batch, Call, Source};
use anycall::chain::StepError;

#[test]
fn guest_batch_runs_calls_that_change_shape_every_time() {
    let batch = Batch::load(16).unwrap();
    let path = std::env::temp_dir().join(format!("anycall-batch-{}", std::process::id()));
    std::fs::write(&path, b"hello from a batch").unwrap();
    let cpath = std::ffi::CString::new(path.to_str().unwrap()).unwrap();

    let mut buf = [0u8; 5];
    // SAFETY: `struct stat` is plain data; all zeroes is a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let mut calls = [
        Call::openat(libc::AT_FDCWD, &cpath, libc::O_RDONLY, 0),
        Call::pread64(Source::Result(0), &mut buf, 6),
        Call::fstat(Source::Result(0), &mut st),
        Call::close(0),
    ];
    let res = batch.run(&mut calls).unwrap();
    assert_eq!(&res[1..], &[5, 0, 0]);
    assert_eq!(&buf, b"from ");
    assert_eq!(st.st_size, 18);

    // Another shape through the same program.
    let mut calls: Vec<Call<'_>> = (0..16).map(|_| Call::getppid()).collect();
    let res = batch.run(&mut calls).unwrap();
    assert_eq!(res, vec![std::os::unix::process::parent_id() as i64; 16]);
}

#[test]
fn guest_batch_stops_at_a_failing_call_and_names_it() {
    let batch = Batch::load(4).unwrap();
    let mut calls = [
        Call::getpid(),
        Call::openat(libc::AT_FDCWD, c"/nonexistent", libc::O_RDONLY, 0),
        Call::close(1),
    ];
    let err = batch.run(&mut calls).unwrap_err();
    let step: &StepError = err.get_ref().unwrap().downcast_ref().unwrap();
    assert_eq!(
        (step.step, step.name.as_str(), step.errno),
        (1, "openat", libc::ENOENT)
    );

    let mut calls = [
        Call::openat(libc::AT_FDCWD, c"/nonexistent", libc::O_RDONLY, 0).continue_on_error(),
        Call::close(0).continue_on_error(),
    ];
    assert_eq!(
        batch.run(&mut calls).unwrap(),
        vec![-(libc::ENOENT as i64), -(libc::EBADF as i64)]
    );

    let mut five: Vec<Call<'_>> = (0..5).map(|_| Call::getpid()).collect();
    assert_eq!(
        batch.run(&mut five).unwrap_err().kind(),
        std::io::ErrorKind::InvalidInput
    );
}

#[test]
fn guest_batch_of_the_largest_capacity_verifies() {
    let batch = Batch::load(anycall::batch::MAX_CAPACITY).unwrap();
    let mut calls: Vec<Call<'_>> = (0..anycall::batch::MAX_CAPACITY)
        .map(|_| Call::getppid())
        .collect();
    assert_eq!(
        batch.run(&mut calls).unwrap().len(),
        anycall::batch::MAX_CAPACITY
    );
}
