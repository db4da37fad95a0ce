//! `preload-probe protect-user`: `protect` from user space (the user backend), in the
//! VM, where BPF LSM programs load: while this process holds the object, the guard
//! refuses it every write, even through the fds the loader itself holds, and every new
//! fd; once freed nothing remains; and a failure at every call of the load (the
//! guard's included) leaves nothing behind.

use std::path::Path;

use crate::check;
use bpf_preload::testing::FailNth;
use bpf_preload::user::{Mount, UserBackend};
use bpf_preload::{abi, bpf_preload, load, Errno, Fd, Object, ObjectKind, Preload};
use preload_tests::{assert_all_gone, dir_names, id_of, open_fds, Kind, Recorder};
use tamper_policy_locked::TamperLocked;

fn update(b: &mut UserBackend, fd: Fd, key: u32) -> Result<u32, Errno> {
    let value = [0u8; 64];
    let mut attr = abi::MapElemAttr {
        map_fd: fd,
        key: &key as *const u32 as u64,
        value: value.as_ptr() as u64,
        ..Default::default()
    };
    // SAFETY: a u32 key and 64 bytes, at least the attacked maps' value sizes.
    unsafe { bpf_preload::testing::bpf(b, abi::BPF_MAP_UPDATE_ELEM, &mut attr) }
}

fn mkdir_refused(dir: &Path) -> bool {
    let target = dir.join("tamper-denied");
    let refused =
        std::fs::create_dir(&target).is_err_and(|e| e.raw_os_error() == Some(libc::EPERM));
    let _ = std::fs::remove_dir(&target);
    refused
}

/// `preload-probe protect-hold DIR SOCK`: loads the locked object with `protect`, pins
/// in DIR (a directory in a bpffs mount that outlives this process), prints `ready`
/// with this process's id and the fds it holds (`map:exempt=5`), then holds them until
/// killed, handing any of them to whoever asks on the unix socket SOCK: the target of
/// `pidfd_getfd`, `SCM_RIGHTS` and `kill -9` in tests/vm/tamper-user.sh.
pub fn hold(dir: &str, sock: &str) -> Result<bool, String> {
    let object: &'static Object = TamperLocked::OBJECT;
    std::fs::create_dir_all(dir).map_err(|e| format!("{dir}: {e}"))?;
    let mut b = UserBackend::new(dir);
    let loaded = load(object, &mut b).map_err(|e| format!("load: {e}"))?;
    // stdin too: a file that is not the object's, the control of the socket's rows.
    let mut line = format!("ready pid={} file:stdin=0", std::process::id());
    for (map, fd) in loaded.maps() {
        line += &format!(" map:{}={fd}", map.name);
    }
    for (prog, fd) in loaded.programs() {
        line += &format!(" prog:{}={fd}", prog.name);
    }
    for (link, fd) in loaded.links() {
        line += &format!(" link:{}={fd}", object.programs[link.program].name);
    }
    // A holder that hands its fds to whoever asks, as a buggy or tricked one might:
    // the name (`map:exempt`) on a line, the fd back with SCM_RIGHTS.
    let listener =
        std::os::unix::net::UnixListener::bind(sock).map_err(|e| format!("{sock}: {e}"))?;
    println!("{line}");
    use std::io::{BufRead as _, Write as _};
    let _ = std::io::stdout().flush();
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let mut name = String::new();
        if std::io::BufReader::new(&stream)
            .read_line(&mut name)
            .is_err()
        {
            continue;
        }
        let wanted = name.trim();
        let fd = line
            .split(' ')
            .find_map(|w| w.strip_prefix(wanted)?.strip_prefix('='))
            .and_then(|fd| fd.parse::<i32>().ok());
        if let Some(fd) = fd {
            send_fd(&stream, fd);
        }
    }
    Ok(true)
}

/// Sends `fd` over `stream` with SCM_RIGHTS, with one byte of data.
fn send_fd(stream: &std::os::unix::net::UnixStream, fd: i32) {
    use std::os::fd::AsRawFd as _;
    let mut byte = [b'f'];
    preload_tests::with_scm_msghdr(&mut byte, |msg| {
        // SAFETY: `msg` has a control buffer of CMSG_SPACE(4) bytes, so CMSG_FIRSTHDR is
        // non-null and its data holds one i32; every pointer outlives the sendmsg.
        unsafe {
            let cmsg = libc::CMSG_FIRSTHDR(msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(core::mem::size_of::<i32>() as u32) as usize;
            core::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<i32>(), fd);
            libc::sendmsg(stream.as_raw_fd(), msg, 0);
        }
    });
}

/// The TCP congestion control of examples/tcp_cc, with `protect`.
#[bpf_preload(
    obj = "../../examples/tcp_cc/bpf/tcp_cc.bpf.o",
    name = "tcp_cc_locked",
    protect
)]
struct TcpCcLocked;

const CC: &str = "preload_reno";
const CC_AVAILABLE: &str = "/proc/sys/net/ipv4/tcp_available_congestion_control";

/// Fails each call of a load of `object` in turn (pins in `dir`): every failure must
/// report the injected errno and leave no pin, fd or object behind, and `after`
/// must hold. Returns how many calls a load makes.
pub fn fail_each_call(
    object: &'static Object,
    dir: &Path,
    after: impl Fn() -> Result<(), String>,
) -> Result<usize, String> {
    let mut counter = FailNth::new(UserBackend::new(dir), 0);
    let loaded = load(object, &mut counter).map_err(|e| format!("counting load: {e}"))?;
    let total = counter.calls();
    loaded.free(&mut counter);
    for n in 1..=total {
        let fds_before = open_fds();
        let mut backend = Recorder::new(FailNth::new(UserBackend::new(dir), n));
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
                if binds != 1 {
                    return Err(format!("{context}, yet the load succeeded: {notices:?}"));
                }
                loaded.free(&mut backend);
                if !dir_names(dir).is_empty() || open_fds() != fds_before {
                    return Err(format!("{context}: pins or fds left after the free"));
                }
                let created = std::mem::take(&mut backend.created);
                assert_all_gone(&mut backend.inner.inner, &created, &context);
                after().map_err(|e| format!("{context}: {e}"))?;
                continue;
            }
            Err(e) => e,
        };
        let context = format!(
            "{}: failing call {n} of {total} ({})",
            object.name, err.step
        );
        if err.errno != Errno::EINTR {
            return Err(format!(
                "{context}: reported {}, not the injected EINTR",
                err.errno
            ));
        }
        if !dir_names(dir).is_empty() || open_fds() != fds_before {
            return Err(format!("{context}: pins or fds left"));
        }
        let created = std::mem::take(&mut backend.created);
        assert_all_gone(&mut backend.inner.inner, &created, &context);
        after().map_err(|e| format!("{context}: {e}"))?;
    }
    Ok(total)
}

pub fn run() -> Result<bool, String> {
    let object: &'static Object = TamperLocked::OBJECT;
    let fs = Mount::bpffs().map_err(|e| format!("bpffs: {e}"))?;
    let dir = fs.path().join(object.name.as_str());
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let scratch = std::env::temp_dir().join("protect-user");
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;

    let mut b = UserBackend::new(&dir);
    let fds_before = open_fds();
    let loaded = load(object, &mut b).map_err(|e| format!("load: {e}"))?;
    let mut ids = Vec::new();
    for map in object.maps {
        let fd = loaded.map_fd(map.name.as_str()).expect("loaded");
        ids.push((
            Kind::Map,
            id_of(&mut b, Kind::Map, fd).map_err(|e| e.to_string())?,
        ));
    }
    let exempt = loaded.map_fd("exempt").expect("loaded");
    let exempt_id = id_of(&mut b, Kind::Map, exempt).map_err(|e| e.to_string())?;
    check(
        mkdir_refused(&scratch),
        "the policy refuses mkdir of tamper-denied",
    )?;
    check(
        update(&mut b, exempt, 0) == Err(Errno::EPERM),
        "an update through the loader's own fd of `exempt` is refused (EPERM)",
    )?;
    check(
        b.fd_by_id(ObjectKind::Map, exempt_id) == Err(Errno::EPERM),
        "BPF_MAP_GET_FD_BY_ID of `exempt` is refused",
    )?;
    check(
        b.obj_get(&dir.join("data")) == Err(Errno::EPERM),
        "BPF_OBJ_GET of the `.data` pin is refused",
    )?;
    let prog = loaded.program_fd("refuse_denied").expect("loaded");
    let prog_id = id_of(&mut b, Kind::Prog, prog).map_err(|e| e.to_string())?;
    check(
        b.fd_by_id(ObjectKind::Program, prog_id) == Err(Errno::EPERM),
        "BPF_PROG_GET_FD_BY_ID of `refuse_denied` is refused",
    )?;
    check(mkdir_refused(&scratch), "the policy still refuses")?;
    let guard_ids: Vec<(Kind, u32)> = {
        let guard = loaded.guard().expect("protect loads the guard");
        let mut out = Vec::new();
        for p in guard.object().programs {
            let fd = guard.program_fd(p.name.as_str()).expect("loaded");
            out.push((
                Kind::Prog,
                id_of(&mut b, Kind::Prog, fd).map_err(|e| e.to_string())?,
            ));
        }
        out
    };
    ids.extend(guard_ids);
    loaded.free(&mut b);
    assert_all_gone(&mut b, &ids, "after free");
    check(open_fds() == fds_before, "free closed every fd")?;
    check(dir_names(&dir).is_empty(), "free removed every pin")?;
    check(
        !mkdir_refused(&scratch),
        "once freed, mkdir of tamper-denied works",
    )?;

    // A failure at each call of the load, the guard's and its check included.
    let total = fail_each_call(object, &dir, || Ok(()))?;
    check(
        total > 20,
        &format!("a failure at each of the {total} calls of a protect load left nothing behind"),
    )?;

    Ok(true)
}

/// A protected struct_ops registration: unregistered by `BPF_MAP_DELETE_ELEM`, which
/// the guard refuses while it runs; the guard must be gone first, whatever call failed
/// and however the guard was held (pinned: the struct_ops map is pinned). A scenario
/// of its own (`protect-user-struct-ops`): a failure at each call is a hundred loads.
pub fn run_struct_ops() -> Result<bool, String> {
    if !Path::new(CC_AVAILABLE).exists() {
        return Err(format!("{CC_AVAILABLE} is missing: this kernel has no TCP"));
    }
    let fs = Mount::bpffs().map_err(|e| format!("bpffs: {e}"))?;
    let registered = || {
        std::fs::read_to_string(CC_AVAILABLE)
            .unwrap_or_default()
            .split_whitespace()
            .any(|cc| cc == CC)
    };
    let object: &'static Object = TcpCcLocked::OBJECT;
    let cc_dir = fs.path().join(object.name.as_str());
    std::fs::create_dir_all(&cc_dir).map_err(|e| e.to_string())?;
    let mut b = UserBackend::new(&cc_dir);
    let loaded = load(object, &mut b).map_err(|e| format!("load tcp_cc: {e}"))?;
    check(
        registered(),
        &format!(
            "{CC} registered, with protect ({} pins)",
            loaded.pins().len()
        ),
    )?;
    loaded.free(&mut b);
    check(!registered(), &format!("{CC} unregistered by free"))?;
    let total = fail_each_call(object, &cc_dir, || {
        if registered() {
            Err(format!("{CC} still registered"))
        } else {
            Ok(())
        }
    })?;
    println!(
        "ok: a failure at each of the {total} calls of a protected struct_ops load left it \
         unregistered"
    );
    Ok(true)
}
