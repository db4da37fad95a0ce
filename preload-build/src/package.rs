//! The user's crate, as cargo and the compiler see it: its package (from `cargo
//! metadata`), the exact `bpf-preload` it resolves to, and the struct carrying
//! `#[bpf_preload]` (found with syn in the library's module tree).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};
use bpf_preload_codegen::parse::Args;
use bpf_preload_model::names;
use cargo_metadata::{Metadata, MetadataCommand, Package, PackageId};

/// The runtime's package name.
const RUNTIME: &str = "bpf-preload";

/// A crate with one `#[bpf_preload]` struct: what a module is built from.
#[derive(Debug, Clone)]
pub struct Crate {
    /// The package name, e.g. `my-policy`.
    pub package: String,
    /// The package version (the DKMS package's version).
    pub version: String,
    /// Its `description`, if the manifest has one (the Debian package's).
    pub description: Option<String>,
    /// Its `license` (an SPDX expression), if the manifest has one.
    pub license: Option<String>,
    /// Its `authors`.
    pub authors: Vec<String>,
    /// The directory of its `Cargo.toml`.
    pub dir: PathBuf,
    /// The library's crate name, as Rust code names it (`my_policy`).
    pub lib_name: String,
    /// The `bpf-preload` this crate depends on, exactly.
    pub runtime: Runtime,
    /// Its version (the runtime's DKMS package's version).
    pub runtime_version: String,
    /// Its directory, where cargo unpacked or checked it out: the runtime's C half
    /// (`kernel/`) is read from there, so it always matches the Rust half it links.
    pub runtime_dir: PathBuf,
    /// Its `license`, as its manifest says (the runtime module's Debian package's).
    pub runtime_license: Option<String>,
    /// Where cargo puts this workspace's build output; ours goes to
    /// `<target_dir>/bpf-preload/`.
    pub target_dir: PathBuf,
    /// The workspace's `Cargo.lock`, if it has one: the wrapper crates start from it,
    /// so they build the same versions.
    pub lockfile: Option<PathBuf>,
    /// The annotated struct.
    pub preloaded: Preloaded,
}

/// The `bpf-preload` package a crate resolves to, as a dependency specification that
/// names exactly that package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runtime {
    /// A path dependency (or a `[patch]` to a path): the package's directory.
    Path(PathBuf),
    /// From a registry: the exact version, and the index (`None` for crates.io).
    Registry {
        /// The resolved version.
        version: String,
        /// The registry's index URL, as cargo spells it in the source id.
        index: Option<String>,
    },
    /// From a registry named in cargo's configuration (`[registries.NAME]`): what
    /// `cargo bpf-preload new --runtime-registry` writes. A crate's resolved runtime
    /// names its registry by index instead.
    NamedRegistry {
        /// The version asked for.
        version: String,
        /// The registry's name.
        registry: String,
    },
    /// From git: the repository and what the dependency asked for.
    Git {
        /// The repository URL.
        url: String,
        /// `branch`, `tag` or `rev`, with its value, if the dependency named one.
        reference: Option<(String, String)>,
    },
}

impl Runtime {
    /// The inline TOML table of a dependency on this package, with `features`.
    pub fn dependency(&self, features: &[&str]) -> String {
        let source = match self {
            Runtime::Path(dir) => format!("path = {}", toml_string(&dir.to_string_lossy())),
            Runtime::Registry { version, index } => {
                let mut s = format!("version = {}", toml_string(&format!("={version}")));
                if let Some(index) = index {
                    s.push_str(&format!(", registry-index = {}", toml_string(index)));
                }
                s
            }
            Runtime::NamedRegistry { version, registry } => format!(
                "version = {}, registry = {}",
                toml_string(&format!("={version}")),
                toml_string(registry)
            ),
            Runtime::Git { url, reference } => {
                let mut s = format!("git = {}", toml_string(url));
                if let Some((key, value)) = reference {
                    s.push_str(&format!(", {key} = {}", toml_string(value)));
                }
                s
            }
        };
        let features: Vec<String> = features.iter().map(|f| toml_string(f)).collect();
        format!(
            "{{ {source}, default-features = false, features = [{}] }}",
            features.join(", ")
        )
    }

    /// From cargo's source id of the resolved package (`None`: a path).
    fn from_source(package: &Package) -> Result<Self> {
        let Some(source) = &package.source else {
            let dir = package
                .manifest_path
                .parent()
                .context("a manifest path has a directory")?;
            return Ok(Runtime::Path(dir.into()));
        };
        let repr = source.repr.as_str();
        if let Some(index) = repr.strip_prefix("registry+") {
            let crates_io = index == "https://github.com/rust-lang/crates.io-index";
            return Ok(Runtime::Registry {
                version: package.version.to_string(),
                index: (!crates_io).then(|| index.to_string()),
            });
        }
        if repr.starts_with("sparse+") {
            let crates_io = repr == "sparse+https://index.crates.io/";
            return Ok(Runtime::Registry {
                version: package.version.to_string(),
                index: (!crates_io).then(|| repr.to_string()),
            });
        }
        if let Some(git) = repr.strip_prefix("git+") {
            // git+URL[?branch=B|tag=T|rev=R]#COMMIT: the lock file pins the commit.
            let url_and_query = git.split('#').next().unwrap_or(git);
            let (url, query) = match url_and_query.split_once('?') {
                Some((url, query)) => (url, Some(query)),
                None => (url_and_query, None),
            };
            let reference = query
                .and_then(|q| q.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()));
            return Ok(Runtime::Git {
                url: url.to_string(),
                reference,
            });
        }
        bail!(
            "{} {} comes from {repr}, a kind of source this tool does not know (path, registry \
             and git are supported)",
            package.name,
            package.version
        )
    }
}

impl std::fmt::Display for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Runtime::Path(dir) => write!(f, "{RUNTIME} at {}", dir.display()),
            Runtime::Registry { version, index } => write!(
                f,
                "{RUNTIME} {version} from {}",
                index.as_deref().unwrap_or("crates.io")
            ),
            Runtime::NamedRegistry { version, registry } => {
                write!(f, "{RUNTIME} {version} from registry `{registry}`")
            }
            Runtime::Git { url, reference } => match reference {
                Some((k, v)) => write!(f, "{RUNTIME} from {url} ({k} {v})"),
                None => write!(f, "{RUNTIME} from {url}"),
            },
        }
    }
}

/// A TOML basic string.
pub fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The struct carrying `#[bpf_preload]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preloaded {
    /// How the wrapper crate names it, e.g. `my_policy::policy::Guard`.
    pub path: String,
    /// The object's name, which is the module's: the attribute's `name`, else the
    /// object file's name up to the first `.` (the macro's rule).
    pub name: String,
    /// The source file holding the attribute.
    pub file: PathBuf,
}

impl Crate {
    /// The crate at `dir` (a directory with `Cargo.toml`, or the manifest itself). In
    /// a workspace's root directory, the package there, else the one member that
    /// depends on `bpf-preload`.
    pub fn open(dir: &Path) -> Result<Self> {
        let manifest = if dir.is_file() {
            dir.to_path_buf()
        } else {
            dir.join("Cargo.toml")
        };
        ensure!(
            manifest.exists(),
            "{} is not a crate: it has no Cargo.toml",
            dir.display()
        );
        let metadata = MetadataCommand::new()
            .cargo_path(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .manifest_path(&manifest)
            .exec()
            .with_context(|| format!("cargo metadata for {}", manifest.display()))?;
        let package = choose_package(&metadata, &manifest)?;
        let lib = package
            .targets
            .iter()
            .find(|t| t.is_lib() || t.kind.iter().any(|k| k.to_string() == "rlib"))
            .with_context(|| {
                format!(
                    "package `{}` has no library target: #[bpf_preload] goes into its src/lib.rs",
                    package.name
                )
            })?;
        let runtime_package = resolved_runtime(&metadata, &package.id).with_context(|| {
            format!(
                "package `{}` does not depend on {RUNTIME}: add it to [dependencies], e.g. \
                 `{RUNTIME} = {{ version = \"0.1\", default-features = false }}`",
                package.name
            )
        })?;
        let runtime = Runtime::from_source(runtime_package)?;
        let runtime_version = runtime_package.version.to_string();
        let runtime_dir = runtime_package
            .manifest_path
            .parent()
            .context("a manifest path has a directory")?
            .into();
        let runtime_license = runtime_package.license.clone();
        let lib_name = lib.name.replace('-', "_");
        let src_path: PathBuf = lib.src_path.clone().into();
        let preloaded = find_preloaded(&src_path, &lib_name)?;
        let lockfile = metadata.workspace_root.join("Cargo.lock");
        Ok(Crate {
            package: package.name.to_string(),
            version: package.version.to_string(),
            description: package.description.clone(),
            license: package.license.clone(),
            authors: package.authors.clone(),
            dir: package
                .manifest_path
                .parent()
                .context("a manifest path has a directory")?
                .into(),
            lib_name,
            runtime,
            runtime_version,
            runtime_dir,
            runtime_license,
            target_dir: metadata.target_directory.clone().into(),
            lockfile: lockfile.exists().then(|| lockfile.into()),
            preloaded,
        })
    }

    /// `<target_dir>/bpf-preload`: everything this tool writes for the crate's workspace.
    pub fn work_dir(&self) -> PathBuf {
        self.target_dir.join("bpf-preload")
    }

    /// The dependency on the user's own package, for the generated crates.
    pub fn dependency(&self) -> String {
        format!("{{ path = {} }}", toml_string(&self.dir.to_string_lossy()))
    }
}

fn choose_package<'a>(metadata: &'a Metadata, manifest: &Path) -> Result<&'a Package> {
    let manifest = manifest
        .canonicalize()
        .with_context(|| format!("{} does not exist", manifest.display()))?;
    let members: Vec<&Package> = metadata.workspace_packages();
    if let Some(p) = members.iter().find(|p| {
        Path::new(p.manifest_path.as_std_path())
            .canonicalize()
            .is_ok_and(|m| m == manifest)
    }) {
        return Ok(p);
    }
    let using: Vec<&&Package> = members
        .iter()
        .filter(|p| p.dependencies.iter().any(|d| d.name == RUNTIME))
        .collect();
    match using[..] {
        [one] => Ok(one),
        [] => bail!(
            "{} is a workspace without a member that depends on {RUNTIME}",
            manifest.display()
        ),
        _ => bail!(
            "{} is a workspace whose members {} all depend on {RUNTIME}: pass the directory of one",
            manifest.display(),
            using
                .iter()
                .map(|p| format!("`{}`", p.name))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The `bpf-preload` package that `package` depends on, in cargo's resolve.
fn resolved_runtime<'a>(metadata: &'a Metadata, package: &PackageId) -> Option<&'a Package> {
    let resolve = metadata.resolve.as_ref()?;
    let node = resolve.nodes.iter().find(|n| &n.id == package)?;
    node.deps
        .iter()
        .filter(|d| {
            // Not a dev- or build-only dependency: the library's own.
            d.dep_kinds.is_empty()
                || d.dep_kinds
                    .iter()
                    .any(|k| k.kind == cargo_metadata::DependencyKind::Normal)
        })
        .map(|d| &metadata[&d.pkg])
        .find(|p| p.name.as_str() == RUNTIME)
}

/// One `#[bpf_preload]` struct found in the module tree.
struct Found {
    /// Module path from the crate root, e.g. `["policy"]`.
    modules: Vec<String>,
    ident: String,
    /// Every module on the way and the struct itself are `pub`.
    public: bool,
    attr: syn::Attribute,
    file: PathBuf,
}

/// The struct carrying `#[bpf_preload]` in the library rooted at `lib_rs`, in any
/// module: inline, in `name.rs` or `name/mod.rs`, or at a `#[path]`.
pub fn find_preloaded(lib_rs: &Path, lib_name: &str) -> Result<Preloaded> {
    let file = parse(lib_rs)?;
    let root_dir = lib_rs.parent().context("the library has a directory")?;
    let mut found = Vec::new();
    walk(
        &file.items,
        lib_rs,
        root_dir,
        &mut Vec::new(),
        true,
        &mut found,
    )?;
    let one = match found.len() {
        1 => found.remove(0),
        0 => bail!(
            "the library of {} ({}) has no struct with #[bpf_preload(obj = \"...\")]",
            lib_name,
            lib_rs.display()
        ),
        _ => bail!(
            "the library {} has several #[bpf_preload] structs ({}); a module preloads one",
            lib_name,
            found
                .iter()
                .map(|f| path_of(lib_name, &f.modules, &f.ident))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let path = if one.public {
        path_of(lib_name, &one.modules, &one.ident)
    } else if let Some(name) = reexport(&file.items, &one.ident) {
        format!("{lib_name}::{name}")
    } else {
        bail!(
            "{} in {} is not reachable from outside the crate: make it and its modules `pub`, \
             or `pub use` it at the crate root",
            path_of(lib_name, &one.modules, &one.ident),
            one.file.display()
        );
    };
    let name = object_name(&one.attr, &one.file)?;
    Ok(Preloaded {
        path,
        name,
        file: one.file,
    })
}

fn path_of(lib_name: &str, modules: &[String], ident: &str) -> String {
    let mut parts = vec![lib_name.to_string()];
    parts.extend(modules.iter().cloned());
    parts.push(ident.to_string());
    parts.join("::")
}

fn parse(file: &Path) -> Result<syn::File> {
    let source = fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    syn::parse_file(&source).with_context(|| format!("parsing {}", file.display()))
}

fn is_bpf_preload(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "bpf_preload")
}

/// `#[path = "..."]` on a module.
fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

/// Walks `items` of the module at `modules`, whose source is `file` and whose child
/// modules live in `dir` (the rules of the reference's "Module Source Filenames").
fn walk(
    items: &[syn::Item],
    file: &Path,
    dir: &Path,
    modules: &mut Vec<String>,
    public: bool,
    found: &mut Vec<Found>,
) -> Result<()> {
    for item in items {
        match item {
            syn::Item::Struct(s) => {
                for attr in s.attrs.iter().filter(|a| is_bpf_preload(a)) {
                    found.push(Found {
                        modules: modules.clone(),
                        ident: s.ident.to_string(),
                        public: public && matches!(s.vis, syn::Visibility::Public(_)),
                        attr: attr.clone(),
                        file: file.to_path_buf(),
                    });
                }
            }
            syn::Item::Mod(m) => {
                let name = m.ident.to_string();
                let public = public && matches!(m.vis, syn::Visibility::Public(_));
                modules.push(name.clone());
                if let Some((_, inline)) = &m.content {
                    let child_dir = match path_attr(&m.attrs) {
                        Some(p) => dir.join(p),
                        None => dir.join(&name),
                    };
                    walk(inline, file, &child_dir, modules, public, found)?;
                } else {
                    let child = match path_attr(&m.attrs) {
                        Some(p) => dir.join(p),
                        None => {
                            let flat = dir.join(format!("{name}.rs"));
                            if flat.exists() {
                                flat
                            } else {
                                dir.join(&name).join("mod.rs")
                            }
                        }
                    };
                    ensure!(
                        child.exists(),
                        "module `{}` of {} has no source: neither {} nor {}",
                        modules.join("::"),
                        file.display(),
                        dir.join(format!("{name}.rs")).display(),
                        dir.join(&name).join("mod.rs").display()
                    );
                    // A `mod.rs` (or a #[path] file) keeps its children beside it; a
                    // `name.rs` keeps them in `name/`.
                    let child_dir = if child.file_name().is_some_and(|f| f == "mod.rs")
                        || path_attr(&m.attrs).is_some()
                    {
                        child.parent().unwrap_or(dir).to_path_buf()
                    } else {
                        dir.join(&name)
                    };
                    let parsed = parse(&child)?;
                    walk(&parsed.items, &child, &child_dir, modules, public, found)?;
                }
                modules.pop();
            }
            _ => {}
        }
    }
    Ok(())
}

/// The name a crate-root `pub use` gives `ident`, if one does.
fn reexport(items: &[syn::Item], ident: &str) -> Option<String> {
    fn tree(t: &syn::UseTree, ident: &str) -> Option<String> {
        match t {
            syn::UseTree::Path(p) => tree(&p.tree, ident),
            syn::UseTree::Name(n) if n.ident == ident => Some(ident.to_string()),
            syn::UseTree::Rename(r) if r.ident == ident => Some(r.rename.to_string()),
            syn::UseTree::Group(g) => g.items.iter().find_map(|t| tree(t, ident)),
            _ => None,
        }
    }
    items.iter().find_map(|item| match item {
        syn::Item::Use(u) if matches!(u.vis, syn::Visibility::Public(_)) => tree(&u.tree, ident),
        _ => None,
    })
}

/// The object's name from the attribute, read by the macro's own grammar
/// ([`Args`]) and named by its rule (one rule, in [`names`]).
fn object_name(attr: &syn::Attribute, file: &Path) -> Result<String> {
    let args: Args = attr
        .parse_args()
        .with_context(|| format!("parsing the #[bpf_preload] attribute in {}", file.display()))?;
    let name = args.object_name();
    if let Some(problem) = names::object_name_problem(&name) {
        bail!(
            "`{name}` (the object's name, in {}) cannot be a module name: {problem}",
            file.display()
        );
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory per call: tests run in parallel.
    fn tree(files: &[(&str, &str)]) -> PathBuf {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("bpf-preload-build-test-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        for (path, text) in files {
            let path = dir.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        dir
    }

    #[test]
    fn finds_the_struct_in_nested_module_files() {
        let dir = tree(&[
            (
                "src/lib.rs",
                "pub mod policy;\nmod other { pub struct X; }\n",
            ),
            ("src/policy.rs", "pub mod inner;\n"),
            (
                "src/policy/inner/mod.rs",
                "#[bpf_preload::bpf_preload(obj = \"x/guard.bpf.o\")]\npub struct Guard;\n",
            ),
        ]);
        let found = find_preloaded(&dir.join("src/lib.rs"), "my_crate").unwrap();
        assert_eq!(found.path, "my_crate::policy::inner::Guard");
        assert_eq!(found.name, "guard");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn private_structs_through_a_reexport() {
        let dir = tree(&[
            ("src/lib.rs", "mod a { #[bpf_preload(obj = \"o.bpf.o\", name = \"n_1\")] pub struct S; }\npub use a::S as Public;\n"),
        ]);
        let found = find_preloaded(&dir.join("src/lib.rs"), "c").unwrap();
        assert_eq!(found.path, "c::Public");
        assert_eq!(found.name, "n_1");
        fs::remove_dir_all(dir).unwrap();
    }

    /// The macro's rule: `-` in a file name becomes `_`, and what the macro refuses
    /// (a `-` given in `name`, a name every module holds) is refused here too.
    #[test]
    fn object_names_follow_the_macros_rule() {
        let dir = tree(&[(
            "src/lib.rs",
            "#[bpf_preload(obj = \"bpf/my-guard.bpf.o\")] pub struct S;\n",
        )]);
        let found = find_preloaded(&dir.join("src/lib.rs"), "c").unwrap();
        assert_eq!(found.name, "my_guard");
        fs::remove_dir_all(dir).unwrap();
        for bad in ["n-1", "shim"] {
            let dir = tree(&[(
                "src/lib.rs",
                &format!("#[bpf_preload(obj = \"o.bpf.o\", name = \"{bad}\")] pub struct S;\n"),
            )]);
            let err = find_preloaded(&dir.join("src/lib.rs"), "c").unwrap_err();
            assert!(
                err.to_string().contains("cannot be a module name"),
                "{bad}: {err}"
            );
            fs::remove_dir_all(dir).unwrap();
        }
    }

    #[test]
    fn dependencies_name_the_exact_source() {
        let git = Runtime::Git {
            url: "https://example.org/r.git".into(),
            reference: Some(("branch".into(), "main".into())),
        };
        assert_eq!(
            git.dependency(&["kernel"]),
            "{ git = \"https://example.org/r.git\", branch = \"main\", default-features = false, features = [\"kernel\"] }"
        );
        let registry = Runtime::Registry {
            version: "0.1.0".into(),
            index: None,
        };
        assert_eq!(
            registry.dependency(&[]),
            "{ version = \"=0.1.0\", default-features = false, features = [] }"
        );
        let named = Runtime::NamedRegistry {
            version: "0.1.0".into(),
            registry: "ours".into(),
        };
        assert_eq!(
            named.dependency(&["kernel"]),
            "{ version = \"=0.1.0\", registry = \"ours\", default-features = false, features = [\"kernel\"] }"
        );
    }
}
