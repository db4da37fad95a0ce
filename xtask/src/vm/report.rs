//! The table of scenarios x kernels that `cargo xtask vm-test` prints, and the
//! detail of every cell below it; and the tamper scenarios' matrix of routes x
//! kernels x configurations (`cargo xtask tamper-matrix`), from their logs.

use std::collections::BTreeMap;
use std::fs;

use anyhow::{ensure, Result};

use super::{Kernel, Outcome, Scenario};
use crate::setup::root;

/// What the table is made of: `cells` maps (scenario, kernel) indices to the index
/// of their run in `outcomes` and `host_results`.
pub struct Table<'a> {
    pub scenarios: &'a [Scenario],
    pub kernels: &'a [Kernel],
    pub cells: &'a BTreeMap<(usize, usize), usize>,
    pub outcomes: &'a [Result<Outcome>],
    pub host_results: &'a [Option<Result<String>>],
}

/// One cell's result.
pub struct Detail {
    pub scenario: String,
    pub release: String,
    pub ok: bool,
    pub detail: String,
}

impl Table<'_> {
    /// Prints one row per scenario, one column per kernel, then each cell's detail
    /// (and the end of its serial log if it failed); returns the cells.
    pub fn print(&self) -> Vec<Detail> {
        let width = self
            .scenarios
            .iter()
            .map(|s| s.name.len())
            .max()
            .unwrap_or(8)
            .max(8);
        let cell = self
            .kernels
            .iter()
            .map(|k| k.release.len())
            .max()
            .unwrap_or(8)
            + 2;
        print!("\n{:width$}", "scenario");
        for k in self.kernels {
            print!("  {:cell$}", k.release);
        }
        println!();
        let mut details = Vec::new();
        for (si, scenario) in self.scenarios.iter().enumerate() {
            print!("{:width$}", scenario.name);
            for (ki, kernel) in self.kernels.iter().enumerate() {
                let Some(&i) = self.cells.get(&(si, ki)) else {
                    print!("  {:cell$}", "-");
                    continue;
                };
                let (mut ok, mut detail) = verdict_of(&scenario.name, &self.outcomes[i]);
                match &self.host_results[i] {
                    Some(Ok(note)) => detail = format!("{detail}; {note}"),
                    Some(Err(e)) => {
                        ok = false;
                        detail = format!("FAIL on the host: {e:#}; in the VM: {detail}");
                    }
                    None => {}
                }
                print!("  {:cell$}", if ok { "PASS" } else { "FAIL" });
                details.push((
                    Detail {
                        scenario: scenario.name.clone(),
                        release: kernel.release.clone(),
                        ok,
                        detail,
                    },
                    i,
                ));
            }
            println!();
        }
        println!("(-: not run on that kernel: its `# kernels:` line names others)\n");
        for (d, i) in &details {
            let timing = self.outcomes[*i].as_ref().ok().map_or(String::new(), |o| {
                let boot = o
                    .boot_seconds
                    .map_or(String::new(), |b| format!("boot {b:.1} s, "));
                format!(" [{boot}VM {:.1} s]", o.seconds)
            });
            println!("{} on {}: {}{timing}", d.scenario, d.release, d.detail);
            if !d.ok
                && let Ok(o) = &self.outcomes[*i]
            {
                print_tail(&o.log, 30);
            }
        }
        details.into_iter().map(|(d, _)| d).collect()
    }
}

/// The last `lines` lines of a serial log, indented.
pub fn print_tail(log: &str, lines: usize) {
    let tail: Vec<&str> = log.lines().rev().take(lines).collect();
    for line in tail.into_iter().rev() {
        println!("    | {line}");
    }
}

/// What init.sh's `VM-KERNEL-PROBLEM <what>` lines say (a report in dmesg: an oops, a
/// warning, KASAN, UBSAN, lockdep; or kmemleak's unreferenced objects), joined;
/// `None` if there is none.
pub fn kernel_problem(log: &str) -> Option<String> {
    let problems: Vec<&str> = log
        .lines()
        .filter_map(|l| {
            l.split_once("VM-KERNEL-PROBLEM")
                .map(|(_, what)| what.trim())
        })
        .map(|what| if what.is_empty() { "in dmesg" } else { what })
        .collect();
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// One cell of the table: the scenario's verdict on one kernel.
pub fn verdict_of(scenario: &str, outcome: &Result<Outcome>) -> (bool, String) {
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
    if let Some(problem) = kernel_problem(&o.log) {
        return (false, format!("kernel problem: {problem}"));
    }
    // A scenario gives one verdict, or one per part (fail-nth: one per module).
    match mine.iter().find(|v| !v.1) {
        Some(failed) => (false, format!("FAIL {}", failed.2)),
        None => (
            true,
            format!(
                "PASS {}",
                mine.iter()
                    .map(|v| v.2.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ),
    }
}

// The tamper matrix: root in user space against a preloaded LSM policy and its
// iterators, unprotected, with `freeze_all` only and with `protect` + `freeze_all`, on
// every kernel, and held by a process. The scenarios are
// `tests/vm/tamper-{open,frozen,locked,user}.sh`; each route prints
// `ROW <route> <open|frozen|locked|user> <cell>`, which `cargo xtask tamper-matrix`
// tabulates from the logs the last `vm-test` left in `target/vm/`.

/// The object's configurations: the mode its scenario prints, and a column title.
/// `user` is tamper-user's: the object held by a process, with protect + freeze_all.
const TAMPER_MODES: [(&str, &str); 4] = [
    ("open", "unprotected"),
    ("frozen", "freeze_all"),
    ("locked", "protect+freeze"),
    ("user", "process-held, protect+freeze"),
];

/// `cargo xtask tamper-matrix`: route × kernel × configuration, as markdown.
pub fn tamper_matrix() -> Result<()> {
    // route -> kernel -> mode -> cell
    let mut rows: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut kernels: Vec<String> = Vec::new();
    let dir = root().join("target/vm");
    let mut logs: Vec<_> = fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("tamper-") && n.ends_with(".log"))
        })
        .collect();
    logs.sort();
    for log in logs {
        let name = log.file_stem().unwrap_or_default().to_string_lossy();
        let Some(kernel) = TAMPER_MODES
            .iter()
            .find_map(|(mode, _)| name.strip_prefix(&format!("tamper-{mode}-")))
        else {
            continue;
        };
        if !kernels.iter().any(|k| k == kernel) {
            kernels.push(kernel.to_string());
        }
        for line in fs::read_to_string(&log)?.lines() {
            let Some(at) = line.find("ROW ") else {
                continue;
            };
            let mut words = line[at + 4..].splitn(3, ' ');
            let (Some(route), Some(mode), Some(cell)) = (words.next(), words.next(), words.next())
            else {
                continue;
            };
            if !order.iter().any(|r| r == route) {
                order.push(route.to_string());
            }
            rows.entry(route.to_string())
                .or_default()
                .entry(kernel.to_string())
                .or_default()
                .insert(mode.to_string(), cell.trim().to_string());
        }
    }
    ensure!(
        !rows.is_empty(),
        "no tamper rows in {}: run `cargo xtask vm-test --scenario tamper-open --scenario \
         tamper-frozen --scenario tamper-locked` first",
        dir.display()
    );
    // Only the configurations some log has rows of.
    let modes: Vec<(&str, &str)> = TAMPER_MODES
        .into_iter()
        .filter(|(m, _)| {
            rows.values()
                .flat_map(|r| r.values())
                .any(|c| c.contains_key(*m))
        })
        .collect();
    print!("| route |");
    for k in &kernels {
        for (_, title) in &modes {
            print!(" {k} {title} |");
        }
    }
    println!();
    println!("|---|{}", "---|".repeat(kernels.len() * modes.len()));
    for route in &order {
        print!("| {route} |");
        for k in &kernels {
            for &(mode, _) in &modes {
                let cell = rows[route].get(k).and_then(|m| m.get(mode));
                print!(" {} |", cell.map_or("—", |c| tamper_verdict(c)));
            }
        }
        println!();
    }
    // What each cell stood for, from the first kernel that has the row.
    println!();
    for route in &order {
        for &(mode, _) in &modes {
            if let Some(cell) = kernels
                .iter()
                .find_map(|k| rows[route].get(k).and_then(|m| m.get(mode)))
            {
                println!("- `{route}` ({mode}): {}", cell.replace('|', "/"));
            }
        }
    }
    Ok(())
}

/// A cell's verdict in a word or two: what the route did to the object.
fn tamper_verdict(cell: &str) -> &'static str {
    let errno = ["EPERM", "EOPNOTSUPP", "EINVAL", "ENOENT", "EBUSY"]
        .into_iter()
        .find(|e| cell.contains(e))
        .or_else(|| {
            // What the shell says for a refused write to /proc or a module removal.
            [
                ("refused (Device or resource busy)", "EBUSY"),
                ("rmmod -f failed: rmmod: can't unload module", "EPERM"),
            ]
            .into_iter()
            .find_map(|(text, e)| cell.contains(text).then_some(e))
        });
    if cell.starts_with("TAMPERED") {
        "**TAMPERED**"
    } else if cell.starts_with("residual") {
        "residual (SECURITY.md)"
    } else if cell.starts_with("n/a") {
        "n/a"
    } else if cell.contains("names with a dot") {
        "harmless (unlinked from that mount only)"
    } else if cell.starts_with("obtained") {
        "fd obtained"
    } else if cell.contains("ok:") && !cell.contains("refused") {
        "harmless"
    } else {
        match errno {
            Some("EPERM") => "refused (EPERM)",
            Some("EOPNOTSUPP") => "refused (EOPNOTSUPP)",
            Some("EBUSY") => "refused (EBUSY)",
            Some(_) => "refused",
            None if cell.starts_with("refused") => "refused",
            None => "harmless",
        }
    }
}
