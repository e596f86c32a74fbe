//! Compiles the C tests in `tests/c/` (C code using `anycall.h` as a C
//! program would) into a static archive that the guest tests link
//! (`tests/guest_c.rs`). The library itself links nothing of it: this only
//! adds the archive's directory to the search path.

use std::path::PathBuf;
use std::process::Command;

const TESTS: [&str; 1] = ["batch_refs"];

fn run(cmd: &mut Command) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("running {cmd:?} (run `make deps`): {e}"));
    assert!(status.success(), "{cmd:?} failed");
}

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    println!("cargo:rerun-if-changed=tests/c");
    println!("cargo:rerun-if-changed=include/anycall.h");
    println!("cargo:rerun-if-env-changed=CC");
    let mut objects = Vec::new();
    for name in TESTS {
        let obj = out.join(format!("{name}.o"));
        run(Command::new(&cc)
            .args(["-std=gnu11", "-O2", "-fPIC", "-Wall", "-Wextra", "-Werror"])
            .arg("-I")
            .arg(dir.join("include"))
            .arg("-c")
            .arg(dir.join(format!("tests/c/{name}.c")))
            .arg("-o")
            .arg(&obj));
        objects.push(obj);
    }
    let lib = out.join("libanycall_c_tests.a");
    let _ = std::fs::remove_file(&lib);
    run(Command::new("ar").arg("crs").arg(&lib).args(&objects));
    println!("cargo:rustc-link-search=native={}", out.display());
}
