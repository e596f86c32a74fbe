//! The example programs' ELF objects, built by `build.rs` from
//! `userspace/bpf/examples/`.

/// `read_file.bpf.o`.
pub const READ_FILE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/read_file.bpf.o"));
/// `stat_walker.bpf.o`.
pub const STAT_WALKER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/stat_walker.bpf.o"));
/// `refused.bpf.o`: a program the verifier refuses (for the tests).
pub const REFUSED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/refused.bpf.o"));
