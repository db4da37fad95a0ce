//! `name` sets the object's name, and with it the internal maps' kernel names.
#![allow(dead_code)]
use bpf_preload::{bpf_preload, Object, Preload};

#[bpf_preload(
    obj = "../../examples/counters/bpf/counters.bpf.o",
    name = "getppid_counters"
)]
pub struct Counters;

fn main() {
    let object = <Counters as Preload>::OBJECT;
    assert_eq!(object.name, "getppid_counters");
    let kernel_names: Vec<&str> = object.maps.iter().map(|m| m.kernel_name.as_str()).collect();
    assert_eq!(
        kernel_names,
        [
            "getppid_.bss",
            "getppid_.data",
            "getppid_.rodata",
            "counts_by_pid",
            "events"
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
