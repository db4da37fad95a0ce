//! `preload-probe ids`, `nothing-left FILE DIR` and `fail-nth N insmod|rmmod …`: the pieces of
//! `tests/vm/fail-nth.sh`, which fails the n-th fault point (allocation, page, user
//! copy) of loading and unloading a module, for every n, on the preload-sanitizer
//! kernel, and checks that each failure leaves nothing behind.
//!
//! `fail-nth` makes the system call itself, between writing N to
//! `/proc/thread-self/fail-nth` and reading it back, rather than running `insmod`
//! with the counter set: that way it counts the module's own fault points only (not
//! those of exec or of insmod's reading of the file), and it knows whether the fault
//! was injected at all. That matters because a fault can be injected and tolerated:
//! kmemleak's metadata falls back to its memory pool, KASAN's stack depot skips a
//! stack, kvmalloc() falls back to vmalloc(). A load that succeeds says nothing about
//! whether there were n fault points; a counter that did not reach zero does.

use std::collections::BTreeSet;
use std::ffi::CString;
use std::time::{Duration, Instant};

use bpf_preload::sys;
use bpf_preload::user::UserBackend;
use bpf_preload::{Errno, ObjectKind};

/// Every BPF object id the kernel has, as `kind id` (prog, map, link, btf), once two
/// looks 300 ms apart agree (at most 20 s): a load frees objects of its own after an
/// RCU grace period or from a work queue (the syscall program that resolves attach
/// targets, its map), which KASAN under TCG makes slow.
pub fn settled_ids(b: &mut UserBackend) -> Result<BTreeSet<String>, String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = ids(b)?;
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = ids(b)?;
        if now == last || Instant::now() > deadline {
            return Ok(now);
        }
        last = now;
    }
}

/// Every BPF object id the kernel has, as `kind id` (prog, map, link, btf).
fn ids(b: &mut UserBackend) -> Result<BTreeSet<String>, String> {
    let mut out = BTreeSet::new();
    for (name, kind) in [
        ("prog", Some(ObjectKind::Program)),
        ("map", Some(ObjectKind::Map)),
        ("link", Some(ObjectKind::Link)),
        ("btf", None),
    ] {
        let mut id = 0;
        loop {
            let next = match kind {
                Some(kind) => sys::next_id(b, kind, id),
                None => sys::btf_next_id(b, id),
            };
            match next {
                Ok(next) => {
                    out.insert(format!("{name} {next}"));
                    id = next;
                }
                Err(Errno::ENOENT) => break,
                Err(e) => return Err(format!("{name} ids: {e}")),
            }
        }
    }
    Ok(out)
}

/// `nothing-left FILE DIR`: waits up to 20 s until the kernel has no object that FILE
/// (the output of `ids`) does not list (objects go after an RCU grace period or from
/// a work queue), then mounts a new bpffs instance at DIR, which must be empty (the
/// preload kernel gives each registered object a directory in every new instance),
/// and unmounts it. Prints what is left if something is. One process for what would
/// be four commands a fault point, under TCG.
pub fn nothing_left(b: &mut UserBackend, file: &str, dir: &str) -> Result<bool, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let before: BTreeSet<String> = text.lines().map(str::to_string).collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut left = Vec::new();
    loop {
        let extra: Vec<String> = ids(b)?.difference(&before).cloned().collect();
        if extra.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            left.push(format!("left behind: {}", extra.join(", ")));
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let target = CString::new(dir).map_err(|_| format!("bad directory `{dir}`"))?;
    // SAFETY: valid C strings; no mount data.
    let mounted = unsafe {
        libc::mount(
            c"bpf".as_ptr(),
            target.as_ptr(),
            c"bpf".as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if mounted != 0 {
        return Err(format!(
            "mount bpffs at {dir}: {}",
            std::io::Error::last_os_error()
        ));
    }
    let pins: Result<Vec<String>, _> = std::fs::read_dir(dir).and_then(|entries| {
        entries
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect()
    });
    // SAFETY: a valid C string, the mount made above.
    if unsafe { libc::umount(target.as_ptr()) } != 0 {
        return Err(format!("umount {dir}: {}", std::io::Error::last_os_error()));
    }
    let mut pins = pins.map_err(|e| format!("{dir}: {e}"))?;
    // The runtime's own status view, which a stock kernel shows in every mount.
    pins.retain(|p| !bpf_preload::status::VIEWS.contains(&p.as_str()));
    if !pins.is_empty() {
        left.push(format!("in a new bpffs mount: {}", pins.join(", ")));
    }
    if !left.is_empty() {
        println!("{}", left.join("; "));
    }
    Ok(left.is_empty())
}

/// What one system call under fail-nth did.
struct Outcome {
    /// Its result: 0, or the errno.
    errno: i32,
    /// Whether the n-th fault point was reached (the counter read back 0).
    injected: bool,
}

/// Runs `call` with `/proc/thread-self/fail-nth` set to `n`: the n-th fault point of
/// this thread fails, from the next system call on.
fn under_fail_nth(n: u32, call: impl FnOnce() -> libc::c_long) -> Result<Outcome, String> {
    let path = c"/proc/thread-self/fail-nth";
    // SAFETY: a valid C string; the fd is ours until closed below.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(format!(
            "{}: {} (not a CONFIG_FAULT_INJECTION kernel?)",
            path.to_string_lossy(),
            std::io::Error::last_os_error()
        ));
    }
    let text = n.to_string();
    // SAFETY: writing our own buffer to our own fd.
    let wrote = unsafe { libc::write(fd, text.as_ptr().cast(), text.len()) };
    if wrote != text.len() as isize {
        let e = std::io::Error::last_os_error();
        // SAFETY: our fd, closed once.
        unsafe { libc::close(fd) };
        return Err(format!("writing {n} to fail-nth: {e}"));
    }
    // Nothing between the write and the call: no system call of ours but `call`'s.
    let ret = call();
    let errno = if ret < 0 {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
    } else {
        0
    };
    let mut buf = [0u8; 16];
    // SAFETY: reading into our own buffer from our own fd. The read's copy to user
    // space is a fault point too: if the counter is still 1 it fails there (EFAULT),
    // which also means the call did not reach its n-th point.
    let read = unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
    // SAFETY: our fd, closed once. The counter, if left, dies with this process.
    unsafe { libc::close(fd) };
    let injected =
        read > 0 && std::str::from_utf8(&buf[..read as usize]).is_ok_and(|s| s.trim() == "0");
    Ok(Outcome { errno, injected })
}

/// `fail-nth N insmod PATH` or `fail-nth N rmmod NAME`: finit_module(2) of the file or
/// delete_module(2) of the module (O_NONBLOCK, as rmmod) with the n-th fault point
/// failed; prints `<ok|errno name> <injected|clean>` and succeeds if the call did.
pub fn run(n: &str, what: &str, arg: &str) -> Result<bool, String> {
    let n: u32 = n.parse().map_err(|_| format!("bad count `{n}`"))?;
    let outcome = match what {
        "insmod" => {
            let file = std::fs::File::open(arg).map_err(|e| format!("{arg}: {e}"))?;
            let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
            // SAFETY: finit_module on an fd we hold open, with empty parameters.
            under_fail_nth(n, || unsafe {
                libc::syscall(libc::SYS_finit_module, fd, c"".as_ptr(), 0)
            })?
        }
        "rmmod" => {
            let name = CString::new(arg).map_err(|_| format!("bad module name `{arg}`"))?;
            // SAFETY: delete_module with a valid C string.
            under_fail_nth(n, || unsafe {
                libc::syscall(libc::SYS_delete_module, name.as_ptr(), libc::O_NONBLOCK)
            })?
        }
        _ => return Err(format!("`{what}` is not insmod or rmmod")),
    };
    let result = if outcome.errno == 0 {
        "ok".to_string()
    } else {
        Errno(outcome.errno).to_string()
    };
    let fault = if outcome.injected {
        "injected"
    } else {
        "clean"
    };
    println!("{result} {fault}");
    Ok(outcome.errno == 0)
}
