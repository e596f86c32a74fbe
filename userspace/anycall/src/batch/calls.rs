//! The calls a batch runs, and their encoding in the batch context.

use super::layout::*;
use std::ffi::CStr;
use std::io;
use std::marker::PhantomData;

/// Where an argument of a batched call comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A constant.
    Const(u64),
    /// The result of the batch's call at this index (an earlier one).
    Result(usize),
}

integer_constants!(Source::Const);

/// One system call of a batch. Typed constructors borrow the buffers the
/// call reads or writes for `'a`, so the kernel gets an address only with
/// the length of what is there.
#[derive(Debug)]
pub struct Call<'a> {
    name: &'static str,
    nr: i64,
    args: [Source; 6],
    stop_on_error: bool,
    fd: FdUse,
    _data: PhantomData<&'a mut [u8]>,
}

/// What a call does with a file descriptor, for the checks of `close()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FdUse {
    None,
    /// Its result is a new descriptor (`openat`).
    Opens,
    /// It closes the descriptor the call at this index opened.
    Closes(usize),
}

fn addr<T: ?Sized>(p: *const T) -> Source {
    Source::Const(p as *const u8 as u64)
}

impl<'a> Call<'a> {
    fn new(name: &'static str, nr: i64, given: &[Source]) -> Self {
        let mut args = [Source::Const(0); 6];
        args[..given.len()].copy_from_slice(given);
        Call {
            name,
            nr,
            args,
            stop_on_error: true,
            fd: FdUse::None,
            _data: PhantomData,
        }
    }

    fn with_fd(mut self, fd: FdUse) -> Self {
        self.fd = fd;
        self
    }

    /// Leave a failure in the results and go on (the default stops).
    pub fn continue_on_error(mut self) -> Self {
        self.stop_on_error = false;
        self
    }

    /// The system call's name.
    pub fn name(&self) -> &str {
        self.name
    }

    /// The call's number.
    #[cfg(test)]
    pub(super) fn nr(&self) -> i64 {
        self.nr
    }

    /// The call as the previous encoder saw it.
    #[cfg(test)]
    pub(super) fn reference_entry(&self) -> super::reference::Entry {
        let mut e = super::reference::Entry {
            nr: self.nr,
            consts: [0; 6],
            from: [None; 6],
            stop_on_error: self.stop_on_error,
        };
        for (j, src) in self.args.iter().enumerate() {
            match *src {
                Source::Const(v) => e.consts[j] = v,
                Source::Result(k) => e.from[j] = Some(k),
            }
        }
        e
    }

    /// `openat(dirfd, path, flags, mode)`.
    pub fn openat(dirfd: impl Into<Source>, path: &'a CStr, flags: i32, mode: u32) -> Self {
        let args = [dirfd.into(), addr(path.as_ptr()), flags.into(), mode.into()];
        Self::new("openat", libc::SYS_openat, &args).with_fd(FdUse::Opens)
    }

    /// `close(fd)` of the descriptor that the batch's call at index
    /// `opened`, an earlier [`Call::openat`], returned; no other call may
    /// close it ([`super::Batch::run`] refuses the batch otherwise). A
    /// descriptor the batch did not open may be one a `File` or `OwnedFd`
    /// owns (I/O safety); the `unsafe` [`Call::raw`] closes any number.
    ///
    /// ```compile_fail
    /// let _ = anycall::batch::Call::close(anycall::batch::Source::Const(3));
    /// ```
    pub fn close(opened: usize) -> Self {
        Self::new("close", libc::SYS_close, &[Source::Result(opened)])
            .with_fd(FdUse::Closes(opened))
    }

    /// `read(fd, buf, buf.len())`.
    pub fn read(fd: impl Into<Source>, buf: &'a mut [u8]) -> Self {
        let args = [fd.into(), addr(buf.as_ptr()), buf.len().into()];
        Self::new("read", libc::SYS_read, &args)
    }

    /// `pread64(fd, buf, buf.len(), offset)`.
    pub fn pread64(fd: impl Into<Source>, buf: &'a mut [u8], offset: impl Into<Source>) -> Self {
        let args = [
            fd.into(),
            addr(buf.as_ptr()),
            buf.len().into(),
            offset.into(),
        ];
        Self::new("pread64", libc::SYS_pread64, &args)
    }

    /// `write(fd, data, data.len())`.
    pub fn write(fd: impl Into<Source>, data: &'a [u8]) -> Self {
        let args = [fd.into(), addr(data.as_ptr()), data.len().into()];
        Self::new("write", libc::SYS_write, &args)
    }

    /// `pwrite64(fd, data, data.len(), offset)`.
    pub fn pwrite64(fd: impl Into<Source>, data: &'a [u8], offset: impl Into<Source>) -> Self {
        let args = [
            fd.into(),
            addr(data.as_ptr()),
            data.len().into(),
            offset.into(),
        ];
        Self::new("pwrite64", libc::SYS_pwrite64, &args)
    }

    /// `fstat(fd, statbuf)`.
    pub fn fstat(fd: impl Into<Source>, statbuf: &'a mut libc::stat) -> Self {
        Self::new("fstat", libc::SYS_fstat, &[fd.into(), addr(statbuf)])
    }

    /// `newfstatat(dirfd, path, statbuf, flags)`.
    pub fn newfstatat(
        dirfd: impl Into<Source>,
        path: &'a CStr,
        statbuf: &'a mut libc::stat,
        flags: i32,
    ) -> Self {
        let args = [
            dirfd.into(),
            addr(path.as_ptr()),
            addr(statbuf),
            flags.into(),
        ];
        Self::new("newfstatat", libc::SYS_newfstatat, &args)
    }

    /// `getdents64(fd, buf, buf.len())`.
    pub fn getdents64(fd: impl Into<Source>, buf: &'a mut [u8]) -> Self {
        let args = [fd.into(), addr(buf.as_ptr()), buf.len().into()];
        Self::new("getdents64", libc::SYS_getdents64, &args)
    }

    /// `lseek(fd, offset, whence)`.
    pub fn lseek(fd: impl Into<Source>, offset: impl Into<Source>, whence: i32) -> Self {
        Self::new(
            "lseek",
            libc::SYS_lseek,
            &[fd.into(), offset.into(), whence.into()],
        )
    }

    /// `fsync(fd)`.
    pub fn fsync(fd: impl Into<Source>) -> Self {
        Self::new("fsync", libc::SYS_fsync, &[fd.into()])
    }

    /// `ftruncate(fd, length)`.
    pub fn ftruncate(fd: impl Into<Source>, length: impl Into<Source>) -> Self {
        Self::new(
            "ftruncate",
            libc::SYS_ftruncate,
            &[fd.into(), length.into()],
        )
    }

    /// `mkdirat(dirfd, path, mode)`.
    pub fn mkdirat(dirfd: impl Into<Source>, path: &'a CStr, mode: u32) -> Self {
        let args = [dirfd.into(), addr(path.as_ptr()), mode.into()];
        Self::new("mkdirat", libc::SYS_mkdirat, &args)
    }

    /// `unlinkat(dirfd, path, flags)`.
    pub fn unlinkat(dirfd: impl Into<Source>, path: &'a CStr, flags: i32) -> Self {
        let args = [dirfd.into(), addr(path.as_ptr()), flags.into()];
        Self::new("unlinkat", libc::SYS_unlinkat, &args)
    }

    /// `getpid()`.
    pub fn getpid() -> Self {
        Self::new("getpid", libc::SYS_getpid, &[])
    }

    /// `getppid()`.
    pub fn getppid() -> Self {
        Self::new("getppid", libc::SYS_getppid, &[])
    }

    /// Any system call.
    ///
    /// # Safety
    ///
    /// The call must leave the process's memory safe: addresses it writes
    /// through must be valid for what it writes, for as long as `'a`; it
    /// must not unmap or change memory Rust uses, nor close fds others own.
    pub unsafe fn raw(name: &'static str, nr: i64, args: &[Source]) -> Self {
        assert!(args.len() <= 6, "a system call takes 6 arguments at most");
        Self::new(name, nr, args)
    }
}

/// The bytes of a context kept as words (so that each is aligned and
/// written as one).
pub(crate) fn as_bytes(ctx: &mut [u64]) -> &mut [u8] {
    // SAFETY: the same memory, `size_of_val(ctx)` bytes of it, borrowed as
    // mutably as `ctx` was; `u8` has no alignment and every bit pattern of
    // a `u64` is valid bytes, and the other way round.
    unsafe { std::slice::from_raw_parts_mut(ctx.as_mut_ptr().cast(), std::mem::size_of_val(ctx)) }
}

/// The word at byte offset `at` of the layout.
const fn w(at: usize) -> usize {
    at / 8
}

/// The numbers the typed constructors issue, in ascending order: the
/// batch program has a call site for each, where the verifier knows the
/// number and calls the system call's handler directly.
pub(crate) const TYPED_NUMBERS: [i64; 16] = [
    libc::SYS_read,
    libc::SYS_write,
    libc::SYS_close,
    libc::SYS_fstat,
    libc::SYS_lseek,
    libc::SYS_pread64,
    libc::SYS_pwrite64,
    libc::SYS_getpid,
    libc::SYS_fsync,
    libc::SYS_ftruncate,
    libc::SYS_getppid,
    libc::SYS_getdents64,
    libc::SYS_openat,
    libc::SYS_mkdirat,
    libc::SYS_newfstatat,
    libc::SYS_unlinkat,
];

/// The context for running `calls` on a batch of `capacity`.
#[cfg(test)]
pub(crate) fn encode(calls: &[Call<'_>], capacity: usize) -> io::Result<Vec<u8>> {
    let mut ctx = vec![0u64; size(capacity) / 8];
    encode_into(calls, capacity, &mut ctx)?;
    Ok(as_bytes(&mut ctx).to_vec())
}

/// Writes the context for running `calls` on a batch of `capacity` into
/// `ctx`, a context of that capacity: everything the program reads, so
/// that what an earlier run left there does not matter.
pub(crate) fn encode_into(calls: &[Call<'_>], capacity: usize, ctx: &mut [u64]) -> io::Result<()> {
    let invalid = |msg: String| io::Error::new(io::ErrorKind::InvalidInput, msg);
    if calls.len() > capacity {
        return Err(invalid(format!(
            "{} calls, more than the batch's capacity of {capacity}",
            calls.len()
        )));
    }
    assert_eq!(ctx.len() * 8, size(capacity));
    ctx[w(STATUS)] = 0;
    ctx[w(COUNT)] = calls.len() as u64;
    let entries = ctx[w(ENTRIES)..].chunks_exact_mut(w(ENTRY));
    for (i, (call, e)) in calls.iter().zip(entries).enumerate() {
        let mut head = head_nr(call.nr);
        if call.stop_on_error {
            head |= STOP_ON_ERROR;
        }
        let args = &mut e[w(ARGS)..w(ARGS) + 6];
        for (j, (src, arg)) in call.args.iter().zip(args).enumerate() {
            *arg = match *src {
                Source::Const(v) => v,
                Source::Result(k) if k < i => {
                    head |= source_bit(j);
                    k as u64 + 1 // replaced by the result before the call
                }
                Source::Result(k) => {
                    return Err(invalid(format!(
                        "call {i} ({}): argument {j} is the result of call {k}, which is not an earlier call",
                        call.name
                    )))
                }
            };
        }
        if let FdUse::Closes(k) = call.fd {
            // Only what this batch opened, once: another number could be
            // a descriptor the process owns elsewhere, and a second close
            // one another thread opened meanwhile under the same number.
            // (`k < i`: the source was checked above.)
            if calls[..i].iter().any(|c| c.fd == FdUse::Closes(k)) {
                return Err(invalid(format!(
                    "call {i} (close): the descriptor of call {k} is closed by an earlier call already"
                )));
            }
            if calls[k].fd != FdUse::Opens {
                return Err(invalid(format!(
                    "call {i} (close): call {k} ({}) opens no descriptor; close() closes only what \
                     this batch opened (the unsafe Call::raw() closes any number)",
                    calls[k].name
                )));
            }
        }
        e[w(HEAD)] = head;
    }
    Ok(())
}

/// The number's part of a head: `nr`, or where it does not fit, a number
/// no kernel has with the same low 32 bits: the same `-ENOSYS` from the
/// dispatch, the same number for seccomp (which is given an `int`).
fn head_nr(nr: i64) -> u64 {
    const LIMIT: i64 = 1 << (63 - NR_SHIFT);
    let nr = if (-LIMIT..LIMIT).contains(&nr) {
        nr
    } else {
        nr as u32 as i64 | 1 << 40
    };
    (nr as u64) << NR_SHIFT
}

/// Each call's result, or the error of the call that stopped the batch.
pub(crate) fn decode(
    calls: &[Call<'_>],
    ctx: &[u64],
    ret: io::Result<i64>,
) -> io::Result<Vec<i64>> {
    let status = ctx[w(STATUS)] as usize;
    // The calls that ran hold their result where their number was.
    let ran = match ret {
        Ok(_) => calls.len(),
        Err(_) if status != 0 && status <= calls.len() => status,
        Err(e) => return Err(e),
    };
    let entries = ctx[w(ENTRIES)..].chunks_exact(w(ENTRY));
    let mut results: Vec<i64> = entries.take(ran).map(|e| e[w(RESULT)] as i64).collect();
    results.resize(calls.len(), i64::MIN);
    match ret {
        Err(e) => Err(super::step_error(
            calls,
            status - 1,
            e.raw_os_error().unwrap_or(libc::EIO),
            &results,
        )),
        Ok(_) => Ok(results),
    }
}
