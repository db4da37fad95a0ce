//! `pin_as` renames the pins of links (by program) and of maps, `.data`-like ones included.
#![allow(dead_code)]
use bpf_preload::{bpf_preload, Object, Preload};

#[bpf_preload(
    obj = "../../examples/counters/bpf/counters.bpf.o",
    pin_as(
        count_getppid_tp = "tp.link",
        counts_by_pid = "counts",
        rodata = "config"
    )
)]
pub struct Counters;

fn main() {
    let object = <Counters as Preload>::OBJECT;
    assert_eq!(link_pins(object)[1], ("count_getppid_tp", Some("tp.link")));
    assert_eq!(
        map_pins(object),
        [
            (".bss", None),
            (".data", None),
            (".rodata", Some("config")),
            ("counts_by_pid", Some("counts")),
            ("events", Some("events")),
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
