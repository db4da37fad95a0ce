//! `cargo xtask packaged`: the published crates as a user gets them. `cargo package`
//! packs `bpf-preload-build`, `bpf-preload` and the crates they depend on, and
//! verifies each by building it against the others' packages; a local registry
//! serves the `.crate` files; `cargo install` builds `cargo-bpf-preload` from that
//! registry; and the installed tool makes a crate with `new`, depending on
//! `bpf-preload` from the registry, and builds its modules for Debian's 6.1 headers.
//!
//! The packages' manifests depend on each other as published ones do, on crates.io;
//! the scenario's cargo configuration stands the registry in for crates.io for these
//! crates only (`[patch.crates-io]`), everything else coming from crates.io. So the
//! new crate is the one a user gets once the crates are published: it says
//! `bpf-preload = { version = "0.1.0", ... }`.
//!
//! After `cargo package`, nothing runs in the checkout: the scenario lives in a
//! temporary directory with a `CARGO_HOME` of its own (whose only configuration is
//! the registry), and ends by checking that no path of the checkout appears in what
//! the new crate and the crates generated for its modules resolved to.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use cargo_metadata::{DependencyKind, MetadataCommand, Package};
use serde_json::{json, Value};

use crate::setup::{ensure_rust_src, root};
use crate::tools::{combined_output, output, run as run_cmd};

/// The published crates, each after those it depends on.
const PUBLISHED: [&str; 6] = [
    "bpf-preload-uapi",
    "bpf-preload-model",
    "bpf-preload-codegen",
    "bpf-preload-macros",
    "bpf-preload",
    "bpf-preload-build",
];

/// What a package must hold besides its Rust sources: the files read when it builds
/// or when `cargo bpf-preload` runs (the runtime's C half is read from the package).
const REQUIRED: [(&str, &[&str]); 2] = [
    (
        "bpf-preload",
        &[
            "kernel/runtime.c",
            "kernel/shim.h",
            "kernel/bpf_preload_runtime.h",
            "kernel/runtime.Kbuild",
            "kernel/object.c",
            "kernel/object.Kbuild",
            "kernel/kconfig.sh",
            "guard/guard.bpf.c",
            "guard/guard.bpf.o",
            "status/status.bpf.c",
            "status/status.bpf.o",
        ],
    ),
    (
        "bpf-preload-build",
        &[
            "templates/new/Cargo.toml.in",
            "templates/new/README.md",
            "templates/new/lsm/program.bpf.o",
            "templates/new/iter/program.bpf.o",
            "templates/new/tracing/program.bpf.o",
            "templates/module/runtime.toml",
            "templates/module/table.toml",
            "templates/dkms/runtime.conf",
            "templates/dkms/object.conf",
        ],
    ),
];

/// A package larger than this (compressed) holds something it should not.
const MAX_CRATE_BYTES: u64 = 1 << 20;

/// The registry's name in the scenario's cargo configuration.
const REGISTRY: &str = "bpf-preload-test";

/// crates.io's index, as a registry index names a dependency from it.
const CRATES_IO: &str = "https://github.com/rust-lang/crates.io-index";

/// The crate `new` makes, and its module.
const PACKAGE: &str = "my-policy";
const MODULE: &str = "my_policy";

/// One packaged crate.
struct Packed {
    name: &'static str,
    file: PathBuf,
    /// The `.crate` file's SHA-256, as the registry index gives it.
    cksum: String,
}

/// Removes what an earlier `cargo package` of this version left unpacked in cargo's
/// home: it verifies each package against the others through a local registry of
/// the checkout's target directory, and cargo unpacks a registry crate of a given
/// name and version only once, so the sources of an earlier run (before a change,
/// with the same version) would be built instead of the new ones. Only registries
/// of local paths (`registry/src/-<hash>/`) hold our crates: none is on crates.io.
fn forget_unpacked_packages(version: &str) -> Result<()> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .context("neither CARGO_HOME nor HOME is set")?;
    let Ok(registries) = fs::read_dir(home.join("registry/src")) else {
        return Ok(());
    };
    for registry in registries.flatten() {
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        for name in PUBLISHED {
            let unpacked = registry.path().join(format!("{name}-{version}"));
            if unpacked.exists() {
                fs::remove_dir_all(&unpacked)
                    .with_context(|| format!("removing {}", unpacked.display()))?;
            }
        }
    }
    Ok(())
}

/// The target directory of `cargo package`, apart from the checkout's own: it verifies
/// each package by building it against the others' packages, and cargo takes a
/// registry crate of a given name and version for immutable, so a build of an earlier
/// run's package (before a change, with the same version) would be linked instead of
/// the new one. Everything of ours built there comes from packages, so it all goes
/// before each run; what the packages depend on stays cached.
const PACKAGE_TARGET: &str = "target/packaged";

/// Removes the builds of the published crates from [`PACKAGE_TARGET`].
fn forget_package_builds(target: &Path) -> Result<()> {
    for dir in ["debug/deps", "debug/.fingerprint", "debug/build"] {
        let Ok(entries) = fs::read_dir(target.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().replace('_', "-");
            if !PUBLISHED.iter().any(|p| name.starts_with(&format!("{p}-")))
                && !name.starts_with("libbpf-preload")
            {
                continue;
            }
            let path = entry.path();
            let removed = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            removed.with_context(|| format!("removing {}", path.display()))?;
        }
    }
    Ok(())
}

fn step(name: &str, started: Instant) {
    println!("==> [{:>5.1}s] {name}", started.elapsed().as_secs_f64());
}

/// Runs the scenario; returns how many checks passed (it stops at the first failure).
pub fn run() -> Result<usize> {
    let started = Instant::now();
    let root = root();
    let version = env!("CARGO_PKG_VERSION");
    let kdir = headers_6_1()?;
    ensure_rust_src()?;
    let mut passed = 0;

    step(
        "cargo package of the published crates, each verified against the others' packages",
        started,
    );
    forget_unpacked_packages(version)?;
    let target = root.join(PACKAGE_TARGET);
    forget_package_builds(&target)?;
    let mut package = crate::tools::cargo();
    package
        .current_dir(&root)
        .args(["package", "--quiet", "--allow-dirty", "--target-dir"])
        .arg(&target);
    for name in PUBLISHED {
        package.args(["-p", name]);
    }
    run_cmd(&mut package).context("cargo package of the published crates")?;
    let packed = check_packages(&target.join("package"), version)?;
    passed += 1;

    // Outside the checkout, one directory per checkout, kept between runs for its
    // caches (crates.io's crates, the tool's build, core and alloc for the kernel).
    let mut hasher = DefaultHasher::new();
    root.hash(&mut hasher);
    let scenario =
        std::env::temp_dir().join(format!("bpf-preload-packaged-{:016x}", hasher.finish()));
    ensure!(
        !scenario.starts_with(&root),
        "the temporary directory {} is inside the checkout",
        scenario.display()
    );
    step(
        &format!("a local registry of the packages in {}", scenario.display()),
        started,
    );
    let index = make_registry(&scenario, &packed, version)?;
    let cargo_home = scenario.join("cargo-home");
    prepare_cargo_home(&cargo_home, &index, version)?;
    let install = scenario.join("install");
    let env = Env {
        cargo_home: cargo_home.clone(),
        bin: install.join("bin"),
    };

    step(
        &format!("cargo install bpf-preload-build --registry {REGISTRY}"),
        started,
    );
    let mut cmd = env.cargo(&scenario);
    cmd.args(["install", "--quiet", "--force", "--debug"])
        .arg("bpf-preload-build")
        .args(["--version", &format!("={version}"), "--registry", REGISTRY])
        .arg("--root")
        .arg(&install)
        // Kept between runs: the tool's dependencies from crates.io.
        .arg("--target-dir")
        .arg(scenario.join("install-target"));
    run_cmd(&mut cmd).context("cargo install of the packaged bpf-preload-build")?;
    let record = fs::read_to_string(install.join(".crates2.json"))?;
    let source = format!("bpf-preload-build {version} (registry+{index})");
    ensure!(
        record.contains(&source),
        "cargo install did not record `{source}`:\n{record}"
    );
    passed += 1;

    let work = scenario.join("work");
    if work.exists() {
        fs::remove_dir_all(&work)?;
    }
    fs::create_dir_all(&work)?;

    step(
        &format!("cargo bpf-preload new {PACKAGE}: bpf-preload {version} as published"),
        started,
    );
    env.subcommand(&work, &["new", PACKAGE])?;
    let krate = work.join(PACKAGE);
    let manifest = fs::read_to_string(krate.join("Cargo.toml"))?;
    let want = format!("bpf-preload = {{ version = \"{version}\", default-features = false }}");
    ensure!(
        manifest.contains(&want),
        "the installed tool's new crate should say `{want}`, not a path:\n{manifest}"
    );
    passed += 1;

    step(
        &format!("cargo bpf-preload new --runtime-registry {REGISTRY}: bpf-preload from a named registry"),
        started,
    );
    env.subcommand(&work, &["new", "--runtime-registry", REGISTRY, "by-name"])?;
    let manifest = fs::read_to_string(work.join("by-name/Cargo.toml"))?;
    let want = format!(
        "bpf-preload = {{ version = \"{version}\", registry = \"{REGISTRY}\", default-features = false }}"
    );
    ensure!(
        manifest.contains(&want),
        "the new crate should say `{want}`:\n{manifest}"
    );
    let runtime = resolve(&env, &work.join("by-name"))?
        .packages
        .into_iter()
        .find(|p| p.name.as_str() == "bpf-preload")
        .context("by-name does not resolve bpf-preload")?;
    let from = runtime.source.as_ref().map(|s| s.repr.clone());
    ensure!(
        from.as_deref() == Some(format!("registry+{index}").as_str()),
        "by-name resolves bpf-preload from {from:?}, not from registry+{index}"
    );
    passed += 1;

    let out = scenario.join("modules");
    if out.exists() {
        fs::remove_dir_all(&out)?;
    }
    step(
        &format!("cargo bpf-preload build --kdir {}", kdir.display()),
        started,
    );
    let kdir_arg = kdir.to_string_lossy().into_owned();
    let out_arg = out.to_string_lossy().into_owned();
    let text = env.subcommand(&krate, &["build", "--kdir", &kdir_arg, "--out", &out_arg])?;
    let from = format!("bpf-preload {version} from {index}");
    ensure!(
        text.contains(&from),
        "the build should name the runtime `{from}`:\n{text}"
    );
    for module in [MODULE, bpf_preload_build::module::RUNTIME] {
        let ko = out.join(format!("{module}.ko"));
        let data = fs::read(&ko).with_context(|| format!("the build made no {}", ko.display()))?;
        ensure!(
            data.windows(13).any(|w| w == b"vermagic=6.1."),
            "{} is not a module for Linux 6.1",
            ko.display()
        );
    }
    passed += 1;

    step(
        &format!("cargo bpf-preload dkms --kdir {}", kdir.display()),
        started,
    );
    let dkms = scenario.join("dkms");
    if dkms.exists() {
        fs::remove_dir_all(&dkms)?;
    }
    let dkms_arg = dkms.to_string_lossy().into_owned();
    env.subcommand(&krate, &["dkms", "--kdir", &kdir_arg, "--out", &dkms_arg])?;
    passed += 1;

    step(
        "provenance: every bpf-preload crate from the registry, nothing from the checkout",
        started,
    );
    let runtime = check_provenance(&env, &krate, &scenario.join("crate-target"), &index, &root)?;
    // The C half of the modules and of the DKMS trees is the package's own.
    let runtime_tree = dkms.join(format!("bpf-preload-runtime-{version}"));
    let object_tree = dkms.join(format!("{MODULE}-{version}"));
    for (tree, file) in [
        (&runtime_tree, "runtime.c"),
        (&runtime_tree, "shim.h"),
        (&runtime_tree, "bpf_preload_runtime.h"),
        (&object_tree, "object.c"),
        (&object_tree, "kconfig.sh"),
    ] {
        let packaged = runtime.join("kernel").join(file);
        ensure!(
            fs::read(tree.join(file))? == fs::read(&packaged)?,
            "{} is not the package's {}",
            tree.join(file).display(),
            packaged.display()
        );
    }
    passed += 1;

    step(&format!("{passed} checks passed"), started);
    Ok(passed)
}

/// The newest of Debian's 6.1 headers (`linux-headers-amd64` on Debian 12).
fn headers_6_1() -> Result<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir("/usr/src")
        .context("reading /usr/src")?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("linux-headers-6.1.") && name.ends_with("-amd64")
        })
        .filter(|p| p.join("Module.symvers").exists())
        .collect();
    found.sort_by_key(|p| crate::module::version_key(p));
    found.pop().context(
        "no Debian 6.1 kernel headers in /usr/src: `apt-get install linux-headers-amd64` \
         (Debian 12)",
    )
}

/// Checks each `.crate` in `dir`: the files it must hold, nothing it must not, its
/// size. Prints one line per package.
fn check_packages(dir: &Path, version: &str) -> Result<Vec<Packed>> {
    let mut packed = Vec::new();
    println!("    {:<22} {:>6} {:>10}", "package", "files", "compressed");
    for name in PUBLISHED {
        let file = dir.join(format!("{name}-{version}.crate"));
        let size = fs::metadata(&file)
            .with_context(|| format!("cargo package made no {}", file.display()))?
            .len();
        let listing = output(Command::new("tar").arg("-tzf").arg(&file))?;
        let prefix = format!("{name}-{version}/");
        let files: Vec<&str> = listing
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .collect();
        let required = REQUIRED
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(&[][..], |(_, r)| r);
        let missing: Vec<&&str> = required.iter().filter(|r| !files.contains(r)).collect();
        ensure!(
            missing.is_empty(),
            "{} lacks files it needs: {missing:?}",
            file.display()
        );
        let unwanted: Vec<&&str> = files
            .iter()
            .filter(|f| {
                f.starts_with("target/")
                    || f.contains("/target/")
                    || f.ends_with(".ko")
                    || f.ends_with(".crate")
                    || (f.ends_with(".o") && !f.ends_with(".bpf.o"))
            })
            .collect();
        ensure!(
            unwanted.is_empty(),
            "{} holds build output: {unwanted:?}",
            file.display()
        );
        ensure!(
            size <= MAX_CRATE_BYTES,
            "{} is {size} bytes, more than the {MAX_CRATE_BYTES} a package of sources needs",
            file.display()
        );
        println!(
            "    {name:<22} {:>6} {:>8.1} K",
            files.len(),
            size as f64 / 1024.0
        );
        let sum = output(Command::new("sha256sum").arg(&file))?;
        let cksum = sum
            .split_whitespace()
            .next()
            .context("sha256sum printed nothing")?
            .to_string();
        packed.push(Packed { name, file, cksum });
    }
    Ok(packed)
}

/// Makes a git registry (an index repository and the `.crate` files, both as
/// `file://` URLs) of the packages, as crates.io would serve them once published;
/// returns the index URL. The registry's directory is named after the packages'
/// checksums, so that cargo, which takes a registry's crates as immutable, never
/// reuses a build of other sources of the same version.
fn make_registry(scenario: &Path, packed: &[Packed], version: &str) -> Result<String> {
    let mut hasher = DefaultHasher::new();
    for p in packed {
        p.cksum.hash(&mut hasher);
    }
    let name = format!("registry-{:016x}", hasher.finish());
    fs::create_dir_all(scenario)?;
    for entry in fs::read_dir(scenario)? {
        let path = entry?.path();
        let file = path.file_name().unwrap_or_default().to_string_lossy();
        if file.starts_with("registry-") || file == "unpacked" {
            fs::remove_dir_all(&path)?;
        }
    }
    let registry = scenario.join(name);
    let crates = registry.join("crates");
    let index = registry.join("index");
    let unpacked = scenario.join("unpacked");
    fs::create_dir_all(&crates)?;
    fs::create_dir_all(&index)?;
    fs::create_dir_all(&unpacked)?;
    for p in packed {
        fs::copy(&p.file, crates.join(p.file.file_name().unwrap_or_default()))?;
        run_cmd(
            Command::new("tar")
                .arg("-xzf")
                .arg(&p.file)
                .arg("-C")
                .arg(&unpacked),
        )?;
        let manifest = unpacked.join(format!("{}-{version}/Cargo.toml", p.name));
        let metadata = MetadataCommand::new()
            .cargo_path(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .manifest_path(&manifest)
            .no_deps()
            .other_options(vec!["--offline".into()])
            .exec()
            .with_context(|| format!("cargo metadata of {}", manifest.display()))?;
        let package = (metadata.packages.iter())
            .find(|q| q.name.as_str() == p.name)
            .with_context(|| format!("{} is not package {}", manifest.display(), p.name))?;
        let path = index.join(index_path(p.name));
        fs::create_dir_all(path.parent().context("an index file has a directory")?)?;
        fs::write(&path, format!("{}\n", index_entry(package, &p.cksum)))?;
    }
    let dl = format!("file://{}/{{crate}}-{{version}}.crate", crates.display());
    fs::write(index.join("config.json"), json!({ "dl": dl }).to_string())?;
    let git = |args: &[&str]| -> Result<()> {
        run_cmd(
            Command::new("git")
                .current_dir(&index)
                .args(["-c", "user.name=xtask", "-c", "user.email=xtask@localhost"])
                .args([
                    "-c",
                    "commit.gpgsign=false",
                    "-c",
                    "init.defaultBranch=main",
                ])
                .args(args),
        )
    };
    git(&["init", "--quiet"])?;
    git(&["add", "--all"])?;
    git(&["commit", "--quiet", "--message", "the packaged crates"])?;
    Ok(format!("file://{}", index.display()))
}

/// Where a crate's file lies in a registry index (cargo's layout).
fn index_path(name: &str) -> String {
    let name = name.to_lowercase();
    match name.len() {
        1 => format!("1/{name}"),
        2 => format!("2/{name}"),
        3 => format!("3/{}/{name}", &name[..1]),
        _ => format!("{}/{}/{name}", &name[..2], &name[2..4]),
    }
}

/// A package's line in a registry index. A dependency on another published crate is
/// in this registry (`registry` null, as crates.io writes its own); any other comes
/// from crates.io.
fn index_entry(package: &Package, cksum: &str) -> Value {
    let deps: Vec<Value> = package
        .dependencies
        .iter()
        .map(|d| {
            let (name, renamed) = match &d.rename {
                Some(rename) => (rename.clone(), Some(d.name.clone())),
                None => (d.name.clone(), None),
            };
            let registry = if PUBLISHED.contains(&d.name.as_str()) {
                Value::Null
            } else {
                json!(d.registry.clone().unwrap_or_else(|| CRATES_IO.into()))
            };
            json!({
                "name": name,
                "package": renamed,
                "req": d.req.to_string(),
                "features": d.features,
                "optional": d.optional,
                "default_features": d.uses_default_features,
                "target": d.target.as_ref().map(|t| t.to_string()),
                "kind": match d.kind {
                    DependencyKind::Development => "dev",
                    DependencyKind::Build => "build",
                    _ => "normal",
                },
                "registry": registry,
            })
        })
        .collect();
    json!({
        "name": package.name.as_str(),
        "vers": package.version.to_string(),
        "deps": deps,
        "cksum": cksum,
        "features": package.features,
        "yanked": false,
        "links": package.links,
        "rust_version": package.rust_version.as_ref().map(|v| v.to_string()),
        "v": 2,
    })
}

/// The scenario's `CARGO_HOME`: its configuration names the registry and takes the
/// published crates from it instead of crates.io, and what it cached of earlier
/// registries goes (crates.io's cache stays).
fn prepare_cargo_home(cargo_home: &Path, index: &str, version: &str) -> Result<()> {
    for cache in ["index", "cache", "src"] {
        let dir = cargo_home.join("registry").join(cache);
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry?.path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if !name.starts_with("index.crates.io-") && !name.starts_with("github.com-") {
                if path.is_dir() {
                    fs::remove_dir_all(&path)?;
                } else {
                    fs::remove_file(&path)?;
                }
            }
        }
    }
    fs::create_dir_all(cargo_home)?;
    let mut config = format!(
        "# Written by `cargo xtask packaged`: the registry of the packaged crates, which\n\
         # stands in for crates.io for them.\n\
         [registries.{REGISTRY}]\nindex = {}\n\n[patch.crates-io]\n",
        bpf_preload_build::package::toml_string(index)
    );
    for name in PUBLISHED {
        config.push_str(&format!(
            "{name} = {{ version = \"={version}\", registry = \"{REGISTRY}\" }}\n"
        ));
    }
    fs::write(cargo_home.join("config.toml"), config)?;
    Ok(())
}

/// How the scenario runs cargo: with its own `CARGO_HOME`, the installed tool first
/// on `PATH`, and the new crate's target directory kept between runs.
struct Env {
    cargo_home: PathBuf,
    bin: PathBuf,
}

impl Env {
    fn cargo(&self, dir: &Path) -> Command {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![self.bin.clone()];
        paths.extend(std::env::split_paths(&path));
        let mut cmd = crate::tools::cargo();
        cmd.current_dir(dir)
            .env("CARGO_HOME", &self.cargo_home)
            .env(
                "PATH",
                std::env::join_paths(paths).expect("PATH entries join"),
            )
            .env(
                "CARGO_TARGET_DIR",
                self.cargo_home
                    .parent()
                    .expect("the cargo home is in the scenario")
                    .join("crate-target"),
            );
        cmd
    }

    /// `cargo bpf-preload ARGS` in `dir`; returns its output, echoed.
    fn subcommand(&self, dir: &Path, args: &[&str]) -> Result<String> {
        let mut cmd = self.cargo(dir);
        cmd.arg("bpf-preload").args(args);
        let (ok, text) = combined_output(&mut cmd).context("running cargo bpf-preload")?;
        for line in text.lines() {
            println!("    | {line}");
        }
        if !ok {
            bail!(
                "cargo bpf-preload {} failed in {}",
                args.join(" "),
                dir.display()
            );
        }
        Ok(text)
    }
}

/// `cargo metadata` of the crate in `dir`, as the scenario's cargo resolves it.
fn resolve(env: &Env, dir: &Path) -> Result<cargo_metadata::Metadata> {
    MetadataCommand::new()
        .cargo_path(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .manifest_path(dir.join("Cargo.toml"))
        .current_dir(dir)
        .env("CARGO_HOME", &env.cargo_home)
        .exec()
        .with_context(|| format!("cargo metadata of {}", dir.display()))
}

/// Every published crate the new crate resolves to comes from the registry, as cargo
/// unpacked it into the scenario's `CARGO_HOME`; no package, lock file or manifest of
/// the crate or of the crates generated for its modules names the checkout. Returns
/// the directory of the `bpf-preload` package.
fn check_provenance(
    env: &Env,
    krate: &Path,
    target: &Path,
    index: &str,
    root: &Path,
) -> Result<PathBuf> {
    let source = format!("registry+{index}");
    let metadata = resolve(env, krate)?;
    let registry_src = env.cargo_home.join("registry/src");
    let mut seen = Vec::new();
    let mut runtime = None;
    for package in &metadata.packages {
        let manifest = package.manifest_path.as_std_path();
        ensure!(
            !manifest.starts_with(root),
            "{} {} comes from the checkout: {}",
            package.name,
            package.version,
            manifest.display()
        );
        if PUBLISHED.contains(&package.name.as_str()) {
            let from = package.source.as_ref().map(|s| s.repr.as_str());
            ensure!(
                from == Some(source.as_str()) && manifest.starts_with(&registry_src),
                "{} {} should come from {source}, unpacked in {}; it comes from {from:?} at {}",
                package.name,
                package.version,
                registry_src.display(),
                manifest.display()
            );
            seen.push(package.name.to_string());
            if package.name.as_str() == "bpf-preload" {
                runtime = manifest.parent().map(Path::to_path_buf);
            }
            println!(
                "    {} {} from {}",
                package.name,
                package.version,
                manifest.display()
            );
        }
    }
    // The new crate needs the runtime and what it is built from, not the builder.
    for name in &PUBLISHED[..5] {
        ensure!(
            seen.iter().any(|s| s == name),
            "the new crate does not resolve {name}"
        );
    }

    // The crate's lock file and the generated crates' manifests and lock files.
    let mut files = vec![krate.join("Cargo.lock")];
    collect_manifests(&target.join("bpf-preload"), &mut files)?;
    let checkout = root.to_string_lossy().into_owned();
    let mut wrappers = 0;
    for file in &files {
        let text =
            fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        ensure!(
            !text.contains(&checkout),
            "{} names the checkout {checkout}",
            file.display()
        );
        if file.ends_with("Cargo.toml") {
            ensure!(
                text.contains(&format!("registry-index = \"{index}\"")),
                "{} does not take bpf-preload from the registry",
                file.display()
            );
            wrappers += 1;
        } else {
            ensure!(
                text.contains(&format!("source = \"{source}\"")),
                "{} does not lock bpf-preload from the registry",
                file.display()
            );
        }
    }
    ensure!(
        wrappers >= 2,
        "found {wrappers} generated crates under {}, expected the runtime's and the table's",
        target.display()
    );
    println!(
        "    {} lock files and generated manifests name the registry, none the checkout",
        files.len()
    );
    runtime.context("the new crate does not resolve bpf-preload")
}

/// The generated crates' `Cargo.toml` and `Cargo.lock` files under `dir` (not in their
/// own target directories).
fn collect_manifests(dir: &Path, into: &mut Vec<PathBuf>) -> Result<()> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if path.is_dir() {
            // Not the target directories (`cargo`, a crate's `target`) nor Kbuild's.
            if name != "cargo" && name != "target" && !name.starts_with("kbuild-") {
                collect_manifests(&path, into)?;
            }
        } else if name == "Cargo.toml" || name == "Cargo.lock" {
            into.push(path);
        }
    }
    Ok(())
}
