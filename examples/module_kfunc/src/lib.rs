//! An XDP program that calls a kfunc of the nf_conntrack module, a weak extern found in
//! the module's BTF when the module is loaded. Loaded only: `BPF_PROG_TEST_RUN` says
//! which the loader saw (10: no kfunc, 12: the kfunc ran).
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(obj = "bpf/module_kfunc.bpf.o", no_attach(ct_lookup), pin_programs)]
pub struct ModuleKfunc;
