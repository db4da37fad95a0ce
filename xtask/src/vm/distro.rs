//! Debian's own kernel modules, for scenarios that need one in the guest: copied from
//! `/lib/modules/<release>/` of the host (decompressed), for `modprobe` in the busybox
//! initramfs, which indexes them with `depmod`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::{Kernel, Prepared};
use crate::setup::ensure_packages;

/// `nf_conntrack.ko` (a module with kfuncs) of the scenario's kernel, the modules it
/// depends on (modules.dep) and `crc32c_generic`, which libcrc32c asks the crypto API
/// for (a softdep).
pub fn conntrack(kernel: &Kernel, work: &Path) -> Result<Prepared> {
    modules(
        kernel,
        work,
        &[
            "kernel/crypto/crc32c_generic.ko",
            "kernel/net/netfilter/nf_conntrack.ko",
        ],
    )
}

/// `wanted` (paths in modules.dep, without `.xz`) and what they depend on.
fn modules(kernel: &Kernel, work: &Path, wanted: &[&str]) -> Result<Prepared> {
    ensure_packages(&["xz-utils"], "decompressing Debian's kernel modules")?;
    let dir = PathBuf::from(format!("/lib/modules/{}", kernel.release));
    let dep = fs::read_to_string(dir.join("modules.dep"))
        .with_context(|| format!("reading {}/modules.dep", dir.display()))?;
    fs::create_dir_all(work)?;
    let mut prepared = Prepared::default();
    for wanted in wanted {
        let line = dep
            .lines()
            .find(|l| l.starts_with(wanted))
            .with_context(|| format!("no {wanted} in {}/modules.dep", dir.display()))?;
        for module in line.split([':', ' ']).filter(|m| !m.is_empty()) {
            let plain = module.trim_end_matches(".xz");
            let dest = format!("lib/modules/{}/{plain}", kernel.release);
            if prepared.files.iter().any(|(_, d)| *d == dest) {
                continue;
            }
            let src = dir.join(module);
            let copy = work.join(format!("distro-{}", plain.replace('/', "_")));
            if module.ends_with(".xz") {
                // busybox's modprobe loads plain modules only.
                let out = Command::new("xz").arg("-dc").arg(&src).output()?;
                if !out.status.success() {
                    bail!(
                        "xz -dc {}: {}",
                        src.display(),
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                fs::write(&copy, out.stdout)?;
            } else {
                fs::copy(&src, &copy).with_context(|| format!("copying {}", src.display()))?;
            }
            prepared.files.push((copy, dest));
        }
    }
    Ok(prepared)
}
