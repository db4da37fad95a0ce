//! Finding the workspace and installing the Debian packages a task needs.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::tools::run;

/// The workspace root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    dir.parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

/// Installs the Debian packages that are missing, saying so; as a normal user, says
/// which command to run instead.
pub fn ensure_packages(packages: &[&str], why: &str) -> Result<()> {
    let missing: Vec<&str> = packages.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    if !is_root() {
        bail!("{why} needs Debian packages {list}: run `sudo apt-get update && sudo apt-get install -y {list}`");
    }
    eprintln!("==> {why} needs {list}: installing with apt-get");
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

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
