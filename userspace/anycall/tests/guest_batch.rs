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

#[test]
fn guest_batch_runs_from_several_threads_at_once() {
    // Runs that find the kept context taken use one of their own.
    let batch = Batch::load(8).unwrap();
    let (pid, ppid) = (
        std::process::id() as i64,
        std::os::unix::process::parent_id() as i64,
    );
    std::thread::scope(|s| {
        for t in 0..4 {
            let batch = &batch;
            s.spawn(move || {
                for i in 0..200 {
                    let n = 1 + (i + t) % 8;
                    let mut calls: Vec<Call<'_>> = (0..n)
                        .map(|k| {
                            if k % 2 == 0 {
                                Call::getpid()
                            } else {
                                Call::getppid()
                            }
                        })
                        .collect();
                    let expected: Vec<i64> = (0..n)
                        .map(|k| if k % 2 == 0 { pid } else { ppid })
                        .collect();
                    assert_eq!(batch.run(&mut calls).unwrap(), expected);
                }
            });
        }
    });
}

/// The kernel functions the loaded batch programs call, by name, with how
/// often each is called, from the instructions as the verifier left them.
fn batch_program_calls() -> Vec<std::collections::BTreeMap<String, usize>> {
    use libbpf_sys as bpf;
    let kallsyms = std::fs::read_to_string("/proc/kallsyms").unwrap();
    let mut names = std::collections::HashMap::new();
    for line in kallsyms.lines() {
        let mut f = line.split_whitespace();
        let (Some(addr), Some(_), Some(name)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        names.insert(u64::from_str_radix(addr, 16).unwrap(), name.to_string());
    }
    let base = *names
        .iter()
        .find(|(_, n)| *n == "__bpf_call_base")
        .expect("__bpf_call_base in /proc/kallsyms")
        .0;
    let mut programs = Vec::new();
    let mut id = 0;
    // SAFETY: plain libbpf calls with valid out-pointers; each fd is
    // closed once.
    unsafe {
        while bpf::bpf_prog_get_next_id(id, &mut id) == 0 {
            let fd = bpf::bpf_prog_get_fd_by_id(id);
            if fd < 0 {
                continue; // freed meanwhile
            }
            let mut info: bpf::bpf_prog_info = std::mem::zeroed();
            let mut len = std::mem::size_of_val(&info) as u32;
            let ok = bpf::bpf_prog_get_info_by_fd(fd, &mut info, &mut len) == 0;
            let name = std::ffi::CStr::from_ptr(info.name.as_ptr());
            if !ok || name.to_bytes() != b"anycall_batch" {
                libc::close(fd);
                continue;
            }
            let mut insns = vec![0u64; info.xlated_prog_len as usize / 8];
            let mut again: bpf::bpf_prog_info = std::mem::zeroed();
            again.xlated_prog_len = info.xlated_prog_len;
            again.xlated_prog_insns = insns.as_mut_ptr() as u64;
            let mut len = std::mem::size_of_val(&again) as u32;
            let ok = bpf::bpf_prog_get_info_by_fd(fd, &mut again, &mut len) == 0;
            libc::close(fd);
            if !ok {
                continue;
            }
            let mut calls = std::collections::BTreeMap::new();
            for raw in insns {
                let (code, imm) = (raw as u8, (raw >> 32) as u32 as i32);
                if code == 0x85 {
                    let at = base.wrapping_add(imm as i64 as u64);
                    let name = names.get(&at).cloned().unwrap_or(format!("{at:#x}"));
                    *calls.entry(name).or_insert(0) += 1;
                }
            }
            programs.push(calls);
        }
    }
    programs
}

#[test]
fn guest_batch_calls_each_typed_number_s_handler_directly() {
    // Every number a typed Call issues has a call site where the verifier
    // knows it, and issues it straight into its handler; other numbers
    // go through the dispatch.
    let _batch = Batch::load(3).unwrap();
    let programs = batch_program_calls();
    assert!(!programs.is_empty(), "no batch program found");
    let typed = [
        "read",
        "write",
        "close",
        "newfstat", // fstat's handler
        "lseek",
        "pread64",
        "pwrite64",
        "getpid",
        "fsync",
        "ftruncate",
        "getppid",
        "getdents64",
        "openat",
        "mkdirat",
        "newfstatat",
        "unlinkat",
    ];
    for calls in programs {
        for name in typed {
            let handler = format!("__x64_sys_{name}");
            assert_eq!(calls.get(&handler), Some(&1), "{handler} in {calls:?}");
        }
        // getpid and getppid never block: their sites stay in the
        // program's read section and pin (the series' patch 11).
        let never_block = ["getpid", "getppid"];
        assert_eq!(
            calls.get("anycall_inner_enter"),
            Some(&(typed.len() - never_block.len())),
            "{calls:?}"
        );
        assert_eq!(calls.get("anycall_dispatch_regs"), Some(&1), "{calls:?}");
        // Each site keeps the kfunc for a task with work pending.
        assert_eq!(
            calls.get("bpf_anycall_syscall"),
            Some(&(typed.len() + 1)),
            "{calls:?}"
        );
    }
}
