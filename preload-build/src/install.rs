//! Installing a module for every boot, with Debian's own machinery: the object module
//! and the runtime module it depends on in `/lib/modules/<release>/updates/` and
//! `depmod` (which records the dependency modprobe follows); `/etc/modules-load.d/<name>.conf`
//! for systemd-modules-load; for the earliest start, a line in
//! `/etc/initramfs-tools/modules` and `update-initramfs`, so that the initramfs loads
//! it before the root filesystem is mounted and before init. On a kernel with the
//! preload series, the kernel's preload list names the module instead.
//!
//! Everything goes under a root directory: `/`, or an image tree (`--root`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};

use crate::kernel::KernelTree;
use crate::module::Module;
use crate::tools;

/// Where and how to install.
#[derive(Debug, Clone)]
pub struct Target {
    /// `/`, or an image tree.
    pub root: PathBuf,
    /// Also into the initramfs (initramfs-tools).
    pub initramfs: bool,
}

/// The comment that marks our line in `/etc/initramfs-tools/modules`.
fn marker(name: &str) -> String {
    format!(
        "# {name}: added by `cargo bpf-preload install`, removed by `cargo bpf-preload uninstall`"
    )
}

fn under(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

fn is_host(root: &Path) -> bool {
    root.canonicalize().is_ok_and(|r| r == Path::new("/"))
}

/// `depmod` for `release` under `root`.
fn depmod(root: &Path, release: &str) -> Result<()> {
    tools::run(Command::new("depmod").arg("-b").arg(root).arg(release))
        .context("depmod (`apt-get install kmod`)")
}

/// Installs `module`, built for `kernel`; returns what it did, one line each.
pub fn install(module: &Module, kernel: &KernelTree, target: &Target) -> Result<Vec<String>> {
    let root = &target.root;
    let release = &module.release;
    let name = &module.name;
    let mut done = Vec::new();
    let modules = under(root, &format!("/lib/modules/{release}"));
    ensure!(
        modules.is_dir(),
        "kernel {release} is not installed in {}: there is no {}",
        root.display(),
        modules.display()
    );
    if is_host(root) && !tools::is_root() {
        bail!("installing into /lib/modules and /etc needs root: run it with sudo");
    }
    let updates = modules.join("updates");
    fs::create_dir_all(&updates).with_context(|| format!("creating {}", updates.display()))?;
    // The runtime beside the object: depmod records that the object needs it, so
    // modprobe, the kernel's request_module and initramfs-tools load it first.
    for built in [&module.runtime, &module.ko] {
        let ko = updates.join(built.file_name().unwrap_or_default());
        fs::copy(built, &ko)
            .with_context(|| format!("copying {} to {}", built.display(), ko.display()))?;
        done.push(format!("installed {}", ko.display()));
    }
    depmod(root, release)?;
    done.push(format!("depmod -b {} {release}", root.display()));

    if kernel.is_preload() {
        done.push(format!(
            "this kernel has the preload series: it loads `{name}` itself, at boot, when its \
             preload list names it; add `{name}` to bpf_preload_list= on the kernel command \
             line, e.g. `bpf_preload_list=bpf_preload,{name}` (GRUB_CMDLINE_LINUX in \
             /etc/default/grub, then update-grub), or to CONFIG_BPF_PRELOAD_LIST"
        ));
        return Ok(done);
    }

    let load = under(root, &format!("/etc/modules-load.d/{name}.conf"));
    tools::write_if_changed(
        &load,
        format!("# Installed by `cargo bpf-preload install`: systemd-modules-load loads it at boot.\n{name}\n")
            .as_bytes(),
    )?;
    done.push(format!("wrote {} (systemd-modules-load)", load.display()));

    if target.initramfs {
        let list = under(root, "/etc/initramfs-tools/modules");
        ensure!(
            list.parent().is_some_and(Path::is_dir),
            "--initramfs: {} has no initramfs-tools ({} does not exist): `apt-get install \
             initramfs-tools` (dracut is not supported)",
            root.display(),
            list.parent().unwrap_or(&list).display()
        );
        let text = fs::read_to_string(&list).unwrap_or_default();
        if !text.lines().any(|l| l.trim() == name) {
            let mut text = text;
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&format!("{}\n{name}\n", marker(name)));
            fs::write(&list, text).with_context(|| format!("writing {}", list.display()))?;
        }
        done.push(format!("listed `{name}` in {}", list.display()));
        done.push(update_initramfs(root, release)?);
    }
    Ok(done)
}

/// `update-initramfs -u -k <release>`: on the host, or inside the image tree with
/// chroot when it has initramfs-tools and we are root; otherwise says what to run.
fn update_initramfs(root: &Path, release: &str) -> Result<String> {
    if is_host(root) {
        tools::run(Command::new("update-initramfs").args(["-u", "-k", release]))
            .context("update-initramfs (`apt-get install initramfs-tools`)")?;
        return Ok(format!("update-initramfs -u -k {release}"));
    }
    if under(root, "/usr/sbin/update-initramfs").exists() && tools::is_root() {
        tools::run(Command::new("chroot").arg(root).args([
            "update-initramfs",
            "-u",
            "-k",
            release,
        ]))
        .with_context(|| format!("update-initramfs in {}", root.display()))?;
        return Ok(format!(
            "chroot {} update-initramfs -u -k {release}",
            root.display()
        ));
    }
    Ok(format!(
        "not rebuilt: {} has no /usr/sbin/update-initramfs (or this is not root); the next \
         `update-initramfs -u -k {release}` in it (any kernel or package upgrade) includes \
         the module",
        root.display()
    ))
}

/// Removes the runtime module `install` put in `modules/updates/` once no module of
/// that release depends on it any more (by depmod's `modules.dep`): DKMS will not
/// install its own over one it finds there.
fn remove_unused_runtime(root: &Path, modules: &Path, release: &str) -> Result<Vec<String>> {
    let runtime = modules.join(format!("updates/{}.ko", crate::module::RUNTIME));
    if !runtime.exists() {
        return Ok(Vec::new());
    }
    let dep = modules.join("modules.dep");
    let text = fs::read_to_string(&dep).with_context(|| format!("reading {}", dep.display()))?;
    let needed = text.lines().any(|l| {
        l.split_once(':').is_some_and(|(_, deps)| {
            deps.split_whitespace()
                .any(|d| d.ends_with(&format!("/{}.ko", crate::module::RUNTIME)))
        })
    });
    if needed {
        return Ok(vec![format!(
            "kept {}: another installed module needs it",
            runtime.display()
        )]);
    }
    fs::remove_file(&runtime).with_context(|| format!("removing {}", runtime.display()))?;
    depmod(root, release)?;
    Ok(vec![
        format!(
            "removed {} (no installed module needs it)",
            runtime.display()
        ),
        format!("depmod -b {} {release}", root.display()),
    ])
}

/// Removes everything [`install`] put under `root` for module `name`, for every
/// kernel release, and the runtime module where no other module needs it; returns
/// what it did.
pub fn uninstall(name: &str, root: &Path) -> Result<Vec<String>> {
    if is_host(root) && !tools::is_root() {
        bail!("uninstalling from /lib/modules and /etc needs root: run it with sudo");
    }
    let mut done = Vec::new();
    let mut releases = Vec::new();
    for entry in fs::read_dir(under(root, "/lib/modules"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let ko = entry.path().join(format!("updates/{name}.ko"));
        if ko.exists() {
            fs::remove_file(&ko).with_context(|| format!("removing {}", ko.display()))?;
            done.push(format!("removed {}", ko.display()));
            let release = entry.file_name().to_string_lossy().into_owned();
            depmod(root, &release)?;
            done.push(format!("depmod -b {} {release}", root.display()));
            done.extend(remove_unused_runtime(root, &entry.path(), &release)?);
            releases.push(release);
        }
    }
    let load = under(root, &format!("/etc/modules-load.d/{name}.conf"));
    if load.exists() {
        fs::remove_file(&load).with_context(|| format!("removing {}", load.display()))?;
        done.push(format!("removed {}", load.display()));
    }
    let list = under(root, "/etc/initramfs-tools/modules");
    if let Ok(text) = fs::read_to_string(&list) {
        let marker = marker(name);
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| l.trim() != name && *l != marker)
            .collect();
        if kept.len() != text.lines().count() {
            let mut text = kept.join("\n");
            text.push('\n');
            fs::write(&list, text).with_context(|| format!("writing {}", list.display()))?;
            done.push(format!("removed `{name}` from {}", list.display()));
            for release in &releases {
                done.push(update_initramfs(root, release)?);
            }
        }
    }
    if done.is_empty() {
        done.push(format!(
            "nothing to do: `{name}` is not installed under {}",
            root.display()
        ));
    }
    Ok(done)
}

/// The kernel release installed under `root` with its headers, when there is exactly
/// one: `--root` without `--kdir`. Headers are looked up in the tree, then on the host.
pub fn kdir_in(root: &Path) -> Result<PathBuf> {
    let releases: Vec<String> = fs::read_dir(under(root, "/lib/modules"))
        .with_context(|| format!("{} has no /lib/modules", root.display()))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let [release] = &releases[..] else {
        bail!(
            "{} has {} kernels ({}): say which with --kdir",
            root.display(),
            releases.len(),
            releases.join(", ")
        );
    };
    [
        under(root, &format!("/usr/src/linux-headers-{release}")),
        PathBuf::from(format!("/usr/src/linux-headers-{release}")),
    ]
    .into_iter()
    .find(|d| d.join("Module.symvers").exists())
    .with_context(|| {
        format!(
            "no headers for {release}, the kernel of {}: install linux-headers-{release} (in \
             the tree or here), or pass --kdir",
            root.display()
        )
    })
}
