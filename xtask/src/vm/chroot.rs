//! The Debian 12 tree of the boot tests, from outside: its own kernel, and commands
//! run in it with chroot (apt-get among them). Used by the scenarios that install into
//! the tree (`userflow`, `packages`).

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::{stock_kernels, Kernel};

/// The PATH of commands in the chroot: Debian's, nothing of the host's.
pub(super) const CHROOT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Debian 12's own kernel (6.1), the one mmdebstrap puts in the tree.
pub(super) fn tree_kernel() -> Result<Kernel> {
    stock_kernels()?
        .into_iter()
        .find(|k| k.version() == (6, 1))
        .context("no Debian 12 6.1 kernel with headers is installed here (`apt-get install linux-image-amd64 linux-headers-amd64`)")
}

/// Runs `args` in `tree` with chroot, in a mount namespace of its own where `/proc`
/// is mounted (gone with the namespace, whatever happens), with Debian's PATH and
/// nothing else of this environment. Its output is appended to `log`; fails with it.
pub(super) fn chroot(tree: &Path, args: &[&str], log: &Path) -> Result<String> {
    let script = r#"set -e
tree=$1
shift
mount -t proc proc "$tree/proc"
exec chroot "$tree" "$@""#;
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        script,
        "sh",
    ])
    .arg(tree)
    .args(["env", "-i"])
    .arg(format!("PATH={CHROOT_PATH}"))
    .args([
        "HOME=/root",
        "LC_ALL=C.UTF-8",
        "DEBIAN_FRONTEND=noninteractive",
    ])
    .args(args);
    let (ok, text) = crate::tools::combined_output(&mut cmd)
        .with_context(|| format!("running `{}` in {}", args.join(" "), tree.display()))?;
    let mut all = fs::read_to_string(log).unwrap_or_default();
    all.push_str(&format!(
        "### chroot {} {}\n{text}",
        tree.display(),
        args.join(" ")
    ));
    fs::write(log, all)?;
    if !ok {
        bail!(
            "`{}` failed in the chroot {} (log: {}):\n{text}",
            args.join(" "),
            tree.display(),
            log.display()
        );
    }
    Ok(text)
}

/// `apt-get -y install --no-install-recommends PACKAGES` in the chroot.
pub(super) fn apt_install(tree: &Path, packages: &[&str], log: &Path) -> Result<String> {
    let mut args = vec![
        "apt-get",
        "-q",
        "-y",
        "-o",
        "Dpkg::Use-Pty=0",
        "install",
        "--no-install-recommends",
    ];
    args.extend(packages);
    chroot(tree, &args, log)
}
