//! `no_attach_all`: every program is loaded, none attached, whatever its section.
#![allow(dead_code)]
use bpf_preload::{bpf_preload, Object, Preload};

#[bpf_preload(obj = "../fixtures/manual_attach.bpf.o", no_attach_all, pin_programs)]
pub struct ManualAttach;

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o", no_attach_all)]
pub struct Iterators;

fn main() {
    for object in [
        <ManualAttach as Preload>::OBJECT,
        <Iterators as Preload>::OBJECT,
    ] {
        let object: &Object = object;
        assert!(object.links.is_empty(), "{}: no links", object.name);
        assert!(!object.programs.is_empty());
    }
}
