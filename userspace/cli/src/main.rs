//! `anycall`: check the running kernel for AnyCall, run AnyCall programs,
//! and try chains of system calls at a shell prompt.

mod chain_cmd;
mod chain_text;
mod check;
mod colour;
mod privilege;
mod run;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Run many system calls for the price of one user/kernel transition.
///
/// AnyCall runs a verified eBPF program in the kernel that issues system
/// calls on your behalf. Start with `anycall check`, then try
/// `anycall chain 'getppid; getpid'`.
///
/// Help and errors are coloured only on a terminal that is not a console
/// or serial line, and never when NO_COLOR is set.
#[derive(Parser)]
#[command(name = "anycall", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Does the running kernel support AnyCall, and may this process use it?
    ///
    /// Checks the system call, the program type, the kfunc and loops over
    /// the context; exits 1 when something is missing or denied (and names
    /// the capability that is missing).
    Check,
    /// Load an AnyCall program from an ELF object (built with
    /// `clang -target bpf`) and run it.
    Run {
        /// The object file.
        prog: PathBuf,
        /// The program in it to run (default: the first).
        #[arg(long)]
        name: Option<String>,
        /// A file with the context's bytes (default: --ctx-size zero bytes).
        #[arg(long, conflicts_with = "ctx_size")]
        ctx: Option<PathBuf>,
        /// Size of an all-zero context.
        #[arg(long, default_value_t = 0)]
        ctx_size: usize,
        /// Where to write the context after the (last) run.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run it this many times (1 or more) and print the time per call.
        #[arg(long, default_value_t = 1, value_name = "N", value_parser = repeat_count)]
        repeat: u64,
    },
    /// Run a chain of system calls written as text, in one anycall().
    ///
    /// Steps are separated by `;` or new lines; each is a system call and
    /// its arguments:
    ///
    ///   openat AT_FDCWD "/proc/version" O_RDONLY; read $0 buf:4096; close $0
    ///
    /// Arguments: numbers as C and the shell write them (42, -1, 0x1f hex,
    /// 0644 octal: a leading 0 means octal), constants (AT_FDCWD, O_RDONLY,
    /// O_CREAT|O_WRONLY, SEEK_END, ...), "strings" (paths, or data for
    /// write), $N (the result of step N), buf:N (an N-byte buffer to read
    /// into). A step ending in `?` goes on when it fails; otherwise the
    /// chain stops there. `close` takes only $N of an earlier openat.
    /// There is no loop syntax: each step runs once; --repeat N runs the
    /// whole chain N times.
    /// Calls: openat close read pread64 write pwrite64
    /// fstat newfstatat getdents64 lseek fsync ftruncate mkdirat unlinkat
    /// getpid getppid.
    #[command(verbatim_doc_comment)]
    Chain {
        /// The chain (or use --file).
        text: Option<String>,
        /// Read the chain from a file.
        #[arg(long, conflicts_with = "text")]
        file: Option<PathBuf>,
        /// Run it this many times (1 or more) and print the time per
        /// anycall().
        #[arg(long, default_value_t = 1, value_name = "N", value_parser = repeat_count)]
        repeat: u64,
    },
}

/// `--repeat`: a count of runs, at least one (0 used to run once anyway).
fn repeat_count(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(0) => Err("it runs at least once: give 1 or more".into()),
        Ok(n) => Ok(n),
        Err(_) => Err("give a count of runs, 1 or more".into()),
    }
}

fn main() -> ExitCode {
    let matches = Cli::command().color(colour::choice()).get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let result = match cli.command {
        Command::Check => check::check(),
        Command::Run {
            prog,
            name,
            ctx,
            ctx_size,
            out,
            repeat,
        } => run::run(
            &prog,
            name.as_deref(),
            ctx.as_deref(),
            ctx_size,
            out.as_deref(),
            repeat,
        ),
        Command::Chain { text, file, repeat } => chain_cmd::chain(text, file, repeat),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("anycall: {e}");
            ExitCode::FAILURE
        }
    }
}
