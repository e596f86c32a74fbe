//! `anycall-fuzz`: a differential fuzzer for AnyCall.
//!
//! - Random sequences of system calls (files in a scratch directory,
//!   pipes, socket pairs, anonymous memory, signals, seccomp filters
//!   installed midway) run in two twins forked from the same state: one
//!   makes every call directly, the other makes them through `anycall()`
//!   (chains and batches of the `anycall` crate, and the C program
//!   `read_file.bpf.c`). Every result, output buffer, the fd table, the
//!   signal state, the memory regions and the scratch tree must agree.
//! - Random programs at the verifier: each must be refused, or run as
//!   `anycall(2)` promises, without the kernel reporting anything.
//!
//! Run it as root inside the patched kernel (`scripts/run-fuzz.sh`,
//! `make fuzz`); the sequences themselves run as uid 65534.

mod direct;
mod gen;
mod kmsg;
mod minimize;
mod observe;
mod progrun;
mod rng;
mod seccomp;
mod twin;
mod verifier;
mod via;

use clap::Parser;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Differential fuzzer: system-call sequences made directly and through
/// anycall() must agree; random programs must be refused or run cleanly.
#[derive(Parser)]
#[command(name = "anycall-fuzz", version, about, long_about)]
struct Cli {
    /// The seed (decimal or 0x hex); random, and printed, when not given.
    #[arg(long, value_parser = parse_seed)]
    seed: Option<u64>,
    /// Stop after this many seconds (0: run until stopped).
    #[arg(long, default_value_t = 60)]
    budget: u64,
    /// Stop after this many iterations (one sequence and --programs
    /// programs each).
    #[arg(long)]
    iterations: Option<u64>,
    /// The first iteration (to replay one: --first N --iterations 1).
    #[arg(long, default_value_t = 0)]
    first: u64,
    /// Verifier programs per iteration.
    #[arg(long, default_value_t = 4)]
    programs: u64,
    /// Print every sequence with its results, why each refused program
    /// was refused, and every note.
    #[arg(long, short)]
    verbose: bool,
    /// Print the sequences and programs of the iterations and exit
    /// (no kernel needed).
    #[arg(long)]
    print: bool,
    /// Do not shrink a sequence that shows a difference.
    #[arg(long)]
    no_minimize: bool,
    /// Also generate what shows the differences found before (listed at
    /// the start); they are left out by default so as not to hide others.
    #[arg(long)]
    known: bool,
    /// Seconds a pair of twins may take.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
}

fn parse_seed(s: &str) -> Result<u64, String> {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    }
    .map_err(|e| format!("{s}: {e}"))
}

fn random_seed() -> u64 {
    let mut b = [0u8; 8];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        if f.read_exact(&mut b).is_ok() {
            return u64::from_ne_bytes(b);
        }
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
}

#[derive(Default)]
struct Stats {
    sequences: u64,
    ops: u64,
    calls: u64,
    accepted: u64,
    /// Accepted programs with a variable context offset.
    var_accepted: u64,
    refused: u64,
    runs: u64,
    notes: u64,
}

/// Why fuzzing stopped with a failure.
enum Failure {
    /// The twins disagree.
    Differ(Vec<observe::Difference>),
    /// A twin crashed, hung, or could not be started.
    Twin(String),
    /// Something the fuzzer needs failed (e.g. loading a chain).
    Harness(String),
}

impl Failure {
    fn print(&self) {
        match self {
            Failure::Differ(d) => {
                println!("differences ({} facts; direct vs anycall):", d.len());
                for x in d.iter().take(40) {
                    let v = |o: &Option<String>| o.clone().unwrap_or_else(|| "(missing)".into());
                    println!(
                        "  {}:\n    direct:  {}\n    anycall: {}",
                        x.key,
                        v(&x.direct),
                        v(&x.anycall)
                    );
                }
            }
            Failure::Twin(m) => println!("twin failure: {m}"),
            Failure::Harness(m) => println!("fuzzer failure: {m}"),
        }
    }

    fn same_kind(&self, other: &Failure) -> bool {
        matches!(
            (self, other),
            (Failure::Differ(_), Failure::Differ(_)) | (Failure::Twin(_), Failure::Twin(_))
        )
    }
}

struct Fuzzer {
    seed: u64,
    programs: via::Programs,
    kfunc: u32,
    base: PathBuf,
    timeout: Duration,
    kmsg: Option<kmsg::Kmsg>,
    verbose: bool,
}

impl Fuzzer {
    fn twins(&self) -> twin::Twins<'_> {
        twin::Twins {
            base: &self.base,
            unprivileged: true,
            timeout: self.timeout,
        }
    }

    /// Runs one sequence in both twins; the calls compared.
    fn sequence(&self, seq: &gen::Sequence) -> Result<u64, Failure> {
        // Each chain is this sequence's own: built and loaded here, as
        // root, before the twins fork (see main()).
        let prepared =
            via::prepare(seq).map_err(|e| Failure::Harness(format!("loading a chain: {e}")))?;
        let body = |kind: twin::Kind, root: &str| match kind {
            twin::Kind::Direct => direct::run(seq, root),
            twin::Kind::Anycall => via::run(seq, root, &self.programs, &prepared),
        };
        let (d, a) = self
            .twins()
            .run(seq, &body)
            .map_err(|twin::Failed(m)| Failure::Twin(m))?;
        let diffs = observe::diff(&d, &a);
        if !diffs.is_empty() {
            return Err(Failure::Differ(diffs));
        }
        let results = || {
            d.facts.iter().filter(|(k, _)| {
                k.starts_with("op ") && !k.contains(" buf") && !k.ends_with(" ctx")
            })
        };
        if self.verbose {
            let list: Vec<String> = results()
                .map(|(k, v)| format!("{}={v}", k.split(' ').nth(1).unwrap_or("?")))
                .collect();
            println!("  results (both twins): {}", list.join(", "));
        }
        Ok(results().filter(|(_, v)| v != "not run").count() as u64)
    }

    /// Loads and runs programs `first..first + n`.
    fn programs(&self, first: u64, n: u64, stats: &mut Stats) -> Result<(), String> {
        let specs: Vec<verifier::ProgSpec> = (first..first + n)
            .map(|i| verifier::program(self.seed, i))
            .collect();
        let mut loaded = Vec::new();
        for spec in &specs {
            match progrun::load(spec, self.kfunc) {
                Ok(fd) => {
                    stats.accepted += 1;
                    stats.var_accepted += spec.var_ctx() as u64;
                    loaded.push((spec, fd));
                }
                Err(e) if verifier::refused_by_verifier(&e) => {
                    stats.refused += 1;
                    if self.verbose {
                        let first = e.to_string();
                        let last = first
                            .lines()
                            .rev()
                            .find(|l| !l.trim().is_empty() && !l.starts_with("processed"))
                            .unwrap_or("");
                        println!("  program {} refused: {}", spec.index, last.trim());
                    }
                }
                Err(e) => return Err(format!("loading program {}: {e}\n{spec}", spec.index)),
            }
        }
        if loaded.is_empty() {
            return Ok(());
        }
        let fds: Vec<(&verifier::ProgSpec, i32)> = loaded
            .iter()
            .map(|(s, fd)| (*s, progrun::raw(fd)))
            .collect();
        let (ids, outcomes) = progrun::run_all(&fds, true, self.timeout)?;
        for ((spec, _), outs) in fds.iter().zip(&outcomes) {
            if outs.len() != spec.runs.len() {
                return Err(format!(
                    "program {}: {} runs reported of {}",
                    spec.index,
                    outs.len(),
                    spec.runs.len()
                ));
            }
            for (run, out) in spec.runs.iter().zip(outs) {
                stats.runs += 1;
                match verifier::judge(spec, run, out, ids) {
                    verifier::Verdict::Fine => {}
                    verifier::Verdict::Note(m) => {
                        stats.notes += 1;
                        if self.verbose || stats.notes <= 3 {
                            println!(
                                "  note: program {} (seed {:#x}), run {run:?}: {m}",
                                spec.index, self.seed
                            );
                        }
                    }
                    verifier::Verdict::Finding(m) => {
                        return Err(format!(
                            "program {} of seed {:#x} broke a promise of anycall(2): {m}\nrun: {run:?}\noutcome: {out:?}\n{spec}",
                            spec.index, self.seed
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn kernel_alarms(&self) -> Vec<String> {
        self.kmsg.as_ref().map(|k| k.alarms()).unwrap_or_default()
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let seed = cli.seed.unwrap_or_else(random_seed);
    println!("anycall-fuzz: seed {seed:#x} (replay: --seed {seed:#x} --first N --iterations 1)");
    if cli.print {
        let last = cli.first + cli.iterations.unwrap_or(1);
        for i in cli.first..last {
            let mut seq = gen::sequence(seed, i);
            if !cli.known {
                gen::without_known(&mut seq);
            }
            print!("{seq}");
            for p in i * cli.programs..(i + 1) * cli.programs {
                print!("{}", verifier::program(seed, p));
            }
        }
        return ExitCode::SUCCESS;
    }
    match fuzz(&cli, seed) {
        Ok(()) => ExitCode::SUCCESS,
        Err(()) => ExitCode::FAILURE,
    }
}

fn setup(cli: &Cli, seed: u64) -> Result<Fuzzer, String> {
    // SAFETY: a getter.
    if unsafe { libc::geteuid() } != 0 {
        return Err(
            "run as root: the programs are loaded as root, and the sequences then run as uid 65534"
                .into(),
        );
    }
    let support = anycall::kernel::support();
    if !support.complete() {
        return Err(format!(
            "the running kernel ({}) has no AnyCall: {support:?}",
            anycall::kernel::kernel_release()
        ));
    }
    let kfunc =
        anycall::kernel::kfunc_btf_id(anycall::kernel::SYSCALL_KFUNC).map_err(|e| e.to_string())?;
    // Loading comes first, as root: loading AnyCall programs needs
    // CAP_BPF (and CAP_PERFMON for the batch program and chains, which
    // index their context), which uid 65534 does not have. The twins
    // inherit the loaded programs' fds and drop to uid/gid 65534 with no
    // capabilities right after fork, before any call of the sequence: so
    // the inner calls are checked with an ordinary user's credentials
    // (file modes, kill() permissions, seccomp under no_new_privs) the
    // way a real unprivileged caller's are, and what a bug could do is
    // what uid 65534 could. Only the parent keeps root, to load each
    // sequence's chains (a chain has the shape of its sequence) and the
    // verifier programs, and to read what the twins left behind.
    let programs =
        via::Programs::load().map_err(|e| format!("loading the batch and C programs: {e}"))?;
    let base = std::env::temp_dir().join(format!("anycall-fuzz.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir(&base).map_err(|e| format!("{}: {e}", base.display()))?;
    std::os::unix::fs::chown(&base, Some(twin::NOBODY), Some(twin::NOBODY))
        .map_err(|e| format!("chown {}: {e}", base.display()))?;
    Ok(Fuzzer {
        seed,
        programs,
        kfunc,
        base,
        timeout: Duration::from_secs(cli.timeout),
        kmsg: kmsg::Kmsg::open(),
        verbose: cli.verbose,
    })
}

fn fuzz(cli: &Cli, seed: u64) -> Result<(), ()> {
    let f = setup(cli, seed).map_err(|e| eprintln!("anycall-fuzz: {e}"))?;
    if !cli.known {
        for (what, _) in gen::KNOWN {
            println!("anycall-fuzz: left out (--known to include): {what}");
        }
    }
    let start = Instant::now();
    let budget = (cli.budget > 0).then(|| Duration::from_secs(cli.budget));
    let mut stats = Stats::default();
    let mut last_progress = Instant::now();
    let mut i = cli.first;
    let result = loop {
        if cli.iterations.is_some_and(|n| i >= cli.first + n)
            || budget.is_some_and(|b| start.elapsed() >= b)
        {
            break Ok(());
        }
        let mut seq = gen::sequence(seed, i);
        if !cli.known {
            gen::without_known(&mut seq);
        }
        if f.verbose {
            print!("{seq}");
        }
        match f.sequence(&seq) {
            Ok(calls) => {
                stats.sequences += 1;
                stats.ops += seq.ops.len() as u64;
                stats.calls += calls;
            }
            Err(fail) => {
                report(&f, cli, &seq, fail);
                break Err(());
            }
        }
        let alarms = f.kernel_alarms();
        if !alarms.is_empty() {
            println!("anycall-fuzz: the kernel reported problems while sequence {i} of seed {seed:#x} ran:");
            for a in &alarms {
                println!("  {a}");
            }
            print!("{seq}");
            break Err(());
        }
        let first = i * cli.programs;
        if let Err(e) = f.programs(first, cli.programs, &mut stats) {
            println!("anycall-fuzz: {e}");
            break Err(());
        }
        let alarms = f.kernel_alarms();
        if !alarms.is_empty() {
            println!(
                "anycall-fuzz: the kernel reported problems while programs {first}..{} of seed {seed:#x} ran:",
                first + cli.programs
            );
            for a in &alarms {
                println!("  {a}");
            }
            for p in first..first + cli.programs {
                print!("{}", verifier::program(seed, p));
            }
            break Err(());
        }
        i += 1;
        if f.verbose || last_progress.elapsed() >= Duration::from_secs(10) {
            last_progress = Instant::now();
            progress(&stats, start);
        }
    };
    let _ = std::fs::remove_dir_all(&f.base);
    let outcome = if result.is_ok() {
        "no difference"
    } else {
        "FAILED"
    };
    println!(
        "anycall-fuzz: seed {seed:#x}: {} sequences ({} operations, {} calls compared), {outcome}; verifier: {} accepted ({} with variable context offsets), {} refused, {} runs, {} notes; {:.0}s",
        stats.sequences,
        stats.ops,
        stats.calls,
        stats.accepted,
        stats.var_accepted,
        stats.refused,
        stats.runs,
        stats.notes,
        start.elapsed().as_secs_f64()
    );
    result
}

fn progress(s: &Stats, start: Instant) {
    println!(
        "[{:5.0}s] {} sequences, {} calls compared; verifier {} accepted / {} refused, {} runs",
        start.elapsed().as_secs_f64(),
        s.sequences,
        s.calls,
        s.accepted,
        s.refused,
        s.runs
    );
    let _ = std::io::stdout().flush();
}

fn report(f: &Fuzzer, cli: &Cli, seq: &gen::Sequence, fail: Failure) {
    let what = match fail {
        Failure::Differ(_) => "DIFFERENCE",
        _ => "FAILURE",
    };
    println!(
        "anycall-fuzz: {what} in sequence {} of seed {:#x}",
        seq.index, f.seed
    );
    print!("{seq}");
    fail.print();
    if !cli.no_minimize && !matches!(fail, Failure::Harness(_)) {
        println!("minimizing (each try runs the twins again)...");
        let t = Instant::now();
        let mut last = None;
        let min = minimize::minimize(seq, 150, &mut |cand| {
            if t.elapsed() > Duration::from_secs(300) {
                return false;
            }
            match f.sequence(cand) {
                Err(e) if e.same_kind(&fail) => {
                    last = Some(e);
                    true
                }
                _ => false,
            }
        });
        println!(
            "minimized to {} operations (of {}):",
            min.ops.len(),
            seq.ops.len()
        );
        print!("{min}");
        if let Some(e) = last {
            e.print();
        }
    }
    println!(
        "replay: anycall-fuzz --seed {:#x} --first {} --iterations 1 --programs 0{}",
        f.seed,
        seq.index,
        if cli.known { " --known" } else { "" }
    );
}
