//! A `bpf_timer` that ticks on its own once a program has armed it, counting its ticks
//! in a map. Its holder must keep what an fd keeps (the map's user reference): the
//! kernel cancels a map's timers when that goes, and refuses to arm them without it.
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(obj = "bpf/timer_tick.bpf.o")]
pub struct TimerTick;
