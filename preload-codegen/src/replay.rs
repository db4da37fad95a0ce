//! Bytes through everything `#[bpf_preload]` does with an object: the reader
//! (`model::read`), the validator (the plan, under a
//! few attributes) and the expansion. Shared by the fuzzer (`fuzz/fuzz_targets/
//! reader.rs`) and by the macro's tests that replay the fuzzer's corpus and its
//! regressions on stable.

use crate::{expand, model, parse, validate};

/// What the reader made of the bytes: the programs' names, or its error. Panics where
/// the macro would have failed: a panic in the reader, the validator or the expansion,
/// or an expansion that is not Rust.
pub fn replay(data: &[u8]) -> Result<Vec<String>, String> {
    let model = model::read(data)?;
    attempt(&model, r#"obj = "replayed.bpf.o""#);
    // Every program load-only and everything pinned: the expansion is reached even
    // for programs that need `no_attach`.
    let programs: Vec<String> = model.programs.iter().map(|p| p.name.clone()).collect();
    if programs
        .iter()
        .all(|p| syn::parse_str::<syn::Ident>(p).is_ok())
    {
        attempt(
            &model,
            &format!(
                r#"obj = "replayed.bpf.o", no_attach({}), pin_programs, pin_data"#,
                programs.join(", ")
            ),
        );
    }
    Ok(programs)
}

fn attempt(model: &model::Model, attribute: &str) {
    let Ok(args) = syn::parse_str::<parse::Args>(attribute) else {
        return;
    };
    let item: syn::ItemStruct = syn::parse_quote!(
        pub struct Replayed;
    );
    if let Ok(plan) = validate::plan(&args, model) {
        let tokens = expand::expand(
            &item,
            std::path::Path::new("/replayed.bpf.o"),
            proc_macro2::Span::call_site(),
            model,
            &plan,
        );
        if let Err(e) = syn::parse2::<syn::File>(tokens) {
            panic!("the expansion is not Rust: {e}");
        }
    }
}
