//! A map of maps carries its inner map's definition, created first as the template.
use bpf_preload::{abi, bpf_preload, Preload};

#[bpf_preload(obj = "../fixtures/map_in_map.bpf.o", no_attach(lookup))]
pub struct MapInMap;

fn main() {
    let object = <MapInMap as Preload>::OBJECT;
    let outer = object.maps.iter().find(|m| m.name == "outer").unwrap();
    assert_eq!(outer.map_type, abi::BPF_MAP_TYPE_ARRAY_OF_MAPS);
    assert_eq!((outer.key_size, outer.value_size, outer.max_entries), (4, 4, 4));
    assert_eq!(
        (outer.btf_key_type_id, outer.btf_value_type_id),
        (0, 0),
        "the kernel refuses BTF types on a map of maps"
    );
    let inner = outer.inner.unwrap();
    assert_eq!(inner.map_type, abi::BPF_MAP_TYPE_ARRAY);
    assert_eq!((inner.key_size, inner.value_size, inner.max_entries), (4, 4, 1));
}
