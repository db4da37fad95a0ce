//! `cargo xtask test`: every tier, in order, stopping at the first failure.

use std::process::Command;

use anyhow::Result;

use crate::setup::{root, run as run_cmd};

fn cargo(args: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root()).args(args);
    cmd
}

fn step(name: &str) {
    println!("\n==> {name}");
}

pub fn run() -> Result<()> {
    step("formatting (cargo fmt --check)");
    run_cmd(&mut cargo(&["fmt", "--all", "--check"]))?;
    step("lints (cargo clippy --all-targets -- -D warnings)");
    run_cmd(&mut cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    step("committed BPF objects match their sources");
    crate::bpf::run(true)?;
    step("tier 1 (host) and tier 2 (real kernel, user backend): cargo test --workspace");
    run_cmd(&mut cargo(&["test", "--workspace"]))?;
    Ok(())
}
