//! The table of scenarios x kernels that `cargo xtask vm-test` prints, and the
//! detail of every cell below it.

use std::collections::BTreeMap;

use anyhow::Result;

use super::{Kernel, Outcome, Scenario};

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
        println!("(-: a scenario for the preload kernel only)\n");
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
    if o.log.contains("VM-KERNEL-PROBLEM") {
        return (false, "kernel oops or warning in dmesg".into());
    }
    match mine.iter().find(|v| !v.1) {
        Some(failed) => (false, format!("FAIL {}", failed.2)),
        None => (true, format!("PASS {}", mine[0].2)),
    }
}
