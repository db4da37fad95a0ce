//! The C source instead of the object.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/src/no_programs.bpf.c")]
pub struct Source;

fn main() {}
