//! `obj` names a directory.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures")]
pub struct Directory;

fn main() {}
