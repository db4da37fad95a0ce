//! `@PACKAGE@`: a BPF tracer (`bpf/@OBJ@.bpf.c`), preloaded by bpf-preload. Built into
//! a kernel module (`cargo bpf-preload build`), it counts program executions per user
//! id into the `execs` map from the moment the module loads until shutdown.
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../bpf/@OBJ@.bpf.o")]
pub struct @TYPE@;
