//! The object of `tamper_policy` with its maps frozen once loaded and nothing else
//! (`freeze_all`: no syscall can change the policy's data, its programs still count),
//! the middle column of the tamper matrix: what freezing holds without the guard.
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(
    obj = "../../tamper_policy/bpf/tamper_policy.bpf.o",
    name = "tamper_frozen",
    pin_data,
    pin_as(list_maps = "maps.tamper", list_progs = "progs.tamper"),
    freeze_all
)]
pub struct TamperFrozen;
