//! The prepare hooks of the scenarios for the user's path, as a user takes it: a
//! crate made by `cargo bpf-preload new` outside the repository and built by the
//! installed subcommand (`new-crate`); its DKMS tree built by `dkms` with no Rust on
//! PATH (`dkms`); and Debian's own boot machinery on a Debian root filesystem made
//! by mmdebstrap from Debian's packages: the module loaded by Debian's initramfs
//! before udev (`initramfs`, on 6.1 and, in a copy of the tree with apt's 6.12, on
//! 6.12) and by systemd-modules-load (`modules-load`), whose scenario scripts are
//! installed into that root filesystem.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{anyhow, bail, ensure, Context, Result};

use super::{harness_dir, Kernel, Media, Prepared};
use crate::setup::{ensure_packages, root};
use crate::tools::run as run_cmd;
use bpf_preload_build::dkms::RUNTIME_PACKAGE;
use bpf_preload_build::module::RUNTIME;

/// The package `new` makes, and its module (Kbuild's `_` for `-`).
pub(super) const PACKAGE: &str = "my-guard";
pub(super) const MODULE: &str = "my_guard";
pub(super) const VERSION: &str = "0.1.0";

/// Runs once per process; later calls get the first result.
pub(super) fn once<T: Clone>(
    cell: &OnceLock<Result<T, String>>,
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    cell.get_or_init(|| f().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(|e| anyhow!(e))
}

/// `cargo install --path preload-build`, into target/vm/: the directory of the
/// installed `cargo-bpf-preload`, as a user has it on PATH.
fn installed_subcommand() -> Result<PathBuf> {
    static CELL: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    once(&CELL, || {
        let prefix = root().join("target/vm/cargo-install");
        println!(
            "    cargo install --path preload-build --root {}",
            prefix.display()
        );
        run_cmd(
            crate::tools::cargo()
                .args(["install", "--quiet", "--locked", "--path"])
                .arg(root().join("preload-build"))
                .arg("--root")
                .arg(&prefix)
                // Kept between runs: the release build of the tool itself.
                .env(
                    "CARGO_TARGET_DIR",
                    root().join("target/vm/cargo-install-target"),
                ),
        )?;
        Ok(prefix.join("bin"))
    })
}

/// `cargo bpf-preload ARGS` in `dir`, with the installed subcommand first on PATH and
/// the crate's target directory kept between runs (core and alloc take minutes to
/// build per flag set). Returns its output.
pub(super) fn subcommand(dir: &Path, args: &[&str]) -> Result<String> {
    let bin = installed_subcommand()?;
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin];
    paths.extend(std::env::split_paths(&path));
    let mut cmd = crate::tools::cargo();
    cmd.current_dir(dir)
        .arg("bpf-preload")
        .args(args)
        .env("PATH", std::env::join_paths(paths)?)
        .env(
            "CARGO_TARGET_DIR",
            root().join("target/vm/new-crate-target"),
        );
    let (ok, text) =
        crate::tools::combined_output(&mut cmd).context("running cargo bpf-preload")?;
    if !ok {
        bail!(
            "cargo bpf-preload {} failed in {}:\n{text}",
            args.join(" "),
            dir.display()
        );
    }
    Ok(text)
}

/// `cargo bpf-preload new my-guard --lsm` in a fresh temporary directory outside the
/// repository.
pub(super) fn new_crate() -> Result<PathBuf> {
    static CELL: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    once(&CELL, || {
        let parent = std::env::temp_dir().join(format!("bpf-preload-vm-{}", std::process::id()));
        ensure!(
            !parent.starts_with(root()),
            "the temporary directory {} is inside the repository",
            parent.display()
        );
        if parent.exists() {
            fs::remove_dir_all(&parent)?;
        }
        fs::create_dir_all(&parent)?;
        subcommand(&parent, &["new", PACKAGE, "--lsm"])?;
        Ok(parent.join(PACKAGE))
    })
}

/// `new-crate`: the crate's module for this kernel, by `cargo bpf-preload build`.
pub fn new_crate_module(kernel: &Kernel, work: &Path) -> Result<Prepared> {
    let dir = new_crate()?;
    let kdir = kernel.kdir.to_string_lossy().into_owned();
    let out = work.to_string_lossy().into_owned();
    subcommand(&dir, &["build", "--kdir", &kdir, "--out", &out])?;
    Ok(Prepared {
        files: [MODULE, RUNTIME]
            .map(|name| {
                (
                    work.join(format!("{name}.ko")),
                    format!("modules/{name}.ko"),
                )
            })
            .to_vec(),
        media: None,
        note: Some(format!(
            "built by the installed `cargo bpf-preload build` in {}",
            dir.display()
        )),
    })
}

/// The crate's DKMS trees, the runtime's and the object's, by `cargo bpf-preload dkms`
/// (the flag sets of every installed kernel's headers: Debian's 6.1 and 6.12), in
/// the directory this returns.
fn dkms_trees() -> Result<PathBuf> {
    static CELL: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    once(&CELL, || {
        // Not target/vm/dkms/: the scenario's own work directories are there.
        let tree = root().join("target/vm/dkms-trees");
        if tree.exists() {
            fs::remove_dir_all(&tree)?;
        }
        let out = subcommand(&new_crate()?, &["dkms", "--out", &tree.to_string_lossy()])?;
        print!(
            "{}",
            out.lines()
                .map(|l| format!("    {l}\n"))
                .collect::<String>()
        );
        Ok(tree)
    })
}

/// `dkms`: add, build and install the runtime's tree and then the object's for this
/// kernel in a private DKMS tree, with a PATH that has no cargo or rustc; the modules
/// DKMS installed.
pub fn dkms_module(kernel: &Kernel, work: &Path) -> Result<Prepared> {
    ensure_packages(&["dkms"], "the DKMS test")?;
    let trees = dkms_trees()?;
    if work.exists() {
        fs::remove_dir_all(work)?;
    }
    let (source, dkms, install) = (work.join("src"), work.join("dkms"), work.join("modules"));
    // dkms installs only for a kernel whose modules directory exists.
    for dir in [&source, &dkms, &install.join(&kernel.release)] {
        fs::create_dir_all(dir)?;
    }
    for entry in fs::read_dir(&trees)? {
        run_cmd(Command::new("cp").arg("-r").arg(entry?.path()).arg(&source))?;
    }
    // What a machine without Rust has.
    let path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for tool in ["cargo", "rustc"] {
        let found = std::env::split_paths(path).find(|d| d.join(tool).exists());
        ensure!(
            found.is_none(),
            "{tool} is in {}: the DKMS test needs a PATH without Rust",
            found.unwrap_or_default().display()
        );
    }
    let dkms_cmd = |action: &str, package: &str, version: &str| {
        let mut cmd = Command::new("dkms");
        cmd.arg(action)
            .args(["-m", package, "-v", version, "-k", &kernel.release])
            .arg("--kernelsourcedir")
            .arg(&kernel.kdir)
            .arg("--sourcetree")
            .arg(&source)
            .arg("--dkmstree")
            .arg(&dkms)
            .arg("--installtree")
            .arg(&install)
            .env_clear()
            .env("PATH", path)
            .env("HOME", work);
        cmd
    };
    // The workspace's version, which the runtime shares.
    let runtime_version = env!("CARGO_PKG_VERSION");
    let mut log = String::new();
    for (package, version) in [(RUNTIME_PACKAGE, runtime_version), (MODULE, VERSION)] {
        for action in ["add", "build", "install"] {
            let (ok, text) = crate::tools::combined_output(&mut dkms_cmd(action, package, version))
                .context("running dkms")?;
            log.push_str(&text);
            if !ok {
                let make_log = dkms.join(format!("{package}/{version}/build/make.log"));
                bail!(
                    "dkms {action} {package} failed:\n{text}\n{}",
                    fs::read_to_string(make_log).unwrap_or_default()
                );
            }
        }
    }
    let installed = install.join(&kernel.release).join("updates/dkms");
    let mut files = Vec::new();
    for name in [RUNTIME, MODULE] {
        let ko = installed.join(format!("{name}.ko"));
        let xz = installed.join(format!("{name}.ko.xz"));
        let module = if ko.exists() {
            ko
        } else if xz.exists() {
            // Debian's 6.12 compresses its modules, and DKMS does as the kernel does;
            // the busybox insmod of the test initramfs reads plain ones.
            let plain = work.join(format!("{name}.ko"));
            let data = Command::new("xz").arg("-dc").arg(&xz).output()?.stdout;
            fs::write(&plain, data)?;
            plain
        } else {
            bail!(
                "dkms install put no {name}.ko in {}:\n{log}",
                installed.display()
            );
        };
        files.push((module, format!("modules/dkms/{name}.ko")));
    }
    let signed = log.contains("Signing module");
    Ok(Prepared {
        files,
        media: None,
        note: Some(format!(
            "dkms add, build, install of {RUNTIME_PACKAGE} {runtime_version} and {MODULE} \
             {VERSION} with PATH={path} (no cargo, no rustc){}",
            if signed {
                "; DKMS signed them with its MOK key"
            } else {
                ""
            }
        )),
    })
}

/// The release of a stock kernel, as installed here (its package is
/// `linux-image-<release>`): Debian 12's own 6.1, or 6.12.
fn release_of(kernel: &Kernel) -> &str {
    &kernel.release
}

/// A Debian 12 root filesystem with systemd, initramfs-tools, busybox, the kernel
/// `release` and its headers, and DKMS, made by mmdebstrap from Debian's packages,
/// plus the test's own checks (an init-bottom script and a systemd unit); cached,
/// keyed by the list of packages.
pub(super) fn debian_root(release: &str) -> Result<PathBuf> {
    static CELL: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    once(&CELL, || {
        ensure_packages(
            &["mmdebstrap", "e2fsprogs", "initramfs-tools"],
            "the Debian root filesystem of the boot tests",
        )?;
        // DKMS, the kernel's headers and what DKMS builds with are for the `deb`
        // scenario, which installs the packages of `cargo bpf-preload deb` into a
        // copy of this tree.
        let packages = format!(
            "systemd-sysv,udev,kmod,initramfs-tools,busybox,linux-image-{release},\
             dkms,gcc,make,xz-utils,linux-headers-{release}"
        );
        let base = root().join("target/vm/debian-root");
        let tree = base.join("tree");
        let stamp = base.join("done");
        if fs::read_to_string(&stamp).ok().as_deref() != Some(packages.as_str()) {
            if tree.exists() {
                fs::remove_dir_all(&tree)?;
            }
            fs::create_dir_all(&base)?;
            println!("    mmdebstrap --variant=minbase --include={packages} bookworm (a few minutes, once)");
            run_cmd(
                Command::new("mmdebstrap")
                    .args(["--quiet", "--variant=minbase"])
                    .arg(format!("--include={packages}"))
                    .arg("bookworm")
                    .arg(&tree),
            )?;
            fs::write(&stamp, &packages)?;
        }
        put_checks(&tree)?;
        Ok(tree)
    })
}

/// The test's own checks in `tree`, refreshed every run: the init-bottom script of
/// `initramfs`, its init-top script that runs after udev's, and the systemd unit of
/// `modules-load`.
fn put_checks(tree: &Path) -> Result<()> {
    let put = |path: &str, text: &str, mode: u32| -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let to = tree.join(path);
        fs::create_dir_all(to.parent().context("a path has a directory")?)?;
        fs::write(&to, text)?;
        fs::set_permissions(&to, fs::Permissions::from_mode(mode))?;
        Ok(())
    };
    for (path, file, mode) in [
        (
            "etc/initramfs-tools/scripts/init-bottom/bpf-preload-check",
            "initramfs.sh",
            0o755,
        ),
        (
            "etc/initramfs-tools/scripts/init-top/bpf-preload-zz-before-udev",
            "lib/initramfs-udev.sh",
            0o755,
        ),
        (
            "etc/initramfs-tools/scripts/init-top/bpf-preload-zz-after-udev",
            "lib/initramfs-udev.sh",
            0o755,
        ),
        ("usr/local/sbin/bpf-preload-check", "modules-load.sh", 0o755),
        (
            "etc/systemd/system/bpf-preload-check.service",
            "modules-load.service",
            0o644,
        ),
    ] {
        let from = harness_dir().join(file);
        let text =
            fs::read_to_string(&from).with_context(|| format!("reading {}", from.display()))?;
        put(path, &text, mode)?;
    }
    // The serial console is the test's: a getty there hangs up the check's output.
    let getty = tree.join("etc/systemd/system/serial-getty@ttyS0.service");
    if fs::symlink_metadata(&getty).is_err() {
        std::os::unix::fs::symlink("/dev/null", &getty)?;
    }
    let wants = tree.join("etc/systemd/system/multi-user.target.wants");
    fs::create_dir_all(&wants)?;
    let link = wants.join("bpf-preload-check.service");
    if fs::symlink_metadata(&link).is_err() {
        std::os::unix::fs::symlink("/etc/systemd/system/bpf-preload-check.service", &link)?;
    }
    Ok(())
}

/// The Debian 12 tree with `kernel` in it: [`debian_root`] for its own kernel (6.1);
/// for another stock kernel (6.12), a copy of it (cached, keyed by the release) into
/// which `apt-get install linux-image-<release>` put that kernel from Debian's mirror.
fn tree_with(kernel: &Kernel) -> Result<PathBuf> {
    let base = super::chroot::tree_kernel()?;
    let source = debian_root(&base.release)?;
    if kernel.release == base.release {
        return Ok(source);
    }
    let dir = root().join(format!("target/vm/debian-root-{}", kernel.release));
    let (tree, stamp, log) = (dir.join("tree"), dir.join("done"), dir.join("apt.log"));
    if !stamp.exists() {
        let _ = fs::remove_file(&log);
        println!(
            "    a copy of the Debian 12 tree with apt-get install linux-image-{} (once)",
            kernel.release
        );
        // Without the test's module: the copy gets its own install.
        copy_without_module(&source, &tree)?;
        super::chroot::chroot(&tree, &["apt-get", "-q", "update"], &log)?;
        super::chroot::apt_install(&tree, &[&format!("linux-image-{}", kernel.release)], &log)?;
        fs::write(&stamp, &kernel.release)?;
    }
    put_checks(&tree)?;
    Ok(tree)
}

/// A fresh copy of the Debian 12 tree `source` at `tree` (its directory made if
/// needed), without the module that the boot tests install into `source` with
/// `cargo bpf-preload install --root` and leave there.
pub(super) fn copy_without_module(source: &Path, tree: &Path) -> Result<()> {
    if tree.exists() {
        fs::remove_dir_all(tree)?;
    }
    fs::create_dir_all(tree.parent().context("a tree has a directory")?)?;
    run_cmd(
        Command::new("cp")
            .args(["-a", "--reflink=auto"])
            .arg(source)
            .arg(tree),
    )?;
    subcommand(
        &new_crate()?,
        &["uninstall", "--root", &tree.to_string_lossy()],
    )?;
    Ok(())
}

/// A raw ext4 image of `tree`, for /dev/vda.
fn disk_image(tree: &Path, image: &Path) -> Result<()> {
    if image.exists() {
        fs::remove_file(image)?;
    }
    fs::create_dir_all(image.parent().context("an image has a directory")?)?;
    run_cmd(
        Command::new("mke2fs")
            .args(["-q", "-F", "-t", "ext4", "-L", "root", "-d"])
            .arg(tree)
            .arg(image)
            .arg("3G"),
    )
    .context("mke2fs (`apt-get install e2fsprogs`)")
}

/// The tree's kernel, initramfs and (made here) root disk, booted on `cmdline`.
pub(super) fn media(tree: &Path, release: &str, work: &Path, cmdline: &str) -> Result<Media> {
    let initrd = work.join("initrd.img");
    fs::copy(tree.join(format!("boot/initrd.img-{release}")), &initrd)
        .with_context(|| format!("the tree has no initrd.img-{release}"))?;
    let disk = work.join("root.img");
    disk_image(tree, &disk)?;
    Ok(Media {
        kernel: Some(tree.join(format!("boot/vmlinuz-{release}"))),
        initrd,
        disk: Some(disk),
        cmdline: format!("root=/dev/vda console=ttyS0 panic=-1 loglevel=4 {cmdline}"),
    })
}

/// Checks on the host of what `install` wrote into the tree.
fn check_installed(tree: &Path, release: &str, initramfs: bool) -> Result<()> {
    let ko = tree.join(format!("lib/modules/{release}/updates/{MODULE}.ko"));
    ensure!(ko.exists(), "install wrote no {}", ko.display());
    let dep = fs::read_to_string(tree.join(format!("lib/modules/{release}/modules.dep")))?;
    ensure!(
        dep.lines()
            .any(|l| l.starts_with(&format!("updates/{MODULE}.ko:"))),
        "depmod did not index updates/{MODULE}.ko"
    );
    let conf = fs::read_to_string(tree.join(format!("etc/modules-load.d/{MODULE}.conf")))
        .context("install wrote no modules-load.d file")?;
    ensure!(
        conf.lines().any(|l| l.trim() == MODULE),
        "modules-load.d/{MODULE}.conf does not name {MODULE}: {conf:?}"
    );
    let list = fs::read_to_string(tree.join("etc/initramfs-tools/modules")).unwrap_or_default();
    ensure!(
        !list
            .lines()
            .any(|l| l.trim() == MODULE || l.trim() == RUNTIME),
        "/etc/initramfs-tools/modules lists {MODULE} or {RUNTIME}: the init-top script loads it"
    );
    for (path, text) in bpf_preload_build::install::initramfs_files(MODULE) {
        let file = tree.join(path.trim_start_matches('/'));
        ensure!(
            file.exists() == initramfs,
            "{} {}",
            file.display(),
            if initramfs {
                "was not written"
            } else {
                "was written without --initramfs"
            }
        );
        if initramfs {
            use std::os::unix::fs::PermissionsExt;
            ensure!(
                fs::read_to_string(&file)? == text
                    && fs::metadata(&file)?.permissions().mode() & 0o111 != 0,
                "{} is not the executable script install writes",
                file.display()
            );
        }
    }
    // No hand copy: the hook names the object module alone, and initramfs-tools
    // follows modules.dep to the runtime.
    let [(hook, text), _] = bpf_preload_build::install::initramfs_files(MODULE);
    ensure!(
        !text
            .lines()
            .any(|l| !l.trim_start().starts_with('#') && l.contains(RUNTIME)),
        "{hook} names {RUNTIME}: it must come in as a dependency"
    );
    Ok(())
}

/// `modules-load`: `install --root <tree>` (no initramfs), then boot the tree with
/// systemd; the unit of the test reports what systemd-modules-load did.
pub fn modules_load_boot(kernel: &Kernel, work: &Path) -> Result<Prepared> {
    let release = release_of(kernel);
    let tree = debian_root(release)?;
    let krate = new_crate()?;
    let root_arg = tree.to_string_lossy().into_owned();
    subcommand(&krate, &["uninstall", "--root", &root_arg])?;
    let out = subcommand(&krate, &["install", "--root", &root_arg])?;
    check_installed(&tree, release, false)?;
    fs::create_dir_all(work)?;
    fs::write(work.join("install.log"), &out)?;
    Ok(Prepared {
        files: Vec::new(),
        media: Some(media(&tree, release, work, "rw")?),
        note: Some(
            "`cargo bpf-preload install --root` wrote updates/my_guard.ko (indexed by depmod) \
             and modules-load.d/my_guard.conf"
                .into(),
        ),
    })
}

/// `initramfs`: `install --initramfs --root <tree>` (update-initramfs inside the
/// tree: Debian's mkinitramfs, running the hook that adds the module with the
/// modules it depends on), the initramfs checked with lsinitramfs (both modules, the
/// init-top script before udev's), then `uninstall` checked, down to an initramfs
/// without the module; the boot's init-bottom script reports and powers off.
pub fn initramfs_boot(kernel: &Kernel, work: &Path) -> Result<Prepared> {
    let release = release_of(kernel);
    let tree = tree_with(kernel)?;
    let krate = new_crate()?;
    let root_arg = tree.to_string_lossy().into_owned();
    let kdir = kernel.kdir.to_string_lossy().into_owned();
    subcommand(&krate, &["uninstall", "--root", &root_arg])?;
    let out = subcommand(
        &krate,
        &[
            "install",
            "--initramfs",
            "--root",
            &root_arg,
            "--kdir",
            &kdir,
        ],
    )?;
    ensure!(
        out.contains("update-initramfs -u"),
        "install --initramfs did not run update-initramfs:\n{out}"
    );
    check_installed(&tree, release, true)?;
    fs::create_dir_all(work)?;
    fs::write(work.join("install.log"), &out)?;
    let media = media(&tree, release, work, "ro bpf_preload_check=initramfs")?;
    let listing = crate::tools::output(Command::new("lsinitramfs").arg(&media.initrd))?;
    fs::write(work.join("lsinitramfs.txt"), &listing)?;
    let script = bpf_preload_build::install::initramfs_script(MODULE);
    let has = |suffix: &str| {
        listing.lines().any(|l| {
            l.ends_with(suffix)
                || l.ends_with(&format!("{suffix}.xz"))
                || l.ends_with(&format!("{suffix}.zst"))
        })
    };
    for wanted in [
        format!("/updates/{MODULE}.ko"),
        format!("/{RUNTIME}.ko"),
        format!("scripts/init-top/{script}"),
        "scripts/init-top/udev".to_string(),
        "scripts/init-top/ORDER".to_string(),
        "scripts/init-bottom/bpf-preload-check".to_string(),
    ] {
        ensure!(
            has(&wanted),
            "the initramfs made by mkinitramfs has no {wanted} (lsinitramfs: {})",
            work.join("lsinitramfs.txt").display()
        );
    }
    // And uninstall undoes all of it, the initramfs included.
    let out = subcommand(&krate, &["uninstall", "--root", &root_arg])?;
    fs::write(work.join("uninstall.log"), &out)?;
    let mut left: Vec<String> = vec![
        format!("lib/modules/{release}/updates/{MODULE}.ko"),
        format!("etc/modules-load.d/{MODULE}.conf"),
    ];
    left.extend(
        bpf_preload_build::install::initramfs_files(MODULE)
            .map(|(path, _)| path.trim_start_matches('/').to_string()),
    );
    for left in left {
        ensure!(!tree.join(&left).exists(), "uninstall left {left}");
    }
    check_installed_nothing(&tree)?;
    let after = crate::tools::output(
        Command::new("lsinitramfs").arg(tree.join(format!("boot/initrd.img-{release}"))),
    )?;
    ensure!(
        !after
            .lines()
            .any(|l| l.contains(&format!("/{MODULE}.ko")) || l.ends_with(&script)),
        "after uninstall, the tree's initrd.img-{release} still has {MODULE} or its script"
    );
    Ok(Prepared {
        files: Vec::new(),
        media: Some(media),
        note: Some(format!(
            "lsinitramfs: {MODULE}.ko and {RUNTIME}.ko (by modules.dep: the hook names only \
             {MODULE}), init-top/{script}, udev and the checks are in Debian's initramfs; \
             uninstall then removed the module, modules-load.d, the hook and the script, and \
             rebuilt an initramfs without them"
        )),
    })
}

/// That no line of `/etc/initramfs-tools/modules` is ours.
fn check_installed_nothing(tree: &Path) -> Result<()> {
    let list = fs::read_to_string(tree.join("etc/initramfs-tools/modules")).unwrap_or_default();
    ensure!(
        !list
            .lines()
            .any(|l| l.trim() == MODULE || l.contains("cargo bpf-preload")),
        "uninstall left {MODULE} in /etc/initramfs-tools/modules"
    );
    Ok(())
}
