//! `pin_data` pins the `.data`, `.rodata` and `.bss` maps.
#![allow(dead_code)]
use bpf_preload::{bpf_preload, Object, Preload};

#[bpf_preload(obj = "../../examples/counters/bpf/counters.bpf.o", pin_data)]
pub struct Counters;

fn main() {
    let object = <Counters as Preload>::OBJECT;
    assert_eq!(
        map_pins(object)[..3],
        [
            (".bss", Some("bss")),
            (".data", Some("data")),
            (".rodata", Some("rodata"))
        ]
    );
}

fn link_pins(object: &Object) -> Vec<(&str, Option<&str>)> {
    object
        .links
        .iter()
        .map(|l| (object.programs[l.program].name.as_str(), l.pin.map(|p| p.as_str())))
        .collect()
}

fn map_pins(object: &Object) -> Vec<(&str, Option<&str>)> {
    object.maps.iter().map(|m| (m.name.as_str(), m.pin.map(|p| p.as_str()))).collect()
}
