//! The corpus tier (test tier 4, `cargo xtask corpus`): real-world objects. Builds the
//! corpus from Debian packages (`build`), loads each object with libbpf (`bpftool prog
//! loadall`) and with bpf-preload (a generated crate per object, `crates`), compares
//! what the kernel holds (`load`), and checks the per-object results against
//! `tests/corpus/results.tsv`. The objects this host refuses to every loader go to a VM
//! (`vm`), which the caller boots: xtask's runner, behind the [`Vm`] trait.

mod build;
mod crates;
mod load;
mod vm;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use preload_devtools::{is_root, root};

pub use build::corpus_dir;
use build::kernel_release;
use load::Outcome;
pub use vm::{Boot, Vm, TARGET};

/// What `cargo xtask corpus` was asked.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Write the fresh results to tests/corpus/results.tsv instead of checking them
    /// against it.
    pub bless: bool,
    /// Only objects whose source contains one of these; implies not checking against
    /// the committed results.
    pub only: Vec<String>,
    /// Skip the objects this host refuses to every loader, which otherwise load in the
    /// VM.
    pub no_vm: bool,
}

const HEADER: &str = "\
# The corpus tier's results (`cargo xtask corpus`; `--bless` rewrites this file).
# One object per line: where it comes from; libbpf's load (bpftool prog loadall, or
# with the calls of its product's loader, tests/corpus/libbpf-loader.c);
# ours (refused: the compile error of #[bpf_preload]; load error: step and errno;
# loaded); and for objects both load, what differs in what the kernel holds
# (programs and their types and translated instructions, map definitions).
";
/// The comment that records the kernel the results were blessed on: which objects
/// libbpf loads depends on it (its configuration, its build), so a check on another
/// kernel says so.
const KERNEL_LINE: &str = "# kernel: ";
const COLUMNS: &str = "# source\tlibbpf\tours\tdifferences\n";

fn results_file() -> PathBuf {
    root().join("tests/corpus/results.tsv")
}

/// One line of the results.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    source: String,
    libbpf: String,
    ours: String,
    differences: String,
}

const LOADED: &str = "loaded";

impl Row {
    fn libbpf_loads(&self) -> bool {
        self.libbpf == LOADED
    }

    fn ours_loads(&self) -> bool {
        self.ours == LOADED
    }

    fn line(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}",
            self.source, self.libbpf, self.ours, self.differences
        )
    }
}

fn parse_rows(text: &str) -> BTreeMap<String, Row> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let f: Vec<&str> = l.splitn(4, '\t').collect();
            let [source, libbpf, ours, differences] = f[..] else {
                return None;
            };
            Some((
                source.to_string(),
                Row {
                    source: source.into(),
                    libbpf: libbpf.into(),
                    ours: ours.into(),
                    differences: differences.into(),
                },
            ))
        })
        .collect()
}

/// The kernel release a results file was blessed on, if it records one.
fn blessed_kernel(text: &str) -> Option<&str> {
    text.lines().find_map(|l| l.strip_prefix(KERNEL_LINE))
}

/// The results file of `rows`, loaded on kernel `release`.
fn format_rows(rows: &BTreeMap<String, Row>, release: &str) -> String {
    let mut text = format!("{HEADER}{KERNEL_LINE}{release}\n{COLUMNS}");
    for row in rows.values() {
        text.push_str(&row.line());
        text.push('\n');
    }
    text
}

/// Fails if a program or map either side reported is still in the kernel, or a
/// side's bpffs is still mounted. (Only what the sides reported: other users of the
/// machine may load and free objects meanwhile.)
///
/// The kernel frees a map or program whose last reference was a pin or a program after
/// an RCU grace period, or from a workqueue: what is still there is looked at again for
/// up to 10 s before it counts as left behind.
fn check_nothing_left(held: &[(&'static str, u64)]) -> Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut left: Vec<&(&'static str, u64)> = held.iter().collect();
    loop {
        let mut still = Vec::new();
        for &held in &left {
            let (kind, id) = held;
            let status = std::process::Command::new("bpftool")
                .args([kind, "show", "id", &id.to_string()])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .context("running bpftool")?;
            if status.success() {
                still.push(held);
            }
        }
        left = still;
        if left.is_empty() || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let left: Vec<String> = left
        .iter()
        .map(|(kind, id)| format!("{kind} {id}"))
        .collect();
    if !left.is_empty() {
        bail!(
            "left in the kernel after the corpus ran: {}; a side did not free everything",
            left.join(", ")
        );
    }
    let mounts = fs::read_to_string("/proc/self/mountinfo")?;
    if let Some(m) = mounts
        .lines()
        .find(|l| l.contains("corpus-libbpf-") || l.contains("bpf-preload-bpf-"))
    {
        bail!("a side's bpffs is still mounted here: {m}");
    }
    Ok(())
}

/// The tier of `cargo xtask test`: the results checked against the committed file.
/// Returns the number of objects checked; without root it is skipped loudly, except
/// under `CI=true`, where a skip is a failure.
pub fn tier(vm: &dyn Vm) -> Result<usize> {
    if !is_root() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            bail!("tier 4 (the corpus) needs root, and under CI=true a skipped tier is a failure");
        }
        println!(
            "SKIPPED: tier 4 (the corpus) loads objects into the running kernel and needs root"
        );
        return Ok(0);
    }
    run(&Options::default(), vm)
}

/// Returns the number of objects loaded and compared.
pub fn run(options: &Options, vm: &dyn Vm) -> Result<usize> {
    if !is_root() {
        bail!("the corpus loads objects into the running kernel: run as root (sudo -E cargo xtask corpus)");
    }
    let mut entries = build::objects()?;
    if !options.only.is_empty() {
        entries.retain(|e| options.only.iter().any(|o| e.source.contains(o.as_str())));
    }
    if entries.iter().any(|e| e.loader.is_some()) {
        build::libbpf_loader()?;
    }
    let binaries = crates::build(&entries)?;
    let jobs: Vec<Job> = entries
        .iter()
        .map(|e| Job {
            source: e.source.clone(),
            log_name: e.krate.clone(),
            object: e.object.clone(),
            ours: binaries
                .get(&e.krate)
                .cloned()
                .unwrap_or_else(|| Err("no crate".into())),
            loader: e.loader.clone(),
        })
        .collect();
    println!(
        "corpus: loading {} objects with libbpf and with bpf-preload",
        jobs.len()
    );
    let mut rows = compare_all(
        &jobs,
        &corpus_dir(),
        &root().join("tests/corpus/libbpf-load.sh"),
    )?;
    if !options.no_vm {
        rows.extend(vm::run(vm, &rows, &jobs)?);
    }
    if options.only.is_empty() && !options.bless {
        recheck_disagreements(&mut rows, &jobs)?;
    }
    let release = kernel_release()?;
    let text = format_rows(&rows, &release);
    fs::write(corpus_dir().join("results.tsv"), &text)?;
    summary(&rows);
    if !options.only.is_empty() {
        println!("(--only: not compared with {})", results_file().display());
        return Ok(rows.len());
    }
    if options.bless {
        fs::write(results_file(), &text)?;
        println!("wrote {}", results_file().display());
        return Ok(rows.len());
    }
    check(&rows, &release)?;
    Ok(rows.len())
}

/// One object to load on both sides.
#[derive(Debug, Clone)]
pub struct Job {
    pub source: String,
    /// The stem of its logs' file names.
    pub log_name: String,
    /// The object, or why it was not built.
    pub object: Result<PathBuf, String>,
    /// Our side's binary, or the compile error that refused the object.
    pub ours: Result<PathBuf, String>,
    /// For a written object, the calls its product's loader makes: the libbpf side
    /// loads it with the tier's own libbpf loader rather than bpftool.
    pub loader: Option<Vec<String>>,
}

/// Loads every job on both sides, one after the other, and checks that nothing is left
/// in the kernel. `dir` gets the logs and scratch files.
fn compare_all(
    jobs: &[Job],
    dir: &std::path::Path,
    script: &std::path::Path,
) -> Result<BTreeMap<String, Row>> {
    let logs = dir.join("logs");
    let scratch = dir.join("scratch");
    fs::create_dir_all(&logs)?;
    fs::create_dir_all(&scratch)?;
    let mut held = Vec::new();
    let mut rows = BTreeMap::new();
    for job in jobs {
        let row = match &job.object {
            Err(why) => Row {
                source: job.source.clone(),
                libbpf: format!("not built: {why}"),
                ours: "-".into(),
                differences: "-".into(),
            },
            Ok(object) => {
                let libbpf = load::libbpf(
                    script,
                    object,
                    job.loader.as_deref(),
                    &logs.join(format!("{}.libbpf.log", job.log_name)),
                    &scratch,
                )
                .with_context(|| format!("{}: the libbpf side", job.source))?;
                let ours = match &job.ours {
                    Ok(binary) => load::ours(
                        binary,
                        &logs.join(format!("{}.ours.log", job.log_name)),
                        &scratch,
                    )
                    .with_context(|| format!("{}: our side", job.source))?,
                    Err(why) => Outcome::Failed(format!("refused: {why}")),
                };
                for side in [&libbpf, &ours] {
                    if let Outcome::Loaded(l) = side {
                        held.extend(l.ids.iter().copied());
                    }
                }
                let differences = match (&libbpf, &ours) {
                    (Outcome::Loaded(l), Outcome::Loaded(o)) => {
                        let d = load::differences(l, o);
                        if d.is_empty() {
                            "same".into()
                        } else {
                            d.join("; ")
                        }
                    }
                    _ => "-".into(),
                };
                let column = |o: &Outcome, failed: &str| match o {
                    Outcome::Loaded(_) => LOADED.to_string(),
                    Outcome::Failed(why) => format!("{failed}{why}"),
                };
                Row {
                    source: job.source.clone(),
                    libbpf: column(&libbpf, "failed: "),
                    ours: column(&ours, ""),
                    differences,
                }
            }
        };
        rows.insert(row.source.clone(), row);
    }
    check_nothing_left(&held)?;
    Ok(rows)
}

/// Inside the corpus VM (`cargo xtask corpus-guest`, run by `tests/corpus/vm.sh`): the
/// jobs of `list` (`source, object, binary or "refused: cause"`, tab-separated), each
/// result printed as one `CORPUS-ROW` line on the console for the host to read.
pub fn guest(list: &std::path::Path, script: &std::path::Path) -> Result<()> {
    let text = fs::read_to_string(list).with_context(|| format!("reading {}", list.display()))?;
    let jobs: Vec<Job> = text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.splitn(3, '\t').collect();
            let [source, object, ours] = f[..] else {
                return None;
            };
            Some(Job {
                source: source.into(),
                log_name: source.replace('/', "_"),
                object: Ok(object.into()),
                ours: match ours.strip_prefix("refused: ") {
                    Some(why) => Err(why.into()),
                    None => Ok(ours.into()),
                },
                // Written objects load on the host (see `vm`).
                loader: None,
            })
        })
        .collect();
    let rows = compare_all(&jobs, std::path::Path::new("/tmp/corpus"), script)?;
    for row in rows.values() {
        println!("{}{}", vm::ROW_MARKER, row.line());
    }
    Ok(())
}

/// Loads again, on both sides, every object whose row says that libbpf or we load it
/// where the committed row says otherwise, and keeps the second result, so that a
/// one-off failure of either side is not taken for a change. What did move such rows
/// between machines of one kind was the kernel build, not the run: `6.18.44-fc-v782`
/// offered helpers and kfuncs that `-fc-v1300` refuses to every loader
/// (`test_seg6_loop`: `bpf_lwt_seg6_adjust_srh` without `CONFIG_IPV6_SEG6_BPF`,
/// `test_xdp_do_redirect`: `bpf_xdp_adjust_meta`, `test_xdp_dynptr`:
/// `bpf_dynptr_slice_rdwr() is not allowed`, EPERM), the same on every try; those rows
/// are then host-dependent (see [`Verdict`]). An object the first
/// try sent to the VM (EPERM from libbpf) that the host now lets libbpf load has no
/// VM row in this run unless the committed results have one.
fn recheck_disagreements(rows: &mut BTreeMap<String, Row>, jobs: &[Job]) -> Result<()> {
    let committed = parse_rows(&fs::read_to_string(results_file()).unwrap_or_default());
    let outcomes = |r: &Row| (r.libbpf_loads(), r.ours_loads());
    let suspects: Vec<&Job> = jobs
        .iter()
        .filter(|j| {
            let (Some(old), Some(new)) = (committed.get(&j.source), rows.get(&j.source)) else {
                return false;
            };
            outcomes(old) != outcomes(new)
        })
        .collect();
    if suspects.is_empty() {
        return Ok(());
    }
    let dir = corpus_dir().join("recheck");
    let script = root().join("tests/corpus/libbpf-load.sh");
    for job in suspects {
        let again = compare_all(std::slice::from_ref(job), &dir, &script)?;
        let Some(again) = again.get(&job.source) else {
            continue;
        };
        let first = &rows[&job.source];
        println!(
            "corpus: {} loaded again on both sides: libbpf {} (first {}), bpf-preload {} (first {})",
            job.source,
            loads(again.libbpf_loads()),
            loads(first.libbpf_loads()),
            loads(again.ours_loads()),
            loads(first.ours_loads()),
        );
        rows.insert(job.source.clone(), again.clone());
    }
    let host = rows.clone();
    rows.retain(|source, _| {
        let Some(on_host) = host_source(source) else {
            return true;
        };
        committed.contains_key(source) || host.get(on_host).is_none_or(vm::refused_by_host)
    });
    Ok(())
}

fn loads(yes: bool) -> &'static str {
    if yes {
        "loads it"
    } else {
        "does not"
    }
}

/// The source of a VM row (`vm-6.12/selftests/a.c`) on the host (`selftests/a.c`).
fn host_source(source: &str) -> Option<&str> {
    source.strip_prefix("vm-")?.split_once('/').map(|(_, s)| s)
}

/// How this run's row of an object compares with the committed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Same,
    /// libbpf loaded it in this run and we did not, where we loaded it when the
    /// results were blessed: the tier fails.
    Regression,
    /// libbpf's outcome changed: this kernel refuses it to libbpf too where the
    /// blessing kernel did not (or the other way round), so the committed row cannot be
    /// judged here. Reported, not a failure; the committed row stands.
    HostDependent,
    /// We load it now and did not: a change to bless.
    Improvement,
    /// Anything else that changed (a cause, a difference, an object come or gone): a
    /// change to bless.
    Changed,
}

/// The verdict of one object's row, committed and fresh.
fn verdict(old: Option<&Row>, new: Option<&Row>) -> Verdict {
    let (Some(old), Some(new)) = (old, new) else {
        return if old == new {
            Verdict::Same
        } else {
            Verdict::Changed
        };
    };
    if old == new {
        Verdict::Same
    } else if new.libbpf_loads() && !new.ours_loads() && old.ours_loads() {
        Verdict::Regression
    } else if new.libbpf_loads() != old.libbpf_loads() {
        Verdict::HostDependent
    } else if new.ours_loads() && !old.ours_loads() {
        Verdict::Improvement
    } else {
        Verdict::Changed
    }
}

/// Every object's verdict, by source. A VM row that changed is host-dependent when its
/// object's row on the host is: whether an object goes to the VM at all depends on
/// whether the host refuses it to libbpf with EPERM.
fn verdicts(
    committed: &BTreeMap<String, Row>,
    fresh: &BTreeMap<String, Row>,
) -> BTreeMap<String, Verdict> {
    let mut all: BTreeMap<String, Verdict> = committed
        .keys()
        .chain(fresh.keys())
        .map(|s| (s.clone(), verdict(committed.get(s), fresh.get(s))))
        .collect();
    let host = all.clone();
    for (source, v) in all.iter_mut() {
        let on_host = host_source(source).and_then(|s| host.get(s));
        if *v != Verdict::Same && on_host == Some(&Verdict::HostDependent) {
            *v = Verdict::HostDependent;
        }
    }
    all
}

/// The committed results against the fresh ones: no object libbpf loads in this run may
/// stop loading with us, an object whose libbpf outcome moved with the kernel is
/// reported, and any other change must be committed (`--bless`).
fn check(fresh: &BTreeMap<String, Row>, release: &str) -> Result<()> {
    let text = fs::read_to_string(results_file()).unwrap_or_default();
    match blessed_kernel(&text) {
        Some(blessed) if blessed == release => {}
        Some(blessed) => println!("corpus: blessed on {blessed}, running {release}"),
        None => println!("corpus: blessed on an unrecorded kernel, running {release}"),
    }
    let committed = parse_rows(&text);
    let mut regressions = Vec::new();
    let mut changes = Vec::new();
    for (source, verdict) in verdicts(&committed, fresh) {
        let (old, new) = (committed.get(&source), fresh.get(&source));
        let diff = || match (old, new) {
            (Some(old), Some(new)) => format!("- {}\n+ {}", old.line(), new.line()),
            (Some(old), None) => format!("- {}", old.line()),
            (None, Some(new)) => format!("+ {}", new.line()),
            (None, None) => unreachable!("a verdict is of a row on one side at least"),
        };
        match verdict {
            Verdict::Same => {}
            Verdict::HostDependent => println!(
                "corpus: HOST-DEPENDENT {source}: libbpf's outcome differs on this kernel, \
                 not a regression; the committed row stands:\n{}",
                diff()
            ),
            Verdict::Regression => {
                let now = new.map_or("-", |r| r.ours.as_str());
                println!("corpus: REGRESSION {source}: libbpf loads it, we do not: {now}");
                regressions.push(format!("{source}: now {now}"));
                changes.push(diff());
            }
            Verdict::Improvement | Verdict::Changed => changes.push(diff()),
        }
    }
    if !regressions.is_empty() {
        bail!(
            "{} object(s) libbpf loads are no longer loaded by bpf-preload:\n  {}",
            regressions.len(),
            regressions.join("\n  ")
        );
    }
    if !changes.is_empty() {
        bail!(
            "the corpus results differ from {} ({} change(s)); if they are intended, run \
             `cargo xtask corpus --bless` and commit the file:\n{}",
            results_file().display(),
            changes.len(),
            changes.join("\n")
        );
    }
    println!("corpus: results match {}", results_file().display());
    Ok(())
}

/// A cause without what is particular to one object (its path, the names of its maps
/// and programs), so that objects failing the same way group; section names and
/// extern kinds stay, they are the cause.
fn cause_group(cause: &str) -> String {
    let cause = cause.split("; supported sections:").next().unwrap_or(cause);
    // Our compile errors start with the object's path.
    let cause = match cause.split_once("`: ") {
        Some((head, rest)) if head.ends_with(".bpf.o") => {
            format!("{}{rest}", head.split('`').next().unwrap_or(""))
        }
        _ => cause.to_string(),
    };
    let cause = cause.as_str();
    let mut out = String::new();
    let mut rest = cause;
    while let Some(start) = rest.find('`') {
        let Some(len) = rest[start + 1..].find('`') else {
            break;
        };
        let before = &rest[..start];
        let quoted = &rest[start + 1..start + 1 + len];
        out.push_str(before);
        let keep = ["section ", "extern ", "option "]
            .iter()
            .any(|w| before.ends_with(w));
        out.push('`');
        out.push_str(if keep { quoted } else { "…" });
        out.push('`');
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

/// libbpf's `'name'` as `` `name` ``, leaving apostrophes (`can't`) alone.
fn backquote_names(message: &str) -> String {
    let chars: Vec<char> = message.chars().collect();
    let letter = |i: Option<usize>| {
        i.and_then(|i| chars.get(i))
            .is_some_and(|c| c.is_alphabetic())
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if c == '\'' && !(letter(i.checked_sub(1)) && letter(Some(i + 1))) {
                '`'
            } else {
                c
            }
        })
        .collect()
}

/// A difference without the object's prefix of map names (`bind4_pr.rodata`).
fn difference_group(difference: &str) -> String {
    difference
        .split(' ')
        .map(|w| match w.find('.') {
            Some(dot) if dot > 0 && !w.starts_with("0x") && !w.contains('(') => &w[dot..],
            _ => w,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The tables of the run: on this host, then in the VM.
fn summary(rows: &BTreeMap<String, Row>) {
    let (vm, host): (BTreeMap<String, Row>, BTreeMap<String, Row>) = rows
        .clone()
        .into_iter()
        .partition(|(source, _)| source.starts_with("vm-"));
    let count = |prefix: &str| host.keys().filter(|s| s.starts_with(prefix)).count();
    let not_built = host
        .values()
        .filter(|r| r.libbpf.starts_with("not built"))
        .count();
    println!(
        "\ncorpus on this host: {} objects ({} kernel, {} libbpf-tools, {} selftests, \
         {} written for it; {not_built} did not compile)",
        host.len(),
        count("kernel/"),
        count("libbpf-tools/"),
        count("selftests/"),
        count("written/")
    );
    tables(&host);
    if !vm.is_empty() {
        println!(
            "\ncorpus in QEMU ({} objects the host refuses to every loader with EPERM):",
            vm.len()
        );
        tables(&vm);
    }
}

fn tables(rows: &BTreeMap<String, Row>) {
    let libbpf: Vec<&Row> = rows.values().filter(|r| r.libbpf_loads()).collect();
    let ours: Vec<&&Row> = libbpf.iter().filter(|r| r.ours_loads()).collect();
    let same = ours.iter().filter(|r| r.differences == "same").count();
    let extra = rows
        .values()
        .filter(|r| !r.libbpf_loads() && r.ours_loads())
        .count();
    println!(
        "libbpf loads {}; bpf-preload loads {} of them ({same} identical, {} with differences), \
         and {extra} that libbpf does not",
        libbpf.len(),
        ours.len(),
        ours.len() - same
    );
    let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for row in libbpf.iter().filter(|r| !r.ours_loads()) {
        groups
            .entry(cause_group(&row.ours))
            .or_default()
            .push(&row.source);
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    if !groups.is_empty() {
        println!("\nobjects libbpf loads that bpf-preload does not, by cause:");
    }
    for (cause, sources) in &groups {
        let examples: Vec<&str> = sources.iter().take(3).copied().collect();
        println!(
            "{:5}  {cause}\n       e.g. {}",
            sources.len(),
            examples.join(", ")
        );
    }
    let mut diffs: BTreeMap<String, usize> = BTreeMap::new();
    for row in ours.iter().filter(|r| r.differences != "same") {
        for d in row.differences.split("; ") {
            *diffs.entry(difference_group(d)).or_default() += 1;
        }
    }
    if !diffs.is_empty() {
        println!("\ndifferences where both load:");
        for (kind, n) in diffs {
            println!("{n:5}  {kind}");
        }
    }
    let mut libbpf_causes: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for row in rows.values().filter(|r| r.libbpf.starts_with("failed")) {
        libbpf_causes
            .entry(cause_group(&backquote_names(&row.libbpf)))
            .or_default()
            .push(&row.source);
    }
    if !libbpf_causes.is_empty() {
        println!("\nobjects libbpf does not load, by cause:");
    }
    for (cause, sources) in &libbpf_causes {
        let examples: Vec<&str> = sources.iter().take(3).copied().collect();
        println!(
            "{:5}  {cause}\n       e.g. {}",
            sources.len(),
            examples.join(", ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_group_without_names_but_with_sections_and_externs() {
        assert_eq!(
            cause_group(
                "refused: `selftests/a.bpf.o`: map `events` (BPF_MAP_TYPE_PERF_EVENT_ARRAY) \
                 has max_entries 0"
            ),
            "refused: map `…` (BPF_MAP_TYPE_PERF_EVENT_ARRAY) has max_entries 0"
        );
        assert_eq!(
            cause_group("refused: `x.bpf.o`: program section `tc` is not supported"),
            "refused: program section `tc` is not supported"
        );
        assert_eq!(
            cause_group("load error: loading program `p` (BPF_PROG_LOAD): EPERM"),
            "load error: loading program `…` (BPF_PROG_LOAD): EPERM"
        );
    }

    #[test]
    fn libbpf_names_are_backquoted_but_apostrophes_stay() {
        assert_eq!(
            backquote_names("prog 'p': can't pin program that wasn't loaded"),
            "prog `p`: can't pin program that wasn't loaded"
        );
    }

    #[test]
    fn map_names_group_without_the_object_prefix() {
        assert_eq!(
            difference_group("map filetop.bss: flags 0x400 vs 0x0 (libbpf vs ours)"),
            "map .bss: flags 0x400 vs 0x0 (libbpf vs ours)"
        );
    }

    #[test]
    fn rows_survive_the_results_file() {
        let row = Row {
            source: "selftests/a.c".into(),
            libbpf: LOADED.into(),
            ours: "load error: creating map `m` (BPF_MAP_CREATE): EINVAL".into(),
            differences: "-".into(),
        };
        let rows = BTreeMap::from([(row.source.clone(), row.clone())]);
        let text = format_rows(&rows, "6.18.44");
        assert_eq!(parse_rows(&text), rows);
        assert_eq!(blessed_kernel(&text), Some("6.18.44"));
    }

    fn row(source: &str, libbpf: &str, ours: &str) -> Row {
        Row {
            source: source.into(),
            libbpf: libbpf.into(),
            ours: ours.into(),
            differences: if libbpf == LOADED && ours == LOADED {
                "same".into()
            } else {
                "-".into()
            },
        }
    }

    #[test]
    fn a_regression_is_libbpf_loading_in_this_run_and_we_not() {
        let old = row("selftests/a.c", LOADED, LOADED);
        let new = row(
            "selftests/a.c",
            LOADED,
            "load error: loading program `p`: EINVAL",
        );
        assert_eq!(verdict(Some(&old), Some(&new)), Verdict::Regression);
        assert_eq!(verdict(Some(&old), Some(&old)), Verdict::Same);
    }

    #[test]
    fn a_kernel_that_refuses_libbpf_too_is_host_dependent() {
        // test_seg6_loop on a 6.18 without CONFIG_IPV6_SEG6_BPF: both refused, EINVAL.
        let old = row("selftests/test_seg6_loop.c", LOADED, LOADED);
        let new = row(
            "selftests/test_seg6_loop.c",
            "failed: Invalid argument",
            "load error: loading program `p`: EINVAL",
        );
        assert_eq!(verdict(Some(&old), Some(&new)), Verdict::HostDependent);
        // An object this kernel refuses to libbpf with EPERM goes to the VM: its VM
        // row, not committed, moves with the host row.
        let eperm = row(
            "selftests/test_xdp_dynptr.c",
            "failed: Operation not permitted",
            "load error: loading program `p`: EPERM",
        );
        let committed =
            BTreeMap::from([(eperm.source.clone(), row(&eperm.source, LOADED, LOADED))]);
        let in_vm = row("vm-6.12/selftests/test_xdp_dynptr.c", LOADED, LOADED);
        let fresh = BTreeMap::from([
            (eperm.source.clone(), eperm.clone()),
            (in_vm.source.clone(), in_vm.clone()),
        ]);
        let all = verdicts(&committed, &fresh);
        assert_eq!(all[&eperm.source], Verdict::HostDependent);
        assert_eq!(all[&in_vm.source], Verdict::HostDependent);
    }

    #[test]
    fn what_the_host_refuses_to_us_alone_goes_to_the_vm_only_if_libbpf_fails_too() {
        // An arena: Debian's libbpf cannot open it, the host refuses it to us.
        let arena = row(
            "selftests/arena_list.c",
            "failed: Error: failed to open object file",
            "load error: creating map `arena` (BPF_MAP_CREATE): EPERM (Operation not permitted)",
        );
        assert!(vm::refused_by_host(&arena));
        // libbpf loads it here: a difference of ours, judged on the host.
        let ours_only = row(
            "selftests/x.c",
            LOADED,
            "load error: creating map `m` (BPF_MAP_CREATE): EPERM (Operation not permitted)",
        );
        assert!(!vm::refused_by_host(&ours_only));
    }

    #[test]
    fn loading_what_we_did_not_is_an_improvement_and_other_changes_are_changes() {
        let old = row(
            "libbpf-tools/x",
            LOADED,
            "refused: section `tc` is not supported",
        );
        let new = row("libbpf-tools/x", LOADED, LOADED);
        assert_eq!(verdict(Some(&old), Some(&new)), Verdict::Improvement);
        let cause = row("libbpf-tools/x", LOADED, "refused: another cause");
        assert_eq!(verdict(Some(&old), Some(&cause)), Verdict::Changed);
        assert_eq!(verdict(None, Some(&new)), Verdict::Changed);
        assert_eq!(verdict(Some(&old), None), Verdict::Changed);
    }
}
