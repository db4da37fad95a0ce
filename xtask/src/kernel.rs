//! `cargo xtask kernel`: the preload kernel. Debian's `linux-source-6.12` with the
//! series in `kernel/patches/` applied, configured from `make tinyconfig` plus the
//! fragment `kernel/config`, built (bzImage, and modules so that the tree has a
//! `Module.symvers` and can build external modules with `make -C <kdir> M=<dir>`).
//! `--sanitizer` builds its [`Variant::Sanitizer`], the same tree with
//! `kernel/config-sanitizer` merged on top (KASAN, kmemleak, lockdep, UBSAN, fault
//! injection).
//!
//! The build is cached under `target/kernel/<key>/`, where the key hashes the source
//! package's version, the patches and the fragments (and the recipe below): a `done`
//! marker is written last, so a second run finds it and returns at once.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::Write as _;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::setup::{ensure_packages, root};
use crate::tools::{combined_output, output};

/// The Debian package with the kernel source, and the tarball it installs.
const SOURCE_PACKAGE: &str = "linux-source-6.12";
const SOURCE_TARBALL: &str = "/usr/src/linux-source-6.12.tar.xz";
/// The directory the tarball unpacks to.
const SOURCE_DIR: &str = "linux-source-6.12";
/// What building needs (besides the source): compiler and make, the kernel's own
/// build tools, pahole for BTF, openssl for the module signing key.
const BUILD_PACKAGES: &[&str] = &[
    SOURCE_PACKAGE,
    "build-essential",
    "bc",
    "bison",
    "flex",
    "libelf-dev",
    "libssl-dev",
    "openssl",
    "dwarves",
    "cpio",
    "xz-utils",
    "patch",
];
/// Part of the cache key: bump it when the steps below change what they produce.
const RECIPE: &str = "tinyconfig + kernel/config, olddefconfig, bzImage modules; v1";

/// Which build of the preload kernel: the fragments merged over `tinyconfig`, in order
/// (a later one overrides an earlier one's values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// `kernel/config`: the preload kernel the scenarios and the demo boot.
    Preload,
    /// `kernel/config` + `kernel/config-sanitizer`: the same kernel with its checkers
    /// on, slower to build and to boot, for `vm-test --kernel preload-sanitizer`.
    Sanitizer,
}

impl Variant {
    /// Its name everywhere: `--kernel <name>`, messages, the `variant` file of its
    /// cache directory.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Preload => "preload",
            Variant::Sanitizer => "preload-sanitizer",
        }
    }

    /// The fragments, relative to the repository, merged in this order.
    fn fragments(self) -> &'static [&'static str] {
        match self {
            Variant::Preload => &["kernel/config"],
            Variant::Sanitizer => &["kernel/config", "kernel/config-sanitizer"],
        }
    }
}

/// The preload kernel as built: its tree, its image, and the key its build generated,
/// which the kernel trusts for module signatures.
#[derive(Debug, Clone)]
pub struct Built {
    /// `make kernelrelease`.
    pub release: String,
    /// The bzImage.
    pub image: PathBuf,
    /// The build tree, which builds external modules.
    pub kdir: PathBuf,
    /// The module signing key and its certificate.
    pub key: PathBuf,
    pub cert: PathBuf,
    pub variant: Variant,
}

impl Built {
    /// The built tree at `kdir`.
    fn at(kdir: PathBuf, release: String, variant: Variant) -> Self {
        Built {
            variant,
            image: kdir.join("arch/x86/boot/bzImage"),
            key: kdir.join("certs/signing_key.pem"),
            cert: kdir.join("certs/signing_key.x509"),
            kdir,
            release,
        }
    }
}

/// `cargo xtask kernel [--sanitizer] [--out DIR]`: builds the preload kernel (or finds
/// it cached) and says where it is.
pub fn run(variant: Variant, out: Option<&Path>) -> Result<Built> {
    let started = Instant::now();
    let (kernel, cached) = ensure(variant, out)?;
    let how = if cached { "cached" } else { "built" };
    println!(
        "==> {} kernel {} ({how}, {:.1?})",
        kernel.variant.name(),
        kernel.release,
        started.elapsed()
    );
    println!("bzImage:      {}", kernel.image.display());
    println!("kdir:         {}", kernel.kdir.display());
    println!("release:      {}", kernel.release);
    println!("signing key:  {}", kernel.key.display());
    println!("signing cert: {}", kernel.cert.display());
    Ok(kernel)
}

/// The preload kernel (`variant` of it), built unless the cache has it; true if it was
/// cached. `out` is the cache directory (default: `target/kernel`).
pub fn ensure(variant: Variant, out: Option<&Path>) -> Result<(Built, bool)> {
    ensure_packages(BUILD_PACKAGES, "building the preload kernel")?;
    let out = out.map_or_else(|| root().join("target/kernel"), Path::to_path_buf);
    fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let out = out.canonicalize()?;

    let version = source_version()?;
    let patches = patches()?;
    let fragments: Vec<PathBuf> = variant.fragments().iter().map(|f| root().join(f)).collect();
    let key = cache_key(&version, &patches, &fragments)?;
    let dir = out.join(&key);
    let kdir = dir.join(SOURCE_DIR);
    let done = dir.join("done");

    // One build per key at a time; a second caller waits, then finds it done.
    let _lock = lock(&out.join(format!("{key}.lock")))?;
    if let Ok(release) = fs::read_to_string(&done) {
        return Ok((Built::at(kdir, release.trim().to_string(), variant), true));
    }

    eprintln!(
        "==> building the {} kernel: {SOURCE_PACKAGE} {version}, {} patches, key {key}",
        variant.name(),
        patches.len()
    );
    eprintln!("    in {}", dir.display());
    if dir.exists() {
        fs::remove_dir_all(&dir)
            .with_context(|| format!("cannot remove the unfinished {}", dir.display()))?;
    }
    fs::create_dir_all(&dir)?;
    // Which variant this key is, so that pruning spares the other variant's build.
    fs::write(dir.join("variant"), variant.name())?;
    let log = dir.join("build.log");

    step("unpacking", || {
        command(
            Command::new("tar")
                .arg("-xf")
                .arg(SOURCE_TARBALL)
                .arg("-C")
                .arg(&dir),
        )
    })?;
    step("applying the patches", || apply(&kdir, &patches, &version))?;
    step(
        &format!(
            "configuring (tinyconfig + {})",
            variant.fragments().join(" + ")
        ),
        || configure(&kdir, &fragments, &log),
    )?;
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    step(
        &format!("building bzImage and modules with -j{jobs}"),
        || {
            logged(
                Command::new("make")
                    .current_dir(&kdir)
                    .arg(format!("-j{jobs}"))
                    .args(["bzImage", "modules"]),
                &log,
            )
        },
    )?;
    let release = make_output(&kdir, "kernelrelease")?;
    let kernel = Built::at(kdir, release, variant);
    for path in [&kernel.image, &kernel.key, &kernel.cert] {
        if !path.is_file() {
            bail!("the build did not produce {}", path.display());
        }
    }
    fs::write(&done, format!("{}\n", kernel.release))?;
    prune(&out, &key, variant);
    Ok((kernel, false))
}

/// Runs one step of the build, saying what it does and how long it took.
pub(crate) fn step(what: &str, f: impl FnOnce() -> Result<()>) -> Result<()> {
    let started = Instant::now();
    eprintln!("==> {what}");
    f()?;
    eprintln!("    {what}: {:.1?}", started.elapsed());
    Ok(())
}

/// The version of the installed source package, e.g. `6.12.118-1~deb12u1`.
fn source_version() -> Result<String> {
    let version = output(Command::new("dpkg-query").args(["-W", "-f=${Version}", SOURCE_PACKAGE]))
        .unwrap_or_default();
    if version.trim().is_empty() {
        bail!("{SOURCE_PACKAGE} is not installed");
    }
    Ok(version.trim().to_string())
}

/// The series' cover letter: text only, neither applied nor part of the cache key.
const COVER_LETTER: &str = "0000-cover-letter.patch";

/// `kernel/patches/*.patch` but the cover letter, in order.
fn patches() -> Result<Vec<PathBuf>> {
    let dir = root().join("kernel/patches");
    let mut patches = Vec::new();
    for entry in fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "patch")
            && path.file_name().is_some_and(|n| n != COVER_LETTER)
        {
            patches.push(path);
        }
    }
    if patches.is_empty() {
        bail!("no patches in {}", dir.display());
    }
    patches.sort();
    Ok(patches)
}

/// The first 16 hex digits of a SHA-256 over everything the build depends on.
fn cache_key(version: &str, patches: &[PathBuf], fragments: &[PathBuf]) -> Result<String> {
    let mut input = Vec::new();
    let mut add = |name: &str, bytes: &[u8]| {
        write!(input, "{name}\0{}\0", bytes.len()).expect("writing to a Vec");
        input.extend_from_slice(bytes);
    };
    add("recipe", RECIPE.as_bytes());
    add("source", version.as_bytes());
    for patch in patches {
        let name = patch.file_name().unwrap_or_default().to_string_lossy();
        let bytes = fs::read(patch).with_context(|| format!("cannot read {}", patch.display()))?;
        add(&name, &bytes);
    }
    // The first fragment as `config`, as before there were variants: the preload
    // kernel keeps its key. The others by file name.
    for (i, fragment) in fragments.iter().enumerate() {
        let config =
            fs::read(fragment).with_context(|| format!("cannot read {}", fragment.display()))?;
        let name = fragment.file_name().unwrap_or_default().to_string_lossy();
        add(if i == 0 { "config" } else { &name }, &config);
    }

    let mut sha = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run sha256sum")?;
    sha.stdin
        .take()
        .context("sha256sum has a stdin")?
        .write_all(&input)?;
    let out = sha.wait_with_output()?;
    if !out.status.success() {
        bail!("sha256sum failed: {}", out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout)[..16].to_string())
}

/// Applies the series with `patch`, without fuzz (as `git apply`), checking each patch
/// first, so that a patch that does not apply is named and nothing of it is applied.
fn apply(kdir: &Path, patches: &[PathBuf], version: &str) -> Result<()> {
    for patch in patches {
        let name = patch.file_name().unwrap_or_default().to_string_lossy();
        for dry_run in [true, false] {
            let mut cmd = Command::new("patch");
            cmd.current_dir(kdir)
                // No fuzz: a patch whose context changed must not apply somewhere else.
                .args(["-p1", "--forward", "--batch", "--fuzz=0"])
                .arg("--no-backup-if-mismatch")
                .arg("-i")
                .arg(patch);
            if dry_run {
                cmd.arg("--dry-run");
            }
            let (ok, text) = combined_output(&mut cmd).context("cannot run patch")?;
            if !ok {
                bail!("{name} does not apply to {SOURCE_PACKAGE} {version}:\n{text}");
            }
        }
        eprintln!("    applied {name}");
    }
    Ok(())
}

/// `make tinyconfig`, the fragments merged in, `make olddefconfig`; then checks that every
/// value the fragments ask for (the last one's, where two ask for a symbol) survived:
/// Kconfig silently drops a value whose dependencies are not met.
fn configure(kdir: &Path, fragments: &[PathBuf], log: &Path) -> Result<()> {
    logged(
        Command::new("make").current_dir(kdir).arg("tinyconfig"),
        log,
    )?;
    logged(
        Command::new("scripts/kconfig/merge_config.sh")
            .current_dir(kdir)
            .args(["-m", ".config"])
            .args(fragments),
        log,
    )?;
    logged(
        Command::new("make").current_dir(kdir).arg("olddefconfig"),
        log,
    )?;

    // symbol -> (the fragment's line, the fragment), the last fragment's winning.
    let mut wanted: Vec<(String, String, &Path)> = Vec::new();
    for fragment in fragments {
        let text = fs::read_to_string(fragment)
            .with_context(|| format!("cannot read {}", fragment.display()))?;
        for line in text.lines().map(str::trim) {
            let symbol = if let Some(rest) = line.strip_prefix("# ") {
                match rest.strip_suffix(" is not set") {
                    Some(symbol) if symbol.starts_with("CONFIG_") => symbol,
                    _ => continue,
                }
            } else if line.starts_with("CONFIG_") {
                line.split('=').next().unwrap_or(line)
            } else {
                continue;
            };
            wanted.retain(|(s, _, _)| s != symbol);
            wanted.push((symbol.to_string(), line.to_string(), fragment));
        }
    }
    let config = fs::read_to_string(kdir.join(".config"))?;
    let mut lost = String::new();
    for (symbol, line, fragment) in &wanted {
        let got = config
            .lines()
            .find(|l| l.starts_with(&format!("{symbol}=")));
        let ok = if line.starts_with('#') {
            got.is_none()
        } else {
            got == Some(line.as_str())
        };
        if !ok {
            let name = fragment.file_name().unwrap_or_default().to_string_lossy();
            let got = got.unwrap_or("not set");
            writeln!(lost, "  {line} ({name}; olddefconfig chose: {got})")?;
        }
    }
    if !lost.is_empty() {
        bail!(
            "the fragments ask for values the configuration does not have; their \
             dependencies are missing from it:\n{lost}"
        );
    }
    Ok(())
}

/// Runs a command that must succeed, failing with its stderr if it does not.
pub(crate) fn command(cmd: &mut Command) -> Result<()> {
    output(cmd).map(drop)
}

/// Runs a command with its output appended to the build log; on failure, shows the end
/// of the log.
pub(crate) fn logged(cmd: &mut Command, log: &Path) -> Result<()> {
    let file = File::options()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("cannot open {}", log.display()))?;
    let status = cmd
        .stdout(file.try_clone()?)
        .stderr(file)
        .status()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !status.success() {
        let text = fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        bail!(
            "{cmd:?} failed ({status}); the end of {}:\n{tail}",
            log.display()
        );
    }
    Ok(())
}

/// `make -s <target>`'s output, e.g. the kernel release.
fn make_output(kdir: &Path, target: &str) -> Result<String> {
    Ok(
        output(Command::new("make").current_dir(kdir).args(["-s", target]))?
            .trim()
            .to_string(),
    )
}

/// An exclusive lock on `path`, held until the file is dropped.
fn lock(path: &Path) -> Result<File> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    // SAFETY: flock on a file descriptor we own.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        eprintln!("==> waiting for another build of this kernel to finish");
        // SAFETY: as above.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            bail!(
                "cannot lock {}: {}",
                path.display(),
                std::io::Error::last_os_error()
            );
        }
    }
    Ok(file)
}

/// Removes the cache entries of other keys of the same variant (older patches or
/// configs) that nobody is using: each is about a gigabyte. The other variant's current
/// build stays. A directory without a `variant` file predates variants: the preload
/// kernel's.
fn prune(out: &Path, keep: &str, variant: Variant) {
    let Ok(entries) = fs::read_dir(out) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_key = name.len() == 16 && name.bytes().all(|b| b.is_ascii_hexdigit());
        if !is_key || name == keep || !entry.path().is_dir() {
            continue;
        }
        let its_variant = fs::read_to_string(entry.path().join("variant"))
            .unwrap_or_else(|_| Variant::Preload.name().to_string());
        if its_variant.trim() != variant.name() {
            continue;
        }
        let lock_path = out.join(format!("{name}.lock"));
        let Ok(file) = File::create(&lock_path) else {
            continue;
        };
        // SAFETY: flock on a file descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            continue;
        }
        eprintln!(
            "==> removing the stale kernel build {}",
            entry.path().display()
        );
        if fs::remove_dir_all(entry.path()).is_ok() {
            let _ = fs::remove_file(&lock_path);
        }
    }
}
