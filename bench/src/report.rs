//! BENCHMARKS.md: the machine, the commands, one table per section, 5. scaling, and
//! the rows where we are not ahead.

use std::fmt::Write as _;

use crate::userspace::{Measured, LOADERS};
use crate::{boot, build, fmt_ms, module, userspace, version, Cell, Kind, Stats, Subject};

pub struct Report {
    pub runs: usize,
    pub quick: bool,
    pub userspace: Option<userspace::Results>,
    pub build: Option<build::Results>,
    pub sizes: Option<module::Sizes>,
    pub vm: Option<module::VmResults>,
    pub boot: Option<Vec<boot::Row>>,
    /// The 1-minute load average at the start and at the end.
    pub loadavg: (String, String),
    pub seconds: f64,
}

const PEER_NAMES: [(&str, &str); 4] = [
    ("ours", "ours"),
    ("libbpf", "libbpf"),
    ("lskel", "light skeleton"),
    ("aya", "aya"),
];

fn cell(c: &Cell) -> String {
    match c {
        Ok(s) => s.ms(),
        Err(e) => format!("— ({})", short(e)),
    }
}

/// An error short enough for a table cell, without `|`.
fn short(e: &str) -> String {
    let line = module::first_line(e);
    let line: String = line.chars().take(140).collect();
    line.replace('|', "/")
}

fn ratio(ours: &Cell, peer: &Cell) -> String {
    match (ours, peer) {
        (Ok(o), Ok(p)) if p.median > 0.0 => format!("{:.2}", o.median / p.median),
        _ => "—".into(),
    }
}

fn ratio_value(ours: &Cell, peer: &Cell) -> Option<f64> {
    match (ours, peer) {
        (Ok(o), Ok(p)) if p.median > 0.0 => Some(o.median / p.median),
        _ => None,
    }
}

fn size_cell(s: &Result<module::Size, String>) -> String {
    match s {
        Ok((t, d, b)) => format!("{t} / {d} / {b}"),
        Err(e) => format!("— ({})", short(e)),
    }
}

fn programs_of(s: &Subject) -> String {
    match s.kind {
        Kind::Generated(n) => format!("{n} / {n}"),
        Kind::Example { .. } => String::new(),
    }
}

impl Report {
    pub fn new(runs: usize, quick: bool) -> Self {
        Report {
            runs,
            quick,
            userspace: None,
            build: None,
            sizes: None,
            vm: None,
            boot: None,
            loadavg: Default::default(),
            seconds: 0.0,
        }
    }

    pub fn render(&self, subjects: &[Subject]) -> String {
        let mut o = String::new();
        let mut behind: Vec<String> = Vec::new();
        let mut headline: Vec<String> = Vec::new();
        self.header(&mut o);
        let mut body = String::new();
        if let Some(r) = &self.userspace {
            self.userspace(&mut body, r, subjects, &mut behind, &mut headline);
        }
        if let Some(r) = &self.build {
            self.build(&mut body, r, subjects, &mut behind, &mut headline);
        }
        if let Some(r) = &self.sizes {
            self.sizes(&mut body, r, &mut behind, &mut headline);
        }
        if let Some(r) = &self.vm {
            self.vm(&mut body, r, &mut behind, &mut headline);
        }
        self.scaling(&mut body, subjects);
        if let Some(rows) = &self.boot {
            Self::boot(&mut body, rows);
        }
        let _ = writeln!(o, "## Headline\n");
        for h in &headline {
            let _ = writeln!(o, "- {h}");
        }
        o.push('\n');
        o.push_str(&body);
        let _ = writeln!(o, "## Where we are not ahead\n");
        if behind.is_empty() {
            let _ = writeln!(o, "Nowhere in this run.\n");
        }
        for b in &behind {
            let _ = writeln!(o, "- {b}");
        }
        o.push_str(include_str!("notes.md"));
        o
    }

    fn boot(o: &mut String, rows: &[boot::Row]) {
        let _ = writeln!(o, "## 6. Boot: kernel start → policy active\n");
        let _ = writeln!(
            o,
            "The policy of a crate made by `cargo bpf-preload new --lsm` (and, on the preload \
             kernel, the `mkdir_guard` example), from one run of `cargo xtask vm-test --scenario \
             initramfs --scenario modules-load --scenario preload-boot --jobs 1` on 6.1, 6.12 \
             and the preload kernel: seconds from \
             kernel start to the module's message that it attached, by the kernel log's \
             timestamps, each boot checked to refuse the policy's mkdir; for Debian's \
             initramfs also from the kernel's \"Run /init as init process\" (the initramfs's \
             init-top script loads the module before udev starts). QEMU emulates (TCG), \
             so the absolute times are those of an emulated machine; the initramfs and \
             systemd boots run Debian's full 6.1 and 6.12 kernels with Debian's own initramfs \
             (udev, MODULES=most) and a Debian 12 root filesystem made by mmdebstrap; the \
             preload kernel is a small configuration of the same 6.12 with the preload series \
             and a busybox initramfs, so its row against Debian's 6.12 rows is the same \
             kernel version booted the two ways.\n"
        );
        let _ = writeln!(
            o,
            "| loaded by | kernel | kernel start → policy active, s | /init start → policy active, s |"
        );
        let _ = writeln!(o, "|---|---|---:|---:|");
        for r in rows {
            let after_init = r
                .after_init
                .map_or_else(|| "–".to_string(), |s| format!("{s:.3}"));
            let _ = writeln!(
                o,
                "| {} | {} | {:.3} | {after_init} |",
                r.path, r.release, r.seconds
            );
        }
        let _ = writeln!(o);
        for r in rows {
            let _ = writeln!(o, "- `{}`: {}", r.scenario, r.detail);
        }
        let _ = writeln!(o);
    }

    fn header(&self, o: &mut String) {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|s| s.trim().to_string())
            })
            .unwrap_or_default();
        let mem = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .next()
                    .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_string())
            })
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| format!("{:.1} GiB", kb / 1048576.0))
            .unwrap_or_default();
        let pkg = |p: &str| version("dpkg-query", &["-W", "-f=${Version}", p]);
        let _ = writeln!(o, "# Benchmarks\n");
        let _ = writeln!(
            o,
            "Written by `cargo xtask bench` (as root; {:.0} s for the whole run, builds included, \
             starting from warm cargo and apt caches). Nothing here passes or fails: the numbers \
             are the product. Each timing cell is the median (min–max) of {} runs in \
             milliseconds; each ratio is ours / peer, of the medians, measured in the same run.\n",
            self.seconds, self.runs
        );
        let _ = writeln!(o, "| | |\n|---|---|");
        let _ = writeln!(
            o,
            "| machine | {cpu}, {} cores, {mem}; shared with other work while measured: load average {} at the start, {} at the end |",
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            self.loadavg.0,
            self.loadavg.1
        );
        let _ = writeln!(
            o,
            "| system | Debian {}, running kernel {} |",
            std::fs::read_to_string("/etc/debian_version")
                .unwrap_or_default()
                .trim(),
            version("uname", &["-r"])
        );
        let _ = writeln!(o, "| Rust | {} |", version("rustc", &["--version"]));
        let _ = writeln!(
            o,
            "| C | {}; {} |",
            version("gcc", &["--version"]),
            version("clang-19", &["--version"])
        );
        let _ = writeln!(
            o,
            "| peers | libbpf-dev {}, {} (`gen skeleton -L`), aya 0.14.0 (bench/aya/Cargo.lock) |",
            pkg("libbpf-dev"),
            version("bpftool", &["--version"])
        );
        let _ = writeln!(
            o,
            "| VMs | {}, `-accel tcg -smp 1 -m 1G` (no KVM here), Debian's stock kernels |",
            version("qemu-system-x86_64", &["--version"])
        );
        let _ = writeln!(
            o,
            "| command | `sudo -E cargo xtask bench` (`--runs N`, `--quick`, `--skip userspace\\|build\\|module\\|vm`) |\n"
        );
        if self.quick {
            let _ = writeln!(o, "**--quick: a smoke test, not numbers to publish.**\n");
        }
    }

    fn userspace(
        &self,
        o: &mut String,
        r: &userspace::Results,
        subjects: &[Subject],
        behind: &mut Vec<String>,
        headline: &mut Vec<String>,
    ) {
        let _ = writeln!(o, "## 1. Load path, user space, on the running kernel\n");
        let _ = writeln!(
            o,
            "Every loader is a process of its own that loads, attaches and pins the object \
             into a private bpffs, then frees it, {} times, timing each run itself with the \
             monotonic clock (process start, dynamic linking and reading the object file are \
             outside the timing). The loaders take turns in rounds of 5 runs. \
             `cargo xtask bench` runs in a private mount namespace (`unshare(CLONE_NEWNS)`), \
             so nothing is visible to or left on the host, and checks that every loader left \
             its pin directory empty.\n",
            self.runs
        );
        let _ = writeln!(
            o,
            "- **ours**: `bpf_preload::load` + `Loaded::free` with the user backend \
             (target/bench/ours/<object>/, around [bench/ours/harness.rs](bench/ours/harness.rs), \
             `cargo build --release`). Pins what the attribute says: by default every link \
             and every declared map (the examples' own attributes: iterators pins its two \
             links as `maps.debug`/`progs.debug`, written `maps_debug` from user space; counters \
             also pins its `.data`/`.rodata`/`.bss`).\n\
             - **libbpf**: [bench/libbpf/harness.c](bench/libbpf/harness.c) (`gcc -O2 harness.c -lbpf`): \
             `bpf_object__open_mem` + `bpf_object__load` + `bpf_program__attach` of every program \
             + `bpf_link__pin` + `bpf_map__pin` of every map; free: unpin, `bpf_link__destroy`, \
             `bpf_object__close`.\n\
             - **light skeleton**: `bpftool gen skeleton -L OBJ name <object>_bpf`, compiled into \
             [bench/lskel/user.c](bench/lskel/user.c): `__open_and_load` + `__attach` + \
             `BPF_OBJ_PIN` of every link and map fd; free: unlink + `__destroy`.\n\
             - **aya**: [bench/aya](bench/aya/src/main.rs) (aya 0.14.0, its own workspace): \
             `Ebpf::load` + per program `load` (with `Btf::from_sys_fs()` for tp_btf/iter) and \
             `attach` + `FdLink::pin` + `Map::pin`; free: `PinnedLink::unpin` + removing the map \
             pins + drop.\n\
             - Peers pin every map of the object (a light skeleton cannot tell declared maps \
             from data maps), so for `iterators` they pin its `.rodata` too, one pin more than \
             ours.\n"
        );
        let load = |m: &Result<Measured, String>| -> Cell { userspace::load_cell(m) };
        let free = |m: &Result<Measured, String>| -> Cell {
            m.as_ref().map(|m| m.free).map_err(Clone::clone)
        };
        for (title, f) in [
            (
                "load + attach + pin",
                &load as &dyn Fn(&Result<Measured, String>) -> Cell,
            ),
            ("free (unpin, detach, close)", &free),
        ] {
            let _ = writeln!(o, "### {title}, ms\n");
            let _ = writeln!(
                o,
                "| object | programs / maps | ours | libbpf | light skeleton | aya | ours/libbpf | ours/light skeleton | ours/aya |"
            );
            let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|");
            for s in subjects {
                let Some(row) = r.get(&s.name) else { continue };
                let cells: Vec<Cell> = LOADERS.iter().map(|l| f(&row[l])).collect();
                let attached = |l: &str| match &row[l] {
                    Ok(m)
                        if !m
                            .attached
                            .starts_with(m.attached.split('/').nth(1).unwrap_or("x")) =>
                    {
                        format!(" [attached {}]", m.attached)
                    }
                    _ => String::new(),
                };
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {}{} | {}{} | {}{} | {} | {} | {} |",
                    s.name,
                    programs_of(s),
                    cell(&cells[0]),
                    cell(&cells[1]),
                    attached("libbpf"),
                    cell(&cells[2]),
                    attached("lskel"),
                    cell(&cells[3]),
                    attached("aya"),
                    ratio(&cells[0], &cells[1]),
                    ratio(&cells[0], &cells[2]),
                    ratio(&cells[0], &cells[3]),
                );
                for (i, (peer, peer_name)) in PEER_NAMES.iter().enumerate().skip(1) {
                    let _ = peer;
                    if let Some(x) = ratio_value(&cells[0], &cells[i])
                        && x >= 1.0
                    {
                        behind.push(format!(
                            "1. {title}, `{}`: ours {} ms vs {peer_name} {} ms (×{x:.2})",
                            s.name,
                            fmt_ms(cells[0].as_ref().map(|c| c.median).unwrap_or(0.0)),
                            fmt_ms(cells[i].as_ref().map(|c| c.median).unwrap_or(0.0)),
                        ));
                    }
                }
            }
            o.push('\n');
            if title.starts_with("load") {
                for (i, (_, peer_name)) in PEER_NAMES.iter().enumerate().skip(1) {
                    let xs: Vec<String> = subjects
                        .iter()
                        .filter_map(|s| {
                            let row = r.get(&s.name)?;
                            let x = ratio_value(&load(&row["ours"]), &load(&row[LOADERS[i]]))?;
                            Some(format!("{} {x:.2}", s.name))
                        })
                        .collect();
                    if !xs.is_empty() {
                        headline.push(format!(
                            "load + attach + pin, ours/{peer_name}: {}",
                            xs.join(", ")
                        ));
                    }
                }
            }
        }
        let _ = writeln!(o, "### Our loader's own overhead, ms\n");
        let _ = writeln!(
            o,
            "The load above, split: the time inside the system calls (bpf(2), perf_event_open(2), \
             close(2), and the pin's bpf(2)), measured around each call by a `Backend` wrapper in \
             the loader, is the kernel's work and the floor for any loader; the rest (median of \
             load − syscalls per run) is ours: walking the table, filling `bpf_attr`s, the \
             attach-target lookups' bookkeeping, formatting pin paths.\n"
        );
        let _ = writeln!(
            o,
            "| object | ours: load + attach + pin | in system calls (calls) | loader's own work | own work / load |"
        );
        let _ = writeln!(o, "|---|---|---|---|---|");
        for s in subjects {
            let Some(Ok(m)) = r.get(&s.name).map(|row| &row["ours"]) else {
                if let Some(Err(e)) = r.get(&s.name).map(|row| &row["ours"]) {
                    let _ = writeln!(o, "| {} | — ({}) | | | |", s.name, short(e));
                }
                continue;
            };
            let (Some((k, calls)), Some(own)) = (&m.syscalls, &m.own) else {
                continue;
            };
            let _ = writeln!(
                o,
                "| {} | {} | {} ({calls}) | {} | {:.1} % |",
                s.name,
                m.load.ms(),
                k.ms(),
                own.ms(),
                own.median / m.load.median * 100.0
            );
            if s.name == "gen256" {
                headline.push(format!(
                    "our loader's own work at 256 programs: {} ms of {} ms ({:.1} %); the rest is bpf(2) itself",
                    fmt_ms(own.median),
                    fmt_ms(m.load.median),
                    own.median / m.load.median * 100.0
                ));
            }
        }
        o.push('\n');
    }

    fn build(
        &self,
        o: &mut String,
        r: &build::Results,
        subjects: &[Subject],
        behind: &mut Vec<String>,
        headline: &mut Vec<String>,
    ) {
        let _ = writeln!(o, "## 2. Build path\n");
        let _ = writeln!(
            o,
            "The crate holding the attribute (a copy of `examples/iterators`, and for each generated \
             object a crate whose `lib.rs` is the attribute on `bpf/genN.bpf.o`), in one workspace \
             under target/bench/build/, `cargo build --release -p <crate>` (as `cargo xtask \
             build-module` builds; proc macros build unoptimised either way).\n\n\
             - **cold**: after `cargo clean --release -p bpf-preload-macros -p bpf-preload -p <crate>`: \
             our macro crate, our runtime and the object's crate from scratch, with the crates.io \
             dependencies (syn, object, ...) already compiled, as they are once anything \
             using them has been built. That isolates the cost of our code; a fully empty target \
             directory adds the ecosystem's compile time, which the C path (prebuilt bpftool and \
             gcc) does not pay either. Fewer runs (see n), because each cold build takes seconds.\n\
             - **incremental**: `touch bpf/<object>.bpf.o`, then the same build: the attribute \
             reads the object through `include_bytes!`, so cargo re-expands the macro and \
             recompiles that crate only. This is the edit-compile loop.\n\
             - **bpftool gen skeleton -L + gcc**: `bpftool gen skeleton -L OBJ name <object>_bpf > \
             <object>.lskel.h` then `gcc -O2 -c bench/lskel/user.c` including it: what the C \
             path pays on every change of the object (it has no incremental mode).\n"
        );
        let _ = writeln!(
            o,
            "| crate | cold build | n | incremental (touch object) | bpftool gen skeleton -L + gcc -c | incremental / skeleton |"
        );
        let _ = writeln!(o, "|---|---|---|---|---|---|");
        for s in subjects {
            let Some(t) = r.get(&s.name) else { continue };
            let n = t.cold.as_ref().map(|s| s.n.to_string()).unwrap_or_default();
            let x = ratio_value(&t.incremental, &t.skeleton);
            let _ = writeln!(
                o,
                "| {} | {} | {n} | {} | {} | {} |",
                s.name,
                cell(&t.cold),
                cell(&t.incremental),
                cell(&t.skeleton),
                ratio(&t.incremental, &t.skeleton)
            );
            if let Some(x) = x {
                if x >= 1.0 {
                    behind.push(format!(
                        "2. incremental build, `{}`: {} ms vs bpftool gen skeleton -L + gcc {} ms (×{x:.2})",
                        s.name,
                        fmt_ms(t.incremental.as_ref().map(|c| c.median).unwrap_or(0.0)),
                        fmt_ms(t.skeleton.as_ref().map(|c| c.median).unwrap_or(0.0)),
                    ));
                }
                headline.push(format!(
                    "incremental build of `{}` / bpftool gen skeleton -L + gcc: {x:.2}",
                    s.name
                ));
            }
        }
        o.push('\n');
    }

    fn sizes(
        &self,
        o: &mut String,
        r: &module::Sizes,
        behind: &mut Vec<String>,
        headline: &mut Vec<String>,
    ) {
        let _ = writeln!(o, "## 3. Module size\n");
        let _ = writeln!(
            o,
            "`size` (text / data / bss, bytes) of each `.ko`: ours, the object module from `cargo \
             xtask build-module <crate> --unloadable --kdir <headers>` (the object's table and the \
             generic object.c), next to the C module of the same object: \
             [bench/lskel/module.c](bench/lskel/module.c) with the object's `bpftool gen skeleton \
             -L` header and libbpf's `skel_internal.h`, `make -C <headers> M=... LSKEL_NAME=<object>` \
             (for iterators with `PRELOAD_OPS=1`: both offer the two iterator links to bpffs). \
             Both have an exit function (rmmod frees everything). Not stripped; neither signed. \
             text includes .rodata, where both keep the object's instructions, BTF and names; \
             the C module also carries the light skeleton's loader program, generated per \
             object. Ours carries no loader: the runtime module holds the one generic loader for \
             every object module of a kernel, and is listed once below.\n"
        );
        let _ = writeln!(
            o,
            "| kernel | object | ours text / data / bss | C light skeleton text / data / bss | ours/C (text + data) |"
        );
        let _ = writeln!(o, "|---|---|---|---|---|");
        for ((release, name), (ours, c)) in &r.objects {
            let x = match (ours, c) {
                (Ok(a), Ok(b)) => Some((a.0 + a.1) as f64 / (b.0 + b.1) as f64),
                _ => None,
            };
            let _ = writeln!(
                o,
                "| {release} | {name} | {} | {} | {} |",
                size_cell(ours),
                size_cell(c),
                x.map(|x| format!("{x:.2}")).unwrap_or("—".into())
            );
            if let Some(x) = x {
                if x >= 1.0 {
                    behind.push(format!(
                        "3. module size, `{name}` on {release}: ours/C text + data ×{x:.2}"
                    ));
                }
                if name == "iterators" || name == "gen256" {
                    headline.push(format!(
                        "module text + data, `{name}` on {release}, ours/C: {x:.2}"
                    ));
                }
            }
        }
        let _ = writeln!(
            o,
            "\nThe runtime module, `bpf_preload_runtime.ko` (the loader, its kernel backend and \
             runtime.c: once per kernel, whatever the number of object modules):\n"
        );
        let _ = writeln!(o, "| kernel | runtime text / data / bss |");
        let _ = writeln!(o, "|---|---|");
        for (release, size) in &r.runtime {
            let _ = writeln!(o, "| {release} | {} |", size_cell(size));
        }
        o.push('\n');
    }

    fn vm(
        &self,
        o: &mut String,
        r: &module::VmResults,
        behind: &mut Vec<String>,
        headline: &mut Vec<String>,
    ) {
        let _ = writeln!(o, "## 4. In-kernel load, and the memory a module keeps\n");
        let _ = writeln!(
            o,
            "One QEMU boot per kernel (the two boots run at the same time, one per core), \
             the modules of section 3 in its initramfs. For each of {} rounds, for each \
             object: ours then C, each `insmod_time` ([bench/lskel/insmod_time.c](bench/lskel/insmod_time.c), \
             static) timing `finit_module(2)` with CLOCK_MONOTONIC in the guest, then rmmod. \
             Both modules attach in init and init returns after the last attach, so \
             finit_module's return is \"attached\"; it also includes the module loader's own \
             work (relocations, symbol resolution), which grows with the module's size. \
             QEMU emulates (TCG, no KVM here), so absolute times are several times a real \
             machine's; both modules run in the same boot, alternating, so the ratio holds.\n\n\
             Memory kept after init: the module's size in `/proc/modules` (its image as the \
             kernel keeps it, init sections freed), and the change of Slab + VmallocUsed + \
             Percpu in /proc/meminfo from just before insmod to just after init returned, in kB: \
             the module image plus every BPF program, map and BTF object it holds, plus \
             whatever the loader left allocated. Both load the same object, so the difference \
             between the two columns is the loaders' own footprint. Deferred frees of the \
             previous round (RCU) make it noisy: read medians.\n",
            self.runs
        );
        let _ = writeln!(
            o,
            "| kernel | object | ours: insmod → attached | C: insmod → attached | ours/C | ours: /proc/modules, B | C: /proc/modules, B | ours: Δ kernel memory, kB | C: Δ kernel memory, kB |"
        );
        let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|");
        let mut keys: Vec<(String, String)> =
            r.keys().map(|(k, n, _)| (k.clone(), n.clone())).collect();
        keys.dedup();
        for (release, name) in keys {
            let get = |l: &str| {
                r.get(&(release.clone(), name.clone(), l.to_string()))
                    .cloned()
                    .unwrap_or_default()
            };
            let (a, b) = (get("ours"), get("c"));
            let (ta, tb) = (a.insmod(), b.insmod());
            let med = |v: &[f64]| {
                Stats::of(v)
                    .map(|s| format!("{:.0}", s.median))
                    .unwrap_or("—".into())
            };
            let _ = writeln!(
                o,
                "| {release} | {name} | {} | {} | {} | {} | {} | {} | {} |",
                cell(&ta),
                cell(&tb),
                ratio(&ta, &tb),
                med(&a.module),
                med(&b.module),
                med(&a.memory),
                med(&b.memory)
            );
            if let Some(x) = ratio_value(&ta, &tb) {
                if x >= 1.0 {
                    behind.push(format!(
                        "4. insmod → attached, `{name}` on {release}: ours/C ×{x:.2}"
                    ));
                }
                if name == "iterators" || name == "gen256" {
                    headline.push(format!(
                        "insmod → attached, `{name}` on {release}, ours/C: {x:.2}"
                    ));
                }
            }
            if let (Some(ma), Some(mb)) = (Stats::of(&a.module), Stats::of(&b.module))
                && ma.median > mb.median
            {
                behind.push(format!(
                        "4. module memory, `{name}` on {release}: /proc/modules ours {:.0} B vs C {:.0} B",
                        ma.median, mb.median
                    ));
            }
        }
        o.push('\n');
    }

    fn scaling(&self, o: &mut String, subjects: &[Subject]) {
        let gens: Vec<&Subject> = subjects.iter().filter(|s| s.programs().is_some()).collect();
        if gens.len() < 2 {
            return;
        }
        let _ = writeln!(
            o,
            "## 5. Scaling, 16 → 64 → 256 programs (and as many maps)\n"
        );
        let _ = writeln!(
            o,
            "Each figure for the generated objects (medians), its cost per program at the \
             largest size, and the factor between successive sizes: each step multiplies the \
             programs by 4, so linear growth shows ×4.0 (less when a fixed cost still \
             dominates at the smaller size; more would be superlinear).\n"
        );
        let ns: Vec<usize> = gens.iter().filter_map(|s| s.programs()).collect();
        let mut head = String::from("| figure |");
        for n in &ns {
            let _ = write!(head, " {n} |");
        }
        head.push_str(" per program at the largest |");
        for w in ns.windows(2) {
            let _ = write!(head, " ×{}→{} |", w[0], w[1]);
        }
        let _ = writeln!(o, "{head}");
        let _ = writeln!(o, "|---|{}", "---|".repeat(ns.len() * 2));
        let mut row = |name: String, values: Vec<Option<f64>>, unit: &str| {
            if values.iter().all(Option::is_none) {
                return;
            }
            let mut line = format!("| {name} |");
            for v in &values {
                match v {
                    Some(v) if unit == "ms" => {
                        let _ = write!(line, " {} ms |", fmt_ms(*v));
                    }
                    Some(v) => {
                        let _ = write!(line, " {v:.0} {unit} |");
                    }
                    None => line.push_str(" — |"),
                }
            }
            match (values.last().copied().flatten(), ns.last()) {
                (Some(v), Some(n)) if unit == "ms" => {
                    let _ = write!(line, " {:.3} ms |", v / *n as f64);
                }
                (Some(v), Some(n)) => {
                    let _ = write!(line, " {:.0} {unit} |", v / *n as f64);
                }
                _ => line.push_str(" — |"),
            }
            for w in values.windows(2) {
                match (w[0], w[1]) {
                    (Some(a), Some(b)) if a > 0.0 => {
                        let _ = write!(line, " ×{:.1} |", b / a);
                    }
                    _ => line.push_str(" — |"),
                }
            }
            let _ = writeln!(o, "{line}");
        };
        if let Some(r) = &self.userspace {
            for (l, peer_name) in PEER_NAMES {
                let v = gens
                    .iter()
                    .map(|s| {
                        r.get(&s.name)
                            .and_then(|row| row[l].as_ref().ok())
                            .map(|m| m.load.median)
                    })
                    .collect();
                row(format!("1. load + attach + pin, {peer_name}"), v, "ms");
            }
            for (l, peer_name) in PEER_NAMES {
                let v = gens
                    .iter()
                    .map(|s| {
                        r.get(&s.name)
                            .and_then(|row| row[l].as_ref().ok())
                            .map(|m| m.free.median)
                    })
                    .collect();
                row(format!("1. free, {peer_name}"), v, "ms");
            }
            let v = gens
                .iter()
                .map(|s| {
                    r.get(&s.name)
                        .and_then(|row| row["ours"].as_ref().ok())
                        .and_then(|m| m.own.map(|s| s.median))
                })
                .collect();
            row("1. our loader's own work".into(), v, "ms");
        }
        if let Some(r) = &self.build {
            let get = |f: fn(&build::Times) -> &Cell| -> Vec<Option<f64>> {
                gens.iter()
                    .map(|s| {
                        r.get(&s.name)
                            .and_then(|t| f(t).as_ref().ok())
                            .map(|s| s.median)
                    })
                    .collect()
            };
            row("2. cold build".into(), get(|t| &t.cold), "ms");
            row("2. incremental build".into(), get(|t| &t.incremental), "ms");
            row(
                "2. bpftool gen skeleton -L + gcc".into(),
                get(|t| &t.skeleton),
                "ms",
            );
        }
        if let Some(r) = &self.sizes {
            let mut releases: Vec<&String> = r.objects.keys().map(|(k, _)| k).collect();
            releases.dedup();
            for release in releases {
                for (i, who) in ["ours", "C"].iter().enumerate() {
                    let v = gens
                        .iter()
                        .map(|s| {
                            r.objects
                                .get(&(release.clone(), s.name.clone()))
                                .and_then(|(a, b)| {
                                    let x = if i == 0 { a } else { b };
                                    x.as_ref().ok().map(|(t, d, _)| (t + d) as f64)
                                })
                        })
                        .collect();
                    row(format!("3. module text + data, {who}, {release}"), v, "B");
                }
            }
        }
        if let Some(r) = &self.vm {
            let mut releases: Vec<&String> = r.keys().map(|(k, _, _)| k).collect();
            releases.dedup();
            for release in releases {
                for (l, who) in [("ours", "ours"), ("c", "C")] {
                    let v = gens
                        .iter()
                        .map(|s| {
                            r.get(&(release.clone(), s.name.clone(), l.to_string()))
                                .and_then(|k| k.insmod().ok())
                                .map(|s| s.median)
                        })
                        .collect();
                    row(format!("4. insmod → attached, {who}, {release}"), v, "ms");
                    let v = gens
                        .iter()
                        .map(|s| {
                            r.get(&(release.clone(), s.name.clone(), l.to_string()))
                                .and_then(|k| Stats::of(&k.memory))
                                .map(|s| s.median)
                        })
                        .collect();
                    row(format!("4. Δ kernel memory, {who}, {release}"), v, "kB");
                }
            }
        }
        o.push('\n');
    }
}
