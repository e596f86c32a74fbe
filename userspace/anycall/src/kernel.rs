//! What the running kernel offers: the `anycall()` system call, the program
//! type and the `bpf_anycall_syscall` kfunc, found through vmlinux BTF.

use libbpf_sys as bpf;
use std::ffi::CString;
use std::io;

/// The kfunc through which AnyCall programs issue system calls.
pub const SYSCALL_KFUNC: &str = "bpf_anycall_syscall";

/// What [`support`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Support {
    /// `anycall()` exists (it answered `EBADF` for fd -1, not `ENOSYS`).
    pub syscall: bool,
    /// The vmlinux BTF id of [`SYSCALL_KFUNC`], when the kernel has it.
    pub kfunc_btf_id: Option<u32>,
}

impl Support {
    /// Both the system call and the kfunc are there.
    pub fn complete(&self) -> bool {
        self.syscall && self.kfunc_btf_id.is_some()
    }
}

/// Probes the running kernel for AnyCall.
pub fn support() -> Support {
    Support {
        syscall: has_syscall(),
        kfunc_btf_id: kfunc_btf_id(SYSCALL_KFUNC).ok(),
    }
}

/// Whether `anycall()` exists: one system call, without reading BTF.
pub fn has_syscall() -> bool {
    // SAFETY: a null context of size 0 is valid; fd -1 fails before use.
    let ret = unsafe { anycall_sys::anycall(-1, std::ptr::null_mut(), 0, 0) };
    ret == -1 && io::Error::last_os_error().raw_os_error() == Some(libc::EBADF)
}

/// The error for a kernel without AnyCall: says what is missing and why.
pub fn missing(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!(
            "{what}: the running kernel ({}) has no AnyCall (ENOSYS); boot a kernel with \
             the AnyCall series and CONFIG_ANYCALL=y, e.g. `make shell`",
            kernel_release()
        ),
    )
}

/// `uname -r`.
pub fn kernel_release() -> String {
    // SAFETY: `utsname` is plain data; uname() fills it.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `uts` is a valid, writable utsname.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return "unknown".into();
    }
    // SAFETY: uname() NUL-terminates `release`.
    unsafe { std::ffi::CStr::from_ptr(uts.release.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// The vmlinux BTF id of the function `name` (libbpf reads
/// `/sys/kernel/btf/vmlinux`).
pub fn kfunc_btf_id(name: &str) -> io::Result<u32> {
    let cname = CString::new(name).map_err(|_| io::ErrorKind::InvalidInput)?;
    // SAFETY: no arguments; returns an owned BTF object or an error pointer.
    let btf = unsafe { bpf::btf__load_vmlinux_btf() };
    // SAFETY: libbpf_get_error() accepts any pointer libbpf returned.
    let err = unsafe { bpf::libbpf_get_error(btf.cast()) };
    if err != 0 {
        return Err(io::Error::new(
            io::Error::from_raw_os_error(-err as i32).kind(),
            format!(
                "reading vmlinux BTF: {}",
                io::Error::from_raw_os_error(-err as i32)
            ),
        ));
    }
    // SAFETY: `btf` is valid; `cname` is NUL-terminated.
    let id = unsafe { bpf::btf__find_by_name_kind(btf, cname.as_ptr(), bpf::BTF_KIND_FUNC) };
    // SAFETY: `btf` came from btf__load_vmlinux_btf() and is freed once.
    unsafe { bpf::btf__free(btf) };
    if id < 0 {
        return Err(missing(&format!("kfunc {name} not in vmlinux BTF")));
    }
    Ok(id as u32)
}
