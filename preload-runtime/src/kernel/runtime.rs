//! The runtime module's life for each object an object module hands it: load, hold
//! and show it in bpffs (`bpf_preload_load`), pin it into each bpffs instance of a
//! kernel with the preload series (`bpf_preload_populate`), and release or abandon
//! it (`bpf_preload_release`, `bpf_preload_abandon`). runtime.c exports these to
//! object modules (`bpf_preload_runtime.h`); these are the Rust halves.

use core::alloc::Layout;
use core::ffi::{c_char, c_int, c_void, CStr};

use alloc::vec::Vec;

use super::backend::{log, KernelBackend, Level};
use super::ffi;
use super::hold::{Held, HoldError};
use super::status::{self, Shown};
use crate::errno::Errno;
use crate::load::load_with;
use crate::params::Params;
use crate::table::{Object, TABLE_LAYOUT};

/// Whose object the runtime holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// An object module's.
    Object,
    /// The runtime's own: its status view.
    Status,
}

/// What the runtime holds of one object, behind the opaque pointer an object module
/// keeps between its init and exit.
struct Preloaded {
    /// The object module's name, which prefixes its messages.
    module: &'static str,
    object: &'static Object,
    role: Role,
    held: Held,
    /// Whether its two iterator links are offered to bpffs (stock kernels).
    exposed: bool,
    /// Its rows in the status view.
    shown: Vec<Shown>,
}

/// `struct bpf_preload_param` of `bpf_preload_runtime.h`: a module parameter's name
/// and where the text it was given is (the module's `charp` variable, null for none).
#[repr(C)]
struct ParamText {
    name: *const c_char,
    value: *const *const c_char,
}

/// `bpf_preload_load`: checks the table's layout and the values of the object's
/// parameters, then loads, attaches and holds the object, and shows it in bpffs
/// where the kernel lets it. Returns 0 and the handle in `*out`, or a negative errno
/// having printed why; on failure nothing is left behind.
///
/// # Safety
///
/// `name` is the calling module's NUL-terminated name; `table` points to
/// a table whose first field is its `u32` layout and, if that is [`TABLE_LAYOUT`], is
/// an [`Object`] made by `#[bpf_preload]`; `kconfig` points to `kconfig_len` bytes.
/// All of them stay valid until the handle is released or abandoned (they are the
/// calling module's data). `params` points to `nr_params` `struct
/// bpf_preload_param` whose names are NUL-terminated and whose values point to a
/// pointer that is null or NUL-terminated, valid for the call. `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bpf_preload_rust_load(
    name: *const c_char,
    table: *const c_void,
    kconfig: *const c_char,
    kconfig_len: usize,
    params: *const c_void,
    nr_params: usize,
    out: *mut *mut c_void,
) -> c_int {
    // SAFETY: NUL-terminated, the module's name, for as long as the module lives.
    let module = unsafe { CStr::from_ptr(name) }.to_str().unwrap_or("?");
    // SAFETY: every layout starts with it.
    let layout = unsafe { table.cast::<u32>().read() };
    if layout != TABLE_LAYOUT {
        log(
            Level::Err,
            module,
            format_args!(
                "the object's table has layout {layout}, but this runtime reads layout \
                 {TABLE_LAYOUT}: build the object module and the runtime with the same \
                 bpf-preload; nothing is loaded"
            ),
        );
        return -Errno::EINVAL.0;
    }
    // SAFETY: a table of this layout, made by `#[bpf_preload]`, valid as long as its
    // module (see above).
    let object: &'static Object = unsafe { &*table.cast::<Object>() };
    // SAFETY: `kconfig_len` bytes, the module's data.
    let kconfig = unsafe { core::slice::from_raw_parts(kconfig.cast::<u8>(), kconfig_len) };
    let Ok(kconfig) = core::str::from_utf8(kconfig) else {
        log(
            Level::Err,
            module,
            format_args!("the kernel configuration it passed is not UTF-8; nothing is loaded"),
        );
        return -Errno::EINVAL.0;
    };
    let given = if nr_params == 0 {
        &[][..]
    } else {
        // SAFETY: `nr_params` entries at `params` (see above), not null when there are any.
        unsafe { core::slice::from_raw_parts(params.cast::<ParamText>(), nr_params) }
    };
    let Some(params) = parameters(module, object, given) else {
        return -Errno::EINVAL.0;
    };
    // SAFETY: `out` is writable (see above).
    unsafe { hand_over(module, params, kconfig, Role::Object, out) }
}

/// `bpf_preload_load` for the runtime's own status view, from the runtime's init: 0
/// and the handle in `*out`, or a negative errno having printed why.
///
/// # Safety
///
/// `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bpf_preload_rust_load_status(out: *mut *mut c_void) -> c_int {
    // SAFETY: `out` is writable (see above).
    unsafe { hand_over(RUNTIME, Params::new(status::STATUS), "", Role::Status, out) }
}

/// The runtime's name in its messages.
const RUNTIME: &str = "bpf_preload_runtime";

/// Loads and holds the object of `params` (with the values given to its
/// parameters) for `module`, and hands the handle over in `*out`.
///
/// # Safety
///
/// `out` is writable.
unsafe fn hand_over(
    module: &'static str,
    params: Params,
    kconfig: &'static str,
    role: Role,
    out: *mut *mut c_void,
) -> c_int {
    let object = params.object();
    // Room for the handle first, so that nothing loaded is lost to a failed allocation.
    let Some(slot) = allocate::<Preloaded>() else {
        log(
            Level::Err,
            module,
            format_args!(
                "bpf object `{}`: out of memory; nothing is loaded",
                object.name
            ),
        );
        return -Errno::ENOMEM.0;
    };
    match preload(module, &params, kconfig, role) {
        Ok(preloaded) => {
            // SAFETY: `slot` is fresh memory for one `Preloaded`; `out` is writable.
            unsafe {
                slot.write(preloaded);
                out.write(slot.cast());
            }
            0
        }
        Err(errno) => {
            // SAFETY: allocated above for a `Preloaded`, never written.
            unsafe { alloc::alloc::dealloc(slot.cast(), Layout::new::<Preloaded>()) };
            -errno.0
        }
    }
}

/// The values of the object's parameters, each checked against its variable; `None`
/// having printed why one is refused.
fn parameters(module: &str, object: &'static Object, given: &[ParamText]) -> Option<Params> {
    let mut params = Params::new(object);
    for param in given {
        // SAFETY: the module's parameter variable (see `bpf_preload_rust_load`).
        let text = unsafe { param.value.read() };
        if text.is_null() {
            continue;
        }
        // SAFETY: NUL-terminated, valid for the call (see `bpf_preload_rust_load`).
        let (name, value) = unsafe { (CStr::from_ptr(param.name), CStr::from_ptr(text)) };
        let name = name.to_str().unwrap_or("?");
        let Ok(value) = value.to_str() else {
            log(
                Level::Err,
                module,
                format_args!("parameter {name}: the value is not UTF-8; nothing is loaded"),
            );
            return None;
        };
        if let Err(e) = params.set(name, value) {
            log(Level::Err, module, format_args!("{e}; nothing is loaded"));
            return None;
        }
    }
    Some(params)
}

/// Memory for one `T` from the global allocator, or `None`.
fn allocate<T>() -> Option<*mut T> {
    // SAFETY: `Preloaded` is not zero-sized.
    let ptr = unsafe { alloc::alloc::alloc(Layout::new::<T>()) };
    (!ptr.is_null()).then_some(ptr.cast())
}

fn preload(
    module: &'static str,
    params: &Params,
    kconfig: &'static str,
    role: Role,
) -> Result<Preloaded, Errno> {
    let object = params.object();
    let mut backend = KernelBackend { kconfig };
    let loaded = load_with(params, &mut backend).map_err(|e| {
        log(Level::Err, module, format_args!("{e}"));
        e.errno
    })?;
    let held = match Held::take_all(&loaded) {
        Ok(held) => held,
        Err(HoldError { name, errno }) => {
            log(
                Level::Err,
                module,
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
            return Err(errno);
        }
    };
    if role == Role::Status {
        // Its own rows too: the status view shows the runtime's object beside the others.
        let map = loaded.map_fd(crate::status::STATUS_MAP);
        if let Some(file) = map.and_then(|fd| held.file_of(fd)) {
            status::set_map(file);
        }
    }
    // Ids are read off the fds; with no memory for them the object is held unshown.
    let shown = status::rows_of(&loaded).unwrap_or_default();
    // The held files keep everything as the fds did; the fds belong to insmod and must go.
    loaded.close_fds(&mut backend);
    status::write(module, object, &shown, 0);
    let mut preloaded = Preloaded {
        module,
        object,
        role,
        held,
        exposed: false,
        shown,
    };
    // SAFETY: no arguments; a constant of the build.
    if !unsafe { ffi::bpf_preload_pins_per_object() } {
        preloaded.exposed = expose_iterators(&preloaded);
    }
    log(
        Level::Info,
        module,
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
    Ok(preloaded)
}

/// Stock profile: offers the object's two pinned iterator links to every bpffs
/// mount, if it has exactly two; everything else is held without pins. Whether
/// they are offered.
fn expose_iterators(preloaded: &Preloaded) -> bool {
    let (module, held) = (preloaded.module, &preloaded.held);
    let mut iterators = held.pins.iter().filter(|p| p.iterator);
    let mut exposed = 0;
    if let (Some(a), Some(b), None) = (iterators.next(), iterators.next(), iterators.next()) {
        // SAFETY: the names are NUL-terminated (the runtime copies them) and the links
        // are held until `release`, which unexposes them first (or for good, if the
        // object is abandoned).
        let ret = unsafe {
            ffi::bpf_preload_expose(
                preloaded.role == Role::Status,
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
                module,
                format_args!("every bpffs mount shows `{}` and `{}`", a.name, b.name),
            );
        } else {
            log(
                Level::Warning,
                module,
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
            module,
            format_args!(
                "this kernel cannot pin from a module: holding {unexposed} object(s) without pins"
            ),
        );
    }
    exposed > 0
}

/// `bpf_preload_populate`: with the preload series, pins everything the object asks
/// for into `dir`, a new directory of a bpffs instance. The first error stops it;
/// the kernel then removes the directory with whatever was pinned into it.
///
/// # Safety
///
/// `held` is a handle from [`bpf_preload_rust_load`], not yet released or abandoned;
/// `dir` is the directory the kernel passed to the object module's `preload()`, for
/// the duration of that call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bpf_preload_rust_populate(held: *mut c_void, dir: *mut c_void) -> c_int {
    // SAFETY: a live handle (see above); populate calls of one object never run
    // concurrently (the kernel's preload lock), and nothing else writes it.
    let preloaded = unsafe { &*held.cast::<Preloaded>() };
    for pin in &preloaded.held.pins {
        // SAFETY: `dir` is the kernel's bpffs directory for this call; the name is
        // NUL-terminated; the object is held (the pin takes its own reference).
        let ret =
            unsafe { ffi::bpf_preload_pin(dir, pin.c_name.as_ptr().cast(), pin.object, pin.kind) };
        if ret < 0 {
            log(
                Level::Err,
                preloaded.module,
                format_args!("pinning `{}` failed: {}", pin.name, Errno(-ret)),
            );
            return ret;
        }
    }
    0
}

/// Takes the handle back.
///
/// # Safety
///
/// `held` is a handle from [`bpf_preload_rust_load`], given back once.
unsafe fn take(held: *mut c_void) -> Preloaded {
    let slot = held.cast::<Preloaded>();
    // SAFETY: written by `bpf_preload_rust_load`, read once.
    let preloaded = unsafe { slot.read() };
    // SAFETY: allocated there with this layout.
    unsafe { alloc::alloc::dealloc(slot.cast(), Layout::new::<Preloaded>()) };
    preloaded
}

/// `bpf_preload_release`: an unloadable object module's exit, after it unregistered
/// from the kernel: detaches and frees everything.
///
/// # Safety
///
/// `held` is a handle from [`bpf_preload_rust_load`], given back once; no populate
/// call runs or will start.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bpf_preload_rust_release(held: *mut c_void) {
    // SAFETY: see above.
    let preloaded = unsafe { take(held) };
    if preloaded.exposed {
        // SAFETY: a flag; the hook stops offering the links before they go, and any
        // mount that copied them has taken its own references once this returns.
        unsafe { ffi::bpf_preload_unexpose(preloaded.role == Role::Status) };
    }
    match preloaded.role {
        Role::Object => status::delete(preloaded.module, &preloaded.shown),
        // The map goes with it: nothing is written to it from now on.
        Role::Status => status::clear_map(),
    }
    preloaded.held.release_all();
}

/// `bpf_preload_abandon`: the exit of a permanent object module, which only
/// `rmmod -f` reaches: everything stays attached and held, by references nothing
/// will drop; only the runtime's bookkeeping of them is freed.
///
/// # Safety
///
/// As [`bpf_preload_rust_release`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bpf_preload_rust_abandon(held: *mut c_void) {
    // SAFETY: see above.
    let preloaded = unsafe { take(held) };
    // Its links stay offered if they were: they are held for good, and the hook is
    // the runtime's, which stays too.
    status::abandon(preloaded.module, preloaded.object, &preloaded.shown);
    preloaded.held.abandon();
    log(
        Level::Warning,
        preloaded.module,
        format_args!(
            "forced removal: its BPF programs stay attached, held by the runtime until shutdown"
        ),
    );
}
