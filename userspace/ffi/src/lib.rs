//! libanycall: the `anycall` crate behind a C ABI (`include/anycall.h`).
//!
//! Every function checks its pointers for NULL and returns a negative
//! errno (or NULL with `errno` set) on failure, with the message kept for
//! `anycall_last_error()`. No panic crosses the C boundary.

mod batch;
mod chain;
mod error;
mod program;

pub use batch::*;
pub use chain::*;
pub use error::*;
pub use program::*;
