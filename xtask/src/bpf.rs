//! `cargo xtask bpf`: every `examples/*/bpf/*.bpf.c`, and the templates of `cargo
//! bpf-preload new` (`preload-build/templates/new/*/program.bpf.c`) and the runtime's
//! own objects (its guard, `preload-runtime/guard/guard.bpf.c`, and its status view,
//! `preload-runtime/status/status.bpf.c`), compiled to the `.bpf.o` beside it.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::setup::{ensure_packages, root};

/// The command in each source's header comment, plus a prefix map so that the object
/// does not depend on where the checkout is.
fn compile(source: &Path, out: &Path) -> Result<()> {
    crate::tools::clang(source, crate::tools::BPF_FLAGS, out, true)
}

pub fn sources() -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let examples = fs::read_dir(root().join("examples"))?.map(|e| e.map(|e| e.path().join("bpf")));
    let templates =
        fs::read_dir(root().join("preload-build/templates/new"))?.map(|e| e.map(|e| e.path()));
    // The runtime's own: the guard (`protect`) and the status view.
    let runtime = ["guard", "status"].map(|dir| Ok(root().join("preload-runtime").join(dir)));
    for bpf in examples.chain(templates).chain(runtime) {
        let bpf = bpf?;
        let Ok(entries) = fs::read_dir(&bpf) else {
            continue;
        };
        for entry in entries {
            let path = entry?.path();
            if path.to_string_lossy().ends_with(".bpf.c") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

pub fn run(check: bool) -> Result<()> {
    ensure_packages(
        &["clang-19", "llvm-19", "libbpf-dev"],
        "building BPF objects",
    )?;
    let mut stale = Vec::new();
    for source in sources()? {
        let object = source.with_extension("o");
        if check {
            let fresh = std::env::temp_dir().join(format!(
                "xtask-{}-{}",
                std::process::id(),
                object.file_name().unwrap().to_string_lossy()
            ));
            compile(&source, &fresh)?;
            let same = fs::read(&fresh)? == fs::read(&object).unwrap_or_default();
            fs::remove_file(&fresh)?;
            println!(
                "{} {}",
                if same { "up to date:" } else { "STALE:     " },
                object.display()
            );
            if !same {
                stale.push(object);
            }
        } else {
            compile(&source, &object)?;
            println!("built {}", object.display());
        }
    }
    if !stale.is_empty() {
        bail!(
            "{} committed object(s) differ from their sources: run `cargo xtask bpf`",
            stale.len()
        );
    }
    Ok(())
}
