//! `cargo xtask bench`: the numbers of issue 6, in one run, written to BENCHMARKS.md.
//! xtask calls [`run`] with its VM runner as a [`Vm`].
//!
//! ```text
//! lib.rs        the run: prerequisites, a private mount namespace, the sections in
//!               order, the report
//! generate.rs   objects with 16, 64 and 256 programs and as many maps
//! peers.rs      building the loaders compared: ours (a crate per object around
//!               bench/ours/harness.rs), libbpf (bench/libbpf), light skeletons
//!               (bench/lskel, user space and module), aya (bench/aya)
//! userspace.rs  1. load + attach + pin + free on the running kernel
//! build.rs      2. build time: cold, incremental, and bpftool gen skeleton -L + gcc
//! module.rs     3. module sizes; 4. insmod → attached and memory kept, in QEMU
//! boot.rs       6. kernel start → policy active, from the VM scenarios that boot it
//! report.rs     the tables, 5. scaling, the notes (notes.md)
//! vm.rs         what the sections need from the VM runner
//! ```
//!
//! Nothing here passes or fails: the numbers are the product. A peer that cannot be
//! built or run here gets its reason in its cell instead of a number.

mod boot;
mod build;
mod generate;
mod module;
mod peers;
mod report;
mod userspace;
mod vm;

pub use module::build_insmod_time;
pub use vm::{Kernel, Outcome, Run, Vm};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use bpf_preload::user::{self, Mount};

use preload_devtools::{ensure_packages, is_root, root};

/// What `cargo xtask bench` was asked.
#[derive(Debug, Clone)]
pub struct Options {
    /// Runs per measurement.
    pub runs: usize,
    /// 5 runs per measurement and 2 cold builds, and BENCHMARKS.md not written.
    pub quick: bool,
    /// The sections to skip: userspace, build, module, vm, boot.
    pub skip: Vec<String>,
}

/// What is measured, in the order of the tables.
#[derive(Debug, Clone)]
pub struct Subject {
    /// The object's name: bpffs directory, module and skeleton name.
    pub name: String,
    /// The compiled object.
    pub obj: PathBuf,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub enum Kind {
    /// An example crate: its directory and the annotated type's path.
    Example { dir: PathBuf, ty: &'static str },
    /// A generated object with this many programs and maps.
    Generated(usize),
}

impl Subject {
    pub fn programs(&self) -> Option<usize> {
        match self.kind {
            Kind::Generated(n) => Some(n),
            Kind::Example { .. } => None,
        }
    }
}

/// The examples (the annotated types, as in examples/*/src/lib.rs).
const EXAMPLES: [(&str, &str); 4] = [
    ("iterators", "iterators::Iterators"),
    ("counters", "counters::Counters"),
    ("getppid_count", "getppid_count::GetppidCount"),
    ("mkdir_guard", "mkdir_guard::MkdirGuard"),
];

fn subjects() -> Result<Vec<Subject>> {
    let mut out = Vec::new();
    for (name, ty) in EXAMPLES {
        let dir = root().join("examples").join(name);
        out.push(Subject {
            name: name.into(),
            obj: dir.join(format!("bpf/{name}.bpf.o")),
            kind: Kind::Example { dir, ty },
        });
    }
    for n in generate::SIZES {
        out.push(Subject {
            name: generate::name(n),
            obj: generate::object(n)?,
            kind: Kind::Generated(n),
        });
    }
    Ok(out)
}

/// Median, min and max of a set of samples (milliseconds, bytes, ...).
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

impl Stats {
    pub fn of(samples: &[f64]) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let median = if s.len() % 2 == 1 {
            s[s.len() / 2]
        } else {
            (s[s.len() / 2 - 1] + s[s.len() / 2]) / 2.0
        };
        Some(Stats {
            median,
            min: s[0],
            max: s[s.len() - 1],
            n: s.len(),
        })
    }

    /// `median (min–max)`, in milliseconds.
    pub fn ms(&self) -> String {
        format!(
            "{} ({}–{})",
            fmt_ms(self.median),
            fmt_ms(self.min),
            fmt_ms(self.max)
        )
    }
}

/// Milliseconds with three significant-ish digits.
pub fn fmt_ms(ms: f64) -> String {
    if ms >= 100.0 {
        format!("{ms:.0}")
    } else if ms >= 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.2}")
    }
}

/// A measurement, or why there is none.
pub type Cell = std::result::Result<Stats, String>;

/// Runs a command and returns its stdout; on failure, an error with the end of its
/// stderr (which is what goes into a table cell).
pub fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last: Vec<&str> = stderr.lines().rev().take(3).collect();
        let last: Vec<&str> = last.into_iter().rev().collect();
        bail!("{}", last.join(" / ").trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Wall-clock time of a command, in milliseconds; fails if the command does.
pub fn timed(cmd: &mut Command) -> Result<f64> {
    let start = Instant::now();
    output(cmd)?;
    Ok(start.elapsed().as_secs_f64() * 1e3)
}

/// The first line of `cmd args` (a version), or "not found".
pub fn version(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_else(|_| "not found".into())
}

/// The 1-minute load average.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_default()
}

/// Where everything the bench builds goes.
pub fn work() -> PathBuf {
    root().join("target/bench")
}

fn step(what: &str) {
    println!("==> {what}");
}

pub fn run(args: &Options, vm: &dyn Vm) -> Result<()> {
    if !is_root() {
        bail!(
            "`cargo xtask bench` loads BPF programs on this kernel and boots modules in QEMU, \
             which needs root: run `sudo -E cargo xtask bench`"
        );
    }
    // First, while this process has one thread: everything mounted and pinned from
    // here on (bpffs, tracefs) is private to this process and its children and
    // disappears with them.
    user::enter_private_mount_namespace().context("unshare(CLONE_NEWNS)")?;
    let started = Instant::now();
    let runs = if args.quick { 5 } else { args.runs.max(1) };
    let skip = |s: &str| args.skip.iter().any(|x| x == s);
    ensure_packages(
        &[
            "clang-19",
            "llvm-19",
            "libbpf-dev",
            "bpftool",
            "gcc",
            "libc6-dev",
            "make",
            "binutils",
        ],
        "the benchmarks (BPF objects, the libbpf and light-skeleton peers)",
    )?;
    let loadavg_start = loadavg();
    let subjects = subjects()?;
    let mut report = report::Report::new(runs, args.quick);

    if !skip("userspace") {
        step("1. load path, user space, on the running kernel");
        let _tracefs = (!Path::new("/sys/kernel/tracing/events").exists())
            .then(|| Mount::at("/sys/kernel/tracing".into(), c"tracefs"))
            .transpose()
            .context("mounting tracefs")?;
        let fs = Mount::bpffs().context("mounting bpffs")?;
        report.userspace = Some(userspace::run(&subjects, fs.path(), runs)?);
    }
    if !skip("build") {
        step("2. build path");
        report.build = Some(build::run(&subjects, runs, if args.quick { 2 } else { 5 })?);
    }
    if !skip("module") || !skip("vm") {
        vm.prerequisites()?;
        step("3. module sizes");
        let modules = module::build_all(vm, &subjects)?;
        report.sizes = Some(module::sizes(&modules)?);
        if !skip("vm") {
            step("4. in-kernel load, in QEMU");
            report.vm = Some(module::in_vm(vm, &modules, runs)?);
        }
    }
    if !skip("boot") {
        step("6. boot: kernel start → policy active, in QEMU");
        report.boot = Some(boot::run(vm)?);
    }
    report.loadavg = (loadavg_start, loadavg());
    report.seconds = started.elapsed().as_secs_f64();
    let text = report.render(&subjects);
    print!("\n{text}");
    if args.quick || !args.skip.is_empty() {
        println!("\n(--quick or --skip: BENCHMARKS.md left as it was)");
    } else {
        std::fs::write(root().join("BENCHMARKS.md"), &text)?;
        println!("\nwritten to BENCHMARKS.md");
    }
    Ok(())
}
