//! Runs inside the patched kernel: chains built at run time, checked
//! against the same system calls made directly.

use anycall::chain::{Arg, ChainBuilder, OnError, StepError};
use std::ffi::CString;
use std::os::unix::fs::MetadataExt;

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("anycall-chain-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn cstr(p: &std::path::Path) -> CString {
    CString::new(p.to_str().unwrap()).unwrap()
}

#[test]
fn guest_chain_opens_reads_and_closes_a_file_many_times() {
    let dir = scratch("read");
    let mut b = ChainBuilder::new();
    let path = b.path();
    let buf = b.output();
    let fd = b.openat(libc::AT_FDCWD, &path, libc::O_RDONLY | libc::O_CLOEXEC, 0);
    let n = b.read(fd, &buf);
    let closed = b.close(fd);
    let chain = b.build().unwrap().load().unwrap();

    // Built once, called with different files: a prepared statement.
    for i in 0..20 {
        let file = dir.join(format!("f{i}"));
        let data = format!("file number {i}\n").repeat(i + 1);
        std::fs::write(&file, &data).unwrap();
        let cpath = cstr(&file);
        let mut out = vec![0u8; 4096];
        let mut call = chain.invocation();
        call.path(&path, &cpath).unwrap();
        call.output(&buf, &mut out).unwrap();
        let res = call.run().unwrap();
        let got = res.result(n).unwrap() as usize;
        assert_eq!(&out[..got], data.as_bytes());
        assert_eq!(res.result(closed), Some(0));
        // The chain closed what it opened: the number no longer names the
        // file (another test thread may have reused it for something else).
        let opened = res.result(fd).unwrap();
        assert!(opened >= 3);
        let link = std::fs::read_link(format!("/proc/self/fd/{opened}"));
        assert!(link.map_or(true, |l| l != file), "fd {opened} still open");
    }
}

#[test]
fn guest_chain_stops_at_the_failing_step_and_names_it() {
    let mut b = ChainBuilder::new();
    let path = b.path();
    let buf = b.output();
    let fd = b.openat(libc::AT_FDCWD, &path, libc::O_RDONLY, 0);
    let n = b.read(fd, &buf);
    b.close(fd);
    let chain = b.build().unwrap().load().unwrap();
    let mut out = [0u8; 16];
    let mut call = chain.invocation();
    call.path(&path, c"/nonexistent/file").unwrap();
    call.output(&buf, &mut out).unwrap();
    let err = call.run().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        "step 0 (openat) failed: No such file or directory (os error 2)"
    );
    let step: &StepError = err.get_ref().unwrap().downcast_ref().unwrap();
    assert_eq!((step.step, step.errno), (0, libc::ENOENT));
    let _ = n;
}

#[test]
fn guest_chain_error_policies_continue_and_goto() {
    let mut b = ChainBuilder::new();
    let missing = b.path();
    let buf = b.output();
    let first = b.openat(libc::AT_FDCWD, &missing, libc::O_RDONLY, 0);
    b.on_error(first, OnError::Continue);
    // read(-ENOENT, ...) fails with EBADF; skip to getppid.
    let bad_read = b.read(first, &buf);
    let skipped = b.getpid();
    let ppid = b.getppid();
    b.on_error(bad_read, OnError::Goto(ppid));
    let chain = b.build().unwrap().load().unwrap();
    let mut out = [0u8; 8];
    let mut call = chain.invocation();
    call.path(&missing, c"/nonexistent").unwrap();
    call.output(&buf, &mut out).unwrap();
    let res = call.run().unwrap();
    assert_eq!(res.result(first), Some(-(libc::ENOENT as i64)));
    assert_eq!(res.result(bad_read), Some(-(libc::EBADF as i64)));
    assert_eq!(res.result(skipped), None);
    assert_eq!(
        res.result(ppid),
        Some(std::os::unix::process::parent_id() as i64)
    );
}

#[test]
fn guest_chain_loops_over_arrays_in_the_context() {
    let dir = scratch("loop");
    let names: Vec<CString> = (0..40)
        .map(|i| {
            let p = dir.join(format!("entry-{i}"));
            std::fs::write(&p, vec![0u8; i * 11]).unwrap();
            cstr(&p)
        })
        .collect();
    let mut b = ChainBuilder::new();
    let paths = b.paths(64);
    let stats = b.outputs::<libc::stat>(64);
    let mut stat_step = None;
    b.for_each(64, |b| {
        stat_step = Some(b.newfstatat(libc::AT_FDCWD, &paths, &stats, 0));
    });
    let stat_step = stat_step.unwrap();
    let chain = b.build().unwrap().load().unwrap();

    // SAFETY: `struct stat` is plain data; all zeroes is a valid value.
    let mut out: Vec<libc::stat> = vec![unsafe { std::mem::zeroed() }; names.len()];
    let refs: Vec<&std::ffi::CStr> = names.iter().map(|c| c.as_c_str()).collect();
    let mut call = chain.invocation();
    call.paths(&paths, &refs).unwrap();
    call.outputs(&stats, &mut out).unwrap();
    let res = call.run().unwrap();
    assert_eq!(res.results(stat_step), vec![0; names.len()].as_slice());
    for (i, st) in out.iter().enumerate() {
        let md = std::fs::metadata(dir.join(format!("entry-{i}"))).unwrap();
        assert_eq!((st.st_size as u64, st.st_ino), (md.size(), md.ino()));
    }
}

#[test]
fn guest_chain_loop_steps_use_results_of_their_iteration() {
    let dir = scratch("iter");
    let names: Vec<CString> = (0..10)
        .map(|i| {
            let p = dir.join(format!("n{i}"));
            std::fs::write(&p, vec![b'a'; i]).unwrap();
            cstr(&p)
        })
        .collect();
    let mut b = ChainBuilder::new();
    let paths = b.paths(16);
    let (mut open, mut seek, mut close) = (None, None, None);
    b.for_each(16, |b| {
        let fd = b.openat(libc::AT_FDCWD, &paths, libc::O_RDONLY, 0);
        seek = Some(b.lseek(fd, 0, libc::SEEK_END));
        close = Some(b.close(fd));
        open = Some(fd);
    });
    let chain = b.build().unwrap().load().unwrap();
    let refs: Vec<&std::ffi::CStr> = names.iter().map(|c| c.as_c_str()).collect();
    let mut call = chain.invocation();
    call.paths(&paths, &refs).unwrap();
    let res = call.run().unwrap();
    let sizes: Vec<i64> = (0..10).collect();
    assert_eq!(res.results(seek.unwrap()), sizes.as_slice());
    assert_eq!(res.results(close.unwrap()), vec![0; 10].as_slice());

    // A missing file stops the loop in its iteration.
    let mut broken = refs.clone();
    broken[4] = c"/nonexistent";
    let mut call = chain.invocation();
    call.paths(&paths, &broken).unwrap();
    let err = call.run().unwrap_err();
    assert_eq!(
        err.to_string(),
        "step 0 (openat) in iteration 4 failed: No such file or directory (os error 2)"
    );
    let _ = open;
}

#[test]
fn guest_chain_raw_syscall_step_with_constants_and_the_loop_index() {
    let mut b = ChainBuilder::new();
    let mut step = None;
    let lp = b.for_each(8, |b| {
        // SAFETY: getppid touches no memory.
        step = Some(unsafe { b.syscall("getppid", libc::SYS_getppid, &[Arg::Index]) });
    });
    let chain = b.build().unwrap().load().unwrap();
    let mut call = chain.invocation();
    call.count(lp, 5).unwrap();
    let res = call.run().unwrap();
    let ppid = std::os::unix::process::parent_id() as i64;
    assert_eq!(res.results(step.unwrap()), &[ppid; 5]);
    // Too many iterations, and an unset count, are refused before the kernel.
    assert!(chain.invocation().count(lp, 9).is_err());
    let err = chain.invocation().run().unwrap_err();
    assert!(err.to_string().contains("loop 0"), "{err}");
}

#[test]
fn guest_chain_loop_of_the_largest_size_verifies() {
    let mut b = ChainBuilder::new();
    let paths = b.paths(anycall::chain::MAX_LOOP);
    let stats = b.outputs::<libc::stat>(anycall::chain::MAX_LOOP);
    b.for_each(anycall::chain::MAX_LOOP, |b| {
        let st = b.newfstatat(libc::AT_FDCWD, &paths, &stats, 0);
        b.on_error(st, OnError::Continue);
        b.getppid();
    });
    let chain = b.build().unwrap().load().unwrap();
    let refs = vec![c"/"; anycall::chain::MAX_LOOP];
    // SAFETY: `struct stat` is plain data; all zeroes is a valid value.
    let mut out: Vec<libc::stat> = vec![unsafe { std::mem::zeroed() }; anycall::chain::MAX_LOOP];
    let mut call = chain.invocation();
    call.paths(&paths, &refs).unwrap();
    call.outputs(&stats, &mut out).unwrap();
    call.run().unwrap();
    assert!(out
        .iter()
        .all(|s| s.st_ino == out[0].st_ino && s.st_ino != 0));
}

#[test]
fn guest_chain_refuses_buffers_smaller_than_their_steps_use() {
    let mut b = ChainBuilder::new();
    let st = b.output();
    b.fstat(0, &st);
    let chain = b.build().unwrap().load().unwrap();
    let stat_size = std::mem::size_of::<libc::stat>();
    let mut small = vec![0u8; stat_size - 1];
    let err = chain
        .invocation()
        .output(&st, &mut small)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().starts_with("slot 0: a buffer of"), "{err}");
    // Nor can an output slot take an input buffer.
    let err = chain
        .invocation()
        .input(&st, &small)
        .map(|_| ())
        .unwrap_err();
    assert!(
        err.to_string().contains("not an input buffer slot"),
        "{err}"
    );
    let mut whole = vec![0u8; stat_size];
    let mut call = chain.invocation();
    call.output(&st, &mut whole).unwrap();
    call.run().unwrap();
    assert_ne!(whole, vec![0u8; stat_size]);
}
