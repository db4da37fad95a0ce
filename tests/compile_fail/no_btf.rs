//! An object compiled without `-g`.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/no_btf.bpf.o")]
pub struct NoBtf;

fn main() {}
