//! `#[bpf_preload(obj = "x.bpf.o")]`: reads a compiled BPF object at compile time and
//! emits a static table describing it, plus `impl bpf_preload::Preload`. The work is
//! done by `bpf-preload-codegen` (parse → model → validate → expand), which the module
//! builder and the fuzzer share; this crate only finds where the attribute is.

extern crate proc_macro;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

use proc_macro::TokenStream;

/// Preloads a compiled BPF object. See the `bpf-preload` crate for the options.
#[proc_macro_attribute]
pub fn bpf_preload(attr: TokenStream, item: TokenStream) -> TokenStream {
    // The directory of the file holding the attribute, like `include_bytes!`.
    let file = proc_macro::Span::call_site().local_file();
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    bpf_preload_codegen::attribute(
        attr.into(),
        item.into(),
        file.as_deref(),
        manifest.as_deref(),
    )
    .into()
}
