//! `@PACKAGE@`: a BPF LSM policy (`bpf/@OBJ@.bpf.c`), preloaded by bpf-preload. Built
//! into a kernel module (`cargo bpf-preload build`), it refuses mkdir(2) of a directory
//! named `forbidden` from the moment the module loads until shutdown.
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../bpf/@OBJ@.bpf.o")]
pub struct @TYPE@;
