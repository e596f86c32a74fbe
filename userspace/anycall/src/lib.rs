//! AnyCall from Rust: run many system calls for the price of one
//! user/kernel transition.
//!
//! - [`Program`]: an AnyCall program written in C, loaded from its ELF object.
//! - [`chain`]: system calls turned into a verified program at run time.
//! - [`batch::Batch`]: one program that runs whatever list of calls it is given.
//! - [`kernel`]: whether the running kernel has AnyCall.
//! - [`insn`], [`load`], [`sys`]: the layers beneath.

pub mod batch;
pub mod chain;
pub mod insn;
#[cfg(test)]
mod interp;
pub mod kernel;
pub mod load;
pub mod program;
pub mod sys;

pub use program::{Context, Program};
