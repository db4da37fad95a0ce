//! `#[bpf_preload(obj = "x.bpf.o")]`: reads a compiled BPF object at compile time and
//! emits a static table describing it, plus `impl bpf_preload::Preload`. Laid out as
//! parse (the attribute) → model (the object) → validate (the plan) → expand (tokens).

extern crate proc_macro;

mod expand;
mod model;
mod parse;
mod validate;

use std::path::{Path, PathBuf};

use proc_macro::TokenStream;
use syn::{parse_macro_input, ItemStruct, LitStr};

/// Preloads a compiled BPF object. See the `bpf-preload` crate for the options.
#[proc_macro_attribute]
pub fn bpf_preload(attr: TokenStream, item: TokenStream) -> TokenStream {
    let args = parse_macro_input!(attr as parse::Args);
    let item = parse_macro_input!(item as ItemStruct);
    let base = proc_macro::Span::call_site()
        .local_file()
        .and_then(|f| f.parent().map(Path::to_path_buf));
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let bases: Vec<PathBuf> = base.into_iter().chain(manifest).collect();
    match run(&args, &item, &bases) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn run(
    args: &parse::Args,
    item: &ItemStruct,
    bases: &[PathBuf],
) -> syn::Result<proc_macro2::TokenStream> {
    if !matches!(item.fields, syn::Fields::Unit) || !item.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &item.ident,
            "#[bpf_preload] goes on a unit struct without generics: `pub struct Name;`",
        ));
    }
    let path = resolve(&args.obj, bases)?;
    let data = std::fs::read(&path).map_err(|e| {
        syn::Error::new(
            args.obj.span(),
            format!("cannot read `{}`: {e}", path.display()),
        )
    })?;
    let model = model::read(&data)
        .map_err(|e| syn::Error::new(args.obj.span(), format!("`{}`: {e}", args.obj.value())))?;
    let plan = validate::plan(args, &model)?;
    Ok(expand::expand(item, &path, &model, &plan))
}

/// `obj` is relative to the first of `bases` where it exists: the directory of the file
/// holding the attribute (like `include_bytes!`), then the crate's manifest directory.
fn resolve(obj: &LitStr, bases: &[PathBuf]) -> syn::Result<PathBuf> {
    let rel = PathBuf::from(obj.value());
    let candidates: Vec<PathBuf> = if rel.is_absolute() {
        vec![rel]
    } else {
        bases.iter().map(|b| b.join(&rel)).collect()
    };
    if let Some(found) = candidates.iter().find(|p| p.is_file()) {
        return Ok(std::fs::canonicalize(found).unwrap_or_else(|_| found.clone()));
    }
    let tried: Vec<String> = candidates
        .iter()
        .map(|p| format!("`{}`", p.display()))
        .collect();
    Err(syn::Error::new(
        obj.span(),
        format!(
            "BPF object not found: tried {} (relative to the file holding the attribute, \
             then to CARGO_MANIFEST_DIR)",
            tried.join(" and ")
        ),
    ))
}

#[cfg(test)]
mod tests;
