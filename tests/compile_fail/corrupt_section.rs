//! A section that claims bytes past the end of the file.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/section_past_eof.bpf.o")]
pub struct CorruptSection;

fn main() {}
