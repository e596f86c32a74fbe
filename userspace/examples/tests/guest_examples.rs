//! Runs inside the patched kernel: the example C programs, loaded from
//! their ELF objects, against what direct system calls give.

use anycall::Program;
use anycall_examples::{read_file, stat_walker};
use std::collections::BTreeMap;
use std::ffi::CString;
use std::os::unix::fs::MetadataExt;

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("anycall-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn guest_read_file_reads_what_std_reads() {
    let prog = read_file::load().expect("loading read_file.bpf.o");
    let dir = scratch("read");
    let path = dir.join("data");
    let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    let cpath = CString::new(path.to_str().unwrap()).unwrap();

    let mut buf = vec![0u8; 200_000];
    let n = read_file::read_file(&prog, &cpath, &mut buf).unwrap();
    assert_eq!(&buf[..n], &data[..]);

    // A buffer smaller than the file: filled, and said so.
    let mut small = vec![0u8; 1000];
    let mut ctx = read_file::ReadFileCtx {
        path: cpath.as_ptr() as u64,
        buf: small.as_mut_ptr() as u64,
        buf_size: small.len() as u64,
        ..Default::default()
    };
    // SAFETY: read_file.bpf.c's program, with a context like read_file()'s
    // whose buffer is `small`, borrowed with its length.
    assert_eq!(unsafe { prog.program().call(&mut ctx) }.unwrap(), 1000);
    assert_eq!(ctx.truncated, 1);
    assert_eq!(&small[..], &data[..1000]);

    let missing = CString::new(dir.join("missing").to_str().unwrap()).unwrap();
    let err = read_file::read_file(&prog, &missing, &mut buf).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
}

#[test]
fn guest_stat_walker_sees_what_read_dir_sees() {
    let prog = stat_walker::load().expect("loading stat_walker.bpf.o");
    let dir = scratch("walk");
    // More entries than one call takes, so the walker must resume.
    for i in 0..150 {
        std::fs::write(dir.join(format!("file-{i:03}")), vec![b'x'; i * 3]).unwrap();
    }
    std::fs::create_dir(dir.join("subdir")).unwrap();
    std::os::unix::fs::symlink("file-001", dir.join("link")).unwrap();

    let handle = std::fs::File::open(&dir).unwrap();
    let walked: BTreeMap<String, (u64, u64)> = stat_walker::stat_dir(&prog, &handle)
        .unwrap()
        .into_iter()
        .map(|(name, st)| {
            let st = st.unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, (st.st_size as u64, st.st_ino))
        })
        .collect();
    let direct: BTreeMap<String, (u64, u64)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let md = std::fs::symlink_metadata(e.path()).unwrap();
            (e.file_name().into_string().unwrap(), (md.size(), md.ino()))
        })
        .collect();
    assert_eq!(walked.len(), 152);
    assert_eq!(walked, direct);
}

#[test]
fn guest_a_program_that_fails_verification_reports_the_verifier() {
    let err = Program::from_elf(anycall_examples::objects::REFUSED, None).unwrap_err();
    let msg = err.to_string();
    assert_eq!(err.raw_os_error(), None, "{msg}");
    assert!(
        msg.starts_with("loading refused: Invalid argument"),
        "{msg}"
    );
    // The verifier's own words, with the source line it stopped at.
    assert!(msg.contains("return buf[ctx[0]];"), "{msg}");
    assert!(
        msg.contains("math between fp pointer and register"),
        "{msg}"
    );

    // Asking for a program the object does not have names what it has.
    let err = Program::from_elf(anycall_examples::objects::READ_FILE, Some("nope")).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    assert!(err.to_string().contains("it has: read_file"), "{err}");
}

#[test]
fn guest_programs_pin_and_open_from_bpffs() {
    let prog = read_file::load().unwrap();
    let pin = format!("/sys/fs/bpf/anycall-read-{}", std::process::id());
    prog.program().pin(&pin).unwrap();
    let again = Program::open_pinned(&pin).unwrap();
    std::fs::remove_file(&pin).unwrap();
    assert_eq!(again.name(), "read_file");
    // SAFETY: pinned just now, from read_file.bpf.o's program.
    let again = unsafe { read_file::ReadFile::from_program(again) };
    let mut buf = [0u8; 64];
    let n = read_file::read_file(&again, c"/proc/sys/kernel/ostype", &mut buf).unwrap();
    assert_eq!(&buf[..n], b"Linux\n");
    assert!(Program::open_pinned("/sys/fs/bpf/nothing-here").is_err());
}

#[test]
fn guest_chain_examples_match_direct_calls() {
    use anycall_examples::chain::{FileReader, StatBurst};
    let dir = scratch("chain-ex");
    let names: Vec<CString> = (0..100)
        .map(|i| {
            let p = dir.join(format!("s{i}"));
            if i != 50 {
                std::fs::write(&p, vec![b'z'; i * 2]).unwrap();
            }
            CString::new(p.to_str().unwrap()).unwrap()
        })
        .collect();

    let reader = FileReader::new().unwrap();
    let mut buf = [0u8; 512];
    let n = reader.read(&names[7], &mut buf).unwrap();
    assert_eq!(&buf[..n], &[b'z'; 14]);
    let err = reader.read(&names[50], &mut buf).unwrap_err();
    assert_eq!(
        err.to_string(),
        "step 0 (openat) failed: No such file or directory (os error 2)"
    );

    let burst = StatBurst::new(128).unwrap();
    let refs: Vec<&std::ffi::CStr> = names.iter().map(|c| c.as_c_str()).collect();
    // SAFETY: `struct stat` is plain data; all zeroes is a valid value.
    let mut out: Vec<libc::stat> = vec![unsafe { std::mem::zeroed() }; refs.len()];
    let results = burst.stat_all(&refs, &mut out).unwrap();
    for (i, r) in results.iter().enumerate() {
        if i == 50 {
            assert_eq!(*r, -(libc::ENOENT as i64));
        } else {
            assert_eq!((*r, out[i].st_size), (0, (i * 2) as i64), "entry {i}");
        }
    }
}

#[test]
fn guest_batch_example_reads_each_head() {
    let dir = scratch("batch-ex");
    let names: Vec<CString> = (0..5)
        .map(|i| {
            let p = dir.join(format!("h{i}"));
            std::fs::write(&p, format!("head of file {i} and more")).unwrap();
            CString::new(p.to_str().unwrap()).unwrap()
        })
        .collect();
    let refs: Vec<&std::ffi::CStr> = names.iter().map(|c| c.as_c_str()).collect();
    let batch = anycall::batch::Batch::load(15).unwrap();
    let mut bufs = vec![vec![0u8; 14]; 5];
    let got = anycall_examples::batch::read_heads(&batch, &refs, &mut bufs).unwrap();
    assert_eq!(got, vec![14; 5]);
    for (i, b) in bufs.iter().enumerate() {
        assert_eq!(b, format!("head of file {i}").as_bytes());
    }
}
