//! A struct_ops program that no struct_ops map uses.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/struct_ops_unused.bpf.o")]
pub struct StructOpsUnused;

fn main() {}
