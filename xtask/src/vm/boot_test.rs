//! `cargo xtask kernel --boot-test`: the preload kernel booted with its C test modules
//! (`kernel/test/`) on a preload list, one verdict per check of `kernel/test/boot.sh`.

use std::fs;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::{boot, Kernel, Run};
use crate::kernel::{command, logged, step};
use crate::setup::{ensure_packages, root};

/// The preload list the boot test boots with: the kernel's iterators, an object that
/// works, one whose `preload()` fails, and one without a module.
const BOOT_TEST_LIST: &str = "bpf_preload,preload_test,preload_fail,preload_missing";
const BOOT_TEST_TIMEOUT: Duration = Duration::from_secs(300);

/// `--boot-test`: the C test modules of `kernel/test/` (signed with the build's key)
/// and `kernel/test/boot.sh`, booted on the VM harness of `cargo xtask vm-test` with
/// `bpf_preload_list=`; `boot.sh` gives one verdict per check.
pub fn run(kernel: &Kernel) -> Result<usize> {
    super::prerequisites()?;
    ensure_packages(&["kmod"], "the kernel boot test")?;
    let tests = root().join("kernel/test");
    let work = kernel
        .kdir
        .parent()
        .context("the tree has a parent")?
        .join("boot-test");
    if work.exists() {
        fs::remove_dir_all(&work)?;
    }
    let modules = work.join("modules");
    fs::create_dir_all(&modules)?;
    for entry in fs::read_dir(&tests)? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name == "Kbuild" || name.ends_with(".c") {
            fs::copy(&path, modules.join(&*name))?;
        }
    }
    let log = work.join("modules.log");
    step("building and signing the test modules", || {
        logged(
            Command::new("make")
                .arg("-C")
                .arg(&kernel.kdir)
                .arg(format!("M={}", modules.display()))
                .arg("modules"),
            &log,
        )
    })?;
    let (key, cert) = kernel
        .preload_keys
        .as_ref()
        .with_context(|| format!("{} is not the preload kernel", kernel.release))?;
    let mut files = Vec::new();
    for name in [
        "preload_test",
        "preload_fail",
        "preload_unlisted",
        "preload_thief",
        "preload_anon",
    ] {
        let ko = modules.join(format!("{name}.ko"));
        command(
            Command::new(kernel.kdir.join("scripts/sign-file"))
                .arg("sha256")
                .arg(key)
                .arg(cert)
                .arg(&ko),
        )?;
        // Where the kernel's request_module() finds it (the harness runs depmod).
        files.push((
            ko,
            format!("lib/modules/{}/extra/{name}.ko", kernel.release),
        ));
    }
    let script = tests.join("boot.sh");
    let run = Run {
        label: "boot-test".into(),
        kernel: kernel.clone(),
        cmdline: format!("bpf_preload_list={BOOT_TEST_LIST}"),
        files,
        script: fs::read_to_string(&script)
            .with_context(|| format!("reading {}", script.display()))?,
        media: None,
        timeout: None,
        prepare: None,
    };
    eprintln!(
        "==> booting {} under QEMU (TCG) with bpf_preload_list={BOOT_TEST_LIST}",
        kernel.release
    );
    let outcome = boot(&run, &work, BOOT_TEST_TIMEOUT)?;
    let timeout = BOOT_TEST_TIMEOUT * kernel.timeout_factor();
    let console = work.join(format!("boot-test-{}.log", kernel.release));
    let mut passed = 0;
    let mut failed = Vec::new();
    for (_, ok, check) in &outcome.verdicts {
        println!("    {} {check}", if *ok { "PASS" } else { "FAIL" });
        if *ok {
            passed += 1;
        } else {
            failed.push(check.clone());
        }
    }
    println!(
        "==> boot test: {passed} passed, {} failed, {:.1} s; console: {}",
        failed.len(),
        outcome.seconds,
        console.display()
    );
    if outcome.timed_out {
        bail!(
            "the boot test timed out after {timeout:?}; see {}",
            console.display()
        );
    }
    let problem = if !outcome.finished {
        Some("it did not finish".to_string())
    } else if let Some(problem) = super::report::kernel_problem(&outcome.log) {
        Some(format!("kernel problem: {problem}"))
    } else if !failed.is_empty() || passed == 0 {
        Some(failed.join(", "))
    } else {
        None
    };
    if let Some(problem) = problem {
        bail!(
            "the boot test failed ({problem}); see {}",
            console.display()
        );
    }
    Ok(passed)
}
