//! One boot of a kernel under QEMU (TCG: KVM is not available on the development
//! machines), its serial console read line by line for the harness's markers, and
//! boots side by side.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::initramfs::initramfs;
use super::{Kernel, Run};

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
    /// Whether the script ran to its end (`VM-END`), rather than the VM dying first.
    pub finished: bool,
    /// The note of the run's deferred preparation, from the host's side.
    pub host_note: Option<String>,
}

/// Extracts each kernel's PVH vmlinux into the cache once, before boots side by side
/// only read it; says which kernels boot their bzImage instead.
pub fn extract_kernels(kernels: &[Kernel], work: &Path) {
    for kernel in kernels {
        if pvh_vmlinux(&kernel.image, &work.join("kernels")).is_none() {
            println!(
                "    note: cannot extract a PVH vmlinux from {}: booting the bzImage",
                kernel.image.display()
            );
        }
    }
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

/// Boots `run` and collects its verdicts; QEMU is killed after `timeout` (times the
/// kernel's [`timeout_factor`](Kernel::timeout_factor)), or the run's own if longer.
pub fn boot(run: &Run, work: &Path, timeout: Duration) -> Result<Outcome> {
    fs::create_dir_all(work)?;
    let timeout = (timeout * run.kernel.timeout_factor()).max(run.timeout.unwrap_or_default());
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
            run.kernel.memory(),
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
    // Written as it comes, so that a long boot (fail-nth, the sanitizer kernel) can be
    // followed with `tail -f`; a failure to write it only loses that.
    let log_path = work.join(format!("{}-{}.log", run.label, run.kernel.release));
    let mut live = fs::File::create(&log_path).ok();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let line = line.trim_end_matches('\r');
                log.push_str(line);
                log.push('\n');
                if let Some(file) = &mut live
                    && writeln!(file, "{line}").is_err()
                {
                    live = None;
                }
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
    fs::write(&log_path, &log)?;
    let Markers {
        verdicts,
        boot_seconds,
        finished,
    } = markers(&log);
    Ok(Outcome {
        verdicts,
        log,
        timed_out,
        seconds,
        boot_seconds,
        finished,
        host_note: None,
    })
}

/// What the markers of a serial log say.
struct Markers {
    /// Every `VERDICT <scenario> PASS|FAIL <detail>`.
    verdicts: Vec<(String, bool, String)>,
    /// The guest's uptime at `VM-START`.
    boot_seconds: Option<f64>,
    /// Whether `VM-END` came.
    finished: bool,
}

fn markers(log: &str) -> Markers {
    let mut verdicts = Vec::new();
    let mut boot_seconds = None;
    let mut finished = false;
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
        } else if line.contains("VM-END ") {
            finished = true;
        }
    }
    Markers {
        verdicts,
        boot_seconds,
        finished,
    }
}

/// Runs boots `jobs` at a time; results in the order of `runs`.
/// `run` as its deferred preparation completes it (its files, its media), and the
/// preparation's note; `None` for a run without one. Preparations run one at a time:
/// they install into the same Debian tree.
fn prepare(run: &Run) -> Result<(Option<Run>, Option<String>)> {
    static PREPARING: Mutex<()> = Mutex::new(());
    let Some(deferred) = &run.prepare else {
        return Ok((None, None));
    };
    let _one = PREPARING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    println!("==> preparing {} for {}", run.label, run.kernel.release);
    let prepared = (deferred.prepare)(&run.kernel, &deferred.dir)?;
    let mut files = run.files.clone();
    files.extend(prepared.files);
    let run = Run {
        label: run.label.clone(),
        kernel: run.kernel.clone(),
        cmdline: run.cmdline.clone(),
        files,
        script: run.script.clone(),
        media: prepared.media,
        timeout: run.timeout,
        prepare: None,
    };
    Ok((Some(run), prepared.note))
}

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
                let (prepared, note) = match prepare(run) {
                    Ok(prepared) => prepared,
                    Err(e) => {
                        let e = e.context(format!("preparing {} on the host", run.label));
                        println!("    {} on {}: {e:#}", run.label, run.kernel.release);
                        results.lock().unwrap()[i] = Some(Err(e));
                        continue;
                    }
                };
                let run = prepared.as_ref().unwrap_or(run);
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
                // The root disk of a deferred preparation, a gigabyte or more, goes
                // as soon as its boots are done: at most one per worker at a time.
                if let Some(disk) = prepared.as_ref().and_then(|r| r.media.as_ref()?.disk.as_ref()) {
                    let _ = fs::remove_file(disk);
                }
                if let Ok(o) = &mut outcome {
                    o.host_note = note;
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
