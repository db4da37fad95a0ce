//! Building a crate into a kernel module:
//!
//! 1. a wrapper staticlib crate, `<target>/bpf-preload/<name>/crate/`, whose whole
//!    source is `bpf_preload::kernel_module!(<crate>::<Type>);`, depending on the user's
//!    crate and on exactly the `bpf-preload` it resolves to, with the kernel backend;
//! 2. built for `x86_64-unknown-none` with `-Zbuild-std=core,alloc` and the flags of the
//!    kernel's configuration ([`Codegen`]);
//! 3. the crate's own object taken out of the archive (not compiler_builtins), checked
//!    for symbols neither the shim nor the kernel provides and for GOT relocations;
//! 4. linked with the generic C shim by the kernel's Kbuild, checked again, signed if
//!    asked; and described, by the runtime's own reading of the table.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};

use crate::kernel::{Codegen, KernelTree};
use crate::package::Crate;
use crate::tools::{self, cargo, fill, output, write_if_changed};

/// Every Rust target this builds for: the kernel's own choice for x86 Rust code.
pub const TARGET: &str = "x86_64-unknown-none";

/// The generic C shim, its contract and Kbuild: the same for every module.
pub(crate) const SHIM_C: &str = include_str!("../../preload-runtime/kernel/shim.c");
pub(crate) const SHIM_H: &str = include_str!("../../preload-runtime/kernel/shim.h");
pub(crate) const KBUILD: &str = include_str!("../../preload-runtime/kernel/Kbuild");

const WRAPPER_TOML: &str = include_str!("../templates/module/wrapper.toml");
const WRAPPER_RS: &str = include_str!("../templates/module/wrapper.rs");
const DESCRIBE_TOML: &str = include_str!("../templates/module/describe.toml");
const DESCRIBE_RS: &str = include_str!("../templates/module/describe.rs");

/// How to build a module.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Directory for `<name>.ko` (default: `<target>/bpf-preload/<release>/`, with
    /// `unloadable/` for unloadable modules).
    pub out: Option<PathBuf>,
    /// Private key and certificate for the kernel's `scripts/sign-file`.
    pub sign: Option<(PathBuf, PathBuf)>,
    /// Give the module an exit function, so that rmmod detaches and frees everything.
    pub unloadable: bool,
    /// Show cargo's and make's progress.
    pub verbose: bool,
}

/// A built module.
#[derive(Debug, Clone)]
pub struct Module {
    /// The `.ko`.
    pub ko: PathBuf,
    /// The module's name (the object's).
    pub name: String,
    /// The kernel it was built for.
    pub release: String,
    /// The subject of the certificate it was signed with.
    pub signer: Option<String>,
}

/// The Rust part of a module for one flag set: the crate's own object out of the
/// static library, checked.
#[derive(Debug, Clone)]
pub struct RustObject {
    /// The object file.
    pub path: PathBuf,
    /// The flags it was built with.
    pub codegen: Codegen,
}

/// Missing tools, each with the command that installs it.
pub fn check_prerequisites(kernel: &KernelTree) -> Result<()> {
    let mut missing = Vec::new();
    let cc = if kernel.has("CONFIG_CC_IS_CLANG") {
        ("clang", "apt-get install clang lld llvm")
    } else {
        ("gcc", "apt-get install gcc")
    };
    for (tool, fix) in [
        ("make", "apt-get install make"),
        cc,
        ("ld", "apt-get install binutils"),
        ("ar", "apt-get install binutils"),
        ("nm", "apt-get install binutils"),
        ("readelf", "apt-get install binutils"),
        ("objcopy", "apt-get install binutils"),
    ] {
        if !tools::on_path(tool) {
            missing.push(format!("  {tool}: `{fix}`"));
        }
    }
    if !has_rust_src() {
        missing.push(
            "  the Rust standard library's source (to build core and alloc for the kernel): \
             `rustup component add rust-src`"
                .into(),
        );
    }
    if !kernel.dir.join("Module.symvers").exists() {
        missing.push(format!(
            "  {}/Module.symvers: these are not complete headers for building modules; \
             install linux-headers-{}",
            kernel.dir.display(),
            kernel.release
        ));
    }
    if !missing.is_empty() {
        bail!(
            "building a module needs what is missing here:\n{}",
            missing.join("\n")
        );
    }
    Ok(())
}

/// Whether the active toolchain has the `rust-src` component (for `-Zbuild-std`).
pub fn has_rust_src() -> bool {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .is_ok_and(|o| {
            Path::new(String::from_utf8_lossy(&o.stdout).trim())
                .join("lib/rustlib/src/rust/library/core/Cargo.toml")
                .exists()
        })
}

/// Where the generated crates and Kbuild directories of module `name` go.
fn module_dir(krate: &Crate) -> PathBuf {
    krate.work_dir().join(&krate.preloaded.name)
}

/// One cargo target directory for every module and kernel of the workspace: cargo
/// keeps artifacts built with different flags apart, so core and alloc are built
/// once per flag set and the proc macro (and its syn and object) once for all.
fn cargo_target_dir(krate: &Crate) -> PathBuf {
    krate.work_dir().join("cargo")
}

/// Writes the wrapper crate and the describing program.
fn generate(krate: &Crate) -> Result<PathBuf> {
    let dir = module_dir(krate);
    let name = &krate.preloaded.name;
    let package_dependency = krate.dependency();
    let toml = |template: &str, runtime: &str| {
        fill(
            template,
            &[
                ("NAME", name),
                ("PACKAGE", &krate.package),
                ("PACKAGE_DEPENDENCY", &package_dependency),
                ("RUNTIME_DEPENDENCY", runtime),
            ],
        )
    };
    let wrapper = dir.join("crate");
    let kernel_runtime = krate.runtime.dependency(&["kernel"]);
    let host_runtime = krate.runtime.dependency(&[]);
    write_if_changed(
        &wrapper.join("Cargo.toml"),
        toml(WRAPPER_TOML, &kernel_runtime).as_bytes(),
    )?;
    let type_path = krate.preloaded.path.as_str();
    write_if_changed(
        &wrapper.join("lib.rs"),
        fill(WRAPPER_RS, &[("NAME", name), ("TYPE_PATH", type_path)]).as_bytes(),
    )?;
    let describe = dir.join("describe");
    write_if_changed(
        &describe.join("Cargo.toml"),
        toml(DESCRIBE_TOML, &host_runtime).as_bytes(),
    )?;
    write_if_changed(
        &describe.join("main.rs"),
        fill(DESCRIBE_RS, &[("TYPE_PATH", type_path)]).as_bytes(),
    )?;
    // The same versions as the user's workspace, without asking the registry: the
    // generated crates start from its lock file, again whenever it changes (cargo
    // adds the generated package to their copies).
    if let Some(lock) = &krate.lockfile {
        let lock = fs::read(lock).with_context(|| format!("reading {}", lock.display()))?;
        for crate_dir in [&wrapper, &describe] {
            let seen = crate_dir.join("Cargo.lock.user");
            if fs::read(&seen).ok().as_deref() != Some(&lock[..]) {
                write_if_changed(&crate_dir.join("Cargo.lock"), &lock)?;
                write_if_changed(&seen, &lock)?;
            }
        }
    }
    Ok(dir)
}

/// What the module will do, in the runtime's words (`bpf_preload::describe` over
/// the crate's real table, in a small host program), for a stock kernel or (`preload`)
/// the preload series.
pub fn describe(krate: &Crate, preload: bool) -> Result<Vec<String>> {
    let dir = generate(krate)?;
    let out = cargo()
        .current_dir(&krate.dir)
        .args(["run", "--quiet", "--release", "--manifest-path"])
        .arg(dir.join("describe/Cargo.toml"))
        .arg("--")
        .arg(if preload { "preload" } else { "stock" })
        .env("CARGO_TARGET_DIR", cargo_target_dir(krate))
        .output()
        .context("running cargo")?;
    if !out.status.success() {
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        bail!(
            "building the description of `{}` failed",
            krate.preloaded.name
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines().map(str::to_string);
    let name = lines
        .next()
        .and_then(|l| l.strip_prefix("name ").map(str::to_string))
        .context("the description names no object")?;
    ensure!(
        name == krate.preloaded.name,
        "the object is named `{name}` but the attribute in {} says `{}`",
        krate.preloaded.file.display(),
        krate.preloaded.name
    );
    Ok(lines.collect())
}

/// Builds the Rust part of the module for `codegen`, and checks it against the
/// kernels that will link it.
///
/// `kconfig` is the kernel configuration the module's Kconfig externs read (see
/// [`KernelTree::config_file`]); `None` for a DKMS tree, whose Rust part is built before
/// the kernel is known: a Kconfig extern then fails the load with ESRCH, naming it.
pub fn build_rust(
    krate: &Crate,
    codegen: Codegen,
    kernels: &[&KernelTree],
    kconfig: Option<&Path>,
    verbose: bool,
) -> Result<RustObject> {
    let dir = generate(krate)?;
    let kconfig = match kconfig {
        Some(path) => path.to_path_buf(),
        None => {
            let empty = dir.join("no-kernel-config");
            write_if_changed(&empty, b"")?;
            empty
        }
    };
    let flags = codegen.rustflags();
    if verbose {
        println!(
            "==> building `{}` ({}, {}) for {TARGET} with {}",
            krate.preloaded.name,
            krate.preloaded.path,
            krate.runtime,
            flags.join(" ")
        );
    }
    let target_dir = cargo_target_dir(krate);
    let mut cmd = cargo();
    // The user's cargo configuration (registries, vendoring, source replacement)
    // applies: cargo reads it from the working directory.
    cmd.current_dir(&krate.dir)
        .args([
            "build",
            "--release",
            "--target",
            TARGET,
            "-Zbuild-std=core,alloc",
        ])
        .arg("--manifest-path")
        .arg(dir.join("crate/Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target_dir)
        // The kernel builds its own Rust this way too: stable rustc, unstable flags.
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"))
        .env("BPF_PRELOAD_KCONFIG", &kconfig);
    if verbose {
        tools::run(&mut cmd)?;
    } else {
        tools::run_quietly(cmd.arg("--quiet"))?;
    }
    let archive = target_dir
        .join(TARGET)
        .join("release/libbpf_preload_module.a");

    // The crate's own object: with fat LTO, everything but compiler_builtins.
    let members = output(Command::new("ar").arg("t").arg(&archive))?;
    let own: Vec<&str> = members
        .lines()
        .filter(|m| !m.starts_with("compiler_builtins-") && m.ends_with(".o"))
        .collect();
    let [own] = own[..] else {
        bail!(
            "expected one object besides compiler_builtins in {}, found {own:?}",
            archive.display()
        );
    };
    let object = Command::new("ar")
        .arg("p")
        .arg(&archive)
        .arg(own)
        .output()
        .context("running ar")?
        .stdout;
    let path = dir.join(format!("{codegen}.o"));
    write_if_changed(&path, &object)?;

    // Every symbol the object needs must come from the shim or the kernel: a
    // compiler_builtins intrinsic (say __udivti3 for u128 division) does not.
    for kernel in kernels {
        let exports = kernel.exports()?;
        let undefined = output(Command::new("nm").arg("-u").arg(&path))?;
        let unresolved: Vec<&str> = undefined
            .lines()
            .filter_map(|l| l.split_whitespace().last())
            .filter(|s| !s.starts_with("bpf_preload_"))
            .filter(|s| exports.binary_search_by(|e| e.as_str().cmp(s)).is_err())
            .collect();
        ensure!(
            unresolved.is_empty(),
            "the Rust object of `{}` needs symbols neither the shim nor kernel {} provides \
             (compiler intrinsics?): {}",
            krate.preloaded.name,
            kernel.release,
            unresolved.join(", ")
        );
    }
    let got = got_relocations(&path)?;
    ensure!(
        got.is_empty(),
        "the Rust object {} has GOT-relative relocations the module loader rejects:\n{}",
        path.display(),
        got.join("\n")
    );
    Ok(RustObject { path, codegen })
}

/// Relocations the module loader rejects, as `readelf -r` prints them.
fn got_relocations(object: &Path) -> Result<Vec<String>> {
    let text = output(Command::new("readelf").arg("-rW").arg(object))?;
    Ok(text
        .lines()
        .filter(|l| l.contains("GOTPCREL"))
        .map(str::to_string)
        .collect())
}

/// Builds `krate` into `<name>.ko` for `kernel`.
pub fn build(krate: &Crate, kernel: &KernelTree, options: &Options) -> Result<Module> {
    check_prerequisites(kernel)?;
    let name = &krate.preloaded.name;
    let codegen = kernel.codegen()?;
    let rust = build_rust(
        krate,
        codegen,
        &[kernel],
        Some(&kernel.config_file()),
        options.verbose,
    )?;

    let kbuild = module_dir(krate).join(format!(
        "kbuild-{}{}",
        kernel.release,
        if options.unloadable {
            "-unloadable"
        } else {
            ""
        }
    ));
    write_if_changed(&kbuild.join("rust-crate.o"), &fs::read(&rust.path)?)?;
    for (file, contents) in [("Kbuild", KBUILD), ("shim.c", SHIM_C), ("shim.h", SHIM_H)] {
        write_if_changed(&kbuild.join(file), contents.as_bytes())?;
    }
    let mut make = Command::new("make");
    make.arg("-C")
        .arg(&kernel.dir)
        .arg(format!("M={}", kbuild.display()))
        .arg(format!("BPF_PRELOAD_NAME={name}"))
        .arg(format!(
            "BPF_PRELOAD_UNLOADABLE={}",
            u8::from(options.unloadable)
        ))
        .arg("modules");
    if options.verbose {
        tools::run(&mut make)?;
    } else {
        tools::run_quietly(&mut make)?;
    }
    let built = kbuild.join(format!("{name}.ko"));
    let got = got_relocations(&built)?;
    ensure!(
        got.is_empty(),
        "{} has GOT-relative relocations the module loader rejects:\n{}",
        built.display(),
        got.join("\n")
    );

    let out_dir = match &options.out {
        Some(out) => out.clone(),
        None => {
            let dir = krate.work_dir().join(&kernel.release);
            if options.unloadable {
                dir.join("unloadable")
            } else {
                dir
            }
        }
    };
    fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let ko = out_dir.join(format!("{name}.ko"));
    fs::copy(&built, &ko)
        .with_context(|| format!("copying {} to {}", built.display(), ko.display()))?;
    let signer = match &options.sign {
        Some((key, cert)) => Some(sign(kernel, &ko, key, cert)?),
        None => None,
    };
    Ok(Module {
        ko,
        name: name.clone(),
        release: kernel.release.clone(),
        signer,
    })
}

/// Signs `ko` with the kernel's `scripts/sign-file`; returns the signer's subject.
pub fn sign(kernel: &KernelTree, ko: &Path, key: &Path, cert: &Path) -> Result<String> {
    let sign_file = kernel.dir.join("scripts/sign-file");
    ensure!(
        sign_file.exists(),
        "{} does not exist: the kernel headers are incomplete",
        sign_file.display()
    );
    for file in [key, cert] {
        ensure!(file.exists(), "signing: {} does not exist", file.display());
    }
    tools::run(
        Command::new(&sign_file)
            .arg(kernel.signature_hash())
            .arg(key)
            .arg(cert)
            .arg(ko),
    )?;
    Ok(tools::signer(cert).unwrap_or_else(|_| cert.display().to_string()))
}

/// A few lines about a built module: size, kernel, kind and signature.
pub fn summary(module: &Module, kernel: &KernelTree, unloadable: bool) -> Result<Vec<String>> {
    let mut lines = vec![format!(
        "kernel  {} (headers {})",
        kernel.release,
        kernel.dir.display()
    )];
    if let Ok(size) = output(Command::new("size").arg(&module.ko)) {
        let numbers: Vec<&str> = size
            .lines()
            .nth(1)
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        let bytes = fs::metadata(&module.ko)?.len();
        if let [text, data, bss, ..] = numbers[..] {
            lines.push(format!(
                "size    text {text}, data {data}, bss {bss} ({bytes} bytes on disk)"
            ));
        }
    }
    lines.push(format!(
        "module  `{}`, {}; {}",
        module.name,
        if unloadable {
            "unloadable: rmmod detaches and frees everything"
        } else {
            "permanent: rmmod is refused (the module holds a reference on itself)"
        },
        match &module.signer {
            Some(signer) => format!("signed ({} by {signer})", kernel.signature_hash()),
            None => "not signed".into(),
        }
    ));
    Ok(lines)
}
