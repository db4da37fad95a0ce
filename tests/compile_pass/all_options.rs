//! Every option at once, in a module, next to other items.
#![allow(dead_code)]
use bpf_preload::{Object, Preload};

mod preloaded {
    use bpf_preload::bpf_preload;

    /// Documented, with other attributes around it.
    #[derive(Debug)]
    #[bpf_preload(
        obj = "../../examples/counters/bpf/counters.bpf.o",
        name = "all_options",
        pin_as(count_getppid_raw_tp = "raw", events = "ring"),
        no_pin(count_getppid_tp_btf),
        no_attach(count_getppid_tp),
        pin_programs,
        pin_data
    )]
    pub(crate) struct Counters;
}

fn main() {
    let object = <preloaded::Counters as Preload>::OBJECT;
    assert_eq!(object.name, "all_options");
    assert_eq!(
        link_pins(object),
        [
            ("count_getppid_raw_tp", Some("raw")),
            ("count_getppid_tp_btf", None)
        ]
    );
    assert_eq!(map_pins(object)[4], ("events", Some("ring")));
    assert_eq!(map_pins(object)[0], (".bss", Some("bss")));
    assert!(object.programs.iter().all(|p| p.pin.is_some()));
    println!("{:?}", preloaded::Counters);
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
