//! Arbitrary bytes as the kernel's BTF, through everything the runtime's `RawBtf` does
//! with `/sys/kernel/btf/vmlinux` in module context (struct_ops layout): every input
//! must end in an error or an answer. A panic there would be a `BUG()` in the kernel,
//! and a hang (`-timeout`) a stuck `insmod`.
#![no_main]

use bpf_preload::testing::{RawBtf, BTF_KIND_STRUCT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(btf) = RawBtf::parse(data) else {
        return;
    };
    let _ = btf.find("tcp_congestion_ops", BTF_KIND_STRUCT);
    let _ = btf.find_prefixed("bpf_struct_ops_", "tcp_congestion_ops", BTF_KIND_STRUCT);
    // Every id, and a few past the end.
    for id in 0..=btf.len().saturating_add(2).min(4096) {
        let _ = btf.size_of(id);
        let _ = btf.skip_mods(id);
        if let Some(ty) = btf.get(id) {
            let _ = btf.named(&ty, "ops");
            let _ = btf.pointee(&ty).map(|p| btf.skip_mods(p));
            let _ = btf.struct_size(&ty);
            for m in btf.members(&ty) {
                let _ = btf.member_named(&m, "ops");
                let _ = btf.size_of(m.type_id);
                let _ = btf.skip_mods(m.type_id);
            }
        }
    }
});
