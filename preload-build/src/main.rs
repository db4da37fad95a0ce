//! `cargo bpf-preload`: a crate using bpf-preload into a kernel module, onto every
//! boot, and into DKMS. Run `cargo bpf-preload --help`.
// The doc comments below are clap's help text, written for a terminal (`<DIR>`).
#![allow(rustdoc::invalid_html_tags)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use bpf_preload_build::install::{self, Target};
use bpf_preload_build::new::{self, Kind};
use bpf_preload_build::{deb, dkms, find_kdir, module, Crate, KernelTree, Runtime};

#[derive(Parser)]
#[command(
    name = "cargo bpf-preload",
    bin_name = "cargo bpf-preload",
    version,
    about = "Build a crate using bpf-preload into a kernel module, install it for every boot, make DKMS trees and Debian packages of them"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct CrateArg {
    /// The crate: its directory or Cargo.toml [default: the current directory].
    #[arg(long, value_name = "PATH", default_value = ".")]
    manifest_path: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Make a new crate: a BPF C source, its compiled object, the attribute and a
    /// README; it builds as it is.
    New {
        /// The crate's directory; its last component names the package and module.
        path: PathBuf,
        /// A BPF LSM policy refusing mkdir of directories named `forbidden` (default).
        #[arg(long, group = "kind")]
        lsm: bool,
        /// Two iterators, pinned as the files `tasks` and `maps`.
        #[arg(long, group = "kind")]
        iter: bool,
        /// A tp_btf tracer counting program executions per user.
        #[arg(long, group = "kind")]
        tracing: bool,
        /// Depend on bpf-preload at this path [default: the checkout this tool was
        /// installed from, if it is still there, else crates.io].
        #[arg(long, value_name = "DIR", group = "runtime")]
        runtime_path: Option<PathBuf>,
        /// Depend on bpf-preload from this git repository.
        #[arg(long, value_name = "URL", group = "runtime")]
        runtime_git: Option<String>,
        /// Depend on this version of bpf-preload [default: this tool's version],
        /// from crates.io or the registry given with --runtime-registry.
        #[arg(long, value_name = "VERSION", conflicts_with_all = ["runtime_path", "runtime_git"])]
        runtime_version: Option<String>,
        /// Depend on bpf-preload from this registry of cargo's configuration
        /// (`[registries.NAME]`), e.g. a company's own.
        #[arg(long, value_name = "NAME", group = "runtime")]
        runtime_registry: Option<String>,
    },
    /// Build `<name>.ko` for one or several kernels.
    Build {
        #[command(flatten)]
        krate: CrateArg,
        /// Kernel build directory (repeatable) [default: /lib/modules/$(uname -r)/build,
        /// else the newest /usr/src/linux-headers-*].
        #[arg(long, value_name = "DIR")]
        kdir: Vec<PathBuf>,
        /// Sign with the kernel's scripts/sign-file and this private key and
        /// certificate (a MOK on Secure Boot machines).
        #[arg(long, num_args = 2, value_names = ["KEY", "CERT"])]
        sign: Option<Vec<PathBuf>>,
        /// Let rmmod detach and free everything. Without it rmmod is refused and the
        /// programs stay until shutdown.
        #[arg(long)]
        unloadable: bool,
        /// Directory for the .ko [default: <target>/bpf-preload/<release>/].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Build and install the module for every boot: /lib/modules/<release>/updates/,
    /// depmod, /etc/modules-load.d/<name>.conf; with --initramfs, also the initramfs.
    Install {
        #[command(flatten)]
        krate: CrateArg,
        /// The kernel to install for [default: as `build`; with --root, the one kernel
        /// installed in the tree].
        #[arg(long, value_name = "DIR")]
        kdir: Option<PathBuf>,
        /// Also load it from the initramfs, before udev, the root filesystem and init
        /// (initramfs-tools: a hook in /etc/initramfs-tools/hooks/ that adds it with its
        /// dependencies, an init-top script that modprobes it, then update-initramfs -u).
        #[arg(long)]
        initramfs: bool,
        /// Install into this image tree instead of / (update-initramfs runs inside it
        /// with chroot, if it has initramfs-tools).
        #[arg(long, value_name = "DIR", default_value = "/")]
        root: PathBuf,
        /// Sign the module (see `build --sign`).
        #[arg(long, num_args = 2, value_names = ["KEY", "CERT"])]
        sign: Option<Vec<PathBuf>>,
        /// Install an unloadable module (see `build --unloadable`).
        #[arg(long)]
        unloadable: bool,
    },
    /// Undo `install`: the module of every kernel, modules-load.d, the initramfs hook and
    /// script.
    Uninstall {
        #[command(flatten)]
        krate: CrateArg,
        /// The image tree it was installed into.
        #[arg(long, value_name = "DIR", default_value = "/")]
        root: PathBuf,
    },
    /// Write the DKMS source trees of the object module (object.c and the table) and
    /// of the runtime module (runtime.c, Kbuild and the loader's Rust part prebuilt
    /// for the code-generation flags of each kernel given).
    Dkms {
        #[command(flatten)]
        krate: CrateArg,
        /// Where the two trees go, as `<name>-<version>/` and
        /// `bpf-preload-runtime-<version>/` [default: <target>/bpf-preload/dkms/].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Kernels whose flag sets to ship (repeatable) [default: every
        /// /usr/src/linux-headers-* with Module.symvers].
        #[arg(long, value_name = "DIR")]
        kdir: Vec<PathBuf>,
        /// Unloadable modules (see `build --unloadable`).
        #[arg(long)]
        unloadable: bool,
    },
    /// Make Debian packages of the two DKMS trees with dpkg-buildpackage and dh-dkms:
    /// bpf-preload-runtime-dkms and <name>-dkms (which depends on it), in a flat apt
    /// repository.
    Deb {
        #[command(flatten)]
        krate: CrateArg,
        /// The apt repository the packages go to (indexed with dpkg-scanpackages)
        /// [default: <target>/bpf-preload/deb/].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Kernels whose flag sets the runtime ships (see `dkms --kdir`).
        #[arg(long, value_name = "DIR")]
        kdir: Vec<PathBuf>,
        /// Unloadable modules (see `build --unloadable`).
        #[arg(long)]
        unloadable: bool,
        /// `Name <email>` for the packages [default: DEBFULLNAME and DEBEMAIL, else
        /// the crate's first author, else user@hostname].
        #[arg(long, value_name = "NAME <EMAIL>")]
        maintainer: Option<String>,
        /// Do not ship /usr/lib/modules-load.d/<name>.conf (the module then loads only
        /// when something asks for it).
        #[arg(long)]
        no_modules_load: bool,
    },
    /// What the runtime module holds on this machine: every object of every object
    /// module, its programs (attach point, and whether its link is still there and
    /// runs it) and its maps, each checked against the kernel by id. Needs root.
    Status,
}

fn main() -> ExitCode {
    // As a cargo subcommand, cargo passes our name first: `cargo-bpf-preload bpf-preload ...`.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "bpf-preload") {
        args.remove(1);
    }
    match run(Cli::parse_from(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn pair(sign: Option<Vec<PathBuf>>) -> Option<(PathBuf, PathBuf)> {
    sign.map(|s| (s[0].clone(), s[1].clone()))
}

fn open(krate: &CrateArg) -> Result<Crate> {
    Crate::open(&krate.manifest_path)
}

fn kernel(kdir: Option<&Path>) -> Result<KernelTree> {
    kernel_because(kdir, "--kdir")
}

/// The kernel tree at `kdir` (found if `None`), saying why it is that one.
fn kernel_because(kdir: Option<&Path>, given: &str) -> Result<KernelTree> {
    let (dir, mut why) = find_kdir(kdir)?;
    if kdir.is_some() {
        why = given.to_string();
    }
    let kernel = KernelTree::open(&dir)?;
    println!("==> kernel {} ({}, {why})", kernel.release, dir.display());
    Ok(kernel)
}

/// The kernels a DKMS tree ships flag sets for: `--kdir`, else every installed
/// kernel's headers.
fn dkms_kernels(kdir: Vec<PathBuf>) -> Result<Vec<KernelTree>> {
    let dirs = if kdir.is_empty() {
        bpf_preload_build::kernel::installed_headers()
    } else {
        kdir
    };
    dirs.iter().map(|d| KernelTree::open(d)).collect()
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::New {
            path,
            lsm: _,
            iter,
            tracing,
            runtime_path,
            runtime_git,
            runtime_version,
            runtime_registry,
        } => {
            let kind = if iter {
                Kind::Iter
            } else if tracing {
                Kind::Tracing
            } else {
                Kind::Lsm
            };
            let runtime = if let Some(dir) = runtime_path {
                Runtime::Path(
                    dir.canonicalize()
                        .with_context(|| format!("--runtime-path {}", dir.display()))?,
                )
            } else if let Some(url) = runtime_git {
                Runtime::Git {
                    url,
                    reference: None,
                }
            } else if let Some(registry) = runtime_registry {
                Runtime::NamedRegistry {
                    version: runtime_version.unwrap_or_else(|| env!("CARGO_PKG_VERSION").into()),
                    registry,
                }
            } else if let Some(version) = runtime_version {
                Runtime::Registry {
                    version,
                    index: None,
                }
            } else {
                new::default_runtime()
            };
            let created = new::create(&path, kind, &runtime)?;
            println!(
                "==> created {} (module `{}`, {runtime}):",
                created.dir.display(),
                created.module
            );
            for file in &created.files {
                println!("    {file}");
            }
            println!(
                "\n    cd {} && cargo bpf-preload build",
                created.dir.display()
            );
            Ok(())
        }
        Command::Build {
            krate,
            kdir,
            sign,
            unloadable,
            out,
        } => {
            let krate = open(&krate)?;
            let kdirs: Vec<Option<&Path>> = if kdir.is_empty() {
                vec![None]
            } else {
                kdir.iter().map(|d| Some(d.as_path())).collect()
            };
            let options = module::Options {
                out,
                sign: pair(sign),
                unloadable,
                verbose: false,
                table_layout: None,
            };
            for kdir in kdirs {
                let kernel = kernel(kdir)?;
                println!(
                    "==> building `{}` ({}, {})",
                    krate.preloaded.name, krate.preloaded.path, krate.runtime
                );
                let built = module::build(&krate, &kernel, &options)?;
                println!("==> built {}", built.ko.display());
                for line in module::summary(&built, &kernel, unloadable)? {
                    println!("    {line}");
                }
                for line in module::describe(&krate, kernel.is_preload())? {
                    println!("    {line}");
                }
            }
            Ok(())
        }
        Command::Install {
            krate,
            kdir,
            initramfs,
            root,
            sign,
            unloadable,
        } => {
            let krate = open(&krate)?;
            let (kdir, why) = match kdir {
                Some(dir) => (Some(dir), "--kdir".to_string()),
                None if root != Path::new("/") => (
                    Some(install::kdir_in(&root)?),
                    format!("the one kernel installed in {}", root.display()),
                ),
                None => (None, String::new()),
            };
            let kernel = kernel_because(kdir.as_deref(), &why)?;
            let built = module::build(
                &krate,
                &kernel,
                &module::Options {
                    out: None,
                    sign: pair(sign),
                    unloadable,
                    verbose: false,
                    table_layout: None,
                },
            )?;
            println!("==> built {}", built.ko.display());
            for line in install::install(&built, &kernel, &Target { root, initramfs })? {
                println!("    {line}");
            }
            Ok(())
        }
        Command::Uninstall { krate, root } => {
            let krate = open(&krate)?;
            for line in install::uninstall(&krate.preloaded.name, &root)? {
                println!("    {line}");
            }
            Ok(())
        }
        Command::Dkms {
            krate,
            out,
            kdir,
            unloadable,
        } => {
            let krate = open(&krate)?;
            let trees = dkms::trees(
                &krate,
                &dkms_kernels(kdir)?,
                out.as_deref(),
                unloadable,
                false,
            )?;
            for tree in [&trees.runtime, &trees.object] {
                println!(
                    "==> DKMS tree of `{}` {} in {}",
                    tree.name,
                    tree.version,
                    tree.dir.display()
                );
                if std::ptr::eq(tree, &trees.runtime) {
                    for (codegen, releases) in &trees.shipped {
                        println!(
                            "    {codegen}.o_shipped: {} ({})",
                            codegen.rustflags().join(" "),
                            releases.join(", ")
                        );
                    }
                }
            }
            println!("\n    the runtime first, then the object:");
            for tree in [&trees.runtime, &trees.object] {
                println!(
                    "    sudo cp -r {dir} /usr/src/ && sudo dkms install {name}/{version}",
                    dir = tree.dir.display(),
                    name = tree.name,
                    version = tree.version
                );
            }
            Ok(())
        }
        Command::Deb {
            krate,
            out,
            kdir,
            unloadable,
            maintainer,
            no_modules_load,
        } => {
            let krate = open(&krate)?;
            let trees = dkms::trees(&krate, &dkms_kernels(kdir)?, None, unloadable, false)?;
            for (codegen, releases) in &trees.shipped {
                println!(
                    "==> runtime's Rust part {codegen}.o_shipped ({})",
                    releases.join(", ")
                );
            }
            let options = deb::Options {
                out,
                maintainer,
                modules_load: !no_modules_load,
            };
            let debs = deb::packages(&krate, &trees, &options)?;
            for (deb, tree) in [
                (&debs.runtime, &trees.runtime),
                (&debs.object, &trees.object),
            ] {
                println!(
                    "==> {} {} ({} bytes): {}",
                    deb.package,
                    deb.version,
                    deb.size,
                    deb.path.display()
                );
                println!(
                    "    /usr/src/{}-{}/, dkms.conf by dh_dkms",
                    tree.name, tree.version
                );
            }
            if options.modules_load {
                println!(
                    "    /usr/lib/modules-load.d/{}.conf: systemd-modules-load loads it at boot",
                    trees.object.name
                );
            }
            println!(
                "\n    a flat apt repository in {repo} (Packages by dpkg-scanpackages):\n    \
                 echo 'deb [trusted=yes] file:{repo} ./' | sudo tee /etc/apt/sources.list.d/{name}.list\n    \
                 sudo apt update && sudo apt install {package}",
                repo = debs.repo.display(),
                name = debs.object.package,
                package = debs.object.package,
            );
            Ok(())
        }
        Command::Status => match bpf_preload::status::read() {
            Ok(Some(held)) => {
                print!("{}", bpf_preload::status::report(&held));
                Ok(())
            }
            Ok(None) => bail!(
                "the runtime module is not loaded (no `{}` map): nothing is preloaded",
                bpf_preload::status::STATUS_MAP
            ),
            Err(e) if e == bpf_preload::Errno::EPERM => bail!(
                "reading the runtime's status needs root (CAP_SYS_ADMIN for bpf(2) by id): {e}"
            ),
            Err(e) => bail!("reading the runtime's status map: {e}"),
        },
    }
}
