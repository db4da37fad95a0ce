//! `cargo xtask bench`: the load path measured side by side with the tools users would
//! otherwise use, in one run, as ratios. Nothing here passes or fails: the numbers are
//! the product, written to BENCHMARKS.md with the machine and the commands.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bpf_preload::user::{self, Mount, UserBackend};
use bpf_preload::{load, Backend, Errno, Fd, Object, Preload};

use crate::setup::{ensure_packages, root};

const RUNS: usize = 20;

/// Median, min and max of a set of durations.
struct Stats {
    median: Duration,
    min: Duration,
    max: Duration,
}

impl Stats {
    fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort();
        Stats {
            median: samples[samples.len() / 2],
            min: samples[0],
            max: samples[samples.len() - 1],
        }
    }

    fn cell(&self) -> String {
        format!("{} ({}–{})", ms(self.median), ms(self.min), ms(self.max))
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// Adds up the time spent in the system calls (bpf, perf_event_open, close, unlink):
/// the kernel's share, which no loader can avoid.
struct Timed {
    inner: UserBackend,
    in_kernel: Duration,
}

impl Backend for Timed {
    type Pin = bpf_preload::user::UserPin;

    unsafe fn bpf(&mut self, cmd: u32, attr: &mut [u8]) -> Result<u32, Errno> {
        let start = Instant::now();
        // SAFETY: forwarded unchanged from our caller.
        let r = unsafe { self.inner.bpf(cmd, attr) };
        self.in_kernel += start.elapsed();
        r
    }

    fn close(&mut self, fd: Fd) {
        // Attach-target lookups close their helper map and program while loading.
        let start = Instant::now();
        self.inner.close(fd);
        self.in_kernel += start.elapsed();
    }

    fn attach_tracepoint(&mut self, prog: Fd, category: &str, name: &str) -> Result<Fd, Errno> {
        let start = Instant::now();
        let r = self.inner.attach_tracepoint(prog, category, name);
        self.in_kernel += start.elapsed();
        r
    }

    fn pin(&mut self, fd: Fd, name: &'static str) -> Result<Self::Pin, Errno> {
        let start = Instant::now();
        let r = self.inner.pin(fd, name);
        self.in_kernel += start.elapsed();
        r
    }

    fn unpin(&mut self, pin: Self::Pin) {
        let start = Instant::now();
        self.inner.unpin(pin);
        self.in_kernel += start.elapsed();
    }
}

/// Our user backend in this process, timed in two parts: load + attach + pin (with the
/// share of it spent in system calls), and free (unpin, detach, close).
struct Ours {
    load: Stats,
    load_in_kernel: Stats,
    free: Stats,
}

fn ours(object: &'static Object, dir: &Path) -> Result<Ours> {
    let (mut load_t, mut kernel, mut free_t) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let mut backend = Timed {
            inner: UserBackend::new(dir),
            in_kernel: Duration::ZERO,
        };
        let start = Instant::now();
        let loaded = load(object, &mut backend)?;
        load_t.push(start.elapsed());
        kernel.push(backend.in_kernel);
        let start = Instant::now();
        loaded.free(&mut backend);
        free_t.push(start.elapsed());
    }
    Ok(Ours {
        load: Stats::of(load_t),
        load_in_kernel: Stats::of(kernel),
        free: Stats::of(free_t),
    })
}

/// `bpftool prog loadall OBJ DIR pinmaps DIR/maps`, then removing its pins: a whole
/// process that loads and pins (bpftool 7.1 cannot attach: it has no `autoattach`).
fn bpftool(obj: &Path, dir: &Path) -> Result<Stats> {
    let mut samples = Vec::new();
    for _ in 0..RUNS {
        let progs = dir.join("bpftool");
        let start = Instant::now();
        let status = Command::new("bpftool")
            .args(["prog", "loadall"])
            .arg(obj)
            .arg(&progs)
            .arg("pinmaps")
            .arg(progs.join("maps"))
            .status()?;
        std::fs::remove_dir_all(&progs)?;
        samples.push(start.elapsed());
        if !status.success() {
            bail!("bpftool prog loadall {} failed: {status}", obj.display());
        }
    }
    Ok(Stats::of(samples))
}

fn version(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_else(|_| "not found".into())
}

pub fn run() -> Result<()> {
    if !crate::setup::is_root() {
        bail!(
            "the benchmarks load BPF programs, which needs root: run `sudo -E cargo xtask bench`"
        );
    }
    ensure_packages(&["bpftool"], "the benchmarks compare with bpftool")?;
    user::enter_private_mount_namespace().context("unshare(CLONE_NEWNS)")?;
    let _tracefs = (!Path::new("/sys/kernel/tracing/events").exists())
        .then(|| Mount::at("/sys/kernel/tracing".into(), c"tracefs"))
        .transpose()
        .context("mounting tracefs")?;
    let fs = Mount::bpffs().context("mounting bpffs")?;

    let examples: [(&'static Object, &str); 2] = [
        (
            iterators::Iterators::OBJECT,
            "examples/iterators/bpf/iterators.bpf.o",
        ),
        (
            counters::Counters::OBJECT,
            "examples/counters/bpf/counters.bpf.o",
        ),
    ];
    let mut out = String::new();
    writeln!(out, "# Benchmarks\n")?;
    writeln!(
        out,
        "Written by `cargo xtask bench` (as root). Each cell: median (min–max) of {RUNS} runs.\n"
    )?;
    writeln!(
        out,
        "- machine: {} cores, kernel {}",
        std::thread::available_parallelism()?,
        version("uname", &["-r"])
    )?;
    writeln!(out, "- {}", version("rustc", &["--version"]))?;
    writeln!(out, "- {}", version("bpftool", &["--version"]))?;
    writeln!(out, "\n## Load path, user space, on the running kernel\n")?;
    writeln!(
        out,
        "Ours: `bpf_preload::load` with the user backend, in process: BTF, maps, attach \
         targets, programs, links, pins. Of which in syscalls: the time inside bpf(2) and \
         perf_event_open(2), the floor for any loader; the rest is the loader's own work. \
         Free: `Loaded::free` (unpin, detach, close); detaching a tracepoint waits for RCU \
         grace periods. bpftool: `bpftool prog loadall OBJ DIR pinmaps DIR/maps`, then \
         removing DIR: a whole process that loads and pins but cannot attach (bpftool 7.1 \
         has no `autoattach`), and whose programs are freed asynchronously.\n"
    )?;
    writeln!(
        out,
        "| object | ours: load+attach+pin | of which in syscalls | loader's own work \
         | ours: free | bpftool prog loadall | ours (load) / bpftool |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|")?;
    for (object, obj) in examples {
        let dir = fs.path().join(object.name);
        std::fs::create_dir(&dir)?;
        let ours = ours(object, &dir)?;
        let tool = bpftool(&root().join(obj), &dir)?;
        let own_work = ours.load.median.saturating_sub(ours.load_in_kernel.median);
        let ratio = ours.load.median.as_secs_f64() / tool.median.as_secs_f64();
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {ratio:.3} |",
            object.name,
            ours.load.cell(),
            ours.load_in_kernel.cell(),
            ms(own_work),
            ours.free.cell(),
            tool.cell()
        )?;
        std::fs::remove_dir(&dir)?;
    }
    print!("{out}");
    std::fs::write(root().join("BENCHMARKS.md"), &out)?;
    println!("\nwritten to BENCHMARKS.md");
    Ok(())
}
