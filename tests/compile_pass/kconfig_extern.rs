//! A `.kconfig` extern becomes a `.kconfig` map the loader fills, and the read of it
//! a map-value load.
use bpf_preload::{abi, bpf_preload, KconfigKind, Preload};

#[bpf_preload(obj = "../fixtures/kconfig.bpf.o", no_attach(check_version))]
pub struct Kconfig;

fn main() {
    let object = <Kconfig as Preload>::OBJECT;
    let map = object.maps.iter().find(|m| m.name == ".kconfig").unwrap();
    assert_eq!(map.kernel_name, "kconfig.kconfig");
    assert_eq!(map.map_type, abi::BPF_MAP_TYPE_ARRAY);
    assert_eq!((map.key_size, map.value_size, map.max_entries), (4, 4, 1));
    assert_eq!(
        map.freeze,
        bpf_preload::Freeze::Initialised,
        "frozen after the loader writes it, as libbpf does"
    );
    assert_eq!(map.kconfig.len(), 1);
    let var = &map.kconfig[0];
    assert_eq!(
        (var.name.as_str(), var.offset, var.size, var.kind, var.weak),
        ("LINUX_KERNEL_VERSION", 0, 4, KconfigKind::Int { signed: false }, false)
    );
    assert!(object.externs.is_empty());
}
