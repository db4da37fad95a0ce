//! `cargo xtask bench`: the benchmarks, in `preload-bench` (`bench/src/`). What they
//! need from xtask is the VM runner: [`Qemu`] lends it as a [`Vm`].

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use preload_bench::{Kernel, Options, Outcome, Run, Vm};

use crate::vm;

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Runs per measurement (at least 20 for the published numbers).
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// 5 runs per measurement and 2 cold builds: a smoke test of the whole pipeline,
    /// not numbers to publish (BENCHMARKS.md is not written).
    #[arg(long)]
    quick: bool,
    /// Skip a section (repeatable): userspace, build, module, vm, boot.
    #[arg(long = "skip", value_parser = ["userspace", "build", "module", "vm", "boot"])]
    skip: Vec<String>,
}

/// xtask's VM runner as the benchmarks see it.
struct Qemu;

impl Vm for Qemu {
    fn prerequisites(&self) -> Result<()> {
        vm::prerequisites()
    }

    fn stock_kernels(&self) -> Result<Vec<Kernel>> {
        Ok(vm::stock_kernels()?
            .into_iter()
            .map(|k| Kernel {
                release: k.release,
                kdir: k.kdir,
            })
            .collect())
    }

    fn boot_all(
        &self,
        runs: &[Run],
        work: &Path,
        timeout: Duration,
        jobs: usize,
    ) -> Vec<Result<Outcome>> {
        let kernels = match vm::stock_kernels() {
            Ok(kernels) => kernels,
            Err(e) => return runs.iter().map(|_| Err(anyhow::anyhow!("{e:#}"))).collect(),
        };
        let mut boots = Vec::new();
        let mut missing = Vec::new();
        for run in runs {
            match kernels.iter().find(|k| k.release == run.release) {
                Some(kernel) => boots.push(vm::Run {
                    label: run.label.clone(),
                    kernel: kernel.clone(),
                    cmdline: String::new(),
                    files: run.files.clone(),
                    script: run.script.clone(),
                    media: None,
                    timeout: None,
                    prepare: None,
                }),
                None => missing.push(run.release.clone()),
            }
        }
        if !missing.is_empty() {
            return runs
                .iter()
                .map(|_| Err(anyhow::anyhow!("kernels {missing:?} are not installed")))
                .collect();
        }
        vm::boot_all(&boots, work, timeout, jobs)
            .into_iter()
            .map(|outcome| {
                outcome.map(|o| Outcome {
                    verdicts: o.verdicts,
                    log: o.log,
                    timed_out: o.timed_out,
                })
            })
            .collect()
    }

    fn scenarios(
        &self,
        scenarios: &[&str],
        kernels: &[&str],
        jobs: usize,
        timeout: u64,
    ) -> Result<Vec<(String, String, String)>> {
        vm::run_cells(&vm::Args::only(scenarios, kernels, jobs, timeout))
            .context("the VM scenarios")
    }
}

pub fn run(args: &Args) -> Result<()> {
    let options = Options {
        runs: args.runs,
        quick: args.quick,
        skip: args.skip.clone(),
    };
    preload_bench::run(&options, &Qemu)
}
