//! A `.BTF.ext` with an impossible record size.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/btf_ext_bad_record_size.bpf.o")]
pub struct CorruptBtfExt;

fn main() {}
