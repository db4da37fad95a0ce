//! `examples/tcp_cc`'s congestion control as `preload_renol`, in `.struct_ops.link`:
//! registered by a `BPF_LINK_CREATE` of its map (Linux 6.4 and later), for as long as
//! the link is held.
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(obj = "bpf/tcp_cc_link.bpf.o")]
pub struct TcpCcLink;
