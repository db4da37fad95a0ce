//! The object of `tamper_policy` with every protection: its maps frozen once loaded
//! (`freeze_all`: no syscall can change the policy's data, its programs still count)
//! and the runtime's guard (`protect`: no fd of its maps, programs or links for user
//! space, no write through one it holds).
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(
    obj = "../../tamper_policy/bpf/tamper_policy.bpf.o",
    name = "tamper_locked",
    pin_data,
    pin_as(list_maps = "maps.tamper", list_progs = "progs.tamper"),
    freeze_all,
    protect
)]
pub struct TamperLocked;
