//! `cargo xtask corpus`: real-world objects (test tier 4). Builds the corpus from Debian
//! packages (`build`), loads each object with libbpf (`bpftool prog loadall`) and with
//! bpf-preload (a generated crate per object, `crates`), compares what the kernel holds
//! (`load`), and checks the per-object results against `tests/corpus/results.tsv`.

mod build;
mod crates;
mod load;
mod vm;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use crate::setup::{is_root, root};
use build::corpus_dir;
use load::Outcome;

#[derive(clap::Args, Default)]
pub struct Args {
    /// Write the fresh results to tests/corpus/results.tsv instead of checking them
    /// against it.
    #[arg(long)]
    bless: bool,
    /// Only objects whose source contains this (repeatable); implies not checking
    /// against the committed results.
    #[arg(long = "only")]
    only: Vec<String>,
    /// Skip the objects this host refuses to every loader (EPERM: fentry, fexit, lsm),
    /// which otherwise load in QEMU on Debian's 6.12 kernel.
    #[arg(long)]
    no_vm: bool,
}

const HEADER: &str = "\
# The corpus tier's results (`cargo xtask corpus`; `--bless` rewrites this file).
# One object per line: where it comes from; libbpf's load (bpftool prog loadall);
# ours (refused: the compile error of #[bpf_preload]; load error: step and errno;
# loaded); and for objects both load, what differs in what the kernel holds
# (programs and their types and translated instructions, map definitions).
# source\tlibbpf\tours\tdifferences
";

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

fn format_rows(rows: &BTreeMap<String, Row>) -> String {
    let mut text = HEADER.to_string();
    for row in rows.values() {
        text.push_str(&row.line());
        text.push('\n');
    }
    text
}

/// Fails if a program or map either side reported is still in the kernel, or a
/// side's bpffs is still mounted. (Only what the sides reported: other users of the
/// machine may load and free objects meanwhile.)
fn check_nothing_left(held: &[(&'static str, u64)]) -> Result<()> {
    let mut left = Vec::new();
    for (kind, id) in held {
        let status = std::process::Command::new("bpftool")
            .args([kind, "show", "id", &id.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .context("running bpftool")?;
        if status.success() {
            left.push(format!("{kind} {id}"));
        }
    }
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
pub fn tier() -> Result<usize> {
    if !is_root() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            bail!("tier 4 (the corpus) needs root, and under CI=true a skipped tier is a failure");
        }
        println!(
            "SKIPPED: tier 4 (the corpus) loads objects into the running kernel and needs root"
        );
        return Ok(0);
    }
    run(&Args::default())
}

/// Returns the number of objects loaded and compared.
pub fn run(args: &Args) -> Result<usize> {
    if !is_root() {
        bail!("the corpus loads objects into the running kernel: run as root (sudo -E cargo xtask corpus)");
    }
    let mut entries = build::objects()?;
    if !args.only.is_empty() {
        entries.retain(|e| args.only.iter().any(|o| e.source.contains(o.as_str())));
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
    if !args.no_vm {
        rows.extend(vm::run(&rows, &jobs)?);
    }
    if args.only.is_empty() && !args.bless {
        recheck_disagreements(&mut rows, &jobs)?;
    }
    let text = format_rows(&rows);
    fs::write(corpus_dir().join("results.tsv"), &text)?;
    summary(&rows);
    if !args.only.is_empty() {
        println!("(--only: not compared with {})", results_file().display());
        return Ok(rows.len());
    }
    if args.bless {
        fs::write(results_file(), &text)?;
        println!("wrote {}", results_file().display());
        return Ok(rows.len());
    }
    check(&rows)?;
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
            })
        })
        .collect();
    let rows = compare_all(&jobs, std::path::Path::new("/tmp/corpus"), script)?;
    for row in rows.values() {
        println!("{}{}", vm::ROW_MARKER, row.line());
    }
    Ok(())
}

/// Loads again, on both sides, every object libbpf and we both loaded in the committed
/// results but we did not load in this run. Some objects load on a fresh host only
/// once (`test_seg6_loop`, `test_xdp_dynptr`, `test_xdp_do_redirect` on 6.18: libbpf
/// loaded them first and refused them on every later try, within one boot), so a
/// disagreement is only a regression when it holds under the same conditions: if
/// libbpf now refuses the object too, or we now load it, the result moves with the host,
/// and the committed row stands, said loudly; if libbpf still loads it and we do not,
/// the fresh row stays and `check` fails on it.
fn recheck_disagreements(rows: &mut BTreeMap<String, Row>, jobs: &[Job]) -> Result<()> {
    let committed = parse_rows(&fs::read_to_string(results_file()).unwrap_or_default());
    let suspects: Vec<&Job> = jobs
        .iter()
        .filter(|j| {
            let (Some(old), Some(new)) = (committed.get(&j.source), rows.get(&j.source)) else {
                return false;
            };
            old.libbpf_loads() && old.ours_loads() && !new.ours_loads()
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
        if again.libbpf_loads() && !again.ours_loads() {
            println!(
                "corpus: REGRESSION {}: libbpf loads it again, we do not: {}",
                job.source, again.ours
            );
            continue;
        }
        println!(
            "corpus: HOST-DEPENDENT {}: in this run libbpf {} and we did not ({}); loaded \
             again, libbpf {} and we {}: not a regression, the committed row stands",
            job.source,
            if first.libbpf_loads() {
                "loaded it"
            } else {
                "did not"
            },
            first.ours,
            if again.libbpf_loads() {
                "loads it"
            } else {
                "refuses it too"
            },
            if again.ours_loads() {
                "load it"
            } else {
                "do not"
            },
        );
        if let Some(old) = committed.get(&job.source) {
            rows.insert(job.source.clone(), old.clone());
        }
        // Refused with EPERM in this run, it also went to the VM pass (`vm-<kernel>/`
        // rows), which the committed results do not have for an object the host loads.
        let in_vm = format!("/{}", job.source);
        rows.retain(|source, _| {
            !(source.starts_with("vm-")
                && source.ends_with(&in_vm)
                && !committed.contains_key(source))
        });
    }
    Ok(())
}

/// The committed results against the fresh ones: no object libbpf loads may stop
/// loading with us, and any change must be committed (`--bless`).
fn check(fresh: &BTreeMap<String, Row>) -> Result<()> {
    let committed = parse_rows(&fs::read_to_string(results_file()).unwrap_or_default());
    let mut regressions = Vec::new();
    let mut changes = Vec::new();
    for (source, old) in &committed {
        match fresh.get(source) {
            None => changes.push(format!("- {}", old.line())),
            Some(new) if new != old => {
                if old.libbpf_loads() && old.ours_loads() && !new.ours_loads() {
                    regressions.push(format!("{source}: now {}", new.ours));
                }
                changes.push(format!("- {}\n+ {}", old.line(), new.line()));
            }
            Some(_) => {}
        }
    }
    for (source, new) in fresh {
        if !committed.contains_key(source) {
            changes.push(format!("+ {}", new.line()));
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
        "\ncorpus on this host: {} objects ({} kernel, {} libbpf-tools, {} selftests; \
         {not_built} selftests did not compile)",
        host.len(),
        count("kernel/"),
        count("libbpf-tools/"),
        count("selftests/")
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
        assert_eq!(parse_rows(&format_rows(&rows)), rows);
    }
}
