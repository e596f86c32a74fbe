//! `make demo`: AnyCall at work inside the patched kernel, and its speed
//! against the same system calls made directly.

use anycall_examples::chain::{FileReader, StatBurst};
use std::ffi::{CStr, CString};
use std::hint::black_box;
use std::time::Instant;

const FILES: usize = 64;
const ROUNDS: u32 = 200;

fn main() -> std::io::Result<()> {
    let dir = std::env::temp_dir().join("anycall-demo");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let hello = dir.join("hello.txt");
    std::fs::write(&hello, "Hello from a file read by one anycall().\n")?;

    println!("-- a chain: openat, read and close in one system call");
    let reader = FileReader::new()?;
    let path = CString::new(hello.to_str().unwrap()).unwrap();
    let mut buf = [0u8; 256];
    let n = reader.read(&path, &mut buf)?;
    println!(
        "   read {n} bytes: {:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    let missing = c"/no/such/file";
    match reader.read(missing, &mut buf) {
        Err(e) => println!("   a missing file: {e}"),
        Ok(n) => println!("   a missing file read {n} bytes?"),
    }

    println!("-- a burst of {FILES} fstatat() calls: direct, then in one anycall()");
    let names: Vec<CString> = (0..FILES)
        .map(|i| {
            let p = dir.join(format!("file-{i:02}"));
            std::fs::write(&p, vec![b'.'; i * 10]).unwrap();
            CString::new(p.to_str().unwrap()).unwrap()
        })
        .collect();
    let refs: Vec<&CStr> = names.iter().map(|c| c.as_c_str()).collect();
    let burst = StatBurst::new(FILES)?;
    // SAFETY: `struct stat` is plain data; all zeroes is a valid value.
    let zero: libc::stat = unsafe { std::mem::zeroed() };
    let mut out = vec![zero; FILES];
    let results = burst.stat_all(&refs, &mut out)?;
    for i in [0, 1, FILES - 1] {
        println!(
            "   {}: result {}, size {}",
            refs[i].to_string_lossy(),
            results[i],
            out[i].st_size
        );
    }
    let mut direct = vec![zero; FILES];
    for (p, st) in refs.iter().zip(direct.iter_mut()) {
        // SAFETY: `p` is NUL-terminated, `st` a writable struct stat.
        unsafe { libc::stat(p.as_ptr(), st) };
    }
    let same = out
        .iter()
        .zip(&direct)
        .all(|(a, b)| (a.st_ino, a.st_size) == (b.st_ino, b.st_size));
    println!("   same inodes and sizes as direct stat(): {same}");

    let t = Instant::now();
    for _ in 0..ROUNDS {
        for (p, st) in refs.iter().zip(direct.iter_mut()) {
            // SAFETY: as above.
            black_box(unsafe { libc::stat(p.as_ptr(), st) });
        }
    }
    let direct_ns = t.elapsed().as_nanos() as f64 / ROUNDS as f64;
    let t = Instant::now();
    for _ in 0..ROUNDS {
        black_box(burst.stat_all(&refs, &mut out)?);
    }
    let anycall_ns = t.elapsed().as_nanos() as f64 / ROUNDS as f64;
    println!(
        "   {FILES} direct stat(): {:.0} ns; one anycall(): {:.0} ns; {:.2}x",
        direct_ns,
        anycall_ns,
        direct_ns / anycall_ns
    );

    println!("-- a burst of {FILES} getppid() calls, whose own work is small");
    let mut b = anycall::chain::ChainBuilder::new();
    let lp = b.for_each(FILES, |b| {
        b.getppid();
    });
    let chain = b.build()?.load()?;
    let t = Instant::now();
    for _ in 0..ROUNDS {
        for _ in 0..FILES {
            // SAFETY: getppid() has no preconditions.
            black_box(unsafe { libc::getppid() });
        }
    }
    let direct_ns = t.elapsed().as_nanos() as f64 / ROUNDS as f64;
    let mut call = chain.invocation();
    call.count(lp, FILES)?;
    let t = Instant::now();
    for _ in 0..ROUNDS {
        black_box(call.run()?);
    }
    let anycall_ns = t.elapsed().as_nanos() as f64 / ROUNDS as f64;
    println!(
        "   {FILES} direct getppid(): {:.0} ns; one anycall(): {:.0} ns; {:.2}x",
        direct_ns,
        anycall_ns,
        direct_ns / anycall_ns
    );
    println!("   Under emulation a transition costs only its ~190 instructions, which is all");
    println!("   AnyCall saves per call: a stat's own work dwarfs it, and a chain's context");
    println!("   copies and loop bookkeeping take much of it back (the straight-line C");
    println!("   programs below do better). On hardware a transition costs ~200 ns more");
    println!("   than its instructions; see docs/benchmarks.md.");
    if !same {
        std::process::exit(1);
    }
    Ok(())
}
