//! The loader against a fake kernel ([`fake::Fake`]), over the tables the macro emits
//! for the repository's examples: the order of its steps, the `fd_array` it passes,
//! what it writes into maps and instructions, and that a failure at any call, or a
//! success followed by `free`, leaves no fd open, nothing pinned and no kernel object
//! alive. Needs no privilege: nothing here reaches the kernel.

mod fake;

use bpf_preload::abi;
use bpf_preload::{
    load, Attach, Errno, Error, Freeze, KconfigKind, Object, Preload, SlotTarget, Step,
};
use fake::{Call, Fake, Kind, Value};

/// The examples' attributes, as each example crate states them.
mod examples {
    use bpf_preload::bpf_preload;

    #[bpf_preload(
        obj = "../../examples/iterators/bpf/iterators.bpf.o",
        pin_as(dump_bpf_map = "maps.debug", dump_bpf_prog = "progs.debug")
    )]
    pub struct Iterators;

    #[bpf_preload(obj = "../../examples/counters/bpf/counters.bpf.o", pin_data)]
    pub struct Counters;

    #[bpf_preload(
        obj = "../../examples/externs/bpf/externs.bpf.o",
        pin_as(dump_externs = "externs")
    )]
    pub struct Externs;

    #[bpf_preload(obj = "../../examples/getppid_count/bpf/getppid_count.bpf.o")]
    pub struct GetppidCount;

    #[bpf_preload(
        obj = "../../examples/kernel_iterators/bpf/iterators.bpf.o",
        name = "kernel_iterators",
        pin_as(dump_bpf_map = "maps.debug", dump_bpf_prog = "progs.debug")
    )]
    pub struct KernelIterators;

    #[bpf_preload(obj = "../../examples/map_kinds/bpf/map_kinds.bpf.o", pin_data)]
    pub struct MapKinds;

    #[bpf_preload(obj = "../../examples/mkdir_guard/bpf/mkdir_guard.bpf.o")]
    pub struct MkdirGuard;

    #[bpf_preload(obj = "../../examples/typed_ksym/bpf/typed_ksym.bpf.o")]
    pub struct TypedKsym;

    #[bpf_preload(obj = "../../examples/sched_ext_minimal/bpf/sched_ext_minimal.bpf.o")]
    pub struct SchedExtMinimal;

    #[bpf_preload(obj = "../../examples/lpm_maps/bpf/lpm_maps.bpf.o")]
    pub struct LpmMaps;

    #[bpf_preload(obj = "../../examples/timer_tick/bpf/timer_tick.bpf.o")]
    pub struct TimerTick;

    #[bpf_preload(
        obj = "../../examples/loader_inner_maps/bpf/loader_inner_maps.bpf.o",
        inner_map(
            per_cgroup = template,
            per_slot = { type = BPF_MAP_TYPE_HASH, key_size = 4, value_size = 16, max_entries = 3, map_flags = 1 }
        )
    )]
    pub struct LoaderInnerMaps;

    #[bpf_preload(obj = "../../examples/shared_writer/bpf/shared_writer.bpf.o")]
    pub struct SharedWriter;

    /// Its map pinned beside the writer's in its own directory, which the fake's one
    /// namespace of pins cannot tell from the writer's: not pinned there.
    #[bpf_preload(
        obj = "../../examples/shared_reader/bpf/shared_reader.bpf.o",
        no_pin(shared_hits)
    )]
    pub struct SharedReader;

    #[bpf_preload(obj = "../../tests/fixtures/shared_mismatch.bpf.o")]
    pub struct SharedMismatch;

    #[bpf_preload(obj = "../../examples/arena_counter/bpf/arena_counter.bpf.o")]
    pub struct ArenaCounter;

    #[bpf_preload(
        obj = "../../examples/freplace_verdict/bpf/freplace_verdict.bpf.o",
        target_program(new_verdict = "/sys/fs/bpf/freplace_target/filter_prog")
    )]
    pub struct FreplaceVerdict;
}

use examples::*;

const EXAMPLES: [&Object; 12] = [
    Iterators::OBJECT,
    Counters::OBJECT,
    Externs::OBJECT,
    GetppidCount::OBJECT,
    KernelIterators::OBJECT,
    MapKinds::OBJECT,
    MkdirGuard::OBJECT,
    TypedKsym::OBJECT,
    LpmMaps::OBJECT,
    TimerTick::OBJECT,
    ArenaCounter::OBJECT,
    FreplaceVerdict::OBJECT,
];

/// A name as the kernel keeps it: at most 15 bytes.
fn kernel(name: &str) -> &str {
    &name[..name.len().min(abi::BPF_OBJ_NAME_LEN - 1)]
}

/// The calls in a short form: `map NAME`, `update NAME[KEY]`, `prog NAME`, ...
fn summary(calls: &[Call]) -> Vec<String> {
    calls
        .iter()
        .map(|c| match c {
            Call::BtfLoad { .. } => "btf".into(),
            Call::MapCreate { name, .. } => format!("map {name}"),
            Call::MapRefused { name, errno } => format!("map {name} refused: {errno:?}"),
            Call::MapUpdate { map, key, value } => match value {
                Value::Bytes(_) => format!("update {map}[{key}]"),
                Value::Holds(held) => format!("update {map}[{key}] = {held}"),
            },
            Call::TargetProgram { pin, function } => format!("target {pin}:{function}"),
            Call::MapArena { map, data, .. } => format!("arena {map} = {} bytes", data.len()),
            Call::MapFreeze { map } => format!("freeze {map}"),
            Call::ProgLoad { name, .. } => format!("prog {name}"),
            Call::BindMap { prog, map } => format!("bind {prog} = {map}"),
            Call::Lookup { name, .. } => format!("lookup {name}"),
            Call::LinkCreate { prog, .. } => format!("link {prog}"),
            Call::RawTracepointOpen { prog, .. } => format!("raw_tp {prog}"),
            Call::Tracepoint { prog, .. } => format!("tracepoint {prog}"),
            Call::Pin { name, object } => format!("pin {name} = {object}"),
            Call::Unpin { name } => format!("unpin {name}"),
            Call::Reuse { name } => format!("reuse {name}"),
            Call::Share { name } => format!("share {name}"),
            Call::Unshare { name } => format!("unshare {name}"),
            Call::Close { object } => format!("close {object}"),
            Call::PossibleCpus => "possible_cpus".into(),
            Call::KernelConfig => "kernel_config".into(),
            Call::Injected => "injected".into(),
        })
        .collect()
}

/// Loads `object` into a fresh fake, which must see nothing it would refuse.
fn loaded(object: &'static Object, fake: &mut Fake) -> bpf_preload::Loaded<fake::FakePin> {
    let loaded = load(object, fake).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(fake.violations, Vec::<String>::new(), "{}", object.name);
    loaded
}

fn assert_nothing_left(fake: &Fake, context: &str) {
    if let Some(left) = fake.leftovers() {
        panic!("{context}: {left}");
    }
}

#[test]
fn every_example_loads_and_frees_to_nothing() {
    for object in EXAMPLES {
        let mut fake = Fake::default();
        let loaded = loaded(object, &mut fake);
        assert!(!fake.fds.is_empty());
        loaded.free(&mut fake);
        assert_nothing_left(&fake, object.name.as_str());
    }
}

#[test]
fn iterators_load_in_the_documented_order() {
    let mut fake = Fake::default();
    let l = loaded(Iterators::OBJECT, &mut fake);
    l.free(&mut fake);
    assert_eq!(
        summary(&fake.calls),
        [
            "btf",
            "map iterator.rodata",
            "update iterator.rodata[0]",
            "freeze iterator.rodata",
            // The finder: one map and one program for every lookup of the load.
            "map preload_btf_id",
            "prog preload_btf_id",
            "update preload_btf_id[0]",
            "lookup bpf_iter_bpf_map",
            "prog dump_bpf_map",
            "update preload_btf_id[0]",
            "lookup bpf_iter_bpf_prog",
            "prog dump_bpf_prog",
            "close preload_btf_id",
            "close preload_btf_id",
            // `.rodata` bound to every program, as libbpf binds it.
            "bind dump_bpf_map = iterator.rodata",
            "bind dump_bpf_prog = iterator.rodata",
            "link dump_bpf_map",
            "link dump_bpf_prog",
            "pin maps.debug = dump_bpf_map",
            "pin progs.debug = dump_bpf_prog",
            // free: in reverse.
            "unpin progs.debug",
            "unpin maps.debug",
            "close dump_bpf_prog",
            "close dump_bpf_map",
            "close dump_bpf_prog",
            "close dump_bpf_map",
            "close iterator.rodata",
            "close btf",
        ]
    );
}

#[test]
fn maps_of_maps_and_program_arrays_are_filled_once_what_they_hold_exists() {
    let mut fake = Fake::default();
    let l = loaded(MapKinds::OBJECT, &mut fake);
    l.free(&mut fake);
    let calls = summary(&fake.calls);
    assert_eq!(
        calls[..16],
        [
            "btf",
            "map map_kind.bss",
            // A perf event array sized by the possible CPUs.
            "possible_cpus",
            "map events",
            "map inner_a",
            "map jumps",
            // The template of `outer`, closed once `outer` exists.
            "map outer.inner",
            "map outer",
            "close outer.inner",
            "update outer[1] = inner_a",
            "prog enter",
            "prog tail",
            "update jumps[2] = tail",
            "pin bss = map_kind.bss",
            "pin events = events",
            "pin inner_a = inner_a",
        ]
    );
    let Some(Call::MapCreate { max_entries, .. }) = fake
        .calls
        .iter()
        .find(|c| matches!(c, Call::MapCreate { name, .. } if name == "events"))
    else {
        panic!("no events map")
    };
    assert_eq!(*max_entries, fake::CPUS);
}

/// What every load does, whatever the object: BTF first, maps in the table's order and
/// with its attributes, each initialised and frozen before the next, every map before
/// the first program, programs in order, links once every program is loaded and the
/// finder is closed, pins last (links, maps, programs).
#[test]
fn every_example_walks_its_table_in_order() {
    for object in EXAMPLES {
        let mut fake = Fake::default();
        let l = loaded(object, &mut fake);
        let name = object.name;
        let calls = &fake.calls;
        let pos = |pred: &dyn Fn(&Call) -> bool| calls.iter().position(pred);
        let rpos = |pred: &dyn Fn(&Call) -> bool| calls.iter().rposition(pred);

        assert_eq!(
            matches!(calls[0], Call::BtfLoad { .. }),
            !object.btf.is_empty(),
            "{name}: BTF first"
        );

        let creates: Vec<&Call> = calls
            .iter()
            .filter(|c| matches!(c, Call::MapCreate { name, .. } if name != fake::FINDER))
            .collect();
        let expected: Vec<&str> = object
            .maps
            .iter()
            .flat_map(|m| m.inner.into_iter().chain([m]))
            .map(|m| kernel(m.kernel_name.as_str()))
            .collect();
        let made: Vec<&str> = creates
            .iter()
            .map(|c| match c {
                Call::MapCreate { name, .. } => name.as_str(),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(made, expected, "{name}: maps in the table's order");
        for map in object.maps {
            let at = pos(
                &|c| matches!(c, Call::MapCreate { name, .. } if name == kernel(map.kernel_name.as_str())),
            )
            .unwrap();
            let Call::MapCreate {
                map_type,
                key_size,
                value_size,
                max_entries,
                map_flags,
                inner,
                btf,
                ..
            } = &calls[at]
            else {
                unreachable!()
            };
            let context = format!("{name}: map {}", map.name);
            assert_eq!(*map_type, map.map_type, "{context}");
            assert_eq!(*key_size, map.key_size, "{context}");
            assert_eq!(*value_size, map.value_size, "{context}");
            let entries = if map.max_entries == 0 {
                fake::CPUS
            } else {
                map.max_entries
            };
            assert_eq!(*max_entries, entries, "{context}");
            assert_eq!(*map_flags, map.map_flags, "{context}");
            assert_eq!(
                inner.as_deref(),
                map.inner.map(|i| kernel(i.kernel_name.as_str())),
                "{context}"
            );
            let typed = map.btf_key_type_id != 0 || map.btf_value_type_id != 0;
            // Created without its BTF types only once they were refused, just before.
            let refused = at > 0
                && matches!(&calls[at - 1], Call::MapRefused { name, .. } if name == kernel(&map.kernel_name));
            assert_eq!(
                *btf,
                typed && !object.btf.is_empty() && !refused,
                "{context}: BTF"
            );
            // Initialised (and frozen) right after it is made, before the next map.
            let mut next = at + 1;
            if map.initial_value.is_some() || !map.kconfig.is_empty() {
                if !map.kconfig.is_empty() {
                    assert_eq!(calls[next], Call::KernelConfig, "{context}");
                    next += 1;
                }
                // An arena's through a mapping, any other map's by its element 0.
                assert!(
                    matches!(&calls[next], Call::MapUpdate { map: m, key: 0, .. } | Call::MapArena { map: m, .. } if m == kernel(map.kernel_name.as_str())),
                    "{context}: initial value, got {:?}",
                    calls[next]
                );
                next += 1;
            }
            if map.freeze == Freeze::Initialised {
                assert_eq!(
                    calls[next],
                    Call::MapFreeze {
                        map: kernel(map.kernel_name.as_str()).into()
                    },
                    "{context}: frozen after its value is written"
                );
            }
        }

        let is_ours = |c: &Call| matches!(c, Call::ProgLoad { name, .. } if name != fake::FINDER);
        let loads: Vec<(&str, u32, u32)> = calls
            .iter()
            .filter(|c| is_ours(c))
            .map(|c| match c {
                Call::ProgLoad {
                    name,
                    prog_type,
                    expected_attach_type,
                    ..
                } => (name.as_str(), *prog_type, *expected_attach_type),
                _ => unreachable!(),
            })
            .collect();
        let expected: Vec<(&str, u32, u32)> = object
            .programs
            .iter()
            .map(|p| (kernel(p.name.as_str()), p.prog_type, p.expected_attach_type))
            .collect();
        assert_eq!(loads, expected, "{name}: programs in the table's order");

        let last_map = rpos(&|c| matches!(c, Call::MapCreate { name, .. } if name != fake::FINDER));
        let first_prog = pos(&is_ours).unwrap();
        let last_prog = rpos(&is_ours).unwrap();
        assert!(last_map < Some(first_prog), "{name}: maps before programs");

        // Slots: maps of maps before the programs, program arrays after them.
        for map in object.maps {
            for slot in map.slots {
                let at = pos(&|c| {
                    matches!(c, Call::MapUpdate { map: m, key, value: Value::Holds(_) }
                        if m == kernel(map.kernel_name.as_str()) && *key == slot.index)
                })
                .unwrap_or_else(|| panic!("{name}: slot {}[{}] not filled", map.name, slot.index));
                match slot.target {
                    SlotTarget::Map(_) => assert!(at < first_prog, "{name}: {}", map.name),
                    SlotTarget::Program(_) => assert!(at > last_prog, "{name}: {}", map.name),
                }
            }
        }

        let is_link = |c: &Call| {
            matches!(
                c,
                Call::LinkCreate { .. } | Call::RawTracepointOpen { .. } | Call::Tracepoint { .. }
            )
        };
        let links: Vec<(&str, &'static str)> = calls
            .iter()
            .filter(|c| is_link(c))
            .map(|c| match c {
                Call::LinkCreate { prog, .. } => (prog.as_str(), "link_create"),
                Call::RawTracepointOpen { prog, .. } => (prog.as_str(), "raw_tracepoint_open"),
                Call::Tracepoint { prog, .. } => (prog.as_str(), "tracepoint"),
                _ => unreachable!(),
            })
            .collect();
        let expected: Vec<(&str, &'static str)> = object
            .links
            .iter()
            .map(|l| {
                let how = match l.attach {
                    Attach::LinkCreate => "link_create",
                    Attach::RawTracepoint(_) => "raw_tracepoint_open",
                    Attach::Tracepoint(_) => "tracepoint",
                };
                (kernel(object.programs[l.program].name.as_str()), how)
            })
            .collect();
        assert_eq!(links, expected, "{name}: links in the table's order");
        if let Some(first_link) = pos(&is_link) {
            assert!(first_link > last_prog, "{name}: links after every program");
            let finder_closed =
                rpos(&|c| matches!(c, Call::Close { object } if object == fake::FINDER));
            if let Some(closed) = finder_closed {
                assert!(
                    closed < first_link,
                    "{name}: the finder closed before attaching"
                );
            }
        }

        let pins: Vec<(&str, &str)> = calls
            .iter()
            .filter_map(|c| match c {
                Call::Pin { name, object } => Some((name.as_str(), object.as_str())),
                _ => None,
            })
            .collect();
        let expected: Vec<(&str, &str)> = object
            .links
            .iter()
            .filter_map(|l| {
                Some((
                    l.pin?.as_str(),
                    kernel(object.programs[l.program].name.as_str()),
                ))
            })
            .chain(
                object
                    .maps
                    .iter()
                    .filter_map(|m| Some((m.pin?.as_str(), kernel(m.kernel_name.as_str())))),
            )
            .chain(
                object
                    .programs
                    .iter()
                    .filter_map(|p| Some((p.pin?.as_str(), kernel(p.name.as_str())))),
            )
            .collect();
        assert_eq!(pins, expected, "{name}: pins, links first");
        let first_pin = pos(&|c| matches!(c, Call::Pin { .. }));
        if let (Some(first_pin), Some(last_link)) = (first_pin, rpos(&is_link)) {
            assert!(first_pin > last_link, "{name}: pins after every link");
        }
        l.free(&mut fake);
    }
}

/// Every map reference in an instruction is an index into `fd_array`, whose entry is
/// the fd of that map of the table.
#[test]
fn fd_array_gives_each_map_at_its_index() {
    for object in EXAMPLES {
        let mut fake = Fake::default();
        let l = loaded(object, &mut fake);
        let mut programs = object.programs.iter();
        for call in &fake.calls {
            let Call::ProgLoad {
                name,
                fd_array,
                insns,
                ..
            } = call
            else {
                continue;
            };
            if name == fake::FINDER {
                assert_eq!(fd_array, &[(0, fake::FINDER.to_string())]);
                continue;
            }
            for (index, held) in fd_array {
                let map = &object.maps[*index as usize];
                assert_eq!(
                    held,
                    kernel(map.kernel_name.as_str()),
                    "{}: {name}: fd_array[{index}]",
                    object.name
                );
            }
            let prog = programs.next().unwrap();
            assert_eq!(name, kernel(prog.name.as_str()));
            if prog.externs.is_empty() {
                assert_eq!(
                    insns,
                    prog.insns.as_slice(),
                    "{}: {name}: instructions as in the table",
                    object.name
                );
            }
        }
        l.free(&mut fake);
        assert_nothing_left(&fake, object.name.as_str());
    }
}

/// The BTF id or address the fake gives `name` of `kind`: from the order of lookups.
fn resolved(fake: &Fake, name: &str, kind: u32) -> (u32, u64) {
    let mut seen: Vec<(&str, u32)> = Vec::new();
    for c in &fake.calls {
        if let Call::Lookup { name, kind } = c
            && !seen.contains(&(name.as_str(), *kind))
        {
            seen.push((name.as_str(), *kind));
        }
    }
    let index = seen
        .iter()
        .position(|&s| s == (name, kind))
        .unwrap_or_else(|| panic!("{name} not looked up"));
    (
        fake::FIRST_BTF_ID + index as u32,
        fake::KALLSYMS_BASE + index as u64 * 0x10,
    )
}

fn imm(insns: &[u8], insn: usize) -> i32 {
    i32::from_le_bytes(insns[insn * 8 + 4..insn * 8 + 8].try_into().unwrap())
}

fn program_load<'a>(fake: &'a Fake, program: &str) -> (&'a [u8], &'a [(u32, String)]) {
    fake.calls
        .iter()
        .find_map(|c| match c {
            Call::ProgLoad {
                name,
                insns,
                fd_array,
                ..
            } if name == kernel(program) => Some((&insns[..], &fd_array[..])),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{program} not loaded"))
}

/// Extern slots are written with what the kernel says of each extern, and nothing
/// else of the instructions changes.
#[test]
fn externs_are_written_as_the_running_kernel_resolves_them() {
    for object in [Externs::OBJECT, TypedKsym::OBJECT, KernelIterators::OBJECT] {
        let mut fake = Fake::default();
        let l = loaded(object, &mut fake);
        for prog in object.programs {
            let (insns, _) = program_load(&fake, prog.name.as_str());
            let mut untouched = insns.to_vec();
            for u in prog.externs {
                let ext = &object.externs[u.ext as usize];
                let at = u.insn as usize;
                let context = format!("{}: {} insn {at} ({})", object.name, prog.name, ext.name);
                let src = insns[at * 8 + 1] >> 4;
                let call = insns[at * 8] == abi::BPF_JMP_CALL;
                let missing = fake.missing.contains(&ext.name.as_str());
                assert!(
                    !missing || ext.weak,
                    "{context}: only weak externs may be missing"
                );
                let kind = match ext.kind {
                    bpf_preload::ExternKind::Kfunc => bpf_preload::abi::BTF_KIND_FUNC,
                    bpf_preload::ExternKind::Ksym => bpf_preload::abi::BTF_KIND_VAR,
                    bpf_preload::ExternKind::KsymAddress => 0,
                };
                let (id, address) = resolved(&fake, ext.name.as_str(), kind);
                let ld = |insns: &[u8]| (src, imm(insns, at), imm(insns, at + 1));
                match (call, missing, ext.kind) {
                    // libbpf's poisoned call: refused only if reachable.
                    (true, true, _) => assert_eq!(
                        (src, imm(insns, at)),
                        (0, 2002000000 + u.ext as i32),
                        "{context}"
                    ),
                    (true, false, _) => {
                        assert_eq!(
                            (src, imm(insns, at)),
                            (abi::BPF_PSEUDO_KFUNC_CALL, id as i32),
                            "{context}"
                        );
                        assert_eq!(
                            insns[at * 8 + 2..at * 8 + 4],
                            [0, 0],
                            "{context}: vmlinux, off 0"
                        );
                    }
                    // `bpf_ksym_exists()` of what the kernel lacks: 0.
                    (false, true, _) => assert_eq!(ld(insns), (0, 0, 0), "{context}"),
                    (false, false, bpf_preload::ExternKind::KsymAddress) => {
                        assert_eq!(src, 0, "{context}");
                        assert_eq!(
                            imm(insns, at) as u32 as u64 | (imm(insns, at + 1) as u32 as u64) << 32,
                            address,
                            "{context}"
                        );
                    }
                    (false, false, _) => assert_eq!(
                        ld(insns),
                        (abi::BPF_PSEUDO_BTF_ID, id as i32, 0),
                        "{context}"
                    ),
                }
                let span = if insns[at * 8] == abi::BPF_JMP_CALL {
                    8
                } else {
                    16
                };
                untouched[at * 8..at * 8 + span]
                    .copy_from_slice(&prog.insns[at * 8..at * 8 + span]);
            }
            assert_eq!(
                untouched,
                prog.insns.as_slice(),
                "{}: {}: only extern slots change",
                object.name,
                prog.name
            );
        }
        l.free(&mut fake);
        assert_nothing_left(&fake, object.name.as_str());
    }
}

/// A kfunc of a module is called through its module's BTF, which the program is given
/// in `fd_array` after the maps; the finder's fd for it is closed once the program,
/// which holds its own reference, is loaded.
#[test]
fn module_kfuncs_are_named_through_fd_array() {
    let object = Externs::OBJECT;
    let mut fake = Fake {
        in_modules: vec![("bpf_key_put", "bpf_testmod")],
        ..Fake::default()
    };
    let l = loaded(object, &mut fake);
    let prog = &object.programs[0];
    let (insns, fd_array) = program_load(&fake, prog.name.as_str());
    let index = object.maps.len() as u32;
    assert!(
        fd_array.contains(&(index, "bpf_testmod".to_string())),
        "{fd_array:?}"
    );
    let ext = object
        .externs
        .iter()
        .position(|e| e.name == "bpf_key_put")
        .unwrap();
    let calls: Vec<_> = prog
        .externs
        .iter()
        .filter(|u| u.ext as usize == ext)
        .collect();
    assert!(!calls.is_empty());
    for u in calls {
        let at = u.insn as usize * 8;
        assert_eq!(
            i16::from_le_bytes([insns[at + 2], insns[at + 3]]),
            index as i16,
            "off names fd_array[{index}]"
        );
    }
    let module_fds = fake
        .fds
        .values()
        .filter(|&&id| fake.objects[id].kind == Kind::ModuleBtf)
        .count();
    assert_eq!(module_fds, 0, "the finder closed the module BTF fd");
    assert!(
        fake.alive().iter().any(|o| o.contains("bpf_testmod")),
        "the program holds the module BTF"
    );
    l.free(&mut fake);
    assert_nothing_left(&fake, object.name.as_str());
}

/// An attach target in a module's BTF is given as `attach_btf_obj_fd`.
#[test]
fn attach_targets_in_modules_are_given_with_their_btf() {
    let object = MkdirGuard::OBJECT;
    let target = object.programs[0].attach_btf.unwrap().name;
    let mut fake = Fake {
        in_modules: vec![(target.as_str(), "some_module")],
        ..Fake::default()
    };
    let l = loaded(object, &mut fake);
    let Some(Call::ProgLoad {
        attach_btf_id,
        attach_btf_obj,
        ..
    }) = fake
        .calls
        .iter()
        .find(|c| matches!(c, Call::ProgLoad { name, .. } if name != fake::FINDER))
    else {
        panic!("no program loaded")
    };
    assert_eq!(
        *attach_btf_id,
        resolved(&fake, target.as_str(), bpf_preload::abi::BTF_KIND_FUNC).0
    );
    assert_eq!(attach_btf_obj.as_deref(), Some("some_module"));
    l.free(&mut fake);
    assert_nothing_left(&fake, object.name.as_str());
}

/// `.data` and `.rodata` start with their section's bytes, `.kconfig` with the running
/// kernel's values at the offsets the table gives, and both read-only maps are frozen.
#[test]
fn data_maps_start_with_their_values() {
    for object in EXAMPLES {
        let mut fake = Fake::default();
        let l = loaded(object, &mut fake);
        for map in object.maps {
            let fd = l.map_fd(map.name.as_str()).unwrap();
            let kobj = fake.object(fd).unwrap();
            assert_eq!(
                kobj.frozen,
                map.freeze != Freeze::Never,
                "{}: {}",
                object.name,
                map.name
            );
            if let Some(initial) = map.initial_value {
                assert_eq!(
                    kobj.values.get(&0).map(|v| &v[..]),
                    Some(initial.as_slice()),
                    "{}: {}",
                    object.name,
                    map.name
                );
            }
            if map.kconfig.is_empty() {
                continue;
            }
            let value = &kobj.values[&0];
            for var in map.kconfig {
                let at = &value[var.offset as usize..(var.offset + var.size) as usize];
                let int = |bytes: &[u8]| {
                    let mut b = [0u8; 8];
                    b[..bytes.len()].copy_from_slice(bytes);
                    u64::from_le_bytes(b)
                };
                let expected: Vec<u8> = match (var.name.as_str(), var.kind) {
                    ("LINUX_KERNEL_VERSION", _) => {
                        fake::VERSION.to_le_bytes()[..var.size as usize].to_vec()
                    }
                    (
                        "CONFIG_BPF_SYSCALL" | "LINUX_HAS_BPF_COOKIE" | "LINUX_HAS_SYSCALL_WRAPPER",
                        KconfigKind::Bool,
                    ) => vec![1],
                    ("CONFIG_HZ", KconfigKind::Int { .. }) => {
                        250u32.to_le_bytes()[..var.size as usize].to_vec()
                    }
                    ("CONFIG_BTRFS_FS", KconfigKind::Tristate) => {
                        vec![2, 0, 0, 0][..var.size as usize].to_vec()
                    }
                    ("CONFIG_CC_VERSION_TEXT", KconfigKind::CharArray) => {
                        let mut s = b"gcc (Debian 12.2.0-14) 12.2.0".to_vec();
                        s.resize(var.size as usize, 0);
                        s
                    }
                    // Weak and absent, or not in the fake's configuration: zero.
                    _ => vec![0; var.size as usize],
                };
                assert_eq!(
                    at,
                    expected,
                    "{}: {} = {:#x}",
                    object.name,
                    var.name,
                    int(at)
                );
            }
        }
        l.free(&mut fake);
    }
}

/// What [`Loaded`] hands out is what the kernel made for each name of the table, and
/// the pins refer to the objects the table says.
#[test]
fn loaded_names_what_the_kernel_made() {
    for object in EXAMPLES {
        let mut fake = Fake::default();
        let l = loaded(object, &mut fake);
        let btf = l.btf_fd().map(|fd| fake.object(fd).unwrap().kind.clone());
        assert_eq!(
            btf,
            (!object.btf.is_empty()).then_some(Kind::Btf),
            "{}",
            object.name
        );
        for map in object.maps {
            let kobj = fake.object(l.map_fd(map.name.as_str()).unwrap()).unwrap();
            assert!(matches!(kobj.kind, Kind::Map { map_type, .. } if map_type == map.map_type));
            assert_eq!(kobj.name, kernel(map.kernel_name.as_str()));
        }
        for prog in object.programs {
            let kobj = fake
                .object(l.program_fd(prog.name.as_str()).unwrap())
                .unwrap();
            assert_eq!(
                kobj.kind,
                Kind::Prog {
                    prog_type: prog.prog_type
                }
            );
            assert_eq!(kobj.name, kernel(prog.name.as_str()));
        }
        for link in object.links {
            let program = object.programs[link.program].name;
            let kobj = fake.object(l.link_fd(program.as_str()).unwrap()).unwrap();
            assert_eq!(
                (&kobj.kind, kobj.name.as_str()),
                (&Kind::Link, kernel(program.as_str()))
            );
        }
        let pinned: Vec<(&str, String)> = l
            .pins()
            .iter()
            .map(|p| (p.name, fake.objects[p.obj].name.clone()))
            .collect();
        let in_fake: Vec<(&str, String)> = fake
            .pins
            .iter()
            .map(|&(name, id)| (name, fake.objects[id].name.clone()))
            .collect();
        assert_eq!(pinned, in_fake, "{}", object.name);
        assert_eq!(
            l.fds().count(),
            fake.fds.len(),
            "{}: every open fd is the object's",
            object.name
        );
        l.free(&mut fake);
    }
}

/// A module closes its fds once it holds references; what its pins hold stays alive,
/// and goes once the pins do.
#[test]
fn close_fds_keeps_what_the_pins_hold() {
    for object in EXAMPLES {
        let mut fake = Fake::default();
        let l = loaded(object, &mut fake);
        let pins = l.close_fds(&mut fake);
        assert!(fake.fds.is_empty(), "{}: fds open", object.name);
        assert_eq!(pins.len(), fake.pins.len());
        assert_eq!(fake.alive().is_empty(), pins.is_empty(), "{}", object.name);
        for pin in pins.into_iter().rev() {
            bpf_preload::Backend::unpin(&mut fake, pin);
        }
        assert_nothing_left(&fake, object.name.as_str());
    }
}

/// Fails each call of a load in turn (bpf(2), attaching, pinning, reading the CPUs or
/// the configuration): the load fails with that errno, naming the object, and leaves
/// no fd open, nothing pinned and no kernel object alive. With a verifier log wanted,
/// a refused program load is repeated once, and that repetition is a call too.
/// A kernel that refuses the object's BTF: as libbpf, the load goes on without it
/// (no map names a BTF type, no program passes BTF records), unless the object needs
/// the kernel to hold its BTF (CO-RE relocations, struct_ops), when it fails at that
/// step, leaving nothing behind.
#[test]
fn a_refused_btf_is_left_out_unless_the_object_needs_it() {
    for object in EXAMPLES.iter().filter(|o| !o.btf.is_empty()) {
        let needs_btf = object.programs.iter().any(|p| !p.core_relos.is_empty())
            || object.maps.iter().any(|m| m.struct_ops.is_some());
        let mut fake = Fake {
            refuse_btf: true,
            ..Fake::default()
        };
        match load(object, &mut fake) {
            Ok(loaded) => {
                assert!(
                    !needs_btf,
                    "{}: loaded without the BTF it needs",
                    object.name
                );
                assert_eq!(fake.violations, Vec::<String>::new(), "{}", object.name);
                for call in &fake.calls {
                    match call {
                        Call::MapCreate { name, btf, .. } => {
                            assert!(!btf, "{}: map {name} names a BTF type", object.name)
                        }
                        Call::ProgLoad { name, btf, .. } => {
                            assert!(!btf, "{}: program {name} passes BTF", object.name)
                        }
                        _ => {}
                    }
                }
                loaded.free(&mut fake);
            }
            Err(e) => {
                assert!(needs_btf, "{}: {e}", object.name);
                assert_eq!(e.step, Step::LoadBtf, "{}: {e}", object.name);
                assert_eq!(e.errno, Errno::EINVAL, "{}: {e}", object.name);
            }
        }
        assert_nothing_left(&fake, object.name.as_str());
    }
}

#[test]
fn a_failure_at_every_call_leaves_nothing() {
    for verifier_log in [false, true] {
        for object in EXAMPLES {
            let mut counter = Fake {
                verifier_log,
                ..Fake::default()
            };
            let l = loaded(object, &mut counter);
            l.free(&mut counter);
            let total = counter.fallible;
            assert!(total > 3, "{}: only {total} calls?", object.name);
            let mut steps = Vec::new();
            for n in 1..=total {
                let mut fake = Fake {
                    verifier_log,
                    ..Fake::failing_at(n)
                };
                let err: Error = match load(object, &mut fake) {
                    // Only a bind of `.rodata` may fail without failing the load.
                    Ok(l) => {
                        let context = format!("{}: call {n} of {total} failed", object.name);
                        assert_eq!(
                            fake.injected_cmd,
                            Some(abi::BPF_PROG_BIND_MAP),
                            "{context}, yet the load succeeded"
                        );
                        assert_eq!(fake.warnings.len(), 1, "{context}: {:?}", fake.warnings);
                        l.free(&mut fake);
                        assert_nothing_left(&fake, &context);
                        continue;
                    }
                    Err(e) => e,
                };
                let context = format!(
                    "{}: failing call {n} of {total} ({})",
                    object.name, err.step
                );
                assert_eq!(err.errno, Errno::EINTR, "{context}");
                assert_eq!(err.object, object.name, "{context}");
                assert_eq!(
                    err.verifier_log, None,
                    "{context}: a retried load that passes is not a log"
                );
                assert_nothing_left(&fake, &context);
                steps.push(err.step);
            }
            // Each step of the load can fail: the first call fails at the first step,
            // the last call at the last pin or link.
            if !object.btf.is_empty() {
                assert_eq!(steps[0], Step::LoadBtf, "{}", object.name);
            }
            let last = steps.last().unwrap();
            assert!(
                matches!(
                    last,
                    Step::Pin { .. } | Step::Attach { .. } | Step::FillSlot { .. }
                ),
                "{}: {last:?}",
                object.name
            );
        }
    }
}

/// The verifier's refusal ends the load with the tail of its log, and frees the rest.
#[test]
fn a_refused_program_reports_the_end_of_the_verifier_log() {
    for verifier_log in [false, true] {
        let object = MkdirGuard::OBJECT;
        let program = object.programs[0].name;
        let mut fake = Fake {
            reject: Some(kernel(program.as_str())),
            verifier_log,
            ..Fake::default()
        };
        let err = load(object, &mut fake).expect_err("refused");
        assert_eq!(
            err.step,
            Step::LoadProgram {
                program: program.as_str()
            }
        );
        assert_eq!(err.errno, Errno::EACCES);
        if verifier_log {
            let log = err.verifier_log.expect("a log");
            let lines: Vec<&str> = log.lines().collect();
            assert_eq!(lines.len(), 24, "{log}");
            assert_eq!(lines.last(), Some(&"verifier line 29"));
        } else {
            assert_eq!(err.verifier_log, None);
        }
        assert_nothing_left(&fake, "refused program");
    }
}

/// A strong extern the kernel lacks fails the load naming it; a weak one does not.
#[test]
fn a_missing_strong_extern_fails_naming_it() {
    let object = Externs::OBJECT;
    let mut fake = Fake::default();
    fake.missing.push("vfs_read");
    let err = load(object, &mut fake).expect_err("vfs_read is missing");
    assert_eq!(err.step, Step::ResolveExtern { name: "vfs_read" });
    assert_eq!(err.errno, Errno::ENOENT);
    assert_nothing_left(&fake, "missing extern");
}

/// Fd 0 is an fd like any other (a process whose stdin is closed gets it from the
/// kernel): nothing in the loader may take it for "none".
#[test]
fn fd_zero_is_an_fd_like_any_other() {
    for object in EXAMPLES {
        let mut fake = Fake {
            first_fd: 0,
            ..Fake::default()
        };
        let l = loaded(object, &mut fake);
        if !object.btf.is_empty() {
            assert_eq!(l.btf_fd(), Some(0), "{}: the BTF gets fd 0", object.name);
        }
        let loads = fake.calls.iter().filter_map(|c| match c {
            Call::ProgLoad {
                name,
                btf,
                func_info,
                ..
            } if name != fake::FINDER => Some((*btf, *func_info)),
            _ => None,
        });
        for (prog, (btf, func_info)) in object.programs.iter().zip(loads) {
            let records = prog.func_info.len() as u32 / bpf_preload::FUNC_INFO_REC_SIZE;
            let context = format!("{}: {}", object.name, prog.name);
            assert_eq!(
                func_info, records,
                "{context}: func_info given with BTF fd 0"
            );
            assert_eq!(
                btf,
                records != 0 || !prog.core_relos.is_empty() || !prog.line_info.is_empty(),
                "{context}"
            );
        }
        l.free(&mut fake);
        assert_nothing_left(&fake, object.name.as_str());
    }
}

/// Raw BTF built type by type, in the kernel's encoding (`struct btf_header`, types,
/// strings).
#[derive(Default)]
struct BtfBuilder {
    types: Vec<u32>,
    strings: Vec<u8>,
    count: u32,
}

impl BtfBuilder {
    /// A name's offset in the string section.
    fn name(&mut self, name: &str) -> u32 {
        if self.strings.is_empty() {
            self.strings.push(0);
        }
        if name.is_empty() {
            return 0;
        }
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(name.as_bytes());
        self.strings.push(0);
        off
    }

    /// Adds a type (`kind` and `vlen` make its info word); returns its id.
    fn ty(&mut self, name: &str, kind: u32, vlen: u32, size_or_type: u32, extra: &[u32]) -> u32 {
        let name = self.name(name);
        self.types.extend([name, (kind << 24) | vlen, size_or_type]);
        self.types.extend(extra);
        self.count += 1;
        self.count
    }

    /// A struct of `(name, type, bit offset)` members.
    fn structure(&mut self, name: &str, size: u32, members: &[(&str, u32, u32)]) -> u32 {
        let mut words = Vec::new();
        for &(member, ty, bits) in members {
            words.extend([self.name(member), ty, bits]);
        }
        let vlen = members.len() as u32;
        self.ty(name, abi::BTF_KIND_STRUCT, vlen, size, &words)
    }

    fn build(mut self) -> Vec<u8> {
        self.name("");
        let types: Vec<u8> = self.types.iter().flat_map(|w| w.to_le_bytes()).collect();
        let mut out = Vec::new();
        out.extend_from_slice(&0xeb9fu16.to_le_bytes());
        out.extend([1, 0]);
        let (type_len, str_len) = (types.len() as u32, self.strings.len() as u32);
        for w in [24, 0, type_len, type_len, str_len] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend(types);
        out.extend(self.strings);
        out
    }
}

/// The callbacks of the fake kernel's `struct sched_ext_ops`, in Linux 6.12's order
/// (part of them), at 8 bytes each from offset 0; its data members follow.
const SCX_CALLBACKS: [&str; 9] = [
    "select_cpu",
    "enqueue",
    "dequeue",
    "dispatch",
    "running",
    "stopping",
    "enable",
    "init",
    "exit",
];
const SCX_DISPATCH_MAX_BATCH: usize = 72;
const SCX_FLAGS: usize = 80;
const SCX_TIMEOUT_MS: usize = 88;
const SCX_EXIT_DUMP_LEN: usize = 92;
const SCX_HOTPLUG_SEQ: usize = 96;
const SCX_NAME: usize = 104;
/// `data` in `struct bpf_struct_ops_sched_ext_ops` (cache-line aligned after `common`).
const SCX_DATA: usize = 64;
const SCX_VALUE_SIZE: u32 = 320;

/// A kernel's BTF with `struct sched_ext_ops` laid out as Linux 6.12 lays out these of
/// its members (u32 and u64 through typedefs, as there), `name` a char array of
/// `name_len`, and its struct_ops value type: (BTF, the struct's id, the value's id).
fn sched_ext_btf(name_len: u32) -> (Vec<u8>, u32, u32) {
    use abi::{BTF_KIND_ARRAY, BTF_KIND_FUNC_PROTO, BTF_KIND_INT, BTF_KIND_PTR, BTF_KIND_TYPEDEF};
    let mut b = BtfBuilder::default();
    let uint = b.ty("unsigned int", BTF_KIND_INT, 0, 4, &[32]);
    let u32_ = b.ty("u32", BTF_KIND_TYPEDEF, 0, uint, &[]);
    let ull = b.ty("long long unsigned int", BTF_KIND_INT, 0, 8, &[64]);
    let u64_ = b.ty("u64", BTF_KIND_TYPEDEF, 0, ull, &[]);
    let char_ = b.ty("char", BTF_KIND_INT, 0, 1, &[(1 << 24) | 8]);
    let name = b.ty("", BTF_KIND_ARRAY, 0, 0, &[char_, uint, name_len]);
    let task = b.structure("task_struct", 8, &[]);
    let task_ptr = b.ty("", BTF_KIND_PTR, 0, task, &[]);
    let proto = b.ty("", BTF_KIND_FUNC_PROTO, 1, 0, &[0, task_ptr]);
    let callback = b.ty("", BTF_KIND_PTR, 0, proto, &[]);
    let mut members: Vec<(&str, u32, u32)> = (SCX_CALLBACKS.iter().enumerate())
        .map(|(i, m)| (*m, callback, 64 * i as u32))
        .collect();
    members.extend(
        [
            ("dispatch_max_batch", u32_, SCX_DISPATCH_MAX_BATCH),
            ("flags", u64_, SCX_FLAGS),
            ("timeout_ms", u32_, SCX_TIMEOUT_MS),
            ("exit_dump_len", u32_, SCX_EXIT_DUMP_LEN),
            ("hotplug_seq", u64_, SCX_HOTPLUG_SEQ),
            ("name", name, SCX_NAME),
        ]
        .map(|(m, ty, at)| (m, ty, 8 * at as u32)),
    );
    let size = (SCX_NAME as u32 + name_len).next_multiple_of(8);
    let ops = b.structure("sched_ext_ops", size, &members);
    let common = b.structure("bpf_struct_ops_common_value", 8, &[]);
    let value = b.structure(
        "bpf_struct_ops_sched_ext_ops",
        SCX_VALUE_SIZE,
        &[("common", common, 0), ("data", ops, 8 * SCX_DATA as u32)],
    );
    (b.build(), ops, value)
}

/// examples/sched_ext_minimal against a kernel whose BTF has Linux 6.12's `struct
/// sched_ext_ops`: its value is laid out member by member, by name, in the kernel's
/// layout (callbacks as program fds, the u64 `flags`, the u32 `timeout_ms`, the
/// `name` char array, the members the object leaves out zero), each program is loaded
/// for its member, and the map is registered by a struct_ops link after its value is
/// written. A failure at any call leaves nothing.
#[test]
fn sched_ext_ops_are_laid_out_as_the_running_kernel_has_them() {
    let object = SchedExtMinimal::OBJECT;
    let (btf, ops_id, value_id) = sched_ext_btf(128);
    let fake_kernel = || Fake {
        vmlinux_btf: Some(btf.clone()),
        ..Fake::default()
    };
    let mut fake = fake_kernel();
    let l = loaded(object, &mut fake);
    let calls = &fake.calls;
    let at = |pred: &dyn Fn(&Call) -> bool| calls.iter().position(pred).unwrap();

    let create = at(&|c| matches!(c, Call::MapCreate { name, .. } if name == "preload_minimal"));
    let Call::MapCreate {
        map_type,
        value_size,
        map_flags,
        vmlinux_value_type_id,
        ..
    } = &calls[create]
    else {
        unreachable!()
    };
    assert_eq!(*map_type, abi::BPF_MAP_TYPE_STRUCT_OPS);
    assert_eq!(*value_size, SCX_VALUE_SIZE);
    assert_eq!(*map_flags, abi::BPF_F_LINK);
    assert_eq!(*vmlinux_value_type_id, value_id);

    let mut expected = vec![0u8; SCX_VALUE_SIZE as usize];
    for (program, member) in [
        ("minimal_enqueue", "enqueue"),
        ("minimal_running", "running"),
        ("minimal_enable", "enable"),
    ] {
        let index = SCX_CALLBACKS.iter().position(|m| *m == member).unwrap();
        let load = at(&|c| matches!(c, Call::ProgLoad { name, .. } if name == program));
        let Call::ProgLoad {
            prog_type,
            expected_attach_type,
            attach_btf_id,
            ..
        } = &calls[load]
        else {
            unreachable!()
        };
        assert_eq!(*prog_type, abi::BPF_PROG_TYPE_STRUCT_OPS, "{program}");
        assert_eq!(*attach_btf_id, ops_id, "{program}");
        assert_eq!(*expected_attach_type, index as u32, "{program}");
        let fd = u64::from(l.program_fd(program).unwrap());
        let slot = SCX_DATA + 8 * index;
        expected[slot..slot + 8].copy_from_slice(&fd.to_ne_bytes());
    }
    let data = |at: usize| SCX_DATA + at;
    // SCX_OPS_ENQ_EXITING, 10 s, and the name, NUL-padded to the kernel's 128 bytes.
    expected[data(SCX_FLAGS)..data(SCX_FLAGS) + 8].copy_from_slice(&4u64.to_ne_bytes());
    expected[data(SCX_TIMEOUT_MS)..data(SCX_TIMEOUT_MS) + 4]
        .copy_from_slice(&10_000u32.to_ne_bytes());
    expected[data(SCX_NAME)..data(SCX_NAME) + 15].copy_from_slice(b"preload_minimal");

    let update = at(&|c| matches!(c, Call::MapUpdate { map, .. } if map == "preload_minimal"));
    let Call::MapUpdate {
        key: 0,
        value: Value::Bytes(value),
        ..
    } = &calls[update]
    else {
        panic!("{:?}", calls[update])
    };
    assert_eq!(value, &expected, "the value of preload_minimal");
    let link = at(&|c| matches!(c, Call::LinkCreate { prog, .. } if prog == "preload_minimal"));
    assert!(update < link, "linked before its value was written");
    assert!(
        matches!(&calls[link], Call::LinkCreate { attach_type, .. } if *attach_type == abi::BPF_STRUCT_OPS)
    );
    l.free(&mut fake);
    assert_nothing_left(&fake, "sched_ext_minimal");

    let total = fake.fallible;
    for n in 1..=total {
        let mut fake = Fake {
            fail_at: n,
            ..fake_kernel()
        };
        let err = load(object, &mut fake).expect_err("a call failed");
        let context = format!("failing call {n} of {total} ({})", err.step);
        assert_eq!(err.errno, Errno::EINTR, "{context}");
        assert_nothing_left(&fake, &context);
    }
}

/// A member whose size differs in the kernel's struct (a `name` array of another
/// length) is refused naming it, as libbpf refuses it, before anything is created.
#[test]
fn a_struct_ops_member_of_another_size_is_refused() {
    let mut fake = Fake {
        vmlinux_btf: Some(sched_ext_btf(64).0),
        ..Fake::default()
    };
    let err = load(SchedExtMinimal::OBJECT, &mut fake).expect_err("name[64]");
    assert_eq!(
        err.step,
        Step::TranslateStructOps {
            map: "preload_minimal",
            member: Some("name"),
            reason: "its size differs in the kernel's struct",
        }
    );
    assert_eq!(err.errno, Errno::EOPNOTSUPP);
    assert_nothing_left(&fake, "name[64]");
}

/// The maps' calls of a load: creations, refusals and closes, in order.
fn map_calls(fake: &Fake) -> Vec<String> {
    summary(&fake.calls)
        .into_iter()
        .filter(|c| c.starts_with("map ") || c.starts_with("close by_"))
        .collect()
}

/// An LPM trie keyed by an array is refused with its BTF types (the kernel takes only
/// a struct as its key type), on its own or as the inner map of a map of maps; each
/// is created again without them, as libbpf does, and the rest of the load goes on.
#[test]
fn lpm_tries_keyed_by_arrays_are_created_again_without_btf() {
    let object = LpmMaps::OBJECT;
    let mut fake = Fake::default();
    let l = loaded(object, &mut fake);
    assert_eq!(
        map_calls(&fake),
        [
            "map lpm_maps.rodata",
            "map allowed refused: EINVAL",
            "map allowed",
            "map by_index.inner refused: EINVAL",
            "map by_index.inner",
            "map by_index",
            "close by_index.inner",
            "map by_key.inner refused: EINVAL",
            "map by_key.inner",
            "map by_key",
            "close by_key.inner",
        ]
    );
    for call in &fake.calls {
        if let Call::MapCreate { name, btf, .. } = call {
            // `.rodata` keeps its BTF; maps of maps have none (libbpf drops it too).
            assert_eq!(*btf, name == "lpm_maps.rodata", "{name}");
        }
    }
    // The retried maps are what the outer maps hold and the programs use.
    let slots: Vec<String> = summary(&fake.calls)
        .into_iter()
        .filter(|c| c.starts_with("update by_"))
        .collect();
    assert_eq!(
        slots,
        ["update by_index[0] = allowed", "update by_key[3] = allowed"]
    );
    assert!(l.program_fd("through_array").is_some() && l.program_fd("through_hash").is_some());
    l.free(&mut fake);
    assert_nothing_left(&fake, "lpm_maps");
}

/// Maps of maps the object declares without inner maps get the ones `inner_map(...)`
/// gives as their templates: `template`'s definition (and BTF types, which an array
/// takes) and a definition of the attribute's own (without BTF), each created first
/// and closed once its outer map exists, as for an inner map the object declares.
#[test]
fn inner_maps_from_the_attribute_are_the_templates_of_their_outer_maps() {
    let object = LoaderInnerMaps::OBJECT;
    let mut fake = Fake::default();
    let l = loaded(object, &mut fake);
    // Kernel names have 15 bytes at most: `per_cgroup.inne`.
    let calls: Vec<String> = summary(&fake.calls)
        .into_iter()
        .filter(|c| c.starts_with("map ") || c.starts_with("close per_"))
        .collect();
    assert_eq!(
        calls,
        [
            "map per_cgroup.inne",
            "map per_cgroup",
            "close per_cgroup.inne",
            "map per_slot.inner",
            "map per_slot",
            "close per_slot.inner",
            "map template",
        ]
    );
    let created = |wanted: &str| {
        fake.calls
            .iter()
            .find_map(|c| match c {
                Call::MapCreate {
                    name,
                    map_type,
                    key_size,
                    value_size,
                    max_entries,
                    map_flags,
                    inner,
                    btf,
                    ..
                } if name == wanted => Some((
                    *map_type,
                    *key_size,
                    *value_size,
                    *max_entries,
                    *map_flags,
                    inner.clone(),
                    *btf,
                )),
                _ => None,
            })
            .unwrap()
    };
    use bpf_preload::abi::{BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH};
    let template = created("template");
    assert_eq!(template, (BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0, None, true));
    assert_eq!(created("per_cgroup.inne"), template);
    assert_eq!(
        created("per_slot.inner"),
        (BPF_MAP_TYPE_HASH, 4, 16, 3, 1, None, false)
    );
    assert_eq!(created("per_cgroup").5.as_deref(), Some("per_cgroup.inne"));
    assert_eq!(created("per_slot").5.as_deref(), Some("per_slot.inner"));
    l.free(&mut fake);
    assert_nothing_left(&fake, "loader_inner_maps");
}

/// A failure at each call of the retried creations: the retry's own failure names the
/// map, the errno its BTF types were refused with and the errno of the retry; a
/// failure of the first attempt that is not a refusal of its types (`EINTR` here) is
/// not retried. Either way nothing is left.
#[test]
fn a_failed_retry_names_the_map_and_both_errnos() {
    let object = LpmMaps::OBJECT;
    let mut counter = Fake::default();
    loaded(object, &mut counter).free(&mut counter);
    let total = counter.fallible;
    let mut retries = Vec::new();
    let mut first_attempts = Vec::new();
    for n in 1..=total {
        let mut fake = Fake::failing_at(n);
        let err = match load(object, &mut fake) {
            Ok(l) => {
                // A bind of `.rodata`, which only warns.
                assert_eq!(fake.injected_cmd, Some(abi::BPF_PROG_BIND_MAP), "call {n}");
                l.free(&mut fake);
                continue;
            }
            Err(e) => e,
        };
        let context = format!("failing call {n} of {total}: {err}");
        assert_nothing_left(&fake, &context);
        match err.step {
            Step::CreateMapWithoutBtf { map, with_btf } => {
                assert_eq!(
                    (with_btf, err.errno),
                    (Errno::EINVAL, Errno::EINTR),
                    "{context}"
                );
                let text = err.to_string();
                for part in [
                    map,
                    "without its BTF key and value types",
                    "EINVAL",
                    "EINTR",
                ] {
                    assert!(text.contains(part), "{context}: `{part}` missing");
                }
                retries.push(map);
            }
            Step::CreateMap { map } if map != ".rodata" => {
                // Failed before the kernel could refuse its types: not created again,
                // only freed.
                let at = fake
                    .calls
                    .iter()
                    .position(|c| *c == Call::Injected)
                    .unwrap();
                let after = summary(&fake.calls[at + 1..]);
                assert!(
                    after.iter().all(|c| c.starts_with("close ")),
                    "{context}: then {after:?}"
                );
                first_attempts.push(map);
            }
            _ => {}
        }
    }
    // The inner maps are named by their outer map (libbpf's `<outer>.inner`).
    assert_eq!(retries, ["allowed", "by_index.inner", "by_key.inner"]);
    assert_eq!(
        first_attempts,
        [
            "allowed",
            "by_index.inner",
            "by_index",
            "by_key.inner",
            "by_key"
        ]
    );
}

/// A map whose value holds what the kernel knows only from its BTF (a `bpf_timer`
/// here) is not created again without it when its types are refused: the first error
/// stands. Another map of the same object, refused the same way, is.
#[test]
fn a_map_that_needs_its_btf_keeps_the_first_error() {
    let object = TimerTick::OBJECT;
    let mut fake = Fake {
        refuse_map_btf: vec!["ticker"],
        ..Fake::default()
    };
    let err = load(object, &mut fake).expect_err("ticker needs its BTF");
    assert_eq!(err.step, Step::CreateMap { map: "ticker" }, "{err}");
    assert_eq!(err.errno, Errno::EOPNOTSUPP, "{err}");
    assert!(
        !fake
            .calls
            .iter()
            .any(|c| matches!(c, Call::MapCreate { name, .. } if name == "ticker")),
        "ticker was created again: {:?}",
        summary(&fake.calls)
    );
    assert_nothing_left(&fake, "ticker refused");

    let mut fake = Fake {
        refuse_map_btf: vec!["ticks"],
        ..Fake::default()
    };
    let l = loaded(object, &mut fake);
    let calls = map_calls(&fake);
    let at = calls
        .iter()
        .position(|c| c == "map ticks refused: EOPNOTSUPP");
    assert!(
        at.is_some_and(|at| calls[at + 1] == "map ticks"),
        "{calls:?}"
    );
    l.free(&mut fake);
    assert_nothing_left(&fake, "ticks refused");
}

/// The binds of a load: `(program, map)`.
fn binds(fake: &Fake) -> Vec<(String, String)> {
    fake.calls
        .iter()
        .filter_map(|c| match c {
            Call::BindMap { prog, map } => Some((prog.clone(), map.clone())),
            _ => None,
        })
        .collect()
}

/// Every `.rodata` map is bound to every program once all are loaded, before anything
/// attaches, as libbpf binds it after each load; objects without one bind nothing.
#[test]
fn rodata_is_bound_to_every_program() {
    for object in EXAMPLES {
        let mut fake = Fake::default();
        let l = loaded(object, &mut fake);
        let rodata: Vec<&str> = (object.maps.iter())
            .filter(|m| m.name == ".rodata" || m.name.starts_with(".rodata."))
            .map(|m| kernel(&m.kernel_name))
            .collect();
        let expected: Vec<(String, String)> = (object.programs.iter())
            .flat_map(|p| {
                rodata
                    .iter()
                    .map(|m| (kernel(&p.name).into(), m.to_string()))
            })
            .collect();
        assert_eq!(binds(&fake), expected, "{}", object.name);
        let calls = &fake.calls;
        let first_bind = calls.iter().position(|c| matches!(c, Call::BindMap { .. }));
        let last_prog = calls
            .iter()
            .rposition(|c| matches!(c, Call::ProgLoad { name, .. } if name != fake::FINDER));
        let first_link = calls.iter().position(|c| {
            matches!(
                c,
                Call::LinkCreate { .. } | Call::RawTracepointOpen { .. } | Call::Tracepoint { .. }
            )
        });
        if let Some(first_bind) = first_bind {
            assert!(
                Some(first_bind) > last_prog,
                "{}: after every load",
                object.name
            );
            assert!(
                first_link.is_none_or(|link| link > first_bind),
                "{}: before attaching",
                object.name
            );
        }
        assert_eq!(fake.warnings, Vec::<String>::new(), "{}", object.name);
        l.free(&mut fake);
        assert_nothing_left(&fake, &object.name);
    }
    assert!(
        EXAMPLES
            .iter()
            .filter(|o| o.maps.iter().any(|m| m.name == ".rodata"))
            .count()
            >= 3,
        "the examples bind something"
    );
}

/// A backend that cannot bind (a module: `kern_sys_bpf` refuses the command) is not
/// asked to.
#[test]
fn a_backend_that_cannot_bind_is_not_asked_to() {
    let mut fake = Fake {
        binds_maps: false,
        ..Fake::default()
    };
    let l = loaded(LpmMaps::OBJECT, &mut fake);
    assert_eq!(binds(&fake), Vec::<(String, String)>::new());
    l.free(&mut fake);
    assert_nothing_left(&fake, "no binds");
}

/// A bind the kernel refuses is a warning naming the program, the map and the errno,
/// and the load goes on: the program is loaded without it, the others are bound.
#[test]
fn a_refused_bind_is_a_warning() {
    let object = LpmMaps::OBJECT;
    let mut counter = Fake::default();
    loaded(object, &mut counter).free(&mut counter);
    let mut warned = Vec::new();
    for n in 1..=counter.fallible {
        let mut fake = Fake::failing_at(n);
        let Ok(l) = load(object, &mut fake) else {
            continue;
        };
        let [warning] = &fake.warnings[..] else {
            panic!("call {n}: {:?}", fake.warnings);
        };
        let bound: Vec<String> = binds(&fake).into_iter().map(|(p, _)| p).collect();
        let unbound = ["through_array", "through_hash"]
            .into_iter()
            .find(|p| !bound.iter().any(|b| b == p))
            .expect("one program unbound");
        assert_eq!(bound.len(), 1, "call {n}: the other is bound");
        assert_eq!(
            warning,
            &format!(
                "program `{unbound}`: binding map `.rodata` (BPF_PROG_BIND_MAP) failed: \
                 EINTR (Interrupted system call); loaded without it, as libbpf does"
            )
        );
        assert!(l.program_fd(unbound).is_some());
        warned.push(unbound);
        l.free(&mut fake);
        assert_nothing_left(&fake, &format!("call {n}"));
    }
    assert_eq!(warned, ["through_array", "through_hash"]);
}

/// An object whose globals are parameters (`params(...)`), one of them also `set(...)`.
#[bpf_preload::bpf_preload(
    obj = "../../tests/fixtures/config.bpf.o",
    set(mode = MODE_LOG),
    params(target_pid, verbose, mode, direction, comm, small, big, limit, step, threshold)
)]
struct Configured;

/// The value of `map` (by name) in the fake kernel once loaded with `params`.
fn loaded_value(params: &bpf_preload::Params, map: &str) -> Vec<u8> {
    let mut fake = Fake::default();
    let l = bpf_preload::load_with(params, &mut fake).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(fake.violations, Vec::<String>::new());
    let fd = l.map_fd(map).unwrap();
    let value = fake.object(fd).unwrap().values[&0].clone();
    l.free(&mut fake);
    assert_nothing_left(&fake, map);
    value
}

/// The bytes of parameter `name` in `value`, its map's value.
fn param_bytes<'v>(value: &'v [u8], name: &str) -> &'v [u8] {
    let p = Configured::OBJECT
        .params
        .iter()
        .find(|p| p.name.as_str() == name)
        .unwrap();
    &value[p.offset as usize..(p.offset + p.size) as usize]
}

#[test]
fn parameters_are_written_into_the_initial_values_before_load() {
    let object = Configured::OBJECT;
    let mut params = bpf_preload::Params::new(object);
    for (name, value) in [
        ("target_pid", "-1234"),
        ("verbose", "Y"),
        ("direction", "DOWN"),
        ("comm", "sshd"),
        ("small", "-128"),
        ("big", "0xffff_ffff_ffff_fffe"),
        ("limit", "99"),
        ("step", "7"),
        ("threshold", "5"),
    ] {
        params.set(name, value).unwrap_or_else(|e| panic!("{e}"));
    }
    let rodata = loaded_value(&params, ".rodata");
    assert_eq!(param_bytes(&rodata, "target_pid"), (-1234i32).to_le_bytes());
    assert_eq!(param_bytes(&rodata, "verbose"), [1]);
    assert_eq!(param_bytes(&rodata, "direction"), [0xff]);
    assert_eq!(
        param_bytes(&rodata, "comm"),
        b"sshd\0\0\0\0\0\0\0\0\0\0\0\0"
    );
    assert_eq!(param_bytes(&rodata, "small"), [0x80]);
    assert_eq!(
        param_bytes(&rodata, "big"),
        0xffff_ffff_ffff_fffeu64.to_le_bytes()
    );
    // Not given: `set(...)`'s value stands.
    assert_eq!(param_bytes(&rodata, "mode"), 1u32.to_le_bytes());
    let limits = loaded_value(&params, ".rodata.limits");
    assert_eq!(param_bytes(&limits, "limit"), 99u32.to_le_bytes());
    let data = loaded_value(&params, ".data");
    assert_eq!(param_bytes(&data, "step"), 7u32.to_le_bytes());
    let bss = loaded_value(&params, ".bss");
    assert_eq!(param_bytes(&bss, "threshold"), 5u64.to_le_bytes());
    // What is not a parameter keeps the table's value, bytes of other variables too.
    let table = |map: &str| {
        let m = object.maps.iter().find(|m| m.name.as_str() == map).unwrap();
        m.initial_value.map(|v| v.to_vec())
    };
    let mut expected = table(".rodata").unwrap();
    for p in (object.params.iter()).filter(|p| object.maps[p.map].name.as_str() == ".rodata") {
        let at = p.offset as usize..(p.offset + p.size) as usize;
        expected[at.clone()].copy_from_slice(&rodata[at]);
    }
    assert_eq!(rodata, expected);
    // A later value replaces an earlier one; an enum takes an integer too.
    params.set("mode", "MODE_STRICT").unwrap();
    params.set("mode", "7").unwrap();
    let rodata = loaded_value(&params, ".rodata");
    assert_eq!(param_bytes(&rodata, "mode"), 7u32.to_le_bytes());
    // Without parameters the load is the table's.
    let untouched = bpf_preload::Params::new(object);
    assert_eq!(Some(loaded_value(&untouched, ".rodata")), table(".rodata"));
}

#[test]
fn a_refused_parameter_names_the_variable_and_the_reason() {
    let mut params = bpf_preload::Params::new(Configured::OBJECT);
    let refused = |params: &mut bpf_preload::Params, name: &str, value: &str| {
        params.set(name, value).unwrap_err().to_string()
    };
    assert_eq!(
        refused(&mut params, "target_pid", "2147483648"),
        "parameter target_pid: `2147483648` does not fit `pid_t`: out of range for a signed \
         32-bit integer: it holds -2147483648..=2147483647"
    );
    assert_eq!(
        refused(&mut params, "verbose", "maybe"),
        "parameter verbose: `maybe` does not fit `_Bool`: not a bool: write 1, y, yes, on or \
         true, or 0, n, no, off or false"
    );
    assert_eq!(
        refused(&mut params, "mode", "MODE_LAX"),
        "parameter mode: `MODE_LAX` does not fit `enum mode`: neither one of its enumerators \
         (MODE_OFF, MODE_LOG, MODE_STRICT) nor an integer"
    );
    assert_eq!(
        refused(&mut params, "comm", "0123456789abcdef"),
        "parameter comm: `0123456789abcdef` does not fit `char[16]`: the string's 16 bytes \
         and its terminating NUL do not fit: at most 15 bytes"
    );
    assert_eq!(
        refused(&mut params, "small", "x"),
        "parameter small: `x` does not fit `__s8`: not an integer"
    );
    assert_eq!(
        refused(&mut params, "ports", "1"),
        "parameter ports: no such parameter; the object has: target_pid, verbose, mode, \
         direction, comm, small, big, limit, step, threshold"
    );
    // A refused value changes nothing that was given before.
    params.set("limit", "99").unwrap();
    refused(&mut params, "limit", "-1");
    let limits = loaded_value(&params, ".rodata.limits");
    assert_eq!(param_bytes(&limits, "limit"), 0u32.to_le_bytes());
}

#[test]
fn params_header_lists_every_parameter_with_its_default() {
    let header = bpf_preload::__private::params_header(Configured::OBJECT);
    let lines: Vec<&str> = header.lines().skip(1).collect();
    assert_eq!(
        lines,
        [
            "#define BPF_PRELOAD_PARAMS(X) \\",
            "\tX(target_pid, \"0\", \"pid_t of .rodata\") \\",
            "\tX(verbose, \"N\", \"_Bool of .rodata\") \\",
            "\tX(mode, \"MODE_LOG\", \"enum mode of .rodata: MODE_OFF, MODE_LOG, MODE_STRICT or an integer\") \\",
            "\tX(direction, \"UP\", \"enum direction of .rodata: DOWN, UP or an integer\") \\",
            "\tX(comm, \"\", \"char[16] of .rodata\") \\",
            "\tX(small, \"0\", \"__s8 of .rodata\") \\",
            "\tX(big, \"0\", \"__u64 of .rodata\") \\",
            "\tX(limit, \"10\", \"__u32 of .rodata.limits\") \\",
            "\tX(step, \"1\", \"__u32 of .data\") \\",
            "\tX(threshold, \"0\", \"__u64 of .bss\")",
        ]
    );
}

/// A map pinned by name (`LIBBPF_PIN_BY_NAME`) is created by the first object that
/// declares it, shared once initialised, and reused by the next one, which neither
/// creates, initialises nor freezes it; a third object that declares it otherwise
/// is refused with the first field that differs; the share outlives the objects.
#[test]
fn maps_pinned_by_name_are_created_once_then_reused() {
    let mut fake = Fake::default();
    let writer = loaded(SharedWriter::OBJECT, &mut fake);
    let written = summary(&fake.calls);
    let at = |what: &str| written.iter().position(|c| c == what);
    assert!(
        at("map shared_hits") < at("share shared_hits"),
        "{written:?}"
    );
    assert!(
        at("share shared_hits") < at("prog count_hits"),
        "{written:?}"
    );
    fake.calls.clear();
    let reader = loaded(SharedReader::OBJECT, &mut fake);
    let read = summary(&fake.calls);
    assert!(read.contains(&"reuse shared_hits".to_string()), "{read:?}");
    assert!(
        !read
            .iter()
            .any(|c| c == "map shared_hits" || c.starts_with("share ")),
        "the reader made or shared the map again: {read:?}"
    );
    let map = |l: &bpf_preload::Loaded<fake::FakePin>, fake: &Fake| {
        fake.fds[&l.map_fd("shared_hits").unwrap()]
    };
    assert_eq!(map(&writer, &fake), map(&reader, &fake), "one map");
    let prog = fake.fds[&reader.program_fd("copy_hits").unwrap()];
    assert!(
        fake.objects[prog].holds.contains(&map(&writer, &fake)),
        "the reader's program holds the writer's map"
    );

    let before = fake.objects.len();
    let err = load(SharedMismatch::OBJECT, &mut fake)
        .map(|l| l.free(&mut fake))
        .unwrap_err();
    assert_eq!(err.errno, Errno::EINVAL);
    assert_eq!(
        err.step,
        Step::ReuseShared {
            map: "shared_hits",
            field: "max_entries",
            shared: 1,
            ours: 2
        }
    );
    assert!(
        fake.objects[before..].iter().all(|o| o.refs == 0),
        "the refused object left something"
    );

    writer.free(&mut fake);
    reader.free(&mut fake);
    assert_eq!(fake.shared.len(), 1, "the share outlives its objects");
    fake.drop_shared();
    assert_nothing_left(&fake, "shared maps");
}

/// A failure at every call of a load that shares a map, and of one that reuses it,
/// leaves nothing but what was shared before; a failed load unshares what it shared.
#[test]
fn a_failed_load_unshares_what_it_shared() {
    for (object, shared_before) in [(SharedWriter::OBJECT, false), (SharedReader::OBJECT, true)] {
        let mut counter = Fake::default();
        if shared_before {
            loaded(SharedWriter::OBJECT, &mut counter).free(&mut counter);
        }
        let start = counter.fallible;
        loaded(object, &mut counter).free(&mut counter);
        let total = counter.fallible - start;
        for n in 1..=total {
            let mut fake = Fake::default();
            if shared_before {
                loaded(SharedWriter::OBJECT, &mut fake).free(&mut fake);
            }
            fake.fail_at = fake.fallible + n;
            let context = format!("{}: failing call {n} of {total}", object.name);
            let err = match load(object, &mut fake) {
                Ok(l) => {
                    l.free(&mut fake);
                    continue;
                }
                Err(e) => e,
            };
            assert_eq!(err.errno, Errno::EINTR, "{context}: {err}");
            assert_eq!(
                fake.shared.len(),
                usize::from(shared_before),
                "{context}: {:?}",
                fake.shared
            );
            fake.drop_shared();
            assert_nothing_left(&fake, &context);
        }
    }
}

/// An arena's `__arena` globals are written through a mapping once it is created, at
/// its `map_extra`, before any program loads; instructions reach them as offsets
/// into the arena (`BPF_PSEUDO_MAP_IDX_VALUE`), as libbpf relocates them.
#[test]
fn arena_globals_are_written_before_programs_load() {
    let mut fake = Fake::default();
    let l = loaded(ArenaCounter::OBJECT, &mut fake);
    l.free(&mut fake);
    assert_nothing_left(&fake, "arena_counter");
    assert_eq!(
        summary(&fake.calls),
        [
            "btf",
            "map arena_co.bss",
            "map arena",
            "arena arena = 16 bytes",
            "prog bump",
            "pin arena = arena",
            "unpin arena",
            "close bump",
            "close arena",
            "close arena_co.bss",
            "close btf",
        ]
    );
    let mut data = 40u64.to_ne_bytes().to_vec();
    data.extend_from_slice(&0u64.to_ne_bytes());
    assert!(fake.calls.contains(&Call::MapArena {
        map: "arena".into(),
        map_extra: 1 << 40,
        pages: 2,
        data,
    }));
    let Some(Call::ProgLoad {
        insns, fd_array, ..
    }) = fake
        .calls
        .iter()
        .find(|c| matches!(c, Call::ProgLoad { .. }))
    else {
        panic!("no program loaded");
    };
    // `runs` (at byte 8 of the arena), then `start` (at 0), then `seen` in `.bss`.
    let ld = |at: usize| (insns[at * 8 + 1] >> 4, &insns[at * 8 + 12..at * 8 + 16]);
    assert_eq!(
        ld(0),
        (abi::BPF_PSEUDO_MAP_IDX_VALUE, &8i32.to_le_bytes()[..])
    );
    assert_eq!(
        ld(6),
        (abi::BPF_PSEUDO_MAP_IDX_VALUE, &0i32.to_le_bytes()[..])
    );
    let arena = |at: usize| i32::from_le_bytes(insns[at * 8 + 4..at * 8 + 8].try_into().unwrap());
    assert!(fd_array.contains(&(arena(0) as u32, "arena".to_string())));
    assert_eq!(arena(0), arena(6));
}

/// A module cannot map an arena: an object with `__arena` globals fails at that
/// step, naming the arena, and leaves nothing behind.
#[test]
fn a_module_refuses_arena_globals_and_leaves_nothing() {
    let mut fake = Fake {
        as_module: true,
        ..Fake::default()
    };
    let Err(err) = load(ArenaCounter::OBJECT, &mut fake) else {
        panic!("an arena with globals loaded in a module");
    };
    assert_eq!(err.step, Step::MapArena { map: "arena" });
    assert_eq!(err.errno, Errno::EOPNOTSUPP);
    assert!(err.to_string().contains("it runs in no process"), "{err}");
    assert_nothing_left(&fake, "arena_counter");
}

/// A program that replaces a function of another BPF program (freplace) is loaded with
/// that program's fd, opened by its pin, and the function's id in its BTF, as libbpf's
/// `bpf_program__set_attach_target(prog, fd, "verdict")` gives them; the fd is closed
/// once the program holds its target, and the link attaches to it.
#[test]
fn freplace_loads_against_the_pinned_program_it_replaces() {
    let mut fake = Fake::default();
    let l = loaded(FreplaceVerdict::OBJECT, &mut fake);
    l.free(&mut fake);
    assert_nothing_left(&fake, "freplace_verdict");
    let target = fake::FREPLACE_TARGET;
    assert_eq!(
        summary(&fake.calls),
        [
            "btf".to_string(),
            format!("target {}:verdict", fake::FREPLACE_TARGET),
            "prog new_verdict".into(),
            format!("close {target}"),
            "link new_verdict".into(),
            // The link, which the fake names after its program.
            "pin new_verdict = new_verdict".into(),
            "unpin new_verdict".into(),
            "close new_verdict".into(),
            "close new_verdict".into(),
            "close btf".into(),
        ]
    );
    let Some(Call::ProgLoad {
        prog_type,
        attach_btf_id,
        attach_btf_obj,
        ..
    }) = fake
        .calls
        .iter()
        .find(|c| matches!(c, Call::ProgLoad { .. }))
    else {
        panic!("no program loaded");
    };
    assert_eq!(*prog_type, abi::BPF_PROG_TYPE_EXT);
    // `verdict` is the second function of the target's BTF in the fake.
    assert_eq!(*attach_btf_id, fake::FIRST_BTF_ID + 1);
    assert_eq!(attach_btf_obj.as_deref(), Some(target));
}

/// Without its target, or in a module (which opens no pin), the load fails at that
/// step, naming the program, the function and the pin, and leaves nothing behind.
#[test]
fn freplace_without_its_target_fails_naming_it() {
    for (fake, errno) in [
        (
            Fake {
                pinned_programs: Vec::new(),
                ..Fake::default()
            },
            Errno::ENOENT,
        ),
        (
            Fake {
                as_module: true,
                ..Fake::default()
            },
            Errno::EOPNOTSUPP,
        ),
    ] {
        let mut fake = fake;
        let Err(err) = load(FreplaceVerdict::OBJECT, &mut fake) else {
            panic!("loaded without its target");
        };
        assert_eq!(
            err.step,
            Step::FindInProgram {
                program: "new_verdict",
                target: "verdict",
                pin: fake::FREPLACE_TARGET,
            }
        );
        assert_eq!(err.errno, errno);
        assert_nothing_left(&fake, "freplace_verdict");
    }
}
