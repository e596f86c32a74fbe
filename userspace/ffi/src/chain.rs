//! `anycall_chain_*`: the chain builder for C.

use crate::error::{guard, guard_ptr, invalid};
use anycall::chain::{Arg, Chain, ChainBuilder, OnError, Slot, Step};
use std::ffi::{c_char, c_int, c_long, c_uint, c_void, CStr};
use std::io;

/// `struct anycall_arg`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct AnycallArg {
    pub kind: u32,
    pub value: u64,
}

const ARG_CONST: u32 = 0;
const ARG_RESULT: u32 = 1;
const ARG_VALUE: u32 = 2;

const SLOT_VALUE: c_int = 0;
const SLOT_PATH: c_int = 1;
const SLOT_INPUT: c_int = 2;
const SLOT_OUTPUT: c_int = 3;

/// An opaque `struct anycall_chain_builder`.
pub struct AnycallChainBuilder {
    builder: ChainBuilder,
    slots: Vec<Slot>,
    steps: Vec<Step>,
}

/// What C bound a slot to.
#[derive(Clone, Copy)]
enum Binding {
    Value(u64),
    Path(*const c_char),
    Input(*const u8, usize),
    Output(*mut u8, usize),
}

/// An opaque `struct anycall_chain`.
pub struct AnycallChain {
    chain: Chain,
    slots: Vec<Slot>,
    steps: Vec<Step>,
    bindings: Vec<Option<Binding>>,
    results: Vec<i64>,
    failed: c_int,
}

impl AnycallChainBuilder {
    fn arg(&self, a: AnycallArg) -> io::Result<Arg> {
        let index = |what: &str, n: usize| {
            usize::try_from(a.value)
                .ok()
                .filter(|&i| i < n)
                .ok_or_else(|| invalid(&format!("{what} {} does not exist (yet)", a.value)))
        };
        Ok(match a.kind {
            ARG_CONST => Arg::Const(a.value),
            ARG_RESULT => Arg::Result(self.steps[index("step", self.steps.len())?]),
            ARG_VALUE => Arg::from(&self.slots[index("slot", self.slots.len())?]),
            k => return Err(invalid(&format!("unknown argument kind {k}"))),
        })
    }

    fn slot(&self, s: c_int) -> io::Result<Slot> {
        usize::try_from(s)
            .ok()
            .and_then(|i| self.slots.get(i).copied())
            .ok_or_else(|| invalid(&format!("slot {s} does not exist")))
    }

    fn push(&mut self, step: Step) -> i64 {
        self.steps.push(step);
        step.index() as i64
    }
}

/// # Safety
///
/// `b` came from anycall_chain_builder_new() and was not loaded or freed.
unsafe fn builder<'a>(b: *mut AnycallChainBuilder) -> io::Result<&'a mut AnycallChainBuilder> {
    // SAFETY: the caller's contract.
    unsafe { b.as_mut() }.ok_or_else(|| invalid("the chain builder is NULL"))
}

/// A new, empty chain.
#[no_mangle]
pub extern "C" fn anycall_chain_builder_new() -> *mut AnycallChainBuilder {
    Box::into_raw(Box::new(AnycallChainBuilder {
        builder: ChainBuilder::new(),
        slots: Vec::new(),
        steps: Vec::new(),
    }))
}

/// # Safety
///
/// `b` is NULL or came from anycall_chain_builder_new() and was not
/// loaded or freed.
#[no_mangle]
pub unsafe extern "C" fn anycall_chain_builder_free(b: *mut AnycallChainBuilder) {
    if !b.is_null() {
        // SAFETY: the caller's contract.
        drop(unsafe { Box::from_raw(b) });
    }
}

/// # Safety
///
/// As anycall_chain_builder_free(), but `b` stays usable.
#[no_mangle]
pub unsafe extern "C" fn anycall_chain_slot(b: *mut AnycallChainBuilder, kind: c_int) -> c_int {
    guard(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { builder(b) }?;
        let slot = match kind {
            SLOT_VALUE => b.builder.value(),
            SLOT_PATH => b.builder.path(),
            SLOT_INPUT => b.builder.input(),
            SLOT_OUTPUT => b.builder.output(),
            k => return Err(invalid(&format!("unknown slot kind {k}"))),
        };
        b.slots.push(slot);
        Ok((b.slots.len() - 1) as i64)
    }) as c_int
}

macro_rules! step_fn {
    ($(#[$doc:meta])* $name:ident ($($p:ident : $t:ident),*) => |$b:ident| $body:expr) => {
        $(#[$doc])*
        ///
        /// # Safety
        ///
        /// `b` came from anycall_chain_builder_new() and was not loaded or freed.
        #[no_mangle]
        pub unsafe extern "C" fn $name(b: *mut AnycallChainBuilder $(, $p: step_fn!(@ty $t))*) -> c_int {
            guard(|| {
                // SAFETY: the caller's contract.
                let $b = unsafe { builder(b) }?;
                $(let $p = step_fn!(@conv $b, $p, $t);)*
                let step = $body;
                Ok($b.push(step))
            }) as c_int
        }
    };
    (@ty arg) => { AnycallArg };
    (@ty slot) => { c_int };
    (@conv $b:ident, $p:ident, arg) => { $b.arg($p)? };
    (@conv $b:ident, $p:ident, slot) => { $b.slot($p)? };
}

step_fn!(anycall_chain_openat(dirfd: arg, path: slot, flags: arg, mode: arg) => |b| b.builder.openat(dirfd, &path, flags, mode));

/// `close(fd)`: the result of an earlier openat step is checked (closed
/// once, in its loop); any other number is closed as given.
///
/// # Safety
///
/// `b` came from anycall_chain_builder_new() and was not loaded or freed;
/// a descriptor given as a constant or value the caller answers for.
#[no_mangle]
pub unsafe extern "C" fn anycall_chain_close(b: *mut AnycallChainBuilder, fd: AnycallArg) -> c_int {
    guard(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { builder(b) }?;
        let step = match b.arg(fd)? {
            Arg::Result(opened) => b.builder.close(opened),
            // SAFETY: C callers answer for the numbers they close
            // (anycall.h), as for a close() of their own.
            other => unsafe { b.builder.syscall("close", libc::SYS_close, &[other]) },
        };
        Ok(b.push(step))
    }) as c_int
}
step_fn!(anycall_chain_read(fd: arg, out: slot) => |b| b.builder.read(fd, &out));
step_fn!(anycall_chain_pread64(fd: arg, out: slot, offset: arg) => |b| b.builder.pread64(fd, &out, offset));
step_fn!(anycall_chain_write(fd: arg, data: slot) => |b| b.builder.write(fd, &data));
step_fn!(anycall_chain_pwrite64(fd: arg, data: slot, offset: arg) => |b| b.builder.pwrite64(fd, &data, offset));
step_fn!(anycall_chain_fstat(fd: arg, out: slot) => |b| b.builder.fstat(fd, &out));
step_fn!(anycall_chain_newfstatat(dirfd: arg, path: slot, out: slot, flags: arg) => |b| b.builder.newfstatat(dirfd, &path, &out, flags));
step_fn!(anycall_chain_lseek(fd: arg, offset: arg, whence: arg) => |b| b.builder.lseek(fd, offset, whence));
step_fn!(anycall_chain_getdents64(fd: arg, out: slot) => |b| b.builder.getdents64(fd, &out));
step_fn!(anycall_chain_fsync(fd: arg) => |b| b.builder.fsync(fd));

/// # Safety
///
/// `b` came from anycall_chain_builder_new() and was not loaded or freed;
/// `args` points at `nargs` arguments. Whatever the call does with them is
/// the caller's to answer for.
#[no_mangle]
pub unsafe extern "C" fn anycall_chain_syscall(
    b: *mut AnycallChainBuilder,
    nr: c_long,
    args: *const AnycallArg,
    nargs: c_uint,
) -> c_int {
    guard(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { builder(b) }?;
        if nargs > 6 || (args.is_null() && nargs > 0) {
            return Err(invalid("a system call takes 0 to 6 arguments"));
        }
        let raw = if nargs == 0 {
            &[][..]
        } else {
            // SAFETY: the caller's contract.
            unsafe { std::slice::from_raw_parts(args, nargs as usize) }
        };
        let args = raw
            .iter()
            .map(|a| b.arg(*a))
            .collect::<io::Result<Vec<_>>>()?;
        // SAFETY: C callers take on what the call does (anycall.h).
        let step = unsafe { b.builder.syscall("syscall", nr, &args) };
        Ok(b.push(step))
    }) as c_int
}

/// # Safety
///
/// `b` came from anycall_chain_builder_new() and was not loaded or freed.
#[no_mangle]
pub unsafe extern "C" fn anycall_chain_on_error(
    b: *mut AnycallChainBuilder,
    step: c_int,
    policy: c_int,
    target: c_int,
) -> c_int {
    guard(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { builder(b) }?;
        let get = |s: c_int| {
            usize::try_from(s)
                .ok()
                .and_then(|i| b.steps.get(i).copied())
                .ok_or_else(|| invalid(&format!("step {s} does not exist")))
        };
        let step = get(step)?;
        let policy = match policy {
            0 => OnError::Stop,
            1 => OnError::Continue,
            2 => OnError::Goto(get(target)?),
            p => return Err(invalid(&format!("unknown policy {p}"))),
        };
        b.builder.on_error(step, policy);
        Ok(0)
    }) as c_int
}

/// # Safety
///
/// `b` came from anycall_chain_builder_new() and was not loaded or freed;
/// it is freed here.
#[no_mangle]
pub unsafe extern "C" fn anycall_chain_load(b: *mut AnycallChainBuilder) -> *mut AnycallChain {
    guard_ptr(|| {
        if b.is_null() {
            return Err(invalid("the chain builder is NULL"));
        }
        // SAFETY: the caller's contract: ours, from Box::into_raw.
        let b = unsafe { Box::from_raw(b) };
        let chain = b.builder.build()?.load()?;
        let n = b.slots.len();
        Ok(Box::new(AnycallChain {
            chain,
            slots: b.slots,
            results: vec![i64::MIN; b.steps.len()],
            steps: b.steps,
            bindings: vec![None; n],
            failed: -1,
        }))
    })
}

/// # Safety
///
/// `c` came from anycall_chain_load() and was not freed.
unsafe fn chain<'a>(c: *mut AnycallChain) -> io::Result<&'a mut AnycallChain> {
    // SAFETY: the caller's contract.
    unsafe { c.as_mut() }.ok_or_else(|| invalid("the chain is NULL"))
}

fn bind(c: *mut AnycallChain, slot: c_int, b: Binding) -> c_int {
    guard(|| {
        // SAFETY: the callers pass what anycall_chain_load() returned.
        let c = unsafe { chain(c) }?;
        let i = usize::try_from(slot)
            .ok()
            .filter(|&i| i < c.slots.len())
            .ok_or_else(|| invalid(&format!("slot {slot} does not exist")))?;
        c.bindings[i] = Some(b);
        Ok(0)
    }) as c_int
}

/// # Safety
///
/// `c` came from anycall_chain_load() and was not freed.
#[no_mangle]
pub unsafe extern "C" fn anycall_chain_set_value(
    c: *mut AnycallChain,
    slot: c_int,
    value: u64,
) -> c_int {
    bind(c, slot, Binding::Value(value))
}

/// # Safety
///
/// As anycall_chain_set_value(); `path` is NUL-terminated and stays valid
/// while runs use it.
#[no_mangle]
pub unsafe extern "C" fn anycall_chain_set_path(
    c: *mut AnycallChain,
    slot: c_int,
    path: *const c_char,
) -> c_int {
    if path.is_null() {
        return -libc::EINVAL;
    }
    bind(c, slot, Binding::Path(path))
}

/// # Safety
///
/// As anycall_chain_set_value(); `data` points at `size` bytes that stay
/// valid while runs use them.
#[no_mangle]
pub unsafe extern "C" fn anycall_chain_set_input(
    c: *mut AnycallChain,
    slot: c_int,
    data: *const c_void,
    size: usize,
) -> c_int {
    if data.is_null() && size > 0 {
        return -libc::EINVAL;
    }
    bind(c, slot, Binding::Input(data.cast(), size))
}

/// # Safety
///
/// As anycall_chain_set_value(); `buf` points at `size` writable bytes that
/// stay valid while runs use them.
#[no_mangle]
pub unsafe extern "C" fn anycall_chain_set_output(
    c: *mut AnycallChain,
    slot: c_int,
    buf: *mut c_void,
    size: usize,
) -> c_int {
    if buf.is_null() && size > 0 {
        return -libc::EINVAL;
    }
    bind(c, slot, Binding::Output(buf.cast(), size))
}

/// # Safety
///
/// `c` came from anycall_chain_load() and was not freed; the memory its
/// slots are bound to is valid.
#[no_mangle]
pub unsafe extern "C" fn anycall_chain_run(c: *mut AnycallChain) -> c_long {
    guard(|| {
        // SAFETY: the caller's contract.
        let c = unsafe { chain(c) }?;
        c.failed = -1;
        c.results.fill(i64::MIN);
        let mut inv = c.chain.invocation();
        for (i, b) in c.bindings.iter().enumerate() {
            let slot = &c.slots[i];
            let empty: &[u8] = &[];
            // SAFETY: anycall.h's contract for the set functions: the
            // pointers are valid for their sizes while runs use them.
            unsafe {
                match *b {
                    None => continue,
                    Some(Binding::Value(v)) => inv.value(slot, v)?,
                    Some(Binding::Path(p)) => inv.path(slot, CStr::from_ptr(p))?,
                    Some(Binding::Input(_, 0)) => inv.input(slot, empty)?,
                    Some(Binding::Input(p, n)) => {
                        inv.input(slot, std::slice::from_raw_parts(p, n))?
                    }
                    Some(Binding::Output(_, 0)) => inv.output(slot, &mut [])?,
                    Some(Binding::Output(p, n)) => {
                        inv.output(slot, std::slice::from_raw_parts_mut(p, n))?
                    }
                };
            }
        }
        match inv.run() {
            Ok(out) => {
                for (k, s) in c.steps.iter().enumerate() {
                    c.results[k] = out.result(*s).unwrap_or(i64::MIN);
                }
                Ok(0)
            }
            Err(e) => {
                if let Some(step) = anycall::chain::StepError::of(&e) {
                    c.failed = step.step as c_int;
                    // What ran before the failing step (and its errno):
                    // a descriptor opened before it is the caller's to close.
                    for (k, s) in c.steps.iter().enumerate() {
                        c.results[k] = step.result(s.index()).unwrap_or(i64::MIN);
                    }
                }
                Err(e)
            }
        }
    }) as c_long
}

/// # Safety
///
/// `c` came from anycall_chain_load() and was not freed.
#[no_mangle]
pub unsafe extern "C" fn anycall_chain_result(c: *const AnycallChain, step: c_int) -> i64 {
    // SAFETY: the caller's contract.
    let Some(c) = (unsafe { c.as_ref() }) else {
        return i64::MIN;
    };
    usize::try_from(step)
        .ok()
        .and_then(|i| c.results.get(i).copied())
        .unwrap_or(i64::MIN)
}

/// # Safety
///
/// `c` came from anycall_chain_load() and was not freed.
#[no_mangle]
pub unsafe extern "C" fn anycall_chain_failed_step(c: *const AnycallChain) -> c_int {
    // SAFETY: the caller's contract.
    unsafe { c.as_ref() }.map_or(-1, |c| c.failed)
}

/// # Safety
///
/// `c` is NULL or came from anycall_chain_load() and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn anycall_chain_free(c: *mut AnycallChain) {
    if !c.is_null() {
        // SAFETY: the caller's contract: ours, from Box::into_raw.
        drop(unsafe { Box::from_raw(c) });
    }
}
