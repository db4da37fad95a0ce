//! A `__ksym` kfunc.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/ksym.bpf.o")]
pub struct Ksym;

fn main() {}
