//! Errors: negative errnos for C, and the message behind the last one.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CString};
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};

thread_local! {
    static LAST: RefCell<CString> = RefCell::new(CString::default());
}

/// Keeps `e`'s message for anycall_last_error() and returns its errno.
pub(crate) fn record(e: &io::Error) -> c_int {
    let msg = CString::new(e.to_string().replace('\0', " ")).unwrap_or_default();
    LAST.with(|l| *l.borrow_mut() = msg);
    let errno = e.raw_os_error().or_else(|| {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<anycall::chain::StepError>())
            .map(|s| s.errno)
    });
    errno.unwrap_or(match e.kind() {
        io::ErrorKind::InvalidInput => libc::EINVAL,
        io::ErrorKind::NotFound => libc::ENOENT,
        io::ErrorKind::PermissionDenied => libc::EPERM,
        io::ErrorKind::Unsupported => libc::ENOSYS,
        io::ErrorKind::InvalidData => libc::ENOEXEC,
        _ => libc::EIO,
    })
}

pub(crate) fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.to_string())
}

/// Runs `f`; an error or a panic becomes a negative errno.
pub(crate) fn guard<T: Into<i64>>(f: impl FnOnce() -> io::Result<T>) -> i64 {
    // Nothing is left half-changed that C could see after a panic.
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => v.into(),
        Ok(Err(e)) => -(record(&e) as i64),
        Err(_) => -(record(&io::Error::other("internal error (a panic in libanycall)")) as i64),
    }
}

/// Runs `f`; an error or a panic becomes NULL with `errno` set.
pub(crate) fn guard_ptr<T>(f: impl FnOnce() -> io::Result<Box<T>>) -> *mut T {
    let errno = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(b)) => return Box::into_raw(b),
        Ok(Err(e)) => record(&e),
        Err(_) => record(&io::Error::other("internal error (a panic in libanycall)")),
    };
    // SAFETY: __errno_location() is this thread's errno.
    unsafe { *libc::__errno_location() = errno };
    std::ptr::null_mut()
}

/// What went wrong in this thread's last failed call.
#[no_mangle]
pub extern "C" fn anycall_last_error() -> *const c_char {
    // The string lives until the next failure in this thread.
    LAST.with(|l| l.borrow().as_ptr())
}

/// 1 when the running kernel has anycall() and its kfunc.
#[no_mangle]
pub extern "C" fn anycall_supported() -> c_int {
    anycall::kernel::support().complete() as c_int
}
