//! The aya peer of `cargo xtask bench`: load + attach + pin + free one object, timed.
//!
//! ```text
//! aya-bench OBJ PINDIR RUNS NAME=SECTION...
//! ```
//!
//! aya does not attach by section name, so `cargo xtask bench` passes every program's
//! name and ELF section (as our table records them). The object is read once; each run:
//! load = `Ebpf::load` (which also parses the kernel's BTF) + for every program, `load`
//! (tp_btf and iter programs with `Btf::from_sys_fs()`, as aya's documentation does) and
//! `attach`, then `take_link` + `FdLink::pin` of every link and `Map::pin` of every map
//! into PINDIR; free = `PinnedLink::unpin` + removing the map pins + dropping
//! everything. Prints `RUN <load_ns> <free_ns> <attached>/<programs>` per run.

use std::path::Path;
use std::time::Instant;

use aya::programs::links::{FdLink, PinnedLink};
use aya::programs::{BtfTracePoint, Iter, Lsm, Program, RawTracePoint, TracePoint};
use aya::{Btf, Ebpf};

type Error = Box<dyn std::error::Error>;

/// Loads and attaches one program; returns its link as an `FdLink`, if it attached.
fn load_attach(
    program: &mut Program,
    section: &str,
    btf: &mut Option<Btf>,
) -> Result<Option<FdLink>, Error> {
    let (kind, target) = section.split_once('/').unwrap_or((section, ""));
    let mut kernel_btf = || -> Result<Btf, Error> {
        Ok(match btf.take() {
            Some(btf) => btf,
            None => Btf::from_sys_fs()?,
        })
    };
    let link = match kind {
        "raw_tp" | "raw_tracepoint" => {
            let p: &mut RawTracePoint = program.try_into()?;
            p.load()?;
            let id = p.attach(target)?;
            FdLink::from(p.take_link(id)?)
        }
        "tp_btf" => {
            let p: &mut BtfTracePoint = program.try_into()?;
            let b = kernel_btf()?;
            p.load(target, &b)?;
            *btf = Some(b);
            let id = p.attach()?;
            FdLink::from(p.take_link(id)?)
        }
        "iter" => {
            let p: &mut Iter = program.try_into()?;
            let b = kernel_btf()?;
            p.load(target, &b)?;
            *btf = Some(b);
            let id = p.attach()?;
            FdLink::try_from(p.take_link(id)?)?
        }
        "lsm" => {
            let p: &mut Lsm = program.try_into()?;
            let b = kernel_btf()?;
            p.load(target, &b)?;
            *btf = Some(b);
            let id = p.attach()?;
            FdLink::from(p.take_link(id)?)
        }
        "tracepoint" | "tp" => {
            let p: &mut TracePoint = program.try_into()?;
            p.load()?;
            let (category, name) = target.split_once('/').ok_or("tracepoint/CATEGORY/NAME")?;
            let id = p.attach(category, name)?;
            FdLink::try_from(p.take_link(id)?)?
        }
        _ => return Err(format!("section {section}: not handled by this harness").into()),
    };
    Ok(Some(link))
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        return Err("usage: aya-bench OBJ PINDIR RUNS NAME=SECTION...".into());
    }
    let data = std::fs::read(&args[1])?;
    let dir = Path::new(&args[2]);
    let runs: usize = args[3].parse()?;
    let sections: Vec<(&str, &str)> = args[4..]
        .iter()
        .map(|a| a.split_once('=').ok_or("NAME=SECTION"))
        .collect::<Result<_, _>>()?;
    for _ in 0..runs {
        let start = Instant::now();
        let mut ebpf = Ebpf::load(&data)?;
        // One parse of the kernel's BTF per run, shared by the programs that need it.
        let mut btf = None;
        let mut pinned: Vec<PinnedLink> = Vec::new();
        let mut programs = 0;
        for (name, section) in &sections {
            let program = ebpf
                .program_mut(name)
                .ok_or_else(|| format!("no program {name}"))?;
            programs += 1;
            if let Some(link) = load_attach(program, section, &mut btf)? {
                pinned.push(link.pin(dir.join(name))?);
            }
        }
        let mut map_pins = Vec::new();
        for (name, map) in ebpf.maps() {
            // bpffs refuses names with '.' from user space (.rodata, .bss).
            let path = dir.join(format!("map_{}", name.replace('.', "_")));
            map.pin(&path)?;
            map_pins.push(path);
        }
        let load = start.elapsed();
        let attached = pinned.len();
        let start = Instant::now();
        for link in pinned {
            drop(link.unpin()?);
        }
        for path in map_pins {
            std::fs::remove_file(path)?;
        }
        drop(ebpf);
        let free = start.elapsed();
        println!(
            "RUN {} {} {attached}/{programs}",
            load.as_nanos(),
            free.as_nanos()
        );
    }
    Ok(())
}
