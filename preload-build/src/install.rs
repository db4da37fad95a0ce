//! Installing a module for every boot, with Debian's own machinery: the object module
//! and the runtime module it depends on in `/lib/modules/<release>/updates/` and
//! `depmod` (which records the dependency modprobe follows); `/etc/modules-load.d/<name>.conf`
//! for systemd-modules-load; for the earliest start, initramfs-tools: a hook that puts
//! the module into the initramfs with the modules it depends on (`manual_add_modules`,
//! which follows `modules.dep`), an init-top script that loads it before udev starts,
//! and `update-initramfs`. On a kernel with the preload series, the kernel's preload
//! list names the module instead.
//!
//! Everything goes under a root directory: `/`, or an image tree (`--root`).
//!
//! Why init-top and not `/etc/initramfs-tools/modules`: Debian's `/init` loads the
//! modules of that file (`load_modules`) after the init-top scripts, and udev's
//! init-top script starts systemd-udevd and replays every device's uevent, so the
//! drivers and whatever their devices trigger run before the policy. No hook point
//! comes earlier than init-top (what `/init` does before it is fixed code), and a
//! script cannot name another to run after it; but mkinitramfs orders the scripts
//! of a directory with `tsort`, which puts those that no prerequisite orders by name,
//! so `bpf-preload-<name>`, with no prerequisite, runs before `udev` (the order is in
//! the image's `scripts/init-top/ORDER`). The modules-file line is therefore not
//! written: it would only make `load_modules` modprobe the module a second time, after
//! udev; `uninstall` (and `install`) remove the line older versions wrote.

use std::fs;
use std::os::unix::fs::PermissionsExt;
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

/// The comment that marked our line in `/etc/initramfs-tools/modules`, which
/// versions before the init-top script wrote; removed wherever it is found.
fn marker(name: &str) -> String {
    format!(
        "# {name}: added by `cargo bpf-preload install`, removed by `cargo bpf-preload uninstall`"
    )
}

/// The initramfs-tools hook that puts the module and its dependencies into the image.
const HOOK: &str = include_str!("../templates/initramfs/hook");
/// The init-top script that loads the module before udev.
const INIT_TOP: &str = include_str!("../templates/initramfs/init-top");

/// The name of the hook and of the init-top script of module `name`: it must sort
/// before `udev` (see the module's documentation) and be what initramfs-tools accepts
/// (letters, digits, `_`, `-`, `.`), as module names are.
pub fn initramfs_script(name: &str) -> String {
    format!("bpf-preload-{name}")
}

/// The hook and the init-top script of module `name`: (path under the root, text).
pub fn initramfs_files(name: &str) -> [(String, String); 2] {
    let script = initramfs_script(name);
    let values = [("NAME", name), ("SCRIPT", script.as_str())];
    [
        (
            format!("/etc/initramfs-tools/hooks/{script}"),
            tools::fill(HOOK, &values[..1]),
        ),
        (
            format!("/etc/initramfs-tools/scripts/init-top/{script}"),
            tools::fill(INIT_TOP, &values),
        ),
    ]
}

/// Removes the line older versions listed module `name` with from
/// `/etc/initramfs-tools/modules`, with its marker; whether there was one.
fn remove_modules_line(root: &Path, name: &str) -> Result<bool> {
    let list = under(root, "/etc/initramfs-tools/modules");
    let Ok(text) = fs::read_to_string(&list) else {
        return Ok(false);
    };
    let marker = marker(name);
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| l.trim() != name && *l != marker)
        .collect();
    if kept.len() == text.lines().count() {
        return Ok(false);
    }
    let mut text = kept.join("\n");
    text.push('\n');
    fs::write(&list, text).with_context(|| format!("writing {}", list.display()))?;
    Ok(true)
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
        let tools_dir = under(root, "/etc/initramfs-tools");
        ensure!(
            tools_dir.is_dir(),
            "--initramfs: {} has no initramfs-tools ({} does not exist): `apt-get install \
             initramfs-tools` (dracut is not supported)",
            root.display(),
            tools_dir.display()
        );
        for (path, text) in initramfs_files(name) {
            let path = under(root, &path);
            tools::write_if_changed(&path, text.as_bytes())?;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
                .with_context(|| format!("making {} executable", path.display()))?;
            done.push(format!("wrote {}", path.display()));
        }
        if remove_modules_line(root, name)? {
            done.push(format!(
                "removed `{name}` from {}/modules (the init-top script loads it, earlier)",
                tools_dir.display()
            ));
        }
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
    let mut initramfs = false;
    for (path, _) in initramfs_files(name) {
        let path = under(root, &path);
        if path.exists() {
            fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            done.push(format!("removed {}", path.display()));
            initramfs = true;
        }
    }
    if remove_modules_line(root, name)? {
        done.push(format!(
            "removed `{name}` from {}",
            under(root, "/etc/initramfs-tools/modules").display()
        ));
        initramfs = true;
    }
    if initramfs {
        for release in &releases {
            done.push(update_initramfs(root, release)?);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_are_filled_and_parse() {
        for (path, text) in initramfs_files("my_guard") {
            assert!(path.ends_with("/bpf-preload-my_guard"), "{path}");
            assert!(
                !text.contains('@'),
                "{path} has a placeholder left:\n{text}"
            );
            assert!(text.starts_with("#!/bin/sh\n"), "{path}");
            assert!(
                text.contains("PREREQ=\"\""),
                "{path} must name no prerequisite"
            );
            let out = Command::new("sh")
                .arg("-n")
                .arg("-c")
                .arg(&text)
                .output()
                .expect("sh runs");
            assert!(out.status.success(), "{path}: {out:?}");
        }
        let [(_, hook), (_, init_top)] = initramfs_files("my_guard");
        assert!(hook.contains("manual_add_modules my_guard\n"));
        assert!(init_top.contains("modprobe my_guard "));
    }

    /// mkinitramfs orders the init-top scripts by `get_prereq_pairs | tsort`: each
    /// script paired with itself and with every prerequisite. Debian 12's own
    /// (initramfs-tools, udev, kbd...) name none; ours must come before udev's.
    #[test]
    fn init_top_script_runs_before_udev() {
        let ours = initramfs_script("my_guard");
        let mut pairs = String::new();
        for script in ["all_generic_ide", "blacklist", "keymap", "udev", "zz-last"] {
            pairs.push_str(&format!("{script} {script}\n"));
        }
        pairs.push_str(&format!("{ours} {ours}\n"));
        // A script of another package that runs after udev, as cryptsetup's do.
        pairs.push_str("udev after-udev\nafter-udev after-udev\n");
        let mut child = Command::new("tsort")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("tsort (coreutils) runs");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(pairs.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let order: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        let at = |s: &str| order.iter().position(|x| x == s).unwrap();
        assert!(at(&ours) < at("udev"), "{order:?}");
    }

    #[test]
    fn the_old_modules_line_is_removed() {
        let root = std::env::temp_dir().join(format!("bpf-preload-install-{}", std::process::id()));
        let list = under(&root, "/etc/initramfs-tools/modules");
        fs::create_dir_all(list.parent().unwrap()).unwrap();
        fs::write(
            &list,
            format!("# user's\nloop\n{}\nmy_guard\n", marker("my_guard")),
        )
        .unwrap();
        assert!(remove_modules_line(&root, "my_guard").unwrap());
        assert_eq!(fs::read_to_string(&list).unwrap(), "# user's\nloop\n");
        assert!(!remove_modules_line(&root, "my_guard").unwrap());
        fs::remove_dir_all(&root).unwrap();
    }
}
