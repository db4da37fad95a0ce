//! `cargo xtask build-module <example>`: a kernel module from an example crate.
//!
//! 1. Parse the example's `src/lib.rs` (syn) for the struct carrying `#[bpf_preload]`.
//! 2. Generate a wrapper staticlib crate, `target/modules/<name>/crate/`, whose whole
//!    source is `bpf_preload::kernel_module!(<example>::<Type>);`, and build it for
//!    `x86_64-unknown-none` with flags matching the kernel's configuration.
//! 3. Take the crate's own object out of the archive, copy it with the generic shim
//!    and Kbuild into `target/modules/<name>/kbuild-<release>/` and run Kbuild.
//! 4. Check relocations, sign if asked, and describe what the module will do, from
//!    the object's real table (a small host program prints it).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};

use crate::setup::{root, run as run_cmd};

/// Every Rust target this builds for: the kernel's own choice for x86 Rust code.
const TARGET: &str = "x86_64-unknown-none";

/// What `build-module` was asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// The example crate's directory.
    pub crate_dir: PathBuf,
    /// Kernel build directory (headers); found if not given.
    pub kdir: Option<PathBuf>,
    /// Where to write `<name>.ko`.
    pub out: Option<PathBuf>,
    /// Private key and certificate for `scripts/sign-file`.
    pub sign: Option<(PathBuf, PathBuf)>,
    /// Give the module an exit function, so that rmmod frees everything.
    pub unloadable: bool,
    /// Print the summary (the VM tests build quietly).
    pub verbose: bool,
}

pub fn run(options: &Options) -> Result<()> {
    build(options).map(|_| ())
}

/// A kernel build directory: its release and configuration.
pub struct Kernel {
    pub dir: PathBuf,
    /// `UTS_RELEASE`, what `uname -r` says and what vermagic checks.
    pub release: String,
    config: BTreeMap<String, String>,
}

impl Kernel {
    pub fn open(dir: &Path) -> Result<Self> {
        let uts = dir.join("include/generated/utsrelease.h");
        let uts = fs::read_to_string(&uts).with_context(|| {
            format!(
                "{} is not a prepared kernel build directory (no {}): install the headers, e.g. \
                 `apt-get install linux-headers-amd64`",
                dir.display(),
                uts.display()
            )
        })?;
        // Not include/config/kernel.release: Debian's 6.1 headers say "6.1.192" there,
        // while the kernel (and vermagic) says "6.1.0-56-amd64".
        let release = uts
            .split('"')
            .nth(1)
            .context("no UTS_RELEASE in utsrelease.h")?
            .to_string();
        let auto = dir.join("include/config/auto.conf");
        let text = fs::read_to_string(&auto)
            .or_else(|_| fs::read_to_string(dir.join(".config")))
            .with_context(|| format!("no kernel configuration in {}", dir.display()))?;
        let config = text
            .lines()
            .filter(|l| l.starts_with("CONFIG_"))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
            .collect();
        Ok(Self {
            dir: dir.to_path_buf(),
            release,
            config,
        })
    }

    /// The kernel's configuration as `/proc/config.gz` gives it, for Kconfig externs:
    /// `.config` (`auto.conf` leaves some strings unquoted).
    pub fn config_file(&self) -> PathBuf {
        let dot_config = self.dir.join(".config");
        if dot_config.exists() {
            dot_config
        } else {
            self.dir.join("include/config/auto.conf")
        }
    }

    /// The seed profile: the tree has the preload series' public header, which is
    /// what the shim tests for (`__has_include(<linux/bpf_preload.h>)`).
    pub fn is_seed(&self) -> bool {
        self.dir.join("include/linux/bpf_preload.h").exists()
    }

    fn has(&self, option: &str) -> bool {
        self.config.get(option).is_some_and(|v| v == "y")
    }

    fn value(&self, option: &str) -> Option<&str> {
        self.config.get(option).map(String::as_str)
    }

    /// rustc flags for Rust code in this kernel: what the kernel's own Makefiles give
    /// its Rust code (arch/x86/Makefile in 6.12), for the options this kernel has.
    pub fn rustflags(&self) -> Result<Vec<String>> {
        ensure!(
            self.has("CONFIG_X86_64"),
            "{} is not an x86_64 kernel: only x86_64 is supported",
            self.dir.display()
        );
        ensure!(
            !self.has("CONFIG_CFI_CLANG"),
            "kernels with CONFIG_CFI_CLANG need kCFI type hashes in Rust code (-Zsanitizer=kcfi); not supported yet"
        );
        let mut flags: Vec<String> = [
            // x86_64-unknown-none defaults to PIE, whose calls and data accesses go through
            // the GOT: R_X86_64_(REX_)GOTPCREL(X), which the module loader rejects.
            "-Crelocation-model=static",
            "-Zplt=yes",
            // The target already has code-model=kernel, no red zone and soft-float
            // without SSE/AVX; said again so the flags are complete on their own.
            "-Ccode-model=kernel",
            "-Cno-redzone=yes",
            "-Cforce-unwind-tables=no",
            "-Zfunction-sections=no",
        ]
        .map(String::from)
        .to_vec();
        if self.has("CONFIG_RETPOLINE") || self.has("CONFIG_MITIGATION_RETPOLINE") {
            // Indirect calls through the kernel's __x86_indirect_thunk_<reg>.
            flags.push("-Zretpoline-external-thunk".into());
        }
        if self.has("CONFIG_RETHUNK") || self.has("CONFIG_MITIGATION_RETHUNK") {
            // `ret` becomes `jmp __x86_return_thunk`; objtool --rethunk checks it. With
            // no bare ret and no indirect jmp left, SLS hardening has nothing to add.
            flags.push("-Zfunction-return=thunk-extern".into());
        }
        if self.has("CONFIG_X86_KERNEL_IBT") {
            // ENDBR at every indirect branch target (objtool --ibt warns "relocation to
            // !ENDBR" otherwise, and IBT hardware would fault), no NOTRACK jump tables.
            flags.push("-Zcf-protection=branch".into());
            flags.push("-Cjump-tables=no".into());
        }
        if self.has("CONFIG_CALL_PADDING") {
            // The padding call-depth tracking and FineIBT patch in front of functions.
            let n = self.value("CONFIG_FUNCTION_PADDING_BYTES").unwrap_or("16");
            flags.push(format!("-Zpatchable-function-entry={n},{n}"));
        }
        if self.has("CONFIG_FRAME_POINTER") {
            flags.push("-Cforce-frame-pointers=yes".into());
        }
        Ok(flags)
    }
}

/// `--kdir`, else the running kernel's build directory, else the newest headers in
/// /usr/src. Says which and why.
pub fn find_kdir(kdir: Option<&Path>, verbose: bool) -> Result<PathBuf> {
    if let Some(dir) = kdir {
        return Ok(dir.to_path_buf());
    }
    let uname = std::process::Command::new("uname").arg("-r").output()?;
    let running = String::from_utf8_lossy(&uname.stdout).trim().to_string();
    let build = PathBuf::from(format!("/lib/modules/{running}/build"));
    if build.join("Module.symvers").exists() {
        if verbose {
            println!(
                "==> kernel headers: {} (the running kernel's)",
                build.display()
            );
        }
        return Ok(build);
    }
    let mut dirs: Vec<PathBuf> = fs::read_dir("/usr/src")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("linux-headers-"))
                && p.join("Module.symvers").exists()
        })
        .collect();
    dirs.sort_by_key(|d| version_key(d));
    let Some(newest) = dirs.pop() else {
        bail!(
            "no kernel headers: /lib/modules/{running}/build does not exist and there is no \
             /usr/src/linux-headers-*; install some, e.g. `apt-get install linux-headers-amd64` \
             (Debian 12's 6.1) or `apt-get install linux-headers-6.12-amd64`, or pass --kdir"
        );
    };
    if verbose {
        println!(
            "==> kernel headers: {} (the newest in /usr/src; /lib/modules/{running}/build does not exist)",
            newest.display()
        );
    }
    Ok(newest)
}

/// Orders `linux-headers-6.12.117+deb12-amd64` after `linux-headers-6.1.0-56-amd64`.
pub fn version_key(path: &Path) -> Vec<u64> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    name.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap_or(0))
        .collect()
}

/// The example crate: its package name, the annotated type and the object's name.
struct Example {
    dir: PathBuf,
    package: String,
    type_name: String,
    /// The module name: the attribute's `name`, else the object file's name up to
    /// the first `.` (as the macro does).
    name: String,
}

fn parse_example(dir: &Path) -> Result<Example> {
    let manifest = dir.join("Cargo.toml");
    let text = fs::read_to_string(&manifest)
        .with_context(|| format!("{} is not a crate directory (no Cargo.toml)", dir.display()))?;
    let package = package_name(&text)
        .with_context(|| format!("no [package] name in {}", manifest.display()))?;

    let lib = dir.join("src/lib.rs");
    let source = fs::read_to_string(&lib).with_context(|| format!("reading {}", lib.display()))?;
    let file = syn::parse_file(&source).with_context(|| format!("parsing {}", lib.display()))?;
    let mut found = Vec::new();
    for item in &file.items {
        let syn::Item::Struct(s) = item else { continue };
        for attr in &s.attrs {
            if attr
                .path()
                .segments
                .last()
                .is_some_and(|s| s.ident == "bpf_preload")
            {
                found.push((s.ident.to_string(), attr.clone()));
            }
        }
    }
    let (type_name, attr) = match found.len() {
        1 => found.remove(0),
        0 => bail!(
            "{} has no struct with #[bpf_preload(obj = \"...\")]",
            lib.display()
        ),
        _ => bail!(
            "{} has several #[bpf_preload] structs; a module preloads one",
            lib.display()
        ),
    };
    let args = attr
        .parse_args_with(syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
        .with_context(|| format!("parsing the #[bpf_preload] attribute in {}", lib.display()))?;
    let string = |key: &str| {
        args.iter().find_map(|meta| match meta {
            syn::Meta::NameValue(nv) if nv.path.is_ident(key) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
    };
    let (obj, name) = (string("obj"), string("name"));
    let name = match (name, obj) {
        (Some(name), _) => name,
        (None, Some(obj)) => Path::new(&obj)
            .file_name()
            .map(|f| f.to_string_lossy())
            .and_then(|f| f.split('.').next().map(str::to_string))
            .context("the attribute's obj has no file name")?,
        (None, None) => bail!("#[bpf_preload] in {} has no obj = \"...\"", lib.display()),
    };
    ensure!(
        !name.is_empty()
            && name.len() < 56
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && name != "shim"
            && name != "rust",
        "`{name}` cannot be a module name (letters, digits, _ and -, at most 55, not shim or rust)"
    );
    Ok(Example {
        dir: dir.to_path_buf(),
        package,
        type_name,
        name,
    })
}

/// `name = "..."` in the `[package]` table.
fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package {
            if let Some(rest) = line.strip_prefix("name") {
                let value = rest.trim_start().strip_prefix('=')?.trim();
                return Some(value.trim_matches('"').to_string());
            }
        }
    }
    None
}

/// A TOML basic string.
fn toml_str(s: &Path) -> String {
    format!("{:?}", s.to_string_lossy())
}

/// Writes `contents` unless the file already holds exactly that (keeps mtimes, so
/// make and cargo rebuild only what changed).
fn write_if_changed(path: &Path, contents: &[u8]) -> Result<()> {
    if fs::read(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(path, contents).with_context(|| format!("writing {}", path.display()))
}

/// `cargo` with our own flags only, whatever the caller's environment says.
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Generates the wrapper crate and the describing program for `example`.
fn generate(example: &Example, kernel: &Kernel, dir: &Path) -> Result<()> {
    let runtime = root().join("preload-runtime");
    let crate_name = example.package.replace('-', "_");
    let lock = fs::read(root().join("Cargo.lock")).ok();

    // Same dependency versions as the workspace, without asking the registry.
    let wrapper = dir.join("crate");
    write_if_changed(
        &wrapper.join("Cargo.toml"),
        format!(
            r#"# Generated by `cargo xtask build-module`: the static library of module `{name}`.
[package]
name = "bpf-preload-module-{name}"
version = "0.0.0"
edition = "2021"
publish = false

[lib]
name = "bpf_preload_module"
path = "lib.rs"
crate-type = ["staticlib"]

[dependencies]
{package} = {{ path = {example_dir} }}
bpf-preload = {{ path = {runtime}, default-features = false, features = ["kernel"] }}

[profile.release]
panic = "abort"
# One object: the crate, bpf-preload and core/alloc; compiler_builtins stays apart.
lto = "fat"
codegen-units = 1
# For size: the loader's time is spent in bpf(2), and every module carries its own copy.
opt-level = "s"
debug = false
debug-assertions = false
overflow-checks = false

[workspace]
"#,
            name = example.name,
            package = example.package,
            example_dir = toml_str(&example.dir),
            runtime = toml_str(&runtime),
        )
        .as_bytes(),
    )?;
    write_if_changed(
        &wrapper.join("lib.rs"),
        format!(
            "//! Generated by `cargo xtask build-module`.\n#![no_std]\n\n\
             bpf_preload::kernel_module!(\n    {crate_name}::{},\n    \
             kconfig = include_str!({:?})\n);\n",
            example.type_name,
            kernel.config_file(),
        )
        .as_bytes(),
    )?;

    let describe = dir.join("describe");
    write_if_changed(
        &describe.join("Cargo.toml"),
        format!(
            r#"# Generated by `cargo xtask build-module`: prints what module `{name}` will do.
[package]
name = "bpf-preload-describe-{name}"
version = "0.0.0"
edition = "2021"
publish = false

[[bin]]
name = "describe"
path = "main.rs"

[dependencies]
{package} = {{ path = {example_dir} }}
bpf-preload = {{ path = {runtime}, default-features = false }}

[workspace]
"#,
            name = example.name,
            package = example.package,
            example_dir = toml_str(&example.dir),
            runtime = toml_str(&runtime),
        )
        .as_bytes(),
    )?;
    write_if_changed(
        &describe.join("main.rs"),
        DESCRIBE
            .replace("EXAMPLE", &format!("{crate_name}::{}", example.type_name))
            .as_bytes(),
    )?;
    if let Some(lock) = lock {
        write_if_changed(&wrapper.join("Cargo.lock"), &lock)?;
        write_if_changed(&describe.join("Cargo.lock"), &lock)?;
    }
    Ok(())
}

/// The describing program: reads the object's real table on the host.
const DESCRIBE: &str = r#"//! Generated by `cargo xtask build-module`.
use bpf_preload::{abi, Attach, Preload};

fn main() {
    let o = <EXAMPLE as Preload>::OBJECT;
    println!("name {}", o.name);
    let maps: Vec<String> = o
        .maps
        .iter()
        .map(|m| format!("{} ({} entries)", m.name, m.max_entries))
        .collect();
    println!("load    BTF ({} bytes); {} map(s): {}", o.btf.len(), o.maps.len(), maps.join(", "));
    let progs: Vec<String> = o
        .programs
        .iter()
        .map(|p| format!("{} ({}, {} insns)", p.name, p.section, p.insn_count()))
        .collect();
    println!("        {} program(s): {}", o.programs.len(), progs.join(", "));
    for (i, p) in o.programs.iter().enumerate() {
        match o.link_of(i).map(|l| l.attach) {
            None => println!("attach  {}: not attached (loaded and held only)", p.name),
            Some(Attach::LinkCreate) => println!("attach  {}: {} (BPF_LINK_CREATE)", p.name, p.section),
            Some(Attach::RawTracepoint(None)) => {
                println!("attach  {}: {} (BPF_RAW_TRACEPOINT_OPEN)", p.name, p.section)
            }
            Some(Attach::RawTracepoint(Some(name))) => println!(
                "attach  {}: raw tracepoint {:?}: WILL FAIL in a module: kern_sys_bpf reads the \
                 name as a user pointer (EFAULT)",
                p.name, name
            ),
            Some(Attach::Tracepoint { category, name }) => println!(
                "attach  {}: tracepoint {category}/{name}: WILL FAIL in a module: it needs \
                 perf_event_open(2)",
                p.name
            ),
        }
    }
    let iters: Vec<&str> = o
        .links
        .iter()
        .filter(|l| o.programs[l.program].expected_attach_type == abi::BPF_TRACE_ITER)
        .filter_map(|l| l.pin)
        .collect();
    let pins: Vec<&str> = o.links.iter().filter_map(|l| l.pin)
        .chain(o.maps.iter().filter_map(|m| m.pin))
        .chain(o.programs.iter().filter_map(|p| p.pin))
        .collect();
    if std::env::args().nth(1).as_deref() == Some("seed") {
        println!(
            "pin     {}/{{{}}} in every bpffs instance, if the kernel's preload list names `{}`",
            o.name, pins.join(", "), o.name
        );
        return;
    }
    let pins = pins.len();
    if let [a, b] = iters[..] {
        println!(
            "expose  {a} and {b} in every bpffs mount (the kernel's preload hook, if no other module holds it)"
        );
    } else if !iters.is_empty() {
        println!(
            "expose  nothing: a stock kernel shows exactly two iterator links in bpffs, this object pins {}",
            iters.len()
        );
    } else {
        println!("expose  nothing (no pinned iterator links)");
    }
    let held = pins - if iters.len() == 2 { 2 } else { 0 };
    if held > 0 {
        println!("hold    {held} other pin(s) requested by the object: held without pins (a stock kernel cannot pin from a module)");
    }
}
"#;

/// Runs the describing program: its first line is `name <object name>`.
fn describe(dir: &Path, kernel: &Kernel) -> Result<(String, Vec<String>)> {
    let out = cargo()
        .args(["run", "--quiet", "--release", "--manifest-path"])
        .arg(dir.join("describe/Cargo.toml"))
        .arg("--")
        .arg(if kernel.is_seed() { "seed" } else { "stock" })
        // Shared with the kernel builds, which build the same proc macro for the host.
        .env("CARGO_TARGET_DIR", cargo_target_dir())
        .env("RUSTC_BOOTSTRAP", "1")
        .output()
        .context("running cargo")?;
    if !out.status.success() {
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        bail!("building the object's description failed");
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines().map(str::to_string);
    let name = lines
        .next()
        .and_then(|l| l.strip_prefix("name ").map(str::to_string))
        .context("the description names no object")?;
    Ok((name, lines.collect()))
}

pub fn modules_dir() -> PathBuf {
    root().join("target/modules")
}

/// One cargo target directory for every module and kernel: cargo keeps artifacts
/// built with different RUSTFLAGS apart, so core and alloc are built once per flag set
/// and the proc macro (and its syn, aya-obj, object) once for all.
fn cargo_target_dir() -> PathBuf {
    modules_dir().join("cargo")
}

fn tool_exists(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool} >/dev/null")])
        .status()
        .is_ok_and(|s| s.success())
}

/// Missing tools, each with the command that installs it.
fn check_prerequisites(kernel: &Kernel) -> Result<()> {
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
        ("size", "apt-get install binutils"),
    ] {
        if !tool_exists(tool) {
            missing.push(format!("  {tool}: `{fix}`"));
        }
    }
    let sysroot = Command::new("rustc").args(["--print", "sysroot"]).output();
    let has_src = sysroot.is_ok_and(|o| {
        Path::new(String::from_utf8_lossy(&o.stdout).trim())
            .join("lib/rustlib/src/rust/library/core/Cargo.toml")
            .exists()
    });
    if !has_src {
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

/// Symbols the kernel exports, from Module.symvers.
fn kernel_exports(kernel: &Kernel) -> Result<Vec<String>> {
    let text = fs::read_to_string(kernel.dir.join("Module.symvers"))?;
    let mut names: Vec<String> = text
        .lines()
        .filter_map(|l| l.split('\t').nth(1).map(str::to_string))
        .collect();
    names.sort();
    Ok(names)
}

fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
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

/// Builds the module; returns the path of the `.ko`.
pub fn build(options: &Options) -> Result<PathBuf> {
    let verbose = options.verbose;
    let crate_dir = if options.crate_dir.join("Cargo.toml").exists() {
        options.crate_dir.clone()
    } else {
        root().join(&options.crate_dir)
    };
    let crate_dir = crate_dir
        .canonicalize()
        .with_context(|| format!("no crate at {}", options.crate_dir.display()))?;
    let example = parse_example(&crate_dir)?;
    let kdir = find_kdir(options.kdir.as_deref(), verbose)?;
    let kernel = Kernel::open(&kdir)?;
    check_prerequisites(&kernel)?;
    let flags = kernel.rustflags()?;
    let dir = modules_dir().join(&example.name);
    generate(&example, &kernel, &dir)?;

    // Only for the summary: the VM tests build many modules quietly.
    let description = if verbose {
        let (object_name, description) = describe(&dir, &kernel)?;
        ensure!(
            object_name == example.name,
            "the object is named `{object_name}` but the attribute parse says `{}`",
            example.name
        );
        description
    } else {
        Vec::new()
    };

    if verbose {
        println!(
            "==> building `{}` ({}::{}) for {TARGET} with {}",
            example.name,
            example.package,
            example.type_name,
            flags.join(" ")
        );
    }
    let cargo_target = cargo_target_dir();
    let mut cmd = cargo();
    cmd.args([
        "build",
        "--release",
        "--target",
        TARGET,
        "-Zbuild-std=core,alloc",
    ])
    .arg("--manifest-path")
    .arg(dir.join("crate/Cargo.toml"))
    .env("CARGO_TARGET_DIR", &cargo_target)
    // The kernel builds its own Rust this way too: stable rustc, unstable flags.
    .env("RUSTC_BOOTSTRAP", "1")
    .env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"));
    if !verbose {
        cmd.arg("--quiet");
    }
    run_cmd(&mut cmd)?;
    let archive = cargo_target
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
    let kbuild = dir.join(format!(
        "kbuild-{}{}",
        kernel.release,
        if options.unloadable {
            "-unloadable"
        } else {
            ""
        }
    ));
    fs::create_dir_all(&kbuild)?;
    let object = Command::new("ar")
        .arg("p")
        .arg(&archive)
        .arg(own)
        .output()?
        .stdout;
    let rust_obj = kbuild.join("rust-crate.o");
    write_if_changed(&rust_obj, &object)?;

    // Every symbol the object needs must come from the shim or the kernel: a
    // compiler_builtins intrinsic (say __udivti3 for u128 division) does not.
    let exports = kernel_exports(&kernel)?;
    let undefined = output(Command::new("nm").arg("-u").arg(&rust_obj))?;
    let unresolved: Vec<&str> = undefined
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .filter(|s| !s.starts_with("bpf_preload_"))
        .filter(|s| exports.binary_search_by(|e| e.as_str().cmp(s)).is_err())
        .collect();
    ensure!(
        unresolved.is_empty(),
        "the Rust object needs symbols neither the shim nor kernel {} provides (compiler \
         intrinsics?): {}",
        kernel.release,
        unresolved.join(", ")
    );
    let got = got_relocations(&rust_obj)?;
    ensure!(
        got.is_empty(),
        "the Rust object has GOT-relative relocations the module loader rejects:\n{}",
        got.join("\n")
    );

    let shim = root().join("preload-runtime/kernel");
    for file in ["Kbuild", "shim.c", "shim.h"] {
        let contents = fs::read(shim.join(file))?;
        write_if_changed(&kbuild.join(file), &contents)?;
    }
    let mut make = Command::new("make");
    make.arg("-C")
        .arg(&kernel.dir)
        .arg(format!("M={}", kbuild.display()))
        .arg(format!("BPF_PRELOAD_NAME={}", example.name))
        .arg(format!(
            "BPF_PRELOAD_UNLOADABLE={}",
            u8::from(options.unloadable)
        ))
        .arg("modules");
    if verbose {
        run_cmd(&mut make)?;
    } else {
        // Quiet, but everything on failure.
        let out = make.output().context("running make")?;
        if !out.status.success() {
            eprint!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            bail!("{make:?} failed: {}", out.status);
        }
    }
    let built_ko = kbuild.join(format!("{}.ko", example.name));
    let got = got_relocations(&built_ko)?;
    ensure!(
        got.is_empty(),
        "{} has GOT-relative relocations the module loader rejects:\n{}",
        built_ko.display(),
        got.join("\n")
    );

    let out_dir = match &options.out {
        Some(out) => out.clone(),
        None => modules_dir()
            .join(&kernel.release)
            .join(if options.unloadable {
                "unloadable"
            } else {
                "permanent"
            }),
    };
    fs::create_dir_all(&out_dir)?;
    let ko = out_dir.join(format!("{}.ko", example.name));
    fs::copy(&built_ko, &ko)
        .with_context(|| format!("copying {} to {}", built_ko.display(), ko.display()))?;
    let mut signed = None;
    if let Some((key, cert)) = &options.sign {
        let hash = kernel.value("CONFIG_MODULE_SIG_HASH").unwrap_or("sha256");
        let sign_file = kernel.dir.join("scripts/sign-file");
        ensure!(
            sign_file.exists(),
            "{} does not exist: the kernel headers are incomplete",
            sign_file.display()
        );
        run_cmd(
            Command::new(&sign_file)
                .arg(hash)
                .arg(key)
                .arg(cert)
                .arg(&ko),
        )?;
        signed = Some(signer(cert).unwrap_or_else(|_| cert.display().to_string()));
    }

    if verbose {
        let size = output(Command::new("size").arg(&ko))?;
        let numbers: Vec<&str> = size
            .lines()
            .nth(1)
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        let bytes = fs::metadata(&ko)?.len();
        println!("\n==> built {}", ko.display());
        println!(
            "    kernel  {} (headers {})",
            kernel.release,
            kernel.dir.display()
        );
        if let [text, data, bss, ..] = numbers[..] {
            println!("    size    text {text}, data {data}, bss {bss} ({bytes} bytes on disk)");
        }
        println!(
            "    module  `{}`, {}; {}",
            example.name,
            if options.unloadable {
                "unloadable: rmmod detaches and frees everything"
            } else {
                "permanent: rmmod is refused (the module holds a reference on itself)"
            },
            match &signed {
                Some(signer) => format!(
                    "signed ({hash} by {signer})",
                    hash = kernel.value("CONFIG_MODULE_SIG_HASH").unwrap_or("sha256")
                ),
                None => "not signed".into(),
            }
        );
        for line in &description {
            println!("    {line}");
        }
    }
    Ok(ko)
}

/// The subject of a PEM or DER certificate, through openssl.
pub fn signer(cert: &Path) -> Result<String> {
    let mut cmd = Command::new("openssl");
    cmd.args(["x509", "-noout", "-subject", "-in"]).arg(cert);
    let pem = output(&mut cmd);
    let text = match pem {
        Ok(text) => text,
        Err(_) => output(
            Command::new("openssl")
                .args(["x509", "-inform", "DER", "-noout", "-subject", "-in"])
                .arg(cert),
        )?,
    };
    Ok(text
        .trim()
        .trim_start_matches("subject=")
        .trim()
        .to_string())
}
