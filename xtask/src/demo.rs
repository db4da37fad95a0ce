//! `cargo xtask demo`: the product's main job, end to end. Builds the iterators and
//! mkdir_guard example modules for Debian's stock 6.1 kernel, boots that kernel in QEMU,
//! loads both, and shows the two iterator files in bpffs and the LSM policy refusing a
//! mkdir. With `--preload` (or its old name `--patched`), the same on the preload kernel
//! of `kernel/`: the kernel loads the signed modules itself at boot and pins each object
//! into its own bpffs directory. Sets up what is missing, saying so.

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::module;
use crate::setup::root;
use crate::vm::{self, Run};

pub fn run(preload: bool) -> Result<()> {
    println!(
        "==> checking what the demo needs (QEMU, busybox, Debian's kernel and headers, rust-src)"
    );
    vm::prerequisites()?;
    let kernel = if preload {
        println!("==> the preload kernel of kernel/ (built once, 30 minutes or more; then cached)");
        vm::preload_kernel()?
    } else {
        vm::stock_kernels()?
            .into_iter()
            .find(|k| k.release.starts_with("6.1."))
            .context("no Debian 6.1 kernel with headers: `apt-get install linux-image-amd64 linux-headers-amd64`")?
    };
    let mut files = Vec::new();
    for example in ["examples/iterators", "examples/mkdir_guard"] {
        println!(
            "==> building {example} into a module for {}",
            kernel.release
        );
        let built = module::build(&module::Options {
            crate_dir: PathBuf::from(example),
            kdir: Some(kernel.kdir.clone()),
            out: Some(root().join("target/demo").join(&kernel.release)),
            // The preload kernel trusts the key of its own build, and enforces it.
            sign: kernel.preload_keys.clone(),
            unloadable: false,
            verbose: true,
            table_layout: None,
        })?;
        for ko in [built.runtime, built.ko] {
            let name = ko
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let dest = if preload {
                // Where the kernel's request_module() finds it, and the runtime it
                // depends on (the VM runs depmod).
                format!("lib/modules/{}/extra/{name}", kernel.release)
            } else {
                format!("modules/{name}")
            };
            if !files.iter().any(|(_, d)| d == &dest) {
                files.push((ko, dest));
            }
        }
    }
    let (cmdline, script) = if preload {
        (
            "bpf_preload_list=bpf_preload,iterators,mkdir_guard module.sig_enforce=1",
            "demo/preload.sh",
        )
    } else {
        ("", "demo/stock.sh")
    };
    let script = root().join("tests/vm").join(script);
    let script =
        fs::read_to_string(&script).with_context(|| format!("reading {}", script.display()))?;
    println!(
        "==> booting {} in QEMU (software emulation, a few seconds)",
        kernel.image.display()
    );
    let run = Run {
        label: "demo".into(),
        kernel,
        cmdline: cmdline.into(),
        files,
        script,
        media: None,
        timeout: None,
        prepare: None,
    };
    let outcome = vm::boot(&run, &root().join("target/demo"), Duration::from_secs(180))?;
    let log = &outcome.log;
    let (Some(begin), Some(end)) = (log.find("DEMO-BEGIN"), log.find("DEMO-END")) else {
        bail!("the VM did not run the demo to its end; its serial log:\n{log}");
    };
    println!();
    for line in log[begin + "DEMO-BEGIN".len()..end].lines() {
        // Kernel messages the console interleaves are shown through dmesg instead.
        if !line.trim().is_empty() && !line.starts_with('[') {
            println!("    {}", line.trim_end());
        }
    }
    if preload {
        println!("\n==> done: the kernel loaded both signed modules at boot, each pinned its object into /sys/fs/bpf/<name>/ of every bpffs, and the kernel's own bpffs holds them");
    } else {
        println!(
            "\n==> done: the module loaded, attached and exposed its object in a stock kernel"
        );
    }
    Ok(())
}

/// The same object preloaded from user space into a private bpffs (no VM): the
/// iterators example's own example program, `examples/iterators/examples/user_space.rs`.
pub fn user_space() -> Result<()> {
    if !crate::setup::is_root() {
        bail!("the demo loads BPF programs, which needs root: run `sudo -E cargo xtask demo --user-space`");
    }
    crate::tools::run(crate::tools::cargo().current_dir(root()).args([
        "run",
        "--quiet",
        "-p",
        "iterators",
        "--example",
        "user_space",
    ]))
}
