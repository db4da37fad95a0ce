//! `no_pin` leaves links and maps unpinned.
#![allow(dead_code)]
use bpf_preload::{bpf_preload, Object, Preload};

#[bpf_preload(
    obj = "../../examples/counters/bpf/counters.bpf.o",
    no_pin(count_getppid_raw_tp, events)
)]
pub struct Counters;

fn main() {
    let object = <Counters as Preload>::OBJECT;
    assert_eq!(link_pins(object)[0], ("count_getppid_raw_tp", None));
    assert_eq!(map_pins(object)[4], ("events", None));
    assert_eq!(
        map_pins(object)[3],
        ("counts_by_pid", Some("counts_by_pid"))
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
