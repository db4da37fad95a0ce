//! `cargo xtask corpus`: the corpus tier (tier 4), in `preload-corpus`
//! (`tests/corpus/`). What it needs from xtask is the VM runner, for the objects this
//! host refuses to every loader: [`Qemu`] lends it, and builds xtask itself,
//! statically linked, as the harness the guest runs (`corpus-guest`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use preload_corpus::{Boot, Options, Vm, TARGET};

use crate::setup::root;
use crate::tools::{cargo, run as run_cmd};

#[derive(clap::Args, Default)]
pub struct Args {
    /// Write the fresh results to tests/corpus/results.tsv instead of checking them
    /// against it.
    #[arg(long)]
    bless: bool,
    /// Only objects whose source contains this (repeatable); implies not checking
    /// against the committed results.
    #[arg(long = "only")]
    only: Vec<String>,
    /// Skip the objects this host refuses to every loader (EPERM: fentry, fexit, lsm),
    /// which otherwise load in QEMU on Debian's 6.12 kernel.
    #[arg(long)]
    no_vm: bool,
}

/// xtask's VM runner as the corpus sees it.
struct Qemu;

impl Vm for Qemu {
    fn kernel(&self, series: &str) -> Result<Option<String>> {
        crate::vm::prerequisites()?;
        Ok(crate::vm::stock_kernels()?
            .into_iter()
            .find(|k| k.release.starts_with(&format!("{series}.")))
            .map(|k| k.release))
    }

    /// xtask itself, statically linked and without debug info, for the initramfs.
    fn harness(&self) -> Result<PathBuf> {
        let target_dir = preload_corpus::corpus_dir().join("static-xtask");
        run_cmd(
            cargo()
                .current_dir(root())
                .args(["build", "--quiet", "-p", "xtask", "--target", TARGET])
                .env("CARGO_TARGET_DIR", &target_dir)
                .env(
                    "CARGO_ENCODED_RUSTFLAGS",
                    "-Ctarget-feature=+crt-static\x1f-Cstrip=debuginfo",
                ),
        )?;
        Ok(target_dir.join(TARGET).join("debug/xtask"))
    }

    fn boot(
        &self,
        release: &str,
        files: Vec<(PathBuf, String)>,
        script: String,
        work: &Path,
        timeout: Duration,
    ) -> Result<Boot> {
        let kernel = crate::vm::stock_kernels()?
            .into_iter()
            .find(|k| k.release == release)
            .ok_or_else(|| anyhow::anyhow!("kernel {release} is no longer installed"))?;
        let run = crate::vm::Run {
            label: "corpus".into(),
            kernel,
            cmdline: String::new(),
            files,
            script,
            media: None,
            timeout: None,
            prepare: None,
        };
        let outcome = crate::vm::boot(&run, work, timeout)?;
        Ok(Boot {
            log: outcome.log,
            timed_out: outcome.timed_out,
            seconds: outcome.seconds,
        })
    }
}

/// `cargo xtask corpus`: returns the number of objects loaded and compared.
pub fn run(args: &Args) -> Result<usize> {
    let options = Options {
        bless: args.bless,
        only: args.only.clone(),
        no_vm: args.no_vm,
    };
    preload_corpus::run(&options, &Qemu)
}

/// The tier of `cargo xtask test`.
pub fn tier() -> Result<usize> {
    preload_corpus::tier(&Qemu)
}

/// Inside the corpus VM (`cargo xtask corpus-guest`, run by `tests/corpus/vm.sh`).
pub fn guest(list: &Path, script: &Path) -> Result<()> {
    preload_corpus::guest(list, script)
}
