//! `preload-probe attack ROUTE ...`: what root in user space tries against a preloaded
//! object, one route per command, for the tamper matrix (`tests/vm/tamper-*.sh`).
//! Each prints one line: `ok ...` if the kernel let it through, `refused STEP ERRNO`
//! if not, and exits 0 either way: the scenario judges by what the object then does.
//!
//!   attack fd-by-id map|prog|link ID      *_GET_FD_BY_ID
//!   attack map-write ID KEY HEX           by id, then BPF_MAP_UPDATE_ELEM (u32 key)
//!   attack map-delete ID KEY              by id, then BPF_MAP_DELETE_ELEM
//!   attack pin-write PATH KEY HEX         BPF_OBJ_GET read-write, then update
//!   attack pin-by-id map|prog|link ID PATH  by id, then BPF_OBJ_PIN in a user mount
//!   attack link-update LINK impostor|PROG_ID  BPF_LINK_UPDATE to another iterator
//!   attack link-detach LINK               BPF_LINK_DETACH
//!   attack replace-pin PATH               an impostor iterator link pinned at PATH
//!   attack freplace PROG_ID               the policy's global function `exempted`
//!                                         replaced (freplace) by one exempting every
//!                                         uid: the program by id, pinned in the user
//!                                         mount at /mnt/freplace, the replacement
//!                                         loaded against it and pinned there
//!   attack refused link|map|prog          ids whose fd the kernel refuses (EPERM)
//!   attack getfd PID FD                   pidfd_getfd(2) of another process's fd
//!   attack getfd-write PID FD KEY HEX     pidfd_getfd of a map fd, then a program of
//!                                         ours writes the map (BPF_PSEUDO_MAP_FD)
//!   attack ptrace PID                     PTRACE_SEIZE (then detach)
//!   attack scm SOCK NAME [KEY HEX]        ask protect-hold's socket for its fd NAME
//!                                         (SCM_RIGHTS); with KEY HEX, a program of
//!                                         ours then writes that map
//!   attack link-update-race LINK MS       BPF_LINK_UPDATE of an fd number that a
//!                                         second thread dup2s between LINK and a
//!                                         link of ours, for MS milliseconds
//!
//! LINK is a link id, or the path of a pinned link (BPF_OBJ_GET, which no LSM hook
//! sees for links). HEX is the value's bytes, zero-padded to the map's value size.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use bpf_preload::user::UserBackend;
use bpf_preload::{abi, bpf_preload, load, Errno, Fd, ObjectKind, Preload};

/// An iterator of the same kind as the object's `list_maps`, printing something else.
#[bpf_preload(obj = "../../examples/tamper_policy/bpf/impostor.bpf.o", no_attach_all)]
struct Impostor;

/// What an attacker loads in place of the policy's `exempted` (freplace), against the
/// policy's program pinned at `FREPLACE_TARGET` in a bpffs mount of its own.
#[bpf_preload(
    obj = "../../examples/tamper_policy/bpf/exempt_all.bpf.o",
    target_program(exempt_all = "/mnt/freplace/policy")
)]
struct ExemptAll;

const FREPLACE_TARGET: &str = "/mnt/freplace/policy";

/// `BPF_LINK_UPDATE`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct LinkUpdateAttr {
    link_fd: u32,
    new_prog_fd: u32,
    flags: u32,
    old_prog_fd: u32,
}

/// `BPF_LINK_DETACH`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct LinkDetachAttr {
    link_fd: u32,
}

// SAFETY: repr(C), u32s only, without padding: members of `union bpf_attr`.
unsafe impl abi::BpfAttr for LinkUpdateAttr {}
// SAFETY: as above.
unsafe impl abi::BpfAttr for LinkDetachAttr {}

type Outcome = Result<String, String>;

fn refused(step: &str, e: Errno) -> String {
    format!("refused {step} {e}")
}

fn close(fd: Fd) {
    // SAFETY: an fd we own, closed once.
    unsafe { libc::close(fd as i32) };
}

fn get_cmd(kind: &str) -> Result<ObjectKind, String> {
    match kind {
        "map" => Ok(ObjectKind::Map),
        "prog" => Ok(ObjectKind::Program),
        "link" => Ok(ObjectKind::Link),
        other => Err(format!("unknown kind `{other}`: map, prog or link")),
    }
}

fn number(s: &str) -> Result<u32, String> {
    s.parse().map_err(|_| format!("not a number: `{s}`"))
}

fn by_id(b: &mut UserBackend, kind: &str, id: &str) -> Result<Fd, String> {
    let cmd = get_cmd(kind)?;
    let step = ["MAP", "PROG", "LINK"][["map", "prog", "link"]
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(0)];
    b.fd_by_id(cmd, number(id)?)
        .map_err(|e| refused(&format!("{step}_GET_FD_BY_ID"), e))
}

fn obj_get(b: &mut UserBackend, path: &str) -> Result<Fd, String> {
    b.obj_get(Path::new(path))
        .map_err(|e| refused("BPF_OBJ_GET", e))
}

fn link(b: &mut UserBackend, target: &str) -> Result<Fd, String> {
    if target.starts_with('/') {
        obj_get(b, target)
    } else {
        by_id(b, "link", target)
    }
}

fn hex(s: &str) -> Result<Vec<u8>, String> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2).unwrap_or("x"), 16))
        .collect::<Result<_, _>>()
        .map_err(|_| format!("not hex bytes: `{s}`"))
}

fn write(b: &mut UserBackend, fd: Fd, key: &str, value: &str) -> Outcome {
    let info: abi::MapInfo = b
        .info_by_fd(fd)
        .map_err(|e| refused("BPF_OBJ_GET_INFO_BY_FD", e))?;
    let key = number(key)?;
    let mut value = hex(value)?;
    value.resize(info.value_size as usize, 0);
    let mut attr = abi::MapElemAttr {
        map_fd: fd,
        key: &key as *const u32 as u64,
        value: value.as_ptr() as u64,
        ..Default::default()
    };
    // SAFETY: the key is a u32 (the attacked maps' keys) and `value` holds value_size bytes.
    unsafe { bpf_preload::testing::bpf(b, abi::BPF_MAP_UPDATE_ELEM, &mut attr) }
        .map_err(|e| refused("BPF_MAP_UPDATE_ELEM", e))?;
    Ok("ok: written".into())
}

fn pin(b: &mut UserBackend, fd: Fd, path: &str) -> Outcome {
    let c_path = CString::new(Path::new(path).as_os_str().as_bytes()).map_err(|e| e.to_string())?;
    let mut attr = abi::ObjPinAttr {
        pathname: c_path.as_ptr() as u64,
        bpf_fd: fd,
        ..Default::default()
    };
    // SAFETY: `pathname` is a NUL-terminated string alive for the call.
    unsafe { bpf_preload::testing::bpf(b, abi::BPF_OBJ_PIN, &mut attr) }
        .map_err(|e| refused("BPF_OBJ_PIN", e))?;
    Ok(format!("ok: pinned at {path}"))
}

/// The impostor's program, loaded (and kept: the process exits soon after).
fn impostor(b: &mut UserBackend) -> Result<Fd, String> {
    let loaded = load(Impostor::OBJECT, b).map_err(|e| format!("loading the impostor: {e}"))?;
    let fd = loaded
        .program_fd("impostor")
        .expect("the impostor's program");
    std::mem::forget(loaded);
    Ok(fd)
}

/// The fd named `name` from `preload-probe protect-hold`'s socket, by SCM_RIGHTS.
fn scm(sock: &str, name: &str) -> Result<Fd, String> {
    use std::io::Write as _;
    use std::os::fd::AsRawFd as _;
    let mut stream =
        std::os::unix::net::UnixStream::connect(sock).map_err(|e| format!("{sock}: {e}"))?;
    stream
        .write_all(format!("{name}\n").as_bytes())
        .map_err(|e| e.to_string())?;
    let mut byte = [0u8; 1];
    preload_tests::with_scm_msghdr(&mut byte, |msg| {
        // SAFETY: every pointer in `msg` is alive and of the size given beside it.
        let got = unsafe { libc::recvmsg(stream.as_raw_fd(), msg, 0) };
        if got < 0 {
            return Err(format!("recvmsg: {}", last_errno()));
        }
        // SAFETY: `msg` was filled by recvmsg; CMSG_FIRSTHDR checks msg_controllen.
        let cmsg = unsafe { libc::CMSG_FIRSTHDR(msg) };
        if cmsg.is_null() {
            let truncated = msg.msg_flags & libc::MSG_CTRUNC != 0;
            return Err(format!(
                "refused SCM_RIGHTS: no fd received{}",
                if truncated {
                    " (MSG_CTRUNC: the kernel dropped it)"
                } else {
                    ""
                }
            ));
        }
        // SAFETY: a non-null cmsg from recvmsg, holding one i32 for SCM_RIGHTS.
        let fd = unsafe { core::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<i32>()) };
        Ok(fd as Fd)
    })
}

/// `pidfd_getfd(2)`: a copy of fd `fd` of process `pid`.
fn getfd(pid: &str, fd: &str) -> Result<Fd, String> {
    let pid = number(pid)?;
    let fd = number(fd)?;
    // SAFETY: plain syscalls with integer arguments.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if pidfd < 0 {
        return Err(refused("pidfd_open", last_errno()));
    }
    // SAFETY: as above.
    let got = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd as i32, fd as i32, 0) };
    let errno = last_errno();
    close(pidfd as Fd);
    if got < 0 {
        return Err(refused("pidfd_getfd", errno));
    }
    Ok(got as Fd)
}

fn last_errno() -> Errno {
    Errno(
        std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO),
    )
}

/// One instruction: opcode, dst and src registers, offset, immediate.
fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    let mut out = [0u8; 8];
    out[0] = code;
    out[1] = (src << 4) | dst;
    out[2..4].copy_from_slice(&off.to_le_bytes());
    out[4..8].copy_from_slice(&imm.to_le_bytes());
    out
}

/// A socket filter of ours that writes `value` at the u32 `key` of the map `map_fd`
/// (named in its instructions by fd, as any loader may), then returns 0.
fn writer(b: &mut UserBackend, map_fd: Fd, key: u32, value: &[u8]) -> Result<Fd, String> {
    const R0: u8 = 0;
    const R1: u8 = 1;
    const R2: u8 = 2;
    const R3: u8 = 3;
    const R4: u8 = 4;
    const FP: u8 = 10;
    const ST_W: u8 = abi::BPF_ST | abi::BPF_MEM | abi::BPF_W;
    const ST_B: u8 = abi::BPF_ST | abi::BPF_MEM | abi::BPF_B;
    const MOV64_REG: u8 = abi::BPF_ALU64 | abi::BPF_MOV | abi::BPF_X;
    const MOV64_IMM: u8 = abi::BPF_ALU64 | abi::BPF_MOV | abi::BPF_K;
    const ADD64_IMM: u8 = abi::BPF_ALU64 | abi::BPF_ADD | abi::BPF_K;
    let value_at = -8 - (value.len().div_ceil(8) * 8) as i16;
    let mut prog: Vec<[u8; 8]> = vec![
        // r1 = map (BPF_LD_IMM64, src BPF_PSEUDO_MAP_FD)
        insn(
            abi::BPF_LD_IMM64,
            R1,
            abi::BPF_PSEUDO_MAP_FD,
            0,
            map_fd as i32,
        ),
        [0; 8],
        // *(u32 *)(fp - 4) = key
        insn(ST_W, FP, 0, -4, key as i32),
    ];
    for (i, &byte) in value.iter().enumerate() {
        // *(u8 *)(fp + value_at + i) = byte
        prog.push(insn(ST_B, FP, 0, value_at + i as i16, byte as i32));
    }
    prog.extend([
        insn(MOV64_REG, R2, FP, 0, 0),              // r2 = fp
        insn(ADD64_IMM, R2, 0, 0, -4),              // r2 += -4
        insn(MOV64_REG, R3, FP, 0, 0),              // r3 = fp
        insn(ADD64_IMM, R3, 0, 0, value_at as i32), // r3 += value_at
        insn(MOV64_IMM, R4, 0, 0, 0),               // r4 = BPF_ANY
        insn(abi::BPF_JMP_CALL, 0, 0, 0, 2),        // call bpf_map_update_elem
        insn(MOV64_IMM, R0, 0, 0, 0),               // r0 = 0
        insn(abi::BPF_JMP_EXIT, 0, 0, 0, 0),        // exit
    ]);
    let insns: Vec<u8> = prog.concat();
    let license = c"GPL";
    let mut attr = abi::ProgLoadAttr {
        prog_type: abi::BPF_PROG_TYPE_SOCKET_FILTER,
        insn_cnt: (insns.len() / 8) as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        ..Default::default()
    };
    // SAFETY: `insns` and `license` are alive for the call; no log buffer.
    unsafe { bpf_preload::testing::bpf(b, abi::BPF_PROG_LOAD, &mut attr) }
        .map_err(|e| refused("BPF_PROG_LOAD", e))
}

/// `writer`, run once.
fn write_by_program(b: &mut UserBackend, map_fd: Fd, key: &str, value: &str) -> Outcome {
    let info: abi::MapInfo = b
        .info_by_fd(map_fd)
        .map_err(|e| refused("BPF_OBJ_GET_INFO_BY_FD", e))?;
    let mut value = hex(value)?;
    value.resize(info.value_size as usize, 0);
    let prog = writer(b, map_fd, number(key)?, &value)?;
    let ran = preload_tests::test_run(b, prog);
    close(prog);
    ran.map_err(|e| refused("BPF_PROG_TEST_RUN", e))?;
    Ok("ok: written by a program of ours".into())
}

/// `BPF_LINK_UPDATE` of fd number `slot` to `prog`, in a loop, while another thread
/// makes `slot` a copy of `victim` and of `decoy` by turns: the guard reads the fd
/// table in the `bpf` hook, the syscall again after it.
fn race(slot: Fd, victim: Fd, decoy: Fd, prog: Fd, ms: u64) -> (u64, u64) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let flipper = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                // SAFETY: dup2 onto a number we own.
                unsafe {
                    libc::dup2(victim as i32, slot as i32);
                    libc::dup2(decoy as i32, slot as i32);
                }
            }
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(ms);
    let (mut tries, mut updated) = (0, 0);
    while std::time::Instant::now() < deadline {
        let mut attr = LinkUpdateAttr {
            link_fd: slot,
            new_prog_fd: prog,
            ..Default::default()
        };
        let attr_len = core::mem::size_of::<LinkUpdateAttr>() as u32;
        // SAFETY: a LINK_UPDATE attr without pointers, alive for the call.
        let ret =
            unsafe { libc::syscall(libc::SYS_bpf, abi::BPF_LINK_UPDATE, &mut attr, attr_len) };
        tries += 1;
        if ret == 0 {
            updated += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = flipper.join();
    (tries, updated)
}

fn attack(b: &mut UserBackend, words: &[&str]) -> Outcome {
    match *words {
        ["fd-by-id", kind, id] => {
            let fd = by_id(b, kind, id)?;
            close(fd);
            Ok(format!("ok: got an fd of {kind} {id}"))
        }
        ["map-write", id, key, value] => {
            let fd = by_id(b, "map", id)?;
            write(b, fd, key, value)
        }
        ["map-delete", id, key] => {
            let fd = by_id(b, "map", id)?;
            let key = number(key)?;
            let mut attr = abi::MapElemAttr {
                map_fd: fd,
                key: &key as *const u32 as u64,
                ..Default::default()
            };
            // SAFETY: the key is a u32, the attacked maps' key size.
            unsafe { bpf_preload::testing::bpf(b, abi::BPF_MAP_DELETE_ELEM, &mut attr) }
                .map_err(|e| refused("BPF_MAP_DELETE_ELEM", e))?;
            Ok("ok: deleted".into())
        }
        ["pin-write", path, key, value] => {
            let fd = obj_get(b, path)?;
            write(b, fd, key, value)
        }
        ["pin-by-id", kind, id, path] => {
            let fd = by_id(b, kind, id)?;
            pin(b, fd, path)
        }
        ["link-update", target, with] => {
            let link_fd = link(b, target)?;
            let new_prog_fd = if with == "impostor" {
                impostor(b)?
            } else {
                by_id(b, "prog", with)?
            };
            let mut attr = LinkUpdateAttr {
                link_fd,
                new_prog_fd,
                ..Default::default()
            };
            // SAFETY: no pointers.
            unsafe { bpf_preload::testing::bpf(b, abi::BPF_LINK_UPDATE, &mut attr) }
                .map_err(|e| refused("BPF_LINK_UPDATE", e))?;
            Ok(format!("ok: link {target} now runs {with}"))
        }
        ["link-detach", target] => {
            let link_fd = link(b, target)?;
            let mut attr = LinkDetachAttr { link_fd };
            // SAFETY: no pointers.
            unsafe { bpf_preload::testing::bpf(b, abi::BPF_LINK_DETACH, &mut attr) }
                .map_err(|e| refused("BPF_LINK_DETACH", e))?;
            Ok(format!("ok: link {target} detached"))
        }
        ["replace-pin", path] => {
            let prog_fd = impostor(b)?;
            let mut attr = abi::LinkCreateAttr {
                prog_fd,
                attach_type: abi::BPF_TRACE_ITER,
                ..Default::default()
            };
            // SAFETY: no pointers (no iterator parameters).
            let link_fd = unsafe { bpf_preload::testing::bpf(b, abi::BPF_LINK_CREATE, &mut attr) }
                .map_err(|e| refused("BPF_LINK_CREATE", e))?;
            std::fs::remove_file(path).map_err(|e| format!("refused unlink {e}"))?;
            pin(b, link_fd, path)
        }
        ["freplace", id] => {
            let prog = by_id(b, "prog", id)?;
            let pinned = pin(b, prog, FREPLACE_TARGET);
            close(prog);
            pinned?;
            let dir = Path::new(FREPLACE_TARGET).with_file_name("attack");
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            // The replacement's link stays pinned there once this process exits.
            let mut attacker = UserBackend::new(&dir);
            let loaded = load(ExemptAll::OBJECT, &mut attacker)
                .map_err(|e| format!("refused {} {}", e.step, e.errno))?;
            std::mem::forget(loaded);
            Ok(format!(
                "ok: `exempted` of program {id} replaced (freplace)"
            ))
        }
        ["getfd", pid, fd] => {
            let got = getfd(pid, fd)?;
            close(got);
            Ok(format!("ok: got a copy of fd {fd} of process {pid}"))
        }
        ["getfd-write", pid, fd, key, value] => {
            let map = getfd(pid, fd)?;
            write_by_program(b, map, key, value)
        }
        ["ptrace", pid] => {
            let pid = number(pid)? as libc::pid_t;
            // SAFETY: PTRACE_SEIZE and PTRACE_DETACH take no pointers here.
            let ret = unsafe { libc::ptrace(libc::PTRACE_SEIZE, pid, 0usize, 0usize) };
            if ret != 0 {
                return Err(refused("PTRACE_SEIZE", last_errno()));
            }
            // SAFETY: as above.
            unsafe { libc::ptrace(libc::PTRACE_DETACH, pid, 0usize, 0usize) };
            Ok(format!("ok: attached to process {pid} (and detached)"))
        }
        ["scm", sock, name] => {
            let fd = scm(sock, name)?;
            close(fd);
            Ok(format!("ok: received {name} by SCM_RIGHTS"))
        }
        ["scm", sock, name, key, value] => {
            let map = scm(sock, name)?;
            write_by_program(b, map, key, value)
        }
        ["link-update-race", target, ms] => {
            let victim = link(b, target)?;
            let prog = impostor(b)?;
            let mut attr = abi::LinkCreateAttr {
                prog_fd: prog,
                attach_type: abi::BPF_TRACE_ITER,
                ..Default::default()
            };
            // SAFETY: no pointers (no iterator parameters).
            let decoy = unsafe { bpf_preload::testing::bpf(b, abi::BPF_LINK_CREATE, &mut attr) }
                .map_err(|e| refused("BPF_LINK_CREATE", e))?;
            // SAFETY: dup of an fd we own.
            let slot = unsafe { libc::dup(decoy as i32) };
            if slot < 0 {
                return Err(format!("dup: {}", last_errno()));
            }
            let (tries, updated) = race(slot as Fd, victim, decoy, prog, number(ms)? as u64);
            if updated == 0 {
                return Err(format!(
                    "refused BPF_LINK_UPDATE: none of {tries} raced updates passed"
                ));
            }
            Ok(format!(
                "ok: {updated} of {tries} updates of the raced fd number passed (of our link or the object's)"
            ))
        }
        ["refused", kind] => {
            let cmd = get_cmd(kind)?;
            let next = cmd;
            let ids = b.ids(next).map_err(|e| format!("{kind} ids: {e}"))?;
            let refused: Vec<String> = ids
                .into_iter()
                .filter(|&id| match b.fd_by_id(cmd, id) {
                    Ok(fd) => {
                        close(fd);
                        false
                    }
                    Err(e) => e == Errno::EPERM,
                })
                .map(|id| id.to_string())
                .collect();
            Ok(refused.join(" "))
        }
        _ => Err(format!("usage: see tests/probe/attack.rs; got {words:?}")),
    }
}

/// Runs `attack ...`: prints its outcome; `Err` only for a usage error.
pub fn run(b: &mut UserBackend, words: &[&str]) -> Result<bool, String> {
    match attack(b, words) {
        Ok(line) => println!("{line}"),
        Err(line) if line.starts_with("refused ") => println!("{line}"),
        Err(e) => return Err(e),
    }
    Ok(true)
}
