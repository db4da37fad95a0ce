//! `cargo bpf-preload new`: a crate that builds as it is, with a BPF C source, its
//! compiled object (so that building needs no clang), the attribute and a README.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};

use crate::package::{toml_string, Runtime};
use crate::tools::fill;

/// The kind of program a new crate starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A BPF LSM policy (`lsm/path_mkdir`) refusing mkdir of a directory named
    /// `forbidden`, counting refusals in a map.
    Lsm,
    /// Two iterators (`iter/task`, `iter/bpf_map`), pinned as `tasks` and `maps`.
    Iter,
    /// A tracer (`tp_btf/sched_process_exec`) counting executions per user id.
    Tracing,
}

/// One template: the C source, its object (compiled by `cargo xtask bpf`, checked by
/// `cargo xtask bpf --check`) and the library source.
struct Template {
    source: &'static str,
    object: &'static [u8],
    lib: &'static str,
}

impl Kind {
    fn template(self) -> Template {
        match self {
            Kind::Lsm => Template {
                source: include_str!("../templates/new/lsm/program.bpf.c"),
                object: include_bytes!("../templates/new/lsm/program.bpf.o"),
                lib: include_str!("../templates/new/lsm/lib.rs"),
            },
            Kind::Iter => Template {
                source: include_str!("../templates/new/iter/program.bpf.c"),
                object: include_bytes!("../templates/new/iter/program.bpf.o"),
                lib: include_str!("../templates/new/iter/lib.rs"),
            },
            Kind::Tracing => Template {
                source: include_str!("../templates/new/tracing/program.bpf.c"),
                object: include_bytes!("../templates/new/tracing/program.bpf.o"),
                lib: include_str!("../templates/new/tracing/lib.rs"),
            },
        }
    }
}

// Not `Cargo.toml`: `cargo package` leaves out every directory holding one (a package
// of its own), and the templates must ship inside this one.
const CARGO_TOML: &str = include_str!("../templates/new/Cargo.toml.in");
const README: &str = include_str!("../templates/new/README.md");
const GITIGNORE: &str = include_str!("../templates/new/gitignore");

/// The runtime a new crate depends on when not told: the checkout this tool was
/// built from, if it is still there (`cargo install --path preload-build`), else
/// this version from crates.io. A tool built from its package (`cargo install
/// bpf-preload-build`, whose directory holds the `Cargo.toml.orig` that `cargo
/// package` keeps) never depends on a checkout, even one lying next to it.
pub fn default_runtime() -> Runtime {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let checkout = here.join("../preload-runtime");
    match checkout.canonicalize() {
        Ok(dir) if dir.join("Cargo.toml").exists() && !here.join("Cargo.toml.orig").exists() => {
            Runtime::Path(dir)
        }
        _ => Runtime::Registry {
            version: env!("CARGO_PKG_VERSION").to_string(),
            index: None,
        },
    }
}

/// What `new` made.
#[derive(Debug, Clone)]
pub struct Created {
    /// The crate's directory.
    pub dir: PathBuf,
    /// The module's name (the object's file name, with `_` for `-`).
    pub module: String,
    /// Files written, relative to `dir`.
    pub files: Vec<String>,
}

/// Makes crate `dir` (its last component is the package name) of `kind`, depending
/// on `runtime`.
pub fn create(dir: &Path, kind: Kind, runtime: &Runtime) -> Result<Created> {
    let package = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .with_context(|| format!("{} has no name to give the package", dir.display()))?;
    ensure!(
        !package.is_empty()
            && package.len() < 56
            && package.starts_with(|c: char| c.is_ascii_alphabetic())
            && package
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        "`{package}` cannot name the package and its module: a letter, then letters, digits, \
         `_` and `-`, at most 55"
    );
    if dir.exists() {
        bail!("{} already exists", dir.display());
    }
    // Kbuild names modules with `_` (KBUILD_MODNAME), and so do bpffs directories.
    let module = package.replace('-', "_");
    ensure!(
        !bpf_preload_model::names::RESERVED_MODULE_NAMES.contains(&module.as_str()),
        "`{package}` clashes with an object inside every module (shim, rust)"
    );
    let type_name: String = module
        .split('_')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    let template = kind.template();
    let dependency = format!("bpf-preload = {}", runtime_dependency(runtime));
    let values = [
        ("PACKAGE", package.as_str()),
        ("OBJ", module.as_str()),
        ("TYPE", type_name.as_str()),
    ];
    let source = template
        .source
        .replace("program.bpf.c", &format!("{module}.bpf.c"))
        .replace("program.bpf.o", &format!("{module}.bpf.o"));
    let files: Vec<(String, Vec<u8>)> = vec![
        (
            "Cargo.toml".into(),
            fill(
                CARGO_TOML,
                &[("PACKAGE", package.as_str()), ("DEPENDENCY", &dependency)],
            )
            .into_bytes(),
        ),
        ("README.md".into(), fill(README, &values[..2]).into_bytes()),
        (".gitignore".into(), GITIGNORE.as_bytes().to_vec()),
        (
            "src/lib.rs".into(),
            fill(template.lib, &values).into_bytes(),
        ),
        (format!("bpf/{module}.bpf.c"), source.into_bytes()),
        (format!("bpf/{module}.bpf.o"), template.object.to_vec()),
    ];
    for (path, contents) in &files {
        let path = dir.join(path);
        fs::create_dir_all(path.parent().context("a file has a directory")?)?;
        fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(Created {
        dir: dir.to_path_buf(),
        module,
        files: files.into_iter().map(|(p, _)| p).collect(),
    })
}

/// The dependency a user writes: the default features (none), any source.
fn runtime_dependency(runtime: &Runtime) -> String {
    match runtime {
        Runtime::Path(dir) => format!(
            "{{ path = {}, default-features = false }}",
            toml_string(&dir.to_string_lossy())
        ),
        Runtime::Registry {
            version,
            index: None,
        } => {
            format!(
                "{{ version = {}, default-features = false }}",
                toml_string(version)
            )
        }
        Runtime::NamedRegistry { version, registry } => format!(
            "{{ version = {}, registry = {}, default-features = false }}",
            toml_string(version),
            toml_string(registry)
        ),
        other => other.dependency(&[]).replace(", features = []", ""),
    }
}
