//! `cargo xtask build-module <crate>`: a kernel module from a crate, by the library
//! `bpf-preload-build` (what `cargo bpf-preload build` runs); the VM tests, the demo
//! and the benchmarks build their modules through here.

use std::path::PathBuf;

use anyhow::{Context, Result};
pub use bpf_preload_build::Module;
use bpf_preload_build::{find_kdir, module, Crate, KernelTree};

pub use bpf_preload_build::module::RUNTIME;
pub use bpf_preload_build::tools::signer;

pub use bpf_preload_build::version_key;

use crate::setup::root;

/// What `build-module` was asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// The crate's directory, absolute or relative to the workspace.
    pub crate_dir: PathBuf,
    /// Kernel build directory (headers); found if not given.
    pub kdir: Option<PathBuf>,
    /// Where to write `<name>.ko`.
    pub out: Option<PathBuf>,
    /// Private key and certificate for `scripts/sign-file`.
    pub sign: Option<(PathBuf, PathBuf)>,
    /// Give the module an exit function, so that rmmod frees everything.
    pub unloadable: bool,
    /// Print the summary and the description (the VM tests build quietly).
    pub verbose: bool,
    /// The table claims this layout (a test of the runtime's refusal).
    pub table_layout: Option<u32>,
}

pub fn run(options: &Options) -> Result<()> {
    build(options).map(|_| ())
}

/// Builds the object module and the runtime module it needs.
pub fn build(options: &Options) -> Result<Module> {
    let dir = if options.crate_dir.join("Cargo.toml").exists() {
        options.crate_dir.clone()
    } else {
        root().join(&options.crate_dir)
    };
    let krate = Crate::open(&dir).with_context(|| format!("the crate at {}", dir.display()))?;
    let (kdir, why) = find_kdir(options.kdir.as_deref())?;
    let kernel = KernelTree::open(&kdir)?;
    if options.verbose {
        println!("==> kernel headers: {} ({why})", kdir.display());
    }
    let built = module::build(
        &krate,
        &kernel,
        &module::Options {
            out: options.out.clone(),
            sign: options.sign.clone(),
            unloadable: options.unloadable,
            verbose: options.verbose,
            table_layout: options.table_layout,
        },
    )?;
    if options.verbose {
        println!("\n==> built {}", built.ko.display());
        for line in module::summary(&built, &kernel, options.unloadable)? {
            println!("    {line}");
        }
        for line in module::describe(&krate, kernel.is_preload())? {
            println!("    {line}");
        }
    }
    Ok(built)
}
