//! `freeze(...)` freezes the maps it names once loaded; `freeze_all` every map that
//! can be frozen (not a ring buffer or perf event array, and `.rodata` as before);
//! `protect` asks for the guard.
use bpf_preload::{bpf_preload, Freeze, Object, Preload};

#[bpf_preload(obj = "../../examples/counters/bpf/counters.bpf.o", freeze(counts_by_pid, data))]
pub struct Named;

#[bpf_preload(obj = "../../examples/counters/bpf/counters.bpf.o", freeze_all, protect)]
pub struct All;

#[bpf_preload(obj = "../../examples/map_kinds/bpf/map_kinds.bpf.o", freeze_all)]
pub struct Kinds;

fn main() {
    use Freeze::*;
    let some = <Named as Preload>::OBJECT;
    assert_eq!(
        freezes(some),
        [
            (".bss", Never),
            (".data", Loaded),
            (".rodata", Initialised),
            ("counts_by_pid", Loaded),
            ("events", Never)
        ]
    );
    assert!(!some.protect);
    let all = <All as Preload>::OBJECT;
    assert_eq!(
        freezes(all),
        [
            (".bss", Loaded),
            (".data", Loaded),
            (".rodata", Initialised),
            ("counts_by_pid", Loaded),
            ("events", Never)
        ]
    );
    assert!(all.protect);
    let kinds = freezes(<Kinds as Preload>::OBJECT);
    assert!(kinds.contains(&("jumps", Loaded)), "{kinds:?}");
    assert!(kinds.contains(&("outer", Loaded)), "{kinds:?}");
    assert!(kinds.contains(&("events", Never)), "{kinds:?}");
}

fn freezes(object: &Object) -> Vec<(&str, Freeze)> {
    object.maps.iter().map(|m| (m.name.as_str(), m.freeze)).collect()
}
