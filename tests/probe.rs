//! `preload-probe`: a small static program for the VM tests, which have no bpftool.
//! It asks the kernel about BPF objects by id and name, and triggers events.
//!
//!   preload-probe find prog|map|link NAME     ids of objects with that name (exit 1 if none)
//!   preload-probe absent prog|map|link NAME…  wait up to 10 s until none exists (exit 1 if some do)
//!   preload-probe lookup MAP KEY             the value at KEY (a number, or `self` for our tgid)
//!   preload-probe grows MAP KEY N            wait up to 10 s until the (first u64 of the)
//!                                            value at KEY has grown by N; print both values.
//!                                            Each look opens and closes a map fd, so a map
//!                                            held only through such fds loses its timers.
//!   preload-probe getppid N MAP              call getppid(2) N times, then `lookup MAP self`
//!   preload-probe getpgid                    call getpgid(2) once
//!   preload-probe plant NAME PATH            create an array of one u64 named NAME, pin it
//!                                            at PATH, print its id
//!   preload-probe iter PROG                  what the iterator link of program PROG prints
//!   preload-probe attack ROUTE …             one tamper route (see probe/attack.rs)
//!   preload-probe protect-user               `protect` from user space (probe/protect.rs)
//!   preload-probe arena                      `__arena` globals from user space
//!                                            (probe/arena.rs)
//!   preload-probe freplace                   a function of a pinned program replaced
//!                                            from user space (probe/freplace.rs)
//!   preload-probe protect-user-struct-ops    the same for a struct_ops registration
//!   preload-probe protect-hold DIR SOCK      load it with `protect`, pinned in DIR, print
//!                                            `ready` and the fds held, hold until killed,
//!                                            handing them out on the unix socket SOCK
//!   preload-probe inner OUTER KEY array|hash KEY_SIZE VALUE_SIZE ENTRIES
//!                                            create such a map and put it into the map of
//!                                            maps OUTER at KEY; print `ok` or the errno
//!   preload-probe run PROG                   BPF_PROG_TEST_RUN of program PROG on a 64-byte
//!                                            packet of zeros; print its return value
//!   preload-probe tcp CC|default BYTES       send BYTES over loopback TCP with congestion
//!                                            control CC; print the one the connection used
//!   preload-probe ids                        every prog, map, link and BTF id, one
//!                                            `kind id` a line, once they settle
//!   preload-probe nothing-left FILE DIR      wait up to 20 s until no id but FILE's (the
//!                                            output of `ids`) exists, and a new bpffs
//!                                            mounted at DIR is empty (exit 1 if not)
//!   preload-probe status                     what `cargo bpf-preload status` prints (the
//!                                            runtime's status map, checked by id)
//!   preload-probe fail-nth N insmod PATH     finit_module(2) of PATH with the N-th fault
//!   preload-probe fail-nth N rmmod NAME      point failed (/proc/thread-self/fail-nth), or
//!                                            delete_module(2); print `<ok|errno> <injected|
//!                                            clean>` (see probe/fail_nth.rs)
//!
//! MAP is a map's name, or the path of a pinned map (opened with BPF_OBJ_GET).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use bpf_preload::abi;
use bpf_preload::user::UserBackend;
use bpf_preload::{Errno, Fd, ObjectKind};
use preload_tests::name_of;

/// The commands that attack or protect an object, one file each in `probe/`.
mod probe {
    pub mod arena;
    pub mod attack;
    pub mod fail_nth;
    pub mod freplace;
    pub mod protect;
}
use probe::{arena, attack, fail_nth, freplace, protect};

/// One check of the commands that judge a whole load themselves (`protect-user`,
/// `arena`, `freplace`): `ok: WHAT` on its own line, or the error `FAILED: WHAT`, which
/// `probe_checks` of tests/vm/prelude.sh finds.
fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        println!("ok: {what}");
        Ok(())
    } else {
        Err(format!("FAILED: {what}"))
    }
}

fn close(fd: Fd) {
    // SAFETY: an fd we own, closed once.
    unsafe { libc::close(fd as i32) };
}

/// Ids and names of every object of a kind; a link is named after its program.
fn objects(b: &mut UserBackend, kind: &str) -> Result<Vec<(u32, String)>, String> {
    let (next, get) = match kind {
        "prog" => (ObjectKind::Program, ObjectKind::Program),
        "map" => (ObjectKind::Map, ObjectKind::Map),
        "link" => (ObjectKind::Link, ObjectKind::Link),
        other => return Err(format!("unknown kind `{other}`: prog, map or link")),
    };
    let mut out = Vec::new();
    for id in b.ids(next).map_err(|e| format!("{kind} ids: {e}"))? {
        // An object may go away between listing and opening it.
        let Ok(fd) = b.fd_by_id(get, id) else {
            continue;
        };
        let name = match kind {
            "prog" => b.info_by_fd::<abi::ProgInfo>(fd).map(|i| name_of(&i.name)),
            "map" => b.info_by_fd::<abi::MapInfo>(fd).map(|i| name_of(&i.name)),
            _ => b.info_by_fd::<abi::LinkInfo>(fd).and_then(|link| {
                let prog = b.fd_by_id(ObjectKind::Program, link.prog_id)?;
                let info = b.info_by_fd::<abi::ProgInfo>(prog);
                close(prog);
                info.map(|i| name_of(&i.name))
            }),
        };
        close(fd);
        if let Ok(name) = name {
            out.push((id, name));
        }
    }
    Ok(out)
}

/// `BPF_ITER_CREATE`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct IterCreateAttr {
    link_fd: u32,
    flags: u32,
}

// SAFETY: repr(C), two u32s without padding: the `iter_create` member of `union bpf_attr`.
unsafe impl abi::BpfAttr for IterCreateAttr {}

/// Reads an iterator through its link (found by its program's name): no pin needed,
/// which a module on a stock kernel cannot make.
fn read_iterator(b: &mut UserBackend, program: &str) -> Result<String, String> {
    let (id, _) = objects(b, "link")?
        .into_iter()
        .find(|(_, n)| n == program)
        .ok_or_else(|| format!("no link of a program named `{program}`"))?;
    let link = b
        .fd_by_id(ObjectKind::Link, id)
        .map_err(|e| format!("link {id}: {e}"))?;
    let mut attr = IterCreateAttr {
        link_fd: link,
        flags: 0,
    };
    // SAFETY: no pointers.
    let iter = unsafe { bpf_preload::testing::bpf(b, abi::BPF_ITER_CREATE, &mut attr) };
    close(link);
    let iter = iter.map_err(|e| format!("BPF_ITER_CREATE of link {id}: {e}"))?;
    // SAFETY: a fresh fd we own; the File closes it.
    let mut file = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(iter as i32) };
    let mut out = String::new();
    std::io::Read::read_to_string(&mut file, &mut out).map_err(|e| format!("read: {e}"))?;
    Ok(out)
}

/// Runs the program named `program` once with `BPF_PROG_TEST_RUN`, on a packet of
/// zeros, and returns what it returned.
fn test_run(b: &mut UserBackend, program: &str) -> Result<u32, String> {
    let (id, _) = objects(b, "prog")?
        .into_iter()
        .find(|(_, n)| n == program)
        .ok_or_else(|| format!("no program named `{program}`"))?;
    let prog = b
        .fd_by_id(ObjectKind::Program, id)
        .map_err(|e| format!("program {id}: {e}"))?;
    let ran = preload_tests::test_run(b, prog);
    close(prog);
    ran.map_err(|e| format!("BPF_PROG_TEST_RUN of program {id}: {e}"))
}

/// An fd of the map named `map`, or pinned at `map` if it is a path.
fn map_fd(b: &mut UserBackend, map: &str) -> Result<Fd, String> {
    Ok(if map.starts_with('/') {
        b.obj_get(std::path::Path::new(map))
            .map_err(|e| format!("BPF_OBJ_GET {map}: {e}"))?
    } else {
        let (id, _) = objects(b, "map")?
            .into_iter()
            .find(|(_, name)| name == map)
            .ok_or_else(|| format!("no map named `{map}`"))?;
        b.fd_by_id(ObjectKind::Map, id)
            .map_err(|e| format!("map {id}: {e}"))?
    })
}

fn lookup(b: &mut UserBackend, map: &str, key: &str) -> Result<Vec<u64>, String> {
    let fd = map_fd(b, map)?;
    let value = lookup_fd(b, fd, key);
    close(fd);
    value.map_err(|e| format!("`{map}`: {e}"))
}

/// The value at `key` (a number, or `self` for our tgid) of the map `fd`; zeros if absent.
fn lookup_fd(b: &mut UserBackend, fd: Fd, key: &str) -> Result<Vec<u64>, String> {
    let key: u32 = if key == "self" {
        // SAFETY: getpid has no preconditions.
        (unsafe { libc::getpid() }) as u32
    } else {
        key.parse().map_err(|_| format!("bad key `{key}`"))?
    };
    let info: abi::MapInfo = b.info_by_fd(fd).map_err(|e| format!("map info: {e}"))?;
    let mut value = vec![0u64; (info.value_size as usize).div_ceil(8)];
    let mut attr = abi::MapElemAttr {
        map_fd: fd,
        key: &key as *const u32 as u64,
        value: value.as_mut_ptr() as u64,
        ..Default::default()
    };
    // SAFETY: the key is a u32 (all our maps' keys) and `value` holds value_size bytes.
    let found = unsafe { bpf_preload::testing::bpf(b, abi::BPF_MAP_LOOKUP_ELEM, &mut attr) };
    match found {
        Ok(_) => Ok(value),
        Err(Errno::ENOENT) => Ok(vec![0; value.len()]),
        Err(e) => Err(format!("lookup: {e}")),
    }
}

fn run(args: &[String]) -> Result<bool, String> {
    let mut b = UserBackend::new("/");
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words[..] {
        ["find", kind, name] => {
            let ids: Vec<String> = objects(&mut b, kind)?
                .into_iter()
                .filter(|(_, n)| n == name)
                .map(|(id, _)| id.to_string())
                .collect();
            println!("{}", ids.join(" "));
            Ok(!ids.is_empty())
        }
        ["absent", ref rest @ ..] if !rest.is_empty() && rest.len() % 2 == 0 => {
            // Objects held only by a program go after an RCU grace period: poll.
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let mut alive = Vec::new();
                for pair in rest.chunks(2) {
                    for (id, _) in objects(&mut b, pair[0])?
                        .into_iter()
                        .filter(|(_, n)| n == pair[1])
                    {
                        alive.push(format!("{} {} (id {id})", pair[0], pair[1]));
                    }
                }
                if alive.is_empty() {
                    return Ok(true);
                }
                if Instant::now() > deadline {
                    println!("still present: {}", alive.join(", "));
                    return Ok(false);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        ["lookup", map, key] => {
            let words: Vec<String> = lookup(&mut b, map, key)?
                .iter()
                .map(u64::to_string)
                .collect();
            println!("{}", words.join(" "));
            Ok(true)
        }
        ["grows", map, key, n] => {
            let n: u64 = n.parse().map_err(|_| format!("bad count `{n}`"))?;
            let first = lookup(&mut b, map, key)?[0];
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let now = lookup(&mut b, map, key)?[0];
                if now >= first + n || Instant::now() > deadline {
                    println!("{first} {now}");
                    return Ok(now >= first + n);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        ["getppid", n, map] => {
            let n: u64 = n.parse().map_err(|_| format!("bad count `{n}`"))?;
            for _ in 0..n {
                // SAFETY: getppid has no preconditions.
                unsafe { libc::syscall(libc::SYS_getppid) };
            }
            let words: Vec<String> = lookup(&mut b, map, "self")?
                .iter()
                .map(u64::to_string)
                .collect();
            println!("{}", words.join(" "));
            Ok(true)
        }
        ["plant", name, path] => {
            // What an attacker with root would pin where libbpf shares maps by name:
            // an array of one u64 under `name`, as a product declares it.
            let spec = bpf_preload::sys::MapSpec {
                map_type: abi::BPF_MAP_TYPE_ARRAY,
                key_size: 4,
                value_size: 8,
                max_entries: 1,
                name,
                ..Default::default()
            };
            let map = bpf_preload::sys::map_create(&mut b, &spec).map_err(|e| format!("{e}"))?;
            let path = std::ffi::CString::new(path).map_err(|_| format!("bad path `{path}`"))?;
            let pinned = bpf_preload::sys::obj_pin(&mut b, map.fd, &path);
            let info = b.info_by_fd::<abi::MapInfo>(map.fd);
            close(map.fd);
            pinned.map_err(|e| format!("pinning: {e}"))?;
            println!("{}", info.map_err(|e| format!("map info: {e}"))?.id);
            Ok(true)
        }
        ["getpgid"] => {
            // SAFETY: getpgid(2) of this process has no preconditions.
            unsafe { libc::getpgid(0) };
            Ok(true)
        }
        ["attack", ref rest @ ..] => attack::run(&mut b, rest),
        ["protect-user"] => protect::run(),
        ["arena"] => arena::run(),
        ["freplace"] => freplace::run(),
        ["protect-user-struct-ops"] => protect::run_struct_ops(),
        ["protect-hold", dir, sock] => protect::hold(dir, sock),
        ["iter", program] => {
            print!("{}", read_iterator(&mut b, program)?);
            Ok(true)
        }
        ["inner", outer, key, ty, key_size, value_size, entries] => {
            let number = |w: &str| w.parse::<u32>().map_err(|_| format!("bad number `{w}`"));
            let ty = match ty {
                "array" => abi::BPF_MAP_TYPE_ARRAY,
                "hash" => abi::BPF_MAP_TYPE_HASH,
                other => return Err(format!("map type `{other}`: array or hash")),
            };
            let fd = map_fd(&mut b, outer)?;
            let (key, ks, vs, n) = (
                number(key)?,
                number(key_size)?,
                number(value_size)?,
                number(entries)?,
            );
            let done = preload_tests::insert_inner(&mut b, fd, key, ty, ks, vs, n);
            close(fd);
            match done {
                Ok(()) => println!("ok"),
                Err(e) => println!("{}", e.describe().map_or("?", |(name, _)| name)),
            }
            Ok(done.is_ok())
        }
        ["run", program] => {
            println!("{}", test_run(&mut b, program)?);
            Ok(true)
        }
        ["tcp", cc, bytes] => {
            let bytes: usize = bytes.parse().map_err(|_| format!("bad count `{bytes}`"))?;
            let cc = (cc != "default").then_some(cc);
            println!("{}", preload_tests::send_over_loopback(cc, bytes)?);
            Ok(true)
        }
        ["ids"] => {
            for id in fail_nth::settled_ids(&mut b)? {
                println!("{id}");
            }
            Ok(true)
        }
        ["status"] => match bpf_preload::status::read() {
            Ok(Some(held)) => {
                print!("{}", bpf_preload::status::report(&held));
                Ok(true)
            }
            Ok(None) => Err("the runtime module is not loaded".into()),
            Err(e) => Err(format!("reading the status map: {e}")),
        },
        ["nothing-left", file, dir] => fail_nth::nothing_left(&mut b, file, dir),
        ["fail-nth", n, what, arg] => fail_nth::run(n, what, arg),
        _ => Err(
            "usage: preload-probe find|absent|lookup|grows|getppid|getpgid|plant|iter|inner|run|tcp|ids|\
             status|nothing-left|fail-nth … (see the source)"
                .into(),
        ),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("preload-probe: {e}");
            ExitCode::from(2)
        }
    }
}
