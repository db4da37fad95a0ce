//! A program symbol larger than its section.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/symbol_outside.bpf.o")]
pub struct CorruptSymbol;

fn main() {}
