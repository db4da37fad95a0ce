//! `cargo xtask vm-test`: the modules inside Debian's stock kernels and inside the
//! patched kernel of `kernel/` (`cargo xtask kernel`), under QEMU.
//!
//! The harness is generic: a [`Run`] is one boot of one kernel with some files (the
//! modules, a static helper) in a busybox initramfs and one shell script. The script
//! prints `VERDICT <scenario> PASS|FAIL <detail>` on the serial console; the harness
//! reads those markers, kills QEMU on timeout, and tabulates scenarios x kernels.
//! KVM is not available on the development machines: QEMU emulates (`-accel tcg`).

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};

use crate::module::{self, version_key};
use crate::setup::{ensure_packages, root, run as run_cmd};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only kernels whose release contains this (repeatable), e.g. `--kernel 6.12`;
    /// `--kernel bpf-preload` is the patched kernel (`cargo xtask kernel`), which no
    /// other filter selects: its first build takes 10 minutes or more.
    #[arg(long = "kernel")]
    kernels: Vec<String>,
    /// Only these scenarios (repeatable).
    #[arg(long = "scenario")]
    scenarios: Vec<String>,
    /// Seconds before a VM is killed and its run reported as a timeout.
    #[arg(long, default_value_t = 180)]
    timeout: u64,
    /// VMs run at once [default: the number of CPUs].
    #[arg(long)]
    jobs: Option<usize>,
}

/// Every kernel and scenario, as `cargo xtask vm-test` without options (for `test`).
impl Default for Args {
    fn default() -> Self {
        Self {
            kernels: Vec::new(),
            scenarios: Vec::new(),
            timeout: 180,
            jobs: None,
        }
    }
}

/// A kernel to boot, with the headers (or build tree) of the same ABI: one of Debian's
/// stock kernels, or the patched kernel with the preload series (the seed profile).
#[derive(Debug, Clone)]
pub struct VmKernel {
    pub release: String,
    pub image: PathBuf,
    pub kdir: PathBuf,
    /// The patched kernel's module signing key and certificate, which it trusts;
    /// `None` for a stock kernel.
    pub seed_keys: Option<(PathBuf, PathBuf)>,
}

impl VmKernel {
    pub fn is_seed(&self) -> bool {
        self.seed_keys.is_some()
    }

    /// Extra kernel command line for the scenarios that do not set their own: the
    /// patched kernel refuses objects that are not on its preload list. The kernel's
    /// own iterators (`bpf_preload`) are left out: their programs and map have the
    /// names of the iterators example's, which the scenarios look up by name.
    fn default_cmdline(&self) -> &'static str {
        if self.is_seed() {
            "bpf_preload_list=iterators,mkdir_guard,getppid_count,verifier_reject"
        } else {
            ""
        }
    }
}

/// A module a scenario needs, from an example crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ModuleSpec {
    pub example: &'static str,
    pub unloadable: bool,
    /// Signed: with the patched kernel's own key there, which it trusts; with the test
    /// key (`target/vm/signing/`) on stock kernels, which do not.
    pub signed: bool,
    /// In `/lib/modules/<release>/extra/` with `depmod`, where the patched kernel's
    /// `request_module()` finds it, instead of `/modules/`.
    pub installed: bool,
}

const fn permanent(example: &'static str) -> ModuleSpec {
    ModuleSpec {
        example,
        unloadable: false,
        signed: false,
        installed: false,
    }
}

const fn unloadable(example: &'static str) -> ModuleSpec {
    ModuleSpec {
        unloadable: true,
        ..permanent(example)
    }
}

const fn signed(example: &'static str) -> ModuleSpec {
    ModuleSpec {
        signed: true,
        ..permanent(example)
    }
}

impl ModuleSpec {
    const fn installed(self) -> Self {
        Self {
            installed: true,
            ..self
        }
    }

    fn variant(&self) -> &'static str {
        match (self.unloadable, self.signed) {
            (_, true) => "signed",
            (true, false) => "unloadable",
            (false, false) => "permanent",
        }
    }

    /// What is built: where the module goes does not matter.
    fn build_key(&self) -> (&'static str, bool, bool) {
        (self.example, self.unloadable, self.signed)
    }

    /// Where the module is inside the VM.
    fn dest(&self, file: &str, release: &str) -> String {
        match self.variant() {
            _ if self.installed => format!("lib/modules/{release}/extra/{file}"),
            "permanent" => format!("modules/{file}"),
            variant => format!("modules/{variant}/{file}"),
        }
    }
}

/// A check on the host of the modules a scenario built for a kernel, before boot.
type HostCheck = fn(&VmKernel, &[(ModuleSpec, PathBuf)]) -> Result<String>;

/// Work on the host before a scenario boots on a kernel (`work` is its directory):
/// files for the initramfs, or a boot of its own (a Debian initramfs and root disk).
pub type Prepare = fn(&VmKernel, &Path) -> Result<Prepared>;

/// What [`Prepare`] made.
#[derive(Debug, Default)]
pub struct Prepared {
    /// More files for the busybox initramfs: (source, path inside).
    pub files: Vec<(PathBuf, String)>,
    /// Boot this instead of the busybox initramfs.
    pub media: Option<Media>,
    /// A note for the table, from the host's side.
    pub note: Option<String>,
}

/// A boot with media of its own: an initramfs made elsewhere (Debian's
/// `mkinitramfs`), a root disk, and the command line that goes with them.
#[derive(Debug, Clone)]
pub struct Media {
    /// The kernel image, instead of the run's kernel's (the same kernel, from the tree
    /// that made the initramfs).
    pub kernel: Option<PathBuf>,
    pub initrd: PathBuf,
    /// A raw disk image, the guest's /dev/vda; opened with `snapshot=on`, so that
    /// boots do not change it.
    pub disk: Option<PathBuf>,
    /// The kernel command line, instead of the busybox initramfs's.
    pub cmdline: String,
}

/// The kernels a scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernels {
    /// Every kernel: the stock profile's behaviour, which the patched kernel keeps
    /// (with its objects in `<mount>/<object>/` instead of at the root).
    All,
    /// Only the patched kernel: the seed profile.
    Seed,
    /// Debian's stock kernels (their configuration, e.g. CONFIG_KEYS for kfuncs).
    Stock,
    /// Debian's stock kernels from this release on (for kfuncs of newer kernels).
    StockSince(u32, u32),
    /// Only the stock kernel whose release starts with this.
    Release(&'static str),
}

/// One scenario: modules to build, and a script run as root inside the VM with
/// bpffs not yet mounted. Modules are at /modules/<name>.ko (permanent),
/// /modules/unloadable/<name>.ko and /modules/signed/<name>.ko, or installed in
/// /lib/modules; `pass`/`fail DETAIL` print the verdict, `pins MOUNT OBJECT` says
/// where an object's pins are, and `preload-probe` (tests/probe.rs) asks the kernel
/// about BPF objects.
pub struct Scenario {
    pub name: &'static str,
    pub kernels: Kernels,
    /// Extra kernel command line, instead of the kernel's default.
    pub cmdline: Option<&'static str>,
    pub modules: Vec<ModuleSpec>,
    pub script: &'static str,
    pub host_check: Option<HostCheck>,
    pub prepare: Option<Prepare>,
}

/// Debian's `nf_conntrack.ko` of the scenario's kernel, the modules it depends on
/// (modules.dep) and `crc32c_generic`, which libcrc32c asks the crypto API for (a
/// softdep), decompressed, for `modprobe` in the guest.
fn conntrack_modules(kernel: &VmKernel, work: &Path) -> Result<Prepared> {
    let dir = PathBuf::from(format!("/lib/modules/{}", kernel.release));
    let dep = fs::read_to_string(dir.join("modules.dep"))
        .with_context(|| format!("reading {}/modules.dep", dir.display()))?;
    fs::create_dir_all(work)?;
    let mut prepared = Prepared::default();
    for wanted in [
        "kernel/crypto/crc32c_generic.ko",
        "kernel/net/netfilter/nf_conntrack.ko",
    ] {
        let line = dep
            .lines()
            .find(|l| l.starts_with(wanted))
            .with_context(|| format!("no {wanted} in {}/modules.dep", dir.display()))?;
        for module in line.split([':', ' ']).filter(|m| !m.is_empty()) {
            let plain = module.trim_end_matches(".xz");
            let dest = format!("lib/modules/{}/{plain}", kernel.release);
            if prepared.files.iter().any(|(_, d)| *d == dest) {
                continue;
            }
            let src = dir.join(module);
            let copy = work.join(format!("distro-{}", plain.replace('/', "_")));
            if module.ends_with(".xz") {
                let out = Command::new("xz").arg("-dc").arg(&src).output()?;
                if !out.status.success() {
                    bail!(
                        "xz -dc {}: {}",
                        src.display(),
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                fs::write(&copy, out.stdout)?;
            } else {
                fs::copy(&src, &copy).with_context(|| format!("copying {}", src.display()))?;
            }
            prepared.files.push((copy, dest));
        }
    }
    Ok(prepared)
}

pub fn scenarios() -> Vec<Scenario> {
    let mut all = stock_scenarios();
    all.extend(seed_scenarios());
    all.extend(crate::userflow::scenarios());
    all.extend(crate::tamper::scenarios());
    all
}

/// What a module does on any kernel: on the patched one, its pins go into
/// `<mount>/<object>/` (`pins`), and the default preload list names every example.
fn stock_scenarios() -> Vec<Scenario> {
    let scenario = |name, modules, script| Scenario {
        name,
        kernels: Kernels::All,
        cmdline: None,
        modules,
        script,
        host_check: None,
        prepare: None,
    };
    vec![
        scenario(
            "iterators",
            vec![permanent("examples/iterators")],
            r#"
t0=$(now)
insmod /modules/iterators.ko || { fail "insmod failed: $(klog iterators)"; exit 0; }
t1=$(now)
dmesg | grep 'iterators:'
mount -t bpf bpf /sys/fs/bpf || { fail "mount bpffs"; exit 0; }
d=$(pins /sys/fs/bpf iterators)
ls -l $d
echo "--- cat $d/maps.debug"; cat $d/maps.debug
echo "--- cat $d/progs.debug"; cat $d/progs.debug
maps=$(cat $d/maps.debug) || { fail "no maps.debug"; exit 0; }
progs=$(cat $d/progs.debug) || { fail "no progs.debug"; exit 0; }
echo "$maps" | grep -q 'iterator.rodata' || { fail "maps.debug lacks iterator.rodata"; exit 0; }
echo "$progs" | grep -q dump_bpf_map || { fail "progs.debug lacks dump_bpf_map"; exit 0; }
echo "$progs" | grep -q dump_bpf_prog || { fail "progs.debug lacks dump_bpf_prog"; exit 0; }
# Every new mount shows them; unmounting changes nothing for the module.
umount /sys/fs/bpf
mkdir -p /mnt/b2 && mount -t bpf bpf /mnt/b2 || { fail "second mount"; exit 0; }
grep -q dump_bpf_prog $(pins /mnt/b2 iterators)/progs.debug || { fail "a second mount lacks progs.debug"; exit 0; }
pass "insmod took $(elapsed $t0 $t1) ms; maps.debug and progs.debug in every mount ($d), listing our map and programs"
"#,
        ),
        Scenario {
            kernels: Kernels::Stock,
            ..scenario(
                "externs",
                vec![permanent("examples/externs")],
                r#"
insmod /modules/externs.ko || { fail "insmod failed: $(klog externs)"; exit 0; }
out=$(preload-probe iter dump_externs) || { fail "reading the iterator: $out"; exit 0; }
echo "$out"
got() { echo "$out" | sed -n "s/^$1 //p"; }
cfg() { sed -n "s/^$1=//p" /kernel.config; }
tri() { case "$(cfg $1)" in y) echo 1;; m) echo 2;; *) echo 0;; esac; }
check() { [ "$(got $1)" = "$2" ] || { fail "$1 is '$(got $1)', the kernel says '$2'"; exit 0; }; }
check CONFIG_HZ "$(cfg CONFIG_HZ)"
check CONFIG_BPF_SYSCALL 1
check CONFIG_BTRFS_FS "$(tri CONFIG_BTRFS_FS)"
check CONFIG_CC_VERSION_TEXT "$(cfg CONFIG_CC_VERSION_TEXT | tr -d '"' | cut -c1-63)"
check LINUX_HAS_SYSCALL_WRAPPER "$(tri CONFIG_ARCH_HAS_SYSCALL_WRAPPER)"
check CONFIG_BPF_PRELOAD_NO_SUCH_OPTION 0
check bpf_lookup_system_key 1
check bpf_preload_no_such_kfunc 0
check vfs_read "$(sed -n 's/^0*\([0-9a-f]*\) [Tt] vfs_read$/\1/p' /proc/kallsyms)"
v=$(got LINUX_KERNEL_VERSION)
case "$(uname -r)" in "$((v >> 16)).$(((v >> 8) & 255))."*) ;; *) fail "LINUX_KERNEL_VERSION $v is not $(uname -r)"; exit 0;; esac
pass "Kconfig (bool, tristate, int, string, weak), kfuncs, a kallsyms address and a missing weak kfunc resolved from the module as the kernel says"
"#,
            )
        },
        Scenario {
            kernels: Kernels::Stock,
            ..scenario(
                "typed-ksym",
                vec![permanent("examples/typed_ksym")],
                r#"
insmod /modules/typed_ksym.ko || { fail "insmod failed: $(klog typed_ksym)"; exit 0; }
out=$(preload-probe iter dump_typed_ksym) || { fail "reading the iterator: $out"; exit 0; }
echo "$out"
v=$(echo "$out" | sed -n 's/^bpf_prog_active //p')
case "$v" in ''|*[!0-9]*) fail "no value of bpf_prog_active: $out"; exit 0;; esac
pass "the per-CPU variable bpf_prog_active, by its BTF id from the module, reads $v"
"#,
            )
        },
        Scenario {
            kernels: Kernels::StockSince(6, 6),
            ..scenario(
                "kernel-iterators",
                vec![permanent("examples/kernel_iterators")],
                r#"
insmod /modules/kernel_iterators.ko || { fail "insmod failed: $(klog kernel_iterators)"; exit 0; }
mount -t bpf bpf /sys/fs/bpf || { fail "mount bpffs"; exit 0; }
echo "--- maps.debug"; cat /sys/fs/bpf/maps.debug
echo "--- progs.debug"; cat /sys/fs/bpf/progs.debug
head -1 /sys/fs/bpf/maps.debug | grep -q 'cur_entries' || { fail "maps.debug has no cur_entries column"; exit 0; }
line=$(grep ' kernel_i.rodata ' /sys/fs/bpf/maps.debug) || { fail "maps.debug lacks the object's own .rodata"; exit 0; }
set -- $line
case "$4" in ''|*[!0-9]*) fail "no element count from bpf_map_sum_elem_count(): $line"; exit 0;; esac
grep -q 'dump_bpf_prog' /sys/fs/bpf/progs.debug || { fail "progs.debug lacks dump_bpf_prog"; exit 0; }
pass "the kernel's own iterators.bpf.o: maps.debug (element counts by the kfunc bpf_map_sum_elem_count) and progs.debug"
"#,
            )
        },
        // nf_conntrack: Debian's module, a kfunc provider the patched kernel lacks.
        // bpf_ksym_exists() of a kfunc (an ld_imm64 of its BTF id) needs 6.4, with
        // libbpf too.
        Scenario {
            kernels: Kernels::StockSince(6, 4),
            prepare: Some(conntrack_modules),
            ..scenario(
                "module-kfunc",
                vec![unloadable("examples/module_kfunc")],
                r#"
insmod /modules/unloadable/module_kfunc.ko || { fail "insmod without nf_conntrack failed: $(klog module_kfunc)"; exit 0; }
r=$(preload-probe run ct_lookup) || { fail "test run: $r"; exit 0; }
[ "$r" = 10 ] || { fail "without nf_conntrack the program returned $r, not 10 (kfunc missing)"; exit 0; }
rmmod module_kfunc || { fail "rmmod failed"; exit 0; }
modprobe nf_conntrack || { fail "modprobe nf_conntrack failed"; exit 0; }
insmod /modules/unloadable/module_kfunc.ko || { fail "insmod with nf_conntrack failed: $(klog module_kfunc)"; exit 0; }
r=$(preload-probe run ct_lookup) || { fail "test run: $r"; exit 0; }
[ "$r" = 12 ] || { fail "with nf_conntrack the program returned $r, not 12 (the kfunc ran, no connection)"; exit 0; }
pass "the weak kfunc bpf_xdp_ct_lookup: missing without nf_conntrack (10), called in the module's BTF with it (12)"
"#,
            )
        },
        // `.struct_ops.link`: BPF_F_LINK maps and struct_ops links are from 6.4.
        Scenario {
            kernels: Kernels::StockSince(6, 4),
            ..scenario(
                "struct-ops-link",
                vec![unloadable("examples/tcp_cc_link")],
                r#"
cc=preload_renol
available() { cat /proc/sys/net/ipv4/tcp_available_congestion_control; }
ip link set lo up || { fail "cannot bring lo up"; exit 0; }
insmod /modules/unloadable/tcp_cc_link.ko || { fail "insmod failed: $(klog tcp_cc_link)"; exit 0; }
available | grep -qw $cc || { fail "$cc is not available: $(available)"; exit 0; }
used=$(preload-probe tcp $cc 4194304) || { fail "a connection with $cc: $used"; exit 0; }
[ "$used" = $cc ] || { fail "the connection used $used"; exit 0; }
rmmod tcp_cc_link || { fail "rmmod failed: $(klog tcp_cc_link)"; exit 0; }
available | grep -qw $cc && { fail "$cc is still available after rmmod: $(available)"; exit 0; }
gone=$(preload-probe absent map preload_renol prog reno_init) || { fail "left behind: $gone"; exit 0; }
pass "$cc, registered by a struct_ops link the module held, carried a connection; rmmod dropped the link and unregistered it"
"#,
            )
        },
        // The patched kernel is built without networking.
        Scenario {
            kernels: Kernels::Stock,
            ..scenario(
                "struct-ops",
                vec![permanent("examples/tcp_cc"), unloadable("examples/tcp_cc")],
                r#"
cc=preload_reno
available() { cat /proc/sys/net/ipv4/tcp_available_congestion_control; }
ip link set lo up || { fail "cannot bring lo up"; exit 0; }
insmod /modules/unloadable/tcp_cc.ko || { fail "insmod failed: $(klog tcp_cc)"; exit 0; }
available | grep -qw $cc || { fail "$cc is not available: $(available)"; exit 0; }
used=$(preload-probe tcp $cc 4194304) || { fail "a connection with $cc: $used"; exit 0; }
[ "$used" = $cc ] || { fail "the connection used $used"; exit 0; }
# Selected as the default, it carries connections that ask for nothing.
echo $cc > /proc/sys/net/ipv4/tcp_congestion_control || { fail "cannot select $cc"; exit 0; }
used=$(preload-probe tcp default 4194304) || { fail "a connection by default: $used"; exit 0; }
[ "$used" = $cc ] || { fail "the default connection used $used"; exit 0; }
set -- $(preload-probe lookup cc_events 0) $(preload-probe lookup cc_events 1)
[ "${1:-0}" -ge 2 ] && [ "${2:-0}" -ge 1 ] || { fail "cc_events: $1 connections, $2 window ACKs"; exit 0; }
echo cubic > /proc/sys/net/ipv4/tcp_congestion_control
rmmod tcp_cc || { fail "rmmod failed: $(klog tcp_cc)"; exit 0; }
available | grep -qw $cc && { fail "$cc is still available after rmmod: $(available)"; exit 0; }
gone=$(preload-probe absent map preload_reno map cc_events prog reno_init prog reno_cong_avoid) || { fail "left behind: $gone"; exit 0; }
# The permanent module: registered until shutdown.
insmod /modules/tcp_cc.ko || { fail "insmod of the permanent module failed: $(klog tcp_cc)"; exit 0; }
rmmod tcp_cc 2>/dev/null && { fail "rmmod of the permanent module succeeded"; exit 0; }
used=$(preload-probe tcp $cc 1048576) || { fail "after rmmod was refused: $used"; exit 0; }
pass "$cc (struct tcp_congestion_ops laid out from the kernel's BTF) carried loopback connections, by choice and as the default ($1 connections, $2 window ACKs counted); after rmmod of the unloadable module it and its programs are gone"
"#,
            )
        },
        scenario(
            "lsm",
            vec![permanent("examples/mkdir_guard")],
            r#"
insmod /modules/mkdir_guard.ko || { fail "insmod failed: $(klog mkdir_guard)"; exit 0; }
dmesg | grep 'mkdir_guard:'
out=$(mkdir /tmp/bpf-preload-reserved 2>&1) && { fail "mkdir of the reserved name succeeded"; exit 0; }
echo "$out"
echo "$out" | grep -q 'Operation not permitted' || { fail "mkdir failed, but not with EPERM: $out"; exit 0; }
mkdir /tmp/other || { fail "mkdir of another name failed"; exit 0; }
mkdir -p /tmp/a/b || { fail "mkdir -p failed"; exit 0; }
# A bpffs coming and going changes nothing.
mount -t bpf bpf /sys/fs/bpf && umount /sys/fs/bpf
mkdir /tmp/a/bpf-preload-reserved 2>/dev/null && { fail "refusal gone after a bpffs mount and umount"; exit 0; }
refusals=$(preload-probe lookup refusals 0) || { fail "cannot read the refusals map"; exit 0; }
[ "$refusals" = 2 ] || { fail "refusals map says $refusals, expected 2"; exit 0; }
pass "mkdir bpf-preload-reserved: EPERM, other mkdirs work, refusals map = $refusals"
"#,
        ),
        scenario(
            "tracing",
            vec![permanent("examples/getppid_count")],
            r#"
insmod /modules/getppid_count.ko || { fail "insmod failed: $(klog getppid_count)"; exit 0; }
dmesg | grep 'getppid_count:'
id=$(preload-probe find map getppid_calls) || { fail "no map getppid_calls"; exit 0; }
a=$(preload-probe getppid 3 getppid_calls) || { fail "probe failed: $a"; exit 0; }
b=$(preload-probe getppid 250 getppid_calls) || { fail "probe failed: $b"; exit 0; }
[ "$a" -ge 3 ] && [ "$b" -ge 250 ] || { fail "counts $a and $b, expected at least 3 and 250"; exit 0; }
pass "map getppid_calls (id $id) counted $a and $b getppid(2) calls of two processes (3 and 250 made)"
"#,
        ),
        scenario(
            "permanent",
            vec![
                permanent("examples/iterators"),
                permanent("examples/mkdir_guard"),
            ],
            r#"
insmod /modules/iterators.ko && insmod /modules/mkdir_guard.ko || { fail "insmod failed: $(klog iterators) $(klog mkdir_guard)"; exit 0; }
grep -E '^(iterators|mkdir_guard) ' /proc/modules
out=$(rmmod iterators 2>&1) && { fail "rmmod iterators succeeded"; exit 0; }
echo "$out"
rmmod mkdir_guard 2>/dev/null && { fail "rmmod mkdir_guard succeeded"; exit 0; }
mount -t bpf bpf /sys/fs/bpf && grep -q dump_bpf_prog $(pins /sys/fs/bpf iterators)/progs.debug || { fail "iterators gone after rmmod"; exit 0; }
umount /sys/fs/bpf
mkdir /tmp/bpf-preload-reserved 2>/dev/null && { fail "LSM gone after rmmod"; exit 0; }
# Debian enables CONFIG_MODULE_FORCE_UNLOAD: rmmod -f removes the modules (tainting
# the kernel), but the programs stay attached and the bpffs hook does not dangle.
rmmod -f mkdir_guard iterators || { fail "rmmod -f failed"; exit 0; }
klog iterators
mkdir /tmp/bpf-preload-reserved 2>/dev/null && { fail "LSM gone after rmmod -f"; exit 0; }
mount -t bpf bpf /sys/fs/bpf || { fail "bpffs mount after rmmod -f"; exit 0; }
[ -e $(pins /sys/fs/bpf iterators)/maps.debug ] && { fail "the hook still offers links after rmmod -f"; exit 0; }
preload-probe find link dump_bpf_map >/dev/null || { fail "the iterator links are gone after rmmod -f"; exit 0; }
pass "rmmod refused ($out); after rmmod -f the programs still run and a new bpffs mount works"
"#,
        ),
        scenario(
            "unloadable",
            vec![
                unloadable("examples/iterators"),
                unloadable("examples/mkdir_guard"),
                unloadable("examples/getppid_count"),
            ],
            r#"
for m in iterators mkdir_guard getppid_count; do
    insmod /modules/unloadable/$m.ko || { fail "insmod $m failed: $(klog $m)"; exit 0; }
done
mount -t bpf bpf /sys/fs/bpf
grep -q iterator.rodata $(pins /sys/fs/bpf iterators)/maps.debug || { fail "no maps.debug"; exit 0; }
# The kernel's own references on the pins of a mount outlive the module.
umount /sys/fs/bpf
mkdir /tmp/bpf-preload-reserved 2>/dev/null && { fail "LSM not active"; exit 0; }
preload-probe getppid 5 getppid_calls >/dev/null || { fail "getppid_calls not counting"; exit 0; }
for m in iterators mkdir_guard getppid_count; do
    rmmod $m || { fail "rmmod $m failed"; exit 0; }
done
dmesg | grep -E 'iterators:|mkdir_guard:|getppid_count:' | tail -6
gone=$(preload-probe absent prog dump_bpf_map prog dump_bpf_prog prog refuse_reserved prog count_getppid \
    link dump_bpf_map link dump_bpf_prog link refuse_reserved link count_getppid \
    map iterator.rodata map refusals map getppid_calls) || { fail "left behind: $gone"; exit 0; }
mkdir /tmp/bpf-preload-reserved || { fail "mkdir still refused after rmmod"; exit 0; }
mount -t bpf bpf /sys/fs/bpf
[ -e $(pins /sys/fs/bpf iterators)/maps.debug ] && { fail "a new bpffs mount still shows maps.debug"; exit 0; }
pass "after rmmod no program, map or link of the three modules remains; the hook is free"
"#,
        ),
        scenario(
            "rejected",
            vec![permanent(REJECTED)],
            r#"
insmod /modules/verifier_reject.ko 2>/dev/null && { fail "insmod succeeded"; exit 0; }
msg=$(kmsg | grep '^verifier_reject: ' | grep -v -e taints -e 'verification failed')
echo "$msg"
for word in '`verifier_reject`' '`bad_deref`' BPF_PROG_LOAD EACCES; do
    echo "$msg" | grep -q -F "$word" || { fail "the message does not say $word: $msg"; exit 0; }
done
grep -q '^verifier_reject ' /proc/modules && { fail "the module stayed loaded"; exit 0; }
left=$(preload-probe absent prog allowed prog bad_deref map reject_counts link allowed) || { fail "left behind: $left"; exit 0; }
pass "insmod refused: $(echo "$msg" | head -1)"
"#,
        ),
        Scenario {
            host_check: Some(check_signer),
            ..scenario(
                "signed",
                vec![signed("examples/iterators")],
                r#"
tail -c 28 /modules/signed/iterators.ko | grep -q '~Module signature appended~' || { fail "no signature appended"; exit 0; }
insmod /modules/signed/iterators.ko || { fail "insmod failed: $(klog iterators)"; exit 0; }
dmesg | grep 'iterators:'
mount -t bpf bpf /sys/fs/bpf && grep -q dump_bpf_map $(pins /sys/fs/bpf iterators)/progs.debug || { fail "no progs.debug"; exit 0; }
pass "the signed module loads and works"
"#,
            )
        },
    ]
}

/// The seed profile on the patched kernel: objects on the preload list, loaded on
/// demand, each in its own directory of every bpffs instance, held by the kernel's.
fn seed_scenarios() -> Vec<Scenario> {
    let scenario = |name, cmdline, modules, script| Scenario {
        name,
        kernels: Kernels::Seed,
        cmdline: Some(cmdline),
        modules,
        script,
        host_check: None,
        prepare: None,
    };
    vec![
        scenario(
            "seed-preload",
            "bpf_preload_list=bpf_preload,iterators,getppid_count",
            vec![
                permanent("examples/iterators").installed(),
                permanent("examples/getppid_count").installed(),
            ],
            r#"
dmesg | grep -E 'bpf_preload|iterators:|getppid_count:'
for m in iterators getppid_count; do
    grep -q "^$m " /proc/modules || { fail "$m was not loaded on demand: $(dmesg | grep bpf_preload | tail -2)"; exit 0; }
done
dmesg | grep -q "bpf_preload: the kernel's bpffs instance holds" || { fail "the kernel mounted no bpffs instance"; exit 0; }
mount -t bpf bpf /sys/fs/bpf || { fail "mount bpffs"; exit 0; }
ls -lR /sys/fs/bpf
[ -f /sys/fs/bpf/maps.debug ] && [ -f /sys/fs/bpf/progs.debug ] || { fail "the kernel's own iterators are not at the root"; exit 0; }
for f in iterators/maps.debug iterators/progs.debug getppid_count/getppid_calls getppid_count/count_getppid; do
    [ -f /sys/fs/bpf/$f ] || { fail "no /sys/fs/bpf/$f"; exit 0; }
done
echo "--- cat /sys/fs/bpf/iterators/progs.debug"
progs=$(cat /sys/fs/bpf/iterators/progs.debug) || { fail "cannot read iterators/progs.debug"; exit 0; }
echo "$progs"
for p in dump_bpf_map dump_bpf_prog count_getppid; do
    echo "$progs" | grep -q " $p " || { fail "iterators/progs.debug does not list $p"; exit 0; }
done
grep -q ' getppid_calls ' /sys/fs/bpf/iterators/maps.debug || { fail "iterators/maps.debug does not list getppid_calls"; exit 0; }
n=$(preload-probe getppid 40 /sys/fs/bpf/getppid_count/getppid_calls) || { fail "reading the pinned map: $n"; exit 0; }
[ "$n" -ge 40 ] || { fail "the pinned getppid_calls says $n after 40 calls"; exit 0; }
pass "both modules loaded by request_module(); a fresh mount has iterators/ and getppid_count/; progs.debug lists both objects' programs; the map opened by path counted $n of 40 getppid(2) calls"
"#,
        ),
        scenario(
            "seed-unlisted",
            "bpf_preload_list=bpf_preload,iterators",
            vec![permanent("examples/mkdir_guard")],
            r#"
out=$(insmod /modules/mkdir_guard.ko 2>&1) && { fail "insmod of an unlisted object succeeded"; exit 0; }
echo "$out"
dmesg | grep -E 'bpf_preload|mkdir_guard'
dmesg | grep -q 'bpf_preload: mkdir_guard is not on the preload list' || { fail "the kernel did not say why"; exit 0; }
msg=$(klog mkdir_guard)
echo "$msg" | grep -q 'not on the preload list' || { fail "the module did not say why: $msg"; exit 0; }
grep -q '^mkdir_guard ' /proc/modules && { fail "the module stayed loaded"; exit 0; }
mkdir /tmp/bpf-preload-reserved || { fail "the LSM program stayed attached"; exit 0; }
left=$(preload-probe absent prog refuse_reserved link refuse_reserved map refusals) || { fail "left behind: $left"; exit 0; }
pass "insmod: $out; the module: $msg"
"#,
        ),
        scenario(
            "seed-held",
            "bpf_preload_list=bpf_preload,mkdir_guard,getppid_count",
            vec![
                unloadable("examples/mkdir_guard").installed(),
                unloadable("examples/getppid_count").installed(),
            ],
            r#"
for m in mkdir_guard getppid_count; do
    grep -q "^$m " /proc/modules || { fail "$m was not loaded on demand"; exit 0; }
done
mount -t bpf bpf /sys/fs/bpf && mkdir -p /mnt/b2 && mount -t bpf bpf /mnt/b2 || { fail "mount bpffs"; exit 0; }
ls -lR /mnt/b2
# Root drops everything it can: every pin of both objects in every user mount, the
# mounts, the modules (which drop their own references), and the module files.
for mnt in /sys/fs/bpf /mnt/b2; do
    for d in mkdir_guard getppid_count; do
        rm $mnt/$d/* && rmdir $mnt/$d || { fail "cannot delete $mnt/$d"; exit 0; }
    done
    umount $mnt || { fail "umount $mnt"; exit 0; }
done
rmmod mkdir_guard getppid_count || { fail "rmmod failed"; exit 0; }
rm -rf /lib/modules
grep -E '^(mkdir_guard|getppid_count) ' /proc/modules && { fail "the modules are still loaded"; exit 0; }
out=$(mkdir /tmp/bpf-preload-reserved 2>&1) && { fail "the LSM stopped refusing"; exit 0; }
n=$(preload-probe getppid 30 getppid_calls) || { fail "getppid_calls is gone: $n"; exit 0; }
[ "$n" -ge 30 ] || { fail "getppid_calls counted $n of 30"; exit 0; }
mount -t bpf bpf /sys/fs/bpf || { fail "mount bpffs"; exit 0; }
[ -e /sys/fs/bpf/mkdir_guard ] && { fail "a fresh mount has mkdir_guard/ without its module"; exit 0; }
grep -q ' refuse_reserved' /sys/fs/bpf/progs.debug || { fail "progs.debug lacks refuse_reserved"; exit 0; }
pass "no pins, no user mount, no modules: mkdir still refused ($out), getppid_calls counted $n of 30: the kernel's own bpffs instance holds them"
"#,
        ),
        Scenario {
            host_check: Some(check_signer),
            ..scenario(
                "seed-signed",
                "bpf_preload_list=bpf_preload,iterators module.sig_enforce=1",
                vec![
                    permanent("examples/iterators"),
                    signed("examples/iterators"),
                ],
                r#"
grep -q Y /sys/module/module/parameters/sig_enforce || { fail "module.sig_enforce is not on"; exit 0; }
out=$(insmod /modules/iterators.ko 2>&1) && { fail "the unsigned module loaded"; exit 0; }
echo "$out"
grep -q '^iterators ' /proc/modules && { fail "the unsigned module is loaded"; exit 0; }
insmod /modules/signed/iterators.ko || { fail "the signed module was refused: $(dmesg | tail -2)"; exit 0; }
mount -t bpf bpf /sys/fs/bpf && grep -q dump_bpf_prog /sys/fs/bpf/iterators/progs.debug || { fail "no iterators/progs.debug"; exit 0; }
pass "unsigned: $out; signed with the kernel's build key: loads, and bpffs shows iterators/"
"#,
            )
        },
        scenario(
            "seed-rejected",
            "bpf_preload_list=bpf_preload,verifier_reject",
            vec![permanent(REJECTED).installed()],
            r#"
dmesg | grep -E 'bpf_preload|verifier_reject:' | grep -v 'verification failed'
dmesg | grep -q 'bpf_preload: verifier_reject is on the preload list but did not register' || { fail "the kernel did not report the failed object"; exit 0; }
msg=$(kmsg | grep '^verifier_reject: ' | grep -F '`bad_deref`' | head -1)
echo "$msg" | grep -q -F 'BPF_PROG_LOAD' || { fail "the module did not say what failed: $msg"; exit 0; }
mount -t bpf bpf /sys/fs/bpf || { fail "mount bpffs"; exit 0; }
ls -la /sys/fs/bpf
[ -e /sys/fs/bpf/verifier_reject ] && { fail "a partial directory was left: $(ls /sys/fs/bpf/verifier_reject)"; exit 0; }
grep -q '^verifier_reject ' /proc/modules && { fail "the module stayed loaded"; exit 0; }
left=$(preload-probe absent prog allowed prog bad_deref map reject_counts link allowed) || { fail "left behind: $left"; exit 0; }
pass "the listed object failed while the kernel preloaded it (program allowed loaded, bad_deref rejected): no directory, no pins, nothing loaded; $msg"
"#,
        ),
    ]
}

/// A crate whose program the verifier rejects (made here: it is no example).
const REJECTED: &str = "target/vm/fixtures/verifier_reject";

const REJECTED_BPF: &str = r#"// SPDX-License-Identifier: GPL-2.0
/*
 * Generated by `cargo xtask vm-test`: the verifier accepts the first program
 * (allowed) and rejects the second (bad_deref), so the load fails half-way.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} reject_counts SEC(".maps");

SEC("tp_btf/sys_enter")
int allowed(void *ctx)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&reject_counts, &key);

	if (value)
		*value += 1;
	return 0;
}

SEC("tp_btf/sys_enter")
int bad_deref(void *ctx)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&reject_counts, &key);

	/* No NULL check: "invalid mem access 'map_value_or_null'". */
	*value += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
"#;

/// Writes the rejected crate and compiles its object with clang.
fn rejected_fixture() -> Result<()> {
    ensure_packages(
        &["clang-19", "libbpf-dev"],
        "building the rejected test object",
    )?;
    let dir = root().join(REJECTED);
    fs::create_dir_all(dir.join("src"))?;
    fs::create_dir_all(dir.join("bpf"))?;
    let runtime = root().join("preload-runtime");
    fs::write(
        dir.join("Cargo.toml"),
        format!(
            "# Generated by `cargo xtask vm-test`.\n[package]\nname = \"verifier_reject\"\n\
             version = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n\
             bpf-preload = {{ path = {:?}, default-features = false }}\n\n[workspace]\n",
            runtime.to_string_lossy()
        ),
    )?;
    fs::write(
        dir.join("src/lib.rs"),
        "#![no_std]\n\n#[bpf_preload::bpf_preload(obj = \"../bpf/verifier_reject.bpf.o\")]\n\
         pub struct VerifierReject;\n",
    )?;
    let source = dir.join("bpf/verifier_reject.bpf.c");
    fs::write(&source, REJECTED_BPF)?;
    run_cmd(
        Command::new("clang-19")
            .args(["-O2", "-g", "-target", "bpf", "-D__TARGET_ARCH_x86"])
            .arg("-I/usr/include/x86_64-linux-gnu")
            .arg("-c")
            .arg(&source)
            .arg("-o")
            .arg(dir.join("bpf/verifier_reject.bpf.o")),
    )
}

/// The test signing key: a self-signed certificate made once with openssl.
fn signing_key() -> Result<(PathBuf, PathBuf)> {
    let dir = root().join("target/vm/signing");
    let (key, cert) = (dir.join("key.pem"), dir.join("cert.pem"));
    if key.exists() && cert.exists() {
        return Ok((key, cert));
    }
    fs::create_dir_all(&dir)?;
    let config = dir.join("x509.genkey");
    // As the kernel's certs/default_x509.genkey: what sign-file and the kernel expect.
    fs::write(
        &config,
        "[ req ]\ndefault_bits = 2048\ndistinguished_name = req_distinguished_name\n\
         prompt = no\nstring_mask = utf8only\nx509_extensions = myexts\n\n\
         [ req_distinguished_name ]\nO = bpf-preload\nCN = bpf-preload test signing key\n\n\
         [ myexts ]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=digitalSignature\n\
         subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
    )?;
    run_cmd(
        Command::new("openssl")
            .args([
                "req", "-new", "-nodes", "-utf8", "-sha256", "-days", "36500",
            ])
            .args(["-batch", "-x509", "-outform", "PEM", "-config"])
            .arg(&config)
            .arg("-out")
            .arg(&cert)
            .arg("-keyout")
            .arg(&key)
            .stderr(Stdio::null()),
    )?;
    Ok((key, cert))
}

/// modinfo (kmod) reads each signed module's appended signature: it must name the
/// key it was signed with, the patched kernel's own or the test key.
fn check_signer(kernel: &VmKernel, modules: &[(ModuleSpec, PathBuf)]) -> Result<String> {
    let (_, cert) = signing_key_for(kernel)?;
    let subject = module::signer(&cert)?;
    let expected = subject
        .split(',')
        .find_map(|part| part.trim().strip_prefix("CN = "))
        .unwrap_or(&subject)
        .to_string();
    let mut checked = Vec::new();
    for (_, ko) in modules.iter().filter(|(spec, _)| spec.signed) {
        let out = Command::new("modinfo")
            .args(["-F", "signer"])
            .arg(ko)
            .output()
            .context("running modinfo (`apt-get install kmod`)")?;
        let signer = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if signer != expected {
            bail!(
                "modinfo -F signer says {signer:?} for {}, expected {expected:?}",
                ko.display()
            );
        }
        checked.push(signer);
    }
    ensure!(!checked.is_empty(), "no signed module to check");
    Ok(format!("modinfo: signer \"{}\"", checked.join("\", \"")))
}

/// The key and certificate signed modules for `kernel` get: the patched kernel's
/// build key, which it trusts; the test key for stock kernels, which do not.
fn signing_key_for(kernel: &VmKernel) -> Result<(PathBuf, PathBuf)> {
    match &kernel.seed_keys {
        Some(keys) => Ok(keys.clone()),
        None => signing_key(),
    }
}

/// One boot: a kernel, files for the initramfs (source, path inside) and a script.
/// Modules under `lib/modules/<release>/` are indexed with `depmod`, for the
/// kernel's `request_module()`.
pub struct Run {
    pub label: String,
    pub kernel: VmKernel,
    /// Appended to the kernel command line.
    pub cmdline: String,
    pub files: Vec<(PathBuf, String)>,
    pub script: String,
    /// Boot these instead of a busybox initramfs with `files` and `script`.
    pub media: Option<Media>,
}

/// What a boot printed and how it ended.
#[derive(Debug)]
pub struct Outcome {
    /// `(scenario, passed, detail)` for every VERDICT line.
    pub verdicts: Vec<(String, bool, String)>,
    pub log: String,
    pub timed_out: bool,
    pub seconds: f64,
    /// Guest uptime when the script started (boot time), if it got that far.
    pub boot_seconds: Option<f64>,
}

/// Installed kernels with both an image and matching headers: the newest of each
/// major.minor series.
pub fn stock_kernels() -> Result<Vec<VmKernel>> {
    let mut by_series: BTreeMap<String, VmKernel> = BTreeMap::new();
    let mut images: Vec<PathBuf> = fs::read_dir("/boot")
        .context("reading /boot")?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
        .collect();
    images.sort_by_key(|p| version_key(p));
    for image in images {
        let name = image.file_name().unwrap_or_default().to_string_lossy();
        let release = name.trim_start_matches("vmlinuz-").to_string();
        let kdir = [
            PathBuf::from(format!("/usr/src/linux-headers-{release}")),
            PathBuf::from(format!("/lib/modules/{release}/build")),
        ]
        .into_iter()
        .find(|d| d.join("Module.symvers").exists());
        let Some(kdir) = kdir else { continue };
        let series: String = release.split('.').take(2).collect::<Vec<_>>().join(".");
        by_series.insert(
            series,
            VmKernel {
                release,
                image,
                kdir,
                seed_keys: None,
            },
        );
    }
    Ok(by_series.into_values().collect())
}

/// The uncompressed kernel inside a bzImage, for QEMU's PVH boot: emulated, the
/// decompressor alone takes several seconds (xz on 6.1). Same kernel, same code; only
/// the boot stub is skipped. Cached in `cache`; `None` if it cannot be extracted.
fn pvh_vmlinux(image: &Path, cache: &Path) -> Option<PathBuf> {
    let meta = fs::metadata(image).ok()?;
    let stamp = format!("{} {:?}", meta.len(), meta.modified().ok()?);
    let name = image
        .file_name()?
        .to_string_lossy()
        .replace("vmlinuz", "vmlinux");
    let out = cache.join(&name);
    let stamp_file = cache.join(format!("{name}.stamp"));
    if out.exists() && fs::read_to_string(&stamp_file).is_ok_and(|s| s == stamp) {
        return Some(out);
    }
    let bz = fs::read(image).ok()?;
    // The x86 boot protocol header: setup sectors, then the payload's offset and length.
    let u32_at = |at: usize| Some(u32::from_le_bytes(bz.get(at..at + 4)?.try_into().ok()?));
    let setup_sects = usize::from(*bz.get(0x1f1)?);
    let start = (setup_sects + 1) * 512 + u32_at(0x248)? as usize;
    let payload = bz.get(start..start + u32_at(0x24c)? as usize)?;
    let tool = match payload {
        [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => "xz",
        [0x28, 0xb5, 0x2f, 0xfd, ..] => "zstd",
        [0x1f, 0x8b, ..] => "gzip",
        [0x02, 0x21, 0x4c, 0x18, ..] => "lz4",
        [b'B', b'Z', b'h', ..] => "bzip2",
        _ => return None,
    };
    let mut child = Command::new(tool)
        .arg("-dc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let payload = payload.to_vec();
    // Written from a thread: the decompressed output is far larger than a pipe.
    let writer = std::thread::spawn(move || stdin.write_all(&payload));
    let output = child.wait_with_output().ok()?;
    // The payload carries trailing bytes (its size) that the tools may warn about.
    let _ = writer.join();
    let elf = output.stdout;
    if !has_pvh_note(&elf) {
        return None;
    }
    fs::create_dir_all(cache).ok()?;
    fs::write(&out, &elf).ok()?;
    fs::write(&stamp_file, stamp).ok()?;
    Some(out)
}

/// Whether an ELF64 kernel has the Xen PVH entry note QEMU boots it by
/// (XEN_ELFNOTE_PHYS32_ENTRY, CONFIG_PVH).
fn has_pvh_note(elf: &[u8]) -> bool {
    const PT_NOTE: u32 = 4;
    const XEN_ELFNOTE_PHYS32_ENTRY: u32 = 18;
    let u16_at = |at: usize| Some(u16::from_le_bytes(elf.get(at..at + 2)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u32::from_le_bytes(elf.get(at..at + 4)?.try_into().ok()?));
    let u64_at = |at: usize| Some(u64::from_le_bytes(elf.get(at..at + 8)?.try_into().ok()?));
    let align4 = |n: usize| (n + 3) & !3;
    let check = || -> Option<bool> {
        if !elf.starts_with(b"\x7fELF\x02") {
            return Some(false);
        }
        let phoff = u64_at(0x20)? as usize;
        let (phentsize, phnum) = (usize::from(u16_at(0x36)?), usize::from(u16_at(0x38)?));
        for i in 0..phnum {
            let ph = phoff + i * phentsize;
            if u32_at(ph)? != PT_NOTE {
                continue;
            }
            let (start, size) = (u64_at(ph + 8)? as usize, u64_at(ph + 32)? as usize);
            let mut at = start;
            while at + 12 <= start + size {
                let (namesz, descsz) = (u32_at(at)? as usize, u32_at(at + 4)? as usize);
                let name = elf.get(at + 12..at + 12 + namesz)?;
                if name == b"Xen\0" && u32_at(at + 8)? == XEN_ELFNOTE_PHYS32_ENTRY {
                    return Some(true);
                }
                at += 12 + align4(namesz) + align4(descsz);
            }
        }
        Some(false)
    };
    check().unwrap_or(false)
}

/// Busybox, statically linked, for the initramfs.
const BUSYBOX: &str = "/bin/busybox";

pub fn prerequisites() -> Result<()> {
    crate::setup::ensure_rust_src()?;
    ensure_packages(
        &["qemu-system-x86", "busybox-static"],
        "booting kernels in QEMU",
    )?;
    ensure_packages(
        &[
            "linux-image-amd64",
            "linux-headers-amd64",
            "linux-image-6.12-amd64",
            "linux-headers-6.12-amd64",
        ],
        "testing against Debian 12's 6.1 and 6.12 kernels",
    )?;
    let static_busybox = Command::new("file")
        .arg(BUSYBOX)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("statically linked"))
        .unwrap_or(true);
    if !static_busybox {
        bail!("{BUSYBOX} is not statically linked: `apt-get install busybox-static`");
    }
    Ok(())
}

/// The probe (tests/probe.rs), statically linked so that it runs in the initramfs.
fn build_probe() -> Result<PathBuf> {
    let target_dir = root().join("target/vm/probe");
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root())
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "preload-tests",
            "--bin",
            "preload-probe",
            "--target",
            "x86_64-unknown-linux-gnu",
        ])
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("RUSTFLAGS")
        .env("CARGO_ENCODED_RUSTFLAGS", "-Ctarget-feature=+crt-static");
    run_cmd(&mut cmd)?;
    Ok(target_dir.join("x86_64-unknown-linux-gnu/release/preload-probe"))
}

/// Shell functions every scenario script can use.
const PRELUDE: &str = r#"
pass() { echo "VERDICT $SCENARIO PASS $*"; }
fail() { echo "VERDICT $SCENARIO FAIL $*"; }
# Milliseconds since boot.
now() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
elapsed() { echo $(( $2 - $1 )); }
# Kernel messages without timestamps (stock kernels have them, the patched one not).
kmsg() { dmesg | sed 's/^\[[^]]*\] //'; }
# The last kernel message of module $1.
klog() { kmsg | grep "^$1: " | tail -1; }
# Where the pins of object $2 are in the bpffs mounted at $1: its own directory on
# the patched kernel, the root (two iterator links at most) on a stock one.
pins() { if [ "$PROFILE" = seed ]; then echo "$1/$2"; else echo "$1"; fi; }
"#;

fn init_script(scenario: &str, profile: &str) -> String {
    format!(
        r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
echo "VM-START $(uname -r) $(cut -d' ' -f1 /proc/uptime)"
SCENARIO={scenario}
PROFILE={profile}
export SCENARIO PROFILE
sh -c '. /prelude.sh; . /scenario.sh' </dev/null 2>&1
echo "VM-END $?"
dmesg | grep -E 'Oops|BUG|WARNING|Call Trace' && echo "VM-KERNEL-PROBLEM"
poweroff -f
"#
    )
}

/// A newc cpio archive (what the kernel unpacks as initramfs), written directly.
struct Cpio {
    out: Vec<u8>,
    ino: u32,
}

impl Cpio {
    fn new() -> Self {
        Self {
            out: Vec::new(),
            ino: 1,
        }
    }

    fn entry(&mut self, name: &str, mode: u32, rdev: (u32, u32), data: &[u8]) {
        let name = name.trim_start_matches('/');
        let fields = [
            self.ino,
            mode,
            0,
            0,
            1,
            0,
            data.len() as u32,
            0,
            0,
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0,
        ];
        self.ino += 1;
        self.out.extend_from_slice(b"070701");
        for f in fields {
            self.out.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad();
        self.out.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }

    fn dir(&mut self, name: &str) {
        self.entry(name, 0o040755, (0, 0), &[]);
    }

    fn symlink(&mut self, name: &str, target: &str) {
        self.entry(name, 0o120777, (0, 0), target.as_bytes());
    }

    fn file(&mut self, name: &str, executable: bool, data: &[u8]) {
        let mode = if executable { 0o100755 } else { 0o100644 };
        self.entry(name, mode, (0, 0), data);
    }

    fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, (0, 0), &[]);
        self.out
    }
}

fn initramfs(run: &Run, work: &Path) -> Result<Vec<u8>> {
    let mut cpio = Cpio::new();
    let mut dirs = vec![];
    for dir in ["bin", "dev", "proc", "sys", "tmp", "mnt", "modules"] {
        cpio.dir(dir);
        dirs.push(dir.to_string());
    }
    // The console for init's output, before devtmpfs is mounted.
    cpio.entry("dev/console", 0o020600, (5, 1), &[]);
    cpio.file("bin/busybox", true, &fs::read(BUSYBOX)?);
    let profile = if run.kernel.is_seed() {
        "seed"
    } else {
        "stock"
    };
    cpio.file("init", true, init_script(&run.label, profile).as_bytes());
    cpio.file("prelude.sh", false, PRELUDE.as_bytes());
    cpio.file("scenario.sh", false, run.script.as_bytes());
    // The configuration of the kernel booted, for scenarios that check what a module
    // read of it (Kconfig externs).
    let config = run.kernel.kdir.join(".config");
    if config.exists() {
        cpio.file("kernel.config", false, &fs::read(&config)?);
    }
    let mut files = run.files.clone();
    let modules = format!("lib/modules/{}/", run.kernel.release);
    if files.iter().any(|(_, dest)| dest.starts_with(&modules)) {
        // The kernel runs /sbin/modprobe for request_module(), even before /init
        // (its own bpffs mount); busybox's reads depmod's modules.dep.
        cpio.dir("sbin");
        cpio.symlink("sbin/modprobe", "/bin/busybox");
        files.extend(depmod(run, work, &modules)?);
    }
    for (src, dest) in &files {
        let dest = dest.trim_start_matches('/');
        let mut parent = String::new();
        for part in dest
            .split('/')
            .rev()
            .skip(1)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            parent = if parent.is_empty() {
                part.to_string()
            } else {
                format!("{parent}/{part}")
            };
            if !dirs.contains(&parent) {
                cpio.dir(&parent);
                dirs.push(parent.clone());
            }
        }
        let data = fs::read(src).with_context(|| format!("reading {}", src.display()))?;
        cpio.file(dest, true, &data);
    }
    Ok(cpio.finish())
}

/// `depmod` over the run's modules under `modules` (`lib/modules/<release>/`): its
/// index files, as more files for the initramfs.
fn depmod(run: &Run, work: &Path, modules: &str) -> Result<Vec<(PathBuf, String)>> {
    let staging = work.join(format!("depmod-{}-{}", run.label, run.kernel.release));
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    for (src, dest) in run.files.iter().filter(|(_, d)| d.starts_with(modules)) {
        let to = staging.join(dest);
        fs::create_dir_all(to.parent().context("a module path has a parent")?)?;
        fs::copy(src, &to)?;
    }
    // What a kernel's `modules_install` writes too; depmod warns without them.
    for index in [
        "modules.order",
        "modules.builtin",
        "modules.builtin.modinfo",
    ] {
        fs::write(staging.join(modules).join(index), "")?;
    }
    run_cmd(
        Command::new("depmod")
            .arg("-b")
            .arg(&staging)
            .arg(&run.kernel.release),
    )
    .context("depmod (`apt-get install kmod`)")?;
    let mut index = Vec::new();
    for entry in fs::read_dir(staging.join(modules))? {
        let path = entry?.path();
        if path.is_file() {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            index.push((path.clone(), format!("{modules}{name}")));
        }
    }
    Ok(index)
}

/// Boots `run` and collects its verdicts; QEMU is killed after `timeout`.
pub fn boot(run: &Run, work: &Path, timeout: Duration) -> Result<Outcome> {
    fs::create_dir_all(work)?;
    let (initrd, cmdline) = match &run.media {
        Some(media) => (
            media.initrd.clone(),
            format!("{} {}", media.cmdline, run.cmdline),
        ),
        None => {
            let initrd = work.join(format!("{}-{}.cpio", run.label, run.kernel.release));
            fs::write(&initrd, initramfs(run, work)?)?;
            let cmdline = format!(
                "console=ttyS0 panic=-1 oops=panic quiet loglevel=4 rdinit=/init {}",
                run.cmdline
            );
            (initrd, cmdline)
        }
    };
    let disk = run.media.as_ref().and_then(|m| m.disk.as_ref()).map(|d| {
        let mut arg = std::ffi::OsString::from("file=");
        arg.push(d);
        arg.push(",if=virtio,format=raw,snapshot=on");
        arg
    });
    // A media kernel has a cache of its own: the same file name as the run's kernel.
    let (image, cache) = match run.media.as_ref().and_then(|m| m.kernel.clone()) {
        Some(image) => (image, work.join("kernels").join(&run.label)),
        None => (run.kernel.image.clone(), work.join("kernels")),
    };
    let kernel = pvh_vmlinux(&image, &cache).unwrap_or(image);
    let start = Instant::now();
    let mut child = Command::new("qemu-system-x86_64")
        .args([
            "-accel",
            "tcg",
            "-m",
            "1G",
            "-smp",
            "1",
            "-nographic",
            "-no-reboot",
        ])
        .args(["-nodefaults", "-no-user-config", "-serial", "stdio"])
        .arg("-kernel")
        .arg(&kernel)
        .arg("-initrd")
        .arg(&initrd)
        .args(
            disk.iter()
                .flat_map(|d| [std::ffi::OsStr::new("-drive"), d]),
        )
        .arg("-append")
        .arg(cmdline)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting qemu-system-x86_64 (`apt-get install qemu-system-x86`)")?;
    let stdout = child.stdout.take().context("qemu stdout")?;
    let stderr = child.stderr.take().context("qemu stderr")?;
    let (tx, rx) = mpsc::channel();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).split(b'\n').map_while(Result::ok) {
            if tx
                .send(String::from_utf8_lossy(&line).into_owned())
                .is_err()
            {
                break;
            }
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).split(b'\n').map_while(Result::ok) {
            let line = format!("qemu: {}", String::from_utf8_lossy(&line));
            if tx2.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = start + timeout;
    let mut log = String::new();
    let mut timed_out = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let line = line.trim_end_matches('\r');
                log.push_str(line);
                log.push('\n');
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                timed_out = true;
                let _ = child.kill();
                break;
            }
        }
    }
    let _ = child.wait();
    let seconds = start.elapsed().as_secs_f64();
    fs::write(
        work.join(format!("{}-{}.log", run.label, run.kernel.release)),
        &log,
    )?;
    let mut verdicts = Vec::new();
    let mut boot_seconds = None;
    for line in log.lines() {
        // Kernel messages may interleave with the marker: find it anywhere.
        if let Some(at) = line.find("VERDICT ") {
            let mut words = line[at + 8..].splitn(3, ' ');
            let (Some(name), Some(verdict)) = (words.next(), words.next()) else {
                continue;
            };
            let detail = words.next().unwrap_or("").to_string();
            verdicts.push((name.to_string(), verdict == "PASS", detail));
        } else if let Some(at) = line.find("VM-START ") {
            // The serial line may start with the firmware's terminal escapes.
            boot_seconds = line[at..].split(' ').nth(2).and_then(|s| s.parse().ok());
        }
    }
    Ok(Outcome {
        verdicts,
        log,
        timed_out,
        seconds,
        boot_seconds,
    })
}

/// Runs boots `jobs` at a time; results in the order of `runs`.
pub fn boot_all(runs: &[Run], work: &Path, timeout: Duration, jobs: usize) -> Vec<Result<Outcome>> {
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<Result<Outcome>>>> =
        Mutex::new((0..runs.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| loop {
                let i = {
                    let mut next = next.lock().unwrap();
                    let i = *next;
                    *next += 1;
                    i
                };
                let Some(run) = runs.get(i) else { break };
                let mut outcome = boot(run, work, timeout);
                // A kernel that panics before /init starts ran nothing of the scenario
                // (seen under TCG, in early boot code that patches itself): boot it once
                // more. A failure of the scenario's own making fails both times.
                let panicked_early = |o: &Result<Outcome>| {
                    matches!(o, Ok(o) if o.boot_seconds.is_none() && o.log.contains("Kernel panic"))
                };
                if panicked_early(&outcome) {
                    println!(
                        "    {} on {}: kernel panic before /init, booting again",
                        run.label, run.kernel.release
                    );
                    outcome = boot(run, work, timeout);
                }
                {
                    let mut out = std::io::stdout().lock();
                    let _ = match &outcome {
                        Ok(o) => writeln!(
                            out,
                            "    booted {} on {}: {:.1} s{}",
                            run.label,
                            run.kernel.release,
                            o.seconds,
                            if o.timed_out { " (TIMEOUT)" } else { "" }
                        ),
                        Err(e) => {
                            writeln!(out, "    {} on {}: {e:#}", run.label, run.kernel.release)
                        }
                    };
                }
                results.lock().unwrap()[i] = Some(outcome);
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.unwrap_or_else(|| bail!("not run")))
        .collect()
}

/// One cell of the table: the scenario's verdict on one kernel.
fn verdict_of(scenario: &str, outcome: &Result<Outcome>) -> (bool, String) {
    let o = match outcome {
        Ok(o) => o,
        Err(e) => return (false, format!("ERROR {e:#}")),
    };
    let mine: Vec<&(String, bool, String)> =
        o.verdicts.iter().filter(|v| v.0 == scenario).collect();
    if o.timed_out {
        return (false, format!("TIMEOUT after {:.0} s", o.seconds));
    }
    if o.log.contains("Kernel panic") {
        return (false, "kernel panic".into());
    }
    if mine.is_empty() {
        return (false, "no verdict".into());
    }
    if o.log.contains("VM-KERNEL-PROBLEM") {
        return (false, "kernel oops or warning in dmesg".into());
    }
    match mine.iter().find(|v| !v.1) {
        Some(failed) => (false, format!("FAIL {}", failed.2)),
        None => (true, format!("PASS {}", mine[0].2)),
    }
}

/// The patched kernel of `kernel/`, built (once, then cached) by `cargo xtask kernel`.
pub fn patched_kernel() -> Result<VmKernel> {
    let (kernel, cached) = crate::kernel::ensure(None)?;
    println!(
        "==> patched kernel {} ({})",
        kernel.release,
        if cached { "cached" } else { "built" }
    );
    Ok(VmKernel {
        release: kernel.release,
        image: kernel.bzimage,
        kdir: kernel.kdir,
        seed_keys: Some((kernel.signing_key, kernel.signing_cert)),
    })
}

/// The kernels to test: Debian's stock kernels and the patched one, filtered.
fn kernels(filters: &[String]) -> Result<Vec<VmKernel>> {
    let wanted =
        |release: &str| filters.is_empty() || filters.iter().any(|f| release.contains(f.as_str()));
    let mut kernels = stock_kernels()?;
    kernels.retain(|k| wanted(&k.release));
    // Its release is known only once it is built: only its own name selects it.
    if filters.is_empty() || filters.iter().any(|f| f.contains("bpf-preload")) {
        kernels.push(patched_kernel()?);
    }
    if kernels.is_empty() {
        bail!(
            "no kernel matches: the stock kernels need an image in /boot and matching headers \
             (`apt-get install linux-image-amd64 linux-headers-amd64 linux-image-6.12-amd64 \
             linux-headers-6.12-amd64`); the patched one is `--kernel bpf-preload`"
        );
    }
    Ok(kernels)
}

impl Args {
    /// These scenarios on the kernels matching these filters, `jobs` VMs at a time.
    pub fn only(scenarios: &[&str], kernels: &[&str], jobs: usize, timeout: u64) -> Self {
        Self {
            kernels: kernels.iter().map(|s| s.to_string()).collect(),
            scenarios: scenarios.iter().map(|s| s.to_string()).collect(),
            timeout,
            jobs: Some(jobs),
        }
    }
}

/// One cell of the table: scenario, kernel release, and its verdict's detail.
pub type Cell = (String, String, String);

/// Returns the number of scenario runs, all passed.
pub fn run(args: &Args) -> Result<usize> {
    run_cells(args).map(|cells| cells.len())
}

/// Runs the scenarios and prints the table; returns every cell, all passed.
pub fn run_cells(args: &Args) -> Result<Vec<Cell>> {
    prerequisites()?;
    let mut scenarios = scenarios();
    if !args.scenarios.is_empty() {
        scenarios.retain(|s| args.scenarios.iter().any(|f| f == s.name));
        if scenarios.is_empty() {
            bail!("no such scenario; there are: {}", names(&self::scenarios()));
        }
    }
    let kernels = kernels(&args.kernels)?;
    println!(
        "==> kernels: {}",
        kernels
            .iter()
            .map(|k| format!("{} ({})", k.release, k.image.display()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // Which scenario runs on which kernel.
    let applies = |scenario: &Scenario, kernel: &VmKernel| match scenario.kernels {
        Kernels::All => true,
        Kernels::Seed => kernel.is_seed(),
        Kernels::Stock => !kernel.is_seed(),
        Kernels::StockSince(major, minor) => {
            let mut v = kernel
                .release
                .split(['.', '-'])
                .map(|n| n.parse().unwrap_or(0));
            let version: (u32, u32) = (v.next().unwrap_or(0), v.next().unwrap_or(0));
            !kernel.is_seed() && version >= (major, minor)
        }
        Kernels::Release(prefix) => !kernel.is_seed() && kernel.release.starts_with(prefix),
    };

    println!("==> building the static probe");
    let probe = build_probe()?;

    if scenarios
        .iter()
        .any(|s| s.modules.iter().any(|m| m.example == REJECTED))
    {
        rejected_fixture()?;
    }
    // Every module each kernel needs, built once.
    let mut built: BTreeMap<(String, (&str, bool, bool)), PathBuf> = BTreeMap::new();
    for kernel in &kernels {
        for spec in scenarios
            .iter()
            .filter(|s| applies(s, kernel))
            .flat_map(|s| &s.modules)
        {
            let key_of = (kernel.release.clone(), spec.build_key());
            if built.contains_key(&key_of) {
                continue;
            }
            let variant = spec.variant();
            println!(
                "==> building {} ({variant}) for {}",
                spec.example, kernel.release
            );
            let module = module::build(&module::Options {
                crate_dir: PathBuf::from(spec.example),
                kdir: Some(kernel.kdir.clone()),
                out: Some(
                    root()
                        .join("target/vm/modules")
                        .join(&kernel.release)
                        .join(variant),
                ),
                sign: if spec.signed {
                    Some(signing_key_for(kernel)?)
                } else {
                    None
                },
                unloadable: spec.unloadable,
                verbose: false,
            })?;
            built.insert(key_of, module);
        }
    }

    // One run per scenario and kernel it applies to; `cells` maps (scenario, kernel)
    // to its run.
    let mut runs = Vec::new();
    let mut host_results = Vec::new();
    let mut cells = BTreeMap::new();
    for (si, scenario) in scenarios.iter().enumerate() {
        for (ki, kernel) in kernels.iter().enumerate() {
            if !applies(scenario, kernel) {
                continue;
            }
            let mut files = vec![(probe.clone(), "bin/preload-probe".to_string())];
            let mut kos = Vec::new();
            for spec in &scenario.modules {
                let ko = &built[&(kernel.release.clone(), spec.build_key())];
                let name = ko.file_name().unwrap_or_default().to_string_lossy();
                files.push((ko.clone(), spec.dest(&name, &kernel.release)));
                kos.push((*spec, ko.clone()));
            }
            let mut host = scenario.host_check.map(|check| check(kernel, &kos));
            let mut media = None;
            if let Some(prepare) = scenario.prepare {
                println!("==> preparing {} for {}", scenario.name, kernel.release);
                let dir = root()
                    .join("target/vm")
                    .join(scenario.name)
                    .join(&kernel.release);
                match prepare(kernel, &dir) {
                    Ok(prepared) => {
                        files.extend(prepared.files);
                        media = prepared.media;
                        host = prepared.note.map(Ok).or(host);
                    }
                    Err(e) => host = Some(Err(e)),
                }
            }
            host_results.push(host);
            cells.insert((si, ki), runs.len());
            runs.push(Run {
                label: scenario.name.to_string(),
                kernel: kernel.clone(),
                cmdline: scenario
                    .cmdline
                    .unwrap_or(kernel.default_cmdline())
                    .to_string(),
                files,
                script: scenario.script.to_string(),
                media,
            });
        }
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let work = root().join("target/vm");
    println!(
        "==> {} boot(s), {} at a time (QEMU TCG, timeout {} s each); logs in {}",
        runs.len(),
        jobs,
        args.timeout,
        work.display()
    );
    let started = Instant::now();
    for kernel in &kernels {
        // Extracted once here, so that parallel boots only read the cache.
        if pvh_vmlinux(&kernel.image, &work.join("kernels")).is_none() {
            println!(
                "    note: cannot extract a PVH vmlinux from {}: booting the bzImage",
                kernel.image.display()
            );
        }
    }
    let outcomes = boot_all(&runs, &work, Duration::from_secs(args.timeout), jobs);

    // The table: one row per scenario, one column per kernel; the details below.
    let width = scenarios
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let cell = kernels.iter().map(|k| k.release.len()).max().unwrap_or(8) + 2;
    print!("\n{:width$}", "scenario");
    for k in &kernels {
        print!("  {:cell$}", k.release);
    }
    println!();
    let mut details = Vec::new();
    let mut failed = 0;
    for (si, scenario) in scenarios.iter().enumerate() {
        print!("{:width$}", scenario.name);
        for (ki, kernel) in kernels.iter().enumerate() {
            let Some(&i) = cells.get(&(si, ki)) else {
                print!("  {:cell$}", "-");
                continue;
            };
            let (mut ok, mut detail) = verdict_of(scenario.name, &outcomes[i]);
            match &host_results[i] {
                Some(Ok(note)) => detail = format!("{detail}; {note}"),
                Some(Err(e)) => {
                    ok = false;
                    detail = format!("FAIL on the host: {e:#}; in the VM: {detail}");
                }
                None => {}
            }
            print!("  {:cell$}", if ok { "PASS" } else { "FAIL" });
            failed += usize::from(!ok);
            details.push((scenario.name, &kernel.release, ok, detail, i));
        }
        println!();
    }
    println!("(-: a seed-profile scenario, for the patched kernel only)\n");
    for (scenario, release, ok, detail, i) in &details {
        let timing = outcomes[*i].as_ref().ok().map_or(String::new(), |o| {
            let boot = o
                .boot_seconds
                .map_or(String::new(), |b| format!("boot {b:.1} s, "));
            format!(" [{boot}VM {:.1} s]", o.seconds)
        });
        println!("{scenario} on {release}: {detail}{timing}");
        if !ok {
            if let Ok(o) = &outcomes[*i] {
                let tail: Vec<&str> = o.log.lines().rev().take(30).collect();
                for line in tail.into_iter().rev() {
                    println!("    | {line}");
                }
            }
        }
    }
    println!(
        "\n{} run(s) in {:.0} s; serial logs in {}",
        runs.len(),
        started.elapsed().as_secs_f64(),
        work.display()
    );
    if failed > 0 {
        bail!("{failed} scenario run(s) failed");
    }
    Ok(details
        .into_iter()
        .map(|(scenario, release, _, detail, _)| {
            (scenario.to_string(), release.to_string(), detail)
        })
        .collect())
}

fn names(scenarios: &[Scenario]) -> String {
    scenarios
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}
