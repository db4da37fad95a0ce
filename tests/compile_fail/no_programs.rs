//! Maps and globals but no program.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/no_programs.bpf.o")]
pub struct NoPrograms;

fn main() {}
