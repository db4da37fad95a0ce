//! `cargo xtask demo`: the iterators example preloaded from user space into a private
//! bpffs; prints what its two iterators show, then frees everything.

use anyhow::{bail, Context, Result};
use bpf_preload::user::{self, Mount, UserBackend};
use bpf_preload::{load, Preload};
use iterators::Iterators;

pub fn run() -> Result<()> {
    if !crate::setup::is_root() {
        bail!("the demo loads BPF programs, which needs root: run `sudo -E cargo xtask demo`");
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
