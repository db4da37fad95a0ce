//! `preload-probe protect-user`: `protect` from user space (the user backend), in the
//! VM, where BPF LSM programs load: while this process holds the object, the guard
//! refuses it every write, even through the fds the loader itself holds, and every new
//! fd; once freed nothing remains; and a failure at every call of the load (the
//! guard's included) leaves nothing behind.

use std::path::Path;

use bpf_preload::fault::FailNth;
use bpf_preload::user::{Mount, UserBackend, UserPin};
use bpf_preload::{abi, load, Backend, Errno, Fd, Object, Preload};
use preload_tests::{assert_all_gone, dir_names, id_of, open_fds, Kind};
use tamper_policy_locked::TamperLocked;

/// Records the id of every object the kernel creates, beneath the fault injector.
struct Recorder {
    inner: FailNth<UserBackend>,
    created: Vec<(Kind, u32)>,
}

impl Backend for Recorder {
    type Pin = UserPin;

    unsafe fn bpf(&mut self, cmd: u32, attr: &mut [u8]) -> Result<u32, Errno> {
        // SAFETY: forwarded unchanged from our caller.
        let fd = unsafe { self.inner.bpf(cmd, attr) }?;
        let kind = match cmd {
            abi::BPF_BTF_LOAD => Some(Kind::Btf),
            abi::BPF_MAP_CREATE => Some(Kind::Map),
            abi::BPF_PROG_LOAD => Some(Kind::Prog),
            abi::BPF_LINK_CREATE | abi::BPF_RAW_TRACEPOINT_OPEN => Some(Kind::Link),
            _ => None,
        };
        if let Some(kind) = kind {
            let id = id_of(&mut self.inner.inner, kind, fd).expect("id of a new object");
            self.created.push((kind, id));
        }
        Ok(fd)
    }

    fn close(&mut self, fd: Fd) {
        self.inner.close(fd)
    }

    fn pin(&mut self, fd: Fd, name: &'static str) -> Result<Self::Pin, Errno> {
        self.inner.pin(fd, name)
    }

    fn unpin(&mut self, pin: Self::Pin) {
        self.inner.unpin(pin)
    }

    fn object_id(&mut self, kind: bpf_preload::ObjectKind, fd: Fd, t: u32) -> Result<u32, Errno> {
        self.inner.object_id(kind, fd, t)
    }

    fn wants_verifier_log(&self) -> bool {
        true
    }
}

fn update(b: &mut UserBackend, fd: Fd, key: u32) -> Result<u32, Errno> {
    let value = [0u8; 64];
    let mut attr = abi::MapElemAttr {
        map_fd: fd,
        key: &key as *const u32 as u64,
        value: value.as_ptr() as u64,
        ..Default::default()
    };
    // SAFETY: a u32 key and 64 bytes, at least the attacked maps' value sizes.
    unsafe { b.call(abi::BPF_MAP_UPDATE_ELEM, &mut attr) }
}

fn mkdir_refused(dir: &Path) -> bool {
    let target = dir.join("tamper-denied");
    let refused =
        std::fs::create_dir(&target).is_err_and(|e| e.raw_os_error() == Some(libc::EPERM));
    let _ = std::fs::remove_dir(&target);
    refused
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        println!("ok: {what}");
        Ok(())
    } else {
        Err(format!("FAILED: {what}"))
    }
}

pub fn run() -> Result<bool, String> {
    let object: &'static Object = TamperLocked::OBJECT;
    let fs = Mount::bpffs().map_err(|e| format!("bpffs: {e}"))?;
    let dir = fs.path().join(object.name);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let scratch = std::env::temp_dir().join("protect-user");
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;

    let mut b = UserBackend::new(&dir);
    let fds_before = open_fds();
    let loaded = load(object, &mut b).map_err(|e| format!("load: {e}"))?;
    let mut ids = Vec::new();
    for map in object.maps {
        let fd = loaded.map_fd(map.name).expect("loaded");
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
        b.fd_by_id(abi::BPF_MAP_GET_FD_BY_ID, exempt_id) == Err(Errno::EPERM),
        "BPF_MAP_GET_FD_BY_ID of `exempt` is refused",
    )?;
    check(
        b.obj_get(&dir.join("data")) == Err(Errno::EPERM),
        "BPF_OBJ_GET of the `.data` pin is refused",
    )?;
    let prog = loaded.program_fd("refuse_denied").expect("loaded");
    let prog_id = id_of(&mut b, Kind::Prog, prog).map_err(|e| e.to_string())?;
    check(
        b.fd_by_id(abi::BPF_PROG_GET_FD_BY_ID, prog_id) == Err(Errno::EPERM),
        "BPF_PROG_GET_FD_BY_ID of `refuse_denied` is refused",
    )?;
    check(mkdir_refused(&scratch), "the policy still refuses")?;
    let guard_ids: Vec<(Kind, u32)> = {
        let guard = loaded.guard().expect("protect loads the guard");
        let mut out = Vec::new();
        for p in guard.object().programs {
            let fd = guard.program_fd(p.name).expect("loaded");
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
    let mut counter = FailNth::new(UserBackend::new(&dir), 0);
    let loaded = load(object, &mut counter).map_err(|e| format!("counting load: {e}"))?;
    let total = counter.calls();
    loaded.free(&mut counter);
    for n in 1..=total {
        let fds_before = open_fds();
        let mut backend = Recorder {
            inner: FailNth::new(UserBackend::new(&dir), n),
            created: Vec::new(),
        };
        let err = match load(object, &mut backend) {
            Ok(_) => {
                return Err(format!(
                    "call {n} of {total} failed, yet the load succeeded"
                ))
            }
            Err(e) => e,
        };
        let context = format!("failing call {n} of {total} ({})", err.step);
        if err.errno != Errno::EINTR {
            return Err(format!(
                "{context}: reported {}, not the injected EINTR",
                err.errno
            ));
        }
        if !dir_names(&dir).is_empty() || open_fds() != fds_before {
            return Err(format!("{context}: pins or fds left"));
        }
        let created = std::mem::take(&mut backend.created);
        assert_all_gone(&mut backend.inner.inner, &created, &context);
    }
    check(
        total > 20,
        &format!("a failure at each of the {total} calls of a protect load left nothing behind"),
    )?;
    Ok(true)
}
