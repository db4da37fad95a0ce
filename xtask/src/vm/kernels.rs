//! The kernels the VMs boot: Debian's stock kernels found in `/boot`, and the preload
//! kernel of `kernel/` (`cargo xtask kernel`), plain or with its sanitizers
//! (`cargo xtask kernel --sanitizer`).

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use crate::kernel::Variant;
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
    /// The preload kernel with KASAN, kmemleak, lockdep, UBSAN and fault injection
    /// (`kernel/config-sanitizer`): slower, so its boots get more time and memory.
    pub sanitizer: bool,
}

impl From<crate::kernel::Built> for Kernel {
    fn from(built: crate::kernel::Built) -> Self {
        Kernel {
            release: built.release,
            image: built.image,
            kdir: built.kdir,
            preload_keys: Some((built.key, built.cert)),
            sanitizer: built.variant == Variant::Sanitizer,
        }
    }
}

impl Kernel {
    pub fn is_preload(&self) -> bool {
        self.preload_keys.is_some()
    }

    /// Guest memory for QEMU: KASAN's shadow takes an eighth of it and kmemleak keeps
    /// metadata for every allocation, so the sanitizer kernel gets twice the 1 GiB.
    pub fn memory(&self) -> &'static str {
        if self.sanitizer {
            "2G"
        } else {
            "1G"
        }
    }

    /// How many times the harness's timeout a boot of this kernel gets: under TCG,
    /// KASAN's checks on every access, lockdep and kmemleak make the sanitizer kernel
    /// several times slower than the plain preload kernel, and the scenarios that
    /// fail every call of a load from user space (protect-user, with and without
    /// struct_ops) did not finish in four times 180 s on the shared 2-core machine.
    pub fn timeout_factor(&self) -> u32 {
        if self.sanitizer {
            10
        } else {
            1
        }
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
                sanitizer: false,
            },
        );
    }
    Ok(by_series.into_values().collect())
}

/// The preload kernel of `kernel/`, built (once, then cached) by `cargo xtask kernel`.
pub fn preload_kernel() -> Result<Kernel> {
    built_kernel(Variant::Preload)
}

/// A variant of the preload kernel, built (once, then cached) by `cargo xtask kernel`.
fn built_kernel(variant: Variant) -> Result<Kernel> {
    let (built, cached) = crate::kernel::ensure(variant, None)?;
    println!(
        "==> {} kernel {} ({})",
        variant.name(),
        built.release,
        if cached { "cached" } else { "built" }
    );
    Ok(Kernel::from(built))
}

/// Whether a `--kernel` filter names the preload-sanitizer kernel: `preload-sanitizer`,
/// or anything with `sanitizer` such as its release suffix `bpf-preload-sanitizer`.
fn selects_sanitizer_kernel(filter: &str) -> bool {
    filter.contains("sanitizer")
}

/// Whether a `--kernel` filter names the preload kernel: `preload`, or anything with it
/// such as its release suffix `bpf-preload`, or one of its old names, `patched` and `seed`;
/// but not the sanitizer kernel's names.
fn selects_preload_kernel(filter: &str) -> bool {
    (filter.contains("preload") || filter == "patched" || filter == "seed")
        && !selects_sanitizer_kernel(filter)
}

/// The kernels to test: Debian's stock kernels and the preload kernel, filtered. The
/// preload-sanitizer kernel only when a filter names it: it takes twice as long to
/// build and several times as long to run.
pub fn kernels(filters: &[String]) -> Result<Vec<Kernel>> {
    let wanted =
        |release: &str| filters.is_empty() || filters.iter().any(|f| release.contains(f.as_str()));
    let mut kernels = stock_kernels()?;
    kernels.retain(|k| wanted(&k.release));
    // Its release is known only once it is built: only its own name selects it.
    if filters.is_empty() || filters.iter().any(|f| selects_preload_kernel(f)) {
        kernels.push(preload_kernel()?);
    }
    if filters.iter().any(|f| selects_sanitizer_kernel(f)) {
        kernels.push(built_kernel(Variant::Sanitizer)?);
    }
    if kernels.is_empty() {
        bail!(
            "no kernel matches: the stock kernels need an image in /boot and matching headers \
             (`apt-get install linux-image-amd64 linux-headers-amd64 linux-image-6.12-amd64 \
             linux-headers-6.12-amd64`); the preload kernel is `--kernel preload`, its \
             sanitizer build `--kernel preload-sanitizer`"
        );
    }
    Ok(kernels)
}
