//! A backend wrapper that fails the n-th fallible call, to prove that a failure at any
//! step leaves nothing behind. Attach targets are looked up through its own `bpf`, so
//! each bpf(2) call of a lookup counts too.

use crate::backend::Backend;
use crate::errno::Errno;
use crate::sys::{Bpf, Fd};

/// Forwards to `inner`, except that fallible call number `fail_at` (counting from 1)
/// fails with `errno` without reaching `inner`. `fail_at == 0` never fails, which
/// counts the calls a load makes.
#[derive(Debug)]
pub struct FailNth<B> {
    /// The backend calls are forwarded to.
    pub inner: B,
    /// The call that fails, counting from 1; 0 for none.
    pub fail_at: usize,
    /// What it fails with (`EINTR` unless set).
    pub errno: Errno,
    calls: usize,
}

impl<B> FailNth<B> {
    /// Fails call `fail_at` of `inner` with `EINTR`.
    pub fn new(inner: B, fail_at: usize) -> Self {
        Self {
            inner,
            fail_at,
            errno: Errno::EINTR,
            calls: 0,
        }
    }

    /// Fallible calls made so far.
    pub fn calls(&self) -> usize {
        self.calls
    }

    fn tick(&mut self) -> Result<(), Errno> {
        self.calls += 1;
        if self.calls == self.fail_at {
            Err(self.errno)
        } else {
            Ok(())
        }
    }
}

impl<B: Bpf> Bpf for FailNth<B> {
    unsafe fn bpf(&mut self, cmd: u32, attr: &mut [u8]) -> Result<u32, Errno> {
        self.tick()?;
        // SAFETY: forwarded unchanged from our caller.
        unsafe { self.inner.bpf(cmd, attr) }
    }
}

impl<B: Backend> Backend for FailNth<B> {
    type Pin = B::Pin;

    fn close(&mut self, fd: Fd) {
        self.inner.close(fd)
    }

    fn attach_tracepoint(&mut self, prog: Fd, category: &str, name: &str) -> Result<Fd, Errno> {
        self.tick()?;
        self.inner.attach_tracepoint(prog, category, name)
    }

    fn pins_at_load(&self) -> bool {
        self.inner.pins_at_load()
    }

    fn pin(&mut self, fd: Fd, name: &'static str) -> Result<Self::Pin, Errno> {
        self.tick()?;
        self.inner.pin(fd, name)
    }

    fn unpin(&mut self, pin: Self::Pin) {
        self.inner.unpin(pin)
    }

    fn shared_map(&mut self, name: &str) -> Result<Option<(Fd, crate::MapDef)>, Errno> {
        self.tick()?;
        self.inner.shared_map(name)
    }

    fn share_map(&mut self, fd: Fd, name: &str) -> Result<(), Errno> {
        self.tick()?;
        self.inner.share_map(fd, name)
    }

    fn unshare_map(&mut self, name: &str) {
        self.inner.unshare_map(name)
    }

    /// Cleanup, like `close`: not a call that fails on purpose.
    fn unregister_struct_ops(&mut self, map: &crate::sys::MapFd) -> Result<(), Errno> {
        self.inner.unregister_struct_ops(map)
    }

    fn map_arena(
        &mut self,
        fd: Fd,
        map_extra: u64,
        pages: u32,
        data: Option<&[u8]>,
    ) -> Result<(), Errno> {
        self.tick()?;
        self.inner.map_arena(fd, map_extra, pages, data)
    }

    fn program_function(&mut self, pin: &str, function: &str) -> Result<(Fd, u32), Errno> {
        self.tick()?;
        self.inner.program_function(pin, function)
    }

    fn possible_cpus(&mut self) -> Result<u32, Errno> {
        self.tick()?;
        self.inner.possible_cpus()
    }

    fn kernel_config(&mut self) -> Result<crate::kconfig::KernelConfig<'_>, Errno> {
        self.tick()?;
        self.inner.kernel_config()
    }

    fn object_id(
        &mut self,
        kind: crate::sys::ObjectKind,
        fd: Fd,
        prog_type: u32,
    ) -> Result<u32, Errno> {
        self.tick()?;
        self.inner.object_id(kind, fd, prog_type)
    }

    fn with_vmlinux_btf(&mut self, read: &mut dyn FnMut(&[u8])) -> Result<(), Errno> {
        self.tick()?;
        self.inner.with_vmlinux_btf(read)
    }

    fn wants_verifier_log(&self) -> bool {
        self.inner.wants_verifier_log()
    }

    fn binds_maps(&self) -> bool {
        self.inner.binds_maps()
    }

    fn warn(&mut self, what: core::fmt::Arguments<'_>) {
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
