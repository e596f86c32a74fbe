//! AnyCall programs compiled from C (`clang -target bpf`) and loaded from
//! their ELF object with libbpf.

use crate::kernel;
use libbpf_sys as bpf;
use std::ffi::{c_char, c_int, CStr, CString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Once;

/// Room for the verifier's log when a load fails.
const LOG_SIZE: usize = 1 << 20;

/// A context an AnyCall program reads and writes: a `#[repr(C)]` struct of
/// plain data, passed to the kernel as its bytes.
///
/// # Safety
///
/// Every byte pattern must be a valid value of the type (integers, arrays of
/// them, `#[repr(C)]` structs of those; no references, `bool`s, enums or
/// padding the program could fill with something invalid).
pub unsafe trait Context: Sized {}

// SAFETY: integers and arrays of them accept any byte pattern.
unsafe impl Context for u64 {}
// SAFETY: as above.
unsafe impl Context for i64 {}
// SAFETY: as above.
unsafe impl Context for u32 {}
// SAFETY: as above.
unsafe impl Context for i32 {}
// SAFETY: as above.
unsafe impl Context for u16 {}
// SAFETY: as above.
unsafe impl Context for u8 {}
// SAFETY: as above.
unsafe impl<T: Context, const N: usize> Context for [T; N] {}
// SAFETY: `struct stat` and `struct statx` are integers and arrays of them;
// the kernel fills them in for fstat()/statx() results.
unsafe impl Context for libc::stat {}
// SAFETY: as above.
unsafe impl Context for libc::statx {}

/// A loaded AnyCall program.
///
/// Calling it is `unsafe`: the program makes system calls as the process,
/// with the addresses, lengths and descriptors its context holds, and
/// nothing but its author knows what it reads, writes or closes. The typed
/// chains ([`crate::chain`]) and batches ([`crate::batch`]) are the safe
/// way to AnyCall; they never hand out their program.
///
/// ```compile_fail
/// fn forge(prog: &anycall::Program, ctx: &mut [u8]) {
///     let _ = prog.call_bytes(ctx); // unsafe: needs an `unsafe` block
/// }
/// ```
///
/// ```no_run
/// fn run(prog: &anycall::Program, ctx: &mut [u8]) {
///     // SAFETY: (what the program does with `ctx`, and why that is fine)
///     let _ = unsafe { prog.call_bytes(ctx) };
/// }
/// ```
#[derive(Debug)]
pub struct Program {
    fd: OwnedFd,
    name: String,
}

impl Program {
    /// Loads the first program in the ELF object at `path`.
    pub fn from_file(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        Self::from_elf(&bytes, None)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
    }

    /// Loads the program `name` (its C function name), or the first one
    /// when `name` is `None`, from the ELF object `elf`. Every program in
    /// the object is loaded as a sleepable AnyCall program, whatever its
    /// section; kfunc and map references are resolved by libbpf.
    pub fn from_elf(elf: &[u8], name: Option<&str>) -> io::Result<Self> {
        match ElfObject::load(elf, name, false) {
            // The kernel refused it: load again with the verifier's log on,
            // to report it (not for a bad object or a missing program).
            Err(err)
                if !matches!(
                    err.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::InvalidData
                ) =>
            {
                ElfObject::load(elf, name, true)
            }
            loaded => loaded,
        }
    }

    /// Opens a program pinned in bpffs (see [`Program::pin`]).
    pub fn open_pinned(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref();
        let cpath = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path has a NUL byte"))?;
        // SAFETY: `cpath` is NUL-terminated.
        let fd = unsafe { bpf::bpf_obj_get(cpath.as_ptr()) };
        if fd < 0 {
            let err = io::Error::from_raw_os_error(-fd);
            return Err(io::Error::new(
                err.kind(),
                format!("{}: {err}", path.display()),
            ));
        }
        // SAFETY: the kernel just gave us this fd.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let info = prog_info(fd.as_fd())?;
        if info.type_ != anycall_sys::BPF_PROG_TYPE_ANYCALL {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{}: not an AnyCall program (type {})",
                    path.display(),
                    info.type_
                ),
            ));
        }
        // SAFETY: the kernel NUL-terminates `name`.
        let name = unsafe { CStr::from_ptr(info.name.as_ptr()) };
        Ok(Self::from_fd(fd, name.to_string_lossy().into_owned()))
    }

    /// Pins the program at `path` in a mounted bpffs, so that other
    /// processes can open it with [`Program::open_pinned`].
    pub fn pin(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        let cpath = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path has a NUL byte"))?;
        // SAFETY: `cpath` is NUL-terminated; the fd is ours.
        let ret = unsafe { bpf::bpf_obj_pin(self.fd.as_raw_fd(), cpath.as_ptr()) };
        if ret < 0 {
            let err = io::Error::from_raw_os_error(-ret);
            return Err(io::Error::new(
                err.kind(),
                format!("pinning at {}: {err}", path.display()),
            ));
        }
        Ok(())
    }

    /// Runs the program on `ctx` and returns its return value.
    ///
    /// # Safety
    ///
    /// As for [`Program::call_bytes`], with `ctx` as the context: `C` must
    /// be the context type the program was written for, and every address,
    /// length and descriptor in it what the program expects there.
    pub unsafe fn call<C: Context>(&self, ctx: &mut C) -> io::Result<i64> {
        // SAFETY: `C: Context` is plain data: viewing it as bytes is valid,
        // and any bytes the program writes back are a valid `C`.
        let bytes = unsafe {
            std::slice::from_raw_parts_mut((ctx as *mut C).cast::<u8>(), std::mem::size_of::<C>())
        };
        // SAFETY: the caller's contract, for this context.
        unsafe { self.call_bytes(bytes) }
    }

    /// Runs the program on a context given as bytes.
    ///
    /// A negative value the program returns comes back as an error with
    /// that errno (that is how `anycall(2)` returns it).
    ///
    /// # Safety
    ///
    /// The program issues system calls as this process with whatever it
    /// finds in `ctx` or computes from it. The caller must know what the
    /// program does with this context and make sure that this run leaves
    /// the process's memory and I/O safe: every address and length the
    /// calls use describes memory they may read or write for the whole
    /// call (and none that Rust references alias in a way the writes would
    /// break), no call unmaps or remaps memory the process uses, and no
    /// call closes or replaces a descriptor the process owns elsewhere
    /// (a `File`, an `OwnedFd`).
    pub unsafe fn call_bytes(&self, ctx: &mut [u8]) -> io::Result<i64> {
        // SAFETY: the caller's contract.
        unsafe { crate::sys::anycall(self.fd.as_raw_fd(), ctx, 0) }.map_err(|err| {
            // ENOSYS is also what a program returns for an unknown inner call.
            if err.raw_os_error() == Some(libc::ENOSYS) && !kernel::has_syscall() {
                kernel::missing("anycall()")
            } else {
                err
            }
        })
    }

    /// The program's name (as the kernel keeps it: at most 15 bytes).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn from_fd(fd: OwnedFd, name: String) -> Self {
        Self { fd, name }
    }
}

impl AsFd for Program {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A libbpf object, closed on drop.
struct ElfObject(*mut bpf::bpf_object);

impl Drop for ElfObject {
    fn drop(&mut self) {
        // SAFETY: the object came from bpf_object__open_mem() and is closed once.
        unsafe { bpf::bpf_object__close(self.0) };
    }
}

impl ElfObject {
    fn load(elf: &[u8], name: Option<&str>, with_log: bool) -> io::Result<Program> {
        quiet_libbpf();
        // SAFETY: plain data; all zeroes is the default.
        let mut opts: bpf::bpf_object_open_opts = unsafe { std::mem::zeroed() };
        opts.sz = std::mem::size_of::<bpf::bpf_object_open_opts>() as _;
        // SAFETY: `elf` is valid for its length; libbpf copies what it keeps.
        let obj = unsafe { bpf::bpf_object__open_mem(elf.as_ptr().cast(), elf.len() as _, &opts) };
        // SAFETY: libbpf_get_error() accepts any pointer libbpf returned.
        let err = unsafe { bpf::libbpf_get_error(obj.cast()) };
        if obj.is_null() || err != 0 {
            let errno = if err != 0 { -err as i32 } else { libc::EINVAL };
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "not a BPF ELF object libbpf can open: {}",
                    libbpf_strerror(errno)
                ),
            ));
        }
        let obj = ElfObject(obj);
        let mut log = vec![0u8; if with_log { LOG_SIZE } else { 0 }];
        let mut chosen = None;
        let mut names = Vec::new();
        let mut prog = std::ptr::null_mut();
        loop {
            // SAFETY: `obj` is open; `prog` is null or one of its programs.
            prog = unsafe { bpf::bpf_object__next_program(obj.0, prog) };
            if prog.is_null() {
                break;
            }
            // SAFETY: `prog` is valid; libbpf returns a NUL-terminated name.
            let pname = unsafe { CStr::from_ptr(bpf::bpf_program__name(prog)) }
                .to_string_lossy()
                .into_owned();
            // SAFETY: `prog` is valid and not loaded yet.
            unsafe {
                bpf::bpf_program__set_type(prog, anycall_sys::BPF_PROG_TYPE_ANYCALL);
                let flags = bpf::bpf_program__flags(prog);
                bpf::bpf_program__set_flags(prog, flags | bpf::BPF_F_SLEEPABLE);
            }
            let wanted = match name {
                Some(n) => n == pname,
                None => chosen.is_none(),
            };
            if wanted {
                chosen = Some((prog, pname.clone()));
                if with_log {
                    // SAFETY: `log` outlives the load below.
                    unsafe {
                        bpf::bpf_program__set_log_buf(
                            prog,
                            log.as_mut_ptr().cast::<c_char>(),
                            log.len() as _,
                        );
                        bpf::bpf_program__set_log_level(prog, 1);
                    }
                }
            } else {
                // Only the program asked for is loaded.
                // SAFETY: `prog` is valid and not loaded yet.
                unsafe { bpf::bpf_program__set_autoload(prog, false) };
            }
            names.push(pname);
        }
        let Some((prog, pname)) = chosen else {
            let what = name.map_or("any program".to_string(), |n| {
                format!("a program named {n}")
            });
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("the object has no {what} (it has: {})", names.join(", ")),
            ));
        };
        // SAFETY: `obj` is open.
        let ret = unsafe { bpf::bpf_object__load(obj.0) };
        if ret < 0 {
            let err = io::Error::from_raw_os_error(-ret);
            let text = crate::load::log_text(&log);
            let msg = if !kernel::has_syscall() {
                kernel::missing(&format!("loading {pname}")).to_string()
            } else {
                format!("loading {pname}: {err}")
            };
            return Err(io::Error::new(
                err.kind(),
                format!("{msg}\n{}", text.trim_end()),
            ));
        }
        // SAFETY: `prog` is loaded; its fd stays the object's, so dup it.
        let fd = unsafe { bpf::bpf_program__fd(prog) };
        // SAFETY: `fd` is open while `obj` is.
        let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
        if dup < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `dup` is a new fd that nothing else owns.
        Ok(Program::from_fd(
            unsafe { OwnedFd::from_raw_fd(dup) },
            pname,
        ))
    }
}

/// libbpf prints warnings to stderr; this library reports them in its
/// errors instead.
fn quiet_libbpf() {
    static ONCE: Once = Once::new();
    unsafe extern "C" fn quiet(
        _level: bpf::libbpf_print_level,
        _fmt: *const c_char,
        _args: *mut bpf::__va_list_tag,
    ) -> c_int {
        0
    }
    ONCE.call_once(|| {
        // SAFETY: `quiet` has the signature libbpf expects and touches nothing.
        unsafe { bpf::libbpf_set_print(Some(quiet)) };
    });
}

/// libbpf's message for its own error codes (4000 and up) and errnos.
fn libbpf_strerror(errno: i32) -> String {
    let mut buf = [0u8; 128];
    // SAFETY: `buf` is writable for its length; libbpf NUL-terminates.
    unsafe { bpf::libbpf_strerror(errno, buf.as_mut_ptr().cast::<c_char>(), buf.len() as _) };
    CStr::from_bytes_until_nul(&buf)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|_| format!("error {errno}"))
}

fn prog_info(fd: BorrowedFd<'_>) -> io::Result<bpf::bpf_prog_info> {
    // SAFETY: plain data; the kernel fills it.
    let mut info: bpf::bpf_prog_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<bpf::bpf_prog_info>() as u32;
    // SAFETY: `info` is writable for `len` bytes.
    let ret = unsafe {
        bpf::bpf_obj_get_info_by_fd(
            fd.as_raw_fd(),
            (&mut info as *mut bpf::bpf_prog_info).cast(),
            &mut len,
        )
    };
    if ret < 0 {
        return Err(io::Error::from_raw_os_error(-ret));
    }
    Ok(info)
}
