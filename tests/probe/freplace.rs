//! `preload-probe freplace`: a program that replaces a function of another BPF
//! program, from user space, in the VM (this host refuses freplace programs to every
//! loader). examples/freplace_target's `filter` is loaded and pinned where
//! examples/freplace_verdict's `target_program(...)` names it; while the replacer is
//! loaded the filter returns what the replacement says, once freed what its own
//! function says again; and a failure at each call of the replacer's load leaves
//! nothing behind and the filter as it was.

use std::path::Path;

use bpf_preload::user::UserBackend;
use bpf_preload::{load, Fd, Preload};
use freplace_target::FreplaceTarget;
use freplace_verdict::FreplaceVerdict;
use preload_tests::{assert_all_gone, id_of, Kind};

use super::protect::fail_each_call;
use crate::check;

/// The bpffs mount the examples' pins name (`/sys/fs/bpf/freplace_target/filter_prog`).
const BPFFS: &str = "/sys/fs/bpf";

/// What `filter` returns for a 64-byte packet: 1 from its own `verdict`, 7 from the
/// replacement.
fn verdict(b: &mut UserBackend, filter: Fd) -> Result<u32, String> {
    preload_tests::test_run(b, filter).map_err(|e| format!("BPF_PROG_TEST_RUN of filter: {e}"))
}

pub fn run() -> Result<bool, String> {
    let target_dir = Path::new(BPFFS).join(FreplaceTarget::OBJECT.name.as_str());
    let dir = Path::new(BPFFS).join(FreplaceVerdict::OBJECT.name.as_str());
    for d in [&target_dir, &dir] {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let mut tb = UserBackend::new(&target_dir);
    let target = load(FreplaceTarget::OBJECT, &mut tb).map_err(|e| format!("target: {e}"))?;
    let filter = target.program_fd("filter").expect("loaded");
    check(
        verdict(&mut tb, filter)? == 1,
        "the filter keeps what its own verdict says (1)",
    )?;

    let mut b = UserBackend::new(&dir);
    let replacer = load(FreplaceVerdict::OBJECT, &mut b).map_err(|e| format!("load: {e}"))?;
    check(
        verdict(&mut b, filter)? == 7,
        "with freplace_verdict loaded, the filter returns the replacement's 7",
    )?;
    let mut ids = Vec::new();
    let prog = replacer.program_fd("new_verdict").expect("loaded");
    ids.push((
        Kind::Prog,
        id_of(&mut b, Kind::Prog, prog).map_err(|e| e.to_string())?,
    ));
    for (_, fd) in replacer.links() {
        ids.push((
            Kind::Link,
            id_of(&mut b, Kind::Link, fd).map_err(|e| e.to_string())?,
        ));
    }
    replacer.free(&mut b);
    assert_all_gone(&mut b, &ids, "after free");
    check(
        verdict(&mut b, filter)? == 1,
        "once freed, neither the replacement nor its link is left and the filter is its own again",
    )?;

    let total = fail_each_call(FreplaceVerdict::OBJECT, &dir, || {
        let mut b = UserBackend::new(&dir);
        match verdict(&mut b, filter)? {
            1 => Ok(()),
            other => Err(format!("the filter returns {other}, not its own 1")),
        }
    })?;
    check(
        total > 3,
        &format!("a failure at each of the {total} calls of the load left nothing behind"),
    )?;
    target.free(&mut tb);
    Ok(true)
}
