//! AnyCall from Rust: run many system calls for the price of one
//! user/kernel transition.
//!
//! - [`insn`]: BPF instructions, encoded for `libbpf_sys::bpf_prog_load`.
//! - [`load`]: loading programs given as instructions.
//! - [`sys`]: the `anycall(2)` system call.

pub mod insn;
pub mod load;
pub mod sys;
