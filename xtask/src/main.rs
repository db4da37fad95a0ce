//! `cargo xtask <command>`: the project's tasks. Run `cargo xtask --help`.

mod bench;
mod bpf;
mod demo;
mod fixtures;
mod setup;
mod test;

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
    /// Preload the iterators example from user space into a private bpffs and show
    /// what its two iterators print.
    Demo,
    /// Measure the load path side by side with bpftool and write BENCHMARKS.md.
    Bench,
    /// Rebuild the bad BPF objects of the compile-fail tests (tests/fixtures/) from
    /// their C sources and from byte edits of a good object.
    Fixtures {
        /// Only check that the committed fixtures match their sources and recipes.
        #[arg(long)]
        check: bool,
    },
    /// Run every test tier: formatting, lints, objects up to date, host tests, and
    /// the real-kernel tests.
    Test,
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Bpf { check } => bpf::run(check),
        Command::Demo => demo::run(),
        Command::Test => test::run(),
        Command::Bench => bench::run(),
        Command::Fixtures { check } => fixtures::run(check),
    }
}
