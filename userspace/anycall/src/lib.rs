//! AnyCall from Rust: run many system calls for the price of one
//! user/kernel transition.
//!
//! - [`Program`]: an AnyCall program written in C, loaded from its ELF object.
//! - [`chain`]: system calls turned into a verified program at run time.
//! - [`batch::Batch`]: one program that runs whatever list of calls it is given.
//! - [`kernel`]: whether the running kernel has AnyCall.
//! - [`insn`], [`load`], [`sys`]: the layers beneath.

/// `From` every integer type for an argument type, into its constant
/// variant: signed values sign-extended, as the kernel reads a negative
/// `int` argument.
macro_rules! integer_constants {
    ($ty:ident :: $variant:ident) => {
        integer_constants!(@each $ty::$variant; i32, u32, i64, u64, usize);
    };
    (@each $ty:ident :: $variant:ident; $($t:ty),*) => {$(
        impl From<$t> for $ty {
            fn from(v: $t) -> Self {
                $ty::$variant(v as i64 as u64)
            }
        }
    )*};
}

mod asm;
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
