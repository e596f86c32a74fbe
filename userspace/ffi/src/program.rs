//! `anycall_program_*`: programs written in C, loaded from ELF objects.

use crate::error::{guard, guard_ptr, invalid};
use anycall::Program;
use std::ffi::{c_char, c_int, c_long, c_void, CStr};
use std::os::fd::{AsFd, AsRawFd};

/// An opaque `struct anycall_program`.
pub struct AnycallProgram(Program);

/// # Safety
///
/// `s` is NULL or a NUL-terminated string.
unsafe fn opt_str<'a>(s: *const c_char) -> std::io::Result<Option<&'a str>> {
    if s.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller's contract.
    let s = unsafe { CStr::from_ptr(s) };
    s.to_str()
        .map(Some)
        .map_err(|_| invalid("a name that is not UTF-8"))
}

/// # Safety
///
/// `path` is a NUL-terminated string; `name` NULL or one.
#[no_mangle]
pub unsafe extern "C" fn anycall_program_open(
    path: *const c_char,
    name: *const c_char,
) -> *mut AnycallProgram {
    guard_ptr(|| {
        if path.is_null() {
            return Err(invalid("anycall_program_open: path is NULL"));
        }
        // SAFETY: the caller's contract.
        let path = unsafe { CStr::from_ptr(path) }
            .to_string_lossy()
            .into_owned();
        // SAFETY: the caller's contract.
        let name = unsafe { opt_str(name) }?;
        let elf = std::fs::read(&path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{path}: {e}")))?;
        Ok(Box::new(AnycallProgram(Program::from_elf(&elf, name)?)))
    })
}

/// # Safety
///
/// `elf` points at `size` readable bytes; `name` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn anycall_program_open_mem(
    elf: *const c_void,
    size: usize,
    name: *const c_char,
) -> *mut AnycallProgram {
    guard_ptr(|| {
        if elf.is_null() {
            return Err(invalid("anycall_program_open_mem: elf is NULL"));
        }
        // SAFETY: the caller's contract.
        let bytes = unsafe { std::slice::from_raw_parts(elf.cast::<u8>(), size) };
        // SAFETY: the caller's contract.
        let name = unsafe { opt_str(name) }?;
        Ok(Box::new(AnycallProgram(Program::from_elf(bytes, name)?)))
    })
}

/// # Safety
///
/// `path` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn anycall_program_open_pinned(path: *const c_char) -> *mut AnycallProgram {
    guard_ptr(|| {
        if path.is_null() {
            return Err(invalid("anycall_program_open_pinned: path is NULL"));
        }
        // SAFETY: the caller's contract.
        let path = unsafe { CStr::from_ptr(path) }
            .to_string_lossy()
            .into_owned();
        Ok(Box::new(AnycallProgram(Program::open_pinned(path)?)))
    })
}

/// # Safety
///
/// `prog` came from an `anycall_program_open*` function; `path` is a
/// NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn anycall_program_pin(
    prog: *const AnycallProgram,
    path: *const c_char,
) -> c_int {
    guard(|| {
        if prog.is_null() || path.is_null() {
            return Err(invalid("anycall_program_pin: NULL argument"));
        }
        // SAFETY: the caller's contract.
        let (prog, path) = unsafe { (&*prog, CStr::from_ptr(path)) };
        prog.0.pin(path.to_string_lossy().as_ref())?;
        Ok(0)
    }) as c_int
}

/// # Safety
///
/// `prog` came from an `anycall_program_open*` function.
#[no_mangle]
pub unsafe extern "C" fn anycall_program_fd(prog: *const AnycallProgram) -> c_int {
    if prog.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: the caller's contract.
    unsafe { &*prog }.0.as_fd().as_raw_fd()
}

/// # Safety
///
/// `prog` came from an `anycall_program_open*` function; `ctx` points at
/// `size` writable bytes (or is NULL with `size` 0), and what the program
/// does with them (the addresses and descriptors it finds there) leaves
/// the process's memory and descriptors intact, as for
/// `anycall::Program::call_bytes`.
#[no_mangle]
pub unsafe extern "C" fn anycall_program_call(
    prog: *const AnycallProgram,
    ctx: *mut c_void,
    size: usize,
) -> c_long {
    guard(|| {
        if prog.is_null() || (ctx.is_null() && size != 0) {
            return Err(invalid("anycall_program_call: NULL argument"));
        }
        let mut empty = [0u8; 0];
        let bytes = if size == 0 {
            &mut empty[..]
        } else {
            // SAFETY: the caller's contract.
            unsafe { std::slice::from_raw_parts_mut(ctx.cast::<u8>(), size) }
        };
        // SAFETY: the caller's contract: `prog` is valid, and the C caller
        // answers for what the program does with `ctx` (anycall.h).
        unsafe { (*prog).0.call_bytes(bytes) }
    }) as c_long
}

/// # Safety
///
/// `prog` is NULL or came from an `anycall_program_open*` function and is
/// not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn anycall_program_free(prog: *mut AnycallProgram) {
    if !prog.is_null() {
        // SAFETY: the caller's contract: ours, from Box::into_raw.
        drop(unsafe { Box::from_raw(prog) });
    }
}
