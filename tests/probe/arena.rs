//! `preload-probe arena`: an arena's `__arena` globals from user space (the user
//! backend), in the VM, where arenas exist (Linux 6.9 and later; this host refuses
//! them to every loader). The loader must map the arena at its `map_extra` and write
//! the globals there before `bump` loads: read back through a mapping of the kernel's
//! arena, and through what `bump` computes from them into `.bss`. Then a failure at
//! each call of the load leaves nothing behind.

use arena_counter::ArenaCounter;
use bpf_preload::user::{Mount, UserBackend};
use bpf_preload::{abi, load, Fd, Preload};
use preload_tests::{assert_all_gone, id_of, Kind};

use super::protect::fail_each_call;
use crate::check;

/// Where the object asks the arena to be (`__ulong(map_extra, 1ull << 40)`), and its
/// size in pages.
const ARENA_ADDRESS: u64 = 1 << 40;
const PAGES: usize = 2;

/// The two u64 at the start of the arena `fd`, through a mapping of it at its address
/// (the only one the kernel lets any process use once the arena has one).
fn arena_words(fd: Fd) -> Result<[u64; 2], String> {
    // SAFETY: sysconf has no preconditions.
    let len = PAGES * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    let at = ARENA_ADDRESS as usize as *mut libc::c_void;
    let flags = libc::MAP_SHARED | libc::MAP_FIXED_NOREPLACE;
    // SAFETY: a new shared mapping of the arena, never over one of ours.
    let mapped = unsafe { libc::mmap(at, len, libc::PROT_READ, flags, fd as i32, 0) };
    if mapped == libc::MAP_FAILED {
        return Err(format!(
            "mmap of the arena at {ARENA_ADDRESS:#x}: {}",
            std::io::Error::last_os_error()
        ));
    }
    let words = mapped.cast::<u64>();
    // SAFETY: the mapping is `len` readable bytes, at least two aligned u64.
    let out = unsafe { [words.read(), words.add(1).read()] };
    // SAFETY: the mapping made above, which nothing else uses.
    unsafe { libc::munmap(mapped, len) };
    Ok(out)
}

/// The first u64 of map `fd`'s element 0.
fn element0(b: &mut UserBackend, fd: Fd) -> Result<u64, String> {
    let (key, mut value) = (0u32, 0u64);
    let mut attr = abi::MapElemAttr {
        map_fd: fd,
        key: &key as *const u32 as u64,
        value: &mut value as *mut u64 as u64,
        ..Default::default()
    };
    // SAFETY: a u32 key and a u64 value, `.bss`'s sizes.
    unsafe { bpf_preload::testing::bpf(b, abi::BPF_MAP_LOOKUP_ELEM, &mut attr) }
        .map_err(|e| format!("lookup of .bss: {e}"))?;
    Ok(value)
}

/// BPF_PROG_TEST_RUN of the syscall program `prog`, without context.
fn run_once(b: &mut UserBackend, prog: Fd) -> Result<u32, String> {
    let mut attr = abi::ProgTestRunAttr {
        prog_fd: prog,
        ..Default::default()
    };
    // SAFETY: no buffers: a syscall program runs without context here.
    unsafe { bpf_preload::testing::bpf(b, abi::BPF_PROG_TEST_RUN, &mut attr) }
        .map_err(|e| format!("BPF_PROG_TEST_RUN of bump: {e}"))?;
    Ok(attr.retval)
}

pub fn run() -> Result<bool, String> {
    let object = ArenaCounter::OBJECT;
    let fs = Mount::bpffs().map_err(|e| format!("bpffs: {e}"))?;
    let dir = fs.path().join(object.name.as_str());
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut b = UserBackend::new(&dir);
    let loaded = load(object, &mut b).map_err(|e| format!("load: {e}"))?;
    let arena = loaded.map_fd("arena").expect("loaded");
    let bss = loaded.map_fd(".bss").expect("loaded");
    let bump = loaded.program_fd("bump").expect("loaded");
    let info: abi::MapInfo = b.info_by_fd(arena).map_err(|e| format!("map info: {e}"))?;
    check(
        info.type_ == abi::BPF_MAP_TYPE_ARENA && info.map_extra == ARENA_ADDRESS,
        &format!(
            "the kernel holds an arena of map_extra {:#x} (type {})",
            info.map_extra, info.type_
        ),
    )?;
    let before = arena_words(arena)?;
    check(
        before == [40, 0],
        &format!("the arena holds the object's globals before any run: {before:?}"),
    )?;
    for _ in 0..2 {
        run_once(&mut b, bump)?;
    }
    let after = arena_words(arena)?;
    let seen = element0(&mut b, bss)?;
    check(
        after == [40, 2] && seen == 42,
        &format!(
            "two runs of bump counted in the arena ({after:?}) and read start + runs = {seen}"
        ),
    )?;
    let mut ids = Vec::new();
    for (kind, fd) in [(Kind::Map, arena), (Kind::Map, bss), (Kind::Prog, bump)] {
        ids.push((kind, id_of(&mut b, kind, fd).map_err(|e| e.to_string())?));
    }
    loaded.free(&mut b);
    assert_all_gone(&mut b, &ids, "after free");
    check(true, "free left neither the arena nor its program")?;
    let total = fail_each_call(object, &dir, || Ok(()))?;
    check(
        total > 5,
        &format!("a failure at each of the {total} calls of the load left nothing behind"),
    )?;
    Ok(true)
}
