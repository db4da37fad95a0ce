//! Building the loaders compared, each as a program that loads one object RUNS times
//! and prints one `RUN <load_ns> <free_ns> <attached>/<programs> ...` line per run.
//!
//! - ours: a crate per object around `bench/ours/harness.rs`, in one workspace under
//!   target/bench/ours/ (release; `bpf-preload` with `std`);
//! - libbpf: `bench/libbpf/harness.c` against Debian's libbpf-dev (libbpf 1.1);
//! - light skeleton: `bench/lskel/user.c` compiled with the object's
//!   `bpftool gen skeleton -L` header (bpftool 7.1), one binary per object;
//! - aya: `bench/aya/`, its own workspace and lock file (aya 0.14.0, the newest
//!   release that builds with rustc 1.95).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use preload_devtools::{self as tools, cargo, root};

use crate::{output, work, Kind, Subject};

/// Writes `contents` unless the file holds exactly that (keeps mtimes for cargo).
pub fn write_if_changed(path: &Path, contents: &str) -> Result<()> {
    if fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(path, contents).with_context(|| format!("writing {}", path.display()))
}

fn toml_path(p: &Path) -> String {
    format!("{:?}", p.to_string_lossy())
}

/// The built peers: a program per loader (and per object where the loader compiles
/// the object in), or why it could not be built.
pub struct Peers {
    pub ours: BTreeMap<String, PathBuf>,
    pub libbpf: std::result::Result<PathBuf, String>,
    pub lskel: BTreeMap<String, std::result::Result<PathBuf, String>>,
    pub aya: std::result::Result<PathBuf, String>,
}

pub fn build(subjects: &[Subject]) -> Result<Peers> {
    Ok(Peers {
        ours: ours(subjects)?,
        libbpf: libbpf().map_err(|e| format!("{e:#}")),
        lskel: subjects
            .iter()
            .map(|s| (s.name.clone(), lskel_user(s).map_err(|e| format!("{e:#}"))))
            .collect(),
        aya: aya().map_err(|e| format!("{e:#}")),
    })
}

/// The ours crates, built in one `cargo build --release`.
fn ours(subjects: &[Subject]) -> Result<BTreeMap<String, PathBuf>> {
    let dir = work().join("ours");
    let harness = fs::read_to_string(root().join("bench/ours/harness.rs"))?;
    let mut members = Vec::new();
    for s in subjects {
        let krate = dir.join(&s.name);
        let mut manifest = tools::package_manifest(
            &format!("ours-{}", s.name),
            &[(
                "bpf-preload",
                tools::path_dependency(&root().join("preload-runtime"), "features = [\"std\"]"),
            )],
        );
        let main = match &s.kind {
            Kind::Example { dir, ty } => {
                let package = ty.split("::").next().unwrap_or_default();
                writeln!(manifest, "{package} = {{ path = {} }}", toml_path(dir))?;
                format!(
                    "mod harness;\n\nfn main() {{\n    \
                     harness::main(<{ty} as bpf_preload::Preload>::OBJECT)\n}}\n"
                )
            }
            Kind::Generated(_) => format!(
                "mod harness;\n\n#[bpf_preload::bpf_preload(obj = {})]\npub struct Bench;\n\n\
                 fn main() {{\n    harness::main(<Bench as bpf_preload::Preload>::OBJECT)\n}}\n",
                toml_path(&s.obj)
            ),
        };
        write_if_changed(&krate.join("Cargo.toml"), &manifest)?;
        write_if_changed(&krate.join("src/main.rs"), &main)?;
        write_if_changed(&krate.join("src/harness.rs"), &harness)?;
        members.push(s.name.clone());
    }
    tools::write_workspace(&dir, &members, "\n[profile.release]\nopt-level = 3\n")?;
    let target = dir.join("target");
    tools::run(
        cargo()
            .args(["build", "--release", "--quiet", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target),
    )?;
    Ok(subjects
        .iter()
        .map(|s| {
            let bin = target.join(format!("release/ours-{}", s.name));
            (s.name.clone(), bin)
        })
        .collect())
}

fn libbpf() -> Result<PathBuf> {
    let out = work().join("peers/libbpf-harness");
    fs::create_dir_all(out.parent().context("a parent")?)?;
    output(
        Command::new("gcc")
            .args(["-O2", "-Wall"])
            .arg(root().join("bench/libbpf/harness.c"))
            .args(["-lbpf", "-o"])
            .arg(&out),
    )?;
    Ok(out)
}

/// The light skeleton's name for an object (`<name>_bpf`, as the kernel's own).
pub fn skel_name(subject: &Subject) -> String {
    format!("{}_bpf", subject.name)
}

/// `bpftool gen skeleton -L OBJ name <name>_bpf > DIR/<name>.lskel.h`.
pub fn gen_skeleton(subject: &Subject, dir: &Path) -> Result<PathBuf> {
    fs::create_dir_all(dir)?;
    let header = dir.join(format!("{}.lskel.h", subject.name));
    let text = output(
        Command::new("bpftool")
            .args(["gen", "skeleton", "-L"])
            .arg(&subject.obj)
            .args(["name", &skel_name(subject)]),
    )?;
    fs::write(&header, text)?;
    Ok(header)
}

/// The gcc command compiling bench/lskel/user.c with the object's skeleton in `dir`.
pub fn lskel_gcc(subject: &Subject, dir: &Path) -> Command {
    let mut cmd = Command::new("gcc");
    cmd.args(["-O2", "-Wall"])
        .arg(format!("-I{}", dir.display()))
        .arg(format!("-DSKEL={}", skel_name(subject)))
        .arg(format!("-DSKEL_H=\"{}.lskel.h\"", subject.name))
        .arg(root().join("bench/lskel/user.c"));
    cmd
}

fn lskel_user(subject: &Subject) -> Result<PathBuf> {
    let dir = work().join("lskel-user").join(&subject.name);
    gen_skeleton(subject, &dir)?;
    let bin = dir.join(format!("lskel-{}", subject.name));
    output(lskel_gcc(subject, &dir).arg("-o").arg(&bin))?;
    Ok(bin)
}

fn aya() -> Result<PathBuf> {
    let target = work().join("aya");
    output(
        cargo()
            .args([
                "build",
                "--release",
                "--locked",
                "--quiet",
                "--manifest-path",
            ])
            .arg(root().join("bench/aya/Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target),
    )?;
    Ok(target.join("release/aya-bench"))
}
