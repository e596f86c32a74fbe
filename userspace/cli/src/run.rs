//! `anycall run`: load a program from an ELF object and run it.

use anycall::Program;
use std::io;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

pub fn run(
    prog: &Path,
    name: Option<&str>,
    ctx_file: Option<&Path>,
    ctx_size: usize,
    out: Option<&Path>,
    repeat: u64,
) -> io::Result<ExitCode> {
    let elf = std::fs::read(prog)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", prog.display())))?;
    // The program may index its context: CAP_PERFMON may be missing too.
    let program = Program::from_elf(&elf, name).map_err(|e| {
        let e = io::Error::new(e.kind(), format!("{}: {e}", prog.display()));
        crate::privilege::explain_load(e, true)
    })?;
    let mut ctx = match ctx_file {
        Some(f) => std::fs::read(f)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", f.display())))?,
        None => vec![0u8; ctx_size],
    };
    let original = ctx.clone();
    let start = Instant::now();
    let mut ret = Ok(0);
    for i in 0..repeat {
        if i > 0 {
            ctx.copy_from_slice(&original);
        }
        // SAFETY: `anycall run` is a raw tool, like running the object's
        // program under a debugger: the user chose both the program and the
        // context bytes, and answers for what they make the program do in
        // this process. The process holds nothing the program could break
        // but `ctx`, the loaded program and its standard streams, and it
        // only prints and writes files after the runs.
        ret = unsafe { program.call_bytes(&mut ctx) };
    }
    let elapsed = start.elapsed();
    match &ret {
        Ok(v) => println!("{} returned {v}", program.name()),
        Err(e) => println!("{} failed: {e}", program.name()),
    }
    if repeat > 1 {
        println!(
            "{repeat} runs, {:.0} ns per anycall()",
            elapsed.as_nanos() as f64 / repeat as f64
        );
    }
    if let Some(out) = out {
        std::fs::write(out, &ctx)?;
    } else if !ctx.is_empty() {
        println!("context after the run ({} bytes):", ctx.len());
        for (k, chunk) in ctx.chunks(16).take(16).enumerate() {
            let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
            println!("  {:04x}  {}", k * 16, hex.join(" "));
        }
        if ctx.len() > 256 {
            println!("  ... (--out FILE writes all of it)");
        }
    }
    Ok(if ret.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
