//! Runs inside the patched kernel: C code using libanycall as a C program
//! does (`tests/c/*.c`, compiled by build.rs against `anycall.h`).

// The C code calls into the library: link it.
extern crate anycall_ffi;

use std::ffi::{c_char, c_int, CStr, CString};

#[link(name = "anycall_c_tests", kind = "static")]
extern "C" {
    fn anycall_c_test_batch_refs(dir: *const c_char, msg: *mut c_char, size: usize) -> c_int;
}

#[test]
fn guest_c_batch_references_past_call_255_and_unrepresentable_ones() {
    let dir = std::env::temp_dir().join(format!("anycall-c-refs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cdir = CString::new(dir.to_str().unwrap()).unwrap();
    let mut msg = vec![0 as c_char; 1024];
    // SAFETY: a NUL-terminated directory and a buffer of msg.len() bytes;
    // the C test touches nothing else of ours.
    let ret = unsafe { anycall_c_test_batch_refs(cdir.as_ptr(), msg.as_mut_ptr(), msg.len()) };
    // SAFETY: vsnprintf() NUL-terminates within the buffer; zeroes otherwise.
    let text = unsafe { CStr::from_ptr(msg.as_ptr()) }.to_string_lossy();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(ret, 0, "{text}");
}
