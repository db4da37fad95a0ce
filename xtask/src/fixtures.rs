//! `cargo xtask fixtures`: the bad BPF objects the compile-fail tests point at, in
//! `tests/fixtures/`. Two kinds: tiny C sources in `tests/fixtures/src/` compiled with
//! clang-19 (each shows one mistake: wrong target, no `-g`, an extern, a map type…),
//! and byte edits of the committed `examples/iterators/bpf/iterators.bpf.o` (a
//! truncated file, a section or symbol past its end, corrupt BTF), whose recipes are in
//! `tests/fixtures/corrupt.rs`. `--check` rebuilds them all in a temporary directory
//! and compares.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::setup::{ensure_packages, root};

use preload_fixtures as corrupt;

/// Flags of every example's BPF build (see `cargo xtask bpf`).
const BPF: &[&str] = crate::tools::BPF_FLAGS;

/// `(source in tests/fixtures/src, object in tests/fixtures, clang flags)`.
const BUILDS: &[(&str, &str, &[&str])] = &[
    ("x86_64.c", "x86_64.o", &["-O2", "-g"]),
    (
        "bigendian.bpf.c",
        "bigendian.bpf.o",
        &[
            "-O2",
            "-g",
            "-target",
            "bpfeb",
            "-D__TARGET_ARCH_x86",
            "-I/usr/include/x86_64-linux-gnu",
        ],
    ),
    (
        "no_btf.bpf.c",
        "no_btf.bpf.o",
        &[
            "-O2",
            "-target",
            "bpf",
            "-D__TARGET_ARCH_x86",
            "-I/usr/include/x86_64-linux-gnu",
        ],
    ),
    ("no_programs.bpf.c", "no_programs.bpf.o", BPF),
    ("syscall.bpf.c", "syscall.bpf.o", BPF),
    ("freplace.bpf.c", "freplace.bpf.o", BPF),
    ("optional.bpf.c", "optional.bpf.o", BPF),
    ("kconfig.bpf.c", "kconfig.bpf.o", BPF),
    ("ksym.bpf.c", "ksym.bpf.o", BPF),
    ("map_in_map.bpf.c", "map_in_map.bpf.o", BPF),
    (
        "map_in_map_no_inner.bpf.c",
        "map_in_map_no_inner.bpf.o",
        BPF,
    ),
    ("numa_map.bpf.c", "numa_map.bpf.o", BPF),
    ("new_map_type.bpf.c", "new_map_type.bpf.o", BPF),
    ("proprietary.bpf.c", "proprietary.bpf.o", BPF),
    ("manual_attach.bpf.c", "manual_attach.bpf.o", BPF),
    ("odd_names.bpf.c", "odd_names.bpf.o", BPF),
    ("nested_array_value.bpf.c", "nested_array_value.bpf.o", BPF),
    ("struct_ops_unused.bpf.c", "struct_ops_unused.bpf.o", BPF),
    ("verifier_reject.bpf.c", "verifier_reject.bpf.o", BPF),
    ("config.bpf.c", "config.bpf.o", BPF),
    ("attach_target.bpf.c", "attach_target.bpf.o", BPF),
    ("shared_mismatch.bpf.c", "shared_mismatch.bpf.o", BPF),
    ("bad_pinning.bpf.c", "bad_pinning.bpf.o", BPF),
    ("pinned_inner.bpf.c", "pinned_inner.bpf.o", BPF),
    ("loader_sized.bpf.c", "loader_sized.bpf.o", BPF),
    ("untyped_section.bpf.c", "untyped_section.bpf.o", BPF),
    ("arena_without_map.bpf.c", "arena_without_map.bpf.o", BPF),
    ("two_arenas.bpf.c", "two_arenas.bpf.o", BPF),
    ("arena_too_small.bpf.c", "arena_too_small.bpf.o", BPF),
    ("bad_ulong.bpf.c", "bad_ulong.bpf.o", BPF),
];

/// The object every byte edit starts from.
const GOOD: &str = "examples/iterators/bpf/iterators.bpf.o";

fn compile(source: &Path, flags: &[&str], out: &Path) -> Result<()> {
    // As the examples: DWARF out, BTF kept.
    crate::tools::clang(source, flags, out, true)
}

/// Every fixture, as `(file name, bytes)`, built into `scratch`.
fn build_all(scratch: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let fixtures = root().join("tests/fixtures");
    let mut out = Vec::new();
    for (source, object, flags) in BUILDS {
        let path = scratch.join(object);
        compile(&fixtures.join("src").join(source), flags, &path)?;
        out.push((object.to_string(), fs::read(&path)?));
    }
    let good = fs::read(root().join(GOOD)).with_context(|| format!("reading {GOOD}"))?;
    for (name, _, recipe) in corrupt::RECIPES {
        out.push((name.to_string(), recipe(&good)));
    }
    out.push(("empty.bpf.o".to_string(), Vec::new()));
    Ok(out)
}

pub fn run(check: bool) -> Result<()> {
    ensure_packages(&["clang-19", "llvm-19", "libbpf-dev"], "building fixtures")?;
    let fixtures = root().join("tests/fixtures");
    let scratch: PathBuf =
        std::env::temp_dir().join(format!("xtask-fixtures-{}", std::process::id()));
    fs::create_dir_all(&scratch)?;
    let built = build_all(&scratch);
    fs::remove_dir_all(&scratch)?;
    let mut stale = Vec::new();
    for (name, bytes) in built? {
        let path = fixtures.join(&name);
        if check {
            let same = fs::read(&path).is_ok_and(|old| old == bytes);
            println!(
                "{} tests/fixtures/{name}",
                if same { "up to date:" } else { "STALE:     " }
            );
            if !same {
                stale.push(name);
            }
        } else {
            fs::write(&path, &bytes)?;
            println!("wrote tests/fixtures/{name}");
        }
    }
    if !stale.is_empty() {
        bail!(
            "{} fixture(s) differ from their recipes: run `cargo xtask fixtures`",
            stale.len()
        );
    }
    Ok(())
}
