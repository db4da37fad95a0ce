//! A tracepoint program is attached through perf_event_open(2), which a module cannot
//! call, and a raw_tp program by a name BPF_RAW_TRACEPOINT_OPEN reads from user memory:
//! `Counters` (as the counters example declares it) does not build into a module,
//! `LoadOnly` (the same object, those two programs load-only) does, and so does
//! `Iterators`, whose links a module can make.

use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../../../examples/counters/bpf/counters.bpf.o", pin_data)]
pub struct Counters;

#[bpf_preload(
    obj = "../../../examples/counters/bpf/counters.bpf.o",
    pin_data,
    no_attach(count_getppid_tp, count_getppid_raw_tp)
)]
pub struct LoadOnly;

#[bpf_preload(obj = "../../../examples/iterators/bpf/iterators.bpf.o")]
pub struct Iterators;

fn main() {}
