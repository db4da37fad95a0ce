//! The object the tamper matrix attacks, unprotected: a BPF LSM policy whose data is
//! in maps (mkdir(2) of the name in `.data` refused unless the uid is in `exempt`,
//! refusals counted in `refusals`) and two iterators showing it. See
//! `tamper_policy_locked` for the same object with `protect` and `freeze_all`.
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(
    obj = "bpf/tamper_policy.bpf.o",
    pin_data,
    pin_as(list_maps = "maps.tamper", list_progs = "progs.tamper")
)]
pub struct TamperPolicy;
