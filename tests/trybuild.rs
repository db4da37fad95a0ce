//! Every diagnostic of `#[bpf_preload]` as a compile-fail case (`compile_fail/*.rs`,
//! with the compiler's output in the `.stderr` beside it), every option as a pass case
//! (`compile_pass/*.rs`, whose `main` checks the table the option produced), and the
//! kernel-context check, which needs the runtime built with feature `kernel` and so
//! runs as its own small crate (`kernel-context/`).
//!
//! `obj` paths in the cases are relative to the case's file: trybuild builds them in a
//! crate under `target/`, so `CARGO_MANIFEST_DIR` would not find them. The bad objects
//! are in `fixtures/` (see `fixtures/README.md`). `TRYBUILD=overwrite cargo test
//! --test trybuild` rewrites the `.stderr` files; read them before committing.

use std::path::Path;
use std::process::Command;

use preload_fixtures as corrupt;

#[test]
fn diagnostics_and_options() {
    let t = trybuild::TestCases::new();
    t.compile_fail("compile_fail/*.rs");
    t.pass("compile_pass/*.rs");
}

/// The byte-edited fixtures are what their recipes make of the committed good object
/// (the clang-built ones are checked by `cargo xtask fixtures --check`, which needs
/// clang).
#[test]
fn corrupt_fixtures_match_their_recipes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let good = std::fs::read(root.join("../examples/iterators/bpf/iterators.bpf.o")).unwrap();
    for (name, what, recipe) in corrupt::RECIPES {
        let committed = std::fs::read(root.join("fixtures").join(name)).unwrap();
        assert!(
            committed == recipe(&good),
            "tests/fixtures/{name} ({what}) is stale: run `cargo xtask fixtures`"
        );
    }
}

/// The kernel-context suite: a separate crate that depends on the runtime with
/// feature `kernel`, as a module's build does. In this workspace the feature would be
/// unified into every crate (and fail the user-space tests of the examples), hence its
/// own target directory and cargo invocation.
#[test]
fn kernel_context() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("../target"))
        .join("kernel-context");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["test", "--quiet", "--manifest-path"])
        .arg(root.join("kernel-context/Cargo.toml"))
        // An environment variable rather than `--target-dir`: trybuild asks
        // `cargo metadata` where the target directory is.
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the kernel-context trybuild suite failed");
}
