//! `cargo xtask demo`: the product's main job, end to end. Builds the iterators and
//! mkdir_guard example modules for Debian's stock 6.1 kernel, boots that kernel in QEMU,
//! loads both, and shows the two iterator files in bpffs and the LSM policy refusing a
//! mkdir. With `--patched`, the same on the kernel of `kernel/` (the seed profile): the
//! kernel loads the signed modules itself at boot and pins each object into its own
//! bpffs directory. Sets up what is missing, saying so.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use bpf_preload::user::{self, Mount, UserBackend};
use bpf_preload::{load, Preload};
use iterators::Iterators;

use crate::module;
use crate::setup::root;
use crate::vm::{self, Run};

/// On a stock kernel: insmod, then what bpffs shows and what the LSM refuses.
const STOCK: &str = r#"
echo DEMO-BEGIN
echo '# insmod /modules/iterators.ko && insmod /modules/mkdir_guard.ko'
insmod /modules/iterators.ko && insmod /modules/mkdir_guard.ko
kmsg | grep -E '^(iterators|mkdir_guard):'
echo '# mount -t bpf bpf /sys/fs/bpf; ls /sys/fs/bpf'
mount -t bpf bpf /sys/fs/bpf; ls /sys/fs/bpf
echo '# cat /sys/fs/bpf/maps.debug'
cat /sys/fs/bpf/maps.debug
echo '# cat /sys/fs/bpf/progs.debug'
cat /sys/fs/bpf/progs.debug
echo '# mkdir /tmp/bpf-preload-reserved'
mkdir /tmp/bpf-preload-reserved
echo '# mkdir /tmp/anything-else && echo created'
mkdir /tmp/anything-else && echo created
echo DEMO-END
"#;

/// On the patched kernel: nothing is loaded by hand.
const PATCHED: &str = r#"
echo DEMO-BEGIN
echo '# cat /proc/cmdline'
cat /proc/cmdline
echo '# the kernel mounted bpffs at boot and loaded the listed modules for it (request_module):'
kmsg | grep -E '^(bpf_preload|iterators|mkdir_guard):'
echo '# grep -E "^(iterators|mkdir_guard) " /proc/modules'
grep -E '^(iterators|mkdir_guard) ' /proc/modules
echo '# mount -t bpf bpf /sys/fs/bpf; ls -R /sys/fs/bpf'
mount -t bpf bpf /sys/fs/bpf; ls -R /sys/fs/bpf
echo '# cat /sys/fs/bpf/iterators/progs.debug'
cat /sys/fs/bpf/iterators/progs.debug
echo '# mkdir /tmp/bpf-preload-reserved'
mkdir /tmp/bpf-preload-reserved
echo '# rm -r /sys/fs/bpf/mkdir_guard; umount /sys/fs/bpf; mkdir /tmp/bpf-preload-reserved'
rm -r /sys/fs/bpf/mkdir_guard; umount /sys/fs/bpf; mkdir /tmp/bpf-preload-reserved
echo '# still refused: the bpffs instance the kernel mounted at boot holds the LSM program'
echo DEMO-END
"#;

pub fn run(patched: bool) -> Result<()> {
    println!(
        "==> checking what the demo needs (QEMU, busybox, Debian's kernel and headers, rust-src)"
    );
    vm::prerequisites()?;
    let kernel = if patched {
        println!("==> the patched kernel of kernel/ (built once, 10 minutes or more; then cached)");
        vm::patched_kernel()?
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
        let ko = module::build(&module::Options {
            crate_dir: PathBuf::from(example),
            kdir: Some(kernel.kdir.clone()),
            out: Some(root().join("target/demo").join(&kernel.release)),
            // The patched kernel trusts the key of its own build, and enforces it.
            sign: kernel.seed_keys.clone(),
            unloadable: false,
            verbose: true,
        })?;
        let name = ko
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let dest = if patched {
            // Where the kernel's request_module() finds it (the VM runs depmod).
            format!("lib/modules/{}/extra/{name}", kernel.release)
        } else {
            format!("modules/{name}")
        };
        files.push((ko, dest));
    }
    let (cmdline, script) = if patched {
        (
            "bpf_preload_list=bpf_preload,iterators,mkdir_guard module.sig_enforce=1",
            PATCHED,
        )
    } else {
        ("", STOCK)
    };
    println!(
        "==> booting {} in QEMU (software emulation, a few seconds)",
        kernel.image.display()
    );
    let run = Run {
        label: "demo".into(),
        kernel,
        cmdline: cmdline.into(),
        files,
        script: script.into(),
        media: None,
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
    if patched {
        println!("\n==> done: the kernel loaded both signed modules at boot, each pinned its object into /sys/fs/bpf/<name>/ of every bpffs, and the kernel's own bpffs holds them");
    } else {
        println!(
            "\n==> done: the module loaded, attached and exposed its object in a stock kernel"
        );
    }
    Ok(())
}

/// The same object preloaded from user space into a private bpffs (no VM).
pub fn user_space() -> Result<()> {
    if !crate::setup::is_root() {
        bail!("the demo loads BPF programs, which needs root: run `sudo -E cargo xtask demo --user-space`");
    }
    let object = Iterators::OBJECT;
    println!("==> entering a private mount namespace (nothing here is visible outside)");
    user::enter_private_mount_namespace().context("unshare(CLONE_NEWNS)")?;
    let fs = Mount::bpffs().context("mounting bpffs")?;
    let dir = fs.path().join(object.name);
    std::fs::create_dir(&dir)?;
    println!("==> mounted bpffs at {}", fs.path().display());

    println!(
        "==> preloading `{}`: {} programs, {} maps, {} links",
        object.name,
        object.programs.len(),
        object.maps.len(),
        object.links.len()
    );
    let mut backend = UserBackend::new(&dir);
    let loaded = load(object, &mut backend)?;
    for notice in backend.take_notices() {
        println!("    note: {notice}");
    }
    for pin in loaded.pins() {
        let text = std::fs::read_to_string(&pin.path)
            .with_context(|| format!("reading {}", pin.path.display()))?;
        println!(
            "\n==> cat {}   ({})\n{text}",
            pin.path.display(),
            pin.requested
        );
    }
    loaded.free(&mut backend);
    println!("==> freed: links detached, programs and maps closed, pins removed");
    Ok(())
}
