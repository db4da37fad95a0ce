//! Finding the workspace and installing what a task needs: the machine's side is in
//! `preload-devtools`, shared with the corpus tier and the benchmarks; the Rust
//! standard library's source, which only module builds need, is here.

use std::process::Command;

use anyhow::{bail, Context, Result};

pub use preload_devtools::{ensure_packages, is_root, root};

use crate::tools::run;

/// Installs the `rust-src` component when the toolchain lacks it (modules build core
/// and alloc for the kernel from it), saying so, as for Debian packages.
pub fn ensure_rust_src() -> Result<()> {
    if bpf_preload_build::module::has_rust_src() {
        return Ok(());
    }
    eprintln!(
        "==> building modules needs the Rust standard library's source: running `rustup component add rust-src`"
    );
    run(Command::new("rustup").args(["component", "add", "rust-src"]))
        .context("installing rust-src (is rustup on PATH?)")?;
    if !bpf_preload_build::module::has_rust_src() {
        bail!("`rustup component add rust-src` ran, but rustc still has no library source: is the active toolchain managed by rustup?");
    }
    Ok(())
}
