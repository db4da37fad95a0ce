//! Maps of maps declared without their inner map, which their product's loader
//! completes with libbpf's `bpf_map__set_inner_map_fd()`: the attribute gives
//! `per_cgroup` the definition of `template`, another map of the object, and
//! `per_slot` a definition of its own. User space fills them at run time with maps
//! like their templates. Loaded from user space and as a module, and run with
//! `BPF_PROG_TEST_RUN`.
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(
    obj = "bpf/loader_inner_maps.bpf.o",
    inner_map(
        per_cgroup = template,
        per_slot = {
            type = BPF_MAP_TYPE_ARRAY,
            key_size = 4,
            value_size = 8,
            max_entries = 1
        }
    )
)]
pub struct LoaderInnerMaps;
