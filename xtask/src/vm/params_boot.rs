//! The prepare hook of `initramfs-params`: the kernel command line's
//! `name_guard.reserved=...` reaching an object module that Debian's own initramfs
//! loads. `examples/name_guard` is installed with `cargo bpf-preload install
//! --initramfs --root` into the Debian root filesystem of the user's path scenarios
//! (`userflow::debian_root`), beside the scenario's own init-bottom script; Debian's
//! mkinitramfs makes the initramfs, whose modprobe (kmod's) reads the option from
//! /proc/cmdline. Once the boot's media are made, the script and the module are taken
//! out of the tree again, so that the other scenarios of that tree do not see them.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{ensure, Context, Result};

use super::userflow::{debian_root, media, subcommand};
use super::{harness_dir, Kernel, Prepared};
use crate::setup::root;

/// The object module, and the option the command line gives it.
const MODULE: &str = "name_guard";
/// Where the scenario's script goes in the tree.
const SCRIPT: &str = "etc/initramfs-tools/scripts/init-bottom/bpf-preload-params-check";

pub fn initramfs_params_boot(kernel: &Kernel, work: &Path) -> Result<Prepared> {
    let release = &kernel.release;
    let tree = debian_root(release)?;
    let krate = root().join("examples/name_guard");
    let root_arg = tree.to_string_lossy().into_owned();
    let script = tree.join(SCRIPT);
    let installed = (|| -> Result<_> {
        let text = fs::read_to_string(harness_dir().join("initramfs-params.sh"))?;
        fs::write(&script, text)?;
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755))?;
        let out = subcommand(&krate, &["install", "--initramfs", "--root", &root_arg])?;
        fs::create_dir_all(work)?;
        fs::write(work.join("install.log"), &out)?;
        let media = media(
            &tree,
            release,
            work,
            "ro bpf_preload_check=params name_guard.reserved=cmdline-name",
        )?;
        let listing = crate::tools::output(Command::new("lsinitramfs").arg(&media.initrd))?;
        for wanted in [
            format!("updates/{MODULE}.ko"),
            "scripts/init-bottom/bpf-preload-params-check".to_string(),
        ] {
            ensure!(
                listing.lines().any(|l| l.ends_with(&wanted)),
                "the initramfs made by mkinitramfs has no {wanted}"
            );
        }
        Ok(media)
    })();
    // Whatever happened: the tree as it was (uninstall runs update-initramfs again).
    let _ = fs::remove_file(&script);
    let out = subcommand(&krate, &["uninstall", "--root", &root_arg])
        .context("uninstall of name_guard from the Debian tree")?;
    fs::write(work.join("uninstall.log"), &out)?;
    Ok(Prepared {
        files: Vec::new(),
        media: Some(installed?),
        note: Some(
            "name_guard installed into Debian's initramfs (lsinitramfs), booted with \
             name_guard.reserved=cmdline-name; uninstalled from the tree afterwards"
                .into(),
        ),
    })
}
