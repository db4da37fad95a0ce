//! A map whose value type is a two-dimensional array gets its size from the object's
//! BTF (64 bytes), not aya-obj's 16.
#![allow(dead_code)]
use bpf_preload::{bpf_preload, Preload};

#[bpf_preload(obj = "../fixtures/nested_array_value.bpf.o")]
pub struct NestedArray;

fn main() {
    let object = <NestedArray as Preload>::OBJECT;
    let names = object.maps.iter().find(|m| m.name == "names").unwrap();
    assert_eq!((names.key_size, names.value_size), (4, 64));
}
