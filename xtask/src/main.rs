//! `cargo xtask <command>`: the project's tasks. Run `cargo xtask --help`.

mod bench;
mod bpf;
mod corpus;
mod demo;
mod fixtures;
mod kernel;
mod module;
mod packaged;
mod setup;
mod test;
mod tools;
mod vm;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "bpf-preload's build, demo and test tasks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Rebuild every example's BPF object from its C source with clang.
    Bpf {
        /// Only check that the committed objects match their sources.
        #[arg(long)]
        check: bool,
    },
    /// Build the iterators and mkdir_guard modules, boot Debian's stock kernel in QEMU
    /// with them, and show the iterator files in bpffs and the LSM refusing a mkdir.
    Demo {
        /// Instead, preload the iterators example from this process into a private
        /// bpffs (root, no VM).
        #[arg(long)]
        user_space: bool,
        /// On the preload kernel of `kernel/` instead of Debian's: the kernel loads
        /// the modules itself at boot and pins them per object (builds it once).
        #[arg(long, alias = "patched", conflicts_with = "user_space")]
        preload: bool,
    },
    /// Measure load, build, module size and in-kernel load next to libbpf, light
    /// skeletons and aya, and write BENCHMARKS.md (root; about 15 minutes).
    Bench(bench::Args),
    /// Rebuild the bad BPF objects of the compile-fail tests (tests/fixtures/) from
    /// their C sources and from byte edits of a good object.
    Fixtures {
        /// Only check that the committed fixtures match their sources and recipes.
        #[arg(long)]
        check: bool,
    },
    /// Build the preload kernel (linux-source-6.12 + kernel/patches + kernel/config),
    /// cached by source version, patches and config; prints bzImage, kdir and signing key.
    Kernel {
        /// The preload-sanitizer kernel instead: kernel/config-sanitizer on top (KASAN,
        /// kmemleak, lockdep, UBSAN, fault injection); 20-30 minutes cold on 2 cores.
        #[arg(long)]
        sanitizer: bool,
        /// Cache directory [default: target/kernel]; the build goes to <OUT>/<key>/.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// Then boot it under QEMU with the C test modules of kernel/test/.
        #[arg(long)]
        boot_test: bool,
    },
    /// Build a kernel module (`<name>.ko`) from an example crate, for a kernel's headers.
    BuildModule {
        /// The example crate's directory, e.g. `examples/iterators`.
        crate_dir: std::path::PathBuf,
        /// Kernel build directory [default: /lib/modules/$(uname -r)/build, else the
        /// newest /usr/src/linux-headers-*].
        #[arg(long)]
        kdir: Option<std::path::PathBuf>,
        /// Directory for the .ko [default: target/modules/<release>/<permanent|unloadable>].
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// Sign with the kernel's scripts/sign-file and this private key and certificate.
        #[arg(long, num_args = 2, value_names = ["KEY", "CERT"])]
        sign: Option<Vec<std::path::PathBuf>>,
        /// Let rmmod detach and free everything. Without it rmmod is refused and the
        /// programs stay until shutdown.
        #[arg(long)]
        unloadable: bool,
    },
    /// Boot Debian's stock kernels in QEMU with the example modules and run the
    /// scenarios inside; prints a table of scenarios x kernels.
    VmTest(vm::Args),
    /// Build the corpus of real-world objects (the 6.12 kernel's iterators, libbpf-tools'
    /// objects, kernel selftests), load each with libbpf and with bpf-preload, compare,
    /// and check against tests/corpus/results.tsv (root).
    Corpus(corpus::Args),
    /// Inside the corpus VM: load the objects of LIST on both sides and print one
    /// result line per object (run by tests/corpus/vm.sh).
    #[command(hide = true)]
    CorpusGuest {
        list: std::path::PathBuf,
        /// The libbpf side's script (tests/corpus/libbpf-load.sh).
        script: std::path::PathBuf,
    },
    /// Print the tamper matrix (route × kernel × unprotected/protected) from the logs
    /// of the last `vm-test --scenario tamper-open --scenario tamper-locked`.
    TamperMatrix,
    /// Package the published crates (`cargo package`), serve them from a local
    /// registry, install `cargo-bpf-preload` from it, and build a module of a crate
    /// that `cargo bpf-preload new` makes, all from the packages (no root; Debian's
    /// 6.1 headers).
    Packaged,
    /// Run every test tier: formatting, lints, objects up to date, host tests, and
    /// the real-kernel tests.
    Test {
        /// Also the preload-sanitizer kernel's boot test and scenarios (KASAN, kmemleak,
        /// lockdep, UBSAN, fault injection); builds it once (20-30 minutes on 2 cores).
        #[arg(long)]
        sanitizer: bool,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Bpf { check } => bpf::run(check),
        Command::Demo {
            user_space: true, ..
        } => demo::user_space(),
        Command::Demo { preload, .. } => demo::run(preload),
        Command::Test { sanitizer } => test::run(sanitizer),
        Command::TamperMatrix => vm::tamper_matrix(),
        Command::Packaged => {
            let passed = packaged::run()?;
            println!("packaged: {passed} passed, 0 failed");
            Ok(())
        }
        Command::BuildModule {
            crate_dir,
            kdir,
            out,
            sign,
            unloadable,
        } => module::run(&module::Options {
            crate_dir,
            kdir,
            out,
            sign: sign.map(|s| (s[0].clone(), s[1].clone())),
            unloadable,
            verbose: true,
            table_layout: None,
        }),
        Command::VmTest(args) => vm::run(&args).map(drop),
        Command::Bench(args) => bench::run(&args),
        Command::Corpus(args) => corpus::run(&args).map(drop),
        Command::CorpusGuest { list, script } => corpus::guest(&list, &script),
        Command::Fixtures { check } => fixtures::run(check),
        Command::Kernel {
            sanitizer,
            out,
            boot_test,
        } => {
            let variant = if sanitizer {
                kernel::Variant::Sanitizer
            } else {
                kernel::Variant::Preload
            };
            let built = kernel::run(variant, out.as_deref())?;
            if boot_test {
                vm::boot_test::run(&built.into())?;
            }
            Ok(())
        }
    }
}
