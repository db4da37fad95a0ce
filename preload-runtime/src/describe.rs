//! What a module will do with an object, in words: what it loads, how each program
//! attaches, and what it shows in bpffs, for a stock kernel or for the preload series.
//! A pure function of the table, so that `cargo bpf-preload build` states the same
//! rules the kernel backend follows (the rule for what a stock kernel can show is
//! [`stock_shows`], used by both).

use core::fmt;

use crate::abi;
use crate::table::{Attach, Freeze, Link, Object};

/// How many pinned links a stock kernel shows in every bpffs mount: the kernel's
/// preload hook asks for exactly two iterator links (its own `maps.debug` and
/// `progs.debug`).
pub const STOCK_SHOWN_LINKS: usize = 2;

/// The kernel a module is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// A distribution kernel (Debian's 6.1 and 6.12): no pinning from a module; two
    /// iterator links at most, through the kernel's preload hook.
    Stock,
    /// A kernel with the preload series: every pin in `<bpffs>/<object>/`, for objects
    /// on its preload list.
    Preload,
}

/// Whether a stock kernel can show `link` in bpffs: a pinned iterator link. The
/// object's links of this kind are shown only if there are exactly
/// [`STOCK_SHOWN_LINKS`] of them.
pub fn stock_shows(object: &Object, link: &Link) -> bool {
    link.pin.is_some()
        && object
            .programs
            .get(link.program)
            .is_some_and(|p| p.expected_attach_type == abi::BPF_TRACE_ITER)
}

/// The description of what a module built from `object` does on `profile`, one line
/// per step (`load`, `attach`, `expose`/`pin`, `hold`), as [`fmt::Display`].
pub fn describe(object: &Object, profile: Profile) -> Description<'_> {
    Description { object, profile }
}

/// See [`describe`].
#[derive(Debug, Clone, Copy)]
pub struct Description<'a> {
    object: &'a Object,
    profile: Profile,
}

/// Items of a list, separated by `, `.
struct List<I>(I);

impl<I: Clone + Iterator<Item = T>, T: fmt::Display> fmt::Display for List<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.0.clone().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{item}")?;
        }
        Ok(())
    }
}

/// `name (N entries)` of a map, `name (section, N insns)` of a program.
struct Entry<'a>(&'a str, &'a str, usize, &'static str);

impl fmt::Display for Entry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            "" => write!(f, "{} ({} {})", self.0, self.2, self.3),
            c_type if self.3.is_empty() => write!(f, "{} ({c_type})", self.0),
            section => write!(f, "{} ({section}, {} {})", self.0, self.2, self.3),
        }
    }
}

impl fmt::Display for Description<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.object;
        let maps = o
            .maps
            .iter()
            .map(|m| Entry(m.name.as_str(), "", m.max_entries as usize, "entries"));
        writeln!(
            f,
            "load    BTF ({} bytes); {} map(s): {}",
            o.btf.len(),
            o.maps.len(),
            List(maps)
        )?;
        let programs = o
            .programs
            .iter()
            .map(|p| Entry(p.name.as_str(), p.section.as_str(), p.insn_count(), "insns"));
        writeln!(
            f,
            "        {} program(s): {}",
            o.programs.len(),
            List(programs)
        )?;
        if !o.params.is_empty() {
            let params =
                (o.params.iter()).map(|p| Entry(p.name.as_str(), p.c_type.as_str(), 0, ""));
            writeln!(
                f,
                "params  {}: module parameters (modprobe NAME VARIABLE=value), read-only once loaded",
                List(params)
            )?;
        }
        for m in o.maps {
            let Some(ops) = m.struct_ops else { continue };
            let how = if m.map_flags & abi::BPF_F_LINK != 0 {
                "BPF_MAP_UPDATE_ELEM, then BPF_LINK_CREATE"
            } else {
                "BPF_MAP_UPDATE_ELEM"
            };
            if ops.register {
                writeln!(
                    f,
                    "attach  {}: struct {} registered with the kernel ({how}), laid out as the \
                     running kernel's BTF has it",
                    m.name, ops.type_name
                )?;
            } else {
                writeln!(f, "attach  {}: struct_ops map, not registered", m.name)?;
            }
        }
        for (i, p) in o.programs.iter().enumerate() {
            let serves = o.maps.iter().find_map(|m| {
                let ops = m.struct_ops?;
                let member = ops.members.iter().find(|mm| mm.program.get() == Some(i))?;
                Some((m.name, member.name))
            });
            if let Some((map, member)) = serves {
                writeln!(f, "attach  {}: `{member}` of struct_ops map {map}", p.name)?;
                continue;
            }
            match o.link_of(i).map(|l| l.attach) {
                None => writeln!(f, "attach  {}: not attached (loaded and held only)", p.name)?,
                Some(Attach::LinkCreate) => {
                    writeln!(f, "attach  {}: {} (BPF_LINK_CREATE)", p.name, p.section)?
                }
                Some(Attach::RawTracepoint(None)) => writeln!(
                    f,
                    "attach  {}: {} (BPF_RAW_TRACEPOINT_OPEN)",
                    p.name, p.section
                )?,
                Some(Attach::RawTracepoint(Some(name))) => writeln!(
                    f,
                    "attach  {}: raw tracepoint {name:?}: WILL FAIL in a module: kern_sys_bpf \
                     reads the name as a user pointer (EFAULT)",
                    p.name
                )?,
                Some(Attach::Tracepoint(tp)) => writeln!(
                    f,
                    "attach  {}: tracepoint {}/{}: WILL FAIL in a module: it needs \
                     perf_event_open(2)",
                    p.name, tp.category, tp.name
                )?,
            }
        }
        let frozen = o
            .maps
            .iter()
            .filter(|m| m.freeze == Freeze::Loaded)
            .map(|m| m.name);
        if frozen.clone().next().is_some() {
            writeln!(
                f,
                "freeze  {} once loaded (BPF_MAP_FREEZE: no syscall writes them, the programs \
                 still do)",
                List(frozen)
            )?;
        }
        if o.protect {
            writeln!(
                f,
                "protect the guard (BPF LSM on the bpf, bpf_map and bpf_prog hooks) refuses user \
                 space every fd of these maps, programs and links; the load fails if the BPF \
                 LSM is not active"
            )?;
        }
        if o.attaches_trampolines() || o.protect {
            writeln!(
                f,
                "ftrace  kept on while held: kernel.ftrace_enabled=0 is refused (EBUSY), since \
                 it would switch off every BPF trampoline; the load fails if ftrace is off"
            )?;
        }
        let pins = o
            .links
            .iter()
            .filter_map(|l| l.pin)
            .chain(o.maps.iter().filter_map(|m| m.pin))
            .chain(o.programs.iter().filter_map(|p| p.pin));
        if self.profile == Profile::Preload {
            return writeln!(
                f,
                "pin     {}/{{{}}} in every bpffs instance, if the kernel's preload list names `{}`",
                o.name,
                List(pins),
                o.name
            );
        }
        let shown = o.links.iter().filter(|l| stock_shows(o, l));
        let count = shown.clone().count();
        if count == STOCK_SHOWN_LINKS {
            let names = List(shown.filter_map(|l| l.pin));
            writeln!(
                f,
                "expose  {names} in every bpffs mount (the kernel's preload hook, if no other \
                 module holds it)"
            )?;
        } else if count > 0 {
            writeln!(
                f,
                "expose  nothing: a stock kernel shows exactly {STOCK_SHOWN_LINKS} iterator links \
                 in bpffs, this object pins {count}"
            )?;
        } else {
            writeln!(f, "expose  nothing (no pinned iterator links)")?;
        }
        let exposed = if count == STOCK_SHOWN_LINKS { count } else { 0 };
        let held = pins.count() - exposed;
        if held > 0 {
            writeln!(
                f,
                "hold    {held} other pin(s) requested by the object: held without pins (a stock \
                 kernel cannot pin from a module)"
            )?;
        }
        Ok(())
    }
}
