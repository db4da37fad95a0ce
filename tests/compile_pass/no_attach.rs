//! `no_attach` loads a program without a link.
#![allow(dead_code)]
use bpf_preload::{bpf_preload, Object, Preload};

#[bpf_preload(
    obj = "../../examples/counters/bpf/counters.bpf.o",
    no_attach(count_getppid_tp)
)]
pub struct Counters;

fn main() {
    let object = <Counters as Preload>::OBJECT;
    assert_eq!(
        link_pins(object),
        [
            ("count_getppid_raw_tp", Some("count_getppid_raw_tp")),
            ("count_getppid_tp_btf", Some("count_getppid_tp_btf")),
        ]
    );
    assert_eq!(object.programs.len(), 3);
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
