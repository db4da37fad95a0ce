//! Maps and globals but no program: loaded as libbpf loads it, the maps created and
//! the declared one pinned.
use bpf_preload::{bpf_preload, Preload};

#[bpf_preload(obj = "../fixtures/no_programs.bpf.o")]
pub struct NoPrograms;

fn main() {
    let object = <NoPrograms as Preload>::OBJECT;
    assert!(object.programs.is_empty() && object.links.is_empty());
    let maps: Vec<_> = object.maps.iter().map(|m| (m.name.as_str(), m.pin.map(|p| p.as_str()))).collect();
    assert_eq!(maps, [(".data", None), ("counters", Some("counters"))]);
}
