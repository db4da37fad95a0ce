//! The prepare hook of the `deb` scenario: the Debian packages that `cargo
//! bpf-preload deb` makes of the new crate's DKMS trees (`bpf-preload-runtime-dkms`
//! and `my-guard-dkms`, by dpkg-buildpackage and dh-dkms), put in a flat apt
//! repository and installed with `apt-get install my-guard-dkms` into a copy of the
//! Debian 12 tree of the boot tests, in a chroot where DKMS builds both modules with
//! gcc and the tree's headers (the tree has no Rust). For the tree's own kernel
//! (6.1) that tree boots as it is; for another stock kernel (6.12), its image and
//! headers are installed into the tree with apt from Debian's mirror first, and
//! Debian's kernel hooks rebuild both modules through DKMS. Either way, systemd
//! boots the tree and the scenario's script checks what systemd-modules-load loaded.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use anyhow::{ensure, Context, Result};

use super::chroot::{apt_install, chroot, tree_kernel, CHROOT_PATH};
use super::userflow::{
    copy_without_module, debian_root, media, new_crate, once, subcommand, MODULE,
};
use super::{harness_dir, Kernel, Prepared};
use crate::setup::{ensure_packages, root};
use bpf_preload_build::deb::{self, RUNTIME_DEB};
use bpf_preload_build::dkms::RUNTIME_PACKAGE;
use bpf_preload_build::module::RUNTIME;

/// Where the repository is inside the tree, as `deb [trusted=yes] file:/… ./`.
const REPO_IN_TREE: &str = "srv/bpf-preload-repo";

/// The object's package, as `deb` names it.
fn object_deb() -> Result<String> {
    Ok(format!("{}-dkms", deb::package_name(MODULE)?))
}

/// `cargo bpf-preload deb --out <repo>` in the new crate: the repository and what
/// the command printed.
fn packages() -> Result<(PathBuf, String)> {
    static CELL: OnceLock<Result<(PathBuf, String), String>> = OnceLock::new();
    once(&CELL, || {
        ensure_packages(
            &["dpkg-dev", "debhelper", "dh-dkms"],
            "building Debian packages with dpkg-buildpackage and dh-dkms",
        )?;
        let repo = root().join("target/vm/deb-repo");
        if repo.exists() {
            fs::remove_dir_all(&repo)?;
        }
        let out = subcommand(&new_crate()?, &["deb", "--out", &repo.to_string_lossy()])?;
        print!(
            "{}",
            out.lines()
                .map(|l| format!("    {l}\n"))
                .collect::<String>()
        );
        Ok((repo, out))
    })
}

/// Checks that DKMS built and installed both modules for `release` in `tree`, and
/// that depmod recorded the object's dependency on the runtime (which modprobe, and
/// so systemd-modules-load, follows).
fn check_built(tree: &Path, release: &str, log: &Path) -> Result<()> {
    let status = chroot(tree, &["dkms", "status", "-k", release], log)?;
    for name in [RUNTIME_PACKAGE, MODULE] {
        ensure!(
            status.lines().any(|l| l.starts_with(&format!("{name}/"))
                && l.contains(": installed")
                && !l.contains("WARNING")),
            "dkms status -k {release} does not say {name} is installed, without warnings:\n{status}"
        );
    }
    let modules = format!("lib/modules/{release}/updates/dkms");
    let file = |name: &str| -> Result<String> {
        ["ko", "ko.xz"]
            .iter()
            .map(|ext| format!("{modules}/{name}.{ext}"))
            .find(|path| tree.join(path).exists())
            .with_context(|| format!("DKMS installed no {name}.ko in {modules} of the tree"))
    };
    let (runtime, object) = (file(RUNTIME)?, file(MODULE)?);
    let dep_file = tree.join(format!("lib/modules/{release}/modules.dep"));
    let dep =
        fs::read_to_string(&dep_file).with_context(|| format!("reading {}", dep_file.display()))?;
    let prefix = |path: &str| {
        path.trim_start_matches(&format!("lib/modules/{release}/"))
            .to_string()
    };
    let line = dep
        .lines()
        .find(|l| l.starts_with(&format!("{}:", prefix(&object))))
        .with_context(|| format!("modules.dep of {release} has no {}", prefix(&object)))?;
    ensure!(
        line.contains(&prefix(&runtime)),
        "modules.dep of {release} does not make {MODULE} depend on {RUNTIME}: {line}"
    );
    Ok(())
}

/// The tree with the packages installed: a copy of the boot tests' tree (which they
/// change, and this must not), the repository in it, `apt-get update` and `apt-get
/// install my-guard-dkms`; checked on the host. Returns the tree and a note.
fn installed_tree() -> Result<(PathBuf, String)> {
    static CELL: OnceLock<Result<(PathBuf, String), String>> = OnceLock::new();
    once(&CELL, || {
        let base = tree_kernel()?;
        let (repo, _) = packages()?;
        let source = debian_root(&base.release)?;
        let dir = root().join("target/vm/deb-root");
        let tree = dir.join("tree");
        let log = dir.join("install.log");
        let _ = fs::remove_file(&log);
        // Without the other boot tests' module, modprobe finds only the one DKMS built.
        copy_without_module(&source, &tree)?;
        let updates = tree.join(format!("lib/modules/{}/updates", base.release));
        let object = updates.join(format!("{MODULE}.ko"));
        ensure!(
            !object.exists(),
            "uninstall left {} in the tree",
            object.display()
        );
        // With no other module needing it, the runtime goes too: DKMS would not
        // replace a module of the same name and version (both have none) that it finds
        // already installed.
        let runtime = updates.join(format!("{RUNTIME}.ko"));
        ensure!(
            !runtime.exists(),
            "uninstall left {}, which no module needs, in the tree",
            runtime.display()
        );
        // The repository, as a fleet's own would be, and the scenario's check in place
        // of the modules-load one.
        let in_tree = tree.join(REPO_IN_TREE);
        fs::create_dir_all(&in_tree)?;
        for entry in fs::read_dir(&repo)? {
            let entry = entry?;
            fs::copy(entry.path(), in_tree.join(entry.file_name()))?;
        }
        fs::write(
            tree.join("etc/apt/sources.list.d/bpf-preload.list"),
            format!("deb [trusted=yes] file:/{REPO_IN_TREE} ./\n"),
        )?;
        let check = tree.join("usr/local/sbin/bpf-preload-check");
        fs::copy(harness_dir().join("deb.sh"), &check)?;
        fs::set_permissions(&check, fs::Permissions::from_mode(0o755))?;
        for tool in ["cargo", "rustc"] {
            ensure!(
                !CHROOT_PATH
                    .split(':')
                    .any(|d| tree.join(d.trim_start_matches('/')).join(tool).exists()),
                "the tree has {tool}: DKMS must build there without Rust"
            );
        }
        let started = Instant::now();
        chroot(&tree, &["apt-get", "-q", "update"], &log)?;
        let object = object_deb()?;
        let out = apt_install(&tree, &[&object], &log)?;
        let seconds = started.elapsed().as_secs_f64();
        ensure!(
            out.contains(&format!("Setting up {RUNTIME_DEB} "))
                && out.contains(&format!("Setting up {object} ")),
            "apt-get install {object} did not set up both packages:\n{out}"
        );
        check_built(&tree, &base.release, &log)?;
        let script = tree.join(format!(
            "usr/src/{RUNTIME_PACKAGE}-{}/keep-symvers.sh",
            env!("CARGO_PKG_VERSION")
        ));
        let mode = fs::metadata(&script)
            .with_context(|| format!("the package installed no {}", script.display()))?
            .permissions()
            .mode();
        ensure!(
            mode & 0o111 != 0,
            "{} is not executable ({mode:o})",
            script.display()
        );
        let conf = tree.join(format!("usr/lib/modules-load.d/{MODULE}.conf"));
        ensure!(
            fs::read_to_string(&conf)
                .with_context(|| format!("the package installed no {}", conf.display()))?
                .lines()
                .any(|l| l.trim() == MODULE),
            "{} does not name {MODULE}",
            conf.display()
        );
        let sizes: Vec<String> = fs::read_dir(&repo)?
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "deb"))
            .map(|e| {
                format!(
                    "{} ({} bytes)",
                    e.file_name().to_string_lossy(),
                    e.metadata().map(|m| m.len()).unwrap_or_default()
                )
            })
            .collect();
        Ok((
            tree,
            format!(
                "apt-get install {object} (from a file: repository of {}) in a chroot: DKMS \
                 built {RUNTIME_PACKAGE} and {MODULE} for {}, no Rust ({seconds:.0} s with \
                 apt-get update)",
                sizes.join(", "),
                base.release
            ),
        ))
    })
}

/// `deb`: the tree with the packages installed boots its own kernel; for another
/// stock kernel, `apt-get install linux-image-<release> linux-headers-<release>` in
/// the tree first, whose hooks rebuild both modules through DKMS.
pub fn deb_boot(kernel: &Kernel, work: &Path) -> Result<Prepared> {
    let (tree, mut note) = installed_tree()?;
    fs::create_dir_all(work)?;
    if kernel.release != tree_kernel()?.release {
        let log = work.join("apt-kernel.log");
        let _ = fs::remove_file(&log);
        let release = &kernel.release;
        let (image, headers) = (
            format!("linux-image-{release}"),
            format!("linux-headers-{release}"),
        );
        let started = Instant::now();
        let out = apt_install(&tree, &[&image, &headers], &log)?;
        let seconds = started.elapsed().as_secs_f64();
        // Debian's hooks (/etc/kernel/postinst.d/dkms and header_postinst.d/dkms) run
        // `dkms autoinstall` for the new kernel.
        ensure!(
            out.contains(&format!(
                "running auto installation service for kernel {release}"
            )),
            "installing {image} and {headers} ran no DKMS autoinstall (log: {}):\n{out}",
            log.display()
        );
        check_built(&tree, release, &log)?;
        note = format!(
            "{note}; then apt-get install {image} {headers}: Debian's kernel hooks rebuilt \
             both through DKMS ({seconds:.0} s with the download and the initramfs)"
        );
    }
    let initrd = tree.join(format!("boot/initrd.img-{}", kernel.release));
    ensure!(initrd.exists(), "the tree has no {}", initrd.display());
    Ok(Prepared {
        files: Vec::new(),
        media: Some(media(&tree, &kernel.release, work, "rw")?),
        note: Some(note),
    })
}
