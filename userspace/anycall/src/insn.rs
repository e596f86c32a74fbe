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
/// Fourth argument.
pub const R4: Reg = Reg(4);
/// Fifth argument.
pub const R5: Reg = Reg(5);
/// Callee-saved.
pub const R6: Reg = Reg(6);
/// Callee-saved.
pub const R7: Reg = Reg(7);
/// Callee-saved.
pub const R8: Reg = Reg(8);
/// Callee-saved.
pub const R9: Reg = Reg(9);
/// Frame pointer (read-only).
pub const R10: Reg = Reg(10);

// Instruction classes, sizes, modes and operations.
const BPF_LD: u8 = 0x00;
const BPF_LDX: u8 = 0x01;
const BPF_IMM: u8 = 0x00;
const BPF_STX: u8 = 0x03;
const BPF_ALU64: u8 = 0x07;
const BPF_JMP: u8 = 0x05;
const BPF_MEM: u8 = 0x60;
const BPF_K: u8 = 0x00;
const BPF_X: u8 = 0x08;
const BPF_ADD: u8 = 0x00;
const BPF_MUL: u8 = 0x20;
const BPF_AND: u8 = 0x50;
const BPF_ARSH: u8 = 0xc0;
const BPF_MOV: u8 = 0xb0;
const BPF_EXIT: u8 = 0x90;
const BPF_CALL: u8 = 0x80;
const BPF_JA: u8 = 0x00;
const BPF_JCOND: u8 = 0xe0;
/// `src_reg` of a [`BPF_JCOND`] jump: `may_goto`.
const BPF_MAY_GOTO: u8 = 0;
/// `src_reg` of a call to a kernel function by BTF id.
const BPF_PSEUDO_KFUNC_CALL: u8 = 2;

/// A jump condition (64-bit compare, signed where it says so).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cond {
    /// `==`
    Eq = 0x10,
    /// `!=`
    Ne = 0x50,
    /// `>=` unsigned
    Ge = 0x30,
    /// `>` unsigned
    Gt = 0x20,
    /// `<=` unsigned
    Le = 0xb0,
    /// `<` unsigned
    Lt = 0xa0,
    /// `>=` signed
    Sge = 0x70,
    /// `<` signed
    Slt = 0xc0,
    /// `dst & src != 0`
    Set = 0x40,
}

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

/// `dst += src`.
pub fn add_reg(dst: Reg, src: Reg) -> bpf_insn {
    raw(BPF_ALU64 | BPF_ADD | BPF_X, dst, src, 0, 0)
}

/// `dst &= imm`.
pub fn and_imm(dst: Reg, imm: i32) -> bpf_insn {
    raw(BPF_ALU64 | BPF_AND | BPF_K, dst, R0, 0, imm)
}

/// `dst *= imm`.
pub fn mul_imm(dst: Reg, imm: i32) -> bpf_insn {
    raw(BPF_ALU64 | BPF_MUL | BPF_K, dst, R0, 0, imm)
}

/// `dst >>= imm` (arithmetic: the sign bit fills in).
pub fn arsh_imm(dst: Reg, imm: i32) -> bpf_insn {
    raw(BPF_ALU64 | BPF_ARSH | BPF_K, dst, R0, 0, imm)
}

/// `dst = imm` for any 64-bit value: two instructions.
pub fn ld_imm64(dst: Reg, imm: u64) -> [bpf_insn; 2] {
    [
        raw(
            BPF_LD | BPF_IMM | Size::DW as u8,
            dst,
            R0,
            0,
            imm as u32 as i32,
        ),
        raw(0, R0, R0, 0, (imm >> 32) as u32 as i32),
    ]
}

/// `if dst <cond> imm goto +off`, `off` counted from the next instruction.
pub fn jmp_imm(cond: Cond, dst: Reg, imm: i32, off: i16) -> bpf_insn {
    raw(BPF_JMP | cond as u8 | BPF_K, dst, R0, off, imm)
}

/// `if dst <cond> src goto +off`.
pub fn jmp_reg(cond: Cond, dst: Reg, src: Reg, off: i16) -> bpf_insn {
    raw(BPF_JMP | cond as u8 | BPF_X, dst, src, off, 0)
}

/// `goto +off`.
pub fn ja(off: i16) -> bpf_insn {
    raw(BPF_JMP | BPF_JA, R0, R0, off, 0)
}

/// `may_goto +off`: jump when the program's loop budget (the kernel's
/// `BPF_MAX_LOOPS` per run) is spent, else take one from it and go on.
/// The verifier checks a loop through it by comparing the states at this
/// instruction instead of walking every iteration.
pub fn may_goto(off: i16) -> bpf_insn {
    raw(BPF_JMP | BPF_JCOND, R0, Reg(BPF_MAY_GOTO), off, 0)
}

/// Call the kernel function whose vmlinux BTF id is `btf_id`.
pub fn call_kfunc(btf_id: u32) -> bpf_insn {
    raw(
        BPF_JMP | BPF_CALL,
        R0,
        Reg(BPF_PSEUDO_KFUNC_CALL),
        0,
        btf_id as i32,
    )
}

/// Sets the offset of the jump `insn` (for jumps whose target comes later).
pub fn set_jump_offset(insn: &mut bpf_insn, off: i16) {
    insn.off = off;
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
    fn encodes_jumps_calls_and_wide_immediates() {
        // BPF_JMP_IMM(BPF_JSGE, BPF_REG_0, 0, 3)
        assert_eq!(
            bytes(jmp_imm(Cond::Sge, R0, 0, 3)),
            [0x75, 0x00, 3, 0, 0, 0, 0, 0]
        );
        // BPF_JMP_REG(BPF_JGE, BPF_REG_7, BPF_REG_8, -2)
        assert_eq!(
            bytes(jmp_reg(Cond::Ge, R7, R8, -2)),
            [0x3d, 0x87, 0xfe, 0xff, 0, 0, 0, 0]
        );
        // BPF_JMP_A(5)
        assert_eq!(bytes(ja(5)), [0x05, 0, 5, 0, 0, 0, 0, 0]);
        // BPF_CALL_KFUNC(0, 1234)
        assert_eq!(
            bytes(call_kfunc(1234)),
            [0x85, 0x20, 0, 0, 0xd2, 0x04, 0, 0]
        );
        // BPF_LD_IMM64(BPF_REG_1, 0x1122334455667788)
        let [lo, hi] = ld_imm64(R1, 0x1122_3344_5566_7788);
        assert_eq!(bytes(lo), [0x18, 0x01, 0, 0, 0x88, 0x77, 0x66, 0x55]);
        assert_eq!(bytes(hi), [0, 0, 0, 0, 0x44, 0x33, 0x22, 0x11]);
        // BPF_ALU64_IMM(BPF_MUL, BPF_REG_2, 144), BPF_ALU64_REG(BPF_ADD, 1, 2)
        assert_eq!(bytes(mul_imm(R2, 144)), [0x27, 0x02, 0, 0, 144, 0, 0, 0]);
        assert_eq!(bytes(add_reg(R1, R2)), [0x0f, 0x21, 0, 0, 0, 0, 0, 0]);
        // BPF_ALU64_IMM(BPF_AND, BPF_REG_1, 1)
        assert_eq!(bytes(and_imm(R1, 1)), [0x57, 0x01, 0, 0, 1, 0, 0, 0]);
        // BPF_JMP_IMM(BPF_JSET, BPF_REG_7, 0x7e, 4)
        assert_eq!(
            bytes(jmp_imm(Cond::Set, R7, 0x7e, 4)),
            [0x45, 0x07, 4, 0, 0x7e, 0, 0, 0]
        );
        // BPF_ALU64_IMM(BPF_ARSH, BPF_REG_1, 8)
        assert_eq!(bytes(arsh_imm(R1, 8)), [0xc7, 0x01, 0, 0, 8, 0, 0, 0]);
        // BPF_RAW_INSN(BPF_JMP | BPF_JCOND, 0, BPF_MAY_GOTO, 7, 0)
        assert_eq!(bytes(may_goto(7)), [0xe5, 0, 7, 0, 0, 0, 0, 0]);
    }

    #[test]
    #[should_panic(expected = "r0 to r10")]
    fn rejects_registers_beyond_r10() {
        mov_imm(Reg(11), 0);
    }
}
