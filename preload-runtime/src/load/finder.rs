//! Finding named types in the running kernel's own BTF through the kernel itself
//! ([`TargetFinder`]), which is how the loader resolves the attach targets of tracing,
//! lsm and iterator programs, and kfuncs and kernel variables.

use alloc::vec::Vec;

use crate::abi;
use crate::backend::Backend;
use crate::errno::Errno;
use crate::sys::Fd;
use crate::sys::{self, MapFd, MapSpec, ProgSpec};

/// Not a BTF kind: asks the finder program for a kallsyms address instead.
const KALLSYMS: u32 = 0;

/// A type found in the running kernel's BTF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelBtfId {
    /// The type's id, in vmlinux or in the module BTF of `btf_obj_fd`.
    pub id: u32,
    /// An fd for the module BTF that holds the type, or `None` for vmlinux.
    pub btf_obj_fd: Option<Fd>,
}

/// Finds attach targets, kfuncs and kernel variables in the running kernel's BTF
/// (vmlinux, then modules), and kernel symbols' addresses, the way light skeletons do:
/// a sleepable syscall program calls `bpf_btf_find_by_name_kind` (or
/// `bpf_kallsyms_lookup_name`) and is run with `BPF_PROG_TEST_RUN`. It needs only
/// bpf(2) commands that the kernel accepts from kernel context, so every backend can
/// use it. One map and one program serve every lookup of a load, and each name is
/// looked up once.
pub struct TargetFinder<'a> {
    map: MapFd,
    prog: Fd,
    /// The map's value: a NUL-padded name, the longest the finder was made for.
    value_size: u32,
    found: Vec<(&'a str, u32, KernelBtfId)>,
}

impl<'a> TargetFinder<'a> {
    /// Creates the map and loads the program, for names of up to `longest_name` bytes.
    pub fn new<B: Backend + ?Sized>(backend: &mut B, longest_name: usize) -> Result<Self, Errno> {
        let value_size = u32::try_from((longest_name + 1).next_multiple_of(8))
            .map_err(|_| Errno::ENAMETOOLONG)?;
        let spec = MapSpec {
            map_type: abi::BPF_MAP_TYPE_ARRAY,
            key_size: 4,
            value_size,
            max_entries: 1,
            name: "preload_btf_id",
            ..Default::default()
        };
        let map = sys::map_create(backend, &spec)?;
        match load_program(backend, map.fd, value_size) {
            Ok(prog) => Ok(Self {
                map,
                prog,
                value_size,
                found: Vec::new(),
            }),
            Err(e) => {
                backend.close(map.fd);
                Err(e)
            }
        }
    }

    /// The type `name` of `kind`. A module BTF fd in the result stays open until
    /// [`TargetFinder::close`].
    pub fn find<B: Backend + ?Sized>(
        &mut self,
        backend: &mut B,
        name: &'a str,
        kind: u32,
    ) -> Result<KernelBtfId, Errno> {
        if let Some(&(_, _, id)) = self.found.iter().find(|f| f.0 == name && f.1 == kind) {
            return Ok(id);
        }
        let ctx = self.run(backend, name, kind)?;
        let result = ctx[0];
        if result < 0 {
            return Err(helper_errno(result));
        }
        // The helper gives a module's BTF fd in the upper half, 0 for vmlinux (an fd
        // the finder never sees as one of its own: the kernel's ABI says vmlinux so).
        let id = KernelBtfId {
            id: result as u32,
            btf_obj_fd: Some((result >> 32) as u32).filter(|&fd| fd != 0),
        };
        if self.found.try_reserve(1).is_err() {
            // Not noted, so not closed by `close`: closed here.
            if let Some(fd) = id.btf_obj_fd {
                backend.close(fd);
            }
            return Err(Errno::ENOMEM);
        }
        self.found.push((name, kind, id));
        Ok(id)
    }

    /// The address of kernel symbol `name`, from kallsyms.
    pub fn address<B: Backend + ?Sized>(
        &mut self,
        backend: &mut B,
        name: &str,
    ) -> Result<u64, Errno> {
        let ctx = self.run(backend, name, KALLSYMS)?;
        if ctx[0] < 0 {
            return Err(helper_errno(ctx[0]));
        }
        Ok(ctx[2] as u64)
    }

    /// Runs the program for `name` and `kind`; returns its context: the helper's
    /// result, the kind, and for kallsyms the address.
    fn run<B: Backend + ?Sized>(
        &mut self,
        backend: &mut B,
        name: &str,
        kind: u32,
    ) -> Result<[i64; 3], Errno> {
        if name.len() >= self.value_size as usize {
            return Err(Errno::ENAMETOOLONG);
        }
        // The helper reads the name from the map value, NUL-padded to its whole size.
        let mut value = Vec::new();
        value
            .try_reserve_exact(self.value_size as usize)
            .map_err(|_| Errno::ENOMEM)?;
        value.extend_from_slice(name.as_bytes());
        value.resize(self.value_size as usize, 0);
        sys::map_update(backend, &self.map, &0u32.to_ne_bytes(), &value)?;

        let mut ctx = [0i64, i64::from(kind), 0];
        let mut bytes = [0u8; 24];
        for (b, v) in bytes.chunks_exact_mut(8).zip(ctx) {
            b.copy_from_slice(&v.to_ne_bytes());
        }
        sys::prog_test_run(backend, self.prog, &mut bytes)?;
        for (v, b) in ctx.iter_mut().zip(bytes.chunks_exact(8)) {
            *v = i64::from_ne_bytes(b.try_into().expect("8 bytes"));
        }
        Ok(ctx)
    }

    /// Closes the map, the program and every module BTF fd found.
    pub fn close<B: Backend + ?Sized>(self, backend: &mut B) {
        for (_, _, id) in self.found {
            if let Some(fd) = id.btf_obj_fd {
                backend.close(fd);
            }
        }
        backend.close(self.prog);
        backend.close(self.map.fd);
    }
}

/// The errno of a helper's negative result, which the kernel computed: `EINVAL` for
/// a value no errno has (rather than an overflow on negating `i64::MIN`).
fn helper_errno(result: i64) -> Errno {
    result
        .checked_neg()
        .and_then(|e| i32::try_from(e).ok())
        .map_or(Errno::EINVAL, Errno)
}

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    let [o0, o1] = off.to_le_bytes();
    let [i0, i1, i2, i3] = imm.to_le_bytes();
    [code, (src << 4) | dst, o0, o1, i0, i1, i2, i3]
}

/// With the name in `map[0]`:
/// `ctx->result = bpf_btf_find_by_name_kind(name, value_size, ctx->kind, 0)`, or for
/// kind [`KALLSYMS`], `ctx->result = bpf_kallsyms_lookup_name(name, value_size, 0,
/// &ctx->address)` (through the stack: the helper writes only there).
fn load_program<B: Backend + ?Sized>(
    backend: &mut B,
    map: Fd,
    value_size: u32,
) -> Result<Fd, Errno> {
    use abi::{
        BPF_ADD, BPF_ALU64, BPF_DW, BPF_JEQ, BPF_JMP, BPF_K, BPF_LDX, BPF_MEM, BPF_MOV, BPF_ST,
        BPF_STX, BPF_W, BPF_X,
    };
    const LD_IMM64: u8 = abi::BPF_LD_IMM64;
    const LDX_W: u8 = BPF_LDX | BPF_MEM | BPF_W;
    const LDX_DW: u8 = BPF_LDX | BPF_MEM | BPF_DW;
    const ST_DW: u8 = BPF_ST | BPF_MEM | BPF_DW;
    const ADD64_IMM: u8 = BPF_ALU64 | BPF_ADD | BPF_K;
    const JEQ_IMM: u8 = BPF_JMP | BPF_JEQ | BPF_K;
    const MOV64_IMM: u8 = BPF_ALU64 | BPF_MOV | BPF_K;
    const MOV64_REG: u8 = BPF_ALU64 | BPF_MOV | BPF_X;
    const CALL: u8 = abi::BPF_JMP_CALL;
    const STX_DW: u8 = BPF_STX | BPF_MEM | BPF_DW;
    const EXIT: u8 = abi::BPF_JMP_EXIT;

    // The whole value is the name's size: the helper wants a NUL at its end, and
    // reads the name up to its first NUL.
    let program = [
        insn(MOV64_REG, 6, 1, 0, 0),
        insn(LDX_W, 3, 6, 8, 0),
        insn(LD_IMM64, 1, abi::BPF_PSEUDO_MAP_IDX_VALUE, 0, 0),
        insn(0, 0, 0, 0, 0),
        insn(MOV64_IMM, 2, 0, 0, value_size as i32),
        insn(JEQ_IMM, 3, 0, 5, KALLSYMS as i32),
        insn(MOV64_IMM, 4, 0, 0, 0),
        insn(CALL, 0, 0, 0, abi::BPF_FUNC_btf_find_by_name_kind),
        insn(STX_DW, 6, 0, 0, 0),
        insn(MOV64_IMM, 0, 0, 0, 0),
        insn(EXIT, 0, 0, 0, 0),
        // kallsyms:
        insn(ST_DW, 10, 0, -8, 0),
        insn(MOV64_IMM, 3, 0, 0, 0),
        insn(MOV64_REG, 4, 10, 0, 0),
        insn(ADD64_IMM, 4, 0, 0, -8),
        insn(CALL, 0, 0, 0, abi::BPF_FUNC_kallsyms_lookup_name),
        insn(STX_DW, 6, 0, 0, 0),
        insn(LDX_DW, 1, 10, -8, 0),
        insn(STX_DW, 6, 1, 16, 0),
        insn(MOV64_IMM, 0, 0, 0, 0),
        insn(EXIT, 0, 0, 0, 0),
    ];
    let fd_array = [map as i32];
    let insns = program.as_flattened();
    let spec = ProgSpec {
        prog_type: abi::BPF_PROG_TYPE_SYSCALL,
        insns,
        license: Some(c"GPL"),
        prog_flags: abi::BPF_F_SLEEPABLE,
        name: "preload_btf_id",
        fd_array: &fd_array,
        ..Default::default()
    };
    sys::prog_load(backend, spec)
}
