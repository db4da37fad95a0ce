//! The user-space backend: the real bpf(2) syscall from a process, pins in a bpffs
//! directory of the caller's choosing.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::string::String;
use std::vec::Vec;
use std::{format, fs};

use crate::abi::{self, Pod};
use crate::backend::{Backend, MapDef};
use crate::errno::Errno;
use crate::kconfig::{self, KernelConfig};
use crate::sys::{self, Bpf, Fd, ObjectKind};

const TRACEFS: [&str; 2] = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/// Where libbpf pins maps pinned by name unless told otherwise (`pin_root_path`).
pub const DEFAULT_PIN_ROOT: &str = "/sys/fs/bpf";

/// Loads objects from a process over bpf(2), pinning into `dir`.
#[derive(Debug)]
pub struct UserBackend {
    dir: PathBuf,
    /// Where maps pinned by name (`LIBBPF_PIN_BY_NAME`) are shared, as libbpf's
    /// `pin_root_path`.
    pin_root: PathBuf,
    notices: Vec<String>,
    /// The running kernel's configuration and version, read once when first needed.
    kconfig: Option<(String, u32)>,
}

/// A pin made by [`UserBackend`]: the name the table asked for and the file made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPin {
    /// The pin's name in the table.
    pub requested: &'static str,
    /// The file made, with `.` replaced where bpffs refuses it from user space.
    pub path: PathBuf,
}

impl UserBackend {
    /// Pins go directly into `dir`, which must be a directory in a bpffs mount.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            pin_root: PathBuf::from(DEFAULT_PIN_ROOT),
            notices: Vec::new(),
            kconfig: None,
        }
    }

    /// The directory pins go into.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Shares maps pinned by name (`LIBBPF_PIN_BY_NAME`) in `root`, a directory in a
    /// bpffs mount, rather than in [`DEFAULT_PIN_ROOT`]: libbpf's `pin_root_path`.
    pub fn with_pin_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.pin_root = root.into();
        self
    }

    /// Where maps pinned by name are shared.
    pub fn pin_root(&self) -> &Path {
        &self.pin_root
    }

    /// The file a map shared under `name` is pinned as: `<pin root>/<name>`, as libbpf
    /// pins it.
    fn shared_path(&self, name: &str) -> Result<CString, Errno> {
        let path = self.pin_root.join(name);
        CString::new(path.as_os_str().as_bytes()).map_err(|_| Errno::EINVAL)
    }

    /// What the backend did differently from what the table asked, and why (for
    /// instance a pin renamed because bpffs refuses its name from user space).
    pub fn take_notices(&mut self) -> Vec<String> {
        core::mem::take(&mut self.notices)
    }

    /// `BPF_OBJ_GET_INFO_BY_FD` into `T` (`ProgInfo`, `MapInfo`, `LinkInfo`).
    pub fn info_by_fd<T: Pod>(&mut self, fd: Fd) -> Result<T, Errno> {
        sys::obj_info(self, fd)
    }

    /// `BPF_{PROG,MAP,LINK}_GET_FD_BY_ID`: an fd for the object with this id.
    pub fn fd_by_id(&mut self, kind: ObjectKind, id: u32) -> Result<Fd, Errno> {
        sys::fd_by_id(self, kind, id)
    }

    /// `BPF_{PROG,MAP,LINK}_GET_NEXT_ID`: the ids of every such object, in order.
    pub fn ids(&mut self, kind: ObjectKind) -> Result<Vec<u32>, Errno> {
        let mut ids = Vec::new();
        let mut id = 0;
        loop {
            match sys::next_id(self, kind, id) {
                Ok(next) => ids.push(next),
                Err(Errno::ENOENT) => return Ok(ids),
                Err(e) => return Err(e),
            }
            id = *ids.last().expect("just pushed");
        }
    }

    /// `BPF_OBJ_GET`: an fd for a pinned object.
    pub fn obj_get(&mut self, path: &Path) -> Result<Fd, Errno> {
        let path = CString::new(path.as_os_str().as_bytes()).map_err(|_| Errno::EINVAL)?;
        sys::obj_get(self, &path)
    }

    /// The id of the function `function` in the BTF of the program `prog`, as
    /// libbpf's `libbpf_find_prog_btf_id`: `EINVAL` for a program without BTF (or an
    /// object that is no program), `ENOENT` for a function it does not have.
    fn function_of(&mut self, prog: Fd, function: &str) -> Result<u32, Errno> {
        let info: abi::ProgInfo = sys::obj_info(self, prog)?;
        if info.btf_id == 0 {
            return Err(Errno::EINVAL);
        }
        let btf = sys::btf_fd_by_id(self, info.btf_id)?;
        let bytes = sys::btf_data(self, btf);
        self.close(btf);
        let bytes = bytes?;
        let raw = crate::btf::RawBtf::parse(&bytes)?;
        raw.find(function, abi::BTF_KIND_FUNC).ok_or(Errno::ENOENT)
    }

    fn tracepoint_id(category: &str, name: &str) -> Result<u64, Errno> {
        for root in TRACEFS {
            let file = format!("{root}/events/{category}/{name}/id");
            if let Ok(text) = fs::read_to_string(&file) {
                return text.trim().parse().map_err(|_| Errno::EINVAL);
            }
        }
        Err(Errno::ENOENT)
    }
}

fn last_errno() -> Errno {
    Errno(
        std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO),
    )
}

/// `struct perf_event_attr` up to `PERF_ATTR_SIZE_VER5`; only type, size, config and
/// sample_period are set, the rest stays zero.
#[repr(C)]
#[derive(Default)]
struct PerfEventAttr {
    type_: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    rest: [u64; 11],
}

/// The running kernel's release, as `uname -r` prints it.
fn release() -> Result<String, Errno> {
    // SAFETY: `utsname` is plain bytes; uname fills it.
    let mut uts: libc::utsname = unsafe { core::mem::zeroed() };
    // SAFETY: `uts` is writable and of the right type.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return Err(last_errno());
    }
    let bytes: Vec<u8> = uts
        .release
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The running kernel's configuration, where libbpf looks for it:
/// `/proc/config.gz`, else `/boot/config-$(uname -r)`.
fn read_kernel_config(release: &str) -> Result<String, Errno> {
    use std::io::Read as _;
    if let Ok(file) = fs::File::open("/proc/config.gz") {
        let mut text = String::new();
        flate2::read::GzDecoder::new(file)
            .read_to_string(&mut text)
            .map_err(|e| Errno(e.raw_os_error().unwrap_or(libc::EIO)))?;
        return Ok(text);
    }
    fs::read_to_string(format!("/boot/config-{release}"))
        .map_err(|e| Errno(e.raw_os_error().unwrap_or(libc::ENOENT)))
}

/// The number of CPUs in `/sys/devices/system/cpu/possible` (`0-3`, `0,2-5`).
fn possible_cpus() -> Result<u32, Errno> {
    let text = fs::read_to_string("/sys/devices/system/cpu/possible")
        .map_err(|e| Errno(e.raw_os_error().unwrap_or(libc::EIO)))?;
    let mut count = 0;
    for range in text.trim().split(',') {
        let (a, b) = range.split_once('-').unwrap_or((range, range));
        let (a, b) = (a.parse::<u32>(), b.parse::<u32>());
        let (Ok(a), Ok(b)) = (a, b) else {
            return Err(Errno::EINVAL);
        };
        count += b.checked_sub(a).ok_or(Errno::EINVAL)? + 1;
    }
    Ok(count)
}

impl Bpf for UserBackend {
    unsafe fn bpf(&mut self, cmd: u32, attr: &mut [u8]) -> Result<u32, Errno> {
        // SAFETY: the caller guarantees `attr` is a valid bpf_attr member for `cmd`.
        let ret =
            unsafe { libc::syscall(libc::SYS_bpf, cmd, attr.as_mut_ptr(), attr.len() as u32) };
        if ret < 0 {
            Err(last_errno())
        } else {
            Ok(ret as u32)
        }
    }
}

impl Backend for UserBackend {
    type Pin = UserPin;

    fn possible_cpus(&mut self) -> Result<u32, Errno> {
        possible_cpus()
    }

    fn map_arena(
        &mut self,
        fd: Fd,
        map_extra: u64,
        pages: u32,
        data: Option<&[u8]>,
    ) -> Result<(), Errno> {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let len = usize::try_from(page)
            .ok()
            .and_then(|page| page.checked_mul(pages as usize))
            .ok_or(Errno::EINVAL)?;
        let data = data.unwrap_or_default();
        if data.len() > len {
            return Err(Errno::E2BIG);
        }
        // At `map_extra`, as libbpf maps it, but never over a mapping this process
        // already has there (libbpf's `MAP_FIXED` would replace it).
        let (at, flags) = match map_extra {
            0 => (core::ptr::null_mut(), libc::MAP_SHARED),
            at => (
                at as usize as *mut libc::c_void,
                libc::MAP_SHARED | libc::MAP_FIXED_NOREPLACE,
            ),
        };
        let prot = libc::PROT_READ | libc::PROT_WRITE;
        // SAFETY: a new shared mapping of the arena's file: `MAP_FIXED_NOREPLACE`
        // fails rather than replace memory this process uses.
        let mapped = unsafe { libc::mmap(at, len, prot, flags, fd as i32, 0) };
        if mapped == libc::MAP_FAILED {
            return Err(last_errno());
        }
        // SAFETY: `mapped` is `len` writable bytes of our new mapping, and `data`, no
        // longer than `len`, is not in it.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), mapped.cast::<u8>(), data.len()) };
        // The arena keeps its pages and its address once unmapped; whoever reads it
        // maps it again.
        // SAFETY: `mapped` and `len` are the mapping made above, which nothing else uses.
        unsafe { libc::munmap(mapped, len) };
        Ok(())
    }

    fn program_function(&mut self, pin: &str, function: &str) -> Result<(Fd, u32), Errno> {
        let path = CString::new(pin).map_err(|_| Errno::EINVAL)?;
        let prog = sys::obj_get(self, &path)?;
        match self.function_of(prog, function) {
            Ok(id) => Ok((prog, id)),
            Err(errno) => {
                self.close(prog);
                Err(errno)
            }
        }
    }

    fn with_vmlinux_btf(&mut self, read: &mut dyn FnMut(&[u8])) -> Result<(), Errno> {
        let btf = fs::read("/sys/kernel/btf/vmlinux")
            .map_err(|e| Errno(e.raw_os_error().unwrap_or(libc::EIO)))?;
        read(&btf);
        Ok(())
    }

    fn kernel_config(&mut self) -> Result<KernelConfig<'_>, Errno> {
        if self.kconfig.is_none() {
            let release = release()?;
            let text = read_kernel_config(&release)?;
            let version = kconfig::version_of_release(&release).ok_or(Errno::EINVAL)?;
            self.kconfig = Some((text, version));
        }
        let (text, version) = self.kconfig.as_ref().ok_or(Errno::EINVAL)?;
        Ok(KernelConfig {
            text,
            version: *version,
        })
    }

    fn close(&mut self, fd: Fd) {
        // SAFETY: `fd` was returned to us by the kernel and is closed once.
        unsafe { libc::close(fd as i32) };
    }

    fn attach_tracepoint(&mut self, prog: Fd, category: &str, name: &str) -> Result<Fd, Errno> {
        let id = Self::tracepoint_id(category, name).inspect_err(|_| {
            self.notices.push(format!(
                "tracepoint {category}/{name} not found under {TRACEFS:?}: is tracefs mounted?"
            ))
        })?;
        let attr = PerfEventAttr {
            type_: abi::PERF_TYPE_TRACEPOINT,
            size: core::mem::size_of::<PerfEventAttr>() as u32,
            config: id,
            sample_period: 1,
            ..Default::default()
        };
        // SAFETY: `attr` is a valid perf_event_attr of the size it declares; pid -1 and
        // cpu 0 is how a tracepoint event for a BPF program is opened (it fires on all CPUs).
        let pfd = unsafe {
            libc::syscall(
                libc::SYS_perf_event_open,
                &attr as *const PerfEventAttr,
                -1,
                0,
                -1,
                abi::PERF_FLAG_FD_CLOEXEC as libc::c_ulong,
            )
        };
        if pfd < 0 {
            return Err(last_errno());
        }
        let result = sys::link_create(self, prog, pfd as u32, abi::BPF_PERF_EVENT);
        // The link holds its own reference to the perf event.
        self.close(pfd as Fd);
        result
    }

    fn pin(&mut self, fd: Fd, name: &'static str) -> Result<UserPin, Errno> {
        // bpffs reserves names with a dot for the files the kernel itself creates
        // (`maps.debug`): from user space they fail with EPERM.
        let file = name.replace('.', "_");
        if file != name {
            self.notices.push(format!(
                "pinned `{name}` as `{file}`: bpffs refuses names containing '.' from user space"
            ));
        }
        let path = self.dir.join(&file);
        let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|_| Errno::EINVAL)?;
        sys::obj_pin(self, fd, &c_path)?;
        Ok(UserPin {
            requested: name,
            path,
        })
    }

    fn shared_map(&mut self, name: &str) -> Result<Option<(Fd, MapDef)>, Errno> {
        let path = self.shared_path(name)?;
        let fd = match sys::obj_get(self, &path) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => return Ok(None),
            Err(e) => return Err(e),
        };
        // The info of a program or link would be read as a map's: a pin of something
        // else than a map under this name is refused (EINVAL) before.
        let link = fs::read_link(format!("/proc/self/fd/{fd}"));
        if !link.is_ok_and(|l| l.as_os_str() == "anon_inode:bpf-map") {
            self.close(fd);
            return Err(Errno::EINVAL);
        }
        match sys::obj_info::<_, abi::MapInfo>(self, fd) {
            Ok(info) => Ok(Some((
                fd,
                MapDef {
                    map_type: info.type_,
                    key_size: info.key_size,
                    value_size: info.value_size,
                    max_entries: info.max_entries,
                    map_flags: info.map_flags,
                    map_extra: info.map_extra,
                },
            ))),
            Err(e) => {
                self.close(fd);
                Err(e)
            }
        }
    }

    fn share_map(&mut self, fd: Fd, name: &str) -> Result<(), Errno> {
        let path = self.shared_path(name)?;
        sys::obj_pin(self, fd, &path)
    }

    fn unshare_map(&mut self, name: &str) {
        // Best effort, as `unpin`.
        let _ = fs::remove_file(self.pin_root.join(name));
    }

    fn unpin(&mut self, pin: UserPin) {
        // Best effort: a pin someone else already removed is gone either way.
        let _ = fs::remove_file(&pin.path);
    }

    fn wants_verifier_log(&self) -> bool {
        true
    }

    fn binds_maps(&self) -> bool {
        true
    }

    fn warn(&mut self, what: core::fmt::Arguments<'_>) {
        self.notices.push(std::fmt::format(what));
    }

    /// A process dies with its fds, not with its pins.
    fn pins_outlive_holder(&self) -> bool {
        true
    }

    fn holder(&self) -> u32 {
        std::process::id()
    }

    fn pause(&mut self) {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Moves this process into a mount namespace of its own, with every mount private,
/// so that what it mounts (bpffs, tracefs) and pins is invisible to the rest of the
/// system and disappears with the process. Fails with EINVAL if the process has more
/// than one thread (the kernel refuses `CLONE_NEWNS` then).
pub fn enter_private_mount_namespace() -> std::io::Result<()> {
    // SAFETY: plain syscalls with constant arguments.
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let root = c"/";
        let flags = libc::MS_REC | libc::MS_PRIVATE;
        if libc::mount(
            core::ptr::null(),
            root.as_ptr(),
            core::ptr::null(),
            flags,
            core::ptr::null(),
        ) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// A filesystem mounted on a fresh temporary directory, unmounted and removed on drop.
#[derive(Debug)]
pub struct Mount {
    path: PathBuf,
}

impl Mount {
    /// Mounts a new bpffs instance.
    pub fn bpffs() -> std::io::Result<Self> {
        Self::new("bpf", c"bpf")
    }

    /// Mounts `fstype` on a new directory under the system's temporary directory.
    pub fn new(tag: &str, fstype: &core::ffi::CStr) -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!(
            "bpf-preload-{tag}-{}-{}",
            std::process::id(),
            MOUNTS.fetch_add(1, core::sync::atomic::Ordering::Relaxed)
        ));
        fs::create_dir_all(&path)?;
        Self::at(path, fstype)
    }

    /// Mounts `fstype` on the existing directory `path`.
    pub fn at(path: PathBuf, fstype: &core::ffi::CStr) -> std::io::Result<Self> {
        let c_path = CString::new(path.as_os_str().as_bytes())?;
        // SAFETY: NUL-terminated strings alive for the call; no data argument.
        let rc = unsafe {
            libc::mount(
                fstype.as_ptr(),
                c_path.as_ptr(),
                fstype.as_ptr(),
                0,
                core::ptr::null(),
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Self { path })
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

static MOUNTS: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

impl Drop for Mount {
    fn drop(&mut self) {
        if let Ok(c_path) = CString::new(self.path.as_os_str().as_bytes()) {
            // SAFETY: a NUL-terminated path alive for the call.
            unsafe { libc::umount2(c_path.as_ptr(), libc::MNT_DETACH) };
        }
        let _ = fs::remove_dir(&self.path);
    }
}
