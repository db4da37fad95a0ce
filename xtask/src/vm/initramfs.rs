//! The busybox initramfs of a boot: a newc cpio archive written directly, with
//! `tests/vm/init.sh` as /init, the prelude, the scenario, and the run's files.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::harness_file;
use super::Run;
use crate::tools::run as run_cmd;

/// Busybox, statically linked, for the initramfs.
const BUSYBOX: &str = "/bin/busybox";

/// Whether the busybox the initramfs gets is statically linked (it runs alone there).
pub fn check_busybox() -> Result<()> {
    let static_busybox = Command::new("file")
        .arg(BUSYBOX)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("statically linked"))
        .unwrap_or(true);
    if !static_busybox {
        bail!("{BUSYBOX} is not statically linked: `apt-get install busybox-static`");
    }
    Ok(())
}

/// A newc cpio archive (what the kernel unpacks as initramfs), written directly.
struct Cpio {
    out: Vec<u8>,
    ino: u32,
}

impl Cpio {
    fn new() -> Self {
        Self {
            out: Vec::new(),
            ino: 1,
        }
    }

    fn entry(&mut self, name: &str, mode: u32, rdev: (u32, u32), data: &[u8]) {
        let name = name.trim_start_matches('/');
        let fields = [
            self.ino,
            mode,
            0,
            0,
            1,
            0,
            data.len() as u32,
            0,
            0,
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0,
        ];
        self.ino += 1;
        self.out.extend_from_slice(b"070701");
        for f in fields {
            self.out.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad();
        self.out.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }

    fn dir(&mut self, name: &str) {
        self.entry(name, 0o040755, (0, 0), &[]);
    }

    fn symlink(&mut self, name: &str, target: &str) {
        self.entry(name, 0o120777, (0, 0), target.as_bytes());
    }

    fn file(&mut self, name: &str, executable: bool, data: &[u8]) {
        let mode = if executable { 0o100755 } else { 0o100644 };
        self.entry(name, mode, (0, 0), data);
    }

    fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, (0, 0), &[]);
        self.out
    }
}

/// The initramfs of `run`: busybox, /init, the prelude, the script, the kernel's
/// configuration and the run's files (modules under `lib/modules/` indexed by depmod).
pub fn initramfs(run: &Run, work: &Path) -> Result<Vec<u8>> {
    let mut cpio = Cpio::new();
    let mut dirs = vec![];
    for dir in ["bin", "dev", "proc", "sys", "tmp", "mnt", "modules"] {
        cpio.dir(dir);
        dirs.push(dir.to_string());
    }
    // The console for init's output, before devtmpfs is mounted.
    cpio.entry("dev/console", 0o020600, (5, 1), &[]);
    cpio.file("bin/busybox", true, &fs::read(BUSYBOX)?);
    let profile = if run.kernel.is_preload() {
        "preload"
    } else {
        "stock"
    };
    cpio.file("init", true, harness_file("init.sh")?.as_bytes());
    cpio.file("prelude.sh", false, harness_file("prelude.sh")?.as_bytes());
    // SANITIZER=1: the preload-sanitizer kernel, whose kmemleak init.sh consults.
    let env = format!(
        "SCENARIO={}\nPROFILE={profile}\nSANITIZER={}\n",
        run.label,
        u8::from(run.kernel.sanitizer)
    );
    cpio.file("scenario.env", false, env.as_bytes());
    cpio.file("scenario.sh", false, run.script.as_bytes());
    // The configuration of the kernel booted, for scenarios that check what a module
    // read of it (Kconfig externs).
    let config = run.kernel.kdir.join(".config");
    if config.exists() {
        cpio.file("kernel.config", false, &fs::read(&config)?);
    }
    let mut files = run.files.clone();
    let modules = format!("lib/modules/{}/", run.kernel.release);
    if files.iter().any(|(_, dest)| dest.starts_with(&modules)) {
        // The kernel runs /sbin/modprobe for request_module(), even before /init
        // (its own bpffs mount); busybox's reads depmod's modules.dep.
        cpio.dir("sbin");
        cpio.symlink("sbin/modprobe", "/bin/busybox");
        files.extend(depmod(run, work, &modules)?);
    }
    for (src, dest) in &files {
        let dest = dest.trim_start_matches('/');
        let mut parent = String::new();
        for part in dest
            .split('/')
            .rev()
            .skip(1)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            parent = if parent.is_empty() {
                part.to_string()
            } else {
                format!("{parent}/{part}")
            };
            if !dirs.contains(&parent) {
                cpio.dir(&parent);
                dirs.push(parent.clone());
            }
        }
        let data = fs::read(src).with_context(|| format!("reading {}", src.display()))?;
        cpio.file(dest, true, &data);
    }
    Ok(cpio.finish())
}

/// `depmod` over the run's modules under `modules` (`lib/modules/<release>/`): its
/// index files, as more files for the initramfs.
fn depmod(run: &Run, work: &Path, modules: &str) -> Result<Vec<(PathBuf, String)>> {
    let staging = work.join(format!("depmod-{}-{}", run.label, run.kernel.release));
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    for (src, dest) in run.files.iter().filter(|(_, d)| d.starts_with(modules)) {
        let to = staging.join(dest);
        fs::create_dir_all(to.parent().context("a module path has a parent")?)?;
        fs::copy(src, &to)?;
    }
    // What a kernel's `modules_install` writes too; depmod warns without them.
    for index in [
        "modules.order",
        "modules.builtin",
        "modules.builtin.modinfo",
    ] {
        fs::write(staging.join(modules).join(index), "")?;
    }
    run_cmd(
        Command::new("depmod")
            .arg("-b")
            .arg(&staging)
            .arg(&run.kernel.release),
    )
    .context("depmod (`apt-get install kmod`)")?;
    let mut index = Vec::new();
    for entry in fs::read_dir(staging.join(modules))? {
        let path = entry?.path();
        if path.is_file() {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            index.push((path.clone(), format!("{modules}{name}")));
        }
    }
    Ok(index)
}
