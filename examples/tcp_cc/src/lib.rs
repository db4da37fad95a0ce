//! A TCP congestion control, `preload_reno`: a struct_ops map whose value the loader
//! lays out as the running kernel's `struct tcp_congestion_ops`, registered for as long
//! as the object is held. `cc_events` counts connections (0) and window-growing ACKs (1).
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(obj = "bpf/tcp_cc.bpf.o")]
pub struct TcpCc;
