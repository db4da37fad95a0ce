//! A relocation past the end of its section.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/relocation_outside.bpf.o")]
pub struct CorruptRelocation;

fn main() {}
