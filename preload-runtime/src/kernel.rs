//! The kernel backend: the loader inside a module, over the generic C shim
//! (`kernel/shim.c`, contract in `kernel/shim.h`). Load and attach with
//! `kern_sys_bpf`, hold the file behind every fd (exactly what the fd held, user
//! references included) and close the fd before module init returns, keep ftrace on
//! while a program runs through a trampoline, then show the object in bpffs the way
//! the kernel allows:
//!
//! - seed profile (a kernel with the preload series, `kernel/patches/`): register
//!   with the kernel, which then asks for the pins of every new bpffs instance, in
//!   `<mount>/<object>/`;
//! - stock profile (Debian's 6.1 and 6.12): offer two iterator links to every bpffs
//!   mount through the kernel's own preload hook, when the object pins exactly two.

use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::ffi::{c_char, c_int, c_void};
use core::fmt;

use crate::backend::{Backend, Fd, ObjectKind};
use crate::errno::Errno;
use crate::kconfig::KernelConfig;
use crate::loader::{load, Loaded};
use crate::table::Object;

/// What `bpf_preload_pin` pins (the kernel's `enum bpf_type`, as in shim.h).
const PIN_PROG: u32 = 1;
const PIN_MAP: u32 = 2;
const PIN_LINK: u32 = 3;

#[cfg_attr(
    not(target_os = "none"),
    allow(
        dead_code,
        reason = "the allocator and the panic handler are the module build's"
    )
)]
unsafe extern "C" {
    fn bpf_preload_sys_bpf(cmd: c_int, attr: *mut c_void, size: u32) -> c_int;
    fn bpf_preload_close_fd(fd: u32);
    fn bpf_preload_kernel_version() -> u32;
    fn bpf_preload_possible_cpus() -> u32;
    fn bpf_preload_alloc(size: usize) -> *mut c_void;
    fn bpf_preload_realloc(ptr: *mut c_void, size: usize) -> *mut c_void;
    fn bpf_preload_free(ptr: *mut c_void);
    fn bpf_preload_log(level: c_int, msg: *const c_char, len: usize);
    fn bpf_preload_hold_file(
        kind: u32,
        fd: u32,
        prog_type: u32,
        file: *mut *mut c_void,
        object: *mut *mut c_void,
    ) -> c_int;
    fn bpf_preload_release_file(file: *mut c_void);
    fn bpf_preload_object_id(kind: u32, fd: u32, prog_type: u32, id: *mut u32) -> c_int;
    fn bpf_preload_struct_ops_unregister(fd: u32) -> c_int;
    fn bpf_preload_struct_ops_unregister_release(file: *mut c_void);
    fn bpf_preload_hold_ftrace() -> c_int;
    fn bpf_preload_release_ftrace();
    fn bpf_preload_read_vmlinux_btf(buf: *mut *mut c_void, size: *mut usize) -> c_int;
    fn bpf_preload_vfree(buf: *mut c_void);
    fn bpf_preload_register() -> c_int;
    fn bpf_preload_pin(
        dir: *mut c_void,
        name: *const c_char,
        object: *mut c_void,
        kind: u32,
    ) -> c_int;
    fn bpf_preload_expose(
        name0: *const c_char,
        link0: *mut c_void,
        name1: *const c_char,
        link1: *mut c_void,
    ) -> c_int;
    fn bpf_preload_panic(msg: *const c_char, len: usize) -> !;
}

/// printk levels.
#[derive(Clone, Copy)]
pub enum Level {
    /// `KERN_ERR`.
    Err = 3,
    /// `KERN_WARNING`.
    Warning = 4,
    /// `KERN_INFO`.
    Info = 6,
}

/// Prints one line through printk, prefixed with the module's name by the shim. The
/// line is formatted on the stack, never allocated: logging runs where an allocation
/// failure must not become a panic (populate, with the kernel's preload lock held).
/// Past 512 bytes it is cut and ends in `...`.
pub fn log(level: Level, args: fmt::Arguments<'_>) {
    let line = crate::line::Line::<512>::format(args);
    let bytes = line.as_bytes();
    // SAFETY: `bytes` is valid for `len` bytes for the call; the shim prints it with %.*s.
    unsafe { bpf_preload_log(level as c_int, bytes.as_ptr().cast(), bytes.len()) };
}

/// bpf(2) from kernel context. A module cannot pin while it loads (it has no bpffs
/// of its own): the backend only notes the names, and [`init`] hands the objects to
/// the kernel, which pins them into each bpffs instance it creates.
#[derive(Debug, Default)]
pub struct KernelBackend {
    /// The lines of the kernel's configuration the object reads (see
    /// [`crate::kconfig::filter`]).
    kconfig: &'static str,
}

impl Backend for KernelBackend {
    /// The requested name; the pins are made later, by [`populate`].
    type Pin = &'static str;

    unsafe fn bpf(&mut self, cmd: u32, attr: &mut [u8]) -> Result<u32, Errno> {
        // SAFETY: the caller guarantees `attr` is valid for `cmd`; kern_sys_bpf reads
        // it and every pointer in it as kernel memory.
        let ret = unsafe {
            bpf_preload_sys_bpf(cmd as c_int, attr.as_mut_ptr().cast(), attr.len() as u32)
        };
        if ret < 0 {
            Err(Errno(-ret))
        } else {
            Ok(ret as u32)
        }
    }

    fn close(&mut self, fd: Fd) {
        // SAFETY: an fd kern_sys_bpf installed in this task's table, closed once.
        unsafe { bpf_preload_close_fd(fd) };
    }

    fn pin(&mut self, _fd: Fd, name: &'static str) -> Result<Self::Pin, Errno> {
        Ok(name)
    }

    fn unpin(&mut self, _pin: Self::Pin) {}

    fn unregister_struct_ops(&mut self, fd: Fd) -> Result<(), Errno> {
        // SAFETY: `fd` is one of ours; the shim checks that it is a struct_ops map.
        let ret = unsafe { bpf_preload_struct_ops_unregister(fd) };
        if ret < 0 {
            Err(Errno(-ret))
        } else {
            Ok(())
        }
    }

    fn with_vmlinux_btf(&mut self, read: &mut dyn FnMut(&[u8])) -> Result<(), Errno> {
        let (mut buf, mut size) = (core::ptr::null_mut(), 0usize);
        // SAFETY: both out-pointers are writable.
        let ret = unsafe { bpf_preload_read_vmlinux_btf(&mut buf, &mut size) };
        if ret < 0 {
            return Err(Errno(-ret));
        }
        // SAFETY: the shim read `size` bytes into `buf`, a vmalloc buffer (6 MiB of
        // BTF is beyond kmalloc) that is ours until the vfree below.
        read(unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), size) });
        // SAFETY: allocated by the shim for us, freed once.
        unsafe { bpf_preload_vfree(buf) };
        Ok(())
    }

    fn possible_cpus(&mut self) -> Result<u32, Errno> {
        // SAFETY: no arguments; reads the kernel's CPU mask.
        Ok(unsafe { bpf_preload_possible_cpus() })
    }

    fn object_id(&mut self, kind: ObjectKind, fd: Fd, prog_type: u32) -> Result<u32, Errno> {
        let kind = match kind {
            ObjectKind::Map => PIN_MAP,
            ObjectKind::Program => PIN_PROG,
            ObjectKind::Link => PIN_LINK,
        };
        let mut id = 0;
        // SAFETY: `fd` is one of ours and open; `id` is writable.
        let ret = unsafe { bpf_preload_object_id(kind, fd, prog_type, &mut id) };
        if ret < 0 {
            Err(Errno(-ret))
        } else {
            Ok(id)
        }
    }

    fn kernel_config(&mut self) -> Result<KernelConfig<'_>, Errno> {
        Ok(KernelConfig {
            text: self.kconfig,
            // SAFETY: no arguments; returns a constant.
            version: unsafe { bpf_preload_kernel_version() },
        })
    }
}

/// A held file (what an fd holds) and how to release it.
struct HeldFile {
    file: *mut c_void,
    release: unsafe extern "C" fn(*mut c_void),
}

/// One pin the object asks for: a held object and its name.
struct Pin {
    name: &'static str,
    /// `name` and a NUL, for C.
    c_name: Vec<u8>,
    /// The map, program or link, valid while its file is held.
    object: *mut c_void,
    kind: u32,
    /// An iterator link: what a stock kernel can show.
    iterator: bool,
}

/// What the module holds between init and exit: the file of every link, program and
/// map, as the fds that insmod closes held them, the pins made of them, and whether
/// ftrace is kept on for their trampolines.
#[derive(Default)]
struct Held {
    files: Vec<HeldFile>,
    pins: Vec<Pin>,
    ftrace: bool,
}

impl Held {
    /// Holds the file behind `fd` (a `kind` object), and notes its pin if it has one.
    fn take(
        &mut self,
        kind: u32,
        fd: Fd,
        prog_type: u32,
        release: unsafe extern "C" fn(*mut c_void),
        pin: Option<&'static str>,
        iterator: bool,
    ) -> Result<(), Errno> {
        // Room first, so that a held file is never lost to a failed allocation.
        self.files.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        if pin.is_some() {
            self.pins.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        }
        let (mut file, mut object) = (core::ptr::null_mut(), core::ptr::null_mut());
        // SAFETY: `fd` is one of ours and open; both out-pointers are writable.
        let ret = unsafe { bpf_preload_hold_file(kind, fd, prog_type, &mut file, &mut object) };
        if ret < 0 {
            return Err(Errno(-ret));
        }
        self.files.push(HeldFile { file, release });
        if let Some(name) = pin {
            let mut c_name = Vec::new();
            c_name
                .try_reserve_exact(name.len() + 1)
                .map_err(|_| Errno::ENOMEM)?;
            c_name.extend_from_slice(name.as_bytes());
            c_name.push(0);
            self.pins.push(Pin {
                name,
                c_name,
                object,
                kind,
                iterator,
            });
        }
        Ok(())
    }

    /// Releases every file, in reverse, then ftrace.
    fn release_all(self) {
        for f in self.files.into_iter().rev() {
            // SAFETY: a file we hold and release once.
            unsafe { (f.release)(f.file) };
        }
        if self.ftrace {
            // SAFETY: held by this module (see `hold_all`).
            unsafe { bpf_preload_release_ftrace() };
        }
    }
}

/// Module init and exit never run concurrently; populate calls run only while the
/// object is registered, which is after init stored the slot and before exit takes it.
struct Slot(UnsafeCell<Option<Held>>);

// SAFETY: init writes the slot before registering with the kernel and exit takes it
// after unregistering (which waits for a running populate call); in between only
// populate reads it, never concurrently with itself (the kernel's preload lock).
unsafe impl Sync for Slot {}

static HELD: Slot = Slot(UnsafeCell::new(None));

/// The files of every link, program and map of `loaded` and of its guard, taken while
/// their fds are open, and ftrace kept on if a program runs through a trampoline.
fn hold_all(loaded: &Loaded<&'static str>) -> Result<Held, (Errno, &'static str)> {
    let mut held = Held::default();
    let result = hold_into(&mut held, loaded)
        .and_then(|()| loaded.guard().map_or(Ok(()), |g| hold_into(&mut held, g)))
        .and_then(|()| {
            let guarded = loaded.guard().into_iter().chain(core::iter::once(loaded));
            if !guarded.clone().any(|l| l.object().attaches_trampolines()) {
                return Ok(());
            }
            // SAFETY: no arguments; released by `release_all` or module exit.
            let ret = unsafe { bpf_preload_hold_ftrace() };
            if ret < 0 {
                return Err((Errno(-ret), "ftrace (kernel.ftrace_enabled)"));
            }
            held.ftrace = true;
            Ok(())
        });
    match result {
        Ok(()) => Ok(held),
        Err(e) => {
            held.release_all();
            Err(e)
        }
    }
}

fn hold_into(held: &mut Held, loaded: &Loaded<&'static str>) -> Result<(), (Errno, &'static str)> {
    let object = loaded.object();
    let release = bpf_preload_release_file;
    for (link, fd) in loaded.links() {
        let prog = &object.programs[link.program];
        // The rule `cargo bpf-preload build` describes, too.
        let iterator = crate::describe::stock_shows(object, link);
        held.take(PIN_LINK, fd, 0, release, link.pin, iterator)
            .map_err(|e| (e, prog.name))?;
    }
    for (prog, fd) in loaded.programs() {
        held.take(PIN_PROG, fd, prog.prog_type, release, prog.pin, false)
            .map_err(|e| (e, prog.name))?;
    }
    for (map, fd) in loaded.maps() {
        held.take(PIN_MAP, fd, 0, release, map.pin, false)
            .map_err(|e| (e, map.name))?;
    }
    // Registrations last, so that exit drops them first.
    for (map, fd) in loaded.struct_ops_links() {
        held.take(PIN_LINK, fd, 0, release, None, false)
            .map_err(|e| (e, map.name))?;
    }
    for (map, fd) in loaded.registered_struct_ops() {
        let unregister = bpf_preload_struct_ops_unregister_release;
        held.take(PIN_MAP, fd, 0, unregister, None, false)
            .map_err(|e| (e, map.name))?;
    }
    Ok(())
}

/// Module init: loads, attaches and holds `object`, and shows it in bpffs. Returns 0
/// or a negative errno, having printed why; on failure nothing is left behind.
/// `kconfig` holds the lines of the kernel's configuration that the object reads.
pub fn init(object: &'static Object, kconfig: &'static str) -> c_int {
    let mut backend = KernelBackend { kconfig };
    let loaded = match load(object, &mut backend) {
        Ok(loaded) => loaded,
        Err(e) => {
            log(Level::Err, format_args!("{e}"));
            return -e.errno.0;
        }
    };
    let held = match hold_all(&loaded) {
        Ok(held) => held,
        Err((errno, name)) => {
            log(
                Level::Err,
                format_args!(
                    "bpf object `{}`: holding `{name}` failed: {errno}{}; nothing is loaded",
                    object.name,
                    if errno == Errno::EBUSY {
                        " (ftrace is switched off: its BPF trampolines would not run)"
                    } else {
                        ""
                    }
                ),
            );
            loaded.free(&mut backend);
            return -errno.0;
        }
    };
    // The held files keep everything as the fds did; the fds belong to insmod and must go.
    loaded.close_fds(&mut backend);
    let pins = held.pins.len();
    // SAFETY: module init, before registering (see `Slot`).
    unsafe { *HELD.0.get() = Some(held) };

    // SAFETY: the slot is filled, so populate calls may start as soon as this succeeds.
    let ret = unsafe { bpf_preload_register() };
    if ret == 0 {
        log(
            Level::Info,
            format_args!(
                "registered with the kernel: every bpffs instance gets `{}/` with {pins} pin(s)",
                object.name
            ),
        );
    } else if Errno(-ret) == Errno::EOPNOTSUPP {
        // A stock kernel: no pins, perhaps the two iterator links.
        expose_iterators();
    } else {
        let errno = Errno(-ret);
        if errno == Errno::EPERM {
            log(
                Level::Err,
                format_args!(
                    "the kernel refuses to preload `{}`: it is not on the preload list \
                     (bpf_preload_list= or CONFIG_BPF_PRELOAD_LIST); nothing is loaded",
                    object.name
                ),
            );
        } else {
            log(
                Level::Err,
                format_args!(
                    "registering `{}` with the kernel failed: {errno}; nothing is loaded",
                    object.name
                ),
            );
        }
        // SAFETY: module init; registration failed, so nothing else reads the slot.
        if let Some(held) = unsafe { (*HELD.0.get()).take() } {
            held.release_all();
        }
        return ret;
    }
    log(
        Level::Info,
        format_args!(
            "loaded `{}`: {} programs, {} maps, {} links{}",
            object.name,
            object.programs.len(),
            object.maps.len(),
            object.links.len(),
            if object.protect {
                "; protected by the guard (BPF LSM: no fd of them for user space)"
            } else {
                ""
            }
        ),
    );
    0
}

/// Stock profile: offers the object's two pinned iterator links to every bpffs
/// mount, if it has exactly two; everything else is held without pins.
fn expose_iterators() {
    // SAFETY: module init, after the slot was filled; nothing else uses it yet.
    let Some(held) = (unsafe { (*HELD.0.get()).as_ref() }) else {
        return;
    };
    let mut iterators = held.pins.iter().filter(|p| p.iterator);
    let mut exposed = 0;
    if let (Some(a), Some(b), None) = (iterators.next(), iterators.next(), iterators.next()) {
        // SAFETY: the names are NUL-terminated (the shim copies them) and the links
        // are held until exit, which releases the hook first.
        let ret = unsafe {
            bpf_preload_expose(
                a.c_name.as_ptr().cast(),
                a.object,
                b.c_name.as_ptr().cast(),
                b.object,
            )
        };
        if ret == 0 {
            exposed = 2;
            log(
                Level::Info,
                format_args!("every bpffs mount shows `{}` and `{}`", a.name, b.name),
            );
        } else {
            log(
                Level::Warning,
                format_args!(
                    "cannot expose `{}` and `{}` in bpffs ({}): holding them",
                    a.name,
                    b.name,
                    Errno(-ret)
                ),
            );
        }
    }
    let unexposed = held.pins.len() - exposed;
    if unexposed > 0 {
        log(
            Level::Info,
            format_args!(
                "this kernel cannot pin from a module: holding {unexposed} object(s) without pins"
            ),
        );
    }
}

/// Seed profile: pins everything the object asks for into `dir`, a new directory of
/// a bpffs instance. The first error stops it; the kernel then removes the directory
/// with whatever was pinned into it.
///
/// # Safety
///
/// `dir` is the directory the kernel passed to the shim's `preload()`, for the
/// duration of that call.
pub unsafe fn populate(dir: *mut c_void) -> c_int {
    // SAFETY: called by the kernel only while registered (see `Slot`).
    let Some(held) = (unsafe { (*HELD.0.get()).as_ref() }) else {
        return -Errno::ENOENT.0;
    };
    for pin in &held.pins {
        // SAFETY: `dir` is the kernel's bpffs directory for this call; the name is
        // NUL-terminated; the object is held (the pin takes its own reference).
        let ret = unsafe { bpf_preload_pin(dir, pin.c_name.as_ptr().cast(), pin.object, pin.kind) };
        if ret < 0 {
            log(
                Level::Err,
                format_args!("pinning `{}` failed: {}", pin.name, Errno(-ret)),
            );
            return ret;
        }
    }
    0
}

/// Module exit (`--unloadable` modules only), after the shim unregistered and
/// released the hook: detaches and frees everything.
pub fn exit() {
    // SAFETY: module exit, after unregistering (see `Slot`).
    if let Some(held) = unsafe { (*HELD.0.get()).take() } {
        held.release_all();
    }
}

/// Defines the module's entry points for the object of type `$ty`.
#[macro_export]
macro_rules! kernel_module {
    ($ty:ty) => {
        $crate::kernel_module!($ty, kconfig = "");
    };
    // `kconfig`: the configuration of the kernel the module is built for (its
    // `include/config/auto.conf`); only the lines the object reads are kept.
    ($ty:ty, kconfig = $kconfig:expr) => {
        const _: () = {
            const OBJECT: &$crate::Object = <$ty as $crate::Preload>::OBJECT;
            // A whole kernel configuration takes a few million steps to filter.
            #[allow(long_running_const_eval)]
            const LEN: usize = $crate::kconfig::filter::<0>(OBJECT, $kconfig).1;
            #[allow(long_running_const_eval)]
            static KCONFIG: ([u8; LEN], usize) = $crate::kconfig::filter::<LEN>(OBJECT, $kconfig);

            #[unsafe(no_mangle)]
            pub extern "C" fn bpf_preload_rust_init() -> ::core::ffi::c_int {
                // Kconfig lines are ASCII, cut at line ends.
                let kconfig = ::core::str::from_utf8(&KCONFIG.0).unwrap_or("");
                $crate::kernel::init(OBJECT, kconfig)
            }
        };

        #[unsafe(no_mangle)]
        pub extern "C" fn bpf_preload_rust_exit() {
            $crate::kernel::exit()
        }

        #[unsafe(no_mangle)]
        pub extern "C" fn bpf_preload_rust_populate(
            dir: *mut ::core::ffi::c_void,
        ) -> ::core::ffi::c_int {
            // SAFETY: called by the shim's preload() with the kernel's directory.
            unsafe { $crate::kernel::populate(dir) }
        }
    };
}

/// The allocator and the panic handler, which only the module's own build defines.
#[cfg(target_os = "none")]
mod lang_items {
    use super::{bpf_preload_alloc, bpf_preload_free, bpf_preload_panic, bpf_preload_realloc};

    /// kmalloc, which aligns to 8 bytes, and naturally for power-of-two sizes.
    struct KernelAlloc;

    const KMALLOC_MIN_ALIGN: usize = 8;

    /// The largest kmalloc on the kernels supported (x86_64 with 4 KiB pages: 1024
    /// pages on 6.1 and 6.12). Larger requests fail here, as an error for
    /// `try_reserve`, rather than reach the page allocator, which warns (a panic
    /// with `panic_on_warn`) before it returns NULL.
    const KMALLOC_MAX_SIZE: usize = 4 << 20;

    /// What to ask kmalloc for `layout`, or `None` if it cannot be had: a power of
    /// two that overflows (which would wrap to a zero-size request, and kmalloc's
    /// `ZERO_SIZE_PTR` is not NULL) or more than kmalloc gives.
    fn kmalloc_size(layout: core::alloc::Layout) -> Option<usize> {
        let size = if layout.align() <= KMALLOC_MIN_ALIGN {
            layout.size()
        } else {
            layout
                .size()
                .max(layout.align())
                .checked_next_power_of_two()?
        };
        (size <= KMALLOC_MAX_SIZE).then_some(size)
    }

    // SAFETY: the shim's allocator returns memory of at least the requested size, with
    // the alignment `kmalloc_size` arranges for, or NULL.
    unsafe impl core::alloc::GlobalAlloc for KernelAlloc {
        unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
            match kmalloc_size(layout) {
                // SAFETY: kmalloc with GFP_KERNEL, from process context.
                Some(size) => unsafe { bpf_preload_alloc(size).cast() },
                None => core::ptr::null_mut(),
            }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, _layout: core::alloc::Layout) {
            // SAFETY: `ptr` came from `alloc` or `realloc`.
            unsafe { bpf_preload_free(ptr.cast()) }
        }

        unsafe fn realloc(
            &self,
            ptr: *mut u8,
            layout: core::alloc::Layout,
            new_size: usize,
        ) -> *mut u8 {
            let new = core::alloc::Layout::from_size_align(new_size, layout.align());
            // On failure `ptr` stays allocated and unchanged, as krealloc leaves it.
            match new.ok().and_then(kmalloc_size) {
                // SAFETY: `ptr` came from `alloc`; krealloc keeps the kmalloc guarantees.
                Some(size) => unsafe { bpf_preload_realloc(ptr.cast(), size).cast() },
                None => core::ptr::null_mut(),
            }
        }
    }

    #[global_allocator]
    static ALLOCATOR: KernelAlloc = KernelAlloc;

    /// A Rust panic is a bug in the loader: report it and stop (see `bpf_preload_panic`).
    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
        // Formatted without allocating: a panic may come from a failed allocation.
        // The shim adds "Rust panic: " itself.
        let msg = crate::line::Line::<256>::format(format_args!("{info}"));
        let msg = msg.as_bytes();
        // SAFETY: `msg` is valid for `len` bytes; the shim prints it and does not return.
        unsafe { bpf_preload_panic(msg.as_ptr().cast(), msg.len()) }
    }
}
