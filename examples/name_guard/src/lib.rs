//! A BPF LSM policy configured like any kernel module: mkdir(2) of a directory named
//! `reserved` (default `bpf-preload-param`) fails with EPERM while `enforce` is on
//! (the default). Both are module parameters of the object module:
//! `modprobe name_guard reserved=private enforce=0`, an `options name_guard ...` line
//! in `/etc/modprobe.d/`, or `name_guard.reserved=private` on the kernel command line.
//! The `matches` map counts the mkdirs of that name.
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(obj = "bpf/name_guard.bpf.o", params(reserved, enforce))]
pub struct NameGuard;
