//! `anycall check`: what the running kernel has of AnyCall.

use anycall::insn;
use anycall::kernel::{self, SYSCALL_KFUNC};
use std::io;
use std::process::ExitCode;

pub fn check() -> io::Result<ExitCode> {
    let support = kernel::support();
    println!("kernel {}", kernel::kernel_release());
    let mut ok = true;
    let mut line = |good: bool, what: String| {
        println!("  [{}] {what}", if good { "ok" } else { "missing" });
        ok &= good;
    };
    line(
        support.syscall,
        format!(
            "system call anycall() (number {})",
            anycall_sys::__NR_anycall
        ),
    );
    // The program type: a program that only returns 0 loads.
    let prog = [insn::mov_imm(insn::R0, 0), insn::exit()];
    let loaded = anycall::load::load_sleepable(anycall_sys::BPF_PROG_TYPE_ANYCALL, "check", &prog);
    line(
        loaded.is_ok(),
        format!(
            "program type BPF_PROG_TYPE_ANYCALL ({}){}",
            anycall_sys::BPF_PROG_TYPE_ANYCALL,
            match &loaded {
                Err(e) => format!(": {}", e.to_string().lines().next().unwrap_or("")),
                Ok(_) => String::new(),
            }
        ),
    );
    match support.kfunc_btf_id {
        Some(id) => line(true, format!("kfunc {SYSCALL_KFUNC} (BTF id {id})")),
        None => line(
            false,
            format!("kfunc {SYSCALL_KFUNC} in /sys/kernel/btf/vmlinux"),
        ),
    }
    if ok {
        println!("AnyCall is available.");
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "AnyCall is not available: boot a kernel built with the AnyCall series and \
             CONFIG_ANYCALL=y (`make shell` starts one), and run as root or with CAP_BPF."
        );
        Ok(ExitCode::FAILURE)
    }
}
