//! Expansion snapshots: what the macro emits for every example, so that a change in
//! the table is visible in review.

use std::path::{Path, PathBuf};

use syn::ItemStruct;

use crate::parse::Args;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Expands the `#[bpf_preload]` struct in `examples/<name>/src/lib.rs` as the compiler
/// would, and pretty-prints the result with the checkout's path made neutral.
fn expand_example(name: &str) -> String {
    let crate_dir = workspace().join("examples").join(name);
    let src = crate_dir.join("src");
    let text = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let file = syn::parse_file(&text).unwrap();
    let mut item: ItemStruct = file
        .items
        .into_iter()
        .find_map(|i| match i {
            syn::Item::Struct(s) if s.attrs.iter().any(|a| a.path().is_ident("bpf_preload")) => {
                Some(s)
            }
            _ => None,
        })
        .expect("an example has a #[bpf_preload] struct");
    let attr = item
        .attrs
        .iter()
        .position(|a| a.path().is_ident("bpf_preload"))
        .unwrap();
    let args: Args = item.attrs.remove(attr).parse_args().unwrap();
    let tokens = crate::run(&args, &item, &[src, crate_dir]).unwrap_or_else(|e| panic!("{e}"));
    let pretty = prettyplease::unparse(&syn::parse2(tokens).unwrap());
    pretty.replace(&workspace().display().to_string(), "$WORKSPACE")
}

#[test]
fn iterators_expansion() {
    insta::assert_snapshot!(expand_example("iterators"));
}

#[test]
fn counters_expansion() {
    insta::assert_snapshot!(expand_example("counters"));
}

#[test]
fn expansion_is_deterministic() {
    assert_eq!(expand_example("counters"), expand_example("counters"));
}
