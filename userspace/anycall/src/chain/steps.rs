//! Typed steps for the common system calls, and the raw one.
//!
//! A typed step takes its buffers as slots, so the kernel only ever gets
//! an address together with the length of what is bound there: safe Rust
//! cannot make a chain write out of bounds. Numbers (fds, flags, offsets)
//! are any [`Arg`].

use super::builder::{Arg, ChainBuilder, FdUse, Slot, Step, Want};

/// `sizeof(struct stat)`.
const STAT_SIZE: usize = std::mem::size_of::<libc::stat>();
/// `sizeof(struct epoll_event)`.
const EPOLL_EVENT_SIZE: usize = std::mem::size_of::<libc::epoll_event>();
/// `sizeof(struct statx)`.
const STATX_SIZE: usize = std::mem::size_of::<libc::statx>();

fn n(a: impl Into<Arg>) -> (Arg, Want) {
    (a.into(), Want::Scalar)
}

fn ptr(s: &Slot, want: Want) -> (Arg, Want) {
    (Arg::Ptr(*s), want)
}

fn len(s: &Slot) -> (Arg, Want) {
    (Arg::Len(*s), Want::Scalar)
}

fn out(s: &Slot) -> (Arg, Want) {
    ptr(s, Want::Output { min: 0 })
}

impl ChainBuilder {
    /// `openat(dirfd, path, flags, mode)`: its result is the new fd.
    pub fn openat(
        &mut self,
        dirfd: impl Into<Arg>,
        path: &Slot,
        flags: impl Into<Arg>,
        mode: impl Into<Arg>,
    ) -> Step {
        let args = vec![n(dirfd), ptr(path, Want::Path), n(flags), n(mode)];
        self.push_fd("openat", libc::SYS_openat, args, FdUse::Opens)
    }

    /// `close(fd)`, where `fd` is the result of an earlier [`Self::openat`]
    /// of this chain (in the same loop, if it is in one), closed by no other
    /// step: [`Self::build`] refuses anything else. A descriptor the chain
    /// did not open may be one a `File` or `OwnedFd` owns (I/O safety); the
    /// `unsafe` [`Self::syscall`] closes any number.
    ///
    /// ```compile_fail
    /// let mut b = anycall::chain::ChainBuilder::new();
    /// b.close(3); // a number is no step of this chain
    /// ```
    pub fn close(&mut self, fd: Step) -> Step {
        self.push_fd(
            "close",
            libc::SYS_close,
            vec![n(Arg::Result(fd))],
            FdUse::Closes(fd),
        )
    }

    /// `read(fd, buf, len(buf))`.
    pub fn read(&mut self, fd: impl Into<Arg>, buf: &Slot) -> Step {
        self.push("read", libc::SYS_read, vec![n(fd), out(buf), len(buf)])
    }

    /// `pread64(fd, buf, len(buf), offset)`.
    pub fn pread64(&mut self, fd: impl Into<Arg>, buf: &Slot, offset: impl Into<Arg>) -> Step {
        self.push(
            "pread64",
            libc::SYS_pread64,
            vec![n(fd), out(buf), len(buf), n(offset)],
        )
    }

    /// `write(fd, data, len(data))`.
    pub fn write(&mut self, fd: impl Into<Arg>, data: &Slot) -> Step {
        self.push(
            "write",
            libc::SYS_write,
            vec![n(fd), ptr(data, Want::Input { min: 0 }), len(data)],
        )
    }

    /// `pwrite64(fd, data, len(data), offset)`.
    pub fn pwrite64(&mut self, fd: impl Into<Arg>, data: &Slot, offset: impl Into<Arg>) -> Step {
        let args = vec![
            n(fd),
            ptr(data, Want::Input { min: 0 }),
            len(data),
            n(offset),
        ];
        self.push("pwrite64", libc::SYS_pwrite64, args)
    }

    /// `fstat(fd, statbuf)`: `statbuf` holds a `struct stat`.
    pub fn fstat(&mut self, fd: impl Into<Arg>, statbuf: &Slot) -> Step {
        let args = vec![n(fd), ptr(statbuf, Want::Output { min: STAT_SIZE })];
        self.push("fstat", libc::SYS_fstat, args)
    }

    /// `newfstatat(dirfd, path, statbuf, flags)` (`fstatat(3)`).
    pub fn newfstatat(
        &mut self,
        dirfd: impl Into<Arg>,
        path: &Slot,
        statbuf: &Slot,
        flags: impl Into<Arg>,
    ) -> Step {
        let args = vec![
            n(dirfd),
            ptr(path, Want::Path),
            ptr(statbuf, Want::Output { min: STAT_SIZE }),
            n(flags),
        ];
        self.push("newfstatat", libc::SYS_newfstatat, args)
    }

    /// `statx(dirfd, path, flags, mask, statxbuf)`.
    pub fn statx(
        &mut self,
        dirfd: impl Into<Arg>,
        path: &Slot,
        flags: impl Into<Arg>,
        mask: impl Into<Arg>,
        statxbuf: &Slot,
    ) -> Step {
        let args = vec![
            n(dirfd),
            ptr(path, Want::Path),
            n(flags),
            n(mask),
            ptr(statxbuf, Want::Output { min: STATX_SIZE }),
        ];
        self.push("statx", libc::SYS_statx, args)
    }

    /// `getdents64(fd, buf, len(buf))`.
    pub fn getdents64(&mut self, fd: impl Into<Arg>, buf: &Slot) -> Step {
        self.push(
            "getdents64",
            libc::SYS_getdents64,
            vec![n(fd), out(buf), len(buf)],
        )
    }

    /// `lseek(fd, offset, whence)`.
    pub fn lseek(
        &mut self,
        fd: impl Into<Arg>,
        offset: impl Into<Arg>,
        whence: impl Into<Arg>,
    ) -> Step {
        self.push("lseek", libc::SYS_lseek, vec![n(fd), n(offset), n(whence)])
    }

    /// `fsync(fd)`.
    pub fn fsync(&mut self, fd: impl Into<Arg>) -> Step {
        self.push("fsync", libc::SYS_fsync, vec![n(fd)])
    }

    /// `sendto(fd, data, len(data), flags, NULL, 0)`: send on a connected socket.
    pub fn sendto(&mut self, fd: impl Into<Arg>, data: &Slot, flags: impl Into<Arg>) -> Step {
        let args = vec![
            n(fd),
            ptr(data, Want::Input { min: 0 }),
            len(data),
            n(flags),
            n(0),
            n(0),
        ];
        self.push("sendto", libc::SYS_sendto, args)
    }

    /// `recvfrom(fd, buf, len(buf), flags, NULL, NULL)`.
    pub fn recvfrom(&mut self, fd: impl Into<Arg>, buf: &Slot, flags: impl Into<Arg>) -> Step {
        let args = vec![n(fd), out(buf), len(buf), n(flags), n(0), n(0)];
        self.push("recvfrom", libc::SYS_recvfrom, args)
    }

    /// `epoll_ctl(epfd, op, fd, event)`: `event` is an input slot holding
    /// a `struct epoll_event` (binding a shorter one is refused).
    pub fn epoll_ctl(
        &mut self,
        epfd: impl Into<Arg>,
        op: impl Into<Arg>,
        fd: impl Into<Arg>,
        event: &Slot,
    ) -> Step {
        let event = ptr(
            event,
            Want::Input {
                min: EPOLL_EVENT_SIZE,
            },
        );
        let args = vec![n(epfd), n(op), n(fd), event];
        self.push("epoll_ctl", libc::SYS_epoll_ctl, args)
    }

    /// `mkdirat(dirfd, path, mode)`.
    pub fn mkdirat(&mut self, dirfd: impl Into<Arg>, path: &Slot, mode: impl Into<Arg>) -> Step {
        self.push(
            "mkdirat",
            libc::SYS_mkdirat,
            vec![n(dirfd), ptr(path, Want::Path), n(mode)],
        )
    }

    /// `unlinkat(dirfd, path, flags)`.
    pub fn unlinkat(&mut self, dirfd: impl Into<Arg>, path: &Slot, flags: impl Into<Arg>) -> Step {
        self.push(
            "unlinkat",
            libc::SYS_unlinkat,
            vec![n(dirfd), ptr(path, Want::Path), n(flags)],
        )
    }

    /// `ftruncate(fd, length)`.
    pub fn ftruncate(&mut self, fd: impl Into<Arg>, length: impl Into<Arg>) -> Step {
        self.push("ftruncate", libc::SYS_ftruncate, vec![n(fd), n(length)])
    }

    /// `getppid()`.
    pub fn getppid(&mut self) -> Step {
        self.push("getppid", libc::SYS_getppid, vec![])
    }

    /// `getpid()`.
    pub fn getpid(&mut self) -> Step {
        self.push("getpid", libc::SYS_getpid, vec![])
    }

    /// Any system call `nr` with up to six arguments from anywhere.
    ///
    /// # Safety
    ///
    /// Every run of the chain must leave the process's memory safe: the
    /// call must not write where Rust does not expect it (addresses and
    /// lengths must describe memory the call may write), nor unmap, remap
    /// or change memory the program uses, nor close fds others own.
    pub unsafe fn syscall(&mut self, name: &str, nr: i64, args: &[Arg]) -> Step {
        let args = args.iter().map(|a| (*a, Want::Any)).collect();
        self.push(name, nr, args)
    }
}
