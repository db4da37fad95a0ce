//! `pin_programs` pins every program as `<program>_prog`.
#![allow(dead_code)]
use bpf_preload::{bpf_preload, Object, Preload};

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o", pin_programs)]
pub struct Iterators;

fn main() {
    let object = <Iterators as Preload>::OBJECT;
    let pins: Vec<_> = object.programs.iter().map(|p| p.pin.map(|p| p.as_str())).collect();
    assert_eq!(
        pins,
        [Some("dump_bpf_map_prog"), Some("dump_bpf_prog_prog")]
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
