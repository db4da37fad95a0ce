//! A `.BTF` whose string section ends past the section.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/btf_strings_past_end.bpf.o")]
pub struct CorruptBtf;

fn main() {}
