//! AnyCall from Rust: run many system calls for the price of one
//! user/kernel transition.
//!
//! - [`insn`]: BPF instructions, encoded for `libbpf_sys::bpf_prog_load`.
//! - [`sys`]: the raw `anycall(2)` system call.

pub mod insn;
pub mod sys;
