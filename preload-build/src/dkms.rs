//! A DKMS source tree: `dkms.conf`, the C shim, a Kbuild, and the crate's Rust part
//! prebuilt as `<flags>.o_shipped`, one per set of code-generation flags, so that
//! `dkms build` needs only the kernel's headers and its C compiler, and no Rust. DKMS
//! rebuilds the module for every kernel installed later (`AUTOINSTALL`), and signs it
//! with its own MOK key where it is set up to.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{ensure, Context, Result};

use crate::kernel::{Codegen, KernelTree};
use crate::module::{self, KBUILD, SHIM_C, SHIM_H};
use crate::package::Crate;
use crate::tools::{fill, write_if_changed};

const DKMS_CONF: &str = include_str!("../templates/dkms/dkms.conf");
const KBUILD_PREFIX: &str = include_str!("../templates/dkms/Kbuild");

/// A DKMS tree made by [`tree`].
#[derive(Debug, Clone)]
pub struct Tree {
    /// The directory (`<name>-<version>`, as DKMS wants it in `/usr/src`).
    pub dir: PathBuf,
    /// DKMS's module name and version.
    pub name: String,
    /// The package version.
    pub version: String,
    /// The flag sets it ships, with the kernels each was checked against.
    pub shipped: Vec<(Codegen, Vec<String>)>,
}

/// Writes the DKMS tree of `krate` into `out` (default:
/// `<target>/bpf-preload/dkms/<name>-<version>/`), with one Rust object for each
/// distinct flag set of `kernels`.
pub fn tree(
    krate: &Crate,
    kernels: &[KernelTree],
    out: Option<&Path>,
    unloadable: bool,
    verbose: bool,
) -> Result<Tree> {
    ensure!(
        !kernels.is_empty(),
        "a DKMS tree needs at least one kernel's headers to take the code-generation flags from"
    );
    let name = &krate.preloaded.name;
    let dir = match out {
        Some(out) => out.to_path_buf(),
        None => krate
            .work_dir()
            .join("dkms")
            .join(format!("{name}-{}", krate.version)),
    };
    let mut sets: BTreeMap<Codegen, Vec<&KernelTree>> = BTreeMap::new();
    for kernel in kernels {
        module::check_prerequisites(kernel)?;
        sets.entry(kernel.codegen()?).or_default().push(kernel);
    }
    if dir.exists() {
        // Only what an earlier run of this wrote: a stale flag set must not stay.
        for entry in fs::read_dir(&dir)?.flatten() {
            let path = entry.path();
            if path.to_string_lossy().ends_with(".o_shipped") {
                fs::remove_file(&path)?;
            }
        }
    }
    let mut shipped = Vec::new();
    for (codegen, kernels) in &sets {
        let rust = module::build_rust(krate, *codegen, kernels, None, verbose)?;
        let to = dir.join(format!("{codegen}.o_shipped"));
        write_if_changed(&to, &fs::read(&rust.path)?)
            .with_context(|| format!("writing {}", to.display()))?;
        shipped.push((
            *codegen,
            kernels.iter().map(|k| k.release.clone()).collect(),
        ));
    }
    let list: Vec<String> = shipped.iter().map(|(c, _)| c.to_string()).collect();
    let list = list.join(", ");
    let unloadable = if unloadable { "1" } else { "0" };
    let values = [
        ("NAME", name.as_str()),
        ("PACKAGE", krate.package.as_str()),
        ("VERSION", krate.version.as_str()),
    ];
    write_if_changed(&dir.join("dkms.conf"), fill(DKMS_CONF, &values).as_bytes())?;
    let mut kbuild = fill(
        KBUILD_PREFIX,
        &[
            values[0],
            values[1],
            values[2],
            ("UNLOADABLE", unloadable),
            ("SHIPPED", &list),
        ],
    );
    kbuild.push_str(KBUILD);
    write_if_changed(&dir.join("Kbuild"), kbuild.as_bytes())?;
    write_if_changed(&dir.join("shim.c"), SHIM_C.as_bytes())?;
    write_if_changed(&dir.join("shim.h"), SHIM_H.as_bytes())?;
    Ok(Tree {
        dir,
        name: name.clone(),
        version: krate.version.clone(),
        shipped,
    })
}
