//! `#[bpf_preload(obj = "x.bpf.o")]` as a library: reads a compiled BPF object and
//! makes the tokens of a static table describing it, plus `impl bpf_preload::Preload`.
//! Laid out as parse (the attribute's grammar) → model (the object, crate
//! `bpf-preload-model`) → validate (the plan) → expand (tokens). The proc-macro crate
//! is a thin wrapper over [`attribute`]; the module builder reads the attribute with
//! [`parse::Args`], and the fuzzer runs [`replay::replay`], so the grammar and its
//! rules exist once.
//!
//! Every mistake, in the attribute or in the object, is a `compile_error!` pointing at
//! the offending part of the attribute; whatever the bytes of the object, the code
//! neither panics nor hangs, and reads at most [`MAX_OBJECT_SIZE`] bytes.

pub mod expand;
pub mod parse;
pub mod replay;
pub mod validate;
pub mod values;

/// The object model, a crate of its own so that the fuzzer and the module builder use
/// it too.
use bpf_preload_model as model;

use std::io::Read as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use syn::{ItemStruct, LitStr};

/// Largest object the macro reads (a BPF object with debug info stripped is a few
/// hundred KiB at most).
pub const MAX_OBJECT_SIZE: u64 = 256 << 20;

/// What `#[bpf_preload]` expands to: the table, or the errors with the item kept (and,
/// for a unit struct, an empty table) so that code using it does not fail too and the
/// errors stand alone. `file` is the file holding the attribute, `manifest` the
/// crate's `CARGO_MANIFEST_DIR`: `obj` is looked up relative to them, in that order.
pub fn attribute(
    attr: TokenStream,
    item: TokenStream,
    file: Option<&Path>,
    manifest: Option<&Path>,
) -> TokenStream {
    let result = catch_unwind(AssertUnwindSafe(|| {
        expand_attribute(attr, item.clone(), file, manifest)
    }))
    .unwrap_or_else(|_| {
        Err(syn::Error::new(
            Span::call_site(),
            "internal error: #[bpf_preload] panicked; please report this with the object",
        ))
    });
    match result {
        Ok(tokens) => tokens,
        Err(e) => {
            let error = e.to_compile_error();
            let stand_in = syn::parse2::<ItemStruct>(item.clone())
                .ok()
                .filter(|s| matches!(s.fields, syn::Fields::Unit) && s.generics.params.is_empty())
                .map(|s| {
                    let ty = &s.ident;
                    quote::quote! {
                        impl ::bpf_preload::Preload for #ty {
                            const OBJECT: &'static ::bpf_preload::Object = &::bpf_preload::Object {
                                layout: ::bpf_preload::TABLE_LAYOUT,
                                name: ::bpf_preload::Str::new(""),
                                btf: ::bpf_preload::List::new(b""),
                                maps: ::bpf_preload::List::new(&[]),
                                programs: ::bpf_preload::List::new(&[]),
                                links: ::bpf_preload::List::new(&[]),
                                externs: ::bpf_preload::List::new(&[]),
                                protect: false,
                                params: ::bpf_preload::List::new(&[]),
                            };
                        }
                    }
                });
            quote::quote!(#error #item #stand_in)
        }
    }
}

/// The whole macro, over `proc_macro2` tokens, with errors as `syn::Error`.
pub fn expand_attribute(
    attr: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
    file: Option<&Path>,
    manifest: Option<&Path>,
) -> syn::Result<proc_macro2::TokenStream> {
    let item = unit_struct(syn::parse2(item)?)?;
    let args: parse::Args = syn::parse2(attr)?;
    let mut bases = Vec::new();
    if let Some(file) = file
        && let Some(dir) = file.parent()
    {
        bases.push((
            dir.to_path_buf(),
            format!(
                "the directory of `{}`, the file holding the attribute",
                file.display()
            ),
        ));
    }
    if let Some(manifest) = manifest {
        bases.push((manifest.to_path_buf(), "CARGO_MANIFEST_DIR".to_string()));
    }
    run(&args, &item, &bases)
}

/// The item must be a unit struct without generics: it only names the table.
fn unit_struct(item: syn::Item) -> syn::Result<ItemStruct> {
    let what = |what: &str, span: Span| {
        Err(syn::Error::new(
            span,
            format!(
                "#[bpf_preload] goes on a unit struct, `pub struct Name;`, not on {what}: the \
                 struct only names the object's table"
            ),
        ))
    };
    use syn::spanned::Spanned as _;
    match item {
        syn::Item::Struct(s) => {
            if !s.generics.params.is_empty() {
                return Err(syn::Error::new_spanned(
                    &s.generics,
                    "#[bpf_preload] goes on a unit struct without generics, `pub struct Name;`: \
                     remove the generic parameters",
                ));
            }
            if !matches!(s.fields, syn::Fields::Unit) {
                return Err(syn::Error::new_spanned(
                    &s.fields,
                    "#[bpf_preload] goes on a unit struct, `pub struct Name;`: remove the \
                     fields (the struct only names the object's table)",
                ));
            }
            Ok(s)
        }
        syn::Item::Enum(e) => what("an enum", e.enum_token.span()),
        syn::Item::Fn(f) => what("a function", f.sig.fn_token.span()),
        syn::Item::Union(u) => what("a union", u.union_token.span()),
        syn::Item::Mod(m) => what("a module", m.mod_token.span()),
        syn::Item::Impl(i) => what("an impl block", i.impl_token.span()),
        syn::Item::Trait(t) => what("a trait", t.trait_token.span()),
        syn::Item::Type(t) => what("a type alias", t.type_token.span()),
        syn::Item::Static(s) => what("a static", s.static_token.span()),
        syn::Item::Const(c) => what("a constant", c.const_token.span()),
        other => what("this item", other.span()),
    }
}

/// Reads the object `args` names (relative to the first of `bases` where it exists)
/// and makes the tokens for `item`.
pub fn run(
    args: &parse::Args,
    item: &ItemStruct,
    bases: &[(PathBuf, String)],
) -> syn::Result<proc_macro2::TokenStream> {
    let path = resolve(&args.obj, bases)?;
    let data = read_object(&args.obj, &path)?;
    let types = validate::given_prog_types(args)?;
    let model = model::read_typed(&data, &types)
        .map_err(|e| syn::Error::new(args.obj.span(), format!("`{}`: {e}", args.obj.value())))?;
    let plan = validate::plan(args, &model)?;
    Ok(expand::expand(item, &path, args.obj.span(), &model, &plan))
}

/// `obj` is relative to the first of `bases` where it exists: the directory of the file
/// holding the attribute (like `include_bytes!`), then the crate's manifest directory.
fn resolve(obj: &LitStr, bases: &[(PathBuf, String)]) -> syn::Result<PathBuf> {
    let rel = PathBuf::from(obj.value());
    let candidates: Vec<(PathBuf, &str)> = if rel.is_absolute() {
        vec![(rel, "an absolute path")]
    } else {
        bases
            .iter()
            .map(|(b, what)| (b.join(&rel), what.as_str()))
            .collect()
    };
    if let Some((found, _)) = candidates.iter().find(|(p, _)| p.exists()) {
        return Ok(std::fs::canonicalize(found).unwrap_or_else(|_| found.clone()));
    }
    let tried: Vec<String> = candidates
        .iter()
        .map(|(p, what)| format!("`{}` (relative to {what})", p.display()))
        .collect();
    Err(syn::Error::new(
        obj.span(),
        format!(
            "BPF object `{}` not found: tried {}. Build it (e.g. `clang -target bpf -g -O2 -c`) \
             or fix the path",
            obj.value(),
            tried.join(" and ")
        ),
    ))
}

/// The object's bytes: a regular file (a FIFO or a device would block or never end),
/// not empty, and at most [`MAX_OBJECT_SIZE`] bytes.
fn read_object(obj: &LitStr, path: &Path) -> syn::Result<Vec<u8>> {
    let error = |what: String| syn::Error::new(obj.span(), what);
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| error(format!("cannot read `{shown}`: {e}")))?;
    if meta.is_dir() {
        return Err(error(format!(
            "`{shown}` is a directory, not a BPF object file"
        )));
    }
    if !meta.is_file() {
        return Err(error(format!(
            "`{shown}` is not a regular file (a pipe, socket or device), so it cannot be a BPF \
             object"
        )));
    }
    let mut data = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_OBJECT_SIZE + 1).read_to_end(&mut data))
        .map_err(|e| error(format!("cannot read `{shown}`: {e}")))?;
    if data.is_empty() {
        return Err(error(format!(
            "`{shown}` is empty: rebuild the BPF object (an interrupted build can leave an \
             empty file)"
        )));
    }
    if data.len() as u64 > MAX_OBJECT_SIZE {
        return Err(error(format!(
            "`{shown}` is larger than {} MiB, far more than a BPF object: is it the right file? \
             (strip debug info with `llvm-strip -g`)",
            MAX_OBJECT_SIZE >> 20
        )));
    }
    Ok(data)
}
