//! The kernel backend: the loader inside a module, over the generic C shim
//! (`kernel/shim.c`, contract in `kernel/shim.h`). Stock-kernel profile: load and attach
//! with `kern_sys_bpf`, turn every fd into a kernel reference and close it before
//! module init returns, and offer two iterator links to every bpffs mount through the
//! kernel's preload hook when the object pins exactly two.

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::ffi::{c_char, c_int, c_void};
use core::fmt::{self, Write as _};

use crate::abi;
use crate::backend::{Backend, Fd};
use crate::errno::Errno;
use crate::loader::{load, Loaded};
use crate::table::Object;

#[allow(
    dead_code,
    reason = "the shim's whole contract, not all of it used yet"
)]
extern "C" {
    fn bpf_preload_sys_bpf(cmd: c_int, attr: *mut c_void, size: u32) -> c_int;
    fn bpf_preload_close_fd(fd: u32);
    fn bpf_preload_alloc(size: usize) -> *mut c_void;
    fn bpf_preload_realloc(ptr: *mut c_void, size: usize) -> *mut c_void;
    fn bpf_preload_free(ptr: *mut c_void);
    fn bpf_preload_log(level: c_int, msg: *const c_char, len: usize);
    fn bpf_preload_link_get(fd: u32, link: *mut *mut c_void) -> c_int;
    fn bpf_preload_link_put(link: *mut c_void);
    fn bpf_preload_map_get(fd: u32, map: *mut *mut c_void) -> c_int;
    fn bpf_preload_map_put(map: *mut c_void);
    fn bpf_preload_prog_get(fd: u32, prog_type: u32, prog: *mut *mut c_void) -> c_int;
    fn bpf_preload_prog_put(prog: *mut c_void);
    fn bpf_preload_expose(
        name0: *const c_char,
        link0: *mut c_void,
        name1: *const c_char,
        link1: *mut c_void,
    ) -> c_int;
    fn bpf_preload_unexpose();
    fn bpf_preload_panic(msg: *const c_char, len: usize) -> !;
}

/// printk levels.
#[derive(Clone, Copy)]
pub enum Level {
    Err = 3,
    Warning = 4,
    Info = 6,
}

/// Prints one line through printk, prefixed with the module's name by the shim.
pub fn log(level: Level, args: fmt::Arguments<'_>) {
    let mut line = String::new();
    let _ = line.write_fmt(args);
    // SAFETY: `line` is valid for `len` bytes for the call; the shim prints it with %.*s.
    unsafe { bpf_preload_log(level as c_int, line.as_ptr().cast(), line.len()) };
}

/// bpf(2) from kernel context. Pins are not possible on a stock kernel: the
/// backend only notes them, and [`init`] exposes iterator links through the hook.
#[derive(Debug, Default)]
pub struct KernelBackend;

impl Backend for KernelBackend {
    /// The requested name; nothing is pinned on a stock kernel.
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
}

/// A kernel reference and how to drop it.
struct Ref {
    ptr: *mut c_void,
    put: unsafe extern "C" fn(*mut c_void),
}

/// What the module holds between init and exit.
struct Held {
    refs: Vec<Ref>,
    /// NUL-terminated names of the exposed links, alive while the hook is ours.
    exposed: Option<[[u8; 16]; 2]>,
}

/// Module init and exit never run concurrently, and nothing else touches this.
struct Slot(UnsafeCell<Option<Held>>);

// SAFETY: only module init and module exit use the slot, and the kernel serialises them.
unsafe impl Sync for Slot {}

static HELD: Slot = Slot(UnsafeCell::new(None));

fn take_ref(
    get: unsafe extern "C" fn(u32, *mut *mut c_void) -> c_int,
    put: unsafe extern "C" fn(*mut c_void),
    fd: Fd,
) -> Result<Ref, Errno> {
    let mut ptr = core::ptr::null_mut();
    // SAFETY: `fd` is one of ours and open; `ptr` is writable.
    let ret = unsafe { get(fd, &mut ptr) };
    if ret < 0 {
        return Err(Errno(-ret));
    }
    Ok(Ref { ptr, put })
}

/// References on every link, program and map of `loaded`, taken while its fds are open.
fn hold_all(
    object: &Object,
    loaded: &Loaded<&'static str>,
) -> Result<Vec<Ref>, (Errno, &'static str)> {
    let mut refs = Vec::new();
    let mut take = |r: Result<Ref, Errno>, name: &'static str| match r {
        Ok(r) => {
            refs.push(r);
            Ok(())
        }
        Err(e) => Err((e, name)),
    };
    let result = (|| {
        for link in object.links {
            let prog = &object.programs[link.program];
            let fd = loaded.link_fd(prog.name).expect("every link is loaded");
            take(
                take_ref(bpf_preload_link_get, bpf_preload_link_put, fd),
                prog.name,
            )?;
        }
        for prog in object.programs {
            let fd = loaded
                .program_fd(prog.name)
                .expect("every program is loaded");
            let mut ptr = core::ptr::null_mut();
            // SAFETY: `fd` is one of ours and open; `ptr` is writable.
            let ret = unsafe { bpf_preload_prog_get(fd, prog.prog_type, &mut ptr) };
            let r = if ret < 0 {
                Err(Errno(-ret))
            } else {
                Ok(Ref {
                    ptr,
                    put: bpf_preload_prog_put,
                })
            };
            take(r, prog.name)?;
        }
        for map in object.maps {
            let fd = loaded.map_fd(map.name).expect("every map is loaded");
            take(
                take_ref(bpf_preload_map_get, bpf_preload_map_put, fd),
                map.name,
            )?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(refs),
        Err(e) => {
            put_all(refs);
            Err(e)
        }
    }
}

fn put_all(refs: Vec<Ref>) {
    for r in refs.into_iter().rev() {
        // SAFETY: a reference we took and drop once.
        unsafe { (r.put)(r.ptr) };
    }
}

fn c_name(name: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    let n = name.len().min(15);
    out[..n].copy_from_slice(&name.as_bytes()[..n]);
    out
}

/// The object's iterator links that it asks to pin: what a stock kernel can expose.
fn iterator_pins<'a>(object: &'a Object, refs: &[Ref]) -> Vec<(&'a str, *mut c_void)> {
    object
        .links
        .iter()
        .zip(refs)
        .filter(|(l, _)| object.programs[l.program].expected_attach_type == abi::BPF_TRACE_ITER)
        .filter_map(|(l, r)| Some((l.pin?, r.ptr)))
        .collect()
}

/// Module init: loads, attaches and holds `object`. Returns 0 or a negative errno,
/// having printed why.
pub fn init(object: &'static Object) -> c_int {
    let mut backend = KernelBackend;
    let loaded = match load(object, &mut backend) {
        Ok(loaded) => loaded,
        Err(e) => {
            log(Level::Err, format_args!("{e}"));
            return -e.errno.0;
        }
    };
    let refs = match hold_all(object, &loaded) {
        Ok(refs) => refs,
        Err((errno, name)) => {
            log(
                Level::Err,
                format_args!(
                    "bpf object `{}`: taking a reference on `{name}` failed: {errno}",
                    object.name
                ),
            );
            loaded.free(&mut backend);
            return -errno.0;
        }
    };
    // The references keep everything alive; the fds belong to insmod and must go.
    let pins = loaded.close_fds(&mut backend);

    let mut held = Held {
        refs,
        exposed: None,
    };
    let iterators = iterator_pins(object, &held.refs);
    if let [(name0, link0), (name1, link1)] = iterators[..] {
        let names = [c_name(name0), c_name(name1)];
        // SAFETY: the names are NUL-terminated and the links are held until exit.
        let ret = unsafe {
            bpf_preload_expose(
                names[0].as_ptr().cast(),
                link0,
                names[1].as_ptr().cast(),
                link1,
            )
        };
        if ret == 0 {
            held.exposed = Some(names);
            log(
                Level::Info,
                format_args!("every bpffs mount shows `{name0}` and `{name1}`"),
            );
        } else {
            log(
                Level::Warning,
                format_args!(
                    "cannot expose `{name0}` and `{name1}` in bpffs ({}): holding them",
                    Errno(-ret)
                ),
            );
        }
    }
    let unexposed = pins.len() - if held.exposed.is_some() { 2 } else { 0 };
    if unexposed > 0 {
        log(
            Level::Info,
            format_args!(
                "this kernel cannot pin from a module: holding {unexposed} object(s) without pins"
            ),
        );
    }
    log(
        Level::Info,
        format_args!(
            "loaded `{}`: {} programs, {} maps, {} links",
            object.name,
            object.programs.len(),
            object.maps.len(),
            object.links.len()
        ),
    );
    // SAFETY: module init; exit cannot run concurrently (see `Slot`).
    unsafe { *HELD.0.get() = Some(held) };
    0
}

/// Module exit (`--unloadable` modules only): detaches and frees everything.
pub fn exit() {
    // SAFETY: module exit; init has returned (see `Slot`).
    let Some(held) = (unsafe { (*HELD.0.get()).take() }) else {
        return;
    };
    if held.exposed.is_some() {
        // SAFETY: the hook is ours; after this no bpffs mount asks for our links.
        unsafe { bpf_preload_unexpose() };
    }
    put_all(held.refs);
}

/// Defines the module's entry points for the object of type `$ty`.
#[macro_export]
macro_rules! kernel_module {
    ($ty:ty) => {
        #[no_mangle]
        pub extern "C" fn bpf_preload_rust_init() -> ::core::ffi::c_int {
            $crate::kernel::init(<$ty as $crate::Preload>::OBJECT)
        }

        #[no_mangle]
        pub extern "C" fn bpf_preload_rust_exit() {
            $crate::kernel::exit()
        }
    };
}

/// The allocator and the panic handler, which only the module's own build defines.
#[cfg(target_os = "none")]
mod lang_items {
    use core::fmt::{self, Write as _};

    use super::{bpf_preload_alloc, bpf_preload_free, bpf_preload_panic, bpf_preload_realloc};

    /// kmalloc, which aligns to 8 bytes, and naturally for power-of-two sizes.
    struct KernelAlloc;

    const KMALLOC_MIN_ALIGN: usize = 8;

    fn kmalloc_size(layout: core::alloc::Layout) -> usize {
        if layout.align() <= KMALLOC_MIN_ALIGN {
            layout.size()
        } else {
            layout.size().max(layout.align()).next_power_of_two()
        }
    }

    // SAFETY: the shim's allocator returns memory of at least the requested size, with
    // the alignment `kmalloc_size` arranges for, or NULL.
    unsafe impl core::alloc::GlobalAlloc for KernelAlloc {
        unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
            // SAFETY: kmalloc with GFP_KERNEL, from process context.
            unsafe { bpf_preload_alloc(kmalloc_size(layout)).cast() }
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
            match new {
                // SAFETY: `ptr` came from `alloc`; krealloc keeps the kmalloc guarantees.
                Ok(new) => unsafe { bpf_preload_realloc(ptr.cast(), kmalloc_size(new)).cast() },
                Err(_) => core::ptr::null_mut(),
            }
        }
    }

    #[global_allocator]
    static ALLOCATOR: KernelAlloc = KernelAlloc;

    /// A message formatted without allocating (a panic may come from a failed allocation).
    struct FixedBuf {
        buf: [u8; 256],
        len: usize,
    }

    impl fmt::Write for FixedBuf {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let n = s.len().min(self.buf.len() - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
            self.len += n;
            Ok(())
        }
    }

    /// A Rust panic is a bug in the loader: report it and stop (see `bpf_preload_panic`).
    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
        let mut msg = FixedBuf {
            buf: [0; 256],
            len: 0,
        };
        let _ = write!(msg, "Rust panic: {info}");
        // SAFETY: `msg` is valid for `len` bytes; the shim prints it and does not return.
        unsafe { bpf_preload_panic(msg.buf.as_ptr().cast(), msg.len) }
    }
}
