//! `cargo xtask vm-test`: the modules inside Debian's stock kernels, under QEMU.
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

use anyhow::{bail, Context, Result};

use crate::module::{self, version_key};
use crate::setup::{ensure_packages, root, run as run_cmd};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only kernels whose release contains this (repeatable), e.g. `--kernel 6.12`.
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

/// A stock kernel: its image and the headers of the same ABI.
#[derive(Debug, Clone)]
pub struct StockKernel {
    pub release: String,
    pub image: PathBuf,
    pub kdir: PathBuf,
}

/// A module a scenario needs, from an example crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ModuleSpec {
    pub example: &'static str,
    pub unloadable: bool,
    /// Signed with the test key (`target/vm/signing/`).
    pub signed: bool,
}

const fn permanent(example: &'static str) -> ModuleSpec {
    ModuleSpec {
        example,
        unloadable: false,
        signed: false,
    }
}

const fn unloadable(example: &'static str) -> ModuleSpec {
    ModuleSpec {
        example,
        unloadable: true,
        signed: false,
    }
}

impl ModuleSpec {
    fn variant(&self) -> &'static str {
        match (self.unloadable, self.signed) {
            (_, true) => "signed",
            (true, false) => "unloadable",
            (false, false) => "permanent",
        }
    }

    /// Where the module is inside the VM.
    fn dest(&self, file: &str) -> String {
        match self.variant() {
            "permanent" => format!("modules/{file}"),
            variant => format!("modules/{variant}/{file}"),
        }
    }
}

/// A check on the host of the modules a scenario built (for a kernel), before boot.
type HostCheck = fn(&[PathBuf]) -> Result<String>;

/// One scenario: modules to build, and a script run as root inside the VM with
/// bpffs not yet mounted. Modules are at /modules/<name>.ko (permanent),
/// /modules/unloadable/<name>.ko and /modules/signed/<name>.ko; `pass`/`fail DETAIL`
/// print the verdict, and `preload-probe` (tests/probe.rs) asks the kernel about
/// BPF objects.
pub struct Scenario {
    pub name: &'static str,
    pub modules: Vec<ModuleSpec>,
    pub script: &'static str,
    pub host_check: Option<HostCheck>,
}

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "iterators",
            modules: vec![permanent("examples/iterators")],
            script: r#"
t0=$(now)
insmod /modules/iterators.ko || { fail "insmod failed: $(klog iterators)"; exit 0; }
t1=$(now)
dmesg | grep 'iterators:'
mount -t bpf bpf /sys/fs/bpf || { fail "mount bpffs"; exit 0; }
ls -l /sys/fs/bpf
echo "--- cat /sys/fs/bpf/maps.debug"; cat /sys/fs/bpf/maps.debug
echo "--- cat /sys/fs/bpf/progs.debug"; cat /sys/fs/bpf/progs.debug
maps=$(cat /sys/fs/bpf/maps.debug) || { fail "no maps.debug"; exit 0; }
progs=$(cat /sys/fs/bpf/progs.debug) || { fail "no progs.debug"; exit 0; }
echo "$maps" | grep -q 'iterator.rodata' || { fail "maps.debug lacks iterator.rodata"; exit 0; }
echo "$progs" | grep -q dump_bpf_map || { fail "progs.debug lacks dump_bpf_map"; exit 0; }
echo "$progs" | grep -q dump_bpf_prog || { fail "progs.debug lacks dump_bpf_prog"; exit 0; }
# Every new mount shows them; unmounting changes nothing for the module.
umount /sys/fs/bpf
mkdir -p /mnt/b2 && mount -t bpf bpf /mnt/b2 || { fail "second mount"; exit 0; }
grep -q dump_bpf_prog /mnt/b2/progs.debug || { fail "a second mount lacks progs.debug"; exit 0; }
pass "insmod took $(elapsed $t0 $t1) ms; maps.debug and progs.debug in every mount, listing our map and programs"
"#,
            host_check: None,
        },
        Scenario {
            name: "lsm",
            modules: vec![permanent("examples/mkdir_guard")],
            script: r#"
insmod /modules/mkdir_guard.ko || { fail "insmod failed: $(klog mkdir_guard)"; exit 0; }
dmesg | grep 'mkdir_guard:'
out=$(mkdir /tmp/bpf-preload-reserved 2>&1) && { fail "mkdir of the reserved name succeeded"; exit 0; }
echo "$out"
echo "$out" | grep -q 'Operation not permitted' || { fail "mkdir failed, but not with EPERM: $out"; exit 0; }
mkdir /tmp/other || { fail "mkdir of another name failed"; exit 0; }
mkdir -p /tmp/a/b || { fail "mkdir -p failed"; exit 0; }
# No pins on a stock kernel; a bpffs coming and going changes nothing.
mount -t bpf bpf /sys/fs/bpf && umount /sys/fs/bpf
mkdir /tmp/a/bpf-preload-reserved 2>/dev/null && { fail "refusal gone after a bpffs mount and umount"; exit 0; }
refusals=$(preload-probe lookup refusals 0) || { fail "cannot read the refusals map"; exit 0; }
[ "$refusals" = 2 ] || { fail "refusals map says $refusals, expected 2"; exit 0; }
pass "mkdir bpf-preload-reserved: EPERM, other mkdirs work, refusals map = $refusals"
"#,
            host_check: None,
        },
        Scenario {
            name: "tracing",
            modules: vec![permanent("examples/getppid_count")],
            script: r#"
insmod /modules/getppid_count.ko || { fail "insmod failed: $(klog getppid_count)"; exit 0; }
dmesg | grep 'getppid_count:'
id=$(preload-probe find map getppid_calls) || { fail "no map getppid_calls"; exit 0; }
a=$(preload-probe getppid 3 getppid_calls) || { fail "probe failed: $a"; exit 0; }
b=$(preload-probe getppid 250 getppid_calls) || { fail "probe failed: $b"; exit 0; }
[ "$a" -ge 3 ] && [ "$b" -ge 250 ] || { fail "counts $a and $b, expected at least 3 and 250"; exit 0; }
pass "map getppid_calls (id $id) counted $a and $b getppid(2) calls of two processes (3 and 250 made)"
"#,
            host_check: None,
        },
        Scenario {
            name: "permanent",
            modules: vec![
                permanent("examples/iterators"),
                permanent("examples/mkdir_guard"),
            ],
            script: r#"
insmod /modules/iterators.ko && insmod /modules/mkdir_guard.ko || { fail "insmod failed: $(klog iterators) $(klog mkdir_guard)"; exit 0; }
grep -E '^(iterators|mkdir_guard) ' /proc/modules
out=$(rmmod iterators 2>&1) && { fail "rmmod iterators succeeded"; exit 0; }
echo "$out"
rmmod mkdir_guard 2>/dev/null && { fail "rmmod mkdir_guard succeeded"; exit 0; }
mount -t bpf bpf /sys/fs/bpf && grep -q dump_bpf_prog /sys/fs/bpf/progs.debug || { fail "iterators gone after rmmod"; exit 0; }
umount /sys/fs/bpf
mkdir /tmp/bpf-preload-reserved 2>/dev/null && { fail "LSM gone after rmmod"; exit 0; }
# Debian enables CONFIG_MODULE_FORCE_UNLOAD: rmmod -f removes the modules (tainting
# the kernel), but the programs stay attached and the bpffs hook does not dangle.
rmmod -f mkdir_guard iterators || { fail "rmmod -f failed"; exit 0; }
klog iterators
mkdir /tmp/bpf-preload-reserved 2>/dev/null && { fail "LSM gone after rmmod -f"; exit 0; }
mount -t bpf bpf /sys/fs/bpf || { fail "bpffs mount after rmmod -f"; exit 0; }
[ -e /sys/fs/bpf/maps.debug ] && { fail "the hook still offers links after rmmod -f"; exit 0; }
preload-probe find link dump_bpf_map >/dev/null || { fail "the iterator links are gone after rmmod -f"; exit 0; }
pass "rmmod refused ($out); after rmmod -f the programs still run and a new bpffs mount works"
"#,
            host_check: None,
        },
        Scenario {
            name: "unloadable",
            modules: vec![
                unloadable("examples/iterators"),
                unloadable("examples/mkdir_guard"),
                unloadable("examples/getppid_count"),
            ],
            script: r#"
for m in iterators mkdir_guard getppid_count; do
    insmod /modules/unloadable/$m.ko || { fail "insmod $m failed: $(klog $m)"; exit 0; }
done
mount -t bpf bpf /sys/fs/bpf && grep -q dump_bpf_map /sys/fs/bpf/maps.debug 2>/dev/null
grep -q iterator.rodata /sys/fs/bpf/maps.debug || { fail "no maps.debug"; exit 0; }
# The kernel's own references on the link files of a mount outlive the module.
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
[ -e /sys/fs/bpf/maps.debug ] && { fail "a new bpffs mount still shows maps.debug"; exit 0; }
pass "after rmmod no program, map or link of the three modules remains; the hook is free"
"#,
            host_check: None,
        },
        Scenario {
            name: "rejected",
            modules: vec![permanent(REJECTED)],
            script: r#"
insmod /modules/verifier_reject.ko 2>/dev/null && { fail "insmod succeeded"; exit 0; }
msg=$(dmesg | grep ' verifier_reject: ' | grep -v -e taints -e 'verification failed' | sed 's/^\[[^]]*\] //')
echo "$msg"
for word in '`verifier_reject`' '`bad_deref`' BPF_PROG_LOAD EACCES; do
    echo "$msg" | grep -q -F "$word" || { fail "the message does not say $word: $msg"; exit 0; }
done
grep -q '^verifier_reject ' /proc/modules && { fail "the module stayed loaded"; exit 0; }
left=$(preload-probe absent prog bad_deref map reject_counts link bad_deref) || { fail "left behind: $left"; exit 0; }
pass "insmod refused: $(echo "$msg" | head -1)"
"#,
            host_check: None,
        },
        Scenario {
            name: "signed",
            modules: vec![ModuleSpec {
                example: "examples/iterators",
                unloadable: false,
                signed: true,
            }],
            script: r#"
tail -c 28 /modules/signed/iterators.ko | grep -q '~Module signature appended~' || { fail "no signature appended"; exit 0; }
insmod /modules/signed/iterators.ko || { fail "insmod failed: $(klog iterators)"; exit 0; }
dmesg | grep 'iterators:'
mount -t bpf bpf /sys/fs/bpf && grep -q dump_bpf_map /sys/fs/bpf/progs.debug || { fail "no progs.debug"; exit 0; }
pass "the signed module loads and works (its key is not trusted by this kernel: enforcement is for the patched kernel)"
"#,
            host_check: Some(check_signer),
        },
    ]
}

/// A crate whose program the verifier rejects (made here: it is no example).
const REJECTED: &str = "target/vm/fixtures/verifier_reject";

const REJECTED_BPF: &str = r#"// SPDX-License-Identifier: GPL-2.0
/* Generated by `cargo xtask vm-test`: the verifier must reject bad_deref. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} reject_counts SEC(".maps");

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

/// modinfo (kmod) reads the appended signature: it must name our test key.
fn check_signer(modules: &[PathBuf]) -> Result<String> {
    let ko = modules.first().context("no module")?;
    let out = Command::new("modinfo")
        .args(["-F", "signer"])
        .arg(ko)
        .output()
        .context("running modinfo (`apt-get install kmod`)")?;
    let signer = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if signer != "bpf-preload test signing key" {
        bail!("modinfo -F signer says {signer:?}");
    }
    Ok(format!("modinfo: signer \"{signer}\""))
}

/// One boot: a kernel, files for the initramfs (source, path inside) and a script.
pub struct Run {
    pub label: String,
    pub kernel: StockKernel,
    pub files: Vec<(PathBuf, String)>,
    pub script: String,
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
pub fn stock_kernels() -> Result<Vec<StockKernel>> {
    let mut by_series: BTreeMap<String, StockKernel> = BTreeMap::new();
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
            StockKernel {
                release,
                image,
                kdir,
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
# The last kernel message of module $1, without its timestamp.
klog() { dmesg | grep " $1: " | tail -1 | sed 's/^\[[^]]*\] //'; }
"#;

fn init_script(scenario: &str) -> String {
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
export SCENARIO
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

    fn file(&mut self, name: &str, executable: bool, data: &[u8]) {
        let mode = if executable { 0o100755 } else { 0o100644 };
        self.entry(name, mode, (0, 0), data);
    }

    fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, (0, 0), &[]);
        self.out
    }
}

fn initramfs(run: &Run) -> Result<Vec<u8>> {
    let mut cpio = Cpio::new();
    for dir in ["bin", "dev", "proc", "sys", "tmp", "mnt", "modules"] {
        cpio.dir(dir);
    }
    // The console for init's output, before devtmpfs is mounted.
    cpio.entry("dev/console", 0o020600, (5, 1), &[]);
    cpio.file("bin/busybox", true, &fs::read(BUSYBOX)?);
    cpio.file("init", true, init_script(&run.label).as_bytes());
    cpio.file("prelude.sh", false, PRELUDE.as_bytes());
    cpio.file("scenario.sh", false, run.script.as_bytes());
    let mut dirs = vec!["bin".to_string(), "modules".to_string()];
    for (src, dest) in &run.files {
        let dest = dest.trim_start_matches('/');
        if let Some((parent, _)) = dest.rsplit_once('/') {
            if !dirs.iter().any(|d| d == parent) {
                cpio.dir(parent);
                dirs.push(parent.to_string());
            }
        }
        let data = fs::read(src).with_context(|| format!("reading {}", src.display()))?;
        cpio.file(dest, true, &data);
    }
    Ok(cpio.finish())
}

/// Boots `run` and collects its verdicts; QEMU is killed after `timeout`.
pub fn boot(run: &Run, work: &Path, timeout: Duration) -> Result<Outcome> {
    fs::create_dir_all(work)?;
    let initrd = work.join(format!("{}-{}.cpio", run.label, run.kernel.release));
    fs::write(&initrd, initramfs(run)?)?;
    let kernel = pvh_vmlinux(&run.kernel.image, &work.join("kernels"))
        .unwrap_or_else(|| run.kernel.image.clone());
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
        .args([
            "-append",
            "console=ttyS0 panic=-1 oops=panic quiet loglevel=4 rdinit=/init",
        ])
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
                let outcome = boot(run, work, timeout);
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

/// Returns the number of scenario runs, all passed.
pub fn run(args: &Args) -> Result<usize> {
    prerequisites()?;
    let mut kernels = stock_kernels()?;
    if !args.kernels.is_empty() {
        kernels.retain(|k| args.kernels.iter().any(|f| k.release.contains(f.as_str())));
    }
    if kernels.is_empty() {
        bail!(
            "no kernel with both an image in /boot and matching headers: `apt-get install \
             linux-image-amd64 linux-headers-amd64 linux-image-6.12-amd64 linux-headers-6.12-amd64`"
        );
    }
    let mut scenarios = scenarios();
    if !args.scenarios.is_empty() {
        scenarios.retain(|s| args.scenarios.iter().any(|f| f == s.name));
        if scenarios.is_empty() {
            bail!("no such scenario; there are: {}", names(&self::scenarios()));
        }
    }
    println!(
        "==> kernels: {}",
        kernels
            .iter()
            .map(|k| format!("{} ({})", k.release, k.image.display()))
            .collect::<Vec<_>>()
            .join(", ")
    );

    println!("==> building the static probe");
    let probe = build_probe()?;

    if scenarios
        .iter()
        .any(|s| s.modules.iter().any(|m| m.example == REJECTED))
    {
        rejected_fixture()?;
    }
    // Every module each kernel needs, built once.
    let needs_key = scenarios.iter().flat_map(|s| &s.modules).any(|m| m.signed);
    let key = if needs_key {
        Some(signing_key()?)
    } else {
        None
    };
    let mut built: BTreeMap<(String, ModuleSpec), PathBuf> = BTreeMap::new();
    for kernel in &kernels {
        for spec in scenarios.iter().flat_map(|s| &s.modules) {
            let key_of = (kernel.release.clone(), *spec);
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
                sign: if spec.signed { key.clone() } else { None },
                unloadable: spec.unloadable,
                verbose: false,
            })?;
            built.insert(key_of, module);
        }
    }

    let mut runs = Vec::new();
    let mut host_results = Vec::new();
    for scenario in &scenarios {
        for kernel in &kernels {
            let mut files = vec![(probe.clone(), "bin/preload-probe".to_string())];
            let mut kos = Vec::new();
            for spec in &scenario.modules {
                let ko = &built[&(kernel.release.clone(), *spec)];
                let name = ko.file_name().unwrap_or_default().to_string_lossy();
                files.push((ko.clone(), spec.dest(&name)));
                kos.push(ko.clone());
            }
            host_results.push(scenario.host_check.map(|check| check(&kos)));
            runs.push(Run {
                label: scenario.name.to_string(),
                kernel: kernel.clone(),
                files,
                script: scenario.script.to_string(),
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
                "    note: cannot extract vmlinux from {}: booting the bzImage (slower)",
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
            let i = si * kernels.len() + ki;
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
    println!();
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
    Ok(runs.len())
}

fn names(scenarios: &[Scenario]) -> String {
    scenarios
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}
