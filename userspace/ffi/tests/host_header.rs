//! Runs on the host: `anycall.h` describes the structs libanycall reads,
//! as a C compiler lays them out.

use anycall_ffi::AnycallCall;
use std::mem::{offset_of, size_of};
use std::path::Path;
use std::process::Command;

/// Compiles and runs `main` (C) against anycall.h; its output.
fn run_c(main: &str) -> String {
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("include");
    let dir = std::env::temp_dir().join(format!("anycall-header-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (src, bin) = (dir.join("t.c"), dir.join("t"));
    std::fs::write(&src, main).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(&cc)
        .arg("-I")
        .arg(&include)
        .arg("-o")
        .arg(&bin)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("running {cc}: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(&bin).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn struct_anycall_call_is_laid_out_as_in_rust_and_names_call_511() {
    // A batch of 512 calls: `from = 3 * i + 1` for file 170 is 511, which
    // a uint8_t turned into 255 (call 254) without a word. Whatever else C
    // computes arrives as computed, to be refused: 65537, which a uint16_t
    // turned into 1 (call 0), and -1.
    let got = run_c(
        r#"
#include <stddef.h>
#include <stdio.h>
#include "anycall.h"
int main(void)
{
	struct anycall_call c = { 0 };
	int i = 170;
	c.from[5] = 3 * i + 1;
	c.from[4] = 65537;
	c.from[3] = -1;
	printf("%zu %zu %zu %zu %llu %llu %llu\n", sizeof(c), offsetof(struct anycall_call, args),
	       offsetof(struct anycall_call, from), offsetof(struct anycall_call, continue_on_error),
	       (unsigned long long)c.from[5], (unsigned long long)c.from[4],
	       (unsigned long long)c.from[3]);
	return 0;
}
"#,
    );
    let want = format!(
        "{} {} {} {} 511 65537 {}\n",
        size_of::<AnycallCall>(),
        offset_of!(AnycallCall, args),
        offset_of!(AnycallCall, from),
        offset_of!(AnycallCall, continue_on_error),
        u64::MAX
    );
    assert_eq!(got, want);
}
