//! `cargo xtask test`: every tier, in order (host, real kernel from user space, the
//! preload kernel and modules in QEMU, real-world objects against libbpf), stopping
//! at the first failure, and one closing line with the number of tests that ran.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::setup::root;
use crate::tools::run as run_cmd;

fn cargo(args: &[&str]) -> Command {
    let mut cmd = crate::tools::cargo();
    cmd.current_dir(root()).args(args);
    cmd
}

fn step(name: &str) {
    println!("\n==> {name}");
}

/// Runs a test command, echoing its output, and adds up its `test result:` lines.
fn count_tests(cmd: &mut Command, passed: &mut u64) -> Result<()> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("{cmd:?}"))?;
    let stdout = child.stdout.take().context("piped stdout")?;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        println!("{line}");
        if let Some(rest) = line.strip_prefix("test result: ") {
            let n = rest.split(". ").nth(1).and_then(|s| s.split(' ').next());
            *passed += n.and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}

/// Every tier; with `sanitizer`, tier 3 again on the preload-sanitizer kernel (its
/// boot test, then every scenario for it): 20-30 minutes more to build it cold, and
/// its scenarios run several times slower, so it is not in the default run.
pub fn run(sanitizer: bool) -> Result<()> {
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
    step("the VM scripts (shellcheck tests/vm/, kernel/test/)");
    crate::vm::shellcheck()?;
    step("committed BPF objects match their sources");
    crate::bpf::run(true)?;
    step("compile-fail fixtures match their sources and recipes");
    crate::fixtures::run(true)?;
    step(
        "tier 1 (host) and tier 2 (the real kernel from user space, tests/user_space.rs): \
         cargo test --workspace",
    );
    // Tier 2 compares what the kernel holds of an object with libbpf's load of it.
    crate::setup::ensure_packages(&["bpftool"], "tier 2 (libbpf's side of a comparison)")?;
    let mut passed = 0;
    count_tests(
        &mut cargo(&["test", "--workspace", "--all-targets"]),
        &mut passed,
    )?;
    step(
        "the published crates as a user gets them: cargo package, a local registry, \
         cargo install, new and build from the packages: cargo xtask packaged",
    );
    passed += crate::packaged::run()? as u64;
    step("tier 3 (the preload kernel with its C test modules under QEMU): cargo xtask kernel --boot-test");
    passed += crate::vm::boot_test::run(
        &crate::kernel::run(crate::kernel::Variant::Preload, None)?.into(),
    )? as u64;
    step(
        "tier 3 (modules in Debian's stock kernels and in the preload kernel under QEMU): \
         cargo xtask vm-test",
    );
    passed += crate::vm::run(&crate::vm::Args::default())? as u64;
    if sanitizer {
        step(
            "tier 3 on the preload-sanitizer kernel (KASAN, kmemleak, lockdep, UBSAN, \
             fault injection): cargo xtask kernel --sanitizer --boot-test, \
             cargo xtask vm-test --kernel preload-sanitizer",
        );
        let kernel = crate::kernel::run(crate::kernel::Variant::Sanitizer, None)?;
        passed += crate::vm::boot_test::run(&kernel.into())? as u64;
        passed += crate::vm::run(&crate::vm::Args::sanitizer())? as u64;
    }
    step(
        "tier 4 (real-world objects loaded by libbpf and by us, checked against \
         tests/corpus/results.tsv): cargo xtask corpus",
    );
    passed += crate::corpus::tier()? as u64;
    println!("\nall tiers: {passed} passed, 0 failed");
    Ok(())
}
