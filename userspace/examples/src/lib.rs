//! The examples `docs/usage.md` shows, compiled and run by the tests.
//!
//! - [`read_file`]: a C AnyCall program that reads a whole file in one call.
//! - [`stat_walker`]: a C AnyCall program that stats a directory's entries.

pub mod batch;
pub mod chain;
pub mod objects;
pub mod read_file;
pub mod stat_walker;
