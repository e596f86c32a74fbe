//! BPF instruction encoding (see the kernel's `Documentation/bpf/standardization/instruction-set.rst`).

use libbpf_sys::bpf_insn;

/// A BPF register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reg(pub u8);

/// Return value and scratch.
pub const R0: Reg = Reg(0);
/// First argument; the context pointer on entry.
pub const R1: Reg = Reg(1);
/// Second argument.
pub const R2: Reg = Reg(2);
/// Third argument.
pub const R3: Reg = Reg(3);
/// Callee-saved.
pub const R6: Reg = Reg(6);
/// Frame pointer (read-only).
pub const R10: Reg = Reg(10);

// Instruction classes, sizes, modes and operations.
const BPF_LDX: u8 = 0x01;
const BPF_STX: u8 = 0x03;
const BPF_ALU64: u8 = 0x07;
const BPF_JMP: u8 = 0x05;
const BPF_MEM: u8 = 0x60;
const BPF_K: u8 = 0x00;
const BPF_X: u8 = 0x08;
const BPF_ADD: u8 = 0x00;
const BPF_MOV: u8 = 0xb0;
const BPF_EXIT: u8 = 0x90;
const BPF_CALL: u8 = 0x80;

/// Size of a memory access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// 1 byte.
    B = 0x10,
    /// 2 bytes.
    H = 0x08,
    /// 4 bytes.
    W = 0x00,
    /// 8 bytes.
    DW = 0x18,
}

fn raw(code: u8, dst: Reg, src: Reg, off: i16, imm: i32) -> bpf_insn {
    assert!(dst.0 <= 10 && src.0 <= 10, "BPF has registers r0 to r10");
    bpf_insn {
        code,
        _bitfield_align_1: [],
        _bitfield_1: bpf_insn::new_bitfield_1(dst.0, src.0),
        off,
        imm,
    }
}

/// `dst = imm` (64-bit, sign-extended).
pub fn mov_imm(dst: Reg, imm: i32) -> bpf_insn {
    raw(BPF_ALU64 | BPF_MOV | BPF_K, dst, R0, 0, imm)
}

/// `dst = src`.
pub fn mov_reg(dst: Reg, src: Reg) -> bpf_insn {
    raw(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
}

/// `dst += imm`.
pub fn add_imm(dst: Reg, imm: i32) -> bpf_insn {
    raw(BPF_ALU64 | BPF_ADD | BPF_K, dst, R0, 0, imm)
}

/// `dst = *(size *)(src + off)`.
pub fn load(size: Size, dst: Reg, src: Reg, off: i16) -> bpf_insn {
    raw(BPF_LDX | BPF_MEM | size as u8, dst, src, off, 0)
}

/// `*(size *)(dst + off) = src`.
pub fn store(size: Size, dst: Reg, off: i16, src: Reg) -> bpf_insn {
    raw(BPF_STX | BPF_MEM | size as u8, dst, src, off, 0)
}

/// Call helper `id`.
pub fn call_helper(id: i32) -> bpf_insn {
    raw(BPF_JMP | BPF_CALL, R0, R0, 0, id)
}

/// Return `r0`.
pub fn exit() -> bpf_insn {
    raw(BPF_JMP | BPF_EXIT, R0, R0, 0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(i: bpf_insn) -> [u8; 8] {
        // SAFETY: `bpf_insn` is a plain 8-byte `repr(C)` struct.
        unsafe { core::mem::transmute(i) }
    }

    #[test]
    fn encodes_like_the_kernel_macros() {
        // BPF_MOV64_IMM(BPF_REG_0, 42)
        assert_eq!(bytes(mov_imm(R0, 42)), [0xb7, 0x00, 0, 0, 42, 0, 0, 0]);
        // BPF_LDX_MEM(BPF_W, BPF_REG_2, BPF_REG_1, 4)
        assert_eq!(
            bytes(load(Size::W, R2, R1, 4)),
            [0x61, 0x12, 4, 0, 0, 0, 0, 0]
        );
        // BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_1, -8)
        assert_eq!(
            bytes(store(Size::DW, R10, -8, R1)),
            [0x7b, 0x1a, 0xf8, 0xff, 0, 0, 0, 0]
        );
        // BPF_EXIT_INSN()
        assert_eq!(bytes(exit()), [0x95, 0, 0, 0, 0, 0, 0, 0]);
        // BPF_ALU64_IMM(BPF_ADD, BPF_REG_6, -1)
        assert_eq!(
            bytes(add_imm(R6, -1)),
            [0x07, 0x06, 0, 0, 0xff, 0xff, 0xff, 0xff]
        );
        // BPF_MOV64_REG(BPF_REG_0, BPF_REG_3), BPF_EMIT_CALL(14)
        assert_eq!(bytes(mov_reg(R0, R3)), [0xbf, 0x30, 0, 0, 0, 0, 0, 0]);
        assert_eq!(bytes(call_helper(14)), [0x85, 0, 0, 0, 14, 0, 0, 0]);
    }

    #[test]
    #[should_panic(expected = "r0 to r10")]
    fn rejects_registers_beyond_r10() {
        mov_imm(Reg(11), 0);
    }
}
