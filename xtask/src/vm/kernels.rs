//! The kernels the VMs boot: Debian's stock kernels found in `/boot`, and the preload
//! kernel of `kernel/` (`cargo xtask kernel`).

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use crate::module::version_key;

/// A kernel to boot, with the headers (or build tree) of the same ABI: one of Debian's
/// stock kernels, or the preload kernel (Debian's source with `kernel/patches`).
#[derive(Debug, Clone)]
pub struct Kernel {
    /// `make kernelrelease`: modules go to `/lib/modules/<release>/`.
    pub release: String,
    /// The bzImage.
    pub image: PathBuf,
    /// The build tree or headers: `make -C <kdir> M=<dir> modules` builds a module.
    pub kdir: PathBuf,
    /// The preload kernel's module signing key and certificate, which it trusts
    /// (built into its keyring); `None` for a stock kernel.
    pub preload_keys: Option<(PathBuf, PathBuf)>,
}

impl From<crate::kernel::Built> for Kernel {
    fn from(built: crate::kernel::Built) -> Self {
        Kernel {
            release: built.release,
            image: built.image,
            kdir: built.kdir,
            preload_keys: Some((built.key, built.cert)),
        }
    }
}

impl Kernel {
    pub fn is_preload(&self) -> bool {
        self.preload_keys.is_some()
    }

    /// `(major, minor)` of the release.
    pub fn version(&self) -> (u32, u32) {
        let mut v = self
            .release
            .split(['.', '-'])
            .map(|n| n.parse().unwrap_or(0));
        (v.next().unwrap_or(0), v.next().unwrap_or(0))
    }

    /// Extra kernel command line for the scenarios that do not set their own: the
    /// preload kernel refuses objects that are not on its preload list. The kernel's
    /// own iterators (`bpf_preload`) are left out: their programs and map have the
    /// names of the iterators example's, which the scenarios look up by name.
    pub fn default_cmdline(&self) -> &'static str {
        if self.is_preload() {
            "bpf_preload_list=iterators,mkdir_guard,getppid_count,verifier_reject,tcp_cc"
        } else {
            ""
        }
    }
}

/// Installed kernels with both an image and matching headers: the newest of each
/// major.minor series.
pub fn stock_kernels() -> Result<Vec<Kernel>> {
    let mut by_series: BTreeMap<String, Kernel> = BTreeMap::new();
    let mut images: Vec<PathBuf> = fs::read_dir("/boot")
        .context("reading /boot")?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
        .collect();
    images.sort_by_key(|p| version_key(p));
    for image in images {
        let name = image.file_name().unwrap_or_default().to_string_lossy();
        let release = name.trim_start_matches("vmlinuz-").to_string();
        let kdir = [
            PathBuf::from(format!("/usr/src/linux-headers-{release}")),
            PathBuf::from(format!("/lib/modules/{release}/build")),
        ]
        .into_iter()
        .find(|d| d.join("Module.symvers").exists());
        let Some(kdir) = kdir else { continue };
        let series: String = release.split('.').take(2).collect::<Vec<_>>().join(".");
        by_series.insert(
            series,
            Kernel {
                release,
                image,
                kdir,
                preload_keys: None,
            },
        );
    }
    Ok(by_series.into_values().collect())
}

/// The preload kernel of `kernel/`, built (once, then cached) by `cargo xtask kernel`.
pub fn preload_kernel() -> Result<Kernel> {
    let (built, cached) = crate::kernel::ensure(crate::kernel::Variant::Preload, None)?;
    println!(
        "==> preload kernel {} ({})",
        built.release,
        if cached { "cached" } else { "built" }
    );
    Ok(Kernel::from(built))
}

/// Whether a `--kernel` filter names the preload kernel: `preload`, or anything with it
/// such as its release suffix `bpf-preload`, or one of its old names, `patched` and `seed`.
fn selects_preload_kernel(filter: &str) -> bool {
    filter.contains("preload") || filter == "patched" || filter == "seed"
}

/// The kernels to test: Debian's stock kernels and the preload kernel, filtered.
pub fn kernels(filters: &[String]) -> Result<Vec<Kernel>> {
    let wanted =
        |release: &str| filters.is_empty() || filters.iter().any(|f| release.contains(f.as_str()));
    let mut kernels = stock_kernels()?;
    kernels.retain(|k| wanted(&k.release));
    // Its release is known only once it is built: only its own name selects it.
    if filters.is_empty() || filters.iter().any(|f| selects_preload_kernel(f)) {
        kernels.push(preload_kernel()?);
    }
    if kernels.is_empty() {
        bail!(
            "no kernel matches: the stock kernels need an image in /boot and matching headers \
             (`apt-get install linux-image-amd64 linux-headers-amd64 linux-image-6.12-amd64 \
             linux-headers-6.12-amd64`); the preload kernel is `--kernel preload`"
        );
    }
    Ok(kernels)
}
