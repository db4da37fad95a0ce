//! A non-GPL license and a GPL-only helper.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/proprietary.bpf.o")]
pub struct Proprietary;

fn main() {}
