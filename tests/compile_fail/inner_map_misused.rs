//! `inner_map(...)` given wrongly: each struct one mistake, pointed at.
use bpf_preload::bpf_preload;

#[bpf_preload(
    obj = "../../examples/loader_inner_maps/bpf/loader_inner_maps.bpf.o",
    inner_map(per_cgroup = template)
)]
pub struct OneLeftOut;

#[bpf_preload(
    obj = "../../examples/loader_inner_maps/bpf/loader_inner_maps.bpf.o",
    inner_map(template = per_cgroup, per_slot = template)
)]
pub struct NotAMapOfMaps;

#[bpf_preload(
    obj = "../../examples/loader_inner_maps/bpf/loader_inner_maps.bpf.o",
    inner_map(per_cgroup = templat, per_slot = template)
)]
pub struct UnknownTemplate;

#[bpf_preload(
    obj = "../../examples/loader_inner_maps/bpf/loader_inner_maps.bpf.o",
    inner_map(per_cgroup = per_slot, per_slot = template)
)]
pub struct Nested;

#[bpf_preload(
    obj = "../../examples/loader_inner_maps/bpf/loader_inner_maps.bpf.o",
    inner_map(per_cgroup = template, per_cgroup = template, per_slot = template)
)]
pub struct GivenTwice;

#[bpf_preload(
    obj = "../../examples/loader_inner_maps/bpf/loader_inner_maps.bpf.o",
    inner_map(per_cgroup = { type = BPF_MAP_TYPE_HASH, key_size = 4, value_size = 8 }, per_slot = template)
)]
pub struct DefinitionIncomplete;

#[bpf_preload(
    obj = "../../examples/loader_inner_maps/bpf/loader_inner_maps.bpf.o",
    inner_map(per_cgroup = { type = BPF_MAP_TYPE_HASHH, key_size = 4, value_size = 8, max_entries = 1 }, per_slot = template)
)]
pub struct UnknownType;

#[bpf_preload(
    obj = "../../examples/loader_inner_maps/bpf/loader_inner_maps.bpf.o",
    inner_map(per_cgroup = { type = BPF_MAP_TYPE_ARRAY, key_sz = 4, value_size = 8, max_entries = 1 }, per_slot = template)
)]
pub struct UnknownField;

#[bpf_preload(
    obj = "../../examples/loader_inner_maps/bpf/loader_inner_maps.bpf.o",
    inner_map(per_cgroup = { type = BPF_MAP_TYPE_PROG_ARRAY, key_size = 4, value_size = 4, max_entries = 1 }, per_slot = template)
)]
pub struct NoProgArrays;

#[bpf_preload(
    obj = "../../examples/loader_inner_maps/bpf/loader_inner_maps.bpf.o",
    inner_map(per_cgroup = { type = 2, key_size = 4, value_size = 8, max_entries = 1 }, per_slot = template)
)]
pub struct TypeByNumber;

fn main() {}
