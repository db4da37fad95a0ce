//! Options given values of the wrong kind.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = 5)]
pub struct NumberForPath;

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o", name = iterators)]
pub struct IdentForString;

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o", pin_data = true)]
pub struct ValueForFlag;

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o", no_pin = "dump_bpf_map")]
pub struct StringForList;

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o", no_pin("dump_bpf_map"))]
pub struct QuotedName;

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o", pin_as(dump_bpf_map))]
pub struct RenameWithoutName;

fn main() {}
