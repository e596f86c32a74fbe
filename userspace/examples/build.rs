//! Compiles the example AnyCall programs in `userspace/bpf/examples/` with
//! `clang -target bpf` (Debian's clang; `make deps` installs it).

use std::path::PathBuf;
use std::process::Command;

const PROGRAMS: [&str; 3] = [
    "examples/read_file",
    "examples/stat_walker",
    "tests/refused",
];

fn main() {
    let bpf = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../bpf");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed={}", bpf.display());
    for name in PROGRAMS {
        let src = bpf.join(format!("{name}.bpf.c"));
        let obj = out.join(format!("{}.bpf.o", name.rsplit('/').next().unwrap()));
        let status = Command::new("clang")
            .args(["-target", "bpf", "-O2", "-g", "-Wall", "-Werror"])
            .arg("-I/usr/include/x86_64-linux-gnu")
            .arg("-c")
            .arg(&src)
            .arg("-o")
            .arg(&obj)
            .status()
            .unwrap_or_else(|e| panic!("running clang (run `make deps`): {e}"));
        assert!(status.success(), "clang failed on {}", src.display());
    }
}
