//! Classic BPF seccomp filters for [`Filter`]s.

use crate::gen::{Action, Filter, REPORT_FD};

/// `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockFilter {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// `struct sock_fprog`, with its padding spelled out so that all of
/// its bytes are initialized (a chain's input slot passes them).
#[repr(C)]
#[derive(Debug)]
pub struct SockFprog {
    pub len: u16,
    pub _pad: [u16; 3],
    pub filter: *const SockFilter,
}

const _: () = assert!(std::mem::size_of::<SockFprog>() == 16);

impl SockFprog {
    /// Its bytes, as the kernel reads them.
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `repr(C)` with no implicit padding (see the assertion
        // above): every one of its 16 bytes is initialized.
        unsafe {
            std::slice::from_raw_parts(
                (self as *const Self).cast::<u8>(),
                std::mem::size_of::<Self>(),
            )
        }
    }
}

const LD_W_ABS: u16 = 0x20; // BPF_LD (0) | BPF_W (0) | BPF_ABS (0x20)
const JEQ_K: u16 = 0x05 | 0x10; // BPF_JMP | BPF_JEQ | BPF_K
const RET_K: u16 = 0x06; // BPF_RET | BPF_K
/// `offsetof(struct seccomp_data, nr)`.
const NR: u32 = 0;
/// `offsetof(struct seccomp_data, args)`: the low 32 bits of argument `i`
/// are at `ARGS + 8 * i` (little endian).
const ARGS: u32 = 16;
const RET_ALLOW: u32 = 0x7fff_0000;
const RET_ERRNO: u32 = 0x0005_0000;
const RET_KILL_PROCESS: u32 = 0x8000_0000;

fn ins(code: u16, jt: u8, jf: u8, k: u32) -> SockFilter {
    SockFilter { code, jt, jf, k }
}

/// The filter's program: its action for its call (and argument), `ALLOW`
/// for everything else, and always `ALLOW` for `write` to the report fd,
/// which the twin needs to tell the parent what it saw.
pub fn program(f: &Filter) -> Vec<SockFilter> {
    let mut p = vec![ins(LD_W_ABS, 0, 0, NR)];
    // Each test jumps to ALLOW (the last instruction) when it fails;
    // offsets are patched once the length is known.
    let mut to_allow = Vec::new();
    to_allow.push(p.len());
    p.push(ins(JEQ_K, 0, 0, f.nr as u32));
    if f.nr == libc::SYS_write {
        p.push(ins(LD_W_ABS, 0, 0, ARGS));
        // jt: the report fd -> ALLOW; jf: go on.
        p.push(ins(JEQ_K, u8::MAX, 0, REPORT_FD as u32));
    }
    if let Some((arg, val)) = f.arg {
        p.push(ins(LD_W_ABS, 0, 0, ARGS + 8 * arg as u32));
        to_allow.push(p.len());
        p.push(ins(JEQ_K, 0, 0, val));
    }
    let action = match f.action {
        Action::Errno(e) => RET_ERRNO | e as u32,
        Action::Kill => RET_KILL_PROCESS,
    };
    p.push(ins(RET_K, 0, 0, action));
    p.push(ins(RET_K, 0, 0, RET_ALLOW));
    let allow = p.len() - 1;
    for at in to_allow {
        p[at].jf = (allow - at - 1) as u8;
    }
    for (at, i) in p.iter_mut().enumerate() {
        if i.jt == u8::MAX {
            i.jt = (allow - at - 1) as u8;
        }
    }
    p
}

/// What `prog` returns for a call: a small classic BPF interpreter for the
/// instructions [`program`] uses, to test the filters on the host.
#[cfg(test)]
pub fn run(prog: &[SockFilter], nr: i32, args: [u64; 6]) -> u32 {
    let mut data = [0u8; 64];
    data[0..4].copy_from_slice(&nr.to_ne_bytes());
    data[4..8].copy_from_slice(&0xc000_003eu32.to_ne_bytes()); // AUDIT_ARCH_X86_64
    for (i, a) in args.iter().enumerate() {
        data[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_ne_bytes());
    }
    let mut acc = 0u32;
    let mut pc = 0usize;
    loop {
        let i = prog[pc];
        pc += 1;
        match i.code {
            LD_W_ABS => {
                let k = i.k as usize;
                acc = u32::from_ne_bytes(data[k..k + 4].try_into().unwrap());
            }
            JEQ_K => pc += if acc == i.k { i.jt } else { i.jf } as usize,
            RET_K => return i.k,
            c => panic!("instruction {c:#x}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const READ: i32 = libc::SYS_read as i32;
    const WRITE: i32 = libc::SYS_write as i32;

    #[test]
    fn a_whole_call() {
        let p = program(&Filter {
            nr: libc::SYS_read,
            arg: None,
            action: Action::Errno(13),
        });
        assert_eq!(run(&p, READ, [3, 0, 0, 0, 0, 0]), RET_ERRNO | 13);
        assert_eq!(run(&p, WRITE, [3, 0, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(run(&p, READ + 1, [0; 6]), RET_ALLOW);
    }

    #[test]
    fn one_argument_value() {
        let p = program(&Filter {
            nr: libc::SYS_openat,
            arg: Some((2, libc::O_RDWR as u32)),
            action: Action::Errno(1),
        });
        let openat = libc::SYS_openat as i32;
        assert_eq!(run(&p, openat, [0, 0, 2, 0, 0, 0]), RET_ERRNO | 1);
        // Only the low 32 bits are compared.
        assert_eq!(run(&p, openat, [0, 0, 2 | 1 << 40, 0, 0, 0]), RET_ERRNO | 1);
        assert_eq!(run(&p, openat, [0, 0, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(run(&p, READ, [0, 0, 2, 0, 0, 0]), RET_ALLOW);
    }

    #[test]
    fn kill() {
        let p = program(&Filter {
            nr: libc::SYS_read,
            arg: None,
            action: Action::Kill,
        });
        assert_eq!(run(&p, READ, [0; 6]), RET_KILL_PROCESS);
        assert_eq!(run(&p, WRITE, [0; 6]), RET_ALLOW);
    }

    #[test]
    fn write_to_the_report_fd_always_passes() {
        for arg in [None, Some((0, REPORT_FD as u32)), Some((1, 0))] {
            let p = program(&Filter {
                nr: libc::SYS_write,
                arg,
                action: Action::Errno(1),
            });
            assert_eq!(run(&p, WRITE, [REPORT_FD as u64, 0, 0, 0, 0, 0]), RET_ALLOW);
        }
        let p = program(&Filter {
            nr: libc::SYS_write,
            arg: None,
            action: Action::Errno(1),
        });
        assert_eq!(run(&p, WRITE, [4, 0, 0, 0, 0, 0]), RET_ERRNO | 1);
        let p = program(&Filter {
            nr: libc::SYS_write,
            arg: Some((1, 0)),
            action: Action::Errno(1),
        });
        assert_eq!(run(&p, WRITE, [4, 0, 0, 0, 0, 0]), RET_ERRNO | 1);
        assert_eq!(run(&p, WRITE, [4, 5, 0, 0, 0, 0]), RET_ALLOW);
    }
}
