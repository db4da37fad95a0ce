//! A declared map `data` and the `.data` map, both pinned as `data`.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/odd_names.bpf.o", pin_data)]
pub struct OddNames;

fn main() {}
