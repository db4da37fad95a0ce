//! Building a crate into kernel modules: the object module, the crate's table as data
//! with the generic `object.c`, and the runtime module, `bpf_preload_runtime.ko`, the
//! loader that every object module on a machine hands its table to.
//!
//! 1. The table: a static library crate, `<target>/bpf-preload/<name>/table/`, whose
//!    whole source is `static bpf_preload_table = <Type as Preload>::OBJECT`, built
//!    for `x86_64-unknown-none` once for every kernel; its own object is checked to
//!    hold data only (no code, no undefined symbol).
//! 2. The runtime: the bpf-preload the crate resolves to, with its kernel backend, as
//!    a static library (`<target>/bpf-preload/runtime/crate/`) built with the flags of
//!    the kernel's configuration ([`Codegen`]); its own object (not
//!    compiler_builtins) checked for symbols neither runtime.c nor the kernel provides
//!    and for GOT relocations; linked with `runtime.c` by the kernel's Kbuild.
//! 3. The object module: `object.c` and the table linked by Kbuild against the
//!    runtime's `Module.symvers`, with the lines of the kernel's configuration the
//!    object reads; both modules signed if asked; and described, by the runtime's own
//!    reading of the table.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};

use crate::kernel::{Codegen, KernelTree};
use crate::package::Crate;
use crate::tools::{self, cargo, fill, output, write_if_changed};

/// Every Rust target this builds for: the kernel's own choice for x86 Rust code.
pub const TARGET: &str = "x86_64-unknown-none";

/// The runtime module's name: not the kernel's own `bpf_preload`.
pub const RUNTIME: &str = "bpf_preload_runtime";

/// The kernel-side sources, the same for every object: the runtime's C half and its
/// contract with Rust, its ABI, the generic object module, and their Kbuilds. They
/// have one home, the `kernel/` directory of the `bpf-preload` package, and are read
/// from the very package the crate resolves to (a registry's copy, a git checkout or
/// a path), never from this tool's build: the C half and the Rust half of the runtime
/// module then always come from the same version, whichever version of this tool
/// builds them.
#[derive(Debug, Clone)]
pub(crate) struct KernelSources {
    /// `runtime.c`: the runtime module's C half.
    pub runtime_c: String,
    /// `shim.h`: its contract with the Rust half.
    pub shim_h: String,
    /// `bpf_preload_runtime.h`: the runtime's ABI, which object modules call.
    pub runtime_h: String,
    /// `runtime.Kbuild`: how the runtime module links.
    pub runtime_kbuild: String,
    /// `object.c`: the generic object module around a table.
    pub object_c: String,
    /// `object.Kbuild`: how an object module links.
    pub object_kbuild: String,
    /// `kconfig.sh`: the target kernel's values of the `.kconfig` externs.
    pub kconfig_sh: String,
}

impl KernelSources {
    /// The sources in `kernel/` of the `bpf-preload` that `krate` depends on.
    pub(crate) fn of(krate: &Crate) -> Result<Self> {
        let dir = krate.runtime_dir.join("kernel");
        let read = |file: &str| {
            let path = dir.join(file);
            fs::read_to_string(&path).with_context(|| {
                format!(
                    "reading {} of {}: that package lacks the runtime's kernel sources \
                     (a bpf-preload older than this tool, or packaged without `kernel/`?)",
                    path.display(),
                    krate.runtime
                )
            })
        };
        Ok(KernelSources {
            runtime_c: read("runtime.c")?,
            shim_h: read("shim.h")?,
            runtime_h: read("bpf_preload_runtime.h")?,
            runtime_kbuild: read("runtime.Kbuild")?,
            object_c: read("object.c")?,
            object_kbuild: read("object.Kbuild")?,
            kconfig_sh: read("kconfig.sh")?,
        })
    }
}

const TABLE_TOML: &str = include_str!("../templates/module/table.toml");
const TABLE_RS: &str = include_str!("../templates/module/table.rs");
const RUNTIME_TOML: &str = include_str!("../templates/module/runtime.toml");
const RUNTIME_RS: &str = include_str!("../templates/module/runtime.rs");
const DESCRIBE_TOML: &str = include_str!("../templates/module/describe.toml");
const DESCRIBE_RS: &str = include_str!("../templates/module/describe.rs");

/// How to build a module.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Directory for `<name>.ko` and the runtime's `.ko` (default:
    /// `<target>/bpf-preload/<release>/`, with `unloadable/` for an unloadable object
    /// module).
    pub out: Option<PathBuf>,
    /// Private key and certificate for the kernel's `scripts/sign-file`.
    pub sign: Option<(PathBuf, PathBuf)>,
    /// Give the object module an exit function, so that rmmod detaches and frees
    /// everything.
    pub unloadable: bool,
    /// Show cargo's and make's progress.
    pub verbose: bool,
    /// Make the table claim this layout instead of the crate's: for tests of the
    /// runtime's refusal of a table of another layout, and nothing else.
    #[doc(hidden)]
    pub table_layout: Option<u32>,
}

/// A built object module and the runtime module it needs.
#[derive(Debug, Clone)]
pub struct Module {
    /// The object module's `.ko`.
    pub ko: PathBuf,
    /// The runtime module's `.ko`, beside it.
    pub runtime: PathBuf,
    /// The object module's name (the object's).
    pub name: String,
    /// The kernel it was built for.
    pub release: String,
    /// The subject of the certificate both were signed with.
    pub signer: Option<String>,
}

/// The runtime's Rust part for one flag set: the runtime crate's own object out of
/// the static library, checked.
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

/// Where the generated crates and Kbuild directories of object `name` go.
fn module_dir(krate: &Crate) -> PathBuf {
    krate.work_dir().join(&krate.preloaded.name)
}

/// Where the runtime's generated crate and Kbuild directories go: one runtime for
/// every object of the workspace.
fn runtime_dir(krate: &Crate) -> PathBuf {
    krate.work_dir().join("runtime")
}

/// One cargo target directory for every module and kernel of the workspace: cargo
/// keeps artifacts built with different flags apart, so core and alloc are built
/// once per flag set and the proc macro (and its syn and object) once for all.
fn cargo_target_dir(krate: &Crate) -> PathBuf {
    krate.work_dir().join("cargo")
}

/// The same versions as the user's workspace, without asking the registry: the
/// generated crates start from its lock file, again whenever it changes (cargo adds
/// the generated package to their copies).
fn share_lockfile(krate: &Crate, crate_dirs: &[&Path]) -> Result<()> {
    let Some(lock) = &krate.lockfile else {
        return Ok(());
    };
    let lock = fs::read(lock).with_context(|| format!("reading {}", lock.display()))?;
    for crate_dir in crate_dirs {
        let seen = crate_dir.join("Cargo.lock.user");
        if fs::read(&seen).ok().as_deref() != Some(&lock[..]) {
            write_if_changed(&crate_dir.join("Cargo.lock"), &lock)?;
            write_if_changed(&seen, &lock)?;
        }
    }
    Ok(())
}

/// Writes the table crate and the describing program.
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
    let host_runtime = krate.runtime.dependency(&[]);
    let type_path = krate.preloaded.path.as_str();
    let table = dir.join("table");
    write_if_changed(
        &table.join("Cargo.toml"),
        toml(TABLE_TOML, &host_runtime).as_bytes(),
    )?;
    write_if_changed(
        &table.join("lib.rs"),
        fill(TABLE_RS, &[("NAME", name), ("TYPE_PATH", type_path)]).as_bytes(),
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
    share_lockfile(krate, &[&table, &describe])?;
    Ok(dir)
}

/// Runs the describing program with `arg`; its standard output.
fn run_describe(krate: &Crate, arg: &str) -> Result<String> {
    let dir = generate(krate)?;
    let out = cargo()
        .current_dir(&krate.dir)
        .args(["run", "--quiet", "--release", "--manifest-path"])
        .arg(dir.join("describe/Cargo.toml"))
        .arg("--")
        .arg(arg)
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
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// What the module will do, in the runtime's words (`bpf_preload::describe` over
/// the crate's real table, in a small host program), for a stock kernel or (`preload`)
/// the preload series.
pub fn describe(krate: &Crate, preload: bool) -> Result<Vec<String>> {
    let text = run_describe(krate, if preload { "preload" } else { "stock" })?;
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

/// The kernel options the object's `.kconfig` externs read, one per line: the
/// object module's build keeps these lines of the kernel's configuration.
pub fn kconfig_options(krate: &Crate) -> Result<String> {
    run_describe(krate, "kconfig")
}

/// `params.h` of the object module: its module parameters (the variables of
/// `params(...)`), with the table's values as their defaults.
pub fn params_header(krate: &Crate) -> Result<String> {
    run_describe(krate, "params")
}

/// Builds the static library of `manifest` for [`TARGET`] with `codegen`'s flags and
/// returns its own object (with fat LTO, everything but compiler_builtins), written
/// to `to`.
fn build_staticlib(
    krate: &Crate,
    manifest: &Path,
    library: &str,
    codegen: Codegen,
    to: &Path,
    verbose: bool,
) -> Result<()> {
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
        .arg(manifest)
        .env("CARGO_TARGET_DIR", &target_dir)
        // The kernel builds its own Rust this way too: stable rustc, unstable flags.
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_ENCODED_RUSTFLAGS", codegen.rustflags().join("\x1f"));
    if verbose {
        tools::run(&mut cmd)?;
    } else {
        tools::run_quietly(cmd.arg("--quiet"))?;
    }
    let archive = target_dir
        .join(TARGET)
        .join(format!("release/lib{library}.a"));
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
    write_if_changed(to, &object)
}

/// Builds the object's table into an object file of data alone, the same for every
/// kernel: no code of ours runs from an object module.
pub fn build_table(krate: &Crate, verbose: bool) -> Result<PathBuf> {
    let dir = generate(krate)?;
    let path = dir.join("table.o");
    if verbose {
        println!(
            "==> building the table of `{}` ({}, {}) for {TARGET}",
            krate.preloaded.name, krate.preloaded.path, krate.runtime
        );
    }
    let library = "bpf_preload_table";
    let manifest = dir.join("table/Cargo.toml");
    build_staticlib(
        krate,
        &manifest,
        library,
        Codegen::default(),
        &path,
        verbose,
    )?;
    let undefined = output(Command::new("nm").arg("-u").arg(&path))?;
    ensure!(
        undefined.trim().is_empty(),
        "the table of `{}` needs symbols, so it is not data alone: {}",
        krate.preloaded.name,
        undefined.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    let code = code_bytes(&path)?;
    ensure!(
        code == 0,
        "the table of `{}` holds {code} bytes of code; an object module holds data alone",
        krate.preloaded.name
    );
    Ok(path)
}

/// Bytes in the executable sections of `object`.
fn code_bytes(object: &Path) -> Result<u64> {
    let text = output(Command::new("readelf").arg("-SW").arg(object))?;
    // `[Nr] Name Type Address Off Size ES Flg ...`: the flags hold X for code.
    Ok(text
        .lines()
        .filter_map(|l| {
            let l = l.split_once(']')?.1;
            let f: Vec<&str> = l.split_whitespace().collect();
            let (size, flags) = (f.get(4)?, f.get(6)?);
            flags
                .contains('X')
                .then(|| u64::from_str_radix(size, 16).ok())
                .flatten()
        })
        .sum())
}

/// Rewrites the layout a table object claims: the first `u32` of the `Object` that
/// `bpf_preload_table` points to, found through the symbol's relocation.
fn set_table_layout(data: &mut [u8], layout: u32) -> Result<()> {
    use object::{Object as _, ObjectSection as _, ObjectSymbol as _, RelocationTarget};
    let file = object::File::parse(&*data).context("reading the table object")?;
    let symbol = (file.symbols())
        .find(|s| s.name() == Ok("bpf_preload_table"))
        .context("the table object has no bpf_preload_table")?;
    let section = file.section_by_index(symbol.section_index().context("an undefined table")?)?;
    let (_, relocation) = (section.relocations())
        .find(|(at, _)| *at == symbol.address() - section.address())
        .context("bpf_preload_table points nowhere")?;
    let RelocationTarget::Symbol(target) = relocation.target() else {
        bail!("bpf_preload_table points to no symbol");
    };
    let target = file.symbol_by_index(target)?;
    let object_section =
        file.section_by_index(target.section_index().context("an undefined Object")?)?;
    let (start, _) = object_section
        .file_range()
        .context("the Object's section has no bytes")?;
    let at = usize::try_from(
        start + target.address() - object_section.address() + relocation.addend() as u64,
    )?;
    data.get_mut(at..at + 4)
        .context("the Object lies outside the file")?
        .copy_from_slice(&layout.to_le_bytes());
    Ok(())
}

/// Writes the runtime crate.
fn generate_runtime(krate: &Crate) -> Result<PathBuf> {
    let dir = runtime_dir(krate);
    let runtime = krate.runtime.dependency(&["kernel"]);
    let crate_dir = dir.join("crate");
    write_if_changed(
        &crate_dir.join("Cargo.toml"),
        fill(RUNTIME_TOML, &[("RUNTIME_DEPENDENCY", &runtime)]).as_bytes(),
    )?;
    write_if_changed(&crate_dir.join("lib.rs"), RUNTIME_RS.as_bytes())?;
    share_lockfile(krate, &[&crate_dir])?;
    Ok(dir)
}

/// Builds the runtime's Rust part for `codegen`, and checks it against the kernels
/// that will link it.
pub fn build_runtime_rust(
    krate: &Crate,
    codegen: Codegen,
    kernels: &[&KernelTree],
    verbose: bool,
) -> Result<RustObject> {
    let dir = generate_runtime(krate)?;
    if verbose {
        println!(
            "==> building the runtime ({}) for {TARGET} with {}",
            krate.runtime,
            codegen.rustflags().join(" ")
        );
    }
    let path = dir.join(format!("{codegen}.o"));
    let manifest = dir.join("crate/Cargo.toml");
    build_staticlib(
        krate,
        &manifest,
        "bpf_preload_runtime",
        codegen,
        &path,
        verbose,
    )?;

    // Every symbol the object needs must come from runtime.c or the kernel: a
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
            "the runtime's Rust object needs symbols neither runtime.c nor kernel {} \
             provides (compiler intrinsics?): {}",
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

/// `make -C <kernel> M=<dir> <args> modules`.
fn kbuild(kernel: &KernelTree, dir: &Path, args: &[String], verbose: bool) -> Result<()> {
    let mut make = Command::new("make");
    make.arg("-C")
        .arg(&kernel.dir)
        .arg(format!("M={}", dir.display()))
        .args(args)
        .arg("modules");
    if verbose {
        tools::run(&mut make)
    } else {
        tools::run_quietly(&mut make)
    }
}

/// Builds the runtime module for `kernel`; returns its Kbuild directory, which holds
/// `bpf_preload_runtime.ko` and the `Module.symvers` object modules link against.
pub fn build_runtime(krate: &Crate, kernel: &KernelTree, verbose: bool) -> Result<PathBuf> {
    let rust = build_runtime_rust(krate, kernel.codegen()?, &[kernel], verbose)?;
    let dir = runtime_dir(krate).join(format!("kbuild-{}", kernel.release));
    write_if_changed(&dir.join("rust-crate.o"), &fs::read(&rust.path)?)?;
    let sources = KernelSources::of(krate)?;
    for (file, contents) in [
        ("Kbuild", &sources.runtime_kbuild),
        ("runtime.c", &sources.runtime_c),
        ("shim.h", &sources.shim_h),
        ("bpf_preload_runtime.h", &sources.runtime_h),
    ] {
        write_if_changed(&dir.join(file), contents.as_bytes())?;
    }
    kbuild(kernel, &dir, &[], verbose)?;
    let ko = dir.join(format!("{RUNTIME}.ko"));
    let got = got_relocations(&ko)?;
    ensure!(
        got.is_empty(),
        "{} has GOT-relative relocations the module loader rejects:\n{}",
        ko.display(),
        got.join("\n")
    );
    Ok(dir)
}

/// Writes the object module's Kbuild directory for `kernel` (without building it):
/// the generic sources, the table and the options the object reads.
fn object_kbuild(krate: &Crate, kernel: &KernelTree, options: &Options) -> Result<PathBuf> {
    let table = build_table(krate, false)?;
    let mut dir = format!("kbuild-{}", kernel.release);
    if options.unloadable {
        dir.push_str("-unloadable");
    }
    let mut data = fs::read(&table)?;
    if let Some(layout) = options.table_layout {
        set_table_layout(&mut data, layout)?;
        dir.push_str(&format!("-layout{layout}"));
    }
    let dir = module_dir(krate).join(dir);
    write_if_changed(&dir.join("table-data.o"), &data)?;
    write_if_changed(
        &dir.join("kconfig-names"),
        kconfig_options(krate)?.as_bytes(),
    )?;
    write_if_changed(&dir.join("params.h"), params_header(krate)?.as_bytes())?;
    let sources = KernelSources::of(krate)?;
    for (file, contents) in [
        ("Kbuild", &sources.object_kbuild),
        ("object.c", &sources.object_c),
        ("kconfig.sh", &sources.kconfig_sh),
        ("bpf_preload_runtime.h", &sources.runtime_h),
    ] {
        write_if_changed(&dir.join(file), contents.as_bytes())?;
    }
    Ok(dir)
}

/// Builds `krate` into `<name>.ko` for `kernel`, and the runtime module it needs.
pub fn build(krate: &Crate, kernel: &KernelTree, options: &Options) -> Result<Module> {
    check_prerequisites(kernel)?;
    let name = &krate.preloaded.name;
    let runtime = build_runtime(krate, kernel, options.verbose)?;
    if options.verbose {
        println!(
            "==> building the object module `{name}` for {}",
            kernel.release
        );
    }
    let dir = object_kbuild(krate, kernel, options)?;
    kbuild(
        kernel,
        &dir,
        &[
            format!("BPF_PRELOAD_NAME={name}"),
            format!("BPF_PRELOAD_UNLOADABLE={}", u8::from(options.unloadable)),
            format!(
                "KBUILD_EXTRA_SYMBOLS={}",
                runtime.join("Module.symvers").display()
            ),
        ],
        options.verbose,
    )?;

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
    let mut copies = Vec::new();
    for built in [
        dir.join(format!("{name}.ko")),
        runtime.join(format!("{RUNTIME}.ko")),
    ] {
        let to = out_dir.join(built.file_name().unwrap_or_default());
        fs::copy(&built, &to)
            .with_context(|| format!("copying {} to {}", built.display(), to.display()))?;
        copies.push(to);
    }
    let [ko, runtime] = <[PathBuf; 2]>::try_from(copies).expect("two modules");
    let signer = match &options.sign {
        Some((key, cert)) => {
            sign(kernel, &runtime, key, cert)?;
            Some(sign(kernel, &ko, key, cert)?)
        }
        None => None,
    };
    Ok(Module {
        ko,
        runtime,
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
    for (what, ko) in [("size   ", &module.ko), ("runtime", &module.runtime)] {
        if let Some((text, data, bss)) = sizes(ko) {
            let bytes = fs::metadata(ko)?.len();
            lines.push(format!(
                "{what} text {text}, data {data}, bss {bss} ({bytes} bytes on disk{})",
                if ko == &module.runtime {
                    format!("; {RUNTIME}.ko, one for every object module")
                } else {
                    String::new()
                }
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

/// `size`'s text, data and bss of a module.
pub fn sizes(ko: &Path) -> Option<(u64, u64, u64)> {
    let size = output(Command::new("size").arg(ko)).ok()?;
    let line = size.lines().nth(1)?;
    let mut numbers = line.split_whitespace().map(|n| n.parse().ok());
    Some((numbers.next()??, numbers.next()??, numbers.next()??))
}
