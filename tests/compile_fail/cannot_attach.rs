//! A kprobe, which bpf-preload cannot attach, without `no_attach`.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/manual_attach.bpf.o", no_attach(pass_all, allow_egress))]
pub struct ManualAttach;

fn main() {}
