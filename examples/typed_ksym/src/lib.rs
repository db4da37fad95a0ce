//! An iterator that reads this CPU's `bpf_prog_active`, a per-CPU kernel variable
//! reached by its BTF id (a typed `__ksym`).
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(obj = "bpf/typed_ksym.bpf.o")]
pub struct TypedKsym;
