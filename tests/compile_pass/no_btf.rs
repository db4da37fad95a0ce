//! An object without BTF loads without it: no func_info, line_info or CO-RE.
use bpf_preload::{bpf_preload, Preload};

#[bpf_preload(obj = "../fixtures/no_btf.bpf.o")]
pub struct NoBtf;

fn main() {
    let object = <NoBtf as Preload>::OBJECT;
    assert!(object.btf.is_empty());
    let program = &object.programs[0];
    assert!(program.func_info.is_empty() && program.line_info.is_empty());
    assert_eq!(object.links.len(), 1, "an iterator, attached as usual");
}
