//! A `freplace` program: it needs a target program, which a preloaded object cannot name.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/freplace.bpf.o")]
pub struct Freplace;

fn main() {}
