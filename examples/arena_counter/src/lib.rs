//! An arena with `__arena` globals: from a process, the loader maps the arena at its
//! `map_extra` and writes the globals there before `bump` loads; a module refuses
//! the object, since it runs in no process to map the arena into.
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(obj = "bpf/arena_counter.bpf.o")]
pub struct ArenaCounter;
