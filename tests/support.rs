//! Helpers for the real-kernel tests: asking the kernel about objects by fd and id,
//! counting this process's fds, and saying loudly when a tier cannot run.

use std::path::Path;
use std::time::{Duration, Instant};

use bpf_preload::abi;
use bpf_preload::user::UserBackend;
use bpf_preload::{sys, Errno, Fd, ObjectKind};

pub mod btf_oracle;

/// Which kind of kernel object an id belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Btf,
    Map,
    Prog,
    Link,
}

impl Kind {
    /// The ids of every object of this kind, in order.
    fn ids(self, backend: &mut UserBackend) -> Result<Vec<u32>, Errno> {
        let kind = match self {
            Kind::Btf => None,
            Kind::Map => Some(ObjectKind::Map),
            Kind::Prog => Some(ObjectKind::Program),
            Kind::Link => Some(ObjectKind::Link),
        };
        let (mut ids, mut id) = (Vec::new(), 0);
        loop {
            let next = match kind {
                Some(kind) => sys::next_id(backend, kind, id),
                None => sys::btf_next_id(backend, id),
            };
            match next {
                Ok(next) => ids.push(next),
                Err(Errno::ENOENT) => return Ok(ids),
                Err(e) => return Err(e),
            }
            id = *ids.last().expect("just pushed");
        }
    }
}

/// `struct bpf_btf_info`, up to the id.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct BtfInfo {
    btf: u64,
    btf_size: u32,
    id: u32,
    name: u64,
    name_len: u32,
    kernel_btf: u32,
}

// SAFETY: repr(C), integers only, no padding (u64, u32, u32, u64, u32, u32).
unsafe impl abi::Pod for BtfInfo {}

/// The kernel's id for the object behind `fd`.
pub fn id_of(backend: &mut UserBackend, kind: Kind, fd: Fd) -> Result<u32, Errno> {
    Ok(match kind {
        Kind::Btf => backend.info_by_fd::<BtfInfo>(fd)?.id,
        Kind::Map => backend.info_by_fd::<abi::MapInfo>(fd)?.id,
        Kind::Prog => backend.info_by_fd::<abi::ProgInfo>(fd)?.id,
        Kind::Link => backend.info_by_fd::<abi::LinkInfo>(fd)?.id,
    })
}

/// Whether an object with this id still exists. Listed by `*_GET_NEXT_ID`, not
/// opened: an fd by id takes a user reference, and opening a program array while it
/// is torn down can leak it (its deferred clear is queued once but counted twice).
pub fn exists(backend: &mut UserBackend, kind: Kind, id: u32) -> bool {
    let ids = kind
        .ids(backend)
        .unwrap_or_else(|e| panic!("{kind:?}: GET_NEXT_ID: {e}"));
    ids.contains(&id)
}

/// Waits until none of `ids` exists. Objects whose last reference was a program are
/// released after an RCU grace period, so this polls the kernel, with a deadline.
pub fn assert_all_gone(backend: &mut UserBackend, ids: &[(Kind, u32)], context: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let alive: Vec<_> = ids
            .iter()
            .filter(|&&(kind, id)| exists(backend, kind, id))
            .collect();
        if alive.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{context}: still alive after 10 s: {alive:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The fds this process has open.
pub fn open_fds() -> Vec<String> {
    let mut fds: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    fds.sort();
    fds
}

/// The names in a directory, sorted.
pub fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The name in a kernel info struct's `name` field.
pub fn name_of(raw: &[u8]) -> String {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..end]).into_owned()
}

/// Whether this tier can run; if not, says so loudly, and under `CI=true` fails.
pub fn tier_can_run(tier: &str, missing: Option<String>) -> bool {
    let Some(reason) = missing else { return true };
    let banner = "!".repeat(72);
    eprintln!("{banner}\nSKIPPED: {tier}: {reason}\n{banner}");
    if std::env::var("CI").as_deref() == Ok("true") {
        eprintln!("CI=true: a skipped tier is a failure");
        std::process::exit(1);
    }
    false
}

/// Why tier 2 cannot run here, if it cannot.
pub fn kernel_tier_missing() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("the real-kernel tests need root (bpf(2), mount namespaces)".into());
    }
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        return Some("the kernel has no BTF (/sys/kernel/btf/vmlinux)".into());
    }
    None
}

/// Sends `bytes` over a fresh TCP connection on 127.0.0.1 whose sender uses congestion
/// control `cc` (the default if none), and returns the one the connection used, as
/// `getsockopt(TCP_CONGESTION)` says.
pub fn send_over_loopback(cc: Option<&str>, bytes: usize) -> Result<String, String> {
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;

    let os = |what: &str| format!("{what}: {}", std::io::Error::last_os_error());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let receiver = std::thread::spawn(move || -> std::io::Result<usize> {
        let (mut server, _) = listener.accept()?;
        let mut got = Vec::new();
        server.read_to_end(&mut got)?;
        Ok(got.len())
    });
    // Set before any data is sent, as an application choosing its algorithm does.
    let socket = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    let fd = socket.as_raw_fd();
    if let Some(cc) = cc {
        // SAFETY: the option value is `cc`'s bytes, of the length given.
        let ret = unsafe {
            libc::setsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_CONGESTION,
                cc.as_ptr().cast(),
                cc.len() as u32,
            )
        };
        if ret != 0 {
            return Err(os(&format!("setsockopt(TCP_CONGESTION, {cc})")));
        }
    }
    let mut socket = socket;
    socket
        .write_all(&vec![7u8; bytes])
        .map_err(|e| e.to_string())?;
    let mut name = [0u8; 16];
    let mut len = name.len() as u32;
    // SAFETY: `name` is writable for `len` bytes.
    let ret = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_CONGESTION,
            name.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if ret != 0 {
        return Err(os("getsockopt(TCP_CONGESTION)"));
    }
    drop(socket);
    let received = receiver
        .join()
        .map_err(|_| "the receiver panicked".to_string())?
        .map_err(|e| e.to_string())?;
    if received != bytes {
        return Err(format!("sent {bytes} bytes, {received} arrived"));
    }
    let end = name.iter().position(|&b| b == 0).unwrap_or(len as usize);
    Ok(String::from_utf8_lossy(&name[..end]).into_owned())
}

/// A backend that records the id of every object the kernel creates for a load,
/// beneath the fault injector, so that a test can ask the kernel afterwards whether
/// each is gone. Everything else is forwarded.
pub struct Recorder {
    /// The backend calls go to.
    pub inner: bpf_preload::testing::FailNth<UserBackend>,
    /// (kind, id) of each object created, in order.
    pub created: Vec<(Kind, u32)>,
}

impl Recorder {
    /// Records what `inner` creates.
    pub fn new(inner: bpf_preload::testing::FailNth<UserBackend>) -> Self {
        Recorder {
            inner,
            created: Vec::new(),
        }
    }

    fn record(&mut self, kind: Kind, fd: Fd) {
        let id = id_of(&mut self.inner.inner, kind, fd).expect("id of a new object");
        self.created.push((kind, id));
    }
}

impl bpf_preload::Bpf for Recorder {
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
            self.record(kind, fd);
        }
        Ok(fd)
    }
}

impl bpf_preload::Backend for Recorder {
    type Pin = bpf_preload::user::UserPin;

    fn close(&mut self, fd: Fd) {
        self.inner.close(fd)
    }

    fn attach_tracepoint(&mut self, prog: Fd, category: &str, name: &str) -> Result<Fd, Errno> {
        let fd = self.inner.attach_tracepoint(prog, category, name)?;
        self.record(Kind::Link, fd);
        Ok(fd)
    }

    fn pin(&mut self, fd: Fd, name: &'static str) -> Result<Self::Pin, Errno> {
        self.inner.pin(fd, name)
    }

    fn unpin(&mut self, pin: Self::Pin) {
        self.inner.unpin(pin)
    }

    fn unregister_struct_ops(&mut self, map: &bpf_preload::sys::MapFd) -> Result<(), Errno> {
        self.inner.unregister_struct_ops(map)
    }

    fn shared_map(&mut self, name: &str) -> Result<Option<(Fd, bpf_preload::MapDef)>, Errno> {
        self.inner.shared_map(name)
    }

    fn share_map(&mut self, fd: Fd, name: &str) -> Result<(), Errno> {
        self.inner.share_map(fd, name)
    }

    fn unshare_map(&mut self, name: &str) {
        self.inner.unshare_map(name)
    }

    fn possible_cpus(&mut self) -> Result<u32, Errno> {
        self.inner.possible_cpus()
    }

    fn program_function(&mut self, pin: &str, function: &str) -> Result<(Fd, u32), Errno> {
        self.inner.program_function(pin, function)
    }

    fn map_arena(
        &mut self,
        fd: Fd,
        map_extra: u64,
        pages: u32,
        data: Option<&[u8]>,
    ) -> Result<(), Errno> {
        self.inner.map_arena(fd, map_extra, pages, data)
    }

    fn kernel_config(&mut self) -> Result<bpf_preload::KernelConfig<'_>, Errno> {
        self.inner.kernel_config()
    }

    fn with_vmlinux_btf(&mut self, read: &mut dyn FnMut(&[u8])) -> Result<(), Errno> {
        self.inner.with_vmlinux_btf(read)
    }

    fn object_id(&mut self, kind: bpf_preload::ObjectKind, fd: Fd, t: u32) -> Result<u32, Errno> {
        self.inner.object_id(kind, fd, t)
    }

    fn wants_verifier_log(&self) -> bool {
        self.inner.wants_verifier_log()
    }

    fn binds_maps(&self) -> bool {
        self.inner.binds_maps()
    }

    fn warn(&mut self, what: std::fmt::Arguments<'_>) {
        self.inner.warn(what)
    }

    fn pins_outlive_holder(&self) -> bool {
        self.inner.pins_outlive_holder()
    }

    fn pause(&mut self) {
        self.inner.pause()
    }

    fn holder(&self) -> u32 {
        self.inner.holder()
    }
}

/// Runs the program `prog` once with `BPF_PROG_TEST_RUN` on a 64-byte packet of zeros
/// (an Ethernet header's worth and more, for a socket filter); what it returned.
pub fn test_run(backend: &mut UserBackend, prog: Fd) -> Result<u32, Errno> {
    let packet = [0u8; 64];
    let mut attr = abi::ProgTestRunAttr {
        prog_fd: prog,
        data_in: packet.as_ptr() as u64,
        data_size_in: packet.len() as u32,
        ..Default::default()
    };
    // SAFETY: `packet` is readable for data_size_in bytes; no output buffers.
    unsafe { bpf_preload::testing::bpf(backend, abi::BPF_PROG_TEST_RUN, &mut attr) }?;
    Ok(attr.retval)
}

/// Calls `f` with a `msghdr` for one byte of data (`byte`) and a control buffer with
/// room for one fd of `SCM_RIGHTS`: what sendmsg(2) and recvmsg(2) of one fd need.
pub fn with_scm_msghdr<R>(byte: &mut [u8; 1], f: impl FnOnce(&mut libc::msghdr) -> R) -> R {
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    // SAFETY: CMSG_SPACE is a size computation.
    let space = unsafe { libc::CMSG_SPACE(core::mem::size_of::<i32>() as u32) } as usize;
    let mut control = vec![0u8; space];
    // SAFETY: msghdr is plain data; zero is a valid value for every field.
    let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space;
    f(&mut msg)
}

/// What a product's agent does at run time with a map of maps whose inner maps its
/// loader supplied: creates a map (`map_type`, key and value sizes, entries) and puts
/// it into `outer` at `key`, which the kernel refuses (EINVAL) unless the map is like
/// the outer map's template. The outer map holds the new map; our fd of it is closed.
pub fn insert_inner(
    backend: &mut UserBackend,
    outer: Fd,
    key: u32,
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
) -> Result<(), Errno> {
    let spec = bpf_preload::sys::MapSpec {
        map_type,
        key_size,
        value_size,
        max_entries,
        name: "inner",
        ..Default::default()
    };
    let inner = bpf_preload::sys::map_create(backend, &spec)?;
    let outer = bpf_preload::sys::MapFd::of(outer, 4, 4);
    let result =
        bpf_preload::sys::map_update(backend, &outer, &key.to_ne_bytes(), &inner.fd.to_ne_bytes());
    // SAFETY: our fd of the new map, closed once.
    unsafe { libc::close(inner.fd as i32) };
    result
}
