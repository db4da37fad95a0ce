//! The allocator and the panic handler, which only the module's own build defines.

use super::ffi::{bpf_preload_alloc, bpf_preload_free, bpf_preload_panic, bpf_preload_realloc};

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
