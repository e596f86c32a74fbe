//! Host build of `../policy.rs`, the pure part of the AnyCall dispatch, so
//! that its unit and property tests run with `cargo test` on the host.
#![cfg_attr(not(test), no_std)]

#[path = "../policy.rs"]
#[cfg_attr(not(test), allow(dead_code))]
mod policy;

#[cfg(test)]
mod tests;
