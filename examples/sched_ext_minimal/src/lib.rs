//! A minimal sched_ext scheduler, `preload_minimal`: a `sched_ext_ops` struct_ops map in
//! `.struct_ops.link`, which the loader lays out as the running kernel's struct and
//! registers with a `BPF_LINK_CREATE`; every task of the fair class runs under it for as
//! long as the link is held (Linux 6.12 with `CONFIG_SCHED_CLASS_EXT`). `scx_events`
//! counts tasks enabled (0), enqueued (1) and run (2); `scx_task_runs` counts runs per
//! process.
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(obj = "bpf/sched_ext_minimal.bpf.o")]
pub struct SchedExtMinimal;
