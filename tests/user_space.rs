//! Tier 2: the examples loaded into the running kernel from user space, each scenario
//! on its own bpffs inside this process's private mount namespace, and checked through
//! the kernel (object info by fd and id, pinned files, iterator output, map contents).
//!
//! A custom harness: a mount namespace needs a single-threaded process, and counting
//! this process's fds needs nothing else running beside the scenario.

use std::path::{Path, PathBuf};

use bpf_preload::abi;
use bpf_preload::testing::FailNth;
use bpf_preload::testing::{KernelBtfId, TargetFinder};
use bpf_preload::user::{self, Mount, UserBackend};
use bpf_preload::{load, Errno, Fd, Object, Preload};
use counters::Counters;
use externs::Externs;
use iterators::Iterators;
use loader_inner_maps::LoaderInnerMaps;
use lpm_maps::LpmMaps;
use map_kinds::MapKinds;
use preload_tests::{
    assert_all_gone, btf_oracle, dir_names, id_of, insert_inner, kernel_tier_missing, name_of,
    open_fds, test_run, tier_can_run, Kind, Recorder,
};
use shared_reader::SharedReader;
use shared_writer::SharedWriter;
use tcp_cc::TcpCc;
use tcp_cc_link::TcpCcLink;
use timer_tick::TimerTick;

/// The counters object with every map it can freeze frozen once loaded.
#[bpf_preload::bpf_preload(
    obj = "../examples/counters/bpf/counters.bpf.o",
    name = "frozen_counters",
    pin_data,
    freeze_all
)]
struct FrozenCounters;

/// Map kinds whose slots the loader fills before it freezes them.
#[bpf_preload::bpf_preload(
    obj = "../examples/map_kinds/bpf/map_kinds.bpf.o",
    name = "frozen_map_kinds",
    freeze_all
)]
struct FrozenMapKinds;

/// Global variables set by the attribute, as a loader sets them through the skeleton
/// (`tests/fixtures/src/config.bpf.c`): each is the value its program tests for.
#[bpf_preload::bpf_preload(
    obj = "fixtures/config.bpf.o",
    name = "configured",
    pin_data,
    set(
        target_pid = -1234,
        verbose = true,
        mode = MODE_STRICT,
        direction = DOWN,
        comm = "sshd",
        ports = [22, 443],
        small = -128,
        big = 0xffff_ffff_ffff_fffe,
        key = b"\xde\xad\xbe\xef",
        names = ["a", "b"],
        limit = 99,
        step = 3,
        threshold = 1000,
    )
)]
struct Configured;

/// The same values, given as text to the parameters (`params(...)`) at load time, as
/// an object module's are by `modprobe`; the arrays text cannot give by `set(...)`.
#[bpf_preload::bpf_preload(
    obj = "fixtures/config.bpf.o",
    name = "parameterised",
    set(ports = [22, 443], key = b"\xde\xad\xbe\xef", names = ["a", "b"]),
    params(target_pid, verbose, mode, direction, comm, small, big, limit, step, threshold)
)]
struct Parameterised;

/// The same object with the values it was compiled with.
#[bpf_preload::bpf_preload(obj = "fixtures/config.bpf.o", name = "unconfigured", pin_data)]
struct Unconfigured;

/// Programs whose sections name no target, given theirs by the attribute, beside twins
/// whose sections name the same (`tests/fixtures/src/attach_target.bpf.c`).
#[bpf_preload::bpf_preload(
    obj = "fixtures/attach_target.bpf.o",
    attach_target(dump = "bpf_map", on_enter = "sys_enter")
)]
struct AttachTargets;

/// `shared_hits` pinned by name, declared with two entries where `shared_writer`'s has
/// one (`tests/fixtures/src/shared_mismatch.bpf.c`).
#[bpf_preload::bpf_preload(obj = "fixtures/shared_mismatch.bpf.o")]
struct SharedMismatch;

const EXAMPLES: [&Object; 13] = [
    Configured::OBJECT,
    AttachTargets::OBJECT,
    Unconfigured::OBJECT,
    Iterators::OBJECT,
    Counters::OBJECT,
    Externs::OBJECT,
    MapKinds::OBJECT,
    LpmMaps::OBJECT,
    LoaderInnerMaps::OBJECT,
    FrozenCounters::OBJECT,
    FrozenMapKinds::OBJECT,
    TcpCc::OBJECT,
    TcpCcLink::OBJECT,
];

fn main() {
    let args = Args::parse(std::env::args().skip(1));
    let scenarios: [(&str, fn()); 17] = [
        (
            "maps_pinned_by_name_are_shared_as_libbpf_shares_them",
            maps_pinned_by_name_are_shared_as_libbpf_shares_them,
        ),
        (
            "globals_set_by_the_attribute_reach_the_kernel",
            globals_set_by_the_attribute_reach_the_kernel,
        ),
        (
            "values_given_to_parameters_reach_the_kernel",
            values_given_to_parameters_reach_the_kernel,
        ),
        (
            "attach_targets_given_by_the_attribute_attach_as_declared_ones",
            attach_targets_given_by_the_attribute_attach_as_declared_ones,
        ),
        (
            "attach_targets_found_like_the_kernels_btf_says",
            attach_targets_found_like_the_kernels_btf_says,
        ),
        (
            "iterators_list_our_maps_and_programs",
            iterators_list_our_maps_and_programs,
        ),
        (
            "counters_count_and_match_the_table",
            counters_count_and_match_the_table,
        ),
        ("free_leaves_nothing", free_leaves_nothing),
        (
            "externs_resolve_as_the_running_kernel_says",
            externs_resolve_as_the_running_kernel_says,
        ),
        (
            "maps_completed_at_load_time_work",
            maps_completed_at_load_time_work,
        ),
        (
            "lpm_tries_keyed_by_arrays_load_without_their_btf",
            lpm_tries_keyed_by_arrays_load_without_their_btf,
        ),
        (
            "inner_maps_given_by_the_attribute_are_the_templates",
            inner_maps_given_by_the_attribute_are_the_templates,
        ),
        (
            "rodata_is_bound_to_every_program_as_libbpf_binds_it",
            rodata_is_bound_to_every_program_as_libbpf_binds_it,
        ),
        (
            "timer_ticks_while_its_map_is_held",
            timer_ticks_while_its_map_is_held,
        ),
        (
            "struct_ops_congestion_control_carries_traffic",
            struct_ops_congestion_control_carries_traffic,
        ),
        (
            "failure_at_every_call_leaves_nothing",
            failure_at_every_call_leaves_nothing,
        ),
        (
            "frozen_maps_refuse_syscalls_while_programs_write",
            frozen_maps_refuse_syscalls_while_programs_write,
        ),
    ];
    let selected: Vec<(&str, fn())> = scenarios
        .into_iter()
        .filter(|(name, _)| args.selects(name))
        .collect();
    if args.list {
        for (name, _) in &selected {
            println!("{name}: test");
        }
        if !args.terse {
            println!("\n{} tests, 0 benchmarks", selected.len());
        }
        return;
    }
    if selected.is_empty() {
        println!("\ntest result: ok. 0 passed; 0 failed; 0 ignored");
        return;
    }
    if !tier_can_run("tier 2 (real kernel, user backend)", kernel_tier_missing()) {
        println!("0 passed, 0 failed, {} skipped", selected.len());
        return;
    }
    user::enter_private_mount_namespace().expect("private mount namespace");
    // Tracepoint ids live in tracefs; mount it where the backend looks, in our
    // namespace only.
    let _tracefs = (!Path::new("/sys/kernel/tracing/events").exists())
        .then(|| Mount::at("/sys/kernel/tracing".into(), c"tracefs").expect("mount tracefs"));

    let (mut passed, mut failed) = (0, 0);
    for (name, scenario) in selected {
        match std::panic::catch_unwind(scenario) {
            Ok(()) => {
                println!("test {name} ... ok");
                passed += 1;
            }
            Err(_) => {
                println!("test {name} ... FAILED");
                failed += 1;
            }
        }
    }
    let verdict = if failed == 0 { "ok" } else { "FAILED" };
    println!("\ntest result: {verdict}. {passed} passed; {failed} failed; 0 ignored");
    if failed > 0 {
        std::process::exit(101);
    }
}

/// The command line as libtest reads it, for the parts that matter here (IDEs and
/// nextest call `--list`, people pass name filters): `--list` (with `--format terse`,
/// no summary), positional substring filters, `--exact`, `--skip FILTER`, and
/// `--ignored` (no scenario is ignored: it selects none). Other options are accepted
/// and change nothing.
#[derive(Default)]
struct Args {
    list: bool,
    terse: bool,
    exact: bool,
    ignored: bool,
    filters: Vec<String>,
    skip: Vec<String>,
}

impl Args {
    fn parse(args: impl Iterator<Item = String>) -> Self {
        let mut parsed = Args::default();
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => {
                    (flag.to_string(), Some(value.to_string()))
                }
                _ => (arg.clone(), None),
            };
            // The options of libtest that take a value.
            let mut value = || inline.clone().or_else(|| args.next()).unwrap_or_default();
            match flag.as_str() {
                "--list" => parsed.list = true,
                "--exact" => parsed.exact = true,
                "--ignored" => parsed.ignored = true,
                "--format" => parsed.terse = value() == "terse",
                "--skip" => parsed.skip.push(value()),
                "--test-threads" | "--color" | "--logfile" | "-Z" | "--report-time" => {
                    value();
                }
                _ if flag.starts_with('-') => {}
                _ => parsed.filters.push(arg),
            }
        }
        parsed
    }

    /// Whether the scenario `name` is one the command line asks for.
    fn selects(&self, name: &str) -> bool {
        let matches = |filter: &String| {
            if self.exact {
                name == filter
            } else {
                name.contains(filter.as_str())
            }
        };
        !self.ignored
            && (self.filters.is_empty() || self.filters.iter().any(matches))
            && !self.skip.iter().any(matches)
    }
}

/// The syscall-program lookup every backend uses agrees with the kernel's BTF file.
fn attach_targets_found_like_the_kernels_btf_says() {
    let vmlinux = std::fs::read("/sys/kernel/btf/vmlinux").unwrap();
    let mut backend = UserBackend::new("/nonexistent");
    let fds_before = open_fds();
    for (name, kind) in [
        ("bpf_iter_bpf_map", abi::BTF_KIND_FUNC),
        ("btf_trace_sys_enter", abi::BTF_KIND_TYPEDEF),
        ("bpf_lsm_path_mkdir", abi::BTF_KIND_FUNC),
    ] {
        let expected = btf_oracle::find_type_id(&vmlinux, name, kind).unwrap();
        let found = btf_oracle::find_in_vmlinux(&mut backend, name, kind).unwrap();
        assert_eq!(
            found,
            KernelBtfId {
                id: expected,
                btf_obj_fd: None
            },
            "{name}"
        );
    }
    let missing =
        btf_oracle::find_in_vmlinux(&mut backend, "no_such_function_here", abi::BTF_KIND_FUNC);
    assert_eq!(missing, Err(Errno::ENOENT));

    // One finder for a whole load: asked twice, it answers the same.
    let mut finder = TargetFinder::new(&mut backend, "bpf_lsm_path_mkdir".len()).unwrap();
    let first = finder.find(&mut backend, "bpf_lsm_path_mkdir", abi::BTF_KIND_FUNC);
    let again = finder.find(&mut backend, "bpf_lsm_path_mkdir", abi::BTF_KIND_FUNC);
    let expected =
        btf_oracle::find_type_id(&vmlinux, "bpf_lsm_path_mkdir", abi::BTF_KIND_FUNC).unwrap();
    assert_eq!(first.map(|f| f.id), Ok(expected));
    assert_eq!(again, first);
    let longer = finder.find(
        &mut backend,
        "a_name_longer_than_the_finder_holds",
        abi::BTF_KIND_FUNC,
    );
    assert_eq!(longer, Err(Errno::ENAMETOOLONG));
    finder.close(&mut backend);
    assert_eq!(
        open_fds(),
        fds_before,
        "the lookups close their map and program"
    );
}

/// A map of the test's own, to find in the iterator's output.
fn create_array_map(backend: &mut UserBackend, name: &str) -> Fd {
    let mut map_name = [0u8; 16];
    map_name[..name.len()].copy_from_slice(name.as_bytes());
    let mut attr = abi::MapCreateAttr {
        map_type: abi::BPF_MAP_TYPE_ARRAY,
        key_size: 4,
        value_size: 8,
        max_entries: 3,
        map_name,
        ..Default::default()
    };
    // SAFETY: MAP_CREATE reads no pointers.
    unsafe { bpf_preload::testing::bpf(backend, abi::BPF_MAP_CREATE, &mut attr) }
        .expect("create the test's map")
}

fn lookup<V: Default>(backend: &mut UserBackend, fd: Fd, key: u32) -> Result<V, Errno> {
    let mut value = V::default();
    let mut attr = abi::MapElemAttr {
        map_fd: fd,
        key: &key as *const u32 as u64,
        value: &mut value as *mut V as u64,
        ..Default::default()
    };
    // SAFETY: key and value are live and of the map's key and value sizes.
    unsafe { bpf_preload::testing::bpf(backend, abi::BPF_MAP_LOOKUP_ELEM, &mut attr) }?;
    Ok(value)
}

/// The object's own directory in a bpffs mount, as the kernel API would give it (the
/// mount's root may hold the kernel's own `maps.debug`/`progs.debug`).
fn object_dir(fs: &Mount, object: &Object) -> PathBuf {
    let dir = fs.path().join(object.name.as_str());
    std::fs::create_dir(&dir).unwrap();
    dir
}

fn close(fd: Fd) {
    // SAFETY: an fd this test owns, closed once.
    unsafe { libc::close(fd as i32) };
}

fn iterators_list_our_maps_and_programs() {
    let fs = Mount::bpffs().unwrap();
    let dir = object_dir(&fs, Iterators::OBJECT);
    let mut backend = UserBackend::new(&dir);
    let own_map = create_array_map(&mut backend, "pt_own_map");
    let own_map_id = id_of(&mut backend, Kind::Map, own_map).unwrap();

    let loaded = load(Iterators::OBJECT, &mut backend).unwrap_or_else(|e| panic!("{e}"));
    let notices = backend.take_notices().join("\n");
    assert!(
        notices.contains("`maps.debug` as `maps_debug`"),
        "the renamed pin is reported: {notices}"
    );
    assert_eq!(dir_names(&dir), ["maps_debug", "progs_debug"]);

    // Lines are "id name max_entries".
    let maps = std::fs::read_to_string(dir.join("maps_debug")).unwrap();
    let has_map = |id: u32, name: &str, max: u32| {
        maps.lines().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f == [id.to_string().as_str(), name, max.to_string().as_str()]
        })
    };
    assert!(
        has_map(own_map_id, "pt_own_map", 3),
        "own map missing:\n{maps}"
    );
    let rodata = loaded.map_fd(".rodata").unwrap();
    let rodata_id = id_of(&mut backend, Kind::Map, rodata).unwrap();
    assert!(
        has_map(rodata_id, "iterator.rodata", 1),
        "object's .rodata missing:\n{maps}"
    );

    // Lines are "id name attach_target [target_prog]".
    let progs = std::fs::read_to_string(dir.join("progs_debug")).unwrap();
    for (prog, target) in [
        ("dump_bpf_map", "bpf_iter_bpf_map"),
        ("dump_bpf_prog", "bpf_iter_bpf_prog"),
    ] {
        let fd = loaded.program_fd(prog).unwrap();
        let id = id_of(&mut backend, Kind::Prog, fd).unwrap().to_string();
        assert!(
            progs
                .lines()
                .any(|l| l.split_whitespace().take(3).eq([id.as_str(), prog, target])),
            "{prog} (id {id}, {target}) missing:\n{progs}"
        );
    }
    loaded.free(&mut backend);
    close(own_map);
}

fn counters_count_and_match_the_table() {
    const CALLS: u64 = 57;
    let fs = Mount::bpffs().unwrap();
    let dir = object_dir(&fs, Counters::OBJECT);
    let mut backend = UserBackend::new(&dir);
    let loaded = load(Counters::OBJECT, &mut backend).unwrap_or_else(|e| panic!("{e}"));
    let object = Counters::OBJECT;

    for _ in 0..CALLS {
        // SAFETY: getppid has no preconditions.
        unsafe { libc::syscall(libc::SYS_getppid) };
    }
    let pin = |name: &str| dir.join(name);
    let counts = backend.obj_get(&pin("counts_by_pid")).unwrap();
    // SAFETY: getpid has no preconditions.
    let tgid = unsafe { libc::getpid() } as u32;
    let [tp, raw_tp, tp_btf]: [u64; 3] = lookup(&mut backend, counts, tgid).unwrap();
    assert_eq!(
        (tp, raw_tp, tp_btf),
        (CALLS, CALLS, CALLS),
        "tracepoint, raw_tp, tp_btf"
    );

    let bss = backend.obj_get(&pin("bss")).unwrap();
    let total_hits: u64 = lookup(&mut backend, bss, 0).unwrap();
    assert!(
        total_hits >= 3 * CALLS,
        "total_hits {total_hits} < {}",
        3 * CALLS
    );
    let data = backend.obj_get(&pin("data")).unwrap();
    let generation: u32 = lookup(&mut backend, data, 0).unwrap();
    assert_eq!(generation, 1, ".data keeps its initial value");

    // .rodata was written and frozen: it reads back, and cannot be changed.
    let rodata = backend.obj_get(&pin("rodata")).unwrap();
    let watched: u32 = lookup(&mut backend, rodata, 0).unwrap();
    assert_eq!(watched, libc::SYS_getppid as u32);
    let (key, value) = (0u32, 0u32);
    let mut attr = abi::MapElemAttr {
        map_fd: rodata,
        key: &key as *const u32 as u64,
        value: &value as *const u32 as u64,
        ..Default::default()
    };
    // SAFETY: key and value are live u32s, the map's sizes.
    let update =
        unsafe { bpf_preload::testing::bpf(&mut backend, abi::BPF_MAP_UPDATE_ELEM, &mut attr) };
    assert_eq!(update, Err(Errno::EPERM), "update of frozen .rodata");

    // Every pinned object is what the table says.
    let mut expected_pins = Vec::new();
    for (i, map) in object.maps.iter().enumerate() {
        let Some(name) = map.pin else { continue };
        expected_pins.push(name.to_string());
        let fd = backend.obj_get(&pin(name)).unwrap();
        let info: abi::MapInfo = backend.info_by_fd(fd).unwrap();
        let got = (
            info.type_,
            info.key_size,
            info.value_size,
            info.max_entries,
            info.map_flags,
        );
        let want = (
            map.map_type,
            map.key_size,
            map.value_size,
            map.max_entries,
            map.map_flags,
        );
        assert_eq!(got, want, "map {i} `{}` pinned as {name}", map.name);
        assert_eq!(
            name_of(&info.name),
            map.kernel_name,
            "map `{}` name",
            map.name
        );
        close(fd);
    }
    for link in object.links {
        let prog = &object.programs[link.program];
        let name = link.pin.expect("every counters link is pinned");
        expected_pins.push(name.to_string());
        let fd = backend.obj_get(&pin(name)).unwrap();
        let link_info: abi::LinkInfo = backend.info_by_fd(fd).unwrap();
        let prog_fd = backend
            .fd_by_id(bpf_preload::ObjectKind::Program, link_info.prog_id)
            .unwrap();
        let info: abi::ProgInfo = backend.info_by_fd(prog_fd).unwrap();
        assert_eq!(info.type_, prog.prog_type, "program `{}` type", prog.name);
        assert_eq!(name_of(&info.name), &prog.name[..prog.name.len().min(15)]);
        assert!(info.gpl_compatible(), "program `{}` is GPL", prog.name);
        let our_fd = loaded.program_fd(prog.name.as_str()).unwrap();
        assert_eq!(info.id, id_of(&mut backend, Kind::Prog, our_fd).unwrap());
        close(prog_fd);
        close(fd);
    }
    expected_pins.sort();
    assert_eq!(dir_names(&dir), expected_pins);

    for fd in [counts, bss, data, rodata] {
        close(fd);
    }
    loaded.free(&mut backend);
}

/// `freeze_all`: user space can no longer write the maps (EPERM, and the kernel says
/// `frozen` in the fd's fdinfo), while the programs still insert and count in them.
fn frozen_maps_refuse_syscalls_while_programs_write() {
    const CALLS: u64 = 23;
    let object = FrozenCounters::OBJECT;
    let fs = Mount::bpffs().unwrap();
    let dir = object_dir(&fs, object);
    let mut backend = UserBackend::new(&dir);
    let loaded = load(object, &mut backend).unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..CALLS {
        // SAFETY: getppid has no preconditions.
        unsafe { libc::syscall(libc::SYS_getppid) };
    }
    // SAFETY: getpid has no preconditions.
    let tgid = unsafe { libc::getpid() } as u32;
    let counts = backend.obj_get(&dir.join("counts_by_pid")).unwrap();
    let bss = backend.obj_get(&dir.join("bss")).unwrap();
    let events = backend.obj_get(&dir.join("events")).unwrap();

    // The programs inserted this process's key into a frozen hash map and count on.
    let [tp, raw_tp, tp_btf]: [u64; 3] = lookup(&mut backend, counts, tgid).unwrap();
    assert_eq!(
        (tp, raw_tp, tp_btf),
        (CALLS, CALLS, CALLS),
        "counted while frozen"
    );
    let total_hits: u64 = lookup(&mut backend, bss, 0).unwrap();
    assert!(total_hits >= 3 * CALLS, "total_hits {total_hits}");

    let frozen = |fd: Fd| {
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap();
        info.lines()
            .any(|l| l.split_whitespace().eq(["frozen:", "1"]))
    };
    assert!(frozen(counts), "counts_by_pid is frozen");
    assert!(frozen(bss), ".bss is frozen");
    assert!(!frozen(events), "the ring buffer is left alone");

    let (key, value) = (tgid, [0u64; 3]);
    for (fd, name) in [(counts, "counts_by_pid"), (bss, ".bss")] {
        let key = if fd == bss { 0 } else { key };
        let mut attr = abi::MapElemAttr {
            map_fd: fd,
            key: &key as *const u32 as u64,
            value: value.as_ptr() as u64,
            ..Default::default()
        };
        // SAFETY: key is a live u32, value 24 live bytes (at least each map's value).
        let update =
            unsafe { bpf_preload::testing::bpf(&mut backend, abi::BPF_MAP_UPDATE_ELEM, &mut attr) };
        assert_eq!(update, Err(Errno::EPERM), "update of frozen {name}");
        // Delete takes nothing after the key (the kernel checks the rest is zero).
        let mut attr = abi::MapElemAttr {
            map_fd: fd,
            key: &key as *const u32 as u64,
            ..Default::default()
        };
        // SAFETY: the key is a live u32.
        let delete =
            unsafe { bpf_preload::testing::bpf(&mut backend, abi::BPF_MAP_DELETE_ELEM, &mut attr) };
        assert_eq!(delete, Err(Errno::EPERM), "delete from frozen {name}");
    }
    // The refused calls changed nothing: the count goes on from where it was.
    // SAFETY: getppid has no preconditions.
    unsafe { libc::syscall(libc::SYS_getppid) };
    let [tp, ..]: [u64; 3] = lookup(&mut backend, counts, tgid).unwrap();
    assert_eq!(tp, CALLS + 1, "still counting");

    for fd in [counts, bss, events] {
        close(fd);
    }
    loaded.free(&mut backend);
}

/// The ids of everything `loaded` holds, by kind.
fn ids_of(
    backend: &mut UserBackend,
    object: &Object,
    loaded: &bpf_preload::Loaded<user::UserPin>,
) -> Vec<(Kind, u32)> {
    let mut fds: Vec<(Kind, Fd)> = loaded
        .btf_fd()
        .map(|fd| (Kind::Btf, fd))
        .into_iter()
        .collect();
    fds.extend(
        object
            .maps
            .iter()
            .map(|m| (Kind::Map, loaded.map_fd(m.name.as_str()).unwrap())),
    );
    fds.extend(
        object
            .programs
            .iter()
            .map(|p| (Kind::Prog, loaded.program_fd(p.name.as_str()).unwrap())),
    );
    fds.extend(object.links.iter().map(|l| {
        (
            Kind::Link,
            loaded
                .link_fd(object.programs[l.program].name.as_str())
                .unwrap(),
        )
    }));
    fds.into_iter()
        .map(|(k, fd)| (k, id_of(backend, k, fd).unwrap()))
        .collect()
}

fn free_leaves_nothing() {
    for object in EXAMPLES {
        let fs = Mount::bpffs().unwrap();
        let dir = object_dir(&fs, object);
        let mut backend = UserBackend::new(&dir);
        let fds_before = open_fds();
        let loaded = load(object, &mut backend).unwrap_or_else(|e| panic!("{e}"));
        let ids = ids_of(&mut backend, object, &loaded);
        assert!(
            !dir_names(&dir).is_empty(),
            "{}: something is pinned",
            object.name
        );
        loaded.free(&mut backend);
        assert_eq!(
            dir_names(&dir),
            Vec::<String>::new(),
            "{}: pins left",
            object.name
        );
        assert_eq!(open_fds(), fds_before, "{}: fds left open", object.name);
        assert_all_gone(&mut backend, &ids, object.name.as_str());
    }
}

fn failure_at_every_call_leaves_nothing() {
    for object in EXAMPLES {
        let fs = Mount::bpffs().unwrap();
        let dir = object_dir(&fs, object);
        // Count the calls of a successful load.
        let mut counter = FailNth::new(UserBackend::new(&dir), 0);
        let loaded = load(object, &mut counter).unwrap_or_else(|e| panic!("{e}"));
        let total = counter.calls();
        loaded.free(&mut counter);
        assert!(total > 5, "{}: only {total} calls?", object.name);

        for n in 1..=total {
            let fds_before = open_fds();
            let mut backend = Recorder::new(FailNth::new(UserBackend::new(&dir), n));
            let err = match load(object, &mut backend) {
                // Only a bind of `.rodata` may fail without failing the load (as in
                // libbpf), and the backend says so.
                Ok(loaded) => {
                    let context = format!("{}: call {n} of {total} failed", object.name);
                    let notices = backend.inner.inner.take_notices();
                    let binds = notices
                        .iter()
                        .filter(|n| n.contains("(BPF_PROG_BIND_MAP) failed: EINTR"))
                        .count();
                    assert_eq!(binds, 1, "{context}, yet the load succeeded: {notices:?}");
                    loaded.free(&mut backend);
                    assert_eq!(open_fds(), fds_before, "{context}: fds left open");
                    let created = std::mem::take(&mut backend.created);
                    assert_all_gone(&mut backend.inner.inner, &created, &context);
                    continue;
                }
                Err(e) => e,
            };
            let context = format!(
                "{}: failing call {n} of {total} ({})",
                object.name, err.step
            );
            assert_eq!(
                err.errno,
                Errno::EINTR,
                "{context}: the injected errno is reported"
            );
            assert_eq!(err.object, object.name, "{context}");
            assert_eq!(
                dir_names(&dir),
                Vec::<String>::new(),
                "{context}: pins left"
            );
            assert_eq!(open_fds(), fds_before, "{context}: fds left open");
            let created = std::mem::take(&mut backend.created);
            assert_all_gone(&mut backend.inner.inner, &created, &context);
        }
        println!(
            "  {}: a failure at each of its {total} calls left nothing behind",
            object.name
        );
    }
}

/// The running kernel's configuration, read here independently of the runtime.
fn running_kernel_config() -> String {
    use std::io::Read as _;
    if let Ok(file) = std::fs::File::open("/proc/config.gz") {
        let mut text = String::new();
        flate2::read::GzDecoder::new(file)
            .read_to_string(&mut text)
            .unwrap();
        return text;
    }
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    std::fs::read_to_string(format!("/boot/config-{}", release.trim())).unwrap()
}

/// Every kind of extern, as the iterator prints it, against what the kernel says of
/// itself: its configuration, its release and `/proc/kallsyms`.
fn externs_resolve_as_the_running_kernel_says() {
    let fs = Mount::bpffs().unwrap();
    let dir = object_dir(&fs, Externs::OBJECT);
    let mut backend = UserBackend::new(&dir);
    let loaded = load(Externs::OBJECT, &mut backend).unwrap_or_else(|e| panic!("{e}"));
    let printed = std::fs::read_to_string(dir.join("externs")).unwrap();
    loaded.free(&mut backend);
    let got = |name: &str| -> String {
        printed
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("the iterator printed no {name}:\n{printed}"))
            .to_string()
    };

    let config = running_kernel_config();
    let option = |name: &str| {
        config
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
            .map(str::to_string)
    };
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut numbers = release
        .trim()
        .split(['.', '-', '+'])
        .map(|n| n.parse::<u32>().unwrap_or(0));
    let (major, minor, patch) = (
        numbers.next().unwrap(),
        numbers.next().unwrap(),
        numbers.next().unwrap(),
    );
    let version = (major << 16) + (minor << 8) + patch.min(255);
    let tristate = |v: Option<String>| match v.as_deref() {
        Some("y") => "1",
        Some("m") => "2",
        _ => "0",
    };
    let expected = [
        ("LINUX_KERNEL_VERSION", version.to_string()),
        ("LINUX_HAS_BPF_COOKIE", "1".into()),
        (
            "LINUX_HAS_SYSCALL_WRAPPER",
            tristate(option("CONFIG_ARCH_HAS_SYSCALL_WRAPPER")).into(),
        ),
        ("CONFIG_BPF_SYSCALL", "1".into()),
        ("CONFIG_HZ", option("CONFIG_HZ").unwrap()),
        (
            "CONFIG_BTRFS_FS",
            tristate(option("CONFIG_BTRFS_FS")).into(),
        ),
        ("CONFIG_BPF_PRELOAD_NO_SUCH_OPTION", "0".into()),
        ("bpf_lookup_system_key", "1".into()),
        ("bpf_preload_no_such_kfunc", "0".into()),
    ];
    for (name, value) in expected {
        assert_eq!(got(name), value, "{name}");
    }
    let cc = option("CONFIG_CC_VERSION_TEXT").unwrap();
    let cc: String = cc.trim_matches('"').chars().take(63).collect();
    assert_eq!(got("CONFIG_CC_VERSION_TEXT"), cc, "a string option");
    let kallsyms = std::fs::read_to_string("/proc/kallsyms").unwrap();
    let vfs_read = kallsyms
        .lines()
        .find_map(|l| {
            let mut f = l.split_whitespace();
            let (addr, _, name) = (f.next()?, f.next()?, f.next()?);
            (name == "vfs_read").then(|| addr.trim_start_matches('0').to_string())
        })
        .unwrap();
    assert_eq!(
        got("vfs_read"),
        vfs_read,
        "a typeless ksym is its kallsyms address"
    );
}

/// A map of maps and a program array filled from their static initialisers, a tail
/// call taken through one, a perf event array sized to the possible CPUs, and `.bss`
/// read through an mmap, all checked through the kernel.
fn maps_completed_at_load_time_work() {
    let fs = Mount::bpffs().unwrap();
    let dir = object_dir(&fs, MapKinds::OBJECT);
    let mut backend = UserBackend::new(&dir);
    let loaded = load(MapKinds::OBJECT, &mut backend).unwrap_or_else(|e| panic!("{e}"));
    let fd = |name: &str| loaded.map_fd(name).unwrap();

    // The slots hold what the initialisers name (user space reads them back as ids).
    let inner_id = id_of(&mut backend, Kind::Map, fd("inner_a")).unwrap();
    assert_eq!(lookup::<u32>(&mut backend, fd("outer"), 1), Ok(inner_id));
    assert_eq!(
        lookup::<u32>(&mut backend, fd("outer"), 0),
        Err(Errno::ENOENT)
    );
    let tail_id = id_of(&mut backend, Kind::Prog, loaded.program_fd("tail").unwrap()).unwrap();
    assert_eq!(lookup::<u32>(&mut backend, fd("jumps"), 2), Ok(tail_id));

    let possible = std::fs::read_to_string("/sys/devices/system/cpu/possible").unwrap();
    let cpus: u32 = possible
        .trim()
        .split(',')
        .map(|r| {
            let (a, b) = r.split_once('-').unwrap_or((r, r));
            b.parse::<u32>().unwrap() - a.parse::<u32>().unwrap() + 1
        })
        .sum();
    let info: abi::MapInfo = backend.info_by_fd(fd("events")).unwrap();
    assert_eq!(
        info.max_entries, cpus,
        "perf event array: one entry per possible CPU"
    );

    // Run `enter`: it reads the inner map through the outer one and tail-calls `tail`.
    let (key, value) = (0u32, 7u64);
    let mut attr = abi::MapElemAttr {
        map_fd: fd("inner_a"),
        key: &key as *const u32 as u64,
        value: &value as *const u64 as u64,
        ..Default::default()
    };
    // SAFETY: key and value are live and of the map's sizes.
    unsafe { bpf_preload::testing::bpf(&mut backend, abi::BPF_MAP_UPDATE_ELEM, &mut attr) }
        .unwrap();
    let enter = loaded.program_fd("enter").unwrap();
    assert_eq!(
        test_run(&mut backend, enter),
        Ok(42),
        "the tail call was taken (enter alone returns 3)"
    );

    // `.bss`, mmapped: what the programs wrote.
    let bss = fd(".bss");
    let info: abi::MapInfo = backend.info_by_fd(bss).unwrap();
    assert_ne!(info.map_flags & abi::BPF_F_MMAPABLE, 0);
    // SAFETY: a fresh shared read-only mapping of the map's one value.
    let page = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ,
            libc::MAP_SHARED,
            bss as i32,
            0,
        )
    };
    assert_ne!(page, libc::MAP_FAILED, "mmap of .bss");
    // SAFETY: the mapping holds the two u64 globals, `inner_value` then `tail_calls`.
    let (seen, calls) = unsafe { (*(page as *const u64), *(page as *const u64).add(1)) };
    // SAFETY: the mapping made above, unmapped once.
    unsafe { libc::munmap(page, 4096) };
    assert_eq!((seen, calls), (7, 1), "inner_value, tail_calls");
    loaded.free(&mut backend);
}

/// An LPM trie key of `lpm_maps.bpf.c`: a prefix length, then an IPv4 address.
fn lpm_key(prefixlen: u32, addr: [u8; 4]) -> [u8; 8] {
    let mut key = [0; 8];
    key[..4].copy_from_slice(&prefixlen.to_ne_bytes());
    key[4..].copy_from_slice(&addr);
    key
}

/// `BPF_MAP_UPDATE_ELEM` of an LPM trie of `lpm_maps.bpf.c`.
fn lpm_update(backend: &mut UserBackend, fd: Fd, key: [u8; 8], value: u32) {
    let mut attr = abi::MapElemAttr {
        map_fd: fd,
        key: key.as_ptr() as u64,
        value: &value as *const u32 as u64,
        ..Default::default()
    };
    // SAFETY: key and value are live and of the trie's sizes (8 and 4 bytes).
    unsafe { bpf_preload::testing::bpf(backend, abi::BPF_MAP_UPDATE_ELEM, &mut attr) }
        .expect("update the trie");
}

/// `BPF_MAP_LOOKUP_ELEM` of an LPM trie of `lpm_maps.bpf.c`: the longest prefix's value.
fn lpm_lookup(backend: &mut UserBackend, fd: Fd, key: [u8; 8]) -> Result<u32, Errno> {
    let mut value = 0u32;
    let mut attr = abi::MapElemAttr {
        map_fd: fd,
        key: key.as_ptr() as u64,
        value: &mut value as *mut u32 as u64,
        ..Default::default()
    };
    // SAFETY: key and value are live and of the trie's sizes (8 and 4 bytes).
    unsafe { bpf_preload::testing::bpf(backend, abi::BPF_MAP_LOOKUP_ELEM, &mut attr) }?;
    Ok(value)
}

/// LPM tries keyed by an array, which the kernel refuses with their BTF types (a
/// trie's key type must be a struct): created again without them, on their own and as
/// the inner map of an array and a hash of maps, and working through their outer maps.
fn lpm_tries_keyed_by_arrays_load_without_their_btf() {
    let fs = Mount::bpffs().unwrap();
    let dir = object_dir(&fs, LpmMaps::OBJECT);
    let mut backend = UserBackend::new(&dir);
    let loaded = load(LpmMaps::OBJECT, &mut backend).unwrap_or_else(|e| panic!("{e}"));
    let fd = |name: &str| loaded.map_fd(name).unwrap();

    // What the kernel holds: the trie as the object defines it, without BTF types;
    // `.rodata`, which the kernel takes with them, keeps them.
    let trie: abi::MapInfo = backend.info_by_fd(fd("allowed")).unwrap();
    assert_eq!(
        (trie.type_, trie.key_size, trie.value_size, trie.max_entries),
        (abi::BPF_MAP_TYPE_LPM_TRIE, 8, 4, 16),
        "{trie:?}"
    );
    assert_eq!(
        trie.map_flags & abi::BPF_F_NO_PREALLOC,
        abi::BPF_F_NO_PREALLOC
    );
    assert_eq!(
        (trie.btf_id, trie.btf_key_type_id, trie.btf_value_type_id),
        (0, 0, 0),
        "the trie was created without BTF"
    );
    let rodata: abi::MapInfo = backend.info_by_fd(fd(".rodata")).unwrap();
    assert_ne!(rodata.btf_value_type_id, 0, ".rodata keeps its BTF type");
    for outer in ["by_index", "by_key"] {
        let info: abi::MapInfo = backend.info_by_fd(fd(outer)).unwrap();
        assert_eq!(
            info.btf_key_type_id, 0,
            "{outer}: a map of maps has no BTF types"
        );
    }

    // Both outer maps hold the trie (their templates were made without BTF too, or
    // the outer maps could not have been created).
    let trie_id = trie.id;
    assert_eq!(lookup::<u32>(&mut backend, fd("by_index"), 0), Ok(trie_id));
    assert_eq!(lookup::<u32>(&mut backend, fd("by_key"), 3), Ok(trie_id));

    // 10.0.0.0/8 matches 10.1.2.3: through the outer maps, for the programs and for
    // user space (the trie held in a slot, opened by the id the slot gives).
    lpm_update(&mut backend, fd("allowed"), lpm_key(8, [10, 0, 0, 0]), 42);
    lpm_update(&mut backend, fd("allowed"), lpm_key(24, [10, 9, 9, 0]), 7);
    for program in ["through_array", "through_hash"] {
        let prog = loaded.program_fd(program).unwrap();
        assert_eq!(test_run(&mut backend, prog), Ok(42), "{program}");
    }
    let held = lookup::<u32>(&mut backend, fd("by_index"), 0).unwrap();
    let held = backend
        .fd_by_id(bpf_preload::ObjectKind::Map, held)
        .unwrap();
    assert_eq!(
        lpm_lookup(&mut backend, held, lpm_key(32, [10, 1, 2, 3])),
        Ok(42)
    );
    assert_eq!(
        lpm_lookup(&mut backend, held, lpm_key(32, [10, 9, 9, 200])),
        Ok(7),
        "the longest prefix wins"
    );
    assert_eq!(
        lpm_lookup(&mut backend, held, lpm_key(32, [11, 1, 2, 3])),
        Err(Errno::ENOENT)
    );
    close(held);
    loaded.free(&mut backend);
}

/// Maps of maps declared without their inner map, given one by `inner_map(...)`:
/// `per_cgroup` the definition of the object's `template`, `per_slot` one of its own.
/// The kernel takes at run time only maps like those templates, and the programs
/// count through what it took.
fn inner_maps_given_by_the_attribute_are_the_templates() {
    let fs = Mount::bpffs().unwrap();
    let dir = object_dir(&fs, LoaderInnerMaps::OBJECT);
    let mut backend = UserBackend::new(&dir);
    let loaded = load(LoaderInnerMaps::OBJECT, &mut backend).unwrap_or_else(|e| panic!("{e}"));
    let fd = |name: &str| loaded.map_fd(name).unwrap();
    let run = |backend: &mut UserBackend, program: &str| {
        test_run(backend, loaded.program_fd(program).unwrap())
    };
    for (outer, key, program) in [
        ("per_cgroup", 7, "count_cgroup"),
        ("per_slot", 0, "count_slot"),
    ] {
        assert_eq!(
            run(&mut backend, program),
            Ok(1000),
            "{program}: nothing in {outer} yet"
        );
        // An array of one u64 is the template of both (per_slot's by its definition).
        let array = abi::BPF_MAP_TYPE_ARRAY;
        for (what, (ty, value_size, entries)) in [
            ("a hash", (abi::BPF_MAP_TYPE_HASH, 8, 1)),
            ("4-byte values", (array, 4, 1)),
            ("2 entries", (array, 8, 2)),
        ] {
            assert_eq!(
                insert_inner(&mut backend, fd(outer), key, ty, 4, value_size, entries),
                Err(Errno::EINVAL),
                "{outer} took an inner map unlike its template: {what}"
            );
        }
        insert_inner(&mut backend, fd(outer), key, array, 4, 8, 1)
            .unwrap_or_else(|e| panic!("{outer} refused a map like its template: {e}"));
        assert_eq!(run(&mut backend, program), Ok(1), "{program}");
        assert_eq!(run(&mut backend, program), Ok(2), "{program}");
    }
    loaded.free(&mut backend);
}

/// The ids of the maps program `fd` holds (`map_ids` of its info).
fn prog_map_ids(backend: &mut UserBackend, fd: Fd) -> Vec<u32> {
    let mut ids = [0u32; 16];
    let mut info = abi::ProgInfo {
        nr_map_ids: ids.len() as u32,
        map_ids: ids.as_mut_ptr() as u64,
        ..Default::default()
    };
    let mut attr = abi::InfoByFdAttr {
        bpf_fd: fd,
        info_len: std::mem::size_of::<abi::ProgInfo>() as u32,
        info: &mut info as *mut abi::ProgInfo as u64,
    };
    // SAFETY: `info` is writable for `info_len` bytes, and the array it points to for
    // `nr_map_ids` ids; both live for the call.
    unsafe { bpf_preload::testing::bpf(backend, abi::BPF_OBJ_GET_INFO_BY_FD, &mut attr) }
        .expect("program info");
    let mut ids = ids[..(info.nr_map_ids as usize).min(ids.len())].to_vec();
    ids.sort();
    ids
}

/// bpftool's JSON output of `args`.
fn bpftool_json(args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new("bpftool")
        .arg("-j")
        .args(args)
        .output()
        .expect("bpftool, which this test compares with (Debian package `bpftool`)");
    assert!(
        out.status.success(),
        "bpftool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The names of the maps of `ids`, by bpftool, sorted.
fn map_names_by_bpftool(ids: &[u64]) -> Vec<String> {
    let mut names: Vec<String> = ids
        .iter()
        .map(|id| bpftool_json(&["map", "show", "id", &id.to_string()])["name"].to_string())
        .collect();
    names.sort();
    names
}

/// `.rodata`, which no program of lpm_maps reads, is bound to every program: the
/// kernel lists it in each program's maps, as it does for the same object loaded by
/// libbpf (`bpftool prog loadall`, in this test's bpffs), and `bpftool prog show`
/// prints its `bpf_metadata_*` for our programs as for libbpf's.
fn rodata_is_bound_to_every_program_as_libbpf_binds_it() {
    const OBJECT: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/lpm_maps/bpf/lpm_maps.bpf.o"
    );
    let fs = Mount::bpffs().unwrap();
    let dir = object_dir(&fs, LpmMaps::OBJECT);
    let mut backend = UserBackend::new(&dir);
    let loaded = load(LpmMaps::OBJECT, &mut backend).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(backend.take_notices(), Vec::<String>::new());
    let rodata = id_of(&mut backend, Kind::Map, loaded.map_fd(".rodata").unwrap()).unwrap();

    let libbpf_dir = fs.path().join("libbpf");
    let status = std::process::Command::new("bpftool")
        .args(["prog", "loadall", OBJECT])
        .arg(&libbpf_dir)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("bpftool, which this test compares with (Debian package `bpftool`)");
    assert!(status.success(), "libbpf loads lpm_maps");
    let mut libbpf_ids = Vec::new();
    for (program, outer) in [("through_array", "by_index"), ("through_hash", "by_key")] {
        let fd = loaded.program_fd(program).unwrap();
        let ids = prog_map_ids(&mut backend, fd);
        let outer = id_of(&mut backend, Kind::Map, loaded.map_fd(outer).unwrap()).unwrap();
        let mut expected = vec![rodata, outer];
        expected.sort();
        assert_eq!(ids, expected, "{program}: the map it uses and .rodata");

        let pinned = libbpf_dir.join(program);
        let theirs = bpftool_json(&["prog", "show", "pinned", pinned.to_str().unwrap()]);
        libbpf_ids.push((Kind::Prog, theirs["id"].as_u64().unwrap() as u32));
        let their_maps: Vec<u64> = theirs["map_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| id.as_u64().unwrap())
            .collect();
        let our_maps: Vec<u64> = ids.iter().map(|&id| u64::from(id)).collect();
        assert_eq!(
            map_names_by_bpftool(&our_maps),
            map_names_by_bpftool(&their_maps),
            "{program}: the same maps as libbpf binds"
        );
        let id = id_of(&mut backend, Kind::Prog, fd).unwrap().to_string();
        let ours = bpftool_json(&["prog", "show", "id", &id]);
        assert_eq!(ours["metadata"], theirs["metadata"], "{program}: metadata");
        assert_eq!(
            ours["metadata"]["purpose"], "lpm tries keyed by arrays",
            "{program}"
        );
    }
    std::fs::remove_dir_all(&libbpf_dir).unwrap();
    assert_all_gone(&mut backend, &libbpf_ids, "libbpf's programs");
    loaded.free(&mut backend);
}

/// The premise of the VM scenario `held-state`: a `bpf_timer` ticks on its own while
/// its map has a user reference (here the process's fd), and goes with the map.
fn timer_ticks_while_its_map_is_held() {
    let fs = Mount::bpffs().unwrap();
    let dir = object_dir(&fs, TimerTick::OBJECT);
    let mut backend = UserBackend::new(&dir);
    let loaded = load(TimerTick::OBJECT, &mut backend).unwrap_or_else(|e| panic!("{e}"));
    let ticks = loaded.map_fd("ticks").unwrap();
    let arm = loaded.program_fd("arm").unwrap();
    assert_eq!(test_run(&mut backend, arm), Ok(0), "arm");
    // Ticks every 2 ms: wait for a few, through the kernel's copy of the counter.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut seen = 0;
    while seen < 5 && std::time::Instant::now() < deadline {
        seen = lookup::<u64>(&mut backend, ticks, 0).unwrap();
        std::thread::yield_now();
    }
    assert!(seen >= 5, "the timer ticked {seen} times in 10 s");
    let ids: Vec<(Kind, u32)> = ["ticker", "ticks"]
        .iter()
        .map(|m| {
            let fd = loaded.map_fd(m).unwrap();
            (Kind::Map, id_of(&mut backend, Kind::Map, fd).unwrap())
        })
        .collect();
    loaded.free(&mut backend);
    assert_all_gone(&mut backend, &ids, "timer_tick after free");
}

fn available_congestion_controls() -> String {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_available_congestion_control").unwrap()
}

/// A struct_ops map registers a TCP congestion control, which carries a loopback
/// connection, and is gone after free: registered by the map's update, and through a
/// link (`.struct_ops.link`).
fn struct_ops_congestion_control_carries_traffic() {
    for (object, cc) in [
        (TcpCc::OBJECT, "preload_reno"),
        (TcpCcLink::OBJECT, "preload_renol"),
    ] {
        let registered = |list: &str| list.split_whitespace().any(|c| c == cc);
        assert!(!registered(&available_congestion_controls()), "{cc} before");
        let fs = Mount::bpffs().unwrap();
        let dir = object_dir(&fs, object);
        let mut backend = UserBackend::new(&dir);
        let loaded = load(object, &mut backend).unwrap_or_else(|e| panic!("{e}"));
        let available = available_congestion_controls();
        let used = preload_tests::send_over_loopback(Some(cc), 8 << 20).unwrap();
        let events = loaded.map_fd("cc_events").unwrap();
        let connections = lookup::<u64>(&mut backend, events, 0);
        let window_acks = lookup::<u64>(&mut backend, events, 1);
        let map_id = id_of(&mut backend, Kind::Map, loaded.map_fd(cc).unwrap()).unwrap();
        let links: Vec<u32> = loaded
            .parts()
            .filter_map(|part| match part {
                bpf_preload::Part::StructOpsLink(_, fd) => Some(fd),
                _ => None,
            })
            .map(|fd| id_of(&mut backend, Kind::Link, fd).unwrap())
            .collect();
        loaded.free(&mut backend);

        assert!(registered(&available), "{cc} while loaded: {available}");
        assert_eq!(used, cc);
        assert!(connections.unwrap() >= 1, "{cc}: init ran: {connections:?}");
        assert!(
            window_acks.unwrap() >= 1,
            "{cc}: cong_avoid ran: {window_acks:?}"
        );
        let through_link = object
            .maps
            .iter()
            .any(|m| m.map_flags & abi::BPF_F_LINK != 0);
        assert_eq!(
            links.len(),
            usize::from(through_link),
            "{cc}: struct_ops links"
        );
        let after = available_congestion_controls();
        assert!(
            !registered(&after),
            "{cc} still registered after free: {after}"
        );
        let mut probe = UserBackend::new("/nonexistent");
        assert!(
            !preload_tests::exists(&mut probe, Kind::Map, map_id),
            "{cc}: the struct_ops map outlives free"
        );
        for id in links {
            assert!(
                !preload_tests::exists(&mut probe, Kind::Link, id),
                "{cc}: its link outlives free"
            );
        }
    }
}

/// The value of element 0 of an array map, of `size` bytes.
fn lookup_bytes(backend: &mut UserBackend, fd: Fd, size: usize) -> Vec<u8> {
    let (key, mut value) = (0u32, vec![0u8; size]);
    let mut attr = abi::MapElemAttr {
        map_fd: fd,
        key: &key as *const u32 as u64,
        value: value.as_mut_ptr() as u64,
        ..Default::default()
    };
    // SAFETY: the key is a live u32 and `value` holds `size` bytes, the map's value size.
    unsafe { bpf_preload::testing::bpf(backend, abi::BPF_MAP_LOOKUP_ELEM, &mut attr) }
        .expect("lookup of element 0");
    value
}

/// `set(...)` through the kernel: `.rodata` holds the values (read back by fd, and
/// frozen), `.data` and `.bss` too, and the program, which tests each variable for the
/// value the attribute gives it, returns one bit per match and adds `step` (3, from
/// `.data`) to a counter on every run. The same object without `set(...)` returns no
/// bit and counts by its own `step` (1).
fn globals_set_by_the_attribute_reach_the_kernel() {
    const RUNS: u64 = 5;
    for (object, bits, step) in [
        (Configured::OBJECT, 0xfff_u32, 3u64),
        (Unconfigured::OBJECT, 0, 1),
    ] {
        let name = object.name.as_str();
        let fs = Mount::bpffs().unwrap();
        let dir = object_dir(&fs, object);
        let mut backend = UserBackend::new(&dir);
        let loaded = load(object, &mut backend).unwrap_or_else(|e| panic!("{e}"));
        let check = loaded.program_fd("check").unwrap();
        for _ in 0..RUNS {
            let retval = test_run(&mut backend, check).unwrap();
            assert_eq!(
                retval, bits,
                "{name}: the bits of the values the program saw"
            );
        }

        let table = |map: &str| object.maps.iter().find(|m| m.name == map).unwrap();
        let rodata = loaded.map_fd(".rodata").unwrap();
        let value = lookup_bytes(&mut backend, rodata, table(".rodata").value_size as usize);
        assert_eq!(
            Some(&value[..]),
            table(".rodata").initial_value.map(|v| v.as_slice()),
            "{name}: .rodata holds the table's value"
        );
        let target_pid = i32::from_le_bytes(value[..4].try_into().unwrap());
        assert_eq!(target_pid, if bits == 0 { 0 } else { -1234 }, "{name}");
        assert_eq!(
            &value[0x0d..0x12],
            if bits == 0 { b"\0\0\0\0\0" } else { b"sshd\0" }
        );
        // Frozen once written, as before.
        let mut attr = abi::MapElemAttr {
            map_fd: rodata,
            key: &0u32 as *const u32 as u64,
            value: value.as_ptr() as u64,
            ..Default::default()
        };
        // SAFETY: key and value are live, of the map's key and value sizes.
        let update =
            unsafe { bpf_preload::testing::bpf(&mut backend, abi::BPF_MAP_UPDATE_ELEM, &mut attr) };
        assert_eq!(update, Err(Errno::EPERM), "{name}: .rodata is frozen");

        let limits = loaded.map_fd(".rodata.limits").unwrap();
        let limit = lookup_bytes(&mut backend, limits, 4);
        assert_eq!(
            limit,
            if bits == 0 {
                [10, 0, 0, 0]
            } else {
                [99, 0, 0, 0]
            },
            "{name}"
        );
        let data = loaded.map_fd(".data").unwrap();
        assert_eq!(
            lookup_bytes(&mut backend, data, 4),
            (step as u32).to_le_bytes(),
            "{name}"
        );
        // `threshold`, then the program's static run counter.
        let bss = loaded.map_fd(".bss").unwrap();
        let bss = lookup_bytes(&mut backend, bss, 12);
        let threshold = u64::from_le_bytes(bss[..8].try_into().unwrap());
        let runs = u32::from_le_bytes(bss[8..].try_into().unwrap());
        assert_eq!(
            (threshold, u64::from(runs)),
            (if bits == 0 { 0 } else { 1000 }, RUNS),
            "{name}: .bss"
        );
        let hits = loaded.map_fd("hits").unwrap();
        let hits: u64 = lookup(&mut backend, hits, 0).unwrap();
        assert_eq!(hits, RUNS * step, "{name}: counted by `step`");
        loaded.free(&mut backend);
    }
}

/// `params(...)` through the kernel: the values given as text when the object loads
/// (`bpf_preload::load_with`) are the ones its program sees, exactly as `set(...)`'s;
/// a refused value loads nothing.
fn values_given_to_parameters_reach_the_kernel() {
    let object = Parameterised::OBJECT;
    let mut params = bpf_preload::Params::new(object);
    for (name, value) in [
        ("target_pid", "-1234"),
        ("verbose", "y"),
        ("mode", "MODE_STRICT"),
        ("direction", "DOWN"),
        ("comm", "sshd"),
        ("small", "-128"),
        ("big", "0xffff_ffff_ffff_fffe"),
        ("limit", "99"),
        ("step", "3"),
        ("threshold", "1000"),
    ] {
        params.set(name, value).unwrap_or_else(|e| panic!("{e}"));
    }
    let fs = Mount::bpffs().unwrap();
    let dir = object_dir(&fs, object);
    let mut backend = UserBackend::new(&dir);
    let loaded = bpf_preload::load_with(&params, &mut backend).unwrap_or_else(|e| panic!("{e}"));
    let check = loaded.program_fd("check").unwrap();
    let retval = test_run(&mut backend, check).unwrap();
    assert_eq!(retval, 0xfff, "the bits of the values the program saw");
    // The same bytes as the attribute's `set(...)` of the same values.
    for map in [".rodata", ".rodata.limits", ".data"] {
        let fd = loaded.map_fd(map).unwrap();
        let table = |object: &Object| {
            let m = object.maps.iter().find(|m| m.name == map).unwrap();
            m.initial_value.map(|v| v.to_vec())
        };
        let size = object
            .maps
            .iter()
            .find(|m| m.name == map)
            .unwrap()
            .value_size;
        let value = lookup_bytes(&mut backend, fd, size as usize);
        assert_eq!(Some(value), table(Configured::OBJECT), "{map}");
    }
    loaded.free(&mut backend);
    assert_eq!(
        params.set("mode", "MODE_LAX").unwrap_err().to_string(),
        "parameter mode: `MODE_LAX` does not fit `enum mode`: neither one of its enumerators \
         (MODE_OFF, MODE_LOG, MODE_STRICT) nor an integer"
    );
}

/// `attach_target(...)` through the kernel: the iterator given `bpf_map` lists the
/// same maps as its twin of `SEC("iter/bpf_map")` (the test's own, filtered by name),
/// the BTF-typed tracepoint given `sys_enter` counts the same getppid calls as its twin
/// of `SEC("tp_btf/sys_enter")`, and the kernel reports the same attach target and the
/// same kind of link for each pair.
fn attach_targets_given_by_the_attribute_attach_as_declared_ones() {
    const CALLS: u64 = 17;
    let object = AttachTargets::OBJECT;
    let fs = Mount::bpffs().unwrap();
    let dir = object_dir(&fs, object);
    let mut backend = UserBackend::new(&dir);
    let own_map = create_array_map(&mut backend, "at_own_map");
    let own_map_id = id_of(&mut backend, Kind::Map, own_map).unwrap();
    let loaded = load(object, &mut backend).unwrap_or_else(|e| panic!("{e}"));

    let listed = std::fs::read_to_string(dir.join("dump")).unwrap();
    let declared = std::fs::read_to_string(dir.join("dump_declared")).unwrap();
    assert_eq!(listed, declared, "the two iterators list the same maps");
    assert!(
        listed
            .lines()
            .any(|l| l == format!("{own_map_id} at_own_map 3")),
        "the test's own map is listed:\n{listed}"
    );

    for _ in 0..CALLS {
        // SAFETY: getppid has no preconditions.
        unsafe { libc::syscall(libc::SYS_getppid) };
    }
    // SAFETY: getpid has no preconditions.
    let tgid = unsafe { libc::getpid() } as u32;
    let seen = loaded.map_fd("seen").unwrap();
    let [given, declared]: [u64; 2] = lookup(&mut backend, seen, tgid).unwrap();
    assert_eq!(
        (given, declared),
        (CALLS, CALLS),
        "getppid calls seen by each twin"
    );

    let vmlinux = std::fs::read("/sys/kernel/btf/vmlinux").unwrap();
    for (given, declared, target, kind) in [
        (
            "dump",
            "dump_declared",
            "bpf_iter_bpf_map",
            abi::BTF_KIND_FUNC,
        ),
        (
            "on_enter",
            "on_enter_declared",
            "btf_trace_sys_enter",
            abi::BTF_KIND_TYPEDEF,
        ),
    ] {
        let expected = btf_oracle::find_type_id(&vmlinux, target, kind).unwrap();
        let mut facts = Vec::new();
        for program in [given, declared] {
            let info: abi::ProgInfo = backend
                .info_by_fd(loaded.program_fd(program).unwrap())
                .unwrap();
            let link: abi::LinkInfo = backend
                .info_by_fd(loaded.link_fd(program).unwrap())
                .unwrap();
            assert_eq!(
                info.attach_btf_id, expected,
                "{program} attaches to {target}"
            );
            assert_eq!(link.prog_id, info.id, "{program}'s link");
            facts.push((
                info.type_,
                info.attach_btf_obj_id,
                info.attach_btf_id,
                link.type_,
            ));
        }
        assert_eq!(facts[0], facts[1], "{given} and {declared}");
    }
    loaded.free(&mut backend);
    close(own_map);
}

/// Two objects that declare one map pinned by name (`LIBBPF_PIN_BY_NAME`), loaded by
/// two backends as two processes would load them, hold one map, pinned in the pin
/// root as libbpf pins it: the writer's program counts into it and the reader's
/// reads what it counted. A third object declaring the map otherwise is refused,
/// naming the difference, and a failure at any call of either load leaves nothing
/// behind but the pin a loaded object made.
fn maps_pinned_by_name_are_shared_as_libbpf_shares_them() {
    let fs = Mount::bpffs().unwrap();
    let root = fs.path().join("pin-root");
    std::fs::create_dir(&root).unwrap();
    let backend = |object: &Object| UserBackend::new(object_dir(&fs, object)).with_pin_root(&root);
    let hits_pin = root.join("shared_hits");

    // Failures first: the writer's load, which creates and shares the map, leaves no
    // pin behind; then the reader's, which reuses the pin the writer left.
    let mut writer_backend = backend(SharedWriter::OBJECT);
    let mut reader_backend = backend(SharedReader::OBJECT);
    for (object, has_pin) in [(SharedWriter::OBJECT, false), (SharedReader::OBJECT, true)] {
        let dir = fs.path().join(object.name.as_str());
        let fresh = || UserBackend::new(&dir).with_pin_root(&root);
        let mut counter = FailNth::new(fresh(), 0);
        let loaded = load(object, &mut counter).unwrap_or_else(|e| panic!("{e}"));
        let total = counter.calls();
        loaded.free(&mut counter);
        assert_eq!(
            dir_names(&root),
            ["shared_hits"],
            "{}: the pin stays",
            object.name
        );
        if !has_pin {
            std::fs::remove_file(&hits_pin).unwrap();
        }
        for n in 1..=total {
            let fds_before = open_fds();
            let mut failing = Recorder::new(FailNth::new(fresh(), n));
            let context = format!("{}: failing call {n} of {total}", object.name);
            match load(object, &mut failing) {
                Ok(loaded) => loaded.free(&mut failing),
                Err(e) => assert_eq!(e.errno, Errno::EINTR, "{context}: {e}"),
            }
            let pins = if has_pin { vec!["shared_hits"] } else { vec![] };
            if !has_pin && dir_names(&root) == ["shared_hits"] {
                // A load that succeeded (a refused bind of `.rodata`) shares the map.
                std::fs::remove_file(&hits_pin).unwrap();
            }
            assert_eq!(dir_names(&root), pins, "{context}: the pin root");
            assert_eq!(open_fds(), fds_before, "{context}: fds left open");
            let created = std::mem::take(&mut failing.created);
            assert_all_gone(&mut failing.inner.inner, &created, &context);
        }
        println!(
            "  {}: a failure at each of its {total} calls left nothing behind",
            object.name
        );
        if !has_pin {
            // The reader's failures run with the writer's pin in place.
            let loaded = load(object, &mut fresh()).unwrap_or_else(|e| panic!("{e}"));
            loaded.free(&mut fresh());
        }
    }
    std::fs::remove_file(&hits_pin).unwrap();

    let writer = load(SharedWriter::OBJECT, &mut writer_backend).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        dir_names(&root),
        ["shared_hits"],
        "the writer shares the map in the pin root"
    );
    let reader = load(SharedReader::OBJECT, &mut reader_backend).unwrap_or_else(|e| panic!("{e}"));
    let pinned = reader_backend.obj_get(&hits_pin).expect("the pin");
    let hits_id = id_of(&mut reader_backend, Kind::Map, pinned).unwrap();
    for (name, id) in [
        (
            "the writer's program",
            prog_map_ids(
                &mut writer_backend,
                writer.program_fd("count_hits").unwrap(),
            ),
        ),
        (
            "the reader's program",
            prog_map_ids(&mut reader_backend, reader.program_fd("copy_hits").unwrap()),
        ),
    ] {
        assert!(
            id.contains(&hits_id),
            "{name} holds maps {id:?}, not the pinned map {hits_id}"
        );
    }

    // A write through the writer's program, read by the reader's.
    let before: u64 = lookup(&mut reader_backend, pinned, 0).unwrap();
    for _ in 0..5 {
        // SAFETY: getppid(2) has no preconditions.
        unsafe { libc::getppid() };
    }
    // SAFETY: getpgid(2) of this process.
    unsafe { libc::getpgid(0) };
    let seen: u64 = lookup(
        &mut reader_backend,
        reader.map_fd("reader_seen").unwrap(),
        0,
    )
    .unwrap();
    assert!(
        seen >= before + 5,
        "the reader saw {seen} hits, the writer had {before} before 5 more"
    );

    // Another definition under the same name is refused, and leaves nothing.
    let mut other = backend(SharedMismatch::OBJECT);
    let fds_before = open_fds();
    let err = load(SharedMismatch::OBJECT, &mut other)
        .map(|l| l.free(&mut other))
        .unwrap_err();
    assert_eq!(err.errno, Errno::EINVAL);
    let text = err.to_string();
    assert!(
        text.contains("reusing the map `shared_hits`")
            && text.contains("its max_entries is 1, this object declares 2"),
        "{text}"
    );
    assert_eq!(open_fds(), fds_before, "a refused reuse left fds open");

    // Freed objects leave the map pinned, as libbpf's do, with what it counted: a new
    // load takes it up again.
    writer.free(&mut writer_backend);
    reader.free(&mut reader_backend);
    assert_eq!(dir_names(&root), ["shared_hits"]);
    let again = load(SharedWriter::OBJECT, &mut writer_backend).unwrap_or_else(|e| panic!("{e}"));
    let fd = again.map_fd("shared_hits").unwrap();
    assert_eq!(id_of(&mut writer_backend, Kind::Map, fd), Ok(hits_id));
    again.free(&mut writer_backend);
    close(pinned);
    std::fs::remove_file(&hits_pin).unwrap();
    assert_all_gone(
        &mut writer_backend,
        &[(Kind::Map, hits_id)],
        "the shared map, unpinned",
    );
}
