//! Sections 3 and 4, modules: ours (what `cargo xtask build-module --unloadable` builds,
//! by `bpf-preload-build`) next to a C module
//! of the same object built from its light skeleton (bench/lskel/module.c) against the
//! same kernel headers, for Debian's 6.1 and 6.12; then, in one QEMU boot per kernel,
//! insmod → attached for both, alternating, and the memory each keeps.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};

use bpf_preload_build::{module, Crate, KernelTree};
use preload_devtools::root;

use crate::peers::{self, write_if_changed};
use crate::vm::{Kernel, Run, Vm};
use crate::{output, work, Kind, Stats, Subject};

/// Both modules of one object for one kernel, or why there is none; with ours, the
/// runtime module it needs (the same for every object of a kernel).
pub struct Built {
    pub kernel: Kernel,
    pub subject: Subject,
    pub ours: std::result::Result<PathBuf, String>,
    pub runtime: Option<PathBuf>,
    pub c: std::result::Result<PathBuf, String>,
}

/// text, data, bss (bytes), as `size` prints them.
pub type Size = (u64, u64, u64);

/// A module's size, or why there is none.
pub type SizeOr = std::result::Result<Size, String>;

/// (release, object) → (ours, C), and release → the runtime module, once.
#[derive(Debug, Clone, Default)]
pub struct Sizes {
    pub objects: BTreeMap<(String, String), (SizeOr, SizeOr)>,
    pub runtime: BTreeMap<String, SizeOr>,
}

/// The crate that `cargo xtask build-module` builds for a subject: the example itself,
/// or a generated crate of its own (the build section's are members of its workspace,
/// which it writes only when it runs).
fn crate_dir(s: &Subject) -> Result<PathBuf> {
    Ok(match &s.kind {
        Kind::Example { dir, .. } => dir.clone(),
        Kind::Generated(_) => crate::build::write_crate(s, &work().join("module-crates"), true)?.0,
    })
}

/// Our object module, unloadable, built as `cargo xtask build-module --unloadable`
/// builds it, and the runtime module beside it.
fn ours(s: &Subject, kernel: &Kernel) -> Result<(PathBuf, PathBuf)> {
    let dir = crate_dir(s)?;
    let krate = Crate::open(&dir).with_context(|| format!("the crate at {}", dir.display()))?;
    let built = module::build(
        &krate,
        &KernelTree::open(&kernel.kdir)?,
        &module::Options {
            out: Some(work().join("modules").join(&kernel.release).join("ours")),
            sign: None,
            unloadable: true,
            verbose: false,
            table_layout: None,
        },
    )?;
    Ok((built.ko, built.runtime))
}

/// The C light-skeleton module: `<name>_lskel.ko`.
fn c(s: &Subject, kernel: &Kernel) -> Result<PathBuf> {
    let dir = work()
        .join("lskel-module")
        .join(&kernel.release)
        .join(&s.name);
    peers::gen_skeleton(s, &dir)?;
    for file in ["module.c", "Kbuild"] {
        write_if_changed(
            &dir.join(file),
            &fs::read_to_string(root().join("bench/lskel").join(file))?,
        )?;
    }
    write_if_changed(
        &dir.join("bpf/skel_internal.h"),
        &fs::read_to_string("/usr/include/bpf/skel_internal.h")?,
    )?;
    let mut make = Command::new("make");
    make.arg("-C")
        .arg(&kernel.kdir)
        .arg(format!("M={}", dir.display()))
        .arg(format!("LSKEL_NAME={}", s.name))
        // The iterators object's two iterators are offered to bpffs, as ours does.
        .arg(format!("PRELOAD_OPS={}", u8::from(s.name == "iterators")))
        .arg("modules");
    output(&mut make)?;
    Ok(dir.join(format!("{}_lskel.ko", s.name)))
}

pub fn build_all(vm: &dyn Vm, subjects: &[Subject]) -> Result<Vec<Built>> {
    let kernels = vm.stock_kernels()?;
    let mut out = Vec::new();
    for kernel in &kernels {
        // counters has a classic tracepoint: user space only (perf_event_open).
        for s in subjects.iter().filter(|s| s.name != "counters") {
            println!("    {} for {}", s.name, kernel.release);
            let (ours, runtime) = match ours(s, kernel) {
                Ok((ko, runtime)) => (Ok(ko), Some(runtime)),
                Err(e) => (Err(format!("{e:#}")), None),
            };
            out.push(Built {
                kernel: kernel.clone(),
                subject: s.clone(),
                ours,
                runtime,
                c: c(s, kernel).map_err(|e| format!("{e:#}")),
            });
        }
    }
    Ok(out)
}

fn size(ko: &std::result::Result<PathBuf, String>) -> std::result::Result<Size, String> {
    let ko = ko
        .as_ref()
        .map_err(|e| format!("not built: {}", first_line(e)))?;
    let text = output(Command::new("size").arg(ko)).map_err(|e| format!("{e:#}"))?;
    let n: Vec<u64> = text
        .lines()
        .nth(1)
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .filter_map(|w| w.parse().ok())
        .collect();
    match n[..] {
        [t, d, b] => Ok((t, d, b)),
        _ => Err(format!("cannot read `size {}`", ko.display())),
    }
}

/// The line of an error that says why (cargo and make say a lot).
pub fn first_line(e: &str) -> String {
    e.lines()
        .find(|l| l.contains("error"))
        .unwrap_or(e.lines().next().unwrap_or(e))
        .trim()
        .chars()
        .take(200)
        .collect()
}

pub fn sizes(built: &[Built]) -> Result<Sizes> {
    let mut sizes = Sizes::default();
    for b in built {
        let key = (b.kernel.release.clone(), b.subject.name.clone());
        sizes.objects.insert(key, (size(&b.ours), size(&b.c)));
        if let Some(runtime) = &b.runtime {
            (sizes.runtime)
                .entry(b.kernel.release.clone())
                .or_insert_with(|| size(&Ok(runtime.clone())));
        }
    }
    Ok(sizes)
}

/// One object in one VM: insmod → init returned (µs → ms), the kernel memory kept
/// after init (kB), and the module's own size in /proc/modules (bytes); per loader.
#[derive(Debug, Clone, Default)]
pub struct InKernel {
    pub insmod: Vec<f64>,
    pub memory: Vec<f64>,
    pub module: Vec<f64>,
    pub failure: Option<String>,
}

/// (release, object, "ours" | "c") → samples.
pub type VmResults = BTreeMap<(String, String, String), InKernel>;

/// The script: for every run, for every object, ours then C: insmod (timed by
/// insmod_time around finit_module), read memory, rmmod.
fn script(objects: &[(String, Option<String>, Option<String>)], runs: usize) -> String {
    let mut s = String::from(include_str!("../inkernel.sh"));
    let _ = writeln!(s, "for i in $(seq {runs}); do");
    for (name, ours, c) in objects {
        if let Some(ours) = ours {
            let _ = writeln!(s, "    one ours {name} {ours} {name}");
        }
        if let Some(c) = c {
            let _ = writeln!(s, "    one c {name} {c} {name}_lskel");
        }
    }
    s.push_str("done\npass \"done\"\n");
    s
}

/// `bench/lskel/insmod_time` (finit_module timed with CLOCK_MONOTONIC), built
/// statically into `dir` for a busybox initramfs.
pub fn build_insmod_time(dir: &Path) -> Result<PathBuf> {
    fs::create_dir_all(dir)?;
    let insmod_time = dir.join("insmod_time");
    output(
        Command::new("gcc")
            .args(["-static", "-O2", "-Wall"])
            .arg(root().join("bench/lskel/insmod_time.c"))
            .arg("-o")
            .arg(&insmod_time),
    )
    .context("building bench/lskel/insmod_time.c statically (libc6-dev)")?;
    Ok(insmod_time)
}

pub fn in_vm(vm: &dyn Vm, built: &[Built], runs: usize) -> Result<VmResults> {
    let insmod_time = build_insmod_time(&work().join("peers"))?;
    let mut by_kernel: BTreeMap<String, Vec<&Built>> = BTreeMap::new();
    for b in built {
        by_kernel
            .entry(b.kernel.release.clone())
            .or_default()
            .push(b);
    }
    let mut results = VmResults::new();
    let mut boots = Vec::new();
    for (release, list) in &by_kernel {
        let mut files = vec![(insmod_time.clone(), "bin/insmod_time".to_string())];
        // The runtime, which the VM's init loads before the script: ours are timed
        // as every object module after the first loads, with the runtime there.
        if let Some(runtime) = list.iter().find_map(|b| b.runtime.clone()) {
            files.push((runtime, "modules/bpf_preload_runtime.ko".to_string()));
        }
        let mut objects = Vec::new();
        for b in list {
            let name = &b.subject.name;
            let mut paths = Vec::new();
            for (loader, ko, dest) in [
                ("ours", &b.ours, format!("/modules/ours/{name}.ko")),
                ("c", &b.c, format!("/modules/c/{name}_lskel.ko")),
            ] {
                match ko {
                    Ok(ko) => {
                        files.push((ko.clone(), dest.clone()));
                        paths.push(Some(dest));
                    }
                    Err(e) => {
                        results.insert(
                            (release.clone(), name.clone(), loader.into()),
                            InKernel {
                                failure: Some(format!("not built: {}", first_line(e))),
                                ..Default::default()
                            },
                        );
                        paths.push(None);
                    }
                }
            }
            objects.push((name.clone(), paths[0].take(), paths[1].take()));
        }
        boots.push(Run {
            label: "bench".into(),
            release: list[0].kernel.release.clone(),
            files,
            script: script(&objects, runs),
        });
    }
    let outcomes = vm.boot_all(
        &boots,
        &work().join("vm"),
        Duration::from_secs(900),
        boots.len(),
    );
    for (run, outcome) in boots.iter().zip(outcomes) {
        let release = &run.release;
        let outcome = match outcome {
            Ok(o) if !o.timed_out && o.verdicts.iter().any(|v| v.1) => o,
            Ok(o) => {
                let why = if o.timed_out {
                    "VM timed out"
                } else {
                    "the VM script did not finish"
                };
                eprintln!(
                    "{}",
                    o.log.lines().rev().take(20).collect::<Vec<_>>().join("\n")
                );
                anyhow::bail!("{why} on {release} (log in target/bench/vm/)");
            }
            Err(e) => return Err(e.context(format!("booting {release}"))),
        };
        for line in outcome.log.lines() {
            let Some(at) = line.find("BENCH ") else {
                continue;
            };
            let w: Vec<&str> = line[at..].split_whitespace().collect();
            let [_, loader, name, rest @ ..] = &w[..] else {
                continue;
            };
            let e = results
                .entry((release.clone(), name.to_string(), loader.to_string()))
                .or_default();
            match rest {
                [us, mem, module] if us.parse::<f64>().is_ok() => {
                    e.insmod.push(us.parse::<f64>().unwrap_or(0.0) / 1e3);
                    e.memory.push(mem.parse().unwrap_or(f64::NAN));
                    e.module.push(module.parse().unwrap_or(f64::NAN));
                }
                _ => e.failure = Some(rest.join(" ")),
            }
        }
    }
    Ok(results)
}

impl InKernel {
    pub fn insmod(&self) -> std::result::Result<Stats, String> {
        match &self.failure {
            Some(f) => Err(f.clone()),
            None => Stats::of(&self.insmod).ok_or_else(|| "no runs".into()),
        }
    }
}
