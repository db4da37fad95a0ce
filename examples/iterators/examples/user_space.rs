//! The iterators object preloaded from this process into a private bpffs (root, no
//! VM): what `cargo xtask demo --user-space` runs.

use std::error::Error;

use bpf_preload::user::{self, Mount, UserBackend};
use bpf_preload::{load, Preload};
use iterators::Iterators;

fn main() -> Result<(), Box<dyn Error>> {
    let object = Iterators::OBJECT;
    println!("==> entering a private mount namespace (nothing here is visible outside)");
    user::enter_private_mount_namespace().map_err(|e| format!("unshare(CLONE_NEWNS): {e}"))?;
    let fs = Mount::bpffs().map_err(|e| format!("mounting bpffs: {e}"))?;
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
            .map_err(|e| format!("reading {}: {e}", pin.path.display()))?;
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
