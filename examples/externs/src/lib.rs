//! An iterator that prints what every kind of extern resolved to in the kernel it
//! runs on: Kconfig values (`__kconfig`), kernel symbols and kfuncs (`__ksym`),
//! including weak ones the kernel lacks. Pinned as `externs`.
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(obj = "bpf/externs.bpf.o", pin_as(dump_externs = "externs"))]
pub struct Externs;
