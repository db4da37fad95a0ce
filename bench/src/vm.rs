//! What the benchmarks need from a VM runner: Debian's stock kernels, boots of a busybox
//! initramfs with some files and a script, and the VM scenarios that boot a module
//! through the distribution's own tools. xtask's runner lends them as a [`Vm`], so that
//! this crate does not depend on xtask.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;

/// A kernel to build modules for and to boot.
#[derive(Debug, Clone)]
pub struct Kernel {
    /// `make kernelrelease`.
    pub release: String,
    /// The headers: `make -C <kdir> M=<dir> modules` builds a module.
    pub kdir: PathBuf,
}

/// One boot: the kernel `release`, files for the initramfs (the host's path, the path
/// inside) and a script.
pub struct Run {
    pub label: String,
    pub release: String,
    pub files: Vec<(PathBuf, String)>,
    pub script: String,
}

/// What a boot printed and how it ended.
pub struct Outcome {
    /// `(scenario, passed, detail)` for every VERDICT line.
    pub verdicts: Vec<(String, bool, String)>,
    pub log: String,
    pub timed_out: bool,
}

pub trait Vm {
    /// Checks (and installs, saying so) what a boot needs.
    fn prerequisites(&self) -> Result<()>;
    /// Debian's stock kernels installed here, with their headers.
    fn stock_kernels(&self) -> Result<Vec<Kernel>>;
    /// Boots every run, `jobs` of them side by side, each for at most `timeout`;
    /// `work` holds their files and logs.
    fn boot_all(
        &self,
        runs: &[Run],
        work: &Path,
        timeout: Duration,
        jobs: usize,
    ) -> Vec<Result<Outcome>>;
    /// Runs the VM scenarios `scenarios` (`tests/vm/<name>.sh`) on the kernels that
    /// `kernels` select, `jobs` VMs at a time, each for at most `timeout` seconds;
    /// returns `(scenario, release, detail)` of every run, all passed.
    fn scenarios(
        &self,
        scenarios: &[&str],
        kernels: &[&str],
        jobs: usize,
        timeout: u64,
    ) -> Result<Vec<(String, String, String)>>;
}
