//! `cargo xtask vm-test`: the modules inside Debian's stock kernels and inside the
//! preload kernel of `kernel/` (`cargo xtask kernel`), under QEMU.
//!
//! The harness is generic: a [`Run`] is one boot of one kernel with some files (the
//! modules, a static helper) in a busybox initramfs and one shell script
//! ([`initramfs`]); the script prints `VERDICT <scenario> PASS|FAIL <detail>` on the
//! serial console; [`qemu`] reads those markers and kills QEMU on timeout; [`report`]
//! tabulates scenarios x kernels. The scenarios are files, `tests/vm/<name>.sh`
//! ([`scenarios`]); [`userflow`], [`packages`] and [`signing`] are the Rust hooks their
//! headers name.

pub mod boot_test;
mod chroot;
mod distro;
mod initramfs;
mod kernels;
mod packages;
mod params_boot;
mod qemu;
mod report;
mod scenarios;
mod signing;
mod userflow;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

pub use kernels::{preload_kernel, stock_kernels, Kernel};
pub use qemu::{boot, boot_all, Outcome};
pub use report::tamper_matrix;
pub use scenarios::{scripts, BuildKey, Scenario};

use crate::module;
use crate::setup::{ensure_packages, root};
use crate::tools;

/// One boot: a kernel, files for the initramfs (source, path inside) and a script.
/// Modules under `lib/modules/<release>/` are indexed with `depmod`, for the
/// kernel's `request_module()`.
pub struct Run {
    pub label: String,
    pub kernel: Kernel,
    /// Appended to the kernel command line.
    pub cmdline: String,
    pub files: Vec<(PathBuf, String)>,
    pub script: String,
    /// Boot these instead of a busybox initramfs with `files` and `script`.
    pub media: Option<Media>,
    /// At least this long before QEMU is killed (a long scenario), instead of the
    /// timeout given to [`boot`].
    pub timeout: Option<Duration>,
    /// Made on the host right before the boot, by the worker that boots it.
    pub prepare: Option<Deferred>,
}

/// A scenario's preparation on the host (a Debian initramfs and a root disk of a
/// gigabyte or more, a module built by `cargo bpf-preload`), deferred to the boot
/// that needs it, so that the disk exists only for that boot: made up front, every
/// scenario's disk existed at once.
pub struct Deferred {
    pub prepare: scenarios::Prepare,
    /// Its work directory.
    pub dir: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only kernels whose release contains this (repeatable), e.g. `--kernel 6.12`;
    /// `--kernel preload` is the preload kernel (`cargo xtask kernel`; `bpf-preload`,
    /// `patched` and `seed` name it too), which no other filter selects: its first build
    /// takes 30 minutes or more. `--kernel preload-sanitizer` is its build with KASAN,
    /// kmemleak, lockdep, UBSAN and fault injection (`cargo xtask kernel --sanitizer`),
    /// which only that name selects: not part of a run without `--kernel`.
    #[arg(long = "kernel")]
    kernels: Vec<String>,
    /// Only these scenarios (repeatable).
    #[arg(long = "scenario")]
    scenarios: Vec<String>,
    /// Seconds before a VM is killed and its run reported as a timeout.
    #[arg(long, default_value_t = 180)]
    timeout: u64,
    /// VMs run at once [default: the number of CPUs].
    #[arg(long)]
    jobs: Option<usize>,
}

/// Every kernel and scenario, as `cargo xtask vm-test` without options (for `test`).
impl Default for Args {
    fn default() -> Self {
        Self {
            kernels: Vec::new(),
            scenarios: Vec::new(),
            timeout: 180,
            jobs: None,
        }
    }
}

/// What [`Prepare`] made.
#[derive(Debug, Default)]
pub struct Prepared {
    /// More files for the busybox initramfs: (source, path inside).
    pub files: Vec<(PathBuf, String)>,
    /// Boot this instead of the busybox initramfs.
    pub media: Option<Media>,
    /// A note for the table, from the host's side.
    pub note: Option<String>,
}

/// A boot with media of its own: an initramfs made elsewhere (Debian's
/// `mkinitramfs`), a root disk, and the command line that goes with them.
#[derive(Debug, Clone)]
pub struct Media {
    /// The kernel image, instead of the run's kernel's (the same kernel, from the tree
    /// that made the initramfs).
    pub kernel: Option<PathBuf>,
    pub initrd: PathBuf,
    /// A raw disk image, the guest's /dev/vda; opened with `snapshot=on`, so that
    /// boots do not change it.
    pub disk: Option<PathBuf>,
    /// The kernel command line, instead of the busybox initramfs's.
    pub cmdline: String,
}

/// The directory of the scenarios, the prelude and the initramfs's /init.
pub fn harness_dir() -> PathBuf {
    root().join("tests/vm")
}

/// A file of the harness in `tests/vm/`.
pub fn harness_file(name: &str) -> Result<String> {
    let path = harness_dir().join(name);
    fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
}

pub fn prerequisites() -> Result<()> {
    crate::setup::ensure_rust_src()?;
    ensure_packages(
        &["qemu-system-x86", "busybox-static"],
        "booting kernels in QEMU",
    )?;
    ensure_packages(
        &[
            "linux-image-amd64",
            "linux-headers-amd64",
            "linux-image-6.12-amd64",
            "linux-headers-6.12-amd64",
        ],
        "testing against Debian 12's 6.1 and 6.12 kernels",
    )?;
    initramfs::check_busybox()
}

/// The probe (tests/probe.rs), statically linked so that it runs in the initramfs.
fn build_probe() -> Result<PathBuf> {
    let target_dir = root().join("target/vm/probe");
    tools::run(
        tools::cargo()
            .current_dir(root())
            .args(["build", "--quiet", "--release", "-p", "preload-tests"])
            .args([
                "--bin",
                "preload-probe",
                "--target",
                "x86_64-unknown-linux-gnu",
            ])
            .env("CARGO_TARGET_DIR", &target_dir)
            .env("CARGO_ENCODED_RUSTFLAGS", "-Ctarget-feature=+crt-static"),
    )?;
    Ok(target_dir.join("x86_64-unknown-linux-gnu/release/preload-probe"))
}

/// `shellcheck` over the scripts the VMs run: `tests/vm/*.sh`, the demo's, the
/// kernel's boot test and the benchmark's (as POSIX sh: busybox's and Debian's sh run
/// them).
pub fn shellcheck() -> Result<usize> {
    ensure_packages(&["shellcheck"], "checking the VM scripts")?;
    let mut scripts = scripts()?;
    for dir in ["tests/vm/demo", "tests/vm/lib", "kernel/test", "bench"] {
        for entry in std::fs::read_dir(root().join(dir))? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "sh") {
                scripts.push(path);
            }
        }
    }
    // What `cargo bpf-preload install --initramfs` writes (no extension there).
    for entry in std::fs::read_dir(root().join("preload-build/templates/initramfs"))? {
        scripts.push(entry?.path());
    }
    tools::run(
        Command::new("shellcheck")
            .args(["--shell=sh", "--format=gcc"])
            .args(&scripts),
    )?;
    println!("shellcheck: {} scripts, no warnings", scripts.len());
    Ok(scripts.len())
}

impl Args {
    /// Every scenario for the preload-sanitizer kernel, on it alone.
    pub fn sanitizer() -> Self {
        Self {
            kernels: vec![crate::kernel::Variant::Sanitizer.name().to_string()],
            ..Self::default()
        }
    }

    /// These scenarios on the kernels matching these filters, `jobs` VMs at a time.
    pub fn only(scenarios: &[&str], kernels: &[&str], jobs: usize, timeout: u64) -> Self {
        Self {
            kernels: kernels.iter().map(|s| s.to_string()).collect(),
            scenarios: scenarios.iter().map(|s| s.to_string()).collect(),
            timeout,
            jobs: Some(jobs),
        }
    }
}

/// One cell of the table: scenario, kernel release, and its verdict's detail.
pub type Cell = (String, String, String);

/// Returns the number of scenario runs, all passed.
pub fn run(args: &Args) -> Result<usize> {
    run_cells(args).map(|cells| cells.len())
}

/// Runs the scenarios and prints the table; returns every cell, all passed.
pub fn run_cells(args: &Args) -> Result<Vec<Cell>> {
    prerequisites()?;
    let mut scenarios = scenarios::all()?;
    if !args.scenarios.is_empty() {
        let names = names(&scenarios);
        scenarios.retain(|s| args.scenarios.contains(&s.name));
        if scenarios.is_empty() {
            bail!("no such scenario; there are: {names}");
        }
    }
    let kernels = kernels::kernels(&args.kernels)?;
    println!(
        "==> kernels: {}",
        kernels
            .iter()
            .map(|k| format!("{} ({})", k.release, k.image.display()))
            .collect::<Vec<_>>()
            .join(", ")
    );

    println!("==> building the static probe");
    let probe = build_probe()?;
    let built = build_modules(&scenarios, &kernels)?;

    // One run per scenario and kernel it applies to; `cells` maps (scenario, kernel)
    // to its run.
    let mut runs = Vec::new();
    let mut host_results = Vec::new();
    let mut cells = BTreeMap::new();
    for (si, scenario) in scenarios.iter().enumerate() {
        for (ki, kernel) in kernels.iter().enumerate() {
            if !scenario.kernels.include(kernel) {
                continue;
            }
            let mut files = vec![(probe.clone(), "bin/preload-probe".to_string())];
            let mut kos = Vec::new();
            for spec in &scenario.modules {
                let module = &built[&(kernel.release.clone(), spec.build_key())];
                let name = module.ko.file_name().unwrap_or_default().to_string_lossy();
                files.push((module.ko.clone(), spec.dest(&name, &kernel.release)));
                kos.push((spec.clone(), module.ko.clone()));
            }
            files.extend(runtime_files(scenario, kernel, &built));
            host_results.push(scenario.host_check.map(|check| check(kernel, &kos)));
            let prepare = scenario.prepare.map(|prepare| Deferred {
                prepare,
                dir: root()
                    .join("target/vm")
                    .join(&scenario.name)
                    .join(&kernel.release),
            });
            cells.insert((si, ki), runs.len());
            runs.push(Run {
                label: scenario.name.clone(),
                kernel: kernel.clone(),
                cmdline: scenario
                    .cmdline
                    .clone()
                    .unwrap_or_else(|| kernel.default_cmdline().to_string()),
                files,
                script: scenario.script.clone(),
                media: None,
                timeout: scenario.timeout,
                prepare,
            });
        }
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let work = root().join("target/vm");
    println!(
        "==> {} boot(s), {} at a time (QEMU TCG, timeout {} s each, times {} on the \
         sanitizer kernel); logs in {}",
        runs.len(),
        jobs,
        args.timeout,
        kernels
            .iter()
            .map(Kernel::timeout_factor)
            .max()
            .unwrap_or(1),
        work.display()
    );
    let started = Instant::now();
    qemu::extract_kernels(&kernels, &work);
    let outcomes = boot_all(&runs, &work, Duration::from_secs(args.timeout), jobs);
    // A deferred preparation's note stands for the host's side, as a host check's.
    for (host, outcome) in host_results.iter_mut().zip(&outcomes) {
        if let Ok(Outcome {
            host_note: Some(note),
            ..
        }) = outcome
        {
            *host = Some(Ok(note.clone()));
        }
    }
    let table = report::Table {
        scenarios: &scenarios,
        kernels: &kernels,
        cells: &cells,
        outcomes: &outcomes,
        host_results: &host_results,
    };
    let details = table.print();
    println!(
        "\n{} run(s) in {:.0} s; serial logs in {}",
        runs.len(),
        started.elapsed().as_secs_f64(),
        work.display()
    );
    let failed = details.iter().filter(|d| !d.ok).count();
    if failed > 0 {
        bail!("{failed} scenario run(s) failed");
    }
    Ok(details
        .into_iter()
        .map(|d| (d.scenario, d.release, d.detail))
        .collect())
}

/// Where the runtime module goes in a scenario's VM, which init.sh loads before the
/// scenario runs: `/modules/bpf_preload_runtime.ko` if the scenario has modules to
/// insmod, and beside its installed modules, where depmod records that they need it
/// (and so modprobe and the kernel's request_module load it first). Signed if a
/// module of the scenario is (`module.sig_enforce=1` refuses an unsigned one).
fn runtime_files(
    scenario: &Scenario,
    kernel: &Kernel,
    built: &BTreeMap<(String, BuildKey), module::Module>,
) -> Vec<(PathBuf, String)> {
    let specs = &scenario.modules;
    let Some(spec) = specs.iter().find(|s| s.signed).or(specs.first()) else {
        return Vec::new();
    };
    let runtime = &built[&(kernel.release.clone(), spec.build_key())].runtime;
    let name = format!("{}.ko", module::RUNTIME);
    let mut files = Vec::new();
    if specs.iter().any(|s| !s.installed) {
        files.push((runtime.clone(), format!("modules/{name}")));
    }
    if specs.iter().any(|s| s.installed) {
        files.push((
            runtime.clone(),
            format!("lib/modules/{}/extra/{name}", kernel.release),
        ));
    }
    files
}

/// Every module each kernel needs, built once: by (kernel release, build key).
fn build_modules(
    scenarios: &[Scenario],
    kernels: &[Kernel],
) -> Result<BTreeMap<(String, BuildKey), module::Module>> {
    let mut built = BTreeMap::new();
    for kernel in kernels {
        for spec in scenarios
            .iter()
            .filter(|s| s.kernels.include(kernel))
            .flat_map(|s| &s.modules)
        {
            let key_of = (kernel.release.clone(), spec.build_key());
            if built.contains_key(&key_of) {
                continue;
            }
            let variant = spec.variant();
            println!(
                "==> building {} ({variant}) for {}",
                spec.example, kernel.release
            );
            let module = module::build(&module::Options {
                crate_dir: PathBuf::from(&spec.example),
                kdir: Some(kernel.kdir.clone()),
                out: Some(
                    root()
                        .join("target/vm/modules")
                        .join(&kernel.release)
                        .join(variant),
                ),
                sign: if spec.signed {
                    Some(signing::key_for(kernel)?)
                } else {
                    None
                },
                unloadable: spec.unloadable,
                verbose: false,
                // One past the runtime's: a layout it does not read.
                table_layout: spec.foreign_layout.then_some(bpf_preload::TABLE_LAYOUT + 1),
            })?;
            built.insert(key_of, module);
        }
    }
    Ok(built)
}

fn names(scenarios: &[Scenario]) -> String {
    scenarios
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
