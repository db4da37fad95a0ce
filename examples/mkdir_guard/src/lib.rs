//! A BPF LSM policy attached automatically at load: mkdir(2) of a directory named
//! `bpf-preload-reserved` fails with EPERM. The `refusals` map counts refusals.
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(obj = "bpf/mkdir_guard.bpf.o")]
pub struct MkdirGuard;
