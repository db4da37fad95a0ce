//! Our peer of `cargo xtask bench`: load + attach + pin + free one object with the
//! user backend, timed. `cargo xtask bench` writes a tiny crate per object around this
//! file (target/bench/ours/<object>/), whose `main` passes the object's table:
//!
//! ```text
//! ours-<object> PINDIR RUNS    one line per run:
//!                              RUN <load_ns> <free_ns> <attached>/<programs> <syscall_ns> <syscalls>
//! ours-<object> --sections     NAME=SECTION per program (for the aya harness)
//! ```
//!
//! load = `bpf_preload::load` (BTF, maps, attach targets, programs, links, pins);
//! free = `Loaded::free` (unpin, detach, close). `syscall_ns` is the part of load spent
//! inside bpf(2), perf_event_open(2), close(2) and the pin's bpf(2)/unlink, measured
//! around each call: the kernel's share, which no loader can avoid.

use std::path::Path;
use std::time::{Duration, Instant};

use bpf_preload::user::{UserBackend, UserPin};
use bpf_preload::{load, Backend, Bpf, Errno, Fd, Object};

/// The user backend, adding up the time spent in system calls.
struct Timed {
    inner: UserBackend,
    in_kernel: Duration,
    calls: u32,
}

impl Timed {
    fn time<T>(&mut self, f: impl FnOnce(&mut UserBackend) -> T) -> T {
        let start = Instant::now();
        let r = f(&mut self.inner);
        self.in_kernel += start.elapsed();
        self.calls += 1;
        r
    }
}

impl Bpf for Timed {
    unsafe fn bpf(&mut self, cmd: u32, attr: &mut [u8]) -> Result<u32, Errno> {
        // SAFETY: forwarded unchanged from our caller, who upholds `Backend::bpf`'s
        // contract for `attr`.
        self.time(|b| unsafe { b.bpf(cmd, attr) })
    }
}

impl Backend for Timed {
    type Pin = UserPin;

    fn close(&mut self, fd: Fd) {
        self.time(|b| b.close(fd))
    }

    fn attach_tracepoint(&mut self, prog: Fd, category: &str, name: &str) -> Result<Fd, Errno> {
        self.time(|b| b.attach_tracepoint(prog, category, name))
    }

    fn pin(&mut self, fd: Fd, name: &'static str) -> Result<Self::Pin, Errno> {
        self.time(|b| b.pin(fd, name))
    }

    fn unpin(&mut self, pin: Self::Pin) {
        self.time(|b| b.unpin(pin))
    }
}

pub fn main(object: &'static Object) {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--sections") {
        for program in object.programs {
            println!("{}={}", program.name, program.section);
        }
        return;
    }
    let [_, dir, runs] = &args[..] else {
        eprintln!("usage: {} PINDIR RUNS | --sections", args[0]);
        std::process::exit(2);
    };
    let dir = Path::new(dir);
    let runs: usize = runs.parse().expect("RUNS is a number");
    for _ in 0..runs {
        let mut backend = Timed {
            inner: UserBackend::new(dir),
            in_kernel: Duration::ZERO,
            calls: 0,
        };
        let start = Instant::now();
        let loaded = match load(object, &mut backend) {
            Ok(loaded) => loaded,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        };
        let load_time = start.elapsed();
        let (in_kernel, calls) = (backend.in_kernel, backend.calls);
        let start = Instant::now();
        loaded.free(&mut backend);
        let free_time = start.elapsed();
        println!(
            "RUN {} {} {}/{} {} {calls}",
            load_time.as_nanos(),
            free_time.as_nanos(),
            object.links.len(),
            object.programs.len(),
            in_kernel.as_nanos(),
        );
    }
}
