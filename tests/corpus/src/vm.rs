//! The objects this host refuses to every loader (libbpf too fails with EPERM: fentry,
//! fexit, lsm), loaded by the same harness inside QEMU on Debian's 6.12 kernel: xtask
//! itself, statically linked, runs `corpus-guest` in the busybox initramfs of xtask's
//! VM runner, with bpftool (and the libraries it needs), the objects, and our side's
//! binaries statically linked. Each result comes back as one console line; its source
//! is prefixed with `vm-6.12/`. The VM runner is xtask's: it reaches this crate as a
//! [`Vm`], so that the corpus does not depend on xtask.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use preload_devtools::root;

use crate::build::corpus_dir;
use crate::{crates, parse_rows, Job, Row};

/// What starts each result line on the guest's console.
pub const ROW_MARKER: &str = "CORPUS-ROW\t";
/// The kernel series the guest boots.
const SERIES: &str = "6.12";
/// The target of the guest's static binaries.
pub const TARGET: &str = "x86_64-unknown-linux-gnu";
const BPFTOOL: &str = "/usr/sbin/bpftool";
/// Emulated (TCG), a load with a trampoline takes seconds.
const TIMEOUT: Duration = Duration::from_secs(1500);

/// What the corpus needs from a VM runner.
pub trait Vm {
    /// The release of the installed kernel of `series` (e.g. `6.12`) that the VM can
    /// boot, if there is one; fails if the VM itself cannot run here.
    fn kernel(&self, series: &str) -> Result<Option<String>>;
    /// The harness, statically linked, that runs `corpus-guest` in the guest.
    fn harness(&self) -> Result<PathBuf>;
    /// Boots the kernel `release` from an initramfs with `files` (the host's path, the
    /// path inside) and runs `script`, for at most `timeout`; `work` holds the boot's
    /// files and its log, `corpus-<release>.log`.
    fn boot(
        &self,
        release: &str,
        files: Vec<(PathBuf, String)>,
        script: String,
        work: &Path,
        timeout: Duration,
    ) -> Result<Boot>;
}

/// What a boot printed and how it ended.
pub struct Boot {
    pub log: String,
    pub timed_out: bool,
    pub seconds: f64,
}

/// Whether the host refused the object to libbpf too with EPERM, as it refuses every
/// fentry, fexit and lsm program; or refused it to us with EPERM where libbpf did not
/// load it for another reason, as it refuses every arena (which Debian's libbpf 1.1
/// cannot even open). A row libbpf loaded stays on the host, where a difference is
/// ours to explain.
pub(crate) fn refused_by_host(row: &Row) -> bool {
    row.libbpf.contains("Operation not permitted")
        || (!row.libbpf_loads() && row.ours.contains("EPERM"))
}

/// The results in the guest for the jobs the host refused to every loader.
pub fn run(
    vm: &dyn Vm,
    host: &BTreeMap<String, Row>,
    jobs: &[Job],
) -> Result<BTreeMap<String, Row>> {
    let wanted: Vec<&Job> = jobs
        .iter()
        .filter(|j| host.get(&j.source).is_some_and(refused_by_host))
        .collect();
    if wanted.is_empty() {
        return Ok(BTreeMap::new());
    }
    let release = vm.kernel(SERIES)?.with_context(|| {
        format!(
            "the corpus VM boots Debian's {SERIES} kernel: `apt-get install \
                 linux-image-{SERIES}-amd64 linux-headers-{SERIES}-amd64`"
        )
    })?;
    println!(
        "corpus: {} objects the host refuses to every loader (EPERM), in QEMU on {}",
        wanted.len(),
        release
    );
    let work = corpus_dir().join("vm");
    fs::create_dir_all(&work)?;
    let harness = vm.harness()?;
    let krates: Vec<String> = wanted
        .iter()
        .filter_map(|j| j.ours.as_ref().ok())
        .filter_map(|b| b.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let static_dir = crates::build_static(&krates, TARGET)?;

    let mut files = vec![
        (harness, "bin/corpus-harness".to_string()),
        (PathBuf::from(BPFTOOL), "bin/bpftool".to_string()),
        (
            root().join("tests/corpus/libbpf-load.sh"),
            "corpus/libbpf-load.sh".to_string(),
        ),
    ];
    files.extend(shared_libraries(Path::new(BPFTOOL))?);
    // libbpf reads the kernel's configuration for `.kconfig` externs from here, as on
    // an installed system.
    let config = format!("boot/config-{release}");
    files.push((Path::new("/").join(&config), config));
    let mut list = String::new();
    for (i, job) in wanted.iter().enumerate() {
        let object = job.object.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
        // The file name stays: libbpf names the object, and its maps, after it.
        let dest = format!(
            "corpus/objects/{i}/{}",
            object.file_name().unwrap().to_string_lossy()
        );
        files.push((object.clone(), dest.clone()));
        let ours = match &job.ours {
            Ok(binary) => {
                let name = binary.file_name().unwrap().to_string_lossy().into_owned();
                files.push((static_dir.join(&name), format!("corpus/bin/{name}")));
                format!("/corpus/bin/{name}")
            }
            Err(why) => format!("refused: {why}"),
        };
        list.push_str(&format!("{}\t/{dest}\t{ours}\n", job.source));
    }
    let list_file = work.join("list.tsv");
    fs::write(&list_file, list)?;
    files.push((list_file, "corpus/list.tsv".to_string()));
    let script_file = root().join("tests/corpus/vm.sh");
    let script = fs::read_to_string(&script_file)
        .with_context(|| format!("reading {}", script_file.display()))?;
    let outcome = vm.boot(&release, files, script, &work, TIMEOUT)?;
    let log = work.join(format!("corpus-{release}.log"));
    let text: String = outcome
        .log
        .lines()
        .filter_map(|l| l.find(ROW_MARKER).map(|at| &l[at + ROW_MARKER.len()..]))
        .map(|l| format!("{l}\n"))
        .collect();
    let rows = parse_rows(&text);
    if outcome.timed_out || rows.len() != wanted.len() {
        bail!(
            "the corpus VM {} with {} of {} results: see {}",
            if outcome.timed_out {
                "timed out"
            } else {
                "ended"
            },
            rows.len(),
            wanted.len(),
            log.display()
        );
    }
    println!(
        "corpus: {} results from the VM in {:.0} s",
        rows.len(),
        outcome.seconds
    );
    Ok(rows
        .into_values()
        .map(|mut row| {
            row.source = format!("vm-{SERIES}/{}", row.source);
            (row.source.clone(), row)
        })
        .collect())
}

/// The shared libraries `binary` loads (and the dynamic loader), each at its own path.
fn shared_libraries(binary: &Path) -> Result<Vec<(PathBuf, String)>> {
    Ok(preload_devtools::output(Command::new("ldd").arg(binary))?
        .lines()
        .filter_map(|l| {
            let path = match l.split_once("=> ") {
                Some((_, rest)) => rest.split(' ').next()?,
                None => l.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| {
                let real = fs::canonicalize(path).unwrap_or_else(|_| path.into());
                (real, path.trim_start_matches('/').to_string())
            })
        })
        .collect())
}
